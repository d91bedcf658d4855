//! Operations interrupted in the middle, through the executor's fail points: the destination
//! killed right before the replica is pointed at it (the move fails, says so with its report,
//! and the replica ends where it was, with every row); and an operation held in the middle while
//! a second one on the same servers is refused as busy.

use crate::support::{assert_continuity, Fixture, Writer, WAIT};
use serde_json::{json, Value};
use server::refactor::failpoints;
use server::sandbox::SandboxFlavor;
use std::time::Duration;

/// `mover` is moved below `victim`, which is killed (SIGKILL) at the fail point before the
/// mover's step `step` (`change-source`: before its CHANGE MASTER / CHANGE REPLICATION SOURCE;
/// `start-replica`: after it, before it is started); writes run throughout.
async fn target_killed_before(fx: &Fixture, step: &str, path: &str, mover: usize, source: usize, victim: usize) -> Value {
    // The sandbox trades durability for speed (the OS cache survives a SIGKILL); the killed
    // server must come back with everything it acknowledged, whatever its flavor commits lazily.
    fx.exec(victim, "SET GLOBAL sync_binlog = 1, innodb_flush_log_at_trx_commit = 1").await;
    let writer = Writer::start(fx).await;
    let point = format!("{step}:{}", fx.sb.key(mover));
    let sb = fx.sb.clone();
    failpoints::arm(&point, move || sb.kill(victim));

    let (status, body) = fx.api(path).await;
    let reached = !failpoints::disarm(&point);
    assert!(reached, "{path}: the fail point {point} was never reached: {body}");
    assert_eq!(status, 502, "/api/{path} should fail once its target is dead: {body}");
    let report = body["Details"].clone();
    assert_eq!(report["Success"], false, "{report}");
    let steps = report["Steps"].as_array().cloned().unwrap_or_default();
    let failed = steps.last().unwrap_or_else(|| panic!("a failed run reports its steps: {report}"));
    assert_ne!(failed["Error"], "", "the last step reported is the one that failed: {report}");
    assert!(body["Message"].as_str().unwrap_or_default().contains("failed"), "{body}");
    let rollback = report["Rollback"].as_array().cloned().unwrap_or_default();
    let mover_back = rollback
        .iter()
        .find(|r| r["Server"]["Port"] == fx.sb.key(mover).port)
        .unwrap_or_else(|| panic!("the rollback puts {} back: {report}", fx.name(mover)));
    assert_eq!(mover_back["Error"], "", "putting {} back failed: {report}", fx.name(mover));
    eprintln!(
        "[{}] {path}: failed at \"{}\" ({}), put back in {:.0} ms",
        fx.flavor(),
        failed["Description"].as_str().unwrap_or_default(),
        failed["Error"].as_str().unwrap_or_default(),
        rollback.iter().map(|r| r["DurationMillis"].as_f64().unwrap_or(0.0)).sum::<f64>()
    );

    // Read from the server itself: back under its own source, both threads running.
    fx.assert_replicates(mover, source).await;
    writer.wait_rows(50).await;
    restart_killed(fx, victim).await;
    let written = writer.stop().await;
    assert_continuity(fx, &written).await;

    let audit = fx.audit().await;
    let entry = audit
        .iter()
        .find(|e| e["AuditInstanceKey"]["Port"] == fx.sb.key(mover).port && e["Details"]["Success"] == false)
        .unwrap_or_else(|| panic!("the failed run is audited: {audit:#?}"));
    assert!(entry["Message"].as_str().unwrap_or_default().contains("FAILED"), "{entry}");
    assert!(entry["Details"]["Rollback"].as_array().is_some_and(|r| !r.is_empty()), "{entry}");
    report
}

