//! A plan: the ordered steps of one operation, as data. The planner produces it without IO; the
//! executor runs it; `render` shows it to people (dry run, the UI's confirm dialog) with the
//! statements each step sends, positions taken from the last probe (the executor reads them
//! again at the moment it needs them).

use crate::mysql::{ChangeSource, Dialect, GtidMode};
use app::model::ops::{Operation, Plan as PlanView, PlanStep};
use app::model::{BinlogCoordinates, Instance, InstanceKey};
use app::rules::Mechanism;
use std::collections::BTreeMap;

/// Where a replica starts reading from its new source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Position {
    /// GTID auto-positioning (Oracle) / `slave_pos` (MariaDB).
    Gtid,
    /// The replica's own executed coordinates: the new source serves the same binlogs (repoint).
    SameExec,
    /// The executed coordinates of another (stopped) replica of the new source (move-up).
    ExecOf(InstanceKey),
    /// The new source's own current binlog position (move-below, after alignment).
    BinlogOf(InstanceKey),
}

/// One step. Every step names the server it acts on first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Stop both replication threads (remembering how they were, to put them back).
    StopReplica { on: InstanceKey },
    /// Start both threads and wait until they run.
    StartReplica { on: InstanceKey },
    /// Statements sent as they are.
    Sql { on: InstanceKey, description: String, statements: Vec<String> },
    /// Both siblings stopped: the one behind runs `START ... UNTIL` the other's executed position.
    AlignSiblings { a: InstanceKey, b: InstanceKey },
    /// `replica` (stopped) runs `START ... UNTIL` its stopped source's own binlog position.
    CatchUpWithSource { replica: InstanceKey, source: InstanceKey },
    /// Point `replica` at `to`, naming only host, port and position: the channel keeps its
    /// user, password, TLS options, heartbeat and retry settings.
    ChangeSource { replica: InstanceKey, to: InstanceKey, position: Position },
    /// Make `server`, which is not a replica (a primary being demoted), replicate from `to` at
    /// `position`, with the replication credentials `credentials_from` uses (its channel's, or
    /// `ReplicationCredentialsQuery`'s answer). A former MariaDB primary uses `current_pos`.
    JoinAsReplica { server: InstanceKey, to: InstanceKey, position: Position, credentials_from: InstanceKey },
    /// Stop the IO thread, wait until the SQL thread has applied everything already fetched,
    /// then stop the SQL thread (stop-replica-nice).
    StopAfterDrainingRelayLog { on: InstanceKey },
    /// Skip the transaction the SQL thread stopped on: with Oracle GTID an empty transaction
    /// under its GTID (read at that moment), else the skip counter; then start the SQL thread.
    SkipFailedTransaction { on: InstanceKey },
}

impl Step {
    pub fn server(&self) -> &InstanceKey {
        match self {
            Step::StopReplica { on } | Step::StartReplica { on } | Step::Sql { on, .. } => on,
            Step::AlignSiblings { a, .. } => a,
            Step::CatchUpWithSource { replica, .. } | Step::ChangeSource { replica, .. } => replica,
            Step::JoinAsReplica { server, .. } => server,
            Step::StopAfterDrainingRelayLog { on } | Step::SkipFailedTransaction { on } => on,
        }
    }

    /// Every server the step touches.
    pub fn servers(&self) -> Vec<&InstanceKey> {
        match self {
            Step::AlignSiblings { a, b } => vec![a, b],
            Step::CatchUpWithSource { replica, source } => vec![replica, source],
            other => vec![other.server()],
        }
    }

