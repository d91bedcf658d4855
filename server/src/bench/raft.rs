//! `orchestrator bench raft [trials]`: how long a raft cluster of three `orchestrator http`
//! processes is without a leader after kill -9 of the leader, and how fast a primary that dies
//! right after that leader change is replaced. Figures are printed, not asserted.
//!
//! The three nodes run as separate processes (`sandbox::nodes`, as `server/tests/raft.rs` starts
//! them); their stderr goes to `nodeN.log` in their temp dir (`RUST_LOG=warn`). Each trial:
//!
//! 1. starts three MariaDB servers (primary + two replicas), finds the raft leader (every live
//!    node names it in `/api/raft-status` and its `/api/leader-check` answers 200), discovers
//!    the primary through it and waits until every live node lists the three servers;
//! 2. begins a downtime of a replica through the leader (a replicated write), then kill -9 of
//!    the leader process (t0), and every 10 ms asks each surviving node to end that downtime
//!    (`/api/end-downtime/...`, a replicated write: a follower forwards it to the leader, and
//!    200 means a quorum committed it). The first 200 is "the new leader accepts writes";
//! 3. at once kill -9 of the primary (t1), then the replicas are polled every 10 ms until one
//!    reports `@@global.read_only = 0` (t2): recovery right after the leader change;
//! 4. waits for the recovery record to be complete, restarts the killed node on its data dir,
//!    and forgets the dead servers. The next trial starts fresh servers on other ports: another
//!    cluster name, so `RecoveryPeriodBlockSeconds` (per cluster, and per successor) of the
//!    previous recovery does not block it (ports reused from an earlier trial are refused).
//!
//! The downtime is begun before the leader dies and ended by the measured write so that no
//! replica is downtimed (vetoed as a promotion candidate) when the primary dies.
//!
//! Printed next to orchestrator's figures measured on this machine: 2.80 s (leader killed →
//! writes accepted) and 2.46 s (primary killed right after → a replica writable).
//!
//! With openraft 0.9 a follower that had a committed leader starts an election only after the
//! leader lease (`ELECTION_MAX`) plus its election timeout (`ELECTION_MIN`..`ELECTION_MAX`), so
//! (a) is bounded below by 1.5-2.0 s with the constants printed.

use super::stats;
use crate::raft::consensus::{ELECTION_MAX, ELECTION_MIN, HEARTBEAT};
use crate::sandbox::nodes::{name, NodeProcesses, NODES};
use crate::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape, TOPOLOGY_PASSWORD, TOPOLOGY_USER};
use app::model::InstanceKey;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::fmt::Display;
use std::future::Future;
use std::time::{Duration, Instant};

/// Every wait gives up after this long.
const WAIT: Duration = Duration::from_secs(30);
/// Polling interval of the measured waits.
const POLL: Duration = Duration::from_millis(10);
/// What a single request may take (a write waits for a quorum, `WRITE_TIMEOUT` 5 s).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(6);
const SECRET: &str = "bench-raft-secret-0123456789";

/// orchestrator's figures, measured on this machine.
const ORCHESTRATOR_LEADER: f64 = 2.80;
const ORCHESTRATOR_RECOVERY: f64 = 2.46;

pub async fn run(args: &[&str]) -> anyhow::Result<()> {
    let trials: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(5);
    anyhow::ensure!(trials > 0, "trials must be at least 1");
    println!("bench raft: {NODES} `orchestrator http` processes (raft), 3 MariaDB servers per trial, {trials} trials, InstancePollSeconds 1");
    println!(
        "raft timing in use: heartbeat {} ms, election timeout {}-{} ms",
        HEARTBEAT.as_millis(),
        ELECTION_MIN.as_millis(),
        ELECTION_MAX.as_millis()
    );
    let mut nodes = Nodes::start()?;
    println!("node logs: {}", nodes.dir().display());
    match trials_on(&mut nodes, trials).await {
        Ok(()) => Ok(()),
        Err(e) => {
            // Keep the logs for a look after the failure.
            let logs: Vec<String> = (0..NODES).map(|i| format!("  {}: {}", name(i), nodes.log_path(i).display())).collect();
            let dir = nodes.procs.keep().await;
            eprintln!("bench raft failed; the node logs are kept in {}:\n{}", dir.display(), logs.join("\n"));
            Err(e)
        }
    }
}

