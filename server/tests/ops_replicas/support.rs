//! What every scenario of several-replica operations needs: real servers with a node in front of
//! them; operations through the API and the CLI, each first asked as a dry run that must change
//! nothing; the whole topology as every server itself says it replicates (SHOW REPLICA/SLAVE
//! STATUS over the sandbox's admin account, never the node's store); a writer inserting rows on
//! the primary; the continuity check at the end.

use crate::common::{run_cli, wait_for, TestNode};
use serde_json::{json, Value};
use server::mysql::dialect::replica_status_column_names;
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape, REPLICATION_PASSWORD, TOPOLOGY_PASSWORD};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Deadline for anything that should happen within a few poll intervals.
pub const WAIT: Duration = Duration::from_secs(60);

/// `Some(j)`: server `i` replicates from server `j`; `None`: from nobody.
pub type Topology = Vec<Option<usize>>;

/// Servers of one flavor in a shape, and a node that has discovered them.
pub struct Fixture {
    pub sb: Arc<Sandbox>,
    pub node: TestNode,
    /// Durations of the operations run, from their reports, for the summary.
    runs: Mutex<Vec<(String, f64)>>,
}

/// How one server replicates, in its own words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    pub source_port: u16,
    pub io: String,
    pub sql: String,
    /// Oracle `Auto_Position` or MariaDB `Using_Gtid`.
    pub gtid: String,
    pub io_error: String,
    pub sql_error: String,
}

impl Fixture {
    /// `count` servers of `flavor` in `shape`, GTID or binlog coordinates, discovered by a fresh
    /// node configured with `overrides`; returns once the node sees the whole shape replicating.
    pub async fn start(flavor: SandboxFlavor, count: usize, shape: Shape, gtid: bool, overrides: Value) -> Fixture {
        let opts = SandboxOptions::new(flavor, count, shape).with_gtid(gtid);
        let sb = Arc::new(Sandbox::start(opts).await.expect("sandbox starts"));
        let mut config = json!({ "ReasonableMaintenanceReplicationLagSeconds": 10 });
        if let (Some(base), Some(extra)) = (config.as_object_mut(), overrides.as_object()) {
            base.extend(extra.clone());
        }
        let node = TestNode::start(config).await;
        node.discover_cluster(&sb.key(0), count).await;
        let fx = Fixture { sb, node, runs: Mutex::new(Vec::new()) };
        let topology: Topology = (0..count).map(|i| shape.source_of(i, count)).collect();
        fx.wait_views(&topology).await;
        fx
    }

    pub fn flavor(&self) -> SandboxFlavor {
        self.sb.flavor()
    }

    pub fn count(&self) -> usize {
        self.sb.servers().len()
    }

    /// `host:port` of server `i`.
    pub fn name(&self, i: usize) -> String {
        self.sb.key(i).to_string()
    }

    /// `host/port` of server `i`, as API paths spell an instance.
    pub fn path(&self, i: usize) -> String {
        format!("{}/{}", self.sb.key(i).hostname, self.sb.key(i).port)
    }

    pub fn port(&self, i: usize) -> u16 {
        self.sb.key(i).port
    }

    fn index_of_port(&self, port: u16) -> Option<usize> {
        self.sb.servers().iter().position(|s| s.port == port)
    }

    /// GET `/api/<path>`; the body is orchestrator's envelope and reveals no password.
    pub async fn api(&self, path: &str) -> (u16, Value) {
        let (status, body) = self.node.api(path).await;
        assert!(body["Message"].is_string(), "/api/{path} answered no envelope: {status} {body}");
        assert_no_password(&format!("/api/{path}"), &body);
        (status, body)
    }

