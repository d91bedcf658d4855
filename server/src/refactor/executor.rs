//! Runs a plan on the servers, step by step, recording each step with the statements it really
//! sent and its timing. The only code that changes replication during an operation.
//!
//! Before a replica is first touched its state is remembered (threads, source, GTID use); before
//! its source is changed, its executed position. If a step fails, every touched replica is put
//! back: pointed again at its original source (GTID, or the remembered position) and its threads
//! restarted as they were. The report says what ran and what was put back.

use super::failpoints;
use super::plan::{change_source_sql, dialect_of, join_sql, Plan, Position, Step};
use crate::mysql::dialect::replica_status_column_names;
use crate::mysql::{ChangeSource, ConnectSpec, Dialect, GtidMode, MySqlError, TextConn, TextRow};
use app::model::gtid::GtidSet;
use app::model::ops::{Moved, OperationReport, StepRun};
use app::rules::replication::mariadb_gtid_available;
use app::rules::{Refusal, Rule};
use app::model::{BinlogCoordinates, Instance, InstanceKey};
use chrono::Utc;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// How the executor reaches servers and how long it waits for them.
#[derive(Clone, Debug)]
pub struct ExecSettings {
    pub user: String,
    /// Debug-printed as `***`, never as itself.
    pub password: crate::config::Secret,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    /// Longest wait for a replica to reach a position (START ... UNTIL) or to start replicating.
    pub wait_timeout: Duration,
    /// `ReplicationCredentialsQuery`: user and password for a server that joins as a replica.
    pub replication_credentials_query: String,
}

/// A replica's state before the operation touched it.
#[derive(Clone, Debug)]
struct Before {
    /// It had a replication channel (a demoted primary had none).
    was_replica: bool,
    io_running: bool,
    sql_running: bool,
    source: InstanceKey,
    used_gtid: bool,
    /// MariaDB `Using_Gtid: Current_Pos` (a former primary), put back as it was.
    mariadb_current_pos: bool,
    /// Executed position right before its source was changed (set only if it was).
    exec_at_change: Option<BinlogCoordinates>,
    /// The source it was pointed at, and the coordinates it was told to start from (`None`:
    /// GTID), to tell on rollback whether it already applied anything from there.
    changed_to: Option<(InstanceKey, Option<BinlogCoordinates>)>,
    /// The channel's heartbeat period before the change (restated on every re-point).
    heartbeat: Option<f64>,
}

pub struct Executor {
    settings: ExecSettings,
    /// Dialects from discovery's view, by server.
    dialects: HashMap<InstanceKey, Dialect>,
    conns: HashMap<InstanceKey, TextConn>,
    before: BTreeMap<InstanceKey, Before>,
    /// Order in which replicas were first touched (rollback goes backwards).
    touched: Vec<InstanceKey>,
    /// What the current step has sent so far, as shown to people (passwords masked): what the
    /// report lists for a step that failed half-way.
    sent: Vec<String>,
}

type StepResult = Result<Vec<String>, String>;

impl Executor {
    pub fn new(settings: ExecSettings, view: &BTreeMap<InstanceKey, Instance>) -> Executor {
        let dialects = view.iter().map(|(k, i)| (k.clone(), dialect_of(Some(i)))).collect();
        Executor { settings, dialects, conns: HashMap::new(), before: BTreeMap::new(), touched: Vec::new(), sent: Vec::new() }
    }

    fn dialect(&self, key: &InstanceKey) -> Dialect {
        self.dialects.get(key).copied().unwrap_or_else(|| dialect_of(None))
    }

    /// Runs the plan part by part. In a part, the first failing step ends the part and what it
    /// changed is put back; the next parts still run. The report fails if any part failed.
    pub async fn run(mut self, plan: &Plan, rendered: app::model::ops::Plan) -> OperationReport {
        let mut report = OperationReport { plan: rendered, steps: Vec::new(), rollback: Vec::new(), moved: Vec::new(), success: true, error: String::new() };
        let mut errors = Vec::new();
        for part in &plan.parts {
            self.before.clear();
            self.touched.clear();
            let mut moved = Vec::new();
            let mut part_failed = false;
            for step in part {
                failpoints::hit(&format!("{}:{}", step.kind(), step.server())).await;
                let started = Utc::now();
                let clock = Instant::now();
                self.sent.clear();
                let (statements, error) = match self.run_step(step).await {
                    Ok(s) => (s, String::new()),
                    Err(e) => (std::mem::take(&mut self.sent), e),
                };
                let failed = !error.is_empty();
                report.steps.push(StepRun {
                    server: step.server().clone(),
                    description: step.describe(),
                    statements,
                    started,
                    duration_ms: clock.elapsed().as_secs_f64() * 1000.0,
                    error: error.clone(),
                });
                if failed {
                    errors.push(format!("{}: {error}", step.describe()));
                    let rollback = self.roll_back().await;
                    // What could not be put back matters as much as what failed.
                    errors.extend(rollback.iter().filter(|r| !r.error.is_empty()).map(|r| format!("rollback: {}: {}", r.description, r.error)));
                    report.rollback.extend(rollback);
                    part_failed = true;
                    break;
                }
                match step {
                    // Detaching points at `//host`: the replica is not under a new source.
                    Step::ChangeSource { replica, to, .. } | Step::JoinAsReplica { server: replica, to, .. }
                        if !to.hostname.starts_with("//") =>
                    {
                        moved.push(Moved { instance: replica.clone(), source: to.clone() });
                    }
                    _ => {}
                }
            }
            if !part_failed {
                report.moved.extend(moved);
            }
        }
        if !errors.is_empty() {
            report.success = false;
            report.error = errors.join("; ");
        }
        for (_, conn) in self.conns.drain() {
            conn.close().await;
        }
        report
    }

