//! What decides whether a dead primary is recovered, and what runs around it, against real
//! MariaDB servers and a real node: observe-only mode and the global switch hold a recovery
//! back (saying why); a failing `PreFailoverProcesses` hook aborts it (nothing promoted,
//! `PostUnsuccessfulFailoverProcesses` runs); after an acknowledgement and with the hook
//! passing, it runs, and the detection, post-failover shell hooks and a webhook receive
//! orchestrator's placeholders, environment and JSON.
//!
//! Run with `cargo test -p server --test recovery_control`.

mod common;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use common::{run_cli, wait_for, TestNode};
use serde_json::{json, Value};
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

async fn writable(sb: &Sandbox, i: usize) -> bool {
    match sb.query(i, "SELECT @@global.read_only").await {
        Ok(rows) => rows.first().and_then(|r| r.at(0)) == Some("0"),
        Err(_) => false,
    }
}

/// A webhook receiver: every JSON body POSTed to it, in order.
async fn webhook_receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let app = Router::new()
        .route(
            "/hook",
            post(|State(got): State<Arc<Mutex<Vec<Value>>>>, Json(body): Json<Value>| async move {
                got.lock().unwrap().push(body);
                "received"
            }),
        )
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the webhook receiver");
    let url = format!("http://{}/hook", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("webhook receiver") });
    (url, got)
}

