//! Shapes and breakage: a chain crawled upward from its bottom, a replica whose SQL thread
//! stopped on an error, and a primary that was killed and restarted.

use super::support::{assert_node_agrees, key_names, thread_state, Fixture, WAIT};
use crate::common::wait_for;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use server::sandbox::{SandboxFlavor, Shape};
use std::cell::RefCell;
use std::time::Duration;

/// A chain of three (0 → 1 → 2), discovered from its bottom replica: the crawl follows the
/// sources upward and finds the whole chain.
pub async fn a_chain_is_found_from_its_bottom(flavor: SandboxFlavor) {
    let fx = Fixture::start(flavor, 3, Shape::Chain, json!({})).await;
    let members = fx.discover_all_from(2).await;
    assert_eq!(members.len(), 3);
    for i in 0..3 {
        let inst = fx.instance(i).await;
        let name = fx.name(i);
        assert_eq!(inst["ClusterName"], fx.name(0), "{name}");
        assert_eq!(inst["ReplicationDepth"], i, "{name}");
        let source = if i == 0 { json!({"Hostname": "", "Port": 0}) } else { fx.key_json(i - 1) };
        assert_eq!(inst["MasterKey"], source, "{name}");
        let replicas: Vec<String> = if i < 2 { vec![fx.name(i + 1)] } else { vec![] };
        assert_eq!(key_names(&inst["Replicas"]), replicas, "{name}");
        assert_eq!(inst["Problems"], json!([]), "{name}");
    }
    // orchestrator's text form: one level of indentation per hop.
    let text = fx.topology(2).await;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with(&format!("{} ", fx.name(0))), "{text}");
    assert!(lines[1].starts_with(&format!("+ {} ", fx.name(1))), "{text}");
    assert!(lines[2].starts_with(&format!("  + {} ", fx.name(2))), "{text}");
}

/// A row written on the replica alone, then the same key on the primary: the replica's SQL
/// thread stops on a duplicate key (1062) while its IO thread keeps running.
pub async fn a_replica_stopped_on_an_sql_error(flavor: SandboxFlavor) {
    let fx = Fixture::start(flavor, 2, Shape::PrimaryWithReplicas, json!({})).await;
    fx.discover_all_from(0).await;
    fx.exec(0, "CREATE DATABASE conflict; CREATE TABLE conflict.t (id INT PRIMARY KEY)").await;
    fx.caught_up(&[1]).await;
    fx.exec(1, "SET SESSION sql_log_bin = 0; INSERT INTO conflict.t VALUES (1)").await;
    fx.exec(0, "INSERT INTO conflict.t VALUES (1)").await;

    fx.wait_instance(1, "with its SQL thread stopped", |i| i["ReplicationSQLThreadRuning"] == false).await;
    let inst = assert_node_agrees(&fx, 1, |says| {
        vec![
            ("ReplicationSQLThreadRuning", json!(says.replica_col("Replica_SQL_Running", "Slave_SQL_Running") == "Yes")),
            ("ReplicationIOThreadRuning", json!(says.replica_col("Replica_IO_Running", "Slave_IO_Running") == "Yes")),
            ("ReplicationSQLThreadState", json!(thread_state(&says.replica_col("Replica_SQL_Running", "Slave_SQL_Running")))),
            ("LastSQLError", json!(says.replica_same("Last_SQL_Error"))),
            ("LastSQLErrno", json!(says.replica_same("Last_SQL_Errno").parse::<u64>().unwrap_or(0))),
        ]
    })
    .await;
    println!("{flavor}: Last_SQL_Errno {}, Last_SQL_Error {}", inst["LastSQLErrno"], inst["LastSQLError"]);
    assert_eq!(inst["ReplicationSQLThreadRuning"], false);
    assert_eq!(inst["ReplicationIOThreadRuning"], true);
    assert_eq!(inst["LastSQLErrno"], 1062, "{}", inst["LastSQLError"]);
    // MySQL 9 applies with parallel workers: its Last_SQL_Error is the coordinator's summary,
    // and the duplicate key is named only in performance_schema's per-worker table.
    let expected_text = if flavor == SandboxFlavor::MariaDb { "Duplicate entry '1'" } else { "failed executing transaction" };
    assert!(inst["LastSQLError"].as_str().unwrap_or("").contains(expected_text), "{}", inst["LastSQLError"]);
    assert_eq!(inst["Problems"], json!(["not_replicating"]));

    let text = fx.topology(0).await;
    let line = fx.topology_line(&text, 1);
    assert!(line.starts_with(&format!("- {}", fx.name(1))), "the broken replica should be marked '- ':\n{text}");
    assert!(line.contains("nonreplicating"), "{text}");
    assert!(fx.topology_line(&text, 0).contains(",ok,"), "{text}");
}

