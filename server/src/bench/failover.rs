//! `orchestrator bench failover [mariadb|mysql] [trials]`: how fast a dead or hung primary is
//! replaced and what an application loses, against real servers, printed per trial and as
//! medians. Each trial starts its own three servers (primary + two replicas, GTID) and a node
//! with orchestrator's defaults (InstancePollSeconds 5) plus `RecoverMasterClusterFilters: *`.
//! An application writes one row per transaction at a steady 500 rows/s as a user without
//! SUPER, to whichever server is writable (one kept connection per server, 2 s timeouts).
//!
//! 1. kill -9 of the primary → detected, a replica writable (orchestrator here: 1.89 s at
//!    InstancePollSeconds 1, 5.49 s at 5), the other replica re-pointed; the writer's gap;
//!    acknowledged rows missing on the new primary, and of those the ones a replica held right
//!    after the kill (a recovery must lose none of these).
//! 2. The same for SIGSTOP of the primary (the replicas notice after their replica_net_timeout,
//!    4 s in the sandbox); then SIGCONT → the old primary read-only.
//! 3. graceful-master-takeover → the application's longest write gap (orchestrator: 0.088 s);
//!    acknowledged rows missing (must be 0).

use super::stats;
use crate::mysql::TextConn;
use crate::node::{start, Listeners, Node};
use crate::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape, REPLICATION_PASSWORD, REPLICATION_USER, TOPOLOGY_PASSWORD, TOPOLOGY_USER};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const DEADLINE: Duration = Duration::from_secs(60);

/// The application's steady write rate: one row per interval (500 rows/s).
const WRITE_INTERVAL: Duration = Duration::from_millis(2);

