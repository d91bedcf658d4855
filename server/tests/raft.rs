//! Three `orchestrator http` processes forming a raft cluster, as in the seed's environment: one
//! shared `config.json` and `raft.conf`, each node's identity (HTTP and raft addresses, data
//! directory) from environment variables. Checked from every node's own API and from the MySQL
//! servers: who leads, what was replicated, who recovered, and that a cut-off node neither leads
//! nor recovers, then catches up.
//!
//! Run with `cargo test -p server --test raft`.

mod common;

use common::{orchestrator_bin, run_cli, wait_for};
use serde_json::{json, Value};
use server::sandbox::nodes::{name, NodeProcesses, NODES};
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape, TOPOLOGY_PASSWORD, TOPOLOGY_USER};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const SECRET: &str = "raft-test-secret-0123456789";

/// The three node processes, with the tests' waits; on a failing test the nodes' log tails are
/// printed, and `RAFT_TEST_KEEP_LOGS=<dir>` keeps whole logs there.
struct Cluster {
    procs: NodeProcesses,
}

impl std::ops::Deref for Cluster {
    type Target = NodeProcesses;
    fn deref(&self) -> &NodeProcesses {
        &self.procs
    }
}

impl std::ops::DerefMut for Cluster {
    fn deref_mut(&mut self) -> &mut NodeProcesses {
        &mut self.procs
    }
}