    /// A short name, used for fail points and logs (`change-source`).
    pub fn kind(&self) -> &'static str {
        match self {
            Step::StopReplica { .. } => "stop-replica",
            Step::StartReplica { .. } => "start-replica",
            Step::Sql { .. } => "sql",
            Step::AlignSiblings { .. } => "align-siblings",
            Step::CatchUpWithSource { .. } => "catch-up",
            Step::ChangeSource { .. } => "change-source",
            Step::JoinAsReplica { .. } => "join-as-replica",
            Step::StopAfterDrainingRelayLog { .. } => "stop-after-draining",
            Step::SkipFailedTransaction { .. } => "skip-failed-transaction",
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Step::StopReplica { on } => format!("stop replication on {on}"),
            Step::StartReplica { on } => format!("start replication on {on}"),
            Step::Sql { description, .. } => description.clone(),
            Step::AlignSiblings { a, b } => format!("bring {a} and {b} to the same position on their source"),
            Step::CatchUpWithSource { replica, source } => format!("let {replica} apply everything {source} has"),
            Step::JoinAsReplica { server, to, position, credentials_from } => {
                format!("make {server} replicate from {to} {}, with {credentials_from}'s replication credentials", position_text(position))
            }
            Step::ChangeSource { replica, to, position } => format!("make {replica} replicate from {to} {}", position_text(position)),
            Step::StopAfterDrainingRelayLog { on } => format!("stop fetching on {on}, apply what was fetched, then stop applying"),
            Step::SkipFailedTransaction { on } => format!("skip the transaction replication stopped on at {on}"),
        }
    }
}

fn position_text(position: &Position) -> String {
    match position {
        Position::Gtid => "with GTID".to_string(),
        Position::SameExec => "at its own executed position".to_string(),
        Position::ExecOf(k) => format!("at {k}'s executed position"),
        Position::BinlogOf(k) => format!("at {k}'s current binlog position"),
    }
}

/// The steps of one operation, in parts. A part is all-or-nothing: when one of its steps fails,
/// what the part changed is put back. Operations on several replicas have a part per replica, so
/// one replica that cannot move does not undo the others (orchestrator's behaviour too).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub operation: Operation,
    pub mechanism: Option<Mechanism>,
    pub parts: Vec<Vec<Step>>,
}

impl Plan {
    /// A plan of one part.
    pub fn single(operation: &Operation, mechanism: Option<Mechanism>, steps: Vec<Step>) -> Plan {
        Plan { operation: operation.clone(), mechanism, parts: vec![steps] }
    }

    /// Every step, in order.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.parts.iter().flatten()
    }

    /// Where the operated instance ends up, when the plan moves it (move-up names no target).
    pub fn destination(&self) -> Option<&InstanceKey> {
        let instance = self.operation.instance();
        self.steps().find_map(|s| match s {
            Step::ChangeSource { replica, to, .. } | Step::JoinAsReplica { server: replica, to, .. } if replica == instance => Some(to),
            _ => None,
        })
    }
}

/// The CHANGE SOURCE statement for `to` at concrete coordinates (`None`: GTID).
/// `heartbeat`: the channel's period, restated because a new host resets it to the default.
pub fn change_source_sql(d: &Dialect, to: &InstanceKey, coordinates: Option<&BinlogCoordinates>, heartbeat: Option<f64>) -> String {
    let mut change = ChangeSource { host: Some(to.hostname.clone()), port: Some(to.port), heartbeat_period: heartbeat, ..Default::default() };
    match coordinates {
        None => change.gtid = Some(GtidMode::On),
        Some(c) => {
            // MariaDB keeps using GTID unless told not to; coordinates mean coordinates.
            if d.is_mariadb() {
                change.gtid = Some(GtidMode::Off);
            }
            change.log_file = Some(c.log_file.clone());
            change.log_pos = Some(c.log_pos);
        }
    }
    d.change_source(&change)
}

/// CHANGE SOURCE for a server that has no replication channel yet: credentials, position,
/// and what MySQL 8+ needs for caching_sha2_password without TLS.
pub fn join_sql(d: &Dialect, to: &InstanceKey, coordinates: Option<&BinlogCoordinates>, former_primary: bool, user: &str, password: &str) -> String {
    let mut change = ChangeSource {
        host: Some(to.hostname.clone()),
        port: Some(to.port),
        user: Some(user.to_string()),
        password: Some(password.to_string()),
        get_public_key: Some(true),
        ..Default::default()
    };
    match coordinates {
        None if d.is_mariadb() && former_primary => change.gtid = Some(GtidMode::MariaDbCurrentPos),
        None => change.gtid = Some(GtidMode::On),
        Some(c) => {
            if d.is_mariadb() {
                change.gtid = Some(GtidMode::Off);
            }
            change.log_file = Some(c.log_file.clone());
            change.log_pos = Some(c.log_pos);
        }
    }
    d.change_source(&change)
}