struct Trial {
    killed: usize,
    new_leader: usize,
    answered_by: usize,
    writes: Duration,
    /// kill -9 of the leader → a survivor's raft-status says "Leader".
    elected: Option<Duration>,
    writable: Duration,
    /// kill -9 of the primary → the recovery's start time in its record.
    recovery_started: Option<Duration>,
    successful: bool,
}

async fn trials_on(nodes: &mut Nodes, trials: usize) -> anyhow::Result<()> {
    let mut used_ports = BTreeSet::new();
    let mut results = Vec::new();
    for t in 1..=trials {
        let sb = fresh_sandbox(&mut used_ports).await?;
        let r = trial(nodes, &sb, t).await?;
        let secs = |d: Option<Duration>| d.map(|d| format!("{:.3} s", d.as_secs_f64())).unwrap_or_else(|| "?".into());
        println!(
            "  trial {t}: kill -9 of leader {}: {} reports State Leader after {}, writes accepted after {:.3} s (answered by {}); \
             primary killed: recovery started after {}, a replica writable after {:.3} s (recovery {})",
            name(r.killed),
            name(r.new_leader),
            secs(r.elected),
            r.writes.as_secs_f64(),
            name(r.answered_by),
            secs(r.recovery_started),
            r.writable.as_secs_f64(),
            if r.successful { "successful" } else { "NOT successful" }
        );
        let dead: Vec<InstanceKey> = (0..3).map(|i| sb.key(i)).collect();
        drop(sb);
        nodes.forget(&dead).await;
        results.push(r);
    }
    let (median_w, _, max_w) = stats(&mut results.iter().map(|r| r.writes).collect::<Vec<_>>());
    let (median_r, _, max_r) = stats(&mut results.iter().map(|r| r.writable).collect::<Vec<_>>());
    println!();
    println!("(a) kill -9 raft leader -> new leader accepts writes:          median {median_w:.3} s, max {max_w:.3} s");
    println!("(b) primary killed right after the leader change -> writable:  median {median_r:.3} s, max {max_r:.3} s");
    println!("    orchestrator, measured here: {ORCHESTRATOR_LEADER:.2} s / {ORCHESTRATOR_RECOVERY:.2} s");
    println!(
        "    (raft: heartbeat {} ms, election timeout {}-{} ms; {trials} trials)",
        HEARTBEAT.as_millis(),
        ELECTION_MIN.as_millis(),
        ELECTION_MAX.as_millis()
    );
    Ok(())
}

/// Three fresh servers on ports no earlier trial used: a new cluster name, never an earlier
/// recovery's successor.
async fn fresh_sandbox(used: &mut BTreeSet<u16>) -> anyhow::Result<Sandbox> {
    for _ in 0..5 {
        let sb = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 3, Shape::PrimaryWithReplicas)).await?;
        let ports: Vec<u16> = (0..3).map(|i| sb.key(i).port).collect();
        if ports.iter().all(|p| !used.contains(p)) {
            used.extend(ports);
            return Ok(sb);
        }
    }
    anyhow::bail!("five sandboxes in a row reused a port of an earlier trial")
}