impl Cluster {
    /// Starts three nodes from `config.json` (the base keys and `extra`) and `raft.conf`.
    async fn start(extra: Value) -> Cluster {
        let mut config = json!({
            "MySQLTopologyUser": TOPOLOGY_USER,
            "MySQLTopologyPassword": TOPOLOGY_PASSWORD,
            "MySQLHostnameResolveMethod": "none",
            "InstancePollSeconds": 1,
        });
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            config[k] = v;
        }
        // The second variable arms the fail point that cuts a node's raft traffic.
        let env = [("RUST_LOG", "warn,server=info"), ("ORCHESTRATOR_TEST_FAILPOINTS", "raft-isolate")];
        let procs = NodeProcesses::start(&orchestrator_bin(), config, SECRET, &env, Duration::from_secs(10)).expect("start three nodes");
        Cluster { procs }
    }

    /// Starts node `i` again, on its data directory.
    fn spawn(&mut self, i: usize) {
        self.procs.spawn(i).expect("start orchestrator http");
    }

    /// The node every live node names as leader, once they all agree and it says so itself.
    async fn leader(&self) -> usize {
        wait_for(WAIT, "the live nodes to agree on one raft leader", || self.procs.agreed_leader()).await
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..NODES {
            let log = self.log_path(i);
            if std::thread::panicking() {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(40).collect();
                eprintln!("---- {} log (last lines) ----\n{}", name(i), tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
            }
            if let (Some(keep), Some(file)) = (std::env::var_os("RAFT_TEST_KEEP_LOGS"), log.file_name()) {
                let _ = std::fs::create_dir_all(&keep);
                let _ = std::fs::copy(log, std::path::Path::new(&keep).join(file));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_elect_one_leader_and_refuse_raft_requests_without_the_secret() {
    let cluster = Cluster::start(json!({})).await;
    let leader = cluster.leader().await;
    let leader_addr = cluster.raft_addr(leader);
    for i in 0..3 {
        let (code, out, err) = run_cli(&cluster.base_url(i), &["-c", "raft-leader"]).await;
        assert_eq!(code, 0, "raft-leader on node{}: {err}", i + 1);
        assert_eq!(out.trim(), leader_addr, "raft-leader on node{}", i + 1);
        let (code, out, err) = run_cli(&cluster.base_url(i), &["-c", "raft-status"]).await;
        assert_eq!(code, 0, "raft-status on node{}: {err}", i + 1);
        let status: Value = serde_json::from_str(&out).expect("raft-status prints JSON");
        assert_eq!(status["Leader"], leader_addr.as_str());
        assert_eq!(status["State"], if i == leader { "Leader" } else { "Follower" });
        assert_eq!(status["Peers"].as_array().map(|p| p.len()), Some(3));
        let expected_check = if i == leader { 200 } else { 404 };
        assert_eq!(cluster.get(i, "leader-check").await.0, expected_check, "leader-check on node{}", i + 1);
        assert_eq!(cluster.get(i, "raft-health").await, (200, json!("healthy")));
    }

    // The raft port refuses requests that do not carry the cluster secret.
    let follower = (leader + 1) % 3;
    let raft = format!("http://{}", cluster.raft_addr(follower));
    let http = reqwest::Client::new();
    let vote = json!({ "vote": { "leader_id": { "term": 999, "node_id": 1 }, "committed": false }, "last_log_id": null });
    for secret in [None, Some("wrong-secret-wrong-secret")] {
        let mut req = http.post(format!("{raft}/raft/vote")).json(&vote);
        if let Some(s) = secret {
            req = req.header("X-Raft-Secret", s);
        }
        let resp = req.send().await.expect("raft port answers");
        assert_eq!(resp.status().as_u16(), 401, "a vote with secret {secret:?} must be refused");
        let mut req = http.post(format!("{raft}/raft/yield")).json(&json!({ "to": 1, "millis": 5000 }));
        if let Some(s) = secret {
            req = req.header("X-Raft-Secret", s);
        }
        assert_eq!(req.send().await.expect("raft port answers").status().as_u16(), 401, "a yield with secret {secret:?} must be refused");
    }
    // Who a node is, it tells anyone; that it knows the secret, it proves without sending it.
    let whoami: Value = http.get(format!("{raft}/raft/whoami?nonce=00112233445566778899aabbccddeeff")).send().await.unwrap().json().await.unwrap();
    assert!(!whoami.to_string().contains(SECRET), "whoami does not reveal the secret: {whoami}");
    assert_eq!(whoami["raft"], cluster.raft_addr(follower).as_str());
    // Nothing changed: same leader, same term on the follower.
    assert_eq!(cluster.leader().await, leader);
    let (_, status) = cluster.get(follower, "raft-status").await;
    assert!(status["Term"].as_u64().unwrap_or(0) < 999, "the refused vote did not raise the term: {status}");

    // raft-elect-leader hands leadership to a named follower, asked through another node.
    let elect = (leader + 2) % 3;
    let (code, out, err) = run_cli(&cluster.base_url(follower), &["-c", "raft-elect-leader", "-i", &cluster.raft_addr(elect)]).await;
    assert_eq!(code, 0, "raft-elect-leader: {out}{err}");
    assert_eq!(cluster.leader().await, elect, "the named node leads");
    let (code, _, err) = run_cli(&cluster.base_url(follower), &["-c", "raft-elect-leader", "-i", "127.0.0.1:1"]).await;
    assert_eq!(code, 1, "electing a node that is not a peer fails");
    assert!(err.contains("not a raft peer"), "{err}");
}

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 3, Shape::PrimaryWithReplicas)).await.expect("sandbox starts")
}

/// Discovers the sandbox through node `i` and waits until every live node sees 3 members.
async fn discover(cluster: &Cluster, i: usize, sb: &Sandbox) {
    let key = sb.key(0);
    let (status, body) = cluster.get(i, &format!("discover/{}/{}", key.hostname, key.port)).await;
    assert_eq!(status, 200, "discover through node{}: {body}", i + 1);
    for n in cluster.alive() {
        wait_for(WAIT, &format!("node{} to see the 3 servers", n + 1), || async { cluster.lists_cluster(n, &key, 3).await.then_some(()) }).await;
    }
}

/// The servers node `i` lists as downtimed (none while it does not answer: it may be starting).
async fn downtimed(cluster: &Cluster, i: usize) -> Vec<String> {
    let (status, body) = cluster.get(i, "downtimed").await;
    if status != 200 {
        return Vec::new();
    }
    let list = body.as_array().cloned().unwrap_or_default();
    list.iter().map(|d| format!("{}:{}", d["Key"]["Hostname"].as_str().or(d["Hostname"].as_str()).unwrap_or(""), d["Key"]["Port"].as_u64().or(d["Port"].as_u64()).unwrap_or(0))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downtime_through_a_follower_reaches_every_node_and_survives_the_leader() {
    let sb = sandbox().await;
    let mut cluster = Cluster::start(json!({})).await;
    let leader = cluster.leader().await;
    let follower = (leader + 1) % 3;
    discover(&cluster, follower, &sb).await;
    let target = sb.key(2);

    // Through a follower: forwarded to the leader, answered as the leader answers.
    let (status, body) = cluster.get(follower, &format!("begin-downtime/{}/{}/dba/maintenance-window/1h", target.hostname, target.port)).await;
    assert_eq!(status, 200, "begin-downtime through a follower: {body}");
    for i in 0..3 {
        wait_for(WAIT, &format!("node{} to list the downtime", i + 1), || async {
            downtimed(&cluster, i).await.contains(&target.to_string()).then_some(())
        })
        .await;
    }

    cluster.kill(leader).await;
    let new_leader = cluster.leader().await;
    assert_ne!(new_leader, leader);
    for i in cluster.alive() {
        assert!(downtimed(&cluster, i).await.contains(&target.to_string()), "node{} still lists the downtime after the leader died", i + 1);
    }
    // A write through the surviving follower reaches the new leader.
    let survivor = cluster.alive().into_iter().find(|&i| i != new_leader).unwrap();
    let other = sb.key(1);
    let (status, body) = cluster.get(survivor, &format!("begin-downtime/{}/{}/dba/second/1h", other.hostname, other.port)).await;
    assert_eq!(status, 200, "a write through a follower after the leader change: {body}");

    // The killed node comes back and catches up with what happened while it was away.
    cluster.spawn(leader);
    wait_for(WAIT, "the restarted node to hold both downtimes", || async {
        let list = downtimed(&cluster, leader).await;
        (list.contains(&target.to_string()) && list.contains(&other.to_string())).then_some(())
    })
    .await;
}

/// Recoveries listed by node `i` (replicated records).
async fn recoveries(cluster: &Cluster, i: usize) -> Vec<Value> {
    let (status, body) = cluster.get(i, "audit-recovery").await;
    assert_eq!(status, 200, "audit-recovery on node{}: {body}", i + 1);
    body.as_array().cloned().unwrap_or_default()
}

/// Recoveries node `i` ran itself (its own audit log is not replicated).
async fn ran_here(cluster: &Cluster, i: usize) -> usize {
    let (_, body) = cluster.get(i, "audit").await;
    body.as_array().cloned().unwrap_or_default().iter().filter(|a| a["AuditType"] == "recover-dead-master").count()
}

async fn writable(sb: &Sandbox, i: usize) -> bool {
    match sb.query(i, "SELECT @@global.read_only").await {
        Ok(rows) => rows.first().and_then(|r| r.at(0)) == Some("0"),
        Err(_) => false,
    }
}

async fn promoted(sb: &Sandbox) -> usize {
    wait_for(WAIT, "a replica to become writable", || async {
        for r in [1, 2] {
            if writable(sb, r).await {
                return Some(r);
            }
        }
        None
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_leader_dies_the_new_leader_alone_recovers_a_dead_primary() {
    let sb = sandbox().await;
    let mut cluster = Cluster::start(json!({ "RecoverMasterClusterFilters": ["*"] })).await;
    let leader = cluster.leader().await;
    discover(&cluster, leader, &sb).await;

    cluster.kill(leader).await;
    let new_leader = cluster.leader().await;
    sb.kill(0);
    let promoted = promoted(&sb).await;
    let survivors = cluster.alive();
    for &i in &survivors {
        wait_for(WAIT, &format!("node{} to hold the recovery record", i + 1), || async {
            let list = recoveries(&cluster, i).await;
            list.iter().any(|r| r["IsRunning"] == false).then_some(())
        })
        .await;
    }
    // One promotion, one record, run by the new leader.
    assert!(!writable(&sb, 3 - promoted).await, "exactly one writable server");
    for &i in &survivors {
        let list = recoveries(&cluster, i).await;
        assert_eq!(list.len(), 1, "node{} lists exactly one recovery: {list:?}", i + 1);
        assert_eq!(list[0]["IsSuccessful"], true);
        assert_eq!(list[0]["SuccessorKey"]["Port"].as_u64(), Some(sb.key(promoted).port as u64));
    }
    assert_eq!(ran_here(&cluster, new_leader).await, 1, "the new leader ran the recovery");
    let follower = survivors.iter().copied().find(|&i| i != new_leader).unwrap();
    assert_eq!(ran_here(&cluster, follower).await, 0, "the follower ran none");

    // An acknowledgement given on the follower counts on every node (orchestrator issue #410).
    let (status, body) = cluster.get(follower, "ack-all-recoveries?comment=checked%20by%20the%20DBA").await;
    assert_eq!(status, 200, "ack through a follower: {body}");
    for &i in &survivors {
        wait_for(WAIT, &format!("node{} to hold the acknowledgement", i + 1), || async {
            let list = recoveries(&cluster, i).await;
            (list[0]["Acknowledged"] == true && list[0]["AcknowledgedComment"] == "checked by the DBA").then_some(())
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_off_node_neither_leads_nor_recovers_and_catches_up_when_back() {
    let sb = sandbox().await;
    let cluster = Cluster::start(json!({ "RecoverMasterClusterFilters": ["*"] })).await;
    let leader = cluster.leader().await;
    discover(&cluster, leader, &sb).await;
    let cut = (leader + 1) % 3;

    // Cut its raft traffic both ways (a fail point the test processes arm).
    let (status, body) = cluster.get(cut, "raft-test/isolate/1").await;
    assert_eq!(status, 200, "isolate: {body}");
    wait_for(WAIT, "the cut-off node to report that it is not healthy", || async {
        (cluster.get(cut, "raft-health").await.0 == 500).then_some(())
    })
    .await;
    assert_eq!(cluster.get(cut, "leader-check").await.0, 404, "the cut-off node is not the leader");

    // The primary dies: the majority side recovers; the cut-off node, which still probes the
    // servers and sees the failure, recovers nothing.
    sb.kill(0);
    let promoted = promoted(&sb).await;
    wait_for(WAIT, "the leader to record the recovery", || async {
        recoveries(&cluster, leader).await.iter().any(|r| r["IsRunning"] == false).then_some(())
    })
    .await;
    let (_, analysis) = cluster.get(cut, "replication-analysis").await;
    eprintln!("cut-off node's analysis: {analysis}");
    assert_eq!(ran_here(&cluster, cut).await, 0, "the cut-off node ran no recovery");
    assert!(recoveries(&cluster, cut).await.is_empty(), "the cut-off node has not heard of the recovery yet");
    assert_ne!(cluster.get(cut, "raft-state").await.1, json!("Leader"));
    assert_eq!(cluster.get(cut, "leader-check").await.0, 404);

    // Reconnected, it catches up: the same record, and a healthy follower again.
    let (status, _) = cluster.get(cut, "raft-test/isolate/0").await;
    assert_eq!(status, 200);
    wait_for(WAIT, "the reconnected node to hold the recovery record", || async {
        let list = recoveries(&cluster, cut).await;
        (list.len() == 1 && list[0]["SuccessorKey"]["Port"].as_u64() == Some(sb.key(promoted).port as u64)).then_some(())
    })
    .await;
    wait_for(WAIT, "the reconnected node to be healthy", || async { (cluster.get(cut, "raft-health").await.0 == 200).then_some(()) }).await;
    assert_eq!(ran_here(&cluster, cut).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_with_an_empty_data_dir_rejoins_with_the_same_state() {
    let sb = sandbox().await;
    let mut cluster = Cluster::start(json!({})).await;
    let leader = cluster.leader().await;
    discover(&cluster, leader, &sb).await;
    let target = sb.key(1);
    let (status, body) = cluster.get(leader, &format!("begin-downtime/{}/{}/dba/rejoin/1h", target.hostname, target.port)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = cluster.get(leader, "disable-global-recoveries").await;
    assert_eq!(status, 200, "{body}");
    // A snapshot on the leader, which purges the log before it: the rejoining node can only be
    // brought up to date by being sent the snapshot.
    assert_eq!(cluster.get(leader, "raft-snapshot").await.0, 200);
    wait_for(WAIT, "the leader's snapshot", || async { cluster.get(leader, "raft-status").await.1["SnapshotIndex"].as_u64() }).await;

    let gone = (leader + 1) % 3;
    cluster.kill(gone).await;
    std::fs::remove_dir_all(cluster.data_dir(gone)).expect("empty the data directory");
    cluster.spawn(gone);
    wait_for(WAIT, "the rejoined node to hold the downtime and the switch", || async {
        let down = downtimed(&cluster, gone).await.contains(&target.to_string());
        let (_, switch) = cluster.get(gone, "check-global-recoveries").await;
        (down && switch.to_string().contains("disabled")).then_some(())
    })
    .await;
    let (_, leader_status) = cluster.get(leader, "raft-status").await;
    wait_for(WAIT, "the rejoined node to have applied what the leader applied", || async {
        let (_, s) = cluster.get(gone, "raft-status").await;
        (s["LastApplied"].as_u64() >= leader_status["LastApplied"].as_u64() && s["State"] == "Follower").then_some(())
    })
    .await;
    let (_, rejoined) = cluster.get(gone, "raft-status").await;
    assert!(rejoined["SnapshotIndex"].as_u64().is_some(), "the rejoined node installed the leader's snapshot: {rejoined}");
}