    /// For recovery: runs one step on its own (no part, no rollback). The statements sent, or
    /// those sent before the error and the error.
    pub(crate) async fn run_single(&mut self, step: &Step) -> Result<Vec<String>, (Vec<String>, String)> {
        self.sent.clear();
        self.run_step(step).await.map_err(|e| (std::mem::take(&mut self.sent), e))
    }

    /// For recovery: stop the IO thread, wait at most `timeout` for the relay log to be applied,
    /// stop the SQL thread.
    pub(crate) async fn drain_relay_log(&mut self, on: &InstanceKey, timeout: Duration) -> Result<Vec<String>, (Vec<String>, String)> {
        self.sent.clear();
        self.stop_after_draining(on, timeout).await.map_err(|e| (std::mem::take(&mut self.sent), e))
    }

    /// For recovery: the promoted server applies what it already fetched. Its read position (and
    /// Oracle GTID retrieved set) is noted now; the SQL thread is awaited at most `timeout`, then
    /// stopped. The IO thread is left alone: it fetches nothing from a dead source, and stopping
    /// one stuck on a hung source takes seconds on MySQL.
    pub(crate) async fn apply_relay_log(&mut self, on: &InstanceKey, timeout: Duration) -> Result<Vec<String>, (Vec<String>, String)> {
        self.sent.clear();
        self.apply_fetched(on, timeout).await.map_err(|e| (std::mem::take(&mut self.sent), e))
    }

