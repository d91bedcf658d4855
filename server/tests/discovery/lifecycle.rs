//! What operators do to discovered servers: forget one, and name things (instance aliases from
//! `DetectInstanceAliasQuery`, a cluster alias that survives a node restart).

use super::support::{key_names, Fixture, WAIT};
use crate::common::{test_config, wait_for, TestNode};
use serde_json::{json, Value};
use server::sandbox::{SandboxFlavor, Shape};
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// orchestrator's `forget`: the row is deleted and the key is put in a "forget" cache for
/// 3 × InstancePollSeconds, so the crawl does not bring it straight back; after that it
/// reappears, because its replicas still name it as their source.
pub async fn a_forgotten_primary_returns_only_after_the_grace_period(flavor: SandboxFlavor) {
    let fx = Fixture::start(flavor, 3, Shape::PrimaryWithReplicas, json!({})).await;
    fx.discover_all_from(0).await;
    let poll = Duration::from_secs(test_config(fx.node.dir.path(), json!({}))["InstancePollSeconds"].as_u64().unwrap());
    let grace = poll * 3;

    let forgotten_at = Instant::now();
    let (status, body) = fx.node.api_post(&format!("forget/{}", fx.path(0))).await;
    assert_eq!((status, body["Code"].clone()), (200, json!("OK")), "{body}");
    let (status, _) = fx.node.api(&format!("instance/{}", fx.path(0))).await;
    assert_eq!(status, 404, "a forgotten instance is gone at once");

    // Each replica is probed every poll interval, and each of those probes would crawl to the
    // source it names: two probes of each replica without the primary coming back.
    let checks: RefCell<HashMap<usize, Vec<Value>>> = RefCell::new(HashMap::new());
    wait_for(WAIT, "two probes of each replica after the forget", || async {
        let (status, body) = fx.node.api(&format!("instance/{}", fx.path(0))).await;
        assert_eq!(
            status,
            404,
            "{} came back {:?} after forget, before the grace period: {body}",
            fx.name(0),
            forgotten_at.elapsed()
        );
        let checked =
            [fx.instance(1).await["LastCheckedTimestamp"].clone(), fx.instance(2).await["LastCheckedTimestamp"].clone()];
        let mut checks = checks.borrow_mut();
        for (r, checked) in [1, 2].into_iter().zip(checked) {
            let seen = checks.entry(r).or_default();
            if seen.last() != Some(&checked) {
                seen.push(checked);
            }
        }
        // The first value may predate the forget.
        checks.values().all(|seen| seen.len() >= 3).then_some(())
    })
    .await;
    assert!(forgotten_at.elapsed() < grace, "the check above ran past the grace period; make the poll interval longer");

    let back = wait_for(WAIT, "the forgotten primary to be rediscovered", || async {
        let (status, body) = fx.node.api(&format!("instance/{}", fx.path(0))).await;
        (status == 200 && body["IsLastCheckValid"] == true).then_some(forgotten_at.elapsed())
    })
    .await;
    println!("{flavor}: forgotten primary rediscovered after {back:?} (grace {grace:?})");
    assert!(back >= grace, "rediscovered after {back:?}, inside the {grace:?} grace period");
    assert!(back <= grace + poll * 2 + Duration::from_secs(2), "rediscovered only after {back:?}");
    fx.node.wait_cluster(&fx.name(0), 3).await;
}

const ALIAS_QUERY: &str = "SELECT CONCAT('mysql', @@global.server_id)";
/// A site query that fails on every server (no such table): it must not hide the alias, nor
/// fail the probe.
const BROKEN_DATA_CENTER_QUERY: &str = "SELECT dc FROM meta.no_such_table";

/// Instance aliases come from `DetectInstanceAliasQuery` on each server; a cluster alias set by
/// an operator reaches every member and is still there after the node restarts on its store.
pub async fn aliases_are_detected_and_a_cluster_alias_survives_a_restart(flavor: SandboxFlavor) {
    let config = json!({"DetectInstanceAliasQuery": ALIAS_QUERY, "DetectDataCenterQuery": BROKEN_DATA_CENTER_QUERY});
    let mut fx = Fixture::start(flavor, 3, Shape::PrimaryWithReplicas, config.clone()).await;
    fx.discover_all_from(0).await;
    for i in 0..3 {
        let expected = crate::common::scalar(&fx.sb, i, ALIAS_QUERY).await;
        assert_eq!(expected, fx.sb.server(i).name, "the sandbox names servers after their server_id");
        let inst = fx.wait_instance(i, "with its alias", |inst| inst["InstanceAlias"] != "").await;
        assert_eq!(inst["InstanceAlias"], expected);
        assert_eq!((inst["DataCenter"].clone(), inst["IsLastCheckValid"].clone()), (json!(""), json!(true)));
    }

    let cluster = fx.name(0);
    let (status, body) = fx.node.api_post(&format!("set-cluster-alias/{cluster}?alias=orders")).await;
    assert_eq!((status, body["Code"].clone()), (200, json!("OK")), "{body}");
    assert_members_have_alias(&fx.node, &cluster, "orders").await;

    // Restart on the same SQLite file: the observed cache and the alias come back from it.
    let store = fx.node.dir.path().join("orchestrator.sqlite3");
    fx.node.node.take().expect("node running").stop().await;
    let mut restart_config = config;
    restart_config["SQLite3DataFile"] = json!(store);
    let restarted = TestNode::start(restart_config).await;
    let old = std::mem::replace(&mut fx.node, restarted);
    restarted_node_lists(&fx, &cluster).await;
    assert_members_have_alias(&fx.node, &cluster, "orders").await;
    let (status, members) = fx.node.api("cluster/alias/orders").await;
    assert_eq!((status, key_names(&members)), (200, key_names(&json!((0..3).map(|i| fx.key_json(i)).collect::<Vec<_>>()))));
    drop(old); // its directory holds the store the new node uses
}

async fn restarted_node_lists(fx: &Fixture, cluster: &str) {
    let members = fx.node.wait_cluster(cluster, 3).await;
    for (i, m) in members.iter().enumerate() {
        assert!(m["InstanceAlias"].as_str().is_some_and(|a| a.starts_with("mysql")), "member {i} lost its alias: {m}");
    }
}

async fn assert_members_have_alias(node: &TestNode, cluster: &str, alias: &str) {
    let (status, members) = node.api(&format!("cluster/{cluster}")).await;
    assert_eq!(status, 200, "{members}");
    let members = members.as_array().expect("members").clone();
    assert_eq!(members.len(), 3);
    for m in members {
        assert_eq!(m["SuggestedClusterAlias"], alias, "{}", m["Key"]);
    }
}
