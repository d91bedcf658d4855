//! What every move scenario needs: real servers with a node in front of them, the operation
//! call and its report, what each server itself says about its replication (read with the
//! test's own SQL over the sandbox's admin account, never from the node's store), a writer that
//! keeps inserting rows on the primary, and the continuity check afterwards.

use crate::common::{wait_for, TestNode};
use serde_json::{json, Value};
use server::mysql::dialect::replica_status_column_names;
use server::mysql::TextRow;
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape, REPLICATION_PASSWORD, TOPOLOGY_PASSWORD};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Deadline for anything that should happen within a few poll intervals.
pub const WAIT: Duration = Duration::from_secs(60);

/// Servers in `IntermediatePrimary` shape (0 ← 1 ← 2, 0 ← 3) and a node that has discovered
/// them. The sandbox is shared so that a fail point's action can kill one of its servers.
pub struct Fixture {
    pub sb: Arc<Sandbox>,
    pub node: TestNode,
}

/// How one server replicates, as it says itself: what a refused operation must leave as it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    pub source_port: u16,
    pub io: String,
    pub sql: String,
    /// Oracle `Auto_Position` or MariaDB `Using_Gtid`.
    pub gtid: String,
}

impl Fixture {
    /// Four servers 0 ← 1 ← 2, 0 ← 3 of `flavor`, GTID or binlog coordinates, discovered by a
    /// fresh node configured with `overrides`.
    pub async fn start(flavor: SandboxFlavor, gtid: bool, overrides: Value) -> Fixture {
        let opts = SandboxOptions::new(flavor, 4, Shape::IntermediatePrimary).with_gtid(gtid);
        let sb = Arc::new(Sandbox::start(opts).await.expect("sandbox starts"));
        let mut config = json!({ "ReasonableMaintenanceReplicationLagSeconds": 10 });
        if let (Some(base), Some(extra)) = (config.as_object_mut(), overrides.as_object()) {
            base.extend(extra.clone());
        }
        let node = TestNode::start(config).await;
        node.discover_cluster(&sb.key(0), 4).await;
        let fx = Fixture { sb, node };
        for (replica, source) in [(1, 0), (2, 1), (3, 0)] {
            fx.wait_view(replica, source).await;
        }
        fx
    }

    pub fn flavor(&self) -> SandboxFlavor {
        self.sb.flavor()
    }

    /// `host:port` of server `i`.
    pub fn name(&self, i: usize) -> String {
        self.sb.key(i).to_string()
    }

    /// `host/port` of server `i`, as API paths spell an instance.
    pub fn path(&self, i: usize) -> String {
        format!("{}/{}", self.sb.key(i).hostname, self.sb.key(i).port)
    }

    /// Server index of a port, for messages.
    fn index_of_port(&self, port: u16) -> Option<usize> {
        self.sb.servers().iter().position(|s| s.port == port)
    }

    /// GET `/api/<path>`; the body always has a string `Message` (orchestrator's envelope).
    pub async fn api(&self, path: &str) -> (u16, Value) {
        let (status, body) = self.node.api(path).await;
        assert!(body["Message"].is_string(), "/api/{path} answered no envelope: {status} {body}");
        assert_no_password(&format!("/api/{path}"), &body);
        (status, body)
    }