    async fn apply_fetched(&mut self, on: &InstanceKey, timeout: Duration) -> StepResult {
        self.remember(on).await?;
        let read_of = |row: &TextRow| {
            let [file_new, file_old] = replica_status_column_names("Source_Log_File");
            let [pos_new, pos_old] = replica_status_column_names("Read_Source_Log_Pos");
            BinlogCoordinates::binlog(
                row.text(&[file_new.as_str(), file_old.as_str()]),
                row.number(&[pos_new.as_str(), pos_old.as_str()]).unwrap_or(0).max(0) as u64,
            )
        };
        let first = self.replica_status(on).await?.ok_or_else(|| format!("{on} is not a replica"))?;
        let read = read_of(&first);
        let retrieved = GtidSet::parse(&first.text(&["Retrieved_Gtid_Set"])).ok().filter(|g| !g.is_empty());
        let deadline = Instant::now() + timeout;
        let mut row = first;
        loop {
            let by_gtid = retrieved.as_ref().is_some_and(|r| GtidSet::parse(&row.text(&["Executed_Gtid_Set"])).is_ok_and(|e| r.subtract(&e).is_empty()));
            if exec_of(&row) >= read || by_gtid {
                break;
            }
            let sql_error = row.text(&["Last_SQL_Error"]);
            if !sql_error.is_empty() {
                return Err(format!("{on} stopped applying its relay log: {sql_error}"));
            }
            if Instant::now() > deadline {
                return Err(format!("{on} did not apply its relay log within {timeout:?}"));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
            row = self.replica_status(on).await?.ok_or_else(|| format!("{on} is not a replica"))?;
        }
        let stop_sql = self.dialect(on).stop_replica_sql_thread().to_string();
        self.exec(on, &stop_sql).await?;
        Ok(vec![stop_sql])
    }

    /// For recovery: sends `statements` (from the dialect) in order; stops at the first error.
    pub(crate) async fn exec_all(&mut self, on: &InstanceKey, statements: &[String]) -> Result<Vec<String>, (Vec<String>, String)> {
        self.sent.clear();
        for sql in statements {
            if let Err(e) = self.exec(on, sql).await {
                return Err((std::mem::take(&mut self.sent), e));
            }
        }
        Ok(std::mem::take(&mut self.sent))
    }

    /// The dialect of `key` as discovery last saw it.
    pub(crate) fn settings(&self) -> &ExecSettings {
        &self.settings
    }

    pub(crate) fn dialect_for(&self, key: &InstanceKey) -> Dialect {
        self.dialect(key)
    }

    /// Closes every connection (after `run_single` and friends).
    pub(crate) async fn close(mut self) {
        for (_, conn) in self.conns.drain() {
            conn.close().await;
        }
    }

    /// Checks, right before anything is touched, what a GTID move needs from the servers as
    /// they are now (discovery's view may be a poll interval old, and has nothing to tell for
    /// MariaDB): its destination still has every transaction the replica lacks. A refusal here
    /// changes nothing, like the planner's. Only for plans of one part: a part of a plan over
    /// several replicas fails and is put back on its own instead.
    pub async fn preflight(&mut self, plan: &Plan) -> Result<(), Refusal> {
        if plan.parts.len() != 1 {
            return Ok(());
        }
        for step in plan.steps() {
            if let Step::ChangeSource { replica, to, position: Position::Gtid } = step {
                self.gtid_available(replica, to).await?;
            }
        }
        Ok(())
    }

    /// Oracle: `to`'s gtid_purged minus `replica`'s gtid_executed is empty. MariaDB: in every
    /// domain, the replica has applied what precedes `to`'s oldest binary log.
    async fn gtid_available(&mut self, replica: &InstanceKey, to: &InstanceKey) -> Result<(), Refusal> {
        let unreachable = |e: String| Refusal::new(Rule::NotReachable, format!("cannot check that {to} still has what {replica} needs: {e}"));
        let first = |rows: Vec<TextRow>| rows.first().and_then(|r| r.at(0)).unwrap_or("").to_string();
        let (dt, dr) = (self.dialect(to), self.dialect(replica));
        if dr.is_mariadb() {
            let logs = self.query(to, dt.show_binary_logs()).await.map_err(unreachable)?;
            let Some(oldest) = logs.first().map(|r| r.text(&["Log_name"])) else { return Ok(()) };
            let Some(sql) = dt.binlog_gtid_pos_sql(&oldest) else { return Ok(()) };
            let start = first(self.query(to, &sql).await.map_err(unreachable)?);
            let position = first(self.query(replica, dr.applied_gtids_query()).await.map_err(unreachable)?);
            return mariadb_gtid_available(replica, &position, to, &start);
        }
        let purged = first(self.query(to, dt.gtid_purged_query()).await.map_err(unreachable)?);
        let executed = first(self.query(replica, dr.applied_gtids_query()).await.map_err(unreachable)?);
        let unreadable = |e: String| Refusal::new(Rule::PurgedGtids, format!("unreadable GTID set: {e}"));
        let missing = GtidSet::parse(&purged).map_err(unreadable)?.subtract(&GtidSet::parse(&executed).map_err(unreadable)?);
        if !missing.is_empty() {
            return Err(Refusal::new(Rule::PurgedGtids, format!("{to} has purged transactions {replica} has not executed: {missing}")));
        }
        Ok(())
    }

    /// Runs a read; a connection that turned out dead is dropped, so the next use reconnects
    /// (to a server that was restarted meanwhile, for instance).
    pub(crate) async fn query(&mut self, key: &InstanceKey, sql: &str) -> Result<Vec<TextRow>, String> {
        let result = self.conn(key).await?.query(sql).await;
        if result.as_ref().is_err_and(MySqlError::is_unreachable) {
            self.conns.remove(key);
        }
        result.map_err(|e| e.to_string())
    }

    fn spec(&self, key: &InstanceKey) -> ConnectSpec {
        ConnectSpec {
            host: key.hostname.clone(),
            port: key.port,
            user: self.settings.user.clone(),
            password: self.settings.password.clone(),
            connect_timeout: self.settings.connect_timeout,
            read_timeout: self.settings.read_timeout,
        }
    }

    async fn conn(&mut self, key: &InstanceKey) -> Result<&mut TextConn, String> {
        if !self.conns.contains_key(key) {
            let conn = TextConn::connect(&self.spec(key)).await.map_err(|e| e.to_string())?;
            self.conns.insert(key.clone(), conn);
        }
        Ok(self.conns.get_mut(key).expect("connection was just made"))
    }

    /// Opens connections to `keys` all at once (a MySQL login costs a few round trips and a
    /// key exchange: one after another they add up). Failures are left for the steps to meet.
    pub(crate) async fn preconnect(&mut self, keys: &[InstanceKey]) {
        let missing: Vec<InstanceKey> = keys.iter().filter(|k| !self.conns.contains_key(*k)).cloned().collect();
        let opened = futures::future::join_all(missing.into_iter().map(|k| {
            let spec = self.spec(&k);
            async move { (k, TextConn::connect(&spec).await) }
        }))
        .await;
        for (k, c) in opened {
            if let Ok(c) = c {
                self.conns.insert(k, c);
            }
        }
    }

    /// For recovery: runs each server's statements, all servers at once (a statement that
    /// waits on one server, such as stopping an IO thread stuck on a hung source, does not
    /// delay the others). Results in `work`'s order.
    pub(crate) async fn exec_concurrently(&mut self, work: Vec<(InstanceKey, Vec<String>)>) -> Vec<Result<Vec<String>, (Vec<String>, String)>> {
        let jobs = work.into_iter().map(|(key, statements)| {
            let conn = self.conns.remove(&key);
            let spec = self.spec(&key);
            async move {
                let mut conn = match conn {
                    Some(c) => c,
                    None => match TextConn::connect(&spec).await {
                        Ok(c) => c,
                        Err(e) => return (key, None, Err((Vec::new(), e.to_string()))),
                    },
                };
                let mut sent = Vec::new();
                for sql in statements {
                    sent.push(sql.clone());
                    if let Err(e) = conn.exec(&sql).await {
                        let keep = (!e.is_unreachable()).then_some(conn);
                        return (key, keep, Err((sent, e.to_string())));
                    }
                }
                (key, Some(conn), Ok(sent))
            }
        });
        let done = futures::future::join_all(jobs).await;
        done.into_iter()
            .map(|(key, conn, result)| {
                if let Some(c) = conn {
                    self.conns.insert(key, c);
                }
                result
            })
            .collect()
    }

    async fn exec(&mut self, key: &InstanceKey, sql: &str) -> Result<(), String> {
        self.exec_shown(key, sql, sql).await
    }

    /// Sends `sql`, recorded as `shown` (the statement with its password masked).
    async fn exec_shown(&mut self, key: &InstanceKey, sql: &str, shown: &str) -> Result<(), String> {
        self.sent.push(shown.to_string());
        let result = self.conn(key).await?.exec(sql).await;
        if result.as_ref().is_err_and(MySqlError::is_unreachable) {
            self.conns.remove(key);
        }
        result.map_err(|e| e.to_string())
    }

    pub(crate) async fn replica_status(&mut self, key: &InstanceKey) -> Result<Option<TextRow>, String> {
        let sql = self.dialect(key).show_replica_status();
        let rows = self.query(key, sql).await?;
        Ok(rows.into_iter().last())
    }

    pub(crate) async fn exec_coordinates(&mut self, key: &InstanceKey) -> Result<BinlogCoordinates, String> {
        let row = self.replica_status(key).await?.ok_or_else(|| format!("{key} is not a replica"))?;
        Ok(exec_of(&row))
    }

    pub(crate) async fn binlog_coordinates(&mut self, key: &InstanceKey) -> Result<BinlogCoordinates, String> {
        let sql = self.dialect(key).show_binlog_status();
        let rows = self.query(key, sql).await?;
        let row = rows.first().ok_or_else(|| format!("{key} has no binary log position (log_bin off?)"))?;
        Ok(BinlogCoordinates::binlog(row.text(&["File"]), row.number(&["Position"]).unwrap_or(0).max(0) as u64))
    }

    /// Remembers a replica's state the first time the operation touches it.
    async fn remember(&mut self, key: &InstanceKey) -> Result<(), String> {
        if self.before.contains_key(key) {
            return Ok(());
        }
        let Some(row) = self.replica_status(key).await? else {
            let before = Before {
                was_replica: false,
                io_running: false,
                sql_running: false,
                source: InstanceKey::default(),
                used_gtid: false,
                mariadb_current_pos: false,
                exec_at_change: None,
                changed_to: None,
                heartbeat: None,
            };
            self.before.insert(key.clone(), before);
            self.touched.push(key.clone());
            return Ok(());
        };
        let col = |name: &'static str| {
            let [new, old] = replica_status_column_names(name);
            row.text(&[new.as_str(), old.as_str()])
        };
        let port = col("Source_Port").parse().unwrap_or(0);
        let before = Before {
            was_replica: true,
            // "Connecting" (MariaDB also "Preparing") is a started receiver that has yet to reach
            // its source: to be started again on rollback like a running one.
            io_running: !matches!(col("Replica_IO_Running").as_str(), "No" | ""),
            sql_running: col("Replica_SQL_Running") == "Yes",
            source: InstanceKey::new(col("Source_Host"), port),
            used_gtid: row.number(&["Auto_Position"]) == Some(1) || !matches!(row.get(&["Using_Gtid"]), None | Some("" | "No")),
            mariadb_current_pos: row.get(&["Using_Gtid"]).is_some_and(|g| g.eq_ignore_ascii_case("Current_Pos")),
            exec_at_change: None,
            changed_to: None,
            heartbeat: None,
        };
        self.before.insert(key.clone(), before);
        self.touched.push(key.clone());
        Ok(())
    }