/// The primary is killed: the node keeps it, marked as not answering, while its replicas
/// report their IO threads trying to reconnect; it is re-probed less and less often; once
/// restarted it is valid again.
pub async fn a_killed_primary_is_kept_marked_and_reprobed_with_backoff(flavor: SandboxFlavor) {
    let fx = Fixture::start(flavor, 3, Shape::PrimaryWithReplicas, json!({})).await;
    fx.discover_all_from(0).await;
    fx.sb.kill(0);

    let primary = fx.wait_instance(0, "marked as not answering", |i| i["IsLastCheckValid"] == false).await;
    assert_ne!(primary["LastProbeError"], "", "{primary}");
    assert!(primary["Problems"].as_array().unwrap().contains(&json!("last_check_invalid")), "{}", primary["Problems"]);
    let (status, members) = fx.node.api(&format!("cluster/{}", fx.name(0))).await;
    assert_eq!((status, key_names(&members).len()), (200, 3), "the dead primary stays listed: {members}");

    for r in [1, 2] {
        fx.wait_instance(r, "with its IO thread down", |i| i["ReplicationIOThreadRuning"] == false && i["LastIOError"] != "")
            .await;
        let inst = assert_node_agrees(&fx, r, |says| {
            let io = says.replica_col("Replica_IO_Running", "Slave_IO_Running");
            vec![
                ("ReplicationIOThreadRuning", json!(io == "Yes")),
                ("ReplicationIOThreadState", json!(thread_state(&io))),
                ("LastIOError", json!(says.replica_same("Last_IO_Error"))),
                ("LastIOErrno", json!(says.replica_same("Last_IO_Errno").parse::<u64>().unwrap_or(0))),
            ]
        })
        .await;
        println!("{flavor}: {} IO thread state {}, Last_IO_Error {}", fx.name(r), inst["ReplicationIOThreadState"], inst["LastIOError"]);
        assert_ne!(inst["ReplicationIOThreadState"], 1, "{}", fx.name(r));
        assert_eq!(inst["Problems"], json!(["not_replicating"]), "{}", fx.name(r));
    }

    let gaps = failed_attempt_gaps(&fx, 4).await;
    println!("{flavor}: re-probes of the dead primary {:?} apart", gaps);
    assert!(gaps[0] >= Duration::from_millis(900), "the first retry waits a poll interval: {gaps:?}");
    assert!(gaps.windows(2).all(|w| w[1] > w[0] + Duration::from_millis(500)), "intervals should grow: {gaps:?}");

    fx.sb.restart(0).await.expect("restart");
    let restarted = std::time::Instant::now();
    let back = wait_for(WAIT * 2, "the restarted primary to be valid again", || async {
        let inst = fx.instance(0).await;
        (inst["IsLastCheckValid"] == true).then_some(inst)
    })
    .await;
    println!("{flavor}: the restarted primary was valid again {:?} after it accepted connections", restarted.elapsed());
    assert_eq!(back["LastProbeError"], "");
    assert_eq!(back["Problems"], json!([]));
    // The replicas reconnect by themselves (the sandbox sets SOURCE_RETRY_COUNT high on MySQL,
    // whose 8.0.27+ default of 10 attempts would give up during the outage).
    for r in [1, 2] {
        fx.wait_instance(r, "replicating again", |i| i["ReplicationIOThreadRuning"] == true && i["Problems"] == json!([])).await;
    }
}

/// Watches the dead primary's `LastAttemptedCheckTimestamp` until `attempts` failed attempts
/// were seen; returns the gaps between them.
async fn failed_attempt_gaps(fx: &Fixture, attempts: usize) -> Vec<Duration> {
    let seen: RefCell<Vec<DateTime<Utc>>> = RefCell::new(Vec::new());
    wait_for(WAIT * 2, &format!("{attempts} failed attempts to probe the dead primary"), || async {
        let inst: Value = fx.instance(0).await;
        let mut seen = seen.borrow_mut();
        if inst["IsLastCheckValid"] == false {
            let at: DateTime<Utc> =
                serde_json::from_value(inst["LastAttemptedCheckTimestamp"].clone()).expect("attempt timestamp");
            if seen.last() != Some(&at) {
                assert!(seen.last().is_none_or(|last| *last < at), "attempt timestamps go forward: {seen:?}, then {at}");
                seen.push(at);
            }
        }
        (seen.len() >= attempts).then_some(())
    })
    .await;
    let seen = seen.into_inner();
    seen.windows(2).map(|w| (w[1] - w[0]).to_std().expect("forward")).collect()
}