    /// Runs an operation that must succeed with `mechanism`; checks from the servers themselves
    /// that `replica` now replicates from `source` with both threads running, and returns how
    /// long the run took according to its report.
    pub async fn run_move(&self, path: &str, mechanism: &str, replica: usize, source: usize) -> Moved {
        let (status, body) = self.api(path).await;
        assert_eq!(status, 200, "/api/{path}: {body}");
        let message = body["Message"].as_str().unwrap_or_default();
        assert!(message.contains(&format!("using {mechanism}")), "/api/{path} should say it used {mechanism}: {message}");
        let report = &body["Operation"];
        assert_eq!(report["Success"], true, "/api/{path}: {report}");
        assert_eq!(report["Plan"]["Mechanism"], mechanism, "/api/{path}: {report}");
        let moved = report["Moved"].as_array().cloned().unwrap_or_default();
        assert!(
            moved.iter().any(|m| m["Instance"]["Port"] == self.sb.key(replica).port && m["Source"]["Port"] == self.sb.key(source).port),
            "/api/{path}: the report should list {} as moved below {}: {report}",
            self.name(replica),
            self.name(source)
        );
        self.assert_replicates(replica, source).await;
        self.wait_view(replica, source).await;
        let run = Moved { what: format!("{path} ({mechanism})"), millis: report_millis(report) };
        let statements: Vec<String> = report["Steps"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["Statements"].as_array().cloned().unwrap_or_default())
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect();
        let untils = statements.iter().filter(|s| s.contains(" UNTIL ")).count();
        eprintln!("[{}] {}: {:.0} ms, {} statements ({untils} START ... UNTIL)", self.flavor(), run.what, run.millis, statements.len());
        run
    }

    /// Server `i`'s own SHOW REPLICA/SLAVE STATUS, if it is a replica.
    pub async fn replica_status(&self, i: usize) -> Option<TextRow> {
        self.sb.replica_status(i).await.unwrap_or_else(|e| panic!("replica status of {}: {e}", self.name(i)))
    }

    /// How server `i` replicates, in its own words (`None`: not a replica).
    pub async fn channel(&self, i: usize) -> Option<Channel> {
        let row = self.replica_status(i).await?;
        let col = |name: &'static str| {
            let [new, old] = replica_status_column_names(name);
            row.text(&[new.as_str(), old.as_str()])
        };
        Some(Channel {
            source_port: col("Source_Port").parse().unwrap_or(0),
            io: col("Replica_IO_Running"),
            sql: col("Replica_SQL_Running"),
            gtid: row.text(&["Auto_Position", "Using_Gtid"]),
        })
    }

    /// Every server's channel, for before/after comparisons.
    pub async fn channels(&self) -> Vec<Option<Channel>> {
        let mut all = Vec::new();
        for i in 0..self.sb.servers().len() {
            all.push(self.channel(i).await);
        }
        all
    }

    /// `replica` says it replicates from `source` (host and port) and runs both threads.
    pub async fn assert_replicates(&self, replica: usize, source: usize) {
        let row = self.replica_status(replica).await.unwrap_or_else(|| panic!("{} is not a replica", self.name(replica)));
        let col = |name: &'static str| {
            let [new, old] = replica_status_column_names(name);
            row.text(&[new.as_str(), old.as_str()])
        };
        let (host, port) = (col("Source_Host"), col("Source_Port"));
        assert_eq!(
            (host.as_str(), port.as_str()),
            (self.sb.key(source).hostname.as_str(), self.sb.key(source).port.to_string().as_str()),
            "{} should replicate from {} (server {source}), it replicates from server {:?}",
            self.name(replica),
            self.name(source),
            port.parse().ok().and_then(|p| self.index_of_port(p))
        );
        let (io, sql) = (col("Replica_IO_Running"), col("Replica_SQL_Running"));
        assert_eq!((io.as_str(), sql.as_str()), ("Yes", "Yes"), "{}'s threads: {row:?}", self.name(replica));
    }

    /// Waits until the node sees `replica` below `source`, replicating, lag known, freshly
    /// checked: what the next operation's rules look at.
    pub async fn wait_view(&self, replica: usize, source: usize) {
        let want = self.sb.key(source);
        wait_for(WAIT, &format!("the node to see {} replicating from {}", self.name(replica), want), || async {
            let (status, i) = self.node.api(&format!("instance/{}", self.path(replica))).await;
            let ok = status == 200
                && i["MasterKey"]["Port"] == want.port
                && i["ReplicationIOThreadRuning"] == true
                && i["ReplicationSQLThreadRuning"] == true
                && i["SecondsBehindMaster"]["Valid"] == true
                && i["IsLastCheckValid"] == true
                && i["IsRecentlyChecked"] == true;
            ok.then_some(())
        })
        .await
    }

    /// Runs statements on server `i` as the sandbox's admin.
    pub async fn exec(&self, i: usize, sql: &str) {
        self.sb.exec(i, sql).await.unwrap_or_else(|e| panic!("{sql} on {}: {e}", self.name(i)));
    }

    /// The first column of the first row of `sql` on server `i`.
    pub async fn scalar(&self, i: usize, sql: &str) -> String {
        let rows = self.sb.query(i, sql).await.unwrap_or_else(|e| panic!("{sql} on {}: {e}", self.name(i)));
        rows.first().and_then(|r| r.at(0)).unwrap_or("").to_string()
    }

    /// Every audit entry the node lists (newest first).
    pub async fn audit(&self) -> Vec<Value> {
        let (status, body) = self.node.api("audit").await;
        assert_eq!(status, 200, "/api/audit: {body}");
        assert_no_password("/api/audit", &body);
        body.as_array().cloned().unwrap_or_else(|| panic!("/api/audit should list entries: {body}"))
    }

    /// Checks that the audit lists one entry of `action` on server `i` per executed move, each
    /// with the statements it ran.
    pub async fn assert_audited(&self, moves: &[(&str, usize)]) {
        let audit = self.audit().await;
        for &(action, i) in moves {
            let count = moves.iter().filter(|m| **m == (action, i)).count();
            let entries: Vec<&Value> = audit
                .iter()
                .filter(|e| e["AuditType"] == action && e["AuditInstanceKey"]["Port"] == self.sb.key(i).port)
                .collect();
            assert_eq!(entries.len(), count, "audit entries of {action} on {}: {audit:#?}", self.name(i));
            for e in entries {
                let steps = e["Details"]["Steps"].as_array().unwrap_or_else(|| panic!("audit entry without steps: {e}"));
                let statements: usize = steps.iter().map(|s| s["Statements"].as_array().map_or(0, Vec::len)).sum();
                assert!(statements > 0, "audit entry of {action} lists no statement: {e}");
                assert!(e["Message"].as_str().unwrap_or_default().contains("using "), "audit message names the mechanism: {e}");
            }
        }
    }
}