/// Starts a server killed with SIGKILL again, and waits until it replicates.
///
/// A MariaDB replica on binlog coordinates keeps its position in `relay-log.info`, which is
/// not written with the transactions it applies: after a SIGKILL it may restart from a position
/// that does not match its data (seen here: a transaction applied twice, error 1950). Nor is its
/// `gtid_slave_pos` to be trusted while it replicates without GTID: it was seen ahead of what
/// the server had applied, even right after a plain STOP SLAVE. Its own binary log, though,
/// holds exactly what it applied (durable settings, `log_slave_updates`, no local writes): it
/// is started without its replication threads and resumes from there, what an operator does
/// after such a crash. Oracle MySQL keeps its position in a table and needs nothing.
async fn restart_killed(fx: &Fixture, i: usize) {
    let mariadb_coordinates = fx.flavor() == SandboxFlavor::MariaDb && !fx.sb.options().gtid;
    if mariadb_coordinates {
        let cnf = fx.sb.server(i).dir().join("my.cnf");
        let text = std::fs::read_to_string(&cnf).expect("read my.cnf");
        if !text.contains("skip_slave_start") {
            std::fs::write(&cnf, text + "skip_slave_start=ON\n").expect("write my.cnf");
        }
    }
    fx.sb.restart(i).await.expect("the killed server restarts");
    if mariadb_coordinates {
        fx.exec(i, "SET GLOBAL gtid_slave_pos = @@GLOBAL.gtid_binlog_pos").await;
        fx.exec(i, "CHANGE MASTER TO MASTER_USE_GTID=slave_pos").await;
        fx.exec(i, "START SLAVE").await;
    }
    fx.sb.wait_replicating(i, WAIT).await.expect("the restarted server replicates again");
}

/// GTID: 2 (below 1) to its cousin 3, killed. The CHANGE itself succeeds (it does not connect);
/// starting replication cannot, so 2 is pointed at 1 again.
pub async fn gtid_move_to_a_killed_target_is_put_back(flavor: SandboxFlavor) {
    let fx = Fixture::start(flavor, true, json!({})).await;
    let path = format!("move-gtid/{}/{}", fx.path(2), fx.path(3));
    let report = target_killed_before(&fx, "change-source", &path, 2, 1, 3).await;
    let back = &report["Rollback"].as_array().unwrap().iter().find(|r| r["Server"]["Port"] == fx.sb.key(2).port).unwrap()["Statements"];
    let source_port = format!("_PORT={}", fx.sb.key(1).port);
    assert!(
        back.as_array().unwrap().iter().any(|s| s.as_str().unwrap_or_default().contains(&source_port)),
        "2 was pointed at 3, so the rollback points it at 1 again: {back}"
    );
    fx.node.stop().await;
}

/// Binlog coordinates: 1 below its sibling 3, which is killed after both were stopped and
/// aligned. Before the change, the target's position cannot be read: 1 was never re-pointed,
/// both are restarted as they were. After the change (1 not started yet): 1 cannot start, is
/// pointed at 0 again at the position it had, and has lost nothing.
pub async fn coordinate_move_to_a_killed_target_is_put_back(flavor: SandboxFlavor) {
    let fx = Fixture::start(flavor, false, json!({})).await;
    let path = format!("move-below/{}/{}", fx.path(1), fx.path(3));
    target_killed_before(&fx, "change-source", &path, 1, 0, 3).await;
    fx.assert_replicates(2, 1).await;
    fx.wait_view(1, 0).await;
    fx.wait_view(3, 0).await;
    let report = target_killed_before(&fx, "start-replica", &path, 1, 0, 3).await;
    let back = report["Rollback"].as_array().unwrap().iter().find(|r| r["Server"]["Port"] == fx.sb.key(1).port).unwrap().clone();
    let source_port = format!("_PORT={}", fx.sb.key(0).port);
    assert!(back["Statements"].to_string().contains(&source_port), "1 is pointed at 0 again: {back}");
    fx.assert_replicates(2, 1).await;
    fx.node.stop().await;
}

