//! Dry runs: `?dry_run=true` on the API and `--noop` on the CLI answer the plan (statements per
//! server) and change nothing; the run that follows takes the steps the plan showed.
//! Starting shape (binlog coordinates): 0 ← 1 ← 2, 0 ← 3.

use crate::common::run_cli;
use crate::support::{assert_no_password, Fixture};
use serde_json::{json, Value};
use server::sandbox::SandboxFlavor;

/// The statements of a plan's steps on server `i`, in order.
fn statements_on(fx: &Fixture, plan: &Value, i: usize) -> Vec<String> {
    let port = fx.sb.key(i).port;
    plan["Steps"]
        .as_array()
        .unwrap_or_else(|| panic!("a plan has steps: {plan}"))
        .iter()
        .filter(|s| s["Server"]["Port"] == port)
        .flat_map(|s| s["Statements"].as_array().cloned().unwrap_or_default())
        .map(|s| s.as_str().unwrap_or_default().to_string())
        .collect()
}

fn descriptions(steps: &Value) -> Vec<String> {
    steps.as_array().into_iter().flatten().map(|s| s["Description"].as_str().unwrap_or_default().to_string()).collect()
}

/// Asks for the plan of `path`; checks that nothing changed; returns the plan.
async fn dry_run(fx: &Fixture, path: &str, mechanism: &str) -> Value {
    let before = fx.channels().await;
    let audited = fx.audit().await.len();
    let (status, body) = fx.api(&format!("{path}?dry_run=true")).await;
    assert_eq!(status, 200, "dry run of {path}: {body}");
    let message = body["Message"].as_str().unwrap_or_default();
    assert!(message.contains("dry run") && message.contains(&format!("using {mechanism}")), "{path}: {message}");
    let plan = body["Details"].clone();
    assert_eq!(plan["Mechanism"], mechanism, "{plan}");
    assert_eq!(fx.channels().await, before, "the dry run of {path} changed replication");
    assert_eq!(fx.audit().await.len(), audited, "a dry run is not an executed operation");
    plan
}

pub async fn dry_runs_show_the_plan_and_change_nothing(flavor: SandboxFlavor) {
    let fx = Fixture::start(flavor, false, json!({})).await;
    let p = |i| fx.path(i);
    let d = fx.sb.dialect();
    let change = if d.is_mariadb() { "CHANGE MASTER TO" } else { "CHANGE REPLICATION SOURCE TO" };

    // move-below: both siblings stopped, aligned, 3 pointed at 1's own binlog position.
    let plan = dry_run(&fx, &format!("relocate/{}/{}", p(3), p(1)), "move-below").await;
    let on3 = statements_on(&fx, &plan, 3);
    assert_eq!(on3.first().map(String::as_str), Some(d.stop_replica()), "{plan}");
    assert!(on3.iter().any(|s| s.starts_with(change) && s.contains(&format!("_PORT={}", fx.sb.key(1).port))), "{on3:?}");
    assert_eq!(on3.last().map(String::as_str), Some(d.start_replica()), "{on3:?}");
    let on1 = statements_on(&fx, &plan, 1);
    assert_eq!(on1, [d.stop_replica(), d.start_replica()], "{plan}");
    assert!(plan["Steps"].to_string().contains(" UNTIL "), "the alignment is part of the plan: {plan}");
    // The run that follows takes those steps.
    let (status, body) = fx.api(&format!("relocate/{}/{}", p(3), p(1))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(descriptions(&body["Operation"]["Steps"]), descriptions(&plan["Steps"]), "{body}");
    fx.wait_view(3, 1).await;

    // move-up: the source stopped, 2 catches up with it, then goes to the grandparent.
    let plan = dry_run(&fx, &format!("move-up/{}", p(2)), "move-up").await;
    assert_eq!(statements_on(&fx, &plan, 1), [d.stop_replica(), d.start_replica()], "{plan}");
    assert!(statements_on(&fx, &plan, 2).iter().any(|s| s.starts_with(change) && s.contains(&format!("_PORT={}", fx.sb.key(0).port))));
    assert_eq!(plan["Target"]["Port"], fx.sb.key(0).port, "move-up names where it goes: {plan}");
    let _ = dry_run(&fx, &format!("repoint/{}", p(2)), "repoint").await;
    // A refusal is a refusal, dry run or not.
    let (status, body) = fx.api(&format!("relocate/{}/{}?dry_run=true", p(1), p(2))).await;
    assert_eq!((status, body["Details"]["Rule"].as_str()), (409, Some("descendant")), "{body}");

    // The CLI's --noop prints the same plan: a header, then `server<TAB>statement` lines.
    let before = fx.channels().await;
    for (args, mechanism) in [
        (vec!["-c", "relocate", "-i", &fx.name(3), "-d", &fx.name(0), "--noop"], "move-up"),
        (vec!["-c", "move-below", "-i", &fx.name(2), "-d", &fx.name(3), "--noop"], "move-below"),
        (vec!["-c", "relocate", "-i", &fx.name(2), "-d", &fx.name(1), "--noop"], "repoint"),
    ] {
        let (code, out, err) = run_cli(&fx.node.url, &args).await;
        assert_eq!(code, 0, "{args:?}: {err}");
        assert_no_password(&format!("{args:?}"), &json!(out));
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].contains("dry run") && lines[0].contains(&format!("using {mechanism}")), "{args:?}: {out}");
        let statements: Vec<&&str> = lines.iter().filter(|l| l.contains('\t')).collect();
        assert!(statements.iter().any(|l| l.contains(change)), "{args:?}: {out}");
        assert!(statements.iter().all(|l| l.starts_with("127.0.0.1:")), "every statement names its server: {out}");
    }
    assert_eq!(fx.channels().await, before, "--noop changed replication");

    // Without --noop the same command moves it, and prints `replica<source`.
    let (code, out, err) = run_cli(&fx.node.url, &["-c", "relocate", "-i", &fx.name(3), "-d", &fx.name(0)]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), format!("{}<{}", fx.name(3), fx.name(0)));
    fx.assert_replicates(3, 0).await;
    fx.node.stop().await;
}
