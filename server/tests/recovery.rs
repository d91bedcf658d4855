//! Automated recovery of a dead primary against real servers: a node started through
//! `server::start` in front of a primary with two replicas (GTID), a writer on the primary, and
//! kill -9. Every wait has a deadline. Checked on the servers themselves: a replica becomes
//! writable, the other replicates from it, no row that reached a replica is lost, and the audit
//! holds the recovery with its steps. A second failure is blocked until the first recovery is
//! acknowledged. With no `RecoverMasterClusterFilters`, nothing recovers.
//!
//! Run with `cargo test -p server --test recovery`. The MySQL flavor needs the root filesystem
//! of `scripts/prepare-mysql-rootfs.sh`.

mod common;

use common::{replica_status, wait_for, wait_for_probes, TestNode};
use serde_json::{json, Value};
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape};
use std::time::{Duration, Instant};

/// Deadline for anything the node should do within a few poll intervals (1 s here).
const WAIT: Duration = Duration::from_secs(30);

macro_rules! for_both_flavors {
    ($($name:ident => $scenario:path;)*) => {$(
        mod $name {
            use server::sandbox::SandboxFlavor;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mariadb() {
                $scenario(SandboxFlavor::MariaDb).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                $scenario(SandboxFlavor::MySql).await;
            }
        }
    )*};
}

for_both_flavors! {
    a_killed_primary_is_replaced => crate::a_killed_primary_is_replaced;
    without_filters_nothing_recovers => crate::without_filters_nothing_recovers;
    a_killed_intermediate_primary_is_routed_around => crate::a_killed_intermediate_primary_is_routed_around;
    a_hung_primary_is_replaced_then_fenced_when_it_returns => crate::a_hung_primary_is_replaced_then_fenced_when_it_returns;
    a_cut_path_to_the_primary_is_not_a_failover => crate::a_cut_path_to_the_primary_is_not_a_failover;
    a_killed_co_master_leaves_the_other_as_primary => crate::a_killed_co_master_leaves_the_other_as_primary;
}

async fn start(flavor: SandboxFlavor, overrides: Value) -> (Sandbox, TestNode) {
    let sb = Sandbox::start(SandboxOptions::new(flavor, 3, Shape::PrimaryWithReplicas)).await.expect("sandbox starts");
    let node = TestNode::start(overrides).await;
    node.discover_cluster(&sb.key(0), 3).await;
    (sb, node)
}

async fn writable(sb: &Sandbox, i: usize) -> bool {
    // A server that does not answer is not writable.
    match sb.query(i, "SELECT @@global.read_only").await {
        Ok(rows) => rows.first().and_then(|r| r.at(0)) == Some("0"),
        Err(_) => false,
    }
}

/// (count, sum of ids, max id) of the test table on server `i`.
async fn rows(sb: &Sandbox, i: usize) -> (u64, u64, u64) {
    let row = sb.query(i, "SELECT COUNT(*), COALESCE(SUM(id), 0), COALESCE(MAX(id), 0) FROM rt.t").await.expect("read the test table");
    let n = |c: usize| row.first().and_then(|r| r.at(c)).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (n(0), n(1), n(2))
}

/// Server `i` replicates from `source` (its own status says so), both threads running.
async fn replicates_from(sb: &Sandbox, i: usize, source: usize) -> bool {
    let Some(row) = replica_status(sb, i).await else { return false };
    let port = row.text(&["Source_Port", "Master_Port"]);
    let io = row.text(&["Replica_IO_Running", "Slave_IO_Running"]);
    let sql = row.text(&["Replica_SQL_Running", "Slave_SQL_Running"]);
    port == sb.key(source).port.to_string() && io == "Yes" && sql == "Yes"
}