    async fn run_step(&mut self, step: &Step) -> StepResult {
        match step {
            Step::StopReplica { on } => {
                self.remember(on).await?;
                let sql = self.dialect(on).stop_replica().to_string();
                self.exec(on, &sql).await?;
                Ok(vec![sql])
            }
            Step::StartReplica { on } => {
                let sql = self.dialect(on).start_replica().to_string();
                self.exec(on, &sql).await?;
                self.wait_replicating(on).await?;
                Ok(vec![sql])
            }
            Step::Sql { on, statements, .. } => {
                for sql in statements {
                    self.exec(on, sql).await?;
                }
                Ok(statements.clone())
            }
            Step::AlignSiblings { a, b } => {
                let (ea, eb) = (self.exec_coordinates(a).await?, self.exec_coordinates(b).await?);
                if ea == eb {
                    return Ok(Vec::new());
                }
                let (behind, target) = if ea < eb { (a, eb) } else { (b, ea) };
                self.catch_up(behind, &target).await
            }
            Step::CatchUpWithSource { replica, source } => {
                let target = self.binlog_coordinates(source).await?;
                if self.exec_coordinates(replica).await? >= target {
                    return Ok(Vec::new());
                }
                self.catch_up(replica, &target).await
            }
            Step::JoinAsReplica { server, to, position, credentials_from } => {
                self.remember(server).await?;
                let (user, password) = self.replication_credentials(credentials_from).await?;
                let coords = match position {
                    Position::Gtid => None,
                    Position::ExecOf(k) => Some(self.exec_coordinates(k).await?),
                    Position::BinlogOf(k) => Some(self.binlog_coordinates(k).await?),
                    Position::SameExec => return Err(format!("{server} has no executed position of its own to keep")),
                };
                let former_primary = self.before.get(server).is_some_and(|b| !b.was_replica);
                let d = self.dialect(server);
                let sql = join_sql(&d, to, coords.as_ref(), former_primary, &user, &password);
                if let Some(b) = self.before.get_mut(server) {
                    b.exec_at_change = Some(BinlogCoordinates::default());
                    b.changed_to = Some((to.clone(), coords.clone()));
                }
                // What is recorded (report, audit) never holds the password; a server may also
                // quote the statement in its error (a syntax error "near ...").
                let shown = join_sql(&d, to, coords.as_ref(), former_primary, &user, "****");
                self.exec_shown(server, &sql, &shown).await.map_err(|e| redact(&e, &password))?;
                Ok(vec![shown])
            }
            Step::StopAfterDrainingRelayLog { on } => {
                let timeout = self.settings.wait_timeout;
                self.stop_after_draining(on, timeout).await
            }
            Step::SkipFailedTransaction { on } => self.skip_failed_transaction(on).await,
            Step::ChangeSource { replica, to, position } => {
                self.remember(replica).await?;
                let exec_now = self.exec_coordinates(replica).await?;
                let coords = match position {
                    Position::Gtid => None,
                    Position::SameExec => Some(exec_now.clone()),
                    Position::ExecOf(k) => Some(self.exec_coordinates(k).await?),
                    Position::BinlogOf(k) => Some(self.binlog_coordinates(k).await?),
                };
                let heartbeat = self.heartbeat_period(replica).await;
                let sql = change_source_sql(&self.dialect(replica), to, coords.as_ref(), heartbeat);
                if let Some(b) = self.before.get_mut(replica) {
                    b.heartbeat = heartbeat;
                    b.exec_at_change = Some(exec_now);
                    b.changed_to = Some((to.clone(), coords.clone()));
                }
                self.exec(replica, &sql).await?;
                Ok(vec![sql])
            }
        }
    }