async fn trial(nodes: &mut Nodes, sb: &Sandbox, t: usize) -> anyhow::Result<Trial> {
    let leader = nodes.leader().await?;
    nodes.discover(leader, sb).await?;
    let replica = sb.key(2);
    let begin = format!("begin-downtime/{}/{}/bench/raft-trial-{t}/1m", replica.hostname, replica.port);
    let end = format!("end-downtime/{}/{}", replica.hostname, replica.port);
    wait(format!("{} to accept a write before the kill{}", name(leader), nodes.look_at(&[leader])), || async {
        (nodes.get(leader, &begin).await.0 == 200).then_some(())
    })
    .await?;
    // Kept connections to the replicas, opened before anything is measured; both must be
    // read-only now, or the measurement below would mean nothing.
    let mut replicas = Vec::new();
    for r in [1, 2] {
        let mut c = sb.admin(r).await?;
        let rows = c.query("SELECT @@global.read_only").await?;
        anyhow::ensure!(rows.first().and_then(|row| row.at(0)) == Some("1"), "replica {} is writable before the primary was killed", sb.key(r));
        replicas.push((r, c));
    }

    // kill -9 of the leader process; the survivors are asked for a write every 10 ms.
    let t0 = nodes.kill(leader).await;
    let survivors = nodes.alive();
    let (writes, answered_by, elected) = nodes.first_write(&survivors, &end, t0).await?;

    // At once: kill -9 of the primary; the first replica that is writable.
    let killed_at = chrono::Utc::now();
    let t1 = Instant::now();
    sb.kill(0);
    let deadline = t1 + WAIT;
    let writable = loop {
        let mut found = None;
        for (r, c) in replicas.iter_mut() {
            if let Ok(rows) = c.query("SELECT @@global.read_only").await {
                if rows.first().and_then(|row| row.at(0)) == Some("0") {
                    found = Some(*r);
                    break;
                }
            }
        }
        if found.is_some() {
            break t1.elapsed();
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "no replica became writable within {} s of the primary's kill -9{}",
            WAIT.as_secs(),
            nodes.look_at(&survivors)
        );
        tokio::time::sleep(POLL).await;
    };
    for (_, c) in replicas {
        c.close().await;
    }

    let new_leader = nodes.leader().await?;
    // The recovery goes on after the promotion (re-pointing, its record): let it end before
    // the servers go away.
    let primary = sb.key(0);
    let record = wait(format!("the recovery of {primary} to be recorded as ended{}", nodes.look_at(&[new_leader])), || async {
        let (status, body) = nodes.get(new_leader, "audit-recovery").await;
        let list = body.as_array().cloned().unwrap_or_default();
        if status != 200 {
            return None;
        }
        list.into_iter().find(|r| r["FailedInstanceKey"]["Port"].as_u64() == Some(primary.port as u64) && r["IsRunning"] == false)
    })
    .await?;
    let started = record["RecoveryStartTimestamp"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    let recovery_started = started.and_then(|t| (t.with_timezone(&chrono::Utc) - killed_at).to_std().ok());
    let successful = record["IsSuccessful"] == true;

    nodes.spawn(leader)?;
    Ok(Trial { killed: leader, new_leader, answered_by, writes, elected, writable, recovery_started, successful })
}

/// Waits until `probe` gives a value, polling every `POLL`, at most `WAIT`.
async fn wait<T, F, Fut>(what: impl Display, mut probe: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = probe().await {
            return Ok(v);
        }
        anyhow::ensure!(Instant::now() < deadline, "timed out after {} s waiting for {what}", WAIT.as_secs());
        tokio::time::sleep(POLL).await;
    }
}

/// The cluster under measure, with the bench's waits around its probes.
struct Nodes {
    procs: NodeProcesses,
}

impl std::ops::Deref for Nodes {
    type Target = NodeProcesses;
    fn deref(&self) -> &NodeProcesses {
        &self.procs
    }
}

impl std::ops::DerefMut for Nodes {
    fn deref_mut(&mut self) -> &mut NodeProcesses {
        &mut self.procs
    }
}

impl Nodes {
    /// Three nodes recovering every cluster.
    fn start() -> anyhow::Result<Nodes> {
        let config = json!({
            "MySQLTopologyUser": TOPOLOGY_USER,
            "MySQLTopologyPassword": TOPOLOGY_PASSWORD,
            "MySQLHostnameResolveMethod": "none",
            "InstancePollSeconds": 1,
            "RecoverMasterClusterFilters": ["*"],
        });
        let procs = NodeProcesses::start(&std::env::current_exe()?, config, SECRET, &[("RUST_LOG", "warn")], REQUEST_TIMEOUT)?;
        Ok(Nodes { procs })
    }

    /// " (look at the log of nodeN <path>, ...)" for a failure message.
    fn look_at(&self, which: &[usize]) -> String {
        let logs: Vec<String> = which.iter().map(|&i| format!("{} {}", name(i), self.procs.log_path(i).display())).collect();
        format!(" (look at the log of {})", logs.join(", "))
    }

