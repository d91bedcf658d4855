//! Moving a replica keeps its channel's settings: credentials, TLS, connect retry, retry count,
//! heartbeat, the public-key option MySQL 9 needs (orchestrator dropped TLS options when it
//! re-pointed replicas; Percona had to fix it). Read from each server's own answers.

mod common;

use common::{replica_status, wait_for, TestNode};
use serde_json::json;
use server::mysql::ChangeSource;
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape};
use std::time::Duration;

/// The channel settings a move must not change, as the replica itself reports them.
async fn channel_settings(sandbox: &Sandbox, i: usize) -> Vec<(String, String)> {
    let row = replica_status(sandbox, i).await.expect("a replica");
    let mut out: Vec<(String, String)> = [
        "Master_User", "Source_User", "Connect_Retry", "Master_SSL_Allowed", "Source_SSL_Allowed",
        "Master_SSL_Verify_Server_Cert", "Source_SSL_Verify_Server_Cert", "Source_Retry_Count", "Get_Source_public_key",
    ]
    .iter()
    .filter_map(|c| row.get(&[c]).map(|v| (c.to_string(), v.to_string())))
    .collect();
    let heartbeat = if sandbox.flavor() == SandboxFlavor::MySql {
        common::scalar(sandbox, i, "SELECT Heartbeat FROM mysql.slave_master_info WHERE Channel_name = ''").await
    } else {
        let rows = sandbox.query(i, "SHOW GLOBAL STATUS LIKE 'Slave_heartbeat_period'").await.unwrap();
        rows.first().and_then(|r| r.at(1)).unwrap_or("").trim_end_matches('0').trim_end_matches('.').to_string()
    };
    out.push(("heartbeat".into(), heartbeat));
    out
}

async fn move_and_back(node: &TestNode, sandbox: &Sandbox, op: &str) {
    let (r, s, p) = (sandbox.key(2), sandbox.key(1), sandbox.key(0));
    for (target, source_index) in [(&s, 1), (&p, 0)] {
        let path = format!("{op}/{}/{}/{}/{}", r.hostname, r.port, target.hostname, target.port);
        let (status, body) = node.api(&path).await;
        assert_eq!(status, 200, "{path}: {body}");
        let port = sandbox.key(source_index).port.to_string();
        wait_for(Duration::from_secs(20), "the replica under its new source", || async {
            let row = replica_status(sandbox, 2).await?;
            let source_port = row.text(&["Source_Port", "Master_Port"]);
            let io = row.text(&["Replica_IO_Running", "Slave_IO_Running"]);
            (source_port == port && io == "Yes").then_some(())
        })
        .await;
        node.wait_cluster(&p.to_string(), 3).await;
    }
}

async fn settings_survive(flavor: SandboxFlavor, gtid: bool, op: &str) {
    let sandbox = Sandbox::start(SandboxOptions::new(flavor, 3, Shape::PrimaryWithReplicas).with_gtid(gtid)).await.unwrap();
    let d = sandbox.dialect();
    // Settings a DBA chose for this channel, different from every default.
    let custom = ChangeSource { connect_retry: Some(7), heartbeat_period: Some(3.0), retry_count: Some(1234), ..Default::default() };
    sandbox.exec(2, d.stop_replica()).await.unwrap();
    sandbox.exec(2, &d.change_source(&custom)).await.unwrap();
    sandbox.exec(2, d.start_replica()).await.unwrap();
    sandbox.wait_replicating(2, Duration::from_secs(20)).await.unwrap();
    let before = channel_settings(&sandbox, 2).await;
    assert!(before.contains(&("Connect_Retry".into(), "7".into())), "{before:?}");
    assert!(before.contains(&("heartbeat".into(), "3".into())), "{before:?}");

    let node = TestNode::start(json!({})).await;
    node.discover_cluster(&sandbox.key(0), 3).await;
    move_and_back(&node, &sandbox, op).await;
    assert_eq!(channel_settings(&sandbox, 2).await, before, "{flavor:?}: {op} changed the channel's settings");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gtid_moves_keep_the_channel_settings_on_mariadb() {
    settings_survive(SandboxFlavor::MariaDb, true, "relocate").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gtid_moves_keep_the_channel_settings_on_mysql() {
    settings_survive(SandboxFlavor::MySql, true, "relocate").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinate_moves_keep_the_channel_settings_on_mariadb() {
    settings_survive(SandboxFlavor::MariaDb, false, "relocate").await;
}
