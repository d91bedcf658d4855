//! Failure analysis against real servers: a node started through `server::start` in front of a
//! primary with two replicas (MariaDB 10.11 and Oracle MySQL 9.x), broken on purpose with SQL,
//! SIGKILL and SIGSTOP. Every verdict is read through `/api/replication-analysis` (orchestrator's
//! envelope) and through `orchestrator -c replication-analysis`; every wait has a deadline.
//!
//! Run with `cargo test -p server --test analysis`. The MySQL flavor needs the root filesystem
//! of `scripts/prepare-mysql-rootfs.sh`.

mod common;

use common::{run_cli, wait_for, TestNode};
use serde_json::{json, Value};
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape};
use std::time::Duration;

/// Deadline for anything the node should notice within a few poll intervals (1 s here).
const WAIT: Duration = Duration::from_secs(30);

/// One test per flavor for each scenario: `<scenario>::mariadb` and `<scenario>::mysql`.
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
    stopped_replication_and_a_killed_primary => crate::stopped_replication_and_a_killed_primary;
    a_hung_primary_is_unreachable_not_dead => crate::a_hung_primary_is_unreachable_not_dead;
}

/// A primary (server 0) with two replicas, discovered by a fresh node.
struct Fixture {
    sb: Sandbox,
    node: TestNode,
}

impl Fixture {
    async fn start(flavor: SandboxFlavor, overrides: Value) -> Fixture {
        let sb = Sandbox::start(SandboxOptions::new(flavor, 3, Shape::PrimaryWithReplicas)).await.expect("sandbox starts");
        let node = TestNode::start(overrides).await;
        node.discover_cluster(&sb.key(0), 3).await;
        Fixture { sb, node }
    }

    fn name(&self, i: usize) -> String {
        self.sb.key(i).to_string()
    }

    async fn exec(&self, i: usize, sql: &str) {
        self.sb.exec(i, sql).await.unwrap_or_else(|e| panic!("{sql} on server {i}: {e}"));
    }

    /// `/api/<path>`: orchestrator's envelope, `Message: "Analysis"`; its entries.
    async fn analysis_at(&self, path: &str) -> Vec<Value> {
        let (status, body) = self.node.api(path).await;
        assert_eq!(status, 200, "GET /api/{path}: {body}");
        assert_eq!(body["Code"], "OK", "{body}");
        assert_eq!(body["Message"], "Analysis", "{body}");
        body["Details"].as_array().unwrap_or_else(|| panic!("Details should be an array: {body}")).clone()
    }

    async fn analysis(&self) -> Vec<Value> {
        self.analysis_at("replication-analysis").await
    }

    /// The entry about server `i`, if there is one.
    async fn entry(&self, i: usize) -> Option<Value> {
        let name = self.name(i);
        self.analysis().await.into_iter().find(|e| key_text(&e["AnalyzedInstanceKey"]) == name)
    }

    /// Waits until server `i`'s entry satisfies `ready`; returns it.
    async fn wait_entry(&self, i: usize, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
        wait_for(WAIT, &format!("{} {what}", self.name(i)), || async { self.entry(i).await.filter(|e| ready(e)) }).await
    }

    /// Waits until the node shows server `i` with both replication threads stopped.
    async fn wait_stopped(&self, i: usize) {
        let path = format!("instance/{}/{}", self.sb.key(i).hostname, self.sb.key(i).port);
        wait_for(WAIT, &format!("{} seen with replication stopped", self.name(i)), || async {
            let (_, inst) = self.node.api(&path).await;
            (inst["ReplicationIOThreadRuning"] == false && inst["ReplicationSQLThreadRuning"] == false).then_some(())
        })
        .await;
    }

    /// Waits until the analysis has nothing to say (every server fine again).
    async fn wait_clean(&self, what: &str) {
        wait_for(WAIT, what, || async { self.analysis().await.is_empty().then_some(()) }).await;
    }

    /// `orchestrator -c replication-analysis`: exit 0, nothing on stderr; the lines.
    async fn cli(&self, extra: &[&str]) -> Vec<String> {
        let mut args = vec!["-c", "replication-analysis"];
        args.extend_from_slice(extra);
        let (code, out, err) = run_cli(&self.node.url, &args).await;
        assert_eq!((code, err.as_str()), (0, ""), "replication-analysis failed");
        out.lines().map(str::to_string).collect()
    }

    /// Waits until the CLI prints exactly `expected` (in any order after the first line).
    async fn wait_cli(&self, expected: &[String]) {
        let want = first_then_sorted(expected.to_vec());
        wait_for(WAIT, &format!("the CLI to print {want:?}"), || async {
            (first_then_sorted(self.cli(&[]).await) == want).then_some(())
        })
        .await;
    }