async fn a_killed_primary_is_replaced(flavor: SandboxFlavor) {
    let (sb, node) = start(flavor, json!({ "RecoverMasterClusterFilters": ["*"], "InstancePollSeconds": 1 })).await;
    sb.exec(0, "CREATE DATABASE rt").await.expect("create database");
    sb.exec(0, "CREATE TABLE rt.t (id BIGINT PRIMARY KEY, at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))").await.expect("create table");
    for r in [1, 2] {
        sb.wait_caught_up(r, 0, WAIT).await.expect("replicas have the table");
    }

    // A writer inserts one row per statement until the primary dies; `acked` is the last id
    // the primary confirmed.
    let mut conn = sb.admin(0).await.expect("writer connects");
    let writer = tokio::spawn(async move {
        let mut acked = 0u64;
        loop {
            if conn.exec(&format!("INSERT INTO rt.t (id) VALUES ({})", acked + 1)).await.is_err() {
                return acked;
            }
            acked += 1;
        }
    });
    // Kill once writes are flowing through replication: both replicas hold some of them.
    wait_for(WAIT, "rows written on the primary to reach both replicas", || async {
        (rows(&sb, 1).await.0 >= 200 && rows(&sb, 2).await.0 >= 200).then_some(())
    })
    .await;
    let killed = Instant::now();
    sb.kill(0);
    let acked = writer.await.expect("writer ends");
    // What the replicas hold right after the kill (they may still be applying): a lower bound
    // of what reached a replica.
    let mut reached = 0;
    for r in [1, 2] {
        reached = reached.max(rows(&sb, r).await.2);
    }

    let promoted = wait_for(WAIT, "a replica to become writable", || async {
        for r in [1, 2] {
            if writable(&sb, r).await {
                return Some(r);
            }
        }
        None
    })
    .await;
    let to_writable = killed.elapsed();
    eprintln!("{flavor}: kill -9 -> {} writable in {:?}", sb.key(promoted), to_writable);
    let other = 3 - promoted;
    wait_for(WAIT, "the other replica to replicate from the new primary", || async {
        replicates_from(&sb, other, promoted).await.then_some(())
    })
    .await;
    eprintln!("{flavor}: kill -9 -> other replica re-pointed in {:?}", killed.elapsed());
    assert!(!writable(&sb, other).await, "only one writable server");

    // No row that reached a replica is lost; both survivors hold the same rows, without gaps.
    let on_new = rows(&sb, promoted).await;
    wait_for(WAIT, "the re-pointed replica to hold what the new primary holds", || async {
        (rows(&sb, other).await == on_new).then_some(())
    })
    .await;
    let (count, _, max) = on_new;
    assert_eq!(count, max, "ids 1..={max} without gaps on the new primary");
    assert!(max >= reached, "the new primary has {max} rows, a replica had {reached} right after the kill");
    assert!(max <= acked + 1, "{max} rows, only {acked} acknowledged (one may be in flight)");
    eprintln!("{flavor}: {acked} rows acknowledged, {max} on the new primary ({} acknowledged rows never reached a replica)", acked.saturating_sub(max));

    // The new primary takes writes.
    sb.exec(promoted, &format!("INSERT INTO rt.t (id) VALUES ({})", max + 1000)).await.expect("new primary writable");

    // The audit lists the recovery with its steps.
    let entry = wait_for(WAIT, "the recovery in the audit", || async {
        let (status, body) = node.api("audit").await;
        assert_eq!(status, 200, "{body}");
        body.as_array().and_then(|a| a.iter().find(|e| e["AuditType"] == "recover-dead-master").cloned())
    })
    .await;
    let details = &entry["Details"];
    assert_eq!(details["Success"], true, "{entry:#}");
    assert_eq!(details["Analysis"], "DeadMaster", "{entry:#}");
    assert_eq!(details["Successor"]["Port"], json!(sb.key(promoted).port), "{entry:#}");
    assert!(!details["SuccessorReason"].as_str().unwrap_or("").is_empty(), "{entry:#}");
    let steps = details["Steps"].as_array().expect("steps");
    let described: Vec<String> = steps.iter().map(|s| format!("{} ({:.0} ms)", s["Description"].as_str().unwrap_or(""), s["DurationMillis"].as_f64().unwrap_or(0.0))).collect();
    assert!(described.iter().any(|d| d.contains("writable")), "{described:?}");
    assert!(described.iter().any(|d| d.contains("relay log")), "{described:?}");
    assert!(steps.iter().all(|s| s["Started"].is_string() && s["DurationMillis"].is_number()), "{steps:?}");
    let text = entry.to_string();
    assert!(!text.contains(server::sandbox::TOPOLOGY_PASSWORD), "no password in the record");
    eprintln!("{flavor}: the recovery itself (plan run) took {} ms; steps: {described:#?}", details["DurationMillis"]);

    // The recovery is stored: active (it blocks its cluster), successful, with its successor.
    let (_, recoveries) = node.api("audit-recovery").await;
    let first = recoveries.as_array().and_then(|a| a.first()).cloned().unwrap_or_default();
    assert_eq!((first["IsSuccessful"].clone(), first["IsActive"].clone(), first["Acknowledged"].clone()), (json!(true), json!(true), json!(false)), "{recoveries:#}");
    assert_eq!(first["SuccessorKey"]["Port"], json!(sb.key(promoted).port), "{first:#}");
    assert_eq!(first["Type"], "MasterRecovery", "{first:#}");
    let (_, detections) = node.api("audit-failure-detection").await;
    assert!(detections.as_array().is_some_and(|a| a.iter().any(|d| d["FailedInstanceKey"]["Port"] == json!(sb.key(0).port))), "{detections:#}");

    // A second failure inside RecoveryPeriodBlockSeconds (default 3600 s): the successor heads
    // the cluster now, and the recovery that promoted it blocks it. Not recovered, and the
    // node says why, naming the blocking recovery.
    sb.kill(promoted);
    let blocked = wait_for(WAIT, "the blocked recovery", || async {
        let (_, body) = node.api("blocked-recoveries").await;
        body.as_array().and_then(|a| a.iter().find(|b| b["FailedInstanceKey"]["Port"] == json!(sb.key(promoted).port)).cloned())
    })
    .await;
    assert_eq!(blocked["BlockingRecoveryId"], first["Id"], "{blocked:#}");
    let reason = blocked["Reason"].as_str().unwrap_or("");
    assert!(reason.contains("RecoveryPeriodBlockSeconds") && reason.contains("acknowledge"), "{blocked:#}");
    let (_, audit) = node.api("audit").await;
    assert!(audit.as_array().is_some_and(|a| a.iter().any(|e| e["AuditType"] == "blocked-recovery")), "{audit:#}");
    eprintln!("{flavor}: second failure: {reason}");
    assert!(!writable(&sb, other).await, "{} was promoted inside the block period", sb.key(other));

    // Acknowledging needs a reason: without one it is a usage error and nothing changes.
    let cluster = sb.key(promoted).to_string();
    let (code, _, stderr) = common::run_cli(&node.url, &["-c", "ack-cluster-recoveries", "-i", &cluster]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--reason"), "{stderr}");
    assert!(!writable(&sb, other).await, "{} was promoted without an acknowledgement", sb.key(other));
    // With one, the block ends and the second failure is recovered: the last replica is promoted.
    let (code, stdout, stderr) = common::run_cli(&node.url, &["-c", "ack-cluster-recoveries", "-i", &cluster, "--reason", "first failover checked"]).await;
    assert_eq!(code, 0, "{stdout} {stderr}");
    assert_eq!(stdout.trim(), "1", "one recovery acknowledged");
    let acked = std::time::Instant::now();
    wait_for(WAIT, "the last replica to become writable after the acknowledgement", || async { writable(&sb, other).await.then_some(()) }).await;
    eprintln!("{flavor}: acknowledged -> {} writable in {:?}", sb.key(other), acked.elapsed());
    // Writable comes before the recovery's last steps (fencing, downtime): wait for its record.
    let second = wait_for(WAIT, "the second recovery's record", || async {
        let (_, body) = node.api("audit-recovery").await;
        body.as_array().and_then(|a| a.iter().find(|r| r["SuccessorKey"]["Port"] == json!(sb.key(other).port) && r["IsRunning"] == false).cloned())
    })
    .await;
    assert_eq!(second["IsSuccessful"], true, "{second:#}");
    let (_, recoveries) = node.api("audit-recovery").await;
    let list = recoveries.as_array().cloned().unwrap_or_default();
    let acknowledged = list.iter().find(|r| r["Id"] == first["Id"]).cloned().unwrap_or_default();
    assert_eq!(acknowledged["Acknowledged"], true, "{recoveries:#}");
    assert_eq!(acknowledged["AcknowledgedComment"], "first failover checked", "{acknowledged:#}");
    node.stop().await;
}

/// 0 ← 1 ← 2, 0 ← 3: 1 is killed while 0 takes writes. Its replica 2 moves below a live
/// server (3, the sibling, or 0) on its own say, catches up, and holds every row 0 holds.
async fn a_killed_intermediate_primary_is_routed_around(flavor: SandboxFlavor) {
    let sb = Sandbox::start(SandboxOptions::new(flavor, 4, Shape::IntermediatePrimary)).await.expect("sandbox starts");
    let node = TestNode::start(json!({ "RecoverIntermediateMasterClusterFilters": ["*"] })).await;
    node.discover_cluster(&sb.key(0), 4).await;
    sb.exec(0, "CREATE DATABASE rt; CREATE TABLE rt.t (id BIGINT PRIMARY KEY)").await.expect("create table");
    for r in [1, 2, 3] {
        let source = if r == 2 { 1 } else { 0 };
        sb.wait_caught_up(r, source, WAIT).await.expect("replicas have the table");
    }
    let mut conn = sb.admin(0).await.expect("writer connects");
    let stop = tokio_util::sync::CancellationToken::new();
    let token = stop.clone();
    let writer = tokio::spawn(async move {
        let mut acked = 0u64;
        while !token.is_cancelled() && conn.exec(&format!("INSERT INTO rt.t (id) VALUES ({})", acked + 1)).await.is_ok() {
            acked += 1;
        }
        acked
    });
    wait_for(WAIT, "rows to reach 2 through 1", || async { (rows(&sb, 2).await.0 >= 100).then_some(()) }).await;
    let killed = Instant::now();
    sb.kill(1);
    let source = wait_for(WAIT, "2 to replicate from a live server", || async {
        for s in [3, 0] {
            if replicates_from(&sb, 2, s).await {
                return Some(s);
            }
        }
        None
    })
    .await;
    eprintln!("{flavor}: kill -9 of the intermediate primary -> 2 replicating from {} in {:?}", sb.key(source), killed.elapsed());
    let acked = {
        stop.cancel();
        writer.await.expect("writer ends")
    };
    sb.wait_caught_up(2, source, WAIT).await.expect("2 catches up");
    if source != 0 {
        sb.wait_caught_up(source, 0, WAIT).await.expect("its new source catches up");
    }
    assert_eq!(rows(&sb, 2).await, rows(&sb, 0).await, "2 holds exactly what the primary holds");
    assert!(rows(&sb, 0).await.0 >= acked, "every acknowledged row");
    let r = wait_for(WAIT, "the recovery's record", || async {
        let (_, body) = node.api("audit-recovery").await;
        body.as_array().and_then(|a| a.iter().find(|r| r["IsRunning"] == false).cloned())
    })
    .await;
    assert_eq!((r["Type"].clone(), r["IsSuccessful"].clone()), (json!("IntermediateMasterRecovery"), json!(true)), "{r:#}");
    assert_eq!(r["FailedInstanceKey"]["Port"], json!(sb.key(1).port), "{r:#}");
    assert!(writable(&sb, 0).await, "the primary was left alone");
    node.stop().await;
}

/// SIGSTOP of the primary: it accepts connections but answers nothing. The replicas notice when
/// their heartbeat times out (the sandbox's replica_net_timeout is 4 s); then a replica is
/// promoted. The hung primary could not be made read-only; when it is resumed it is, at once,
/// so it never takes writes next to its successor.
async fn a_hung_primary_is_replaced_then_fenced_when_it_returns(flavor: SandboxFlavor) {
    let (sb, node) = start(flavor, json!({ "RecoverMasterClusterFilters": ["*"], "MySQLConnectTimeoutSeconds": 1 })).await;
    sb.exec(0, "CREATE DATABASE rt; CREATE TABLE rt.t (id BIGINT PRIMARY KEY); INSERT INTO rt.t VALUES (1), (2), (3)").await.expect("rows");
    for r in [1, 2] {
        sb.wait_caught_up(r, 0, WAIT).await.expect("replicas have the rows");
    }
    let paused = Instant::now();
    sb.pause(0);
    let promoted = wait_for(WAIT, "a replica to become writable", || async {
        for r in [1, 2] {
            if writable(&sb, r).await {
                return Some(r);
            }
        }
        None
    })
    .await;
    eprintln!("{flavor}: SIGSTOP -> {} writable in {:?}", sb.key(promoted), paused.elapsed());
    let other = 3 - promoted;
    wait_for(WAIT, "the other replica to replicate from the new primary", || async { replicates_from(&sb, other, promoted).await.then_some(()) }).await;
    let r = wait_for(WAIT, "the recovery's record", || async {
        let (_, body) = node.api("audit-recovery").await;
        body.as_array().and_then(|a| a.iter().find(|r| r["IsRunning"] == false).cloned())
    })
    .await;
    assert_eq!(r["IsSuccessful"], true, "{r:#}");
    assert_eq!(r["Record"]["OldPrimaryFenced"], false, "a hung primary cannot be fenced: {r:#}");
    let steps: Vec<String> = r["Record"]["Steps"].as_array().map(|a| a.iter().map(|s| format!("{} ({:.0} ms)", s["Description"].as_str().unwrap_or(""), s["DurationMillis"].as_f64().unwrap_or(0.0))).collect()).unwrap_or_default();
    eprintln!("{flavor}: detected {} after the pause; steps: {steps:#?}", r["RecoveryStartTimestamp"]);

    let resumed = Instant::now();
    sb.resume(0);
    wait_for(WAIT, "the old primary to be read-only", || async {
        let rows = sb.query(0, "SELECT @@global.read_only").await.ok()?;
        (rows.first().and_then(|r| r.at(0)) == Some("1")).then_some(())
    })
    .await;
    eprintln!("{flavor}: resumed -> old primary read-only in {:?}", resumed.elapsed());
    let fenced = wait_for(WAIT, "the fence in the audit", || async {
        let (_, body) = node.api("audit").await;
        body.as_array().and_then(|a| a.iter().find(|e| e["AuditType"] == "fence-old-primary").cloned())
    })
    .await;
    assert_eq!(fenced["AuditInstanceKey"]["Port"], json!(sb.key(0).port), "{fenced:#}");
    assert!(writable(&sb, promoted).await, "the successor stays the only writable server");
    node.stop().await;
}

/// Only the node's path to the primary is cut (its login is locked and its connections killed,
/// on the primary alone: not replicated), while the replicas keep replicating from it. The
/// replicas do not agree it is gone: UnreachableMaster, and no failover.
async fn a_cut_path_to_the_primary_is_not_a_failover(flavor: SandboxFlavor) {
    let (sb, node) = start(flavor, json!({ "RecoverMasterClusterFilters": ["*"] })).await;
    let user = server::sandbox::TOPOLOGY_USER;
    sb.exec(0, &format!("SET SESSION sql_log_bin = 0; ALTER USER '{user}'@'%' ACCOUNT LOCK")).await.expect("lock the node's login");
    let ids = sb.query(0, &format!("SELECT id FROM information_schema.processlist WHERE user = '{user}'")).await.expect("the node's connections");
    for id in ids.iter().filter_map(|r| r.at(0)) {
        let _ = sb.exec(0, &format!("KILL {id}")).await;
    }
    let primary = sb.key(0).to_string();
    wait_for(WAIT, "UnreachableMaster in the analysis", || async {
        let (_, body) = node.api("replication-analysis").await;
        let entries = body["Details"].as_array().cloned().unwrap_or_default();
        entries
            .iter()
            .any(|e| e["Analysis"] == "UnreachableMaster" && format!("{}:{}", e["AnalyzedInstanceKey"]["Hostname"].as_str().unwrap_or(""), e["AnalyzedInstanceKey"]["Port"]) == primary)
            .then_some(())
    })
    .await;
    // A recovery takes well under a second here (see a_killed_primary_is_replaced). While the
    // node probes the primary and its replicas 20 more times (the replicas every 200 ms now
    // that their source fails), nothing moves.
    wait_for_probes(&node, 20).await;
    assert!(writable(&sb, 0).await, "the primary stays writable");
    for r in [1, 2] {
        assert!(!writable(&sb, r).await && replicates_from(&sb, r, 0).await, "{} was moved although its primary is fine", sb.key(r));
    }
    let (_, recoveries) = node.api("audit-recovery").await;
    assert_eq!(recoveries, json!([]), "no recovery registered");
    let (_, detections) = node.api("audit-failure-detection").await;
    assert_eq!(detections, json!([]), "UnreachableMaster is not a failure to recover");
    sb.exec(0, &format!("SET SESSION sql_log_bin = 0; ALTER USER '{user}'@'%' ACCOUNT UNLOCK")).await.expect("unlock");
    node.stop().await;
}

/// 0 and 1 are co-masters (made with make-co-master), 2 replicates from 0. 0 is killed: 1, the
/// surviving co-master, takes writes and forgets 0; 2 replicates from 1.
async fn a_killed_co_master_leaves_the_other_as_primary(flavor: SandboxFlavor) {
    let credentials = format!("SELECT '{}', '{}'", server::sandbox::REPLICATION_USER, server::sandbox::REPLICATION_PASSWORD);
    let (sb, node) = start(flavor, json!({ "RecoverMasterClusterFilters": ["*"], "ReplicationCredentialsQuery": credentials })).await;
    let one = sb.key(1);
    let (status, body) = node.api(&format!("make-co-master/{}/{}", one.hostname, one.port)).await;
    assert_eq!(status, 200, "{body}");
    wait_for(WAIT, "0 to replicate from 1", || async { replicates_from(&sb, 0, 1).await.then_some(()) }).await;
    wait_for(WAIT, "the node to see the co-masters", || async {
        let (_, i) = node.api(&format!("instance/{}/{}", sb.key(0).hostname, sb.key(0).port)).await;
        (i["MasterKey"]["Port"] == json!(one.port) && i["IsLastCheckValid"] == true).then_some(())
    })
    .await;
    sb.exec(0, "CREATE DATABASE rt; CREATE TABLE rt.t (id BIGINT PRIMARY KEY); INSERT INTO rt.t VALUES (1), (2), (3)").await.expect("rows");
    for r in [1, 2] {
        sb.wait_caught_up(r, 0, WAIT).await.expect("replicas have the rows");
    }
    let killed = Instant::now();
    sb.kill(0);
    wait_for(WAIT, "1 to become writable", || async { writable(&sb, 1).await.then_some(()) }).await;
    eprintln!("{flavor}: kill -9 of a co-master -> the other writable in {:?}", killed.elapsed());
    wait_for(WAIT, "2 to replicate from 1", || async { replicates_from(&sb, 2, 1).await.then_some(()) }).await;
    assert!(replica_status(&sb, 1).await.is_none(), "1 forgot the dead co-master");
    assert_eq!(rows(&sb, 2).await, rows(&sb, 1).await);
    let r = wait_for(WAIT, "the recovery's record", || async {
        let (_, body) = node.api("audit-recovery").await;
        body.as_array().and_then(|a| a.iter().find(|r| r["IsRunning"] == false).cloned())
    })
    .await;
    assert_eq!((r["Type"].clone(), r["Analysis"].clone(), r["IsSuccessful"].clone()), (json!("CoMasterRecovery"), json!("DeadCoMaster"), json!(true)), "{r:#}");
    node.stop().await;
}

async fn without_filters_nothing_recovers(flavor: SandboxFlavor) {
    let (sb, node) = start(flavor, json!({ "InstancePollSeconds": 1 })).await;
    let dead = sb.key(0).to_string();
    sb.kill(0);
    wait_for(WAIT, "DeadMaster in the analysis", || async {
        let (_, body) = node.api("replication-analysis").await;
        let entries = body["Details"].as_array().cloned().unwrap_or_default();
        entries
            .iter()
            .any(|e| e["Analysis"] == "DeadMaster" && format!("{}:{}", e["AnalyzedInstanceKey"]["Hostname"].as_str().unwrap_or(""), e["AnalyzedInstanceKey"]["Port"]) == dead)
            .then_some(())
    })
    .await;
    // Recovery would take well under a second here: while the node probes 20 more times,
    // nothing may become writable.
    wait_for_probes(&node, 20).await;
    for r in [1, 2] {
        assert!(!writable(&sb, r).await, "{} became writable with no RecoverMasterClusterFilters", sb.key(r));
    }
    let (_, audit) = node.api("audit").await;
    assert!(audit.as_array().is_some_and(|a| a.iter().all(|e| e["AuditType"] != "recover-dead-master")), "{audit:#}");
    node.stop().await;
}