/// One executed move and its duration from its report.
#[derive(Debug, Clone)]
pub struct Moved {
    pub what: String,
    pub millis: f64,
}

/// Wall time of a run from its report: from the first step's start to the end of the last step.
pub fn report_millis(report: &Value) -> f64 {
    let steps = report["Steps"].as_array().cloned().unwrap_or_default();
    let (Some(first), Some(last)) = (steps.first(), steps.last()) else { return 0.0 };
    let at = |s: &Value| chrono::DateTime::parse_from_rfc3339(s["Started"].as_str().unwrap_or_default()).expect("Started is a timestamp");
    (at(last) - at(first)).num_microseconds().unwrap_or(0) as f64 / 1000.0 + last["DurationMillis"].as_f64().unwrap_or(0.0)
}

/// No password of the sandbox appears anywhere in `body`.
pub fn assert_no_password(what: &str, body: &Value) {
    let text = body.to_string();
    for secret in [TOPOLOGY_PASSWORD, REPLICATION_PASSWORD] {
        assert!(!text.contains(secret), "{what} reveals a password: {text}");
    }
}

/// The test table the writer fills.
const TABLE: &str = "movetest.t";

/// A task inserting numbered rows on the primary until stopped; it remembers which inserts the
/// server acknowledged.
pub struct Writer {
    stop: CancellationToken,
    task: JoinHandle<Written>,
    acked: Arc<Mutex<usize>>,
}

/// What the writer got acknowledged, and how many inserts failed.
pub struct Written {
    pub acked: BTreeSet<u64>,
    pub failures: usize,
}

