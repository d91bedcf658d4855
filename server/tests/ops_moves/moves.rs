//! Moves that succeed, in each mechanism, with a writer inserting rows on the primary before,
//! during and after every move; the end state of each move is read from the moved server itself,
//! and at the end every server has every acknowledged row and the same table checksum.
//!
//! Starting shape: 0 ← 1 ← 2, 0 ← 3.

use crate::support::{assert_continuity, Fixture, Moved, Writer};
use serde_json::json;
use server::sandbox::SandboxFlavor;

/// GTID (Oracle auto-position or MariaDB slave_pos): smart relocate to a cousin, `move-gtid`
/// under both of its API paths, and `move-up` / `move-below` / `repoint` / `relocate`, which
/// pick GTID (or repoint) by themselves.
pub async fn gtid_moves_keep_every_row(flavor: SandboxFlavor) {
    let fx = Fixture::start(flavor, true, json!({})).await;
    let writer = Writer::start(&fx).await;
    let p = |i| fx.path(i);
    let mut runs: Vec<Moved> = Vec::new();

    // 2 (below 1) to its cousin 3: only GTID can do that.
    runs.push(fx.run_move(&format!("relocate/{}/{}", p(2), p(3)), "gtid", 2, 3).await);
    writer.wait_rows(20).await;
    runs.push(fx.run_move(&format!("move-gtid/{}/{}", p(2), p(1)), "gtid", 2, 1).await);
    writer.wait_rows(20).await;
    runs.push(fx.run_move(&format!("move-below-gtid/{}/{}", p(3), p(1)), "gtid", 3, 1).await);
    writer.wait_rows(20).await;
    // Now 0 ← 1 ← {2, 3}: move-up and move-below of GTID replicas use GTID.
    runs.push(fx.run_move(&format!("move-up/{}", p(3)), "gtid", 3, 0).await);
    writer.wait_rows(20).await;
    runs.push(fx.run_move(&format!("move-below/{}/{}", p(3), p(1)), "gtid", 3, 1).await);
    writer.wait_rows(20).await;
    runs.push(fx.run_move(&format!("relocate/{}/{}", p(3), p(0)), "gtid", 3, 0).await);
    writer.wait_rows(20).await;
    // Already below the destination: repoint, by relocate and directly.
    runs.push(fx.run_move(&format!("relocate/{}/{}", p(2), p(1)), "repoint", 2, 1).await);
    writer.wait_rows(20).await;
    runs.push(fx.run_move(&format!("repoint/{}", p(2)), "repoint", 2, 1).await);
    writer.wait_rows(20).await;
    runs.push(fx.run_move(&format!("repoint/{}/{}", p(3), p(0)), "repoint", 3, 0).await);
    writer.wait_rows(20).await;

    let written = writer.stop().await;
    summarize(flavor, &runs);
    assert_continuity(&fx, &written).await;
    for (i, s) in [(1, 0), (2, 1), (3, 0)] {
        fx.assert_replicates(i, s).await;
    }
    fx.assert_audited(&[
        ("relocate", 2),
        ("move-gtid", 2),
        ("move-gtid", 3),
        ("move-up", 3),
        ("move-below", 3),
        ("relocate", 3),
        ("relocate", 2),
        ("repoint", 2),
        ("repoint", 3),
    ])
    .await;
    fx.node.stop().await;
}

/// Binlog coordinates (MariaDB `MASTER_USE_GTID=no`, MySQL `gtid_mode=OFF`) with writes
/// running: smart relocate below a sibling (move-below), up to the grandparent (move-up), to
/// the current source (repoint); then `move-below`, `move-up` and `repoint` directly.
pub async fn coordinate_moves_keep_every_row(flavor: SandboxFlavor) {
    let fx = Fixture::start(flavor, false, json!({})).await;
    if flavor == SandboxFlavor::MySql {
        // MySQL 9 applies with parallel workers by default: START REPLICA UNTIL SOURCE_LOG_POS
        // must still stop exactly at the position (it does, with commit order preserved).
        let workers = fx.scalar(1, "SELECT @@GLOBAL.replica_parallel_workers").await;
        let ordered = fx.scalar(1, "SELECT @@GLOBAL.replica_preserve_commit_order").await;
        assert!(workers.parse::<u32>().unwrap_or(0) > 1, "replica_parallel_workers = {workers}");
        eprintln!("[{flavor}] replica_parallel_workers = {workers}, replica_preserve_commit_order = {ordered}");
    }
    let writer = Writer::start(&fx).await;
    let p = |i| fx.path(i);
    let mut runs: Vec<Moved> = Vec::new();

    runs.push(fx.run_move(&format!("relocate/{}/{}", p(3), p(1)), "move-below", 3, 1).await);
    writer.wait_rows(20).await;
    runs.push(fx.run_move(&format!("relocate/{}/{}", p(3), p(0)), "move-up", 3, 0).await);
    writer.wait_rows(20).await;
    runs.push(fx.run_move(&format!("relocate/{}/{}", p(2), p(1)), "repoint", 2, 1).await);
    writer.wait_rows(20).await;
    runs.push(fx.run_move(&format!("move-below/{}/{}", p(3), p(1)), "move-below", 3, 1).await);
    writer.wait_rows(20).await;
    // 0 ← 1 ← {2, 3}: move 2 up, then 3 up, under the primary.
    runs.push(fx.run_move(&format!("move-up/{}", p(2)), "move-up", 2, 0).await);
    writer.wait_rows(20).await;
    runs.push(fx.run_move(&format!("move-up/{}", p(3)), "move-up", 3, 0).await);
    writer.wait_rows(20).await;
    runs.push(fx.run_move(&format!("move-below/{}/{}", p(2), p(1)), "move-below", 2, 1).await);
    writer.wait_rows(20).await;
    runs.push(fx.run_move(&format!("repoint/{}", p(2)), "repoint", 2, 1).await);
    writer.wait_rows(20).await;
    runs.push(fx.run_move(&format!("repoint/{}/{}", p(3), p(0)), "repoint", 3, 0).await);
    writer.wait_rows(20).await;

    // Without GTID a cousin is out of reach: refused, and said why.
    let (status, body) = fx.api(&format!("relocate/{}/{}", p(2), p(3))).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["Details"]["Rule"], "too-complex", "{body}");

    let written = writer.stop().await;
    summarize(flavor, &runs);
    assert_continuity(&fx, &written).await;
    for (i, s) in [(1, 0), (2, 1), (3, 0)] {
        fx.assert_replicates(i, s).await;
    }
    fx.assert_audited(&[
        ("relocate", 3),
        ("relocate", 3),
        ("relocate", 2),
        ("move-below", 3),
        ("move-up", 2),
        ("move-up", 3),
        ("move-below", 2),
        ("repoint", 2),
        ("repoint", 3),
    ])
    .await;
    fx.node.stop().await;
}

fn summarize(flavor: SandboxFlavor, runs: &[Moved]) {
    let total: f64 = runs.iter().map(|r| r.millis).sum();
    eprintln!("[{flavor}] {} moves, {:.0} ms in all", runs.len(), total);
}