    /// The replica's heartbeat period; `None` (the server default applies) when it cannot be
    /// read, e.g. without SELECT on mysql.slave_master_info.
    async fn heartbeat_period(&mut self, replica: &InstanceKey) -> Option<f64> {
        let sql = self.dialect(replica).heartbeat_period_query();
        let rows = self.query(replica, sql).await.ok()?;
        rows.first().and_then(|r| r.at(0)).and_then(|v| v.trim().parse::<f64>().ok()).filter(|h| *h > 0.0)
    }

    /// The user and password replicas use: `ReplicationCredentialsQuery` when configured, else
    /// what `from`'s own channel stores (Oracle MySQL keeps it in mysql.slave_master_info).
    pub(crate) async fn replication_credentials(&mut self, from: &InstanceKey) -> Result<(String, String), String> {
        let query = self.settings.replication_credentials_query.trim().to_string();
        let (sql, source) = if query.is_empty() {
            let Some(stored) = self.dialect(from).stored_replication_credentials_query() else {
                return Err(format!("MariaDB does not reveal {from}'s replication password: set ReplicationCredentialsQuery"));
            };
            (stored.to_string(), "mysql.slave_master_info")
        } else {
            (query, "ReplicationCredentialsQuery")
        };
        let rows = self.query(from, &sql).await.map_err(|e| format!("reading replication credentials ({source}): {e}"))?;
        let row = rows.first().ok_or_else(|| format!("{source} gave no replication credentials on {from}"))?;
        match (row.at(0), row.at(1)) {
            (Some(user), Some(password)) if !user.is_empty() => Ok((user.to_string(), password.to_string())),
            _ => Err(format!("{source} gave no replication user on {from}")),
        }
    }