pub async fn run(args: &[&str]) -> anyhow::Result<()> {
    let flavor = args.first().and_then(|a| SandboxFlavor::parse(a)).unwrap_or(SandboxFlavor::MariaDb);
    let trials: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(5);
    println!(
        "bench failover: {} servers, {trials} trials of each, InstancePollSeconds 5 (the default), writer at {} rows/s",
        flavor.name(),
        1000 / WRITE_INTERVAL.as_millis().max(1)
    );
    let (mut killed, mut stopped, mut fenced, mut gaps) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut lost_graceful = 0usize;
    for t in 1..=trials {
        let trial = Trial::start(flavor).await?;
        let f = trial.fail_primary(How::Kill).await?;
        println!("  trial {t}: kill -9: {}", f.line());
        killed.push(f);
        trial.stop().await;

        let trial = Trial::start(flavor).await?;
        let f = trial.fail_primary(How::Stop).await?;
        println!("  trial {t}: SIGSTOP: {}; SIGCONT -> old primary read-only {:.3} s", f.line(), f.fenced.as_secs_f64());
        fenced.push(f.fenced);
        stopped.push(f);
        trial.stop().await;

        let trial = Trial::start(flavor).await?;
        let (gap, lost) = trial.graceful().await?;
        println!("  trial {t}: graceful-master-takeover: write gap {:.3} s, {lost} acknowledged rows lost", gap.as_secs_f64());
        gaps.push(gap);
        lost_graceful += lost;
        trial.stop().await;
    }
    let line = |what: &str, v: &mut Vec<Duration>| {
        let (median, min, max) = stats(v);
        println!("{what}: median {median:.3} s, min {min:.3} s, max {max:.3} s");
    };
    for (name, runs) in [("kill -9", &killed), ("SIGSTOP", &stopped)] {
        println!();
        line(&format!("{name} -> detected"), &mut runs.iter().map(|f| f.detected).collect());
        line(&format!("{name} -> a replica writable"), &mut runs.iter().map(|f| f.writable).collect());
        line(&format!("{name} -> every replica re-pointed"), &mut runs.iter().map(|f| f.repointed).collect());
        line(&format!("{name}: writer gap"), &mut runs.iter().map(|f| f.gap).collect());
        let (acked, reached) = runs.iter().fold((0, 0), |(a, r), f| (a + f.missing_acked, r + f.missing_reached));
        println!("{name}: acknowledged rows missing on the new primary: {acked} in {trials} trials, of which had reached a replica: {reached}");
    }
    println!();
    line("SIGCONT -> old primary read-only", &mut fenced);
    line("graceful takeover write gap", &mut gaps);
    println!("graceful takeover: acknowledged rows lost: {lost_graceful} in {trials} trials");
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum How {
    Kill,
    Stop,
}

/// One failure's figures.
struct Figures {
    detected: Duration,
    writable: Duration,
    repointed: Duration,
    gap: Duration,
    /// Acknowledged rows missing on the new primary (asynchronous replication may never have
    /// sent them).
    missing_acked: usize,
    /// Of those, rows a replica held right after the failure: what a recovery must never lose.
    missing_reached: usize,
    /// SIGCONT -> read-only (SIGSTOP only).
    fenced: Duration,
}

impl Figures {
    fn line(&self) -> String {
        format!(
            "detected {:.3} s, writable {:.3} s, re-pointed {:.3} s, writer gap {:.3} s, {} acknowledged rows missing ({} had reached a replica)",
            self.detected.as_secs_f64(),
            self.writable.as_secs_f64(),
            self.repointed.as_secs_f64(),
            self.gap.as_secs_f64(),
            self.missing_acked,
            self.missing_reached
        )
    }
}

struct Trial {
    sb: Sandbox,
    node: Node,
    base: String,
    _dir: tempfile::TempDir,
    app: App,
}

impl Trial {
    async fn start(flavor: SandboxFlavor) -> anyhow::Result<Trial> {
        let sb = Sandbox::start(SandboxOptions::new(flavor, 3, Shape::PrimaryWithReplicas)).await?;
        let dir = tempfile::tempdir()?;
        let config = json!({
            "SQLite3DataFile": dir.path().join("orchestrator.sqlite3"),
            "MySQLTopologyUser": TOPOLOGY_USER,
            "MySQLTopologyPassword": TOPOLOGY_PASSWORD,
            "MySQLHostnameResolveMethod": "none",
            "RecoverMasterClusterFilters": ["*"],
            "ReplicationCredentialsQuery": format!("SELECT '{REPLICATION_USER}', '{REPLICATION_PASSWORD}'"),
        });
        let config = crate::config::parse(&config.to_string(), "bench")?.config;
        let node = start(config, Listeners { http: TcpListener::bind("127.0.0.1:0").await?, raft: None }, CancellationToken::new()).await?;
        node.discovery.discover(&sb.key(0)).await?;
        let base = format!("http://{}/api", node.addr);
        wait(|| async { (node.discovery.instances().values().filter(|i| i.is_last_check_valid && i.cluster_name == sb.key(0).to_string()).count() == 3).then_some(()) }).await?;
        let app = App::start(&sb).await?;
        Ok(Trial { sb, node, base, _dir: dir, app })
    }

    async fn stop(self) {
        let _ = self.app.stop().await;
        self.node.stop().await;
    }

    /// The first replica that reports read_only=0, polled every millisecond on open connections.
    async fn first_writable(&self) -> anyhow::Result<usize> {
        let mut conns = Vec::new();
        for r in [1, 2] {
            conns.push((r, self.sb.admin(r).await?));
        }
        let deadline = Instant::now() + DEADLINE;
        loop {
            for (r, c) in conns.iter_mut() {
                if let Ok(rows) = c.query("SELECT @@global.read_only").await {
                    if rows.first().and_then(|row| row.at(0)) == Some("0") {
                        return Ok(*r);
                    }
                }
            }
            anyhow::ensure!(Instant::now() < deadline, "no replica became writable within {DEADLINE:?}");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    async fn fail_primary(&self, how: How) -> anyhow::Result<Figures> {
        self.app.wait_rows(100).await?;
        let mut replicas = Vec::new();
        for r in [1, 2] {
            replicas.push(self.sb.admin(r).await?);
        }
        self.app.reset_gap();
        let (t0, at) = (Instant::now(), chrono::Utc::now());
        match how {
            How::Kill => self.sb.kill(0),
            How::Stop => self.sb.pause(0),
        }
        // What the replicas hold right after the failure (a lower bound: they may still apply).
        let mut reached = 0u64;
        for c in replicas.iter_mut() {
            let rows = c.query("SELECT COALESCE(MAX(id), 0) FROM bench.t").await?;
            reached = reached.max(rows.first().and_then(|r| r.at(0)).and_then(|v| v.parse().ok()).unwrap_or(0));
        }
        let promoted = self.first_writable().await?;
        let writable = t0.elapsed();
        let other = 3 - promoted;
        let (port, status) = (self.sb.key(promoted).port.to_string(), self.sb.dialect().show_replica_status());
        let c = &mut replicas[other - 1];
        loop {
            let rows = c.query(status).await?;
            let row = rows.last();
            let on = |names: &[&str]| row.map(|r| r.text(names)).unwrap_or_default();
            if on(&["Source_Port", "Master_Port"]) == port && on(&["Replica_IO_Running", "Slave_IO_Running"]) == "Yes" && on(&["Replica_SQL_Running", "Slave_SQL_Running"]) == "Yes" {
                break;
            }
            anyhow::ensure!(t0.elapsed() < DEADLINE, "the other replica was not re-pointed within {DEADLINE:?}");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let repointed = t0.elapsed();
        let detections = self.node.store.list_detections(0, None, None).await?;
        let detected = detections.last().map(|d| (d.detected - at).to_std().unwrap_or_default()).unwrap_or_default();
        let mut fenced = Duration::ZERO;
        if how == How::Stop {
            let t1 = Instant::now();
            self.sb.resume(0);
            let mut c = self.sb.admin(0).await?;
            loop {
                let rows = c.query("SELECT @@global.read_only").await?;
                if rows.first().and_then(|r| r.at(0)) == Some("1") {
                    break;
                }
                anyhow::ensure!(t1.elapsed() < DEADLINE, "the old primary was not fenced within {DEADLINE:?}");
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            fenced = t1.elapsed();
        }
        self.app.wait_rows(50).await?;
        let gap = self.app.gap();
        let missing = self.missing_on(promoted).await?;
        let missing_reached = missing.iter().filter(|id| **id <= reached).count();
        Ok(Figures { detected, writable, repointed, gap, missing_acked: missing.len(), missing_reached, fenced })
    }

    async fn graceful(&self) -> anyhow::Result<(Duration, usize)> {
        self.app.wait_rows(100).await?;
        self.app.reset_gap();
        let answer: serde_json::Value = reqwest::get(format!("{}/graceful-master-takeover/{}", self.base, self.sb.key(1))).await?.json().await?;
        anyhow::ensure!(answer["Code"] == "OK", "graceful-master-takeover failed: {}", answer["Message"]);
        self.app.wait_rows(100).await?;
        let gap = self.app.gap();
        Ok((gap, self.missing_on(1).await?.len()))
    }

    /// Acknowledged rows `primary` does not hold.
    async fn missing_on(&self, primary: usize) -> anyhow::Result<Vec<u64>> {
        let acked = self.app.acked();
        let rows = self.sb.query(primary, "SELECT id FROM bench.t").await?;
        let held: BTreeSet<u64> = rows.iter().filter_map(|r| r.at(0).and_then(|v| v.parse().ok())).collect();
        Ok(acked.difference(&held).copied().collect())
    }
}

async fn wait<F, Fut>(mut probe: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<()>>,
{
    let deadline = Instant::now() + DEADLINE;
    while probe().await.is_none() {
        anyhow::ensure!(Instant::now() < deadline, "condition not reached within {DEADLINE:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

#[derive(Default)]
struct Written {
    acked: BTreeSet<u64>,
    error: String,
    doing: String,
    last: Option<Instant>,
    gap: Duration,
}

/// One row per transaction as user `app` (no SUPER: read_only stops it), on whichever server
/// takes it.
struct App {
    stop: CancellationToken,
    written: Arc<Mutex<Written>>,
    task: tokio::task::JoinHandle<()>,
}

impl App {
    async fn start(sb: &Sandbox) -> anyhow::Result<App> {
        sb.exec(0, "CREATE DATABASE bench; CREATE TABLE bench.t (id BIGINT PRIMARY KEY)").await?;
        sb.exec(0, "CREATE USER 'app'@'%' IDENTIFIED BY 'app_password'; GRANT SELECT, INSERT ON bench.* TO 'app'@'%'").await?;
        for r in [1, 2] {
            sb.wait_caught_up(r, 0, DEADLINE).await?;
        }
        // An application gives up on a statement after a while, as real ones do (the sandbox's
        // 30 s would let one stuck statement stall a trial).
        let specs: Vec<_> = (0..3)
            .map(|i| {
                let mut spec = sb.connect_spec(i, "app", "app_password");
                spec.connect_timeout = Duration::from_secs(2);
                spec.read_timeout = Duration::from_secs(2);
                spec
            })
            .collect();
        let (stop, written) = (CancellationToken::new(), Arc::new(Mutex::new(Written::default())));
        let (token, shared) = (stop.clone(), written.clone());
        let task = tokio::spawn(async move {
            // One connection per server, kept across refusals (as a pool would): the gap
            // measured is the servers', not the application's reconnects.
            let mut conns: Vec<Option<TextConn>> = (0..specs.len()).map(|_| None).collect();
            let (mut next, mut target) = (1u64, 0usize);
            // A steady rate: one row every WRITE_INTERVAL; a refused row is retried at once on
            // the next server.
            let mut pace = tokio::time::interval(WRITE_INTERVAL);
            pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut retrying = false;
            while !token.is_cancelled() {
                if !retrying {
                    pace.tick().await;
                }
                let port = specs[target].port;
                if conns[target].is_none() {
                    shared.lock().unwrap_or_else(|p| p.into_inner()).doing = format!("connecting to {port}");
                    conns[target] = tokio::select! {
                        _ = token.cancelled() => break,
                        c = TextConn::connect(&specs[target]) => c.ok(),
                    };
                }
                shared.lock().unwrap_or_else(|p| p.into_inner()).doing = format!("inserting {next} on {port}");
                let insert = format!("INSERT INTO bench.t (id) VALUES ({next})");
                let outcome = match conns[target].as_mut() {
                    Some(c) => tokio::select! {
                        _ = token.cancelled() => break,
                        r = c.exec(&insert) => r,
                    },
                    None => {
                        retrying = true;
                        shared.lock().unwrap_or_else(|p| p.into_inner()).error = format!("cannot connect to {port}");
                        target = (target + 1) % specs.len();
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        continue;
                    }
                };
                match outcome {
                    Ok(()) => {
                        let mut w = shared.lock().unwrap_or_else(|p| p.into_inner());
                        w.acked.insert(next);
                        if let Some(last) = w.last {
                            w.gap = w.gap.max(last.elapsed());
                        }
                        w.last = Some(Instant::now());
                        next += 1;
                        retrying = false;
                    }
                    Err(e) if e.to_string().contains("Duplicate entry") => {
                        // An earlier attempt of this row timed out but committed: it exists,
                        // unacknowledged. Go on with the next id.
                        next += 1;
                        retrying = false;
                    }
                    Err(e) => {
                        retrying = true;
                        if e.is_unreachable() {
                            conns[target] = None;
                        }
                        shared.lock().unwrap_or_else(|p| p.into_inner()).error = format!("{port}: {e}");
                        target = (target + 1) % specs.len();
                    }
                }
            }
        });
        Ok(App { stop, written, task })
    }

    fn acked(&self) -> BTreeSet<u64> {
        self.written.lock().unwrap_or_else(|p| p.into_inner()).acked.clone()
    }

    fn gap(&self) -> Duration {
        self.written.lock().unwrap_or_else(|p| p.into_inner()).gap
    }

    fn reset_gap(&self) {
        self.written.lock().unwrap_or_else(|p| p.into_inner()).gap = Duration::ZERO;
    }

    /// Waits until `more` more rows were acknowledged.
    async fn wait_rows(&self, more: usize) -> anyhow::Result<()> {
        let from = self.acked().len();
        wait(|| async { (self.acked().len() >= from + more).then_some(()) })
            .await
            .map_err(|e| anyhow::anyhow!("the application wrote {} of {more} more rows: {e}; last error: {}", self.acked().len() - from, self.last_error()))
    }

    fn last_error(&self) -> String {
        let w = self.written.lock().unwrap_or_else(|p| p.into_inner());
        format!("{} (now {})", w.error, w.doing)
    }

    async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}
