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
use crate::mysql::{ConnectSpec, Dialect, MySqlError, TextConn, TextRow};
use app::model::ops::{Moved, OperationReport, StepRun};
use app::model::{BinlogCoordinates, Instance, InstanceKey};
use chrono::Utc;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// How the executor reaches servers and how long it waits for them.
#[derive(Clone, Debug)]
pub struct ExecSettings {
    pub user: String,
    pub password: String,
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
    /// Executed position right before its source was changed (set only if it was).
    exec_at_change: Option<BinlogCoordinates>,
}

pub struct Executor {
    settings: ExecSettings,
    /// Dialects from discovery's view, by server.
    dialects: HashMap<InstanceKey, Dialect>,
    conns: HashMap<InstanceKey, TextConn>,
    before: BTreeMap<InstanceKey, Before>,
    /// Order in which replicas were first touched (rollback goes backwards).
    touched: Vec<InstanceKey>,
}

type StepResult = Result<Vec<String>, String>;

impl Executor {
    pub fn new(settings: ExecSettings, view: &BTreeMap<InstanceKey, Instance>) -> Executor {
        let dialects = view.iter().map(|(k, i)| (k.clone(), dialect_of(Some(i)))).collect();
        Executor { settings, dialects, conns: HashMap::new(), before: BTreeMap::new(), touched: Vec::new() }
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
                failpoints::hit(&format!("{}:{}", step.kind(), step.server()));
                let started = Utc::now();
                let clock = Instant::now();
                let (statements, error) = match self.run_step(step).await {
                    Ok(s) => (s, String::new()),
                    Err(e) => (Vec::new(), e),
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
                    report.rollback.extend(rollback);
                    part_failed = true;
                    break;
                }
                match step {
                    Step::ChangeSource { replica, to, .. } | Step::JoinAsReplica { server: replica, to, .. } => {
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

    async fn conn(&mut self, key: &InstanceKey) -> Result<&mut TextConn, String> {
        if !self.conns.contains_key(key) {
            let spec = ConnectSpec {
                host: key.hostname.clone(),
                port: key.port,
                user: self.settings.user.clone(),
                password: self.settings.password.clone(),
                connect_timeout: self.settings.connect_timeout,
                read_timeout: self.settings.read_timeout,
            };
            let conn = TextConn::connect(&spec).await.map_err(|e| e.to_string())?;
            self.conns.insert(key.clone(), conn);
        }
        Ok(self.conns.get_mut(key).expect("connection was just made"))
    }

    async fn exec(&mut self, key: &InstanceKey, sql: &str) -> Result<(), String> {
        let result = self.conn(key).await?.exec(sql).await;
        if let Err(e) = &result {
            if e.is_unreachable() {
                self.conns.remove(key);
            }
        }
        result.map_err(|e: MySqlError| e.to_string())
    }

    async fn replica_status(&mut self, key: &InstanceKey) -> Result<Option<TextRow>, String> {
        let sql = self.dialect(key).show_replica_status();
        let rows = self.conn(key).await?.query(sql).await.map_err(|e| e.to_string())?;
        Ok(rows.into_iter().last())
    }

    async fn exec_coordinates(&mut self, key: &InstanceKey) -> Result<BinlogCoordinates, String> {
        let row = self.replica_status(key).await?.ok_or_else(|| format!("{key} is not a replica"))?;
        Ok(exec_of(&row))
    }

    async fn binlog_coordinates(&mut self, key: &InstanceKey) -> Result<BinlogCoordinates, String> {
        let sql = self.dialect(key).show_binlog_status();
        let rows = self.conn(key).await?.query(sql).await.map_err(|e| e.to_string())?;
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
                exec_at_change: None,
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
            io_running: col("Replica_IO_Running") == "Yes",
            sql_running: col("Replica_SQL_Running") == "Yes",
            source: InstanceKey::new(col("Source_Host"), port),
            used_gtid: row.number(&["Auto_Position"]) == Some(1) || !matches!(row.get(&["Using_Gtid"]), None | Some("" | "No")),
            exec_at_change: None,
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
                }
                self.exec(server, &sql).await?;
                // What is recorded (report, audit) never holds the password.
                Ok(vec![join_sql(&d, to, coords.as_ref(), former_primary, &user, "****")])
            }
            Step::StopAfterDrainingRelayLog { on } => self.stop_after_draining(on).await,
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
                let sql = change_source_sql(&self.dialect(replica), to, coords.as_ref());
                if let Some(b) = self.before.get_mut(replica) {
                    b.exec_at_change = Some(exec_now);
                }
                self.exec(replica, &sql).await?;
                Ok(vec![sql])
            }
        }
    }

    /// The user and password replicas use: `ReplicationCredentialsQuery` when configured, else
    /// what `from`'s own channel stores (Oracle MySQL keeps it in mysql.slave_master_info).
    async fn replication_credentials(&mut self, from: &InstanceKey) -> Result<(String, String), String> {
        let query = self.settings.replication_credentials_query.trim().to_string();
        let (sql, source) = if query.is_empty() {
            if self.dialect(from).is_mariadb() {
                return Err(format!(
                    "MariaDB does not reveal {from}'s replication password: set ReplicationCredentialsQuery"
                ));
            }
            ("SELECT User_name, User_password FROM mysql.slave_master_info WHERE Channel_name = ''".to_string(), "mysql.slave_master_info")
        } else {
            (query, "ReplicationCredentialsQuery")
        };
        let rows = self.conn(from).await?.query(&sql).await.map_err(|e| format!("reading replication credentials ({source}): {e}"))?;
        let row = rows.first().ok_or_else(|| format!("{source} gave no replication credentials on {from}"))?;
        match (row.at(0), row.at(1)) {
            (Some(user), Some(password)) if !user.is_empty() => Ok((user.to_string(), password.to_string())),
            _ => Err(format!("{source} gave no replication user on {from}")),
        }
    }

    async fn stop_after_draining(&mut self, on: &InstanceKey) -> StepResult {
        self.remember(on).await?;
        let d = self.dialect(on);
        let stop_io = d.stop_replica_io_thread().to_string();
        self.exec(on, &stop_io).await?;
        let deadline = Instant::now() + self.settings.wait_timeout;
        loop {
            let row = self.replica_status(on).await?.ok_or_else(|| format!("{on} is not a replica"))?;
            let [file_new, file_old] = replica_status_column_names("Source_Log_File");
            let [pos_new, pos_old] = replica_status_column_names("Read_Source_Log_Pos");
            let read = BinlogCoordinates::binlog(
                row.text(&[file_new.as_str(), file_old.as_str()]),
                row.number(&[pos_new.as_str(), pos_old.as_str()]).unwrap_or(0).max(0) as u64,
            );
            if exec_of(&row) >= read {
                break;
            }
            let sql_error = row.text(&["Last_SQL_Error"]);
            if !sql_error.is_empty() {
                return Err(format!("{on} stopped applying its relay log: {sql_error}"));
            }
            if Instant::now() > deadline {
                return Err(format!("{on} did not apply its relay log within {:?}", self.settings.wait_timeout));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
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
            if col("Replica_IO_Running") == "Yes" && col("Replica_SQL_Running") == "Yes" {
                return Ok(());
            }
            if Instant::now() > deadline {
                let io = row.text(&["Last_IO_Error"]);
                let sql = row.text(&["Last_SQL_Error"]);
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
            let d = self.dialect(&key);
            let mut statements = vec![d.stop_replica().to_string()];
            match &before.exec_at_change {
                Some(_) if !before.was_replica => statements.push(d.reset_replica_all().to_string()),
                Some(exec) => {
                    let coords = if before.used_gtid { None } else { Some(exec) };
                    statements.push(change_source_sql(&d, &before.source, coords));
                }
                None => {}
            }
            match (before.io_running, before.sql_running) {
                (true, true) => statements.push(d.start_replica().to_string()),
                (true, false) => statements.push(d.start_replica_io_thread().to_string()),
                (false, true) => statements.push(d.start_replica_sql_thread().to_string()),
                (false, false) => {}
            }
            let started = Utc::now();
            let clock = Instant::now();
            let mut error = String::new();
            for sql in &statements {
                if let Err(e) = self.exec(&key, sql).await {
                    error = e;
                    break;
                }
            }
            let description = if before.exec_at_change.is_some() && !before.was_replica {
                format!("make {key} a non-replica again")
            } else if before.exec_at_change.is_some() {
                format!("put {key} back under {} and restore its threads", before.source)
            } else {
                format!("restore replication threads on {key}")
            };
            runs.push(StepRun { server: key, description, statements, started, duration_ms: clock.elapsed().as_secs_f64() * 1000.0, error });
        }
        runs
    }
}

/// A replica's executed position on its source's binary log.
fn exec_of(row: &TextRow) -> BinlogCoordinates {
    let [file_new, file_old] = replica_status_column_names("Relay_Source_Log_File");
    let [pos_new, pos_old] = replica_status_column_names("Exec_Source_Log_Pos");
    BinlogCoordinates::binlog(
        row.text(&[file_new.as_str(), file_old.as_str()]),
        row.number(&[pos_new.as_str(), pos_old.as_str()]).unwrap_or(0).max(0) as u64,
    )
}