    async fn stop_after_draining(&mut self, on: &InstanceKey, timeout: Duration) -> StepResult {
        self.remember(on).await?;
        let d = self.dialect(on);
        let stop_io = d.stop_replica_io_thread().to_string();
        self.exec(on, &stop_io).await?;
        let deadline = Instant::now() + timeout;
        loop {
            let row = self.replica_status(on).await?.ok_or_else(|| format!("{on} is not a replica"))?;
            let [file_new, file_old] = replica_status_column_names("Source_Log_File");
            let [pos_new, pos_old] = replica_status_column_names("Read_Source_Log_Pos");
            let read = BinlogCoordinates::binlog(
                row.text(&[file_new.as_str(), file_old.as_str()]),
                row.number(&[pos_new.as_str(), pos_old.as_str()]).unwrap_or(0).max(0) as u64,
            );
            // With Oracle GTID, everything fetched is applied once the executed set holds the
            // retrieved one: exact, where a multi-threaded replica's executed coordinates move
            // only at checkpoints (replica_checkpoint_period, 300 ms).
            if exec_of(&row) >= read || gtids_applied(&row) {
                break;
            }
            let sql_error = row.text(&["Last_SQL_Error"]);
            if !sql_error.is_empty() {
                return Err(format!("{on} stopped applying its relay log: {sql_error}"));
            }
            if Instant::now() > deadline {
                return Err(format!("{on} did not apply its relay log within {timeout:?}"));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let stop_sql = d.stop_replica_sql_thread().to_string();
        self.exec(on, &stop_sql).await?;
        Ok(vec![stop_io, stop_sql])
    }

    async fn skip_failed_transaction(&mut self, on: &InstanceKey) -> StepResult {
        self.remember(on).await?;
        let d = self.dialect(on);
        let row = self.replica_status(on).await?.ok_or_else(|| format!("{on} is not a replica"))?;
        let mut statements = if row.number(&["Auto_Position"]) == Some(1) {
            // The failed transaction is the first one fetched but not executed.
            let retrieved = row.text(&["Retrieved_Gtid_Set"]);
            let executed = row.text(&["Executed_Gtid_Set"]);
            let pending = app::model::gtid::GtidSet::parse(&retrieved)
                .and_then(|r| app::model::gtid::GtidSet::parse(&executed).map(|e| r.subtract(&e)))
                .map_err(|e| format!("cannot read {on}'s GTID sets: {e}"))?;
            let gtid = pending.first().ok_or_else(|| format!("{on} has no fetched transaction left to skip"))?;
            d.inject_empty_transaction(&gtid)
        } else {
            vec![d.skip_one_event_group().to_string()]
        };
        statements.push(d.start_replica_sql_thread().to_string());
        for sql in &statements {
            self.exec(on, sql).await?;
        }
        Ok(statements)
    }

    /// `START ... UNTIL target`, wait until executed, then stop the replica again.
    async fn catch_up(&mut self, replica: &InstanceKey, target: &BinlogCoordinates) -> StepResult {
        let d = self.dialect(replica);
        let until = d.start_replica_until(&target.log_file, target.log_pos);
        self.exec(replica, &until).await?;
        let deadline = Instant::now() + self.settings.wait_timeout;
        loop {
            let row = self.replica_status(replica).await?.ok_or_else(|| format!("{replica} is no longer a replica"))?;
            if exec_of(&row) >= *target {
                break;
            }
            let sql_error = row.text(&["Last_SQL_Error"]);
            if !sql_error.is_empty() {
                return Err(format!("{replica} stopped applying before reaching {target}: {sql_error}"));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{replica} did not reach {target} within {:?} (at {})",
                    self.settings.wait_timeout,
                    exec_of(&row)
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let stop = d.stop_replica().to_string();
        self.exec(replica, &stop).await?;
        Ok(vec![until, stop])
    }

    /// Waits until both threads run; fails with the replica's own error otherwise.
    async fn wait_replicating(&mut self, key: &InstanceKey) -> Result<(), String> {
        let deadline = Instant::now() + self.settings.wait_timeout;
        loop {
            let row = self.replica_status(key).await?.ok_or_else(|| format!("{key} is not a replica"))?;
            let col = |name: &'static str| {
                let [new, old] = replica_status_column_names(name);
                row.text(&[new.as_str(), old.as_str()])
            };
            let (io_running, sql_running) = (col("Replica_IO_Running"), col("Replica_SQL_Running"));
            if io_running == "Yes" && sql_running == "Yes" {
                return Ok(());
            }
            let io = row.text(&["Last_IO_Error"]);
            let sql = row.text(&["Last_SQL_Error"]);
            // START waits until the threads run, so a thread that is "No" with an error has
            // stopped by itself (e.g. error 1236: the source lacks the binlogs asked for) and
            // will not start again: waiting longer would only delay the rollback. A receiver
            // still "Connecting" may yet connect, and is given until the deadline.
            let stopped = [(io_running == "No", &io), (sql_running == "No", &sql)];
            if let Some((_, error)) = stopped.iter().find(|(no, error)| *no && !error.is_empty()) {
                return Err(format!("replication on {key} stopped: {error}"));
            }
            if Instant::now() > deadline {
                let why = [io, sql].into_iter().filter(|e| !e.is_empty()).collect::<Vec<_>>().join("; ");
                return Err(format!(
                    "replication on {key} did not start within {:?}{}",
                    self.settings.wait_timeout,
                    if why.is_empty() { String::new() } else { format!(": {why}") }
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Puts every touched replica back: original source and position, threads as they were.
    async fn roll_back(&mut self) -> Vec<StepRun> {
        let mut runs = Vec::new();
        let touched: Vec<InstanceKey> = self.touched.iter().rev().cloned().collect();
        for key in touched {
            let Some(before) = self.before.get(&key).cloned() else { continue };
            let started = Utc::now();
            let clock = Instant::now();
            let (description, statements, error) = self.put_back(&key, &before).await;
            runs.push(StepRun { server: key, description, statements, started, duration_ms: clock.elapsed().as_secs_f64() * 1000.0, error });
        }
        runs
    }

    /// Puts one replica back; returns what was done, the statements sent, and an error.
    async fn put_back(&mut self, key: &InstanceKey, before: &Before) -> (String, Vec<String>, String) {
        let d = self.dialect(key);
        let mut statements = vec![d.stop_replica().to_string()];
        let mut description = format!("restore replication threads on {key}");
        if let Err(e) = self.exec(key, &statements[0]).await {
            return (description, statements, e);
        }
        let mut left_below = String::new();
        if before.exec_at_change.is_some() && !before.was_replica {
            description = format!("make {key} a non-replica again");
            statements.push(d.reset_replica_all().to_string());
        } else if let Some(exec) = &before.exec_at_change {
            description = format!("put {key} back under {} and restore its threads", before.source);
            match self.applied_from_new_source(key, before).await {
                Ok(None) => statements.push(source_again_sql(&d, before, exec)),
                Ok(Some(why)) => {
                    description = format!("leave {key} where it is and restore its threads");
                    left_below = why;
                }
                Err(e) => return (description, statements, e),
            }
        }
        match (before.io_running, before.sql_running) {
            (true, true) => statements.push(d.start_replica().to_string()),
            (true, false) => statements.push(d.start_replica_io_thread().to_string()),
            (false, true) => statements.push(d.start_replica_sql_thread().to_string()),
            (false, false) => {}
        }
        for sql in &statements[1..] {
            if let Err(e) = self.exec(key, sql).await {
                return (description, statements, e);
            }
        }
        // Put back means replicating again, not just told to: a replica that cannot reach its
        // original source is an error of the rollback. (One left below a dead new source is
        // reported as such already.)
        if before.io_running && before.sql_running && left_below.is_empty() {
            if let Err(e) = self.wait_replicating(key).await {
                return (description, statements, e);
            }
        }
        (description, statements, left_below)
    }

    /// For a replica moved on binlog coordinates: whether it has already applied transactions
    /// from its new source. Its old coordinates then no longer describe what it holds, and
    /// pointing it back there would apply those transactions a second time; it must stay.
    /// (With GTID the servers themselves skip what was applied, so going back is always safe.)
    async fn applied_from_new_source(&mut self, key: &InstanceKey, before: &Before) -> Result<Option<String>, String> {
        let Some((to, Some(start))) = &before.changed_to else { return Ok(None) };
        let Some(row) = self.replica_status(key).await? else { return Ok(None) };
        let col = |name: &'static str| {
            let [new, old] = replica_status_column_names(name);
            row.text(&[new.as_str(), old.as_str()])
        };
        let source = InstanceKey::new(col("Source_Host"), col("Source_Port").parse().unwrap_or(0));
        let exec = exec_of(&row);
        if source != *to || exec <= *start {
            return Ok(None);
        }
        Ok(Some(format!(
            "{key} was left below {to}: it already applied transactions from there ({start} to {exec}), \
             and going back to its old position on {} would apply them twice",
            before.source
        )))
    }
}

/// The statement that points a replica at its original source again: with GTID as before
/// (MariaDB `current_pos` or `slave_pos` as it was), else at the executed position it had when
/// it was moved.
fn source_again_sql(d: &Dialect, before: &Before, exec: &BinlogCoordinates) -> String {
    if !before.used_gtid {
        return change_source_sql(d, &before.source, Some(exec), before.heartbeat);
    }
    let mode = if d.is_mariadb() && before.mariadb_current_pos { GtidMode::MariaDbCurrentPos } else { GtidMode::On };
    let change = ChangeSource {
        host: Some(before.source.hostname.clone()),
        port: Some(before.source.port),
        gtid: Some(mode),
        heartbeat_period: before.heartbeat,
        ..Default::default()
    };
    d.change_source(&change)
}

/// `text` with every occurrence of `secret` masked.
fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        return text.to_string();
    }
    text.replace(secret, "****")
}

/// An Oracle GTID replica has applied every transaction it fetched (`Retrieved_Gtid_Set` within
/// `Executed_Gtid_Set`); false when it cannot tell (no GTID, unreadable sets).
pub(crate) fn gtids_applied(row: &TextRow) -> bool {
    let (retrieved, executed) = (row.text(&["Retrieved_Gtid_Set"]), row.text(&["Executed_Gtid_Set"]));
    if retrieved.trim().is_empty() || executed.trim().is_empty() {
        return false;
    }
    match (GtidSet::parse(&retrieved), GtidSet::parse(&executed)) {
        (Ok(r), Ok(e)) => r.subtract(&e).is_empty(),
        _ => false,
    }
}

/// A replica's executed position on its source's binary log.
pub(crate) fn exec_of(row: &TextRow) -> BinlogCoordinates {
    let [file_new, file_old] = replica_status_column_names("Relay_Source_Log_File");
    let [pos_new, pos_old] = replica_status_column_names("Exec_Source_Log_Pos");
    BinlogCoordinates::binlog(
        row.text(&[file_new.as_str(), file_old.as_str()]),
        row.number(&[pos_new.as_str(), pos_old.as_str()]).unwrap_or(0).max(0) as u64,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn before(used_gtid: bool, mariadb_current_pos: bool) -> Before {
        Before {
            was_replica: true,
            io_running: true,
            sql_running: true,
            source: InstanceKey::new("src", 3306),
            used_gtid,
            mariadb_current_pos,
            exec_at_change: None,
            changed_to: None,
            heartbeat: None,
        }
    }

    #[test]
    fn a_replica_goes_back_the_way_it_replicated() {
        let exec = BinlogCoordinates::binlog("mysql-bin.000002", 1234);
        let maria = Dialect::detect("10.11.6-MariaDB", "");
        let oracle = Dialect::detect("9.7.4", "");
        assert_eq!(
            source_again_sql(&maria, &before(false, false), &exec),
            "CHANGE MASTER TO MASTER_HOST='src', MASTER_PORT=3306, MASTER_USE_GTID=no, MASTER_LOG_FILE='mysql-bin.000002', MASTER_LOG_POS=1234"
        );
        assert_eq!(
            source_again_sql(&maria, &before(true, true), &exec),
            "CHANGE MASTER TO MASTER_HOST='src', MASTER_PORT=3306, MASTER_USE_GTID=current_pos"
        );
        assert_eq!(source_again_sql(&maria, &before(true, false), &exec), "CHANGE MASTER TO MASTER_HOST='src', MASTER_PORT=3306, MASTER_USE_GTID=slave_pos");
        assert_eq!(
            source_again_sql(&oracle, &before(true, false), &exec),
            "CHANGE REPLICATION SOURCE TO SOURCE_HOST='src', SOURCE_PORT=3306, SOURCE_AUTO_POSITION=1"
        );
        assert_eq!(
            source_again_sql(&oracle, &before(false, false), &exec),
            "CHANGE REPLICATION SOURCE TO SOURCE_HOST='src', SOURCE_PORT=3306, SOURCE_LOG_FILE='mysql-bin.000002', SOURCE_LOG_POS=1234"
        );
    }

    #[test]
    fn errors_never_carry_the_password() {
        assert_eq!(redact("near 'SOURCE_PASSWORD='s3cret', GET' at line 1", "s3cret"), "near 'SOURCE_PASSWORD='****', GET' at line 1");
        assert_eq!(redact("no password here", ""), "no password here");
    }
}
