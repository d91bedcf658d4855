//! Several-replica operations on GTID replicas (Oracle auto-position, MariaDB slave_pos), with a
//! writer inserting rows on the primary before, between and after them.
//!
//! Starting shape: 0 ← 1 ← {2, 3}, 0 ← 4.

use crate::common::run_cli;
use crate::support::{assert_continuity, Fixture, Writer};
use serde_json::json;
use server::sandbox::{SandboxFlavor, Shape};

pub async fn gtid_operations_keep_every_row(flavor: SandboxFlavor) {
    let fx = Fixture::start(flavor, 5, Shape::IntermediatePrimary, true, json!({})).await;
    let writer = Writer::start(&fx).await;
    let p = |i| fx.path(i);
    let n = |i| fx.name(i);

    fx.candidate(1, &[2, 3]).await;

    // move-up-replicas: GTID replicas just move; their source is not even stopped.
    let report = fx.run(&format!("move-up-replicas/{}", p(1)), "gtid", &[None, Some(0), Some(0), Some(0), Some(0)]).await;
    let steps = report["Steps"].as_array().cloned().unwrap_or_default();
    assert!(steps.iter().all(|s| s["Server"]["Port"] != fx.port(1)), "{} should not be touched: {report}", n(1));
    writer.wait_rows(20).await;

    // relocate-replicas with a pattern: 2 and 3 below 1, 4 stays.
    let pattern = format!(":({}|{})$", fx.port(2), fx.port(3));
    let args = ["-c", "relocate-replicas", "-i", &n(0), "-d", &n(1), "--pattern", &pattern];
    let mut lines = fx.cli(&args, &[None, Some(0), Some(1), Some(1), Some(0)]).await;
    lines.sort();
    let mut expected = [format!("{}<{}", n(2), n(1)), format!("{}<{}", n(3), n(1))];
    expected.sort();
    assert_eq!(lines, expected);
    writer.wait_rows(20).await;

    fx.run(&format!("move-replicas-gtid/{}/{}", p(1), p(4)), "gtid", &[None, Some(0), Some(4), Some(4), Some(0)]).await;
    writer.wait_rows(20).await;
    fx.cli(&["-c", "repoint-replicas", "-i", &n(4)], &[None, Some(0), Some(4), Some(4), Some(0)]).await;
    writer.wait_rows(20).await;
    fx.run(&format!("take-siblings/{}", p(2)), "gtid", &[None, Some(0), Some(4), Some(2), Some(0)]).await;
    writer.wait_rows(20).await;
    // 3 takes its source 2: 3 below 4, 2 below 3.
    fx.cli(&["-c", "take-master", "-i", &n(3)], &[None, Some(0), Some(3), Some(4), Some(0)]).await;
    writer.wait_rows(20).await;

    // regroup-replicas of the primary: the better of 1 and 4 takes the other.
    fx.candidate(0, &[1, 4]).await;
    let path = format!("regroup-replicas/{}", p(0));
    let report = fx.run_only(&path, "gtid").await;
    let want = match (fx.moved_below(&report, 1), fx.moved_below(&report, 4)) {
        (Some(4), None) => vec![None, Some(4), Some(3), Some(4), Some(0)],
        (None, Some(1)) => vec![None, Some(0), Some(3), Some(4), Some(1)],
        other => panic!("regroup should move one of 1 and 4 below the other, moved {other:?}: {report}"),
    };
    fx.finish(&path, &report, &want).await;
    let chosen = if want[1] == Some(0) { 1 } else { 4 };
    writer.wait_rows(20).await;

    // Refusals: nothing changes, the rule is named.
    let message = fx.refused(&format!("take-master/{}", p(chosen)), "cluster-primary").await;
    assert!(message.contains("graceful-master-takeover"), "{message}");
    fx.refused(&format!("move-replicas-gtid/{}/{}", p(4), p(2)), "descendant").await;
    fx.refused(&format!("take-siblings/{}", p(0)), "not-replica").await;

    // A pattern that is not a regular expression is bad input: 400 naming it, CLI exit 2.
    let before = fx.channels().await;
    let (status, body) = fx.api(&format!("relocate-replicas/{}/{}?pattern=(", p(0), p(4))).await;
    assert_eq!(status, 400, "a broken pattern is the request's fault: {body}");
    assert_eq!(body["Details"]["Rule"], "invalid-pattern", "{body}");
    let (code, _, err) = run_cli(&fx.node.url, &["-c", "relocate-replicas", "-i", &n(0), "-d", &n(4), "--pattern", "("]).await;
    assert_eq!((code, err.trim().lines().count()), (2, 1), "one line, exit 2: {err}");
    assert!(err.contains("--pattern") && err.contains("regular expression"), "{err}");
    fx.assert_unchanged(&before, "a relocate-replicas with a broken pattern").await;

    let written = writer.stop().await;
    fx.summarize();
    assert_continuity(&fx, &written).await;
    fx.assert_topology(&want).await;
    fx.node.stop().await;
}