/// The dialect of a server, from what discovery saw.
pub fn dialect_of(inst: Option<&Instance>) -> Dialect {
    inst.map(|i| Dialect::detect(&i.version, &i.version_comment)).unwrap_or(Dialect::detect("8.0.36", ""))
}

impl Plan {
    /// The plan as people read it, positions as of the last probe.
    pub fn render(&self, view: &BTreeMap<InstanceKey, Instance>) -> PlanView {
        let steps = self.steps().flat_map(|s| render_step(s, view)).collect();
        PlanView {
            operation: self.operation.name(),
            instance: self.operation.instance().clone(),
            target: self.operation.target().cloned().or_else(|| self.destination().cloned()),
            mechanism: self.mechanism.map(|m| m.name().to_string()).unwrap_or_default(),
            steps,
        }
    }
}

fn render_step(step: &Step, view: &BTreeMap<InstanceKey, Instance>) -> Vec<PlanStep> {
    let d = |k: &InstanceKey| dialect_of(view.get(k));
    let one = |server: &InstanceKey, statements: Vec<String>| PlanStep { server: server.clone(), description: step.describe(), statements };
    match step {
        Step::StopReplica { on } => vec![one(on, vec![d(on).stop_replica().to_string()])],
        Step::StartReplica { on } => vec![one(on, vec![d(on).start_replica().to_string()])],
        Step::Sql { on, statements, .. } => vec![one(on, statements.clone())],
        Step::AlignSiblings { a, b } => {
            let exec = |k: &InstanceKey| view.get(k).map(|i| i.exec_binlog_coordinates.clone()).unwrap_or_default();
            let (behind, ahead) = if exec(a) <= exec(b) { (a, b) } else { (b, a) };
            let to = exec(ahead);
            vec![one(behind, vec![d(behind).start_replica_until(&to.log_file, to.log_pos), d(behind).stop_replica().to_string()])]
        }
        Step::CatchUpWithSource { replica, source } => {
            let to = view.get(source).map(|i| i.self_binlog_coordinates.clone()).unwrap_or_default();
            vec![one(replica, vec![d(replica).start_replica_until(&to.log_file, to.log_pos), d(replica).stop_replica().to_string()])]
        }
        Step::JoinAsReplica { server, to, position, .. } => {
            let coords = match position {
                Position::Gtid => None,
                Position::SameExec | Position::ExecOf(_) => None,
                Position::BinlogOf(k) => Some(view.get(k).map(|i| i.self_binlog_coordinates.clone()).unwrap_or_default()),
            };
            let former_primary = view.get(server).is_some_and(|i| !i.is_replica());
            vec![one(server, vec![join_sql(&d(server), to, coords.as_ref(), former_primary, "<user>", "****")])]
        }
        Step::StopAfterDrainingRelayLog { on } => {
            vec![one(on, vec![d(on).stop_replica_io_thread().to_string(), d(on).stop_replica_sql_thread().to_string()])]
        }
        Step::SkipFailedTransaction { on } => {
            let uses_gtid = view.get(on).is_some_and(|i| i.using_oracle_gtid);
            let mut statements = if uses_gtid {
                d(on).inject_empty_transaction("<the failed transaction's GTID>")
            } else {
                vec![d(on).skip_one_event_group().to_string()]
            };
            statements.push(d(on).start_replica_sql_thread().to_string());
            vec![one(on, statements)]
        }
        Step::ChangeSource { replica, to, position } => {
            let coords = match position {
                Position::Gtid => None,
                Position::SameExec => view.get(replica).map(|i| i.exec_binlog_coordinates.clone()),
                Position::ExecOf(k) => view.get(k).map(|i| i.exec_binlog_coordinates.clone()),
                Position::BinlogOf(k) => view.get(k).map(|i| i.self_binlog_coordinates.clone()),
            };
            let coords = match position {
                Position::Gtid => None,
                _ => Some(coords.unwrap_or_default()),
            };
            vec![one(replica, vec![change_source_sql(&d(replica), to, coords.as_ref(), None)])]
        }
    }
}