impl Writer {
    /// Creates the test table on server 0 and starts inserting, one row per transaction, as fast
    /// as one client can: replicas then lag behind each other by a few transactions, so moves
    /// on binlog coordinates really have to align them.
    pub async fn start(fx: &Fixture) -> Writer {
        fx.exec(0, "CREATE DATABASE IF NOT EXISTS movetest").await;
        fx.exec(0, &format!("CREATE TABLE IF NOT EXISTS {TABLE} (id BIGINT PRIMARY KEY, v VARCHAR(64)) ENGINE=InnoDB")).await;
        let first: u64 = fx.scalar(0, &format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {TABLE}")).await.parse().expect("a number");
        let sb = fx.sb.clone();
        let stop = CancellationToken::new();
        let acked = Arc::new(Mutex::new(0));
        let (token, counter) = (stop.clone(), acked.clone());
        let task = tokio::spawn(async move {
            let mut written = Written { acked: BTreeSet::new(), failures: 0 };
            let mut conn = None;
            let mut next = first;
            while !token.is_cancelled() {
                if conn.is_none() {
                    conn = sb.admin(0).await.ok();
                }
                let Some(c) = conn.as_mut() else {
                    written.failures += 1;
                    continue;
                };
                let id = next;
                next += 1;
                match c.exec(&format!("INSERT INTO {TABLE} (id, v) VALUES ({id}, 'row {id}')")).await {
                    Ok(()) => {
                        written.acked.insert(id);
                        *counter.lock().unwrap() += 1;
                    }
                    Err(_) => {
                        written.failures += 1;
                        conn = None;
                    }
                }
            }
            if let Some(c) = conn {
                c.close().await;
            }
            written
        });
        let writer = Writer { stop, task, acked };
        writer.wait_rows(20).await;
        writer
    }

    /// Waits until `more` further inserts were acknowledged (writes really run "during").
    pub async fn wait_rows(&self, more: usize) {
        let from = *self.acked.lock().unwrap();
        wait_for(WAIT, &format!("{more} more acknowledged inserts"), || async {
            (*self.acked.lock().unwrap() >= from + more).then_some(())
        })
        .await
    }

    pub async fn stop(self) -> Written {
        self.stop.cancel();
        self.task.await.expect("writer task")
    }
}

/// After the writer stopped: every replica catches up with the primary, has every row the
/// primary acknowledged, and `CHECKSUM TABLE` is the same on every server. Polled with a
/// deadline on the rows themselves: no replication position is trusted to say it is caught up.
pub async fn assert_continuity(fx: &Fixture, written: &Written) {
    assert!(written.acked.len() >= 50, "the writer should have written throughout; it got {} rows acknowledged", written.acked.len());
    let deadline = Instant::now() + WAIT;
    loop {
        match continuity_gap(fx, written).await {
            Ok(checksum) => {
                eprintln!(
                    "[{}] continuity: {} rows acknowledged ({} failed inserts), all on every server, checksum {checksum}",
                    fx.flavor(),
                    written.acked.len(),
                    written.failures,
                );
                return;
            }
            Err(gap) => assert!(Instant::now() < deadline, "after {WAIT:?}: {gap}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The common checksum when every server has every acknowledged row and the same table, else
/// what differs.
async fn continuity_gap(fx: &Fixture, written: &Written) -> Result<String, String> {
    let mut checksums = Vec::new();
    for i in 0..fx.sb.servers().len() {
        let rows = fx.sb.query(i, &format!("SELECT id FROM {TABLE}")).await.map_err(|e| e.to_string())?;
        let ids: BTreeSet<u64> = rows.iter().filter_map(|r| r.at(0).and_then(|v| v.parse().ok())).collect();
        let missing: Vec<&u64> = written.acked.difference(&ids).collect();
        if !missing.is_empty() {
            return Err(format!("{} lacks {} acknowledged rows, e.g. {:?}", fx.name(i), missing.len(), &missing[..missing.len().min(5)]));
        }
        let checksum = fx.sb.query(i, &format!("CHECKSUM TABLE {TABLE}")).await.map_err(|e| e.to_string())?;
        checksums.push(checksum.first().map(|r| r.text(&["Checksum"])).unwrap_or_default());
    }
    if checksums.iter().any(|c| *c != checksums[0] || c.is_empty()) {
        return Err(format!("CHECKSUM TABLE differs: {checksums:?}"));
    }
    Ok(checksums[0].clone())
}
