//! Shared test harness: a real node (through `server::start`, on a port-0 listener, with its
//! own SQLite file) in front of real servers from the sandbox, plus deadline-based waiting.
#![allow(dead_code)]

use serde_json::{json, Value};
use server::sandbox::{Sandbox, TOPOLOGY_PASSWORD, TOPOLOGY_USER};
use server::{start, Listeners, Node};
use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A node under test.
pub struct TestNode {
    pub node: Option<Node>,
    /// `http://127.0.0.1:<port>`
    pub url: String,
    pub dir: tempfile::TempDir,
    http: reqwest::Client,
}

/// The configuration every test node starts from; `overrides` replaces keys.
pub fn test_config(dir: &std::path::Path, overrides: Value) -> Value {
    let mut config = json!({
        "SQLite3DataFile": dir.join("orchestrator.sqlite3"),
        "MySQLTopologyUser": TOPOLOGY_USER,
        "MySQLTopologyPassword": TOPOLOGY_PASSWORD,
        "MySQLHostnameResolveMethod": "none",
        "InstancePollSeconds": 1,
    });
    if let (Some(base), Some(extra)) = (config.as_object_mut(), overrides.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    config
}

impl TestNode {
    pub async fn start(overrides: Value) -> TestNode {
        let dir = tempfile::tempdir().expect("temp dir");
        let text = test_config(dir.path(), overrides).to_string();
        let config = server::config::parse(&text, "test").expect("test configuration").config;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let node = start(config, Listeners { http: listener, raft: None }, CancellationToken::new()).await.expect("node starts");
        let url = format!("http://{}", node.addr);
        TestNode { node: Some(node), url, dir, http: reqwest::Client::new() }
    }

    pub fn node(&self) -> &Node {
        self.node.as_ref().expect("node running")
    }

    /// GET `/api/<path>`: status and JSON body.
    pub async fn api(&self, path: &str) -> (u16, Value) {
        let resp = self.http.get(format!("{}/api/{}", self.url, path)).send().await.expect("API reachable");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// POST `/api/<path>`.
    pub async fn api_post(&self, path: &str) -> (u16, Value) {
        let resp = self.http.post(format!("{}/api/{}", self.url, path)).send().await.expect("API reachable");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Discovers `key` and waits until its cluster lists `count` probed members.
    pub async fn discover_cluster(&self, key: &app::model::InstanceKey, count: usize) -> Vec<Value> {
        let (status, body) = self.api(&format!("discover/{}/{}", key.hostname, key.port)).await;
        assert_eq!(status, 200, "discover {key}: {body}");
        self.wait_cluster(&key.to_string(), count).await
    }

    /// Waits until the cluster `hint` lists exactly `count` members, each successfully probed.
    pub async fn wait_cluster(&self, hint: &str, count: usize) -> Vec<Value> {
        wait_for(Duration::from_secs(20), &format!("cluster {hint} with {count} probed members"), || async {
            let (status, body) = self.api(&format!("cluster/{hint}")).await;
            let members = body.as_array().cloned().unwrap_or_default();
            let complete = status == 200
                && members.len() == count
                && members.iter().all(|m| m["IsLastCheckValid"] == true && m["Version"] != "");
            complete.then_some(members)
        })
        .await
    }

    pub async fn stop(mut self) {
        if let Some(node) = self.node.take() {
            node.stop().await;
        }
    }
}

/// Polls `probe` until it returns `Some`, failing the test after `timeout`.
pub async fn wait_for<T, F, Fut>(timeout: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `node` has probed its servers `probes` more times: for checks that something
/// does NOT happen, the node's own progress bounds the window instead of a fixed sleep (its
/// recovery loop analyzes after every probe result, every 100 ms).
pub async fn wait_for_probes(node: &TestNode, probes: u64) {
    let count = || async { node.api("discovery-metrics").await.1["Probes"].as_u64().unwrap_or(0) };
    let from = count().await;
    wait_for(Duration::from_secs(60), &format!("{probes} more probes"), || async { (count().await >= from + probes).then_some(()) }).await;
}

/// The built `orchestrator` binary.
pub fn orchestrator_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_orchestrator"))
}

/// Runs `orchestrator <args>` against `api`; returns (exit status, stdout, stderr).
pub async fn run_cli(api: &str, args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(orchestrator_bin())
        .args(args)
        .env("ORCHESTRATOR_API", api)
        .env_remove("RUST_LOG")
        .output()
        .await
        .expect("run orchestrator");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One column of the server's own SHOW REPLICA/SLAVE STATUS (either column generation).
pub async fn replica_status(sandbox: &Sandbox, i: usize) -> Option<server::mysql::TextRow> {
    let sql = sandbox.dialect().show_replica_status();
    sandbox.query(i, sql).await.expect("replica status").into_iter().next()
}

/// The first column of the first row of `sql` on server `i`.
pub async fn scalar(sandbox: &Sandbox, i: usize, sql: &str) -> String {
    let rows = sandbox.query(i, sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.first().and_then(|r| r.at(0)).unwrap_or("").to_string()
}

/// Whether process `pid` is gone. A zombie (state Z) is dead too: its parent may be an init
/// that does not reap.
pub fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().next()) == Some("Z"),
    }
}