    /// How server `i` replicates, as it says itself (`None`: not a replica).
    pub async fn channel(&self, i: usize) -> Option<Channel> {
        let row = self.sb.replica_status(i).await.unwrap_or_else(|e| panic!("replica status of {}: {e}", self.name(i)))?;
        let col = |name: &'static str| {
            let [new, old] = replica_status_column_names(name);
            row.text(&[new.as_str(), old.as_str()])
        };
        Some(Channel {
            source_port: col("Source_Port").parse().unwrap_or(0),
            io: col("Replica_IO_Running"),
            sql: col("Replica_SQL_Running"),
            gtid: row.text(&["Auto_Position", "Using_Gtid"]),
            io_error: row.text(&["Last_IO_Error"]),
            sql_error: row.text(&["Last_SQL_Error"]),
        })
    }

    pub async fn channels(&self) -> Vec<Option<Channel>> {
        let mut all = Vec::new();
        for i in 0..self.count() {
            all.push(self.channel(i).await);
        }
        all
    }

    /// Every server says it replicates from the expected source, with both threads running
    /// (a server expected to replicate from nobody has no channel).
    pub async fn assert_topology(&self, want: &[Option<usize>]) {
        let channels = self.channels().await;
        let got: Vec<Option<usize>> = channels.iter().map(|c| c.as_ref().and_then(|c| self.index_of_port(c.source_port))).collect();
        assert_eq!(got, want, "[{}] topology as the servers say it (server i replicates from got[i]): {channels:#?}", self.flavor());
        for (i, c) in channels.iter().enumerate() {
            if let Some(c) = c {
                assert_eq!((c.io.as_str(), c.sql.as_str()), ("Yes", "Yes"), "[{}] {} should replicate: {c:?}", self.flavor(), self.name(i));
            }
        }
    }

    /// Waits until the node sees every replica below its expected source, replicating, lag
    /// known, freshly checked: what the next operation's rules look at.
    pub async fn wait_views(&self, want: &[Option<usize>]) {
        for (i, source) in want.iter().enumerate() {
            let Some(source) = *source else { continue };
            let port = self.port(source);
            wait_for(WAIT, &format!("the node to see {} replicating from {}", self.name(i), self.name(source)), || async {
                let (status, v) = self.node.api(&format!("instance/{}", self.path(i))).await;
                let ok = status == 200
                    && v["MasterKey"]["Port"] == port
                    && v["ReplicationIOThreadRuning"] == true
                    && v["ReplicationSQLThreadRuning"] == true
                    && v["SecondsBehindMaster"]["Valid"] == true
                    && v["IsLastCheckValid"] == true
                    && v["IsRecentlyChecked"] == true;
                ok.then_some(())
            })
            .await;
        }
    }

    /// Asks `path` as a dry run: it must answer a plan with statements, name `mechanism`, and
    /// leave every server replicating exactly as before. Returns the plan.
    pub async fn dry_run(&self, path: &str, mechanism: &str) -> Value {
        let before = self.channels().await;
        let sep = if path.contains('?') { '&' } else { '?' };
        let (status, body) = self.api(&format!("{path}{sep}dry_run=true")).await;
        assert_eq!(status, 200, "dry run of /api/{path}: {body}");
        let plan = body["Details"].clone();
        assert_eq!(plan["Mechanism"], mechanism, "dry run of /api/{path}: {plan}");
        let steps = plan["Steps"].as_array().cloned().unwrap_or_default();
        assert!(!steps.is_empty(), "dry run of /api/{path} lists no step: {body}");
        assert!(steps.iter().all(|s| s["Statements"].as_array().is_some_and(|a| !a.is_empty())), "every step has statements: {plan}");
        assert!(body["Message"].as_str().unwrap_or_default().contains("nothing was changed"), "{body}");
        self.assert_unchanged(&before, &format!("dry run of {path}")).await;
        plan
    }

    /// Every server replicates as in `before` (sources and threads).
    pub async fn assert_unchanged(&self, before: &[Option<Channel>], what: &str) {
        let strip = |cs: &[Option<Channel>]| -> Vec<Option<(u16, String, String, String)>> {
            cs.iter().map(|c| c.as_ref().map(|c| (c.source_port, c.io.clone(), c.sql.clone(), c.gtid.clone()))).collect()
        };
        let after = self.channels().await;
        assert_eq!(strip(&after), strip(before), "[{}] {what} changed replication", self.flavor());
    }

    /// Runs `path` through the API (after its dry run): it must succeed using `mechanism`
    /// (`""`: none named), and leave the servers in topology `want`. Returns the report.
    pub async fn run(&self, path: &str, mechanism: &str, want: &[Option<usize>]) -> Value {
        let report = self.run_only(path, mechanism).await;
        self.finish(path, &report, want).await;
        report
    }

    /// Like `run`, for an operation whose end state depends on what it chose (regroup): the
    /// caller reads the report, then calls `finish` with the topology it implies.
    pub async fn run_only(&self, path: &str, mechanism: &str) -> Value {
        self.dry_run(path, mechanism).await;
        let (status, body) = self.api(path).await;
        assert_eq!(status, 200, "[{}] /api/{path}: {body}", self.flavor());
        let report = body["Operation"].clone();
        assert_eq!(report["Success"], true, "/api/{path}: {report}");
        assert_eq!(report["Plan"]["Mechanism"], mechanism, "/api/{path}: {report}");
        if !mechanism.is_empty() {
            let message = body["Message"].as_str().unwrap_or_default();
            assert!(message.contains(&format!("using {mechanism}")), "/api/{path} should say it used {mechanism}: {message}");
        }
        report
    }

    /// Runs `orchestrator <args>` (after the same command with `--noop`, which must print a plan
    /// and change nothing): exit 0, and the servers end in topology `want`. Returns its lines.
    pub async fn cli(&self, args: &[&str], want: &[Option<usize>]) -> Vec<String> {
        let before = self.channels().await;
        let mut noop = args.to_vec();
        noop.push("--noop");
        let (code, out, err) = run_cli(&self.node.url, &noop).await;
        assert_eq!(code, 0, "`{}` failed: {err}", noop.join(" "));
        assert!(out.lines().next().unwrap_or_default().contains("nothing was changed"), "`{}` printed {out:?}", noop.join(" "));
        assert!(out.lines().count() > 2, "`{}` should print the statements: {out:?}", noop.join(" "));
        assert!(!out.contains(REPLICATION_PASSWORD), "`{}` reveals a password: {out}", noop.join(" "));
        self.assert_unchanged(&before, &noop.join(" ")).await;

        let (code, out, err) = run_cli(&self.node.url, args).await;
        assert_eq!(code, 0, "[{}] `{}` failed: {err}", self.flavor(), args.join(" "));
        assert_eq!(err, "", "`{}` wrote to stderr", args.join(" "));
        let report = self.last_report(args[1]).await;
        self.finish(&args.join(" "), &report, want).await;
        out.lines().map(str::to_string).collect()
    }

    /// The report of the newest audited run of `action` (the CLI prints only what moved).
    async fn last_report(&self, action: &str) -> Value {
        let (status, body) = self.node.api("audit").await;
        assert_eq!(status, 200, "/api/audit: {body}");
        assert_no_password("/api/audit", &body);
        let entries = body.as_array().cloned().unwrap_or_default();
        let entry = entries.iter().find(|e| e["AuditType"] == action).unwrap_or_else(|| panic!("no audit entry of {action}: {body}"));
        assert_eq!(entry["Details"]["Success"], true, "audit of {action}: {entry}");
        entry["Details"].clone()
    }

    /// The servers are in topology `want`, the node sees it, and the run's duration is noted.
    pub async fn finish(&self, what: &str, report: &Value, want: &[Option<usize>]) {
        self.assert_topology(want).await;
        self.wait_views(want).await;
        let millis = report_millis(report);
        let steps = report["Steps"].as_array().map_or(0, Vec::len);
        eprintln!("[{}] {what}: {steps} steps, {millis:.0} ms", self.flavor());
        self.runs.lock().unwrap().push((what.to_string(), millis));
    }

    /// `path` is refused by `rule` (HTTP 409, the rule in `Details.Rule`) and nothing changes.
    pub async fn refused(&self, path: &str, rule: &str) -> String {
        let before = self.channels().await;
        let (status, body) = self.api(path).await;
        assert_eq!(status, 409, "[{}] /api/{path} should be refused: {body}", self.flavor());
        assert_eq!(body["Details"]["Rule"], rule, "/api/{path}: {body}");
        self.assert_unchanged(&before, &format!("refused {path}")).await;
        body["Message"].as_str().unwrap_or_default().to_string()
    }

    /// get-candidate-replica of server `i`, through the API and the CLI: both name one of
    /// `among`, and nothing changes. Returns the API's answer.
    pub async fn candidate(&self, i: usize, among: &[usize]) -> usize {
        let before = self.channels().await;
        let (status, body) = self.api(&format!("get-candidate-replica/{}", self.path(i))).await;
        assert_eq!(status, 200, "get-candidate-replica of {}: {body}", self.name(i));
        let port = body["Details"]["Key"]["Port"].as_u64().unwrap_or(0) as u16;
        let chosen = self.index_of_port(port).unwrap_or_else(|| panic!("get-candidate-replica answered an unknown server: {body}"));
        assert!(among.contains(&chosen), "get-candidate-replica of {} chose server {chosen}, expected one of {among:?}", self.name(i));
        let (code, out, err) = run_cli(&self.node.url, &["-c", "get-candidate-replica", "-i", &self.name(i)]).await;
        assert_eq!(code, 0, "get-candidate-replica on the CLI: {err}");
        let printed = out.trim();
        assert!(among.iter().any(|&r| printed == self.name(r)), "the CLI printed {printed:?}, expected one of {among:?}");
        self.assert_unchanged(&before, "get-candidate-replica").await;
        chosen
    }

    /// Which server the report says `replica` moved below.
    pub fn moved_below(&self, report: &Value, replica: usize) -> Option<usize> {
        report["Moved"].as_array()?.iter().find(|m| m["Instance"]["Port"] == self.port(replica)).and_then(|m| {
            let port = m["Source"]["Port"].as_u64()? as u16;
            self.index_of_port(port)
        })
    }

    /// Runs statements on server `i` as the sandbox's admin.
    pub async fn exec(&self, i: usize, sql: &str) {
        self.sb.exec(i, sql).await.unwrap_or_else(|e| panic!("{sql} on {}: {e}", self.name(i)));
    }

    /// Prints every operation's duration and their total.
    pub fn summarize(&self) {
        let runs = self.runs.lock().unwrap();
        let total: f64 = runs.iter().map(|(_, ms)| ms).sum();
        eprintln!("[{}] {} operations, {total:.0} ms in all", self.flavor(), runs.len());
    }
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
const TABLE: &str = "replicastest.t";

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
    /// Creates the test table on server 0 and starts inserting about every 10 ms.
    pub async fn start(fx: &Fixture) -> Writer {
        fx.exec(0, "CREATE DATABASE IF NOT EXISTS replicastest").await;
        fx.exec(0, &format!("CREATE TABLE IF NOT EXISTS {TABLE} (id BIGINT PRIMARY KEY, v VARCHAR(64)) ENGINE=InnoDB")).await;
        let sb = fx.sb.clone();
        let stop = CancellationToken::new();
        let acked = Arc::new(Mutex::new(0));
        let (token, counter) = (stop.clone(), acked.clone());
        let task = tokio::spawn(async move {
            let mut written = Written { acked: BTreeSet::new(), failures: 0 };
            let mut conn = None;
            let mut tick = tokio::time::interval(Duration::from_millis(10));
            let mut next: u64 = 1;
            while !token.is_cancelled() {
                tokio::select! { _ = tick.tick() => {}, _ = token.cancelled() => break }
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

    /// Waits until `more` further inserts were acknowledged, so rows are written between
    /// operations too.
    pub async fn wait_rows(&self, more: usize) {
        let from = *self.acked.lock().unwrap();
        wait_for(WAIT, &format!("{more} more acknowledged inserts"), || async { (*self.acked.lock().unwrap() >= from + more).then_some(()) }).await
    }

    pub async fn stop(self) -> Written {
        self.stop.cancel();
        self.task.await.expect("writer task")
    }
}

/// After the writer stopped: every server catches up with the primary, has every row the
/// primary acknowledged, and `CHECKSUM TABLE` is the same on every server.
pub async fn assert_continuity(fx: &Fixture, written: &Written) {
    assert!(written.acked.len() >= 50, "the writer should have written throughout; it got {} rows acknowledged", written.acked.len());
    for r in 1..fx.count() {
        fx.sb.wait_caught_up(r, 0, WAIT).await.unwrap_or_else(|e| panic!("{} catching up: {e}", fx.name(r)));
    }
    let mut checksums = Vec::new();
    for i in 0..fx.count() {
        let rows = fx.sb.query(i, &format!("SELECT id FROM {TABLE}")).await.expect("read the test table");
        let ids: BTreeSet<u64> = rows.iter().filter_map(|r| r.at(0).and_then(|v| v.parse().ok())).collect();
        let missing: Vec<&u64> = written.acked.difference(&ids).collect();
        assert!(missing.is_empty(), "{} lacks {} acknowledged rows, e.g. {:?}", fx.name(i), missing.len(), &missing[..missing.len().min(5)]);
        // An insert whose acknowledgement was lost may have committed; nothing else may appear.
        let extra = ids.difference(&written.acked).count();
        assert!(extra <= written.failures, "{} has {extra} rows the primary never acknowledged", fx.name(i));
        let checksum = fx.sb.query(i, &format!("CHECKSUM TABLE {TABLE}")).await.expect("checksum");
        checksums.push(checksum.first().map(|r| r.text(&["Checksum"])).unwrap_or_default());
    }
    assert!(checksums.iter().all(|c| *c == checksums[0] && !c.is_empty()), "CHECKSUM TABLE differs: {checksums:?}");
    eprintln!(
        "[{}] continuity: {} rows acknowledged ({} failed inserts), all on every server, checksum {}",
        fx.flavor(),
        written.acked.len(),
        written.failures,
        checksums[0]
    );
}