    /// The line orchestrator prints for server `i`.
    fn line(&self, i: usize, what: &str) -> String {
        format!("{} (cluster {}): {what}", self.name(i), self.name(0))
    }
}

/// Primaries come first; servers with as many replicas follow in no particular order.
fn first_then_sorted(mut lines: Vec<String>) -> Vec<String> {
    let from = lines.len().min(1);
    lines[from..].sort();
    lines
}

fn key_text(v: &Value) -> String {
    format!("{}:{}", v["Hostname"].as_str().unwrap_or(""), v["Port"])
}

fn inputs(e: &Value) -> Vec<String> {
    e["Inputs"].as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// Replication stopped on one replica, then on both, then a single replica left and stopped;
/// then the primary killed: each time the code orchestrator's rules give, through the API and
/// the CLI.
async fn stopped_replication_and_a_killed_primary(flavor: SandboxFlavor) {
    let fx = Fixture::start(flavor, json!({})).await;
    let d = fx.sb.dialect();
    assert_eq!(fx.analysis().await, Vec::<Value>::new(), "a healthy topology has nothing to report");
    assert_eq!(fx.cli(&[]).await, Vec::<String>::new());

    // One replica stopped: the other still replicates, which no rule calls a problem.
    fx.exec(1, d.stop_replica()).await;
    fx.wait_stopped(1).await;
    assert_eq!(fx.entry(0).await, None, "one of two replicas stopped is not a failure (orchestrator's rules)");
    assert_eq!(fx.cli(&[]).await, Vec::<String>::new());

    // Both stopped: the primary is fine, none of its replicas replicates.
    fx.exec(2, d.stop_replica()).await;
    let e = fx.wait_entry(0, "with AllMasterReplicasNotReplicating", |e| e["Analysis"] == "AllMasterReplicasNotReplicating").await;
    assert_eq!(
        (&e["IsMaster"], &e["LastCheckValid"], &e["CountReplicas"], &e["CountValidReplicas"], &e["CountValidReplicatingReplicas"]),
        (&json!(true), &json!(true), &json!(2), &json!(2), &json!(0)),
        "{e}"
    );
    assert_eq!(e["ClusterDetails"]["ClusterName"], fx.name(0));
    assert_eq!(e["IsActionableRecovery"], false, "detection only");
    assert_eq!(e["SkippableDueToDowntime"], false);
    assert!(!e["ProcessingNodeToken"].as_str().unwrap_or("").is_empty(), "{e}");
    assert!(inputs(&e).contains(&"0 of 2 reachable replicas replicate from it".to_string()), "{e}");
    fx.wait_cli(&[fx.line(0, "AllMasterReplicasNotReplicating")]).await;
    // The same entry per cluster (name or member) and per instance; unknown names are 404.
    for path in [format!("replication-analysis/{}", fx.name(0)), format!("replication-analysis/{}", fx.name(2))] {
        let got = fx.analysis_at(&path).await;
        assert_eq!(got.len(), 1, "{path}: {got:?}");
        assert_eq!(got[0]["Analysis"], "AllMasterReplicasNotReplicating");
    }
    let (host, port) = (fx.sb.key(1).hostname, fx.sb.key(1).port);
    assert_eq!(fx.analysis_at(&format!("replication-analysis/instance/{host}/{port}")).await, Vec::<Value>::new());
    let (status, body) = fx.node.api("replication-analysis/no-such-cluster").await;
    assert_eq!((status, &body["Code"]), (404, &json!("ERROR")), "{body}");
    assert_eq!(fx.cli(&["-i", &fx.name(1)]).await, [fx.line(0, "AllMasterReplicasNotReplicating")]);

    // Server 2 leaves (RESET REPLICA ALL): the primary has a single replica, stopped.
    fx.exec(2, d.reset_replica_all()).await;
    let e = fx.wait_entry(0, "with MasterSingleReplicaNotReplicating", |e| e["Analysis"] == "MasterSingleReplicaNotReplicating").await;
    assert_eq!(e["CountReplicas"], 1, "{e}");
    fx.wait_cli(&[fx.line(0, "MasterSingleReplicaNotReplicating")]).await;

    // Everyone back: nothing to report.
    fx.exec(1, d.start_replica()).await;
    fx.sb.replicate(2, 0).await.expect("server 2 replicates from the primary again");
    fx.node.wait_cluster(&fx.name(0), 3).await;
    fx.wait_clean("the analysis to clear once both replicas replicate again").await;

    // The primary is killed: its replicas lose it too, so it is dead, not just unreachable.
    let killed = std::time::Instant::now();
    fx.sb.kill(0);
    let e = fx
        .wait_entry(0, "with DeadMaster, both replicas failing to connect", |e| {
            e["Analysis"] == "DeadMaster" && e["CountReplicasFailingToConnectToMaster"] == 2
        })
        .await;
    assert_eq!((&e["LastCheckValid"], &e["CountValidReplicas"], &e["CountValidReplicatingReplicas"]), (&json!(false), &json!(2), &json!(0)));
    assert_eq!(e["IsActionableRecovery"], true);
    assert_eq!(e["Description"], "Master cannot be reached by orchestrator and none of its replicas is replicating");
    let said = inputs(&e);
    println!("{flavor}: kill -9 -> DeadMaster in {:?}: {}", killed.elapsed(), said.join("; "));
    assert!(said.contains(&"2 of 2 reachable replicas cannot connect to the primary".to_string()), "{said:?}");
    assert!(said.iter().all(|s| !s.contains("repl@") && !s.contains("password")), "no error text or account: {said:?}");
    let mut replicas: Vec<String> = e["Replicas"].as_array().unwrap().iter().map(key_text).collect();
    replicas.sort();
    let mut expected = vec![fx.name(1), fx.name(2)];
    expected.sort();
    assert_eq!(replicas, expected);
    assert_eq!(e["SlaveHosts"], e["Replicas"]);
    // Each replica reports its own broken link too, as orchestrator does.
    fx.wait_cli(&[
        fx.line(0, "DeadMaster"),
        fx.line(1, "FirstTierReplicaFailingToConnectToMaster"),
        fx.line(2, "FirstTierReplicaFailingToConnectToMaster"),
    ])
    .await;
    fx.node.stop().await;
}

/// The primary stops answering (SIGSTOP) while its replicas keep their connections: only our
/// path to it looks cut, so it is UnreachableMaster, never DeadMaster, even after its probe
/// timed out; after SIGCONT the analysis clears.
async fn a_hung_primary_is_unreachable_not_dead(flavor: SandboxFlavor) {
    let fx = Fixture::start(flavor, json!({"MySQLDiscoveryReadTimeoutSeconds": 3})).await;
    let d = fx.sb.dialect();
    // The replicas give up on a silent source after `slave_net_timeout` (4 s in the sandbox);
    // a minute keeps them "replicating" for the whole test.
    let net_timeout = if flavor == SandboxFlavor::MySql { "replica_net_timeout" } else { "slave_net_timeout" };
    for i in [1, 2] {
        fx.exec(i, &format!("{}; SET GLOBAL {net_timeout} = 60; {}", d.stop_replica_io_thread(), d.start_replica_io_thread())).await;
        fx.sb.wait_replicating(i, WAIT).await.expect("replicating again");
    }
    fx.wait_clean("a healthy topology").await;

    let paused = std::time::Instant::now();
    fx.sb.pause(0);
    let e = fx.wait_entry(0, "with UnreachableMaster", |e| e["Analysis"] == "UnreachableMaster").await;
    println!("{flavor}: SIGSTOP -> UnreachableMaster in {:?}: {}", paused.elapsed(), inputs(&e).join("; "));
    assert_eq!((&e["LastCheckValid"], &e["CountValidReplicatingReplicas"]), (&json!(false), &json!(2)), "{e}");
    assert_eq!(e["IsActionableRecovery"], false, "no failover when only our path is cut");
    // Keep watching until the probe has failed outright (read timeout): the verdict never
    // turns to DeadMaster while the replicas still replicate.
    let path = format!("instance/{}/{}", fx.sb.key(0).hostname, fx.sb.key(0).port);
    wait_for(WAIT, "the hung primary's probe to time out", || async {
        let e = fx.entry(0).await.expect("an entry for the hung primary");
        assert_eq!(e["Analysis"], "UnreachableMaster", "{e}");
        let (_, inst) = fx.node.api(&path).await;
        (inst["IsLastCheckValid"] == false && !inst["LastProbeError"].as_str().unwrap_or("").is_empty()).then_some(())
    })
    .await;
    let e = fx.entry(0).await.expect("still reported");
    assert_eq!(e["Analysis"], "UnreachableMaster", "{e}");
    assert!(inputs(&e).contains(&"2 of 2 reachable replicas replicate from it".to_string()), "{e}");
    assert_eq!(fx.cli(&[]).await, [fx.line(0, "UnreachableMaster")]);

    fx.sb.resume(0);
    fx.wait_clean("the analysis to clear after SIGCONT").await;
    fx.node.stop().await;
}
