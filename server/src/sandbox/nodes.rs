//! Three `orchestrator http` processes forming a raft cluster on loopback, as the seed runs
//! them: one `config.json` and one `raft.conf` in a temp dir, each node's identity (HTTP and
//! raft addresses, data directory) from the environment, its stderr in `nodeN.log` there. Used
//! by the raft tests and `orchestrator bench raft`, which add their own waits around the probes
//! here. Dropping it kills the processes and removes the directory.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Nodes in the cluster.
pub const NODES: usize = 3;

/// One node process.
struct Proc {
    child: Option<tokio::process::Child>,
    http: u16,
    raft: u16,
    data: PathBuf,
    log: PathBuf,
}

/// The running cluster.
pub struct NodeProcesses {
    dir: tempfile::TempDir,
    binary: PathBuf,
    config: PathBuf,
    env: Vec<(String, String)>,
    procs: Vec<Proc>,
    client: reqwest::Client,
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `nodeN`, 1-based, as the logs are named.
pub fn name(i: usize) -> String {
    format!("node{}", i + 1)
}

impl NodeProcesses {
    /// Writes `config` as `config.json` and a `raft.conf` naming the three nodes with `secret`,
    /// then starts `binary http` three times with `env` added to each node's environment.
    /// `request_timeout` bounds each request of `get`.
    pub fn start(binary: &Path, config: Value, secret: &str, env: &[(&str, &str)], request_timeout: Duration) -> std::io::Result<NodeProcesses> {
        let dir = tempfile::tempdir()?;
        let mut procs = Vec::new();
        for i in 0..NODES {
            let (data, log) = (dir.path().join(name(i)), dir.path().join(format!("{}.log", name(i))));
            procs.push(Proc { child: None, http: free_port()?, raft: free_port()?, data, log });
        }
        let config_path = dir.path().join("config.json");
        std::fs::write(&config_path, serde_json::to_string_pretty(&config)?)?;
        let raft = json!({
            "RaftEnabled": true,
            // Each node's own data dir comes from ORCHESTRATOR_RAFT_DATA_DIR.
            "RaftDataDir": "/var/lib/orchestrator",
            "DefaultRaftPort": 10008,
            "RaftNodes": procs.iter().map(|p| format!("127.0.0.1:{}", p.raft)).collect::<Vec<_>>(),
            "RaftSecret": secret,
        });
        std::fs::write(dir.path().join("raft.conf"), serde_json::to_string_pretty(&raft)?)?;
        let client = reqwest::Client::builder().timeout(request_timeout).no_proxy().build().map_err(std::io::Error::other)?;
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut nodes = NodeProcesses { dir, binary: binary.to_path_buf(), config: config_path, env, procs, client };
        for i in 0..NODES {
            nodes.spawn(i)?;
        }
        Ok(nodes)
    }

    /// Starts node `i` (again, on the same data dir).
    pub fn spawn(&mut self, i: usize) -> std::io::Result<()> {
        let p = &self.procs[i];
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&p.log)?;
        let child = tokio::process::Command::new(&self.binary)
            .args(["http", "--config"])
            .arg(&self.config)
            .env("ORCHESTRATOR_LISTEN_ADDRESS", format!("127.0.0.1:{}", p.http))
            .env("ORCHESTRATOR_RAFT_BIND", self.raft_addr(i))
            .env("ORCHESTRATOR_RAFT_DATA_DIR", &p.data)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()?;
        self.procs[i].child = Some(child);
        Ok(())
    }

    /// kill -9 of node `i`; returns when the signal was sent (the process is reaped after).
    pub async fn kill(&mut self, i: usize) -> Instant {
        let mut at = Instant::now();
        if let Some(mut c) = self.procs[i].child.take() {
            at = Instant::now();
            let _ = c.start_kill();
            let _ = c.wait().await;
        }
        at
    }

    /// Nodes started and not killed.
    pub fn alive(&self) -> Vec<usize> {
        (0..NODES).filter(|&i| self.procs[i].child.is_some()).collect()
    }

    /// Started nodes whose process has exited (a zombie not reaped yet).
    pub fn exited(&self) -> Vec<usize> {
        (0..NODES)
            .filter(|&i| {
                let Some(pid) = self.procs[i].child.as_ref().and_then(|c| c.id()) else { return false };
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()).unwrap_or("Z");
                state == "Z" || state == "X"
            })
            .collect()
    }

    /// `http://127.0.0.1:<port>` of node `i`'s API.
    pub fn base_url(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.procs[i].http)
    }

    /// The URL of `/api/<path>` on node `i`.
    pub fn url(&self, i: usize, path: &str) -> String {
        format!("{}/api/{path}", self.base_url(i))
    }

    /// Node `i`'s advertised raft address.
    pub fn raft_addr(&self, i: usize) -> String {
        format!("127.0.0.1:{}", self.procs[i].raft)
    }

    pub fn data_dir(&self, i: usize) -> &Path {
        &self.procs[i].data
    }

    pub fn log_path(&self, i: usize) -> &Path {
        &self.procs[i].log
    }

    /// The directory holding the configuration, data directories and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Kills every node and keeps the directory (for a look at the logs); returns its path.
    pub async fn keep(mut self) -> PathBuf {
        for i in 0..NODES {
            self.kill(i).await;
        }
        self.dir.keep()
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// GET `/api/<path>` on node `i`: its status and JSON body (status 0 when it did not answer).
    pub async fn get(&self, i: usize, path: &str) -> (u16, Value) {
        match self.client.get(self.url(i, path)).send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                let text = r.text().await.unwrap_or_default();
                (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
            }
            Err(e) => (0, Value::String(e.to_string())),
        }
    }

    /// The node every live node names as leader in `raft-status`, if they all agree and its
    /// `leader-check` answers 200; one probe, for the callers' own waits.
    pub async fn agreed_leader(&self) -> Option<usize> {
        let alive = self.alive();
        let mut named = Vec::new();
        for &i in &alive {
            let (status, body) = self.get(i, "raft-status").await;
            if status != 200 {
                return None;
            }
            named.push(body["Leader"].as_str().unwrap_or("").to_string());
        }
        let first = named.first()?.clone();
        if first.is_empty() || named.iter().any(|n| *n != first) {
            return None;
        }
        let i = alive.iter().copied().find(|&i| self.raft_addr(i) == first)?;
        (self.get(i, "leader-check").await.0 == 200).then_some(i)
    }

    /// Whether node `i` lists `count` members of the cluster of `key`, each last checked fine.
    pub async fn lists_cluster(&self, i: usize, key: &app::model::InstanceKey, count: usize) -> bool {
        let (status, body) = self.get(i, &format!("cluster/{key}")).await;
        let members = body.as_array().cloned().unwrap_or_default();
        status == 200 && members.len() == count && members.iter().all(|m| m["IsLastCheckValid"] == true)
    }
}