    /// The node every live node names as leader, once they all agree and it says so itself.
    async fn leader(&self) -> anyhow::Result<usize> {
        let alive = self.procs.alive();
        let names: Vec<String> = alive.iter().map(|&i| name(i)).collect();
        wait(format!("the live nodes ({}) to agree on one raft leader{}", names.join(", "), self.look_at(&alive)), || async {
            if let Some(&i) = self.procs.exited().first() {
                return Some(Err(anyhow::anyhow!("{} exited{}", name(i), self.look_at(&[i]))));
            }
            self.procs.agreed_leader().await.map(Ok)
        })
        .await?
    }

    /// Discovers the sandbox's primary through node `i`; waits until every live node lists the
    /// three servers with a valid last check.
    async fn discover(&self, i: usize, sb: &Sandbox) -> anyhow::Result<()> {
        let key = sb.key(0);
        let path = format!("discover/{}/{}", key.hostname, key.port);
        wait(format!("{} to discover {key}{}", name(i), self.look_at(&[i])), || async { (self.get(i, &path).await.0 == 200).then_some(()) }).await?;
        for n in self.procs.alive() {
            wait(format!("{} to list the 3 servers of {key}{}", name(n), self.look_at(&[n])), || async {
                self.procs.lists_cluster(n, &key, 3).await.then_some(())
            })
            .await?;
        }
        Ok(())
    }

    /// Asks every node in `survivors` for the write `path` every `POLL`, without waiting for
    /// earlier answers; returns the time from `t0` to the first 200, the node that gave it, and
    /// the time until one of them first reported itself raft leader (asked as often).
    async fn first_write(&self, survivors: &[usize], path: &str, t0: Instant) -> anyhow::Result<(Duration, usize, Option<Duration>)> {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (state_tx, mut state_rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
        let mut elected: Option<Instant> = None;
        let mut requests = tokio::task::JoinSet::new();
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let deadline = t0 + WAIT;
        loop {
            tokio::select! {
                Some((i, at)) = rx.recv() => {
                    requests.abort_all();
                    let at: Instant = at;
                    while let Ok(e) = state_rx.try_recv() {
                        elected = Some(elected.map_or(e, |x| x.min(e)));
                    }
                    return Ok((at.duration_since(t0), i, elected.map(|e| e.duration_since(t0))));
                }
                Some(at) = state_rx.recv() => {
                    elected = Some(elected.map_or(at, |x| x.min(at)));
                }
                _ = tick.tick() => {
                    anyhow::ensure!(
                        Instant::now() < deadline,
                        "no surviving node accepted a write within {} s of the leader's kill -9{}",
                        WAIT.as_secs(),
                        self.look_at(survivors)
                    );
                    for &i in survivors {
                        if elected.is_none() {
                            let (http, url, tx) = (self.client().clone(), self.url(i, "raft-status"), state_tx.clone());
                            requests.spawn(async move {
                                if let Ok(r) = http.get(url).send().await {
                                    if let Ok(status) = r.json::<Value>().await {
                                        if status["State"] == "Leader" {
                                            let _ = tx.send(Instant::now());
                                        }
                                    }
                                }
                            });
                        }
                        let (http, url, tx) = (self.client().clone(), self.url(i, path), tx.clone());
                        requests.spawn(async move {
                            if let Ok(r) = http.get(url).send().await {
                                if r.status().as_u16() == 200 {
                                    let _ = tx.send((i, Instant::now()));
                                }
                            }
                        });
                    }
                    // Reap the finished ones.
                    while requests.try_join_next().is_some() {}
                }
            }
        }
    }

    /// Forgets `keys` (dead servers of a finished trial) through any live node; a failure is
    /// only reported: the servers are gone either way.
    async fn forget(&self, keys: &[InstanceKey]) {
        for key in keys {
            let path = format!("forget/{}/{}", key.hostname, key.port);
            let alive = self.alive();
            let done = wait(format!("forget {key}"), || async {
                for &i in &alive {
                    let status = self.get(i, &path).await.0;
                    // 404: not known (any more).
                    if status == 200 || status == 404 {
                        return Some(());
                    }
                }
                None
            })
            .await;
            if let Err(e) = done {
                eprintln!("bench raft: {e} (ignored)");
            }
        }
    }
}
