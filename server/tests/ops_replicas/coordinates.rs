//! Several-replica operations with binlog coordinates (MariaDB `MASTER_USE_GTID=no`, MySQL
//! `gtid_mode=OFF`), with a writer inserting rows on the primary before, during and after them:
//! move-up-replicas stops the source once and restarts it last, take-siblings and regroup align
//! siblings, take-master swaps a replica with its source.
//!
//! Starting shape: 0 ← 1 ← {2, 3}, 0 ← 4.

use crate::support::{assert_continuity, Fixture, Writer};
use serde_json::json;
use server::sandbox::{SandboxFlavor, Shape};

pub async fn coordinate_operations_keep_every_row(flavor: SandboxFlavor) {
    let fx = Fixture::start(flavor, 5, Shape::IntermediatePrimary, false, json!({})).await;
    let writer = Writer::start(&fx).await;
    let p = |i| fx.path(i);
    let n = |i| fx.name(i);

    fx.candidate(1, &[2, 3]).await;

    // move-up-replicas: 1 stopped for both, restarted once at the end.
    let report = fx.run(&format!("move-up-replicas/{}", p(1)), "move-up", &[None, Some(0), Some(0), Some(0), Some(0)]).await;
    let steps = report["Steps"].as_array().cloned().unwrap_or_default();
    let starts_of_1: Vec<usize> = steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s["Server"]["Port"] == fx.port(1) && s["Description"].as_str().unwrap_or_default().starts_with("start replication"))
        .map(|(at, _)| at)
        .collect();
    assert_eq!(starts_of_1, [steps.len() - 1], "{} restarts once, last: {report}", n(1));
    writer.wait_rows(20).await;

    // take-siblings: 2, 3 and 4 below 1, each aligned with it.
    let mut lines = fx.cli(&["-c", "take-siblings", "-i", &n(1)], &[None, Some(0), Some(1), Some(1), Some(1)]).await;
    lines.sort();
    let mut expected = [2, 3, 4].map(|i| format!("{}<{}", n(i), n(1)));
    expected.sort();
    assert_eq!(lines, expected);
    writer.wait_rows(20).await;

    // relocate-replicas onto their own source: a repoint of each.
    fx.run(&format!("relocate-replicas/{}/{}", p(1), p(1)), "repoint", &[None, Some(0), Some(1), Some(1), Some(1)]).await;
    writer.wait_rows(20).await;
    // ... and of 4 alone up to the primary.
    let pattern = format!(":{}$", fx.port(4));
    fx.cli(&["-c", "relocate-replicas", "-i", &n(1), "-d", &n(0), "--pattern", &pattern], &[None, Some(0), Some(1), Some(1), Some(0)]).await;
    writer.wait_rows(20).await;

    // regroup-replicas of 1: the better of 2 and 3 takes the other.
    let path = format!("regroup-replicas/{}", p(1));
    let report = fx.run_only(&path, "move-below").await;
    let (chosen, other) = match (fx.moved_below(&report, 2), fx.moved_below(&report, 3)) {
        (Some(3), None) => (3, 2),
        (None, Some(2)) => (2, 3),
        moved => panic!("regroup should move one of 2 and 3 below the other, moved {moved:?}: {report}"),
    };
    let mut want = vec![None, Some(0), Some(1), Some(1), Some(0)];
    want[other] = Some(chosen);
    fx.finish(&path, &report, &want).await;
    writer.wait_rows(20).await;

    // take-master: the chosen one swaps with 1 (its source), by coordinates.
    want[chosen] = Some(0);
    want[1] = Some(chosen);
    fx.run(&format!("take-master/{}", p(chosen)), "move-up", &want).await;
    writer.wait_rows(20).await;

    // Without GTID, 1 and `other` cannot reach their cousin 4.
    fx.refused(&format!("relocate-replicas/{}/{}", p(chosen), p(4)), "too-complex").await;
    if flavor == SandboxFlavor::MySql {
        // (MariaDB tracks GTIDs of file:pos replicas too: there move-replicas-gtid would work.)
        fx.refused(&format!("move-replicas-gtid/{}/{}", p(chosen), p(4)), "no-gtid").await;
    }
    let message = fx.refused(&format!("take-master/{}", p(4)), "cluster-primary").await;
    assert!(message.contains("graceful-master-takeover"), "{message}");

    let written = writer.stop().await;
    fx.summarize();
    assert_continuity(&fx, &written).await;
    fx.assert_topology(&want).await;
    fx.node.stop().await;
}
