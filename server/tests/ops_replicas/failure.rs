//! A replica that fails in the middle of move-up-replicas (binlog coordinates) is put back on its
//! own: the other replica still moves, and the source that was stopped for both is restarted.
//!
//! Starting shape: 0 ← 1 ← {2, 3}, 0 ← 4. The replica whose part runs first (`first`) cannot
//! log in to 0 once pointed at it (its replication account is locked on 0, unreplicated, right
//! before it starts): its start times out, it goes back below 1 at its old position. The
//! account is unlocked when the next part begins, so the other replica moves up normally.

use crate::support::{assert_continuity, Fixture, Writer};
use serde_json::json;
use server::refactor::failpoints;
use server::sandbox::{SandboxFlavor, Shape, REPLICATION_USER};

pub async fn a_failing_replica_leaves_the_others_moved(flavor: SandboxFlavor) {
    let fx = Fixture::start(flavor, 5, Shape::IntermediatePrimary, false, json!({})).await;
    let writer = Writer::start(&fx).await;
    // Parts run in key order; keys differ only by port.
    let (first, second) = if fx.port(2) < fx.port(3) { (2, 3) } else { (3, 2) };
    let account = |lock: &str| format!("SET SESSION sql_log_bin = 0; ALTER USER '{REPLICATION_USER}'@'%' ACCOUNT {lock}");
    let (lock, unlock) = (account("LOCK"), account("UNLOCK"));
    let stop_source = format!("stop-replica:{}", fx.name(1));
    let sb = fx.sb.clone();
    failpoints::arm_async(&format!("start-replica:{}", fx.name(first)), move || async move {
        sb.exec(0, &lock).await.expect("lock the replication account on 0");
        // The next part begins by stopping 1 (already stopped): unlock there.
        let sb2 = sb.clone();
        failpoints::arm_async(&stop_source, move || async move {
            sb2.exec(0, &unlock).await.expect("unlock the replication account on 0");
        });
    });

    let path = format!("move-up-replicas/{}", fx.path(1));
    let (status, body) = fx.api(&path).await;
    assert_eq!(status, 502, "[{flavor}] the operation fails as a whole: {body}");
    let report = &body["Details"];
    assert_eq!(report["Success"], false, "{report}");
    let error = report["Error"].as_str().unwrap_or_default();
    assert!(error.contains(&fx.name(first)) && !error.contains(&format!("{} ", fx.name(second))), "the error names {}: {error}", fx.name(first));
    assert_eq!(fx.moved_below(report, second), Some(0), "{} moved: {report}", fx.name(second));
    assert_eq!(fx.moved_below(report, first), None, "{} was put back: {report}", fx.name(first));
    let rollback = report["Rollback"].as_array().cloned().unwrap_or_default();
    assert!(rollback.iter().any(|r| r["Server"]["Port"] == fx.port(first) && r["Error"] == ""), "{} is put back: {report}", fx.name(first));
    let steps = report["Steps"].as_array().cloned().unwrap_or_default();
    let last = steps.last().expect("steps ran");
    assert_eq!(last["Server"]["Port"], fx.port(1), "the stopped source is restarted last: {report}");
    assert_eq!(last["Error"], "", "{report}");
    assert!(!failpoints::disarm(&format!("stop-replica:{}", fx.name(1))), "the unlock ran");

    let mut want = vec![None, Some(0), Some(1), Some(1), Some(0)];
    want[second] = Some(0);
    fx.finish(&format!("{path} (one replica failing)"), report, &want).await;
    writer.wait_rows(20).await;

    // The failed one can move now, once it and its source (1, stopped for the whole first
    // attempt) have caught up: a coordinate move refuses a replica or source lagging more than
    // ReasonableMaintenanceReplicationLagSeconds.
    for i in [1, 2, 3] {
        let name = fx.name(i);
        crate::common::wait_for(std::time::Duration::from_secs(60), &format!("{name} to catch up"), || async {
            let (_, inst) = fx.node.api(&format!("instance/{}", fx.path(i))).await;
            (inst["ReplicationLagSeconds"]["Valid"] == true && inst["ReplicationLagSeconds"]["Int64"].as_i64() <= Some(1)).then_some(())
        })
        .await;
    }
    fx.run(&format!("move-up-replicas/{}", fx.path(1)), "move-up", &[None, Some(0), Some(0), Some(0), Some(0)]).await;

    let written = writer.stop().await;
    fx.summarize();
    assert_continuity(&fx, &written).await;
    fx.node.stop().await;
}