/// Binlog coordinates, and the target dies only after the moved replica has applied
/// transactions from it (its START step then cannot see it replicate): its old coordinates no
/// longer describe what it holds, and pointing it back there would apply those transactions
/// twice (duplicate keys, or silently doubled updates). It must stay below the target, and the
/// report must say so; once the target is back it carries on with every row exactly once.
pub async fn coordinate_rollback_never_applies_a_transaction_twice(flavor: SandboxFlavor) {
    let fx = Fixture::start(flavor, false, json!({})).await;
    let writer = Writer::start(&fx).await;
    let (mover, target) = (1, 3);
    let sb = fx.sb.clone();
    let point = format!("start-replica:{}", fx.sb.key(mover));
    failpoints::arm_async(&point, move || async move {
        // Pointed at 3, not started yet: let it apply from 3, then kill 3.
        let at = |row: Option<server::mysql::TextRow>| {
            let row = row.unwrap_or_default();
            (row.text(&["Relay_Source_Log_File", "Relay_Master_Log_File"]), row.number(&["Exec_Source_Log_Pos", "Exec_Master_Log_Pos"]).unwrap_or(0))
        };
        let start = at(sb.replica_status(mover).await.expect("status"));
        sb.exec(mover, sb.dialect().start_replica()).await.expect("start replica");
        let deadline = tokio::time::Instant::now() + WAIT;
        while at(sb.replica_status(mover).await.expect("status")) <= start {
            assert!(tokio::time::Instant::now() < deadline, "{mover} never applied anything from {target}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        sb.kill(target);
    });
    let path = format!("move-below/{}/{}", fx.path(mover), fx.path(target));
    let (status, body) = fx.api(&path).await;
    assert!(!failpoints::disarm(&point), "the fail point {point} was never reached: {body}");
    assert_eq!(status, 502, "{body}");
    let rollback = body["Details"]["Rollback"].as_array().cloned().unwrap_or_default();
    let stays = rollback.iter().find(|r| r["Server"]["Port"] == fx.sb.key(mover).port).expect("a rollback entry for the mover");
    assert!(stays["Error"].as_str().unwrap_or_default().contains("apply them twice"), "{stays}");
    assert!(body["Message"].as_str().unwrap_or_default().contains("apply them twice"), "the error says so: {body}");
    eprintln!("[{}] {path}: {}", fx.flavor(), stays["Error"].as_str().unwrap_or_default());

    restart_killed(&fx, target).await;
    fx.sb.wait_replicating(mover, WAIT).await.expect("the mover replicates from the restarted target");
    fx.assert_replicates(mover, target).await;
    let written = writer.stop().await;
    assert_continuity(&fx, &written).await;
    fx.node.stop().await;
}

/// An operation held at its first step: a second one on the same replica, or on its
/// destination, is refused with 409 (busy) and changes nothing; a dry run still answers; once
/// the first one finishes the servers are free again.
pub async fn a_second_operation_on_busy_servers_is_refused(flavor: SandboxFlavor) {
    let fx = Fixture::start(flavor, true, json!({})).await;
    let p = |i| fx.path(i);
    let (reached_tx, reached_rx) = tokio::sync::oneshot::channel::<()>();
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let point = format!("stop-replica:{}", fx.sb.key(2));
    failpoints::arm_async(&point, move || async move {
        let _ = reached_tx.send(());
        let _ = release_rx.await;
    });
    let first = {
        let url = format!("{}/api/relocate/{}/{}", fx.node.url, p(2), p(3));
        tokio::spawn(async move {
            let resp = reqwest::get(url).await.expect("API reachable");
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.expect("JSON body"))
        })
    };
    tokio::time::timeout(WAIT, reached_rx).await.expect("the first operation reaches its fail point").expect("fail point ran");

    let before = fx.channels().await;
    for path in [format!("move-up/{}", p(2)), format!("relocate/{}/{}", p(2), p(0)), format!("relocate/{}/{}", p(3), p(2))] {
        let (status, body) = fx.api(&path).await;
        assert_eq!(status, 409, "/api/{path} while relocate of 2 runs: {body}");
        assert!(body["Message"].as_str().unwrap_or_default().contains("busy"), "/api/{path}: {body}");
    }
    assert_eq!(fx.channels().await, before, "refused operations changed nothing");
    let (status, plan) = fx.api(&format!("relocate/{}/{}?dry_run=true", p(3), p(1))).await;
    assert_eq!(status, 200, "a dry run needs no lock: {plan}");

    release_tx.send(()).expect("the first operation waits");
    let (status, body) = tokio::time::timeout(WAIT + Duration::from_secs(30), first).await.expect("first operation ends").expect("task");
    assert_eq!(status, 200, "the held operation completes: {body}");
    fx.assert_replicates(2, 3).await;
    fx.wait_view(2, 3).await;
    // Released: the same replica can be moved again.
    fx.run_move(&format!("move-up/{}", p(2)), "gtid", 2, 0).await;
    fx.node.stop().await;
}
