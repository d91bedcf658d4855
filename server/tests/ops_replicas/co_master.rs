//! make-co-master on a primary with two replicas (0 ← {1, 2}): the primary joins as a replica of
//! a read-only replica, with credentials from `ReplicationCredentialsQuery` (MariaDB does not
//! reveal the channel's password), by GTID or at the replica's binlog position. Rows written on
//! the primary afterwards reach everyone and come back to the primary without breaking it.
//! Around it, take-master refuses the primary and a co-master.

use crate::support::{assert_continuity, Fixture, Writer};
use serde_json::json;
use server::sandbox::{SandboxFlavor, Shape, REPLICATION_PASSWORD, REPLICATION_USER};

async fn co_master(flavor: SandboxFlavor, gtid: bool) {
    let query = format!("SELECT '{REPLICATION_USER}', '{REPLICATION_PASSWORD}'");
    let fx = Fixture::start(flavor, 3, Shape::PrimaryWithReplicas, gtid, json!({ "ReplicationCredentialsQuery": query })).await;
    let writer = Writer::start(&fx).await;
    let p = |i| fx.path(i);
    let n = |i| fx.name(i);

    let message = fx.refused(&format!("take-master/{}", p(1)), "cluster-primary").await;
    assert!(message.contains("graceful-master-takeover"), "{message}");

    let path = format!("make-co-master/{}", p(1));
    let mechanism = if gtid { "gtid" } else { "" };
    let plan = fx.dry_run(&path, mechanism).await;
    let statements = plan["Steps"][0]["Statements"].to_string();
    assert!(statements.contains("****") && statements.contains(&fx.port(1).to_string()), "the join shows its statement, not the password: {plan}");
    let co_masters = [Some(1), Some(0), Some(0)];
    if gtid {
        fx.run(&path, mechanism, &co_masters).await;
    } else {
        assert_eq!(fx.cli(&["-c", "make-co-master", "-i", &n(1)], &co_masters).await, [format!("{}<{}", n(0), n(1))]);
    }
    writer.wait_rows(50).await;

    fx.refused(&format!("take-master/{}", p(2)), "co-master").await;
    fx.refused(&format!("take-master/{}", p(1)), "co-master").await;
    fx.refused(&format!("make-co-master/{}", p(2)), "co-master").await;

    let written = writer.stop().await;
    fx.summarize();
    assert_continuity(&fx, &written).await;
    // The primary got its own rows back through 1 and ignored them: still replicating.
    fx.assert_topology(&co_masters).await;
    fx.node.stop().await;
}

pub async fn co_master_by_gtid(flavor: SandboxFlavor) {
    co_master(flavor, true).await;
}

pub async fn co_master_by_coordinates(flavor: SandboxFlavor) {
    co_master(flavor, false).await;
}

/// Without `ReplicationCredentialsQuery`: Oracle MySQL's channel keeps the replication password
/// (`mysql.slave_master_info`), so the primary joins with it; MariaDB does not reveal it, so
/// the run fails before anything is changed and says what to configure.
pub async fn co_master_with_the_channels_credentials(flavor: SandboxFlavor) {
    let fx = Fixture::start(flavor, 3, Shape::PrimaryWithReplicas, true, json!({})).await;
    let writer = Writer::start(&fx).await;
    let path = format!("make-co-master/{}", fx.path(1));
    let co_masters = [Some(1), Some(0), Some(0)];
    let written = if flavor == SandboxFlavor::MySql {
        fx.run(&path, "gtid", &co_masters).await;
        writer.wait_rows(50).await;
        writer.stop().await
    } else {
        let before = fx.channels().await;
        let (status, body) = fx.api(&path).await;
        assert_eq!(status, 502, "{body}");
        let error = body["Details"]["Error"].as_str().unwrap_or_default();
        assert!(error.contains("ReplicationCredentialsQuery"), "the failure says what to configure: {body}");
        fx.assert_unchanged(&before, "a make-co-master that could not read credentials").await;
        fx.assert_topology(&[None, Some(0), Some(0)]).await;
        writer.wait_rows(50).await;
        writer.stop().await
    };
    assert_continuity(&fx, &written).await;
    fx.node.stop().await;
}