fn log_text(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

async fn cli_ok(node: &TestNode, args: &[&str]) -> String {
    let (code, stdout, stderr) = run_cli(&node.url, args).await;
    assert_eq!(code, 0, "orchestrator {args:?}: {stdout} {stderr}");
    stdout.trim().to_string()
}

/// Waits until the failure of `failed` is recorded as blocked with a reason containing `why`.
async fn blocked_because(node: &TestNode, port: u16, why: &str) -> Value {
    wait_for(WAIT, &format!("the recovery blocked because {why}"), || async {
        let (_, body) = node.api("blocked-recoveries").await;
        body.as_array()
            .and_then(|a| a.iter().find(|b| b["FailedInstanceKey"]["Port"] == json!(port) && b["Reason"].as_str().is_some_and(|r| r.contains(why))).cloned())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switches_hooks_and_acknowledgements_decide_a_recovery() {
    let sb = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 3, Shape::PrimaryWithReplicas)).await.expect("sandbox starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("hooks.log");
    let allow = dir.path().join("allow-failover");
    let (hook_url, received) = webhook_receiver().await;
    let l = log.display();
    let node = TestNode::start(json!({
        "RecoverMasterClusterFilters": ["*"],
        "InstancePollSeconds": 1,
        "RecoveryObserveOnly": true,
        "OnFailureDetectionProcesses": [format!("echo detected {{failureType}} {{failedHost}}:{{failedPort}} replicas={{countReplicas}} >> {l}")],
        "PreFailoverProcesses": [format!("echo pre $ORC_FAILED_HOST:$ORC_FAILED_PORT >> {l}; test -e {}", allow.display())],
        "PostMasterFailoverProcesses": [format!("echo post-master {{successorHost}}:{{successorPort}} lost={{countLostReplicas}} >> {l}")],
        "PostFailoverProcesses": [format!("echo post {{failureType}} $ORC_SUCCESSOR_PORT $ORC_IS_SUCCESSFUL >> {l}"), format!("{hook_url}?token=s3cret")],
        "PostUnsuccessfulFailoverProcesses": [format!("echo unsuccessful {{failureType}} {{isSuccessful}} >> {l}")],
    }))
    .await;
    node.discover_cluster(&sb.key(0), 3).await;
    let dead_port = sb.key(0).port;

    // Observe-only (configured): the failure is detected and recorded, nothing is recovered.
    assert_eq!(cli_ok(&node, &["-c", "check-observe-only"]).await, "enabled");
    assert_eq!(cli_ok(&node, &["-c", "check-global-recoveries"]).await, "enabled");
    sb.kill(0);
    blocked_because(&node, dead_port, "observe-only").await;
    wait_for(WAIT, "the detection hook", || async { log_text(&log).contains("detected DeadMaster").then_some(()) }).await;
    let line = log_text(&log);
    assert!(line.contains(&format!("detected DeadMaster 127.0.0.1:{dead_port} replicas=2")), "{line}");
    let (_, detections) = node.api("audit-failure-detection").await;
    assert_eq!(detections.as_array().map(Vec::len), Some(1), "one detection per failure: {detections:#}");

    // The global switch, checked before observe-only, takes over the reason.
    cli_ok(&node, &["-c", "disable-global-recoveries"]).await;
    cli_ok(&node, &["-c", "disable-observe-only"]).await;
    assert_eq!(cli_ok(&node, &["-c", "check-global-recoveries"]).await, "disabled");
    blocked_because(&node, dead_port, "disable-global-recoveries").await;
    let (_, recoveries) = node.api("audit-recovery").await;
    assert_eq!(recoveries, json!([]), "no recovery registered while held back");
    for r in [1, 2] {
        assert!(!writable(&sb, r).await, "{} promoted while recoveries were held back", sb.key(r));
    }

    // Enabled: the recovery starts, but PreFailoverProcesses fails (no allow file): aborted,
    // nothing promoted, PostUnsuccessfulFailoverProcesses ran, and the hooks are in the record.
    cli_ok(&node, &["-c", "enable-global-recoveries"]).await;
    let failed = wait_for(WAIT, "the aborted recovery", || async {
        let (_, body) = node.api("audit-recovery").await;
        body.as_array().and_then(|a| a.iter().find(|r| r["IsRunning"] == false).cloned())
    })
    .await;
    assert_eq!(failed["IsSuccessful"], false, "{failed:#}");
    assert_eq!(failed["SuccessorKey"], Value::Null, "{failed:#}");
    let errors = failed["AllErrors"].to_string();
    assert!(errors.contains("PreFailoverProcesses") && errors.contains("exited with status 1"), "{failed:#}");
    let hooks = failed["Record"]["Hooks"].as_array().cloned().unwrap_or_default();
    let phases: Vec<&str> = hooks.iter().filter_map(|h| h["Phase"].as_str()).collect();
    assert_eq!(phases, ["PreFailoverProcesses", "PostUnsuccessfulFailoverProcesses"], "{failed:#}");
    assert_eq!(hooks[0]["Status"], 1, "{failed:#}");
    assert!(failed["Record"]["Steps"].as_array().is_none_or(Vec::is_empty), "no step ran: {failed:#}");
    for r in [1, 2] {
        assert!(!writable(&sb, r).await, "{} promoted although PreFailoverProcesses failed", sb.key(r));
    }
    let text = log_text(&log);
    assert!(text.contains(&format!("pre 127.0.0.1:{dead_port}")) && text.contains("unsuccessful DeadMaster false"), "{text}");

    // The aborted recovery still blocks the cluster; once the hook would pass and it is
    // acknowledged (web's way: by id), the recovery runs and promotes a replica.
    std::fs::write(&allow, "").expect("allow file");
    blocked_because(&node, dead_port, &format!("blocked by recovery {}", failed["Id"])).await;
    let (status, body) = node.api(&format!("ack-recovery/{}", failed["Id"])).await;
    assert_eq!(status, 400, "a comment is required: {body}");
    assert!(body["Message"].as_str().unwrap_or("").contains("comment"), "{body}");
    let (status, body) = node.api(&format!("ack-recovery/{}?comment=hook%20fixed", failed["Id"])).await;
    assert_eq!((status, body["Details"].clone()), (200, json!(1)), "{body}");
    let acked = Instant::now();
    let promoted = wait_for(WAIT, "a replica to become writable", || async {
        for r in [1, 2] {
            if writable(&sb, r).await {
                return Some(r);
            }
        }
        None
    })
    .await;
    eprintln!("acknowledged -> {} writable in {:?}", sb.key(promoted), acked.elapsed());
    let port = sb.key(promoted).port;
    let ran = wait_for(WAIT, "the successful recovery", || async {
        let (_, body) = node.api("audit-recovery").await;
        body.as_array().and_then(|a| a.iter().find(|r| r["IsSuccessful"] == true).cloned())
    })
    .await;
    assert_eq!(ran["SuccessorKey"]["Port"], json!(port), "{ran:#}");
    let hooks = ran["Record"]["Hooks"].as_array().cloned().unwrap_or_default();
    let phases: Vec<&str> = hooks.iter().filter_map(|h| h["Phase"].as_str()).collect();
    assert_eq!(phases, ["PreFailoverProcesses", "PostMasterFailoverProcesses", "PostFailoverProcesses", "PostFailoverProcesses"], "{ran:#}");
    assert!(hooks.iter().all(|h| h["Error"] == ""), "{ran:#}");
    // The webhook's token is not kept in the record.
    assert!(!ran.to_string().contains("s3cret"), "{ran:#}");
    assert!(hooks[3]["Command"].as_str().unwrap_or("").ends_with("/hook"), "{ran:#}");
    let text = log_text(&log);
    assert!(text.contains(&format!("post-master 127.0.0.1:{port} lost=0")), "{text}");
    assert!(text.contains(&format!("post DeadMaster {port} true")), "{text}");
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0]["Phase"], "PostFailoverProcesses", "{got:#?}");
    assert_eq!(got[0]["Context"]["FailureType"], "DeadMaster", "{got:#?}");
    assert_eq!(got[0]["Context"]["SuccessorKey"]["Port"], json!(port), "{got:#?}");
    assert_eq!(got[0]["Context"]["IsSuccessful"], true, "{got:#?}");
    let (_, detections) = node.api("audit-failure-detection").await;
    assert_eq!(detections.as_array().map(Vec::len), Some(1), "the detection hook ran once: {detections:#}");
    assert_eq!(log_text(&log).matches("detected").count(), 1, "{}", log_text(&log));
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_commands_refuse_bad_input_and_change_nothing() {
    let node = TestNode::start(json!({})).await;
    let (code, _, stderr) = run_cli(&node.url, &["-c", "ack-all-recoveries"]).await;
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    let (code, _, stderr) = run_cli(&node.url, &["-c", "ack-instance-recoveries", "--reason", "x"]).await;
    assert_eq!(code, 2, "{stderr}");
    let (status, body) = node.api("ack-recovery/not-a-number?comment=x").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = node.api("audit-recovery/id/x").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = node.api("audit-recovery-steps/nope").await;
    assert_eq!(status, 404, "{body}");
    let (_, recoveries) = node.api("audit-recovery").await;
    assert_eq!(recoveries, json!([]));
    assert_eq!(cli_ok(&node, &["-c", "ack-all-recoveries", "--reason", "nothing to acknowledge"]).await, "0");
    node.stop().await;
}
