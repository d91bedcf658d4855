//! Plans that control one server's replication or settings: stop/start/restart replica, stop
//! nicely, reset, detach/reattach the source host, skip a query, read-only, semi-sync, delay,
//! flush binary logs, inject empty transactions for errant GTIDs.
//!
//! Every plan refuses a server whose last probe failed (the executor could not reach it either)
//! and says which rule refused. Statements come from the server's `Dialect`; positions and
//! GTIDs only known at run time are read by the executor's steps (`StopAfterDrainingRelayLog`,
//! `SkipFailedTransaction`, `ChangeSource` at `SameExec`).

use super::super::plan::{dialect_of, Plan, Position, Step};
use crate::mysql::ChangeSource;
use app::model::gtid::GtidSet;
use app::model::ops::Operation;
use app::model::{Instance, InstanceKey, ThreadState};
use app::rules::tree::Family;
use app::rules::{Refusal, Rule, RuleSettings};

/// More errant transactions than this are not injected one by one in a single operation: the
/// plan (four statements each) would be unreadable, and so many errant transactions usually
/// mean a server was written to by mistake for a long time, which wants a person's decision.
pub const MAX_INJECTED_TRANSACTIONS: usize = 10_000;

pub fn plan(op: &Operation, family: &Family, settings: &RuleSettings) -> Result<Plan, Refusal> {
    let inst = reachable(family, op.instance())?;
    let on = &inst.key;
    let d = dialect_of(Some(inst));
    let steps = match op {
        Operation::StopReplica { .. } => {
            replica(inst)?;
            vec![Step::StopReplica { on: on.clone() }]
        }
        Operation::StartReplica { .. } => {
            attached_replica(inst)?;
            vec![Step::StartReplica { on: on.clone() }]
        }
        Operation::RestartReplica { .. } => {
            attached_replica(inst)?;
            vec![Step::StopReplica { on: on.clone() }, Step::StartReplica { on: on.clone() }]
        }
        Operation::StopReplicaNice { .. } => stop_nicely(inst)?,
        Operation::ResetReplica { .. } => {
            replica(inst)?;
            vec![
                Step::StopReplica { on: on.clone() },
                sql(on, format!("forget {on}'s source {} and its replication settings", inst.master_key), vec![d.reset_replica_all().to_string()]),
            ]
        }
        Operation::DetachReplicaMasterHost { .. } => detach(inst)?,
        Operation::ReattachReplicaMasterHost { .. } => reattach(inst)?,
        Operation::SkipQuery { .. } => skip_query(inst)?,
        Operation::SetReadOnly { .. } => read_only(inst, true, settings),
        Operation::SetWriteable { .. } => read_only(inst, false, settings),
        Operation::EnableSemiSyncMaster { .. } => semi_sync_source(inst, true)?,
        Operation::DisableSemiSyncMaster { .. } => semi_sync_source(inst, false)?,
        Operation::EnableSemiSyncReplica { .. } => semi_sync_replica(inst, true)?,
        Operation::DisableSemiSyncReplica { .. } => semi_sync_replica(inst, false)?,
        Operation::DelayReplication { seconds, .. } => delay(inst, *seconds)?,
        Operation::FlushBinaryLogs { .. } => {
            if !inst.log_bin_enabled {
                return Err(Refusal::new(Rule::NoBinaryLogs, format!("{on} has no binary logs to flush (log_bin is off)")));
            }
            vec![sql(on, format!("rotate {on}'s binary log"), vec![d.flush_binary_logs().to_string()])]
        }
        Operation::GtidErrantInjectEmpty { .. } => inject_errant(family, inst)?,
        other => {
            return Err(Refusal::new(Rule::TooComplex, format!("{} is not a replica-control operation", other.name())));
        }
    };
    Ok(Plan::single(op, None, steps))
}

fn sql(on: &InstanceKey, description: String, statements: Vec<String>) -> Step {
    Step::Sql { on: on.clone(), description, statements }
}

/// Known and successfully probed: what the plan says about it is current enough to act on.
fn reachable<'a>(family: &Family<'a>, key: &InstanceKey) -> Result<&'a Instance, Refusal> {
    let inst = family.get(key).ok_or_else(|| Refusal::new(Rule::UnknownInstance, format!("unknown instance {key}")))?;
    if !inst.is_last_check_valid {
        return Err(Refusal::new(Rule::NotReachable, format!("{key} is not reachable (its last check failed)")));
    }
    Ok(inst)
}

fn replica(inst: &Instance) -> Result<(), Refusal> {
    if !inst.is_replica() {
        return Err(Refusal::new(Rule::NotReplica, format!("{} is not a replica", inst.key)));
    }
    Ok(())
}

/// A replica whose IO thread could connect: starting one whose source host is `//host` would
/// only make it retry a host that does not exist.
fn attached_replica(inst: &Instance) -> Result<(), Refusal> {
    replica(inst)?;
    if inst.is_detached_master {
        return Err(Refusal::new(
            Rule::Detached,
            format!("{} is detached from {} (source host //{}): reattach-replica-master-host first", inst.key, inst.master_key, inst.master_key.hostname),
        ));
    }
    Ok(())
}

/// Where a replica that changes only its source host keeps reading: GTID replicas by GTID
/// (their position is their executed GTID set), the others at their own executed coordinates,
/// which a host change would otherwise reset.
fn same_position(inst: &Instance) -> Position {
    if inst.uses_gtid() {
        Position::Gtid
    } else {
        Position::SameExec
    }
}

/// The IO thread is running or trying to (`Connecting`).
fn io_thread_on(inst: &Instance) -> bool {
    matches!(inst.replication_io_thread_state, ThreadState::Running | ThreadState::Other) || inst.replication_io_thread_running
}

fn sql_thread_on(inst: &Instance) -> bool {
    matches!(inst.replication_sql_thread_state, ThreadState::Running | ThreadState::Other) || inst.replication_sql_thread_running
}

fn stop_nicely(inst: &Instance) -> Result<Vec<Step>, Refusal> {
    replica(inst)?;
    if !sql_thread_on(inst) {
        let why = if inst.last_sql_error.is_empty() { String::new() } else { format!(" (stopped on: {})", inst.last_sql_error) };
        return Err(Refusal::new(
            Rule::NotReplicating,
            format!("{}'s SQL thread is not running{why}: nothing would apply its relay log; use stop-replica", inst.key),
        ));
    }
    Ok(vec![Step::StopAfterDrainingRelayLog { on: inst.key.clone() }])
}

/// orchestrator's reversible break: the source host becomes `//host`, at the executed position,
/// and replication stays stopped (its IO thread could not connect to `//host` anyway).
///
/// A GTID replica's position is its GTID state, which a host change keeps: only host and port
/// are named (MariaDB keeps `slave_pos` or `current_pos` as it was), in a plain statement, since
/// `//host` is no server the executor could check or connect to. Without GTID a host change
/// resets the coordinates, so the executor names the executed ones it reads once stopped.
pub(crate) fn detach(inst: &Instance) -> Result<Vec<Step>, Refusal> {
    replica(inst)?;
    if inst.is_detached_master {
        return Err(Refusal::new(Rule::Detached, format!("{} is already detached (source host //{})", inst.key, inst.master_key.hostname)));
    }
    let on = &inst.key;
    let detached = InstanceKey::new(format!("//{}", inst.master_key.hostname), inst.master_key.port);
    let change = if inst.uses_gtid() {
        let d = dialect_of(Some(inst));
        let host_only = ChangeSource { host: Some(detached.hostname.clone()), port: Some(detached.port), ..Default::default() };
        sql(on, format!("detach {on} from {}: its source host becomes {}", inst.master_key, detached.hostname), vec![d.change_source(&host_only)])
    } else {
        Step::ChangeSource { replica: on.clone(), to: detached, position: Position::SameExec }
    };
    Ok(vec![Step::StopReplica { on: on.clone() }, change])
}

/// Undo `detach`: the real host again, at the position kept, and replication started.
fn reattach(inst: &Instance) -> Result<Vec<Step>, Refusal> {
    replica(inst)?;
    if !inst.is_detached_master {
        return Err(Refusal::new(Rule::NotDetached, format!("{} is not detached: it replicates from {}", inst.key, inst.master_key)));
    }
    let on = &inst.key;
    Ok(vec![
        Step::StopReplica { on: on.clone() },
        Step::ChangeSource { replica: on.clone(), to: inst.master_key.clone(), position: same_position(inst) },
        Step::StartReplica { on: on.clone() },
    ])
}

/// Skip the transaction the SQL thread failed on, then replicate again (orchestrator starts both
/// threads and waits for them; a detached replica only gets its SQL thread back).
fn skip_query(inst: &Instance) -> Result<Vec<Step>, Refusal> {
    replica(inst)?;
    let on = &inst.key;
    if sql_thread_on(inst) {
        return Err(Refusal::new(Rule::NoSqlError, format!("{on}'s SQL thread is running: there is no failed transaction to skip")));
    }
    if inst.last_sql_error.is_empty() && inst.last_sql_errno == 0 {
        return Err(Refusal::new(Rule::NoSqlError, format!("{on}'s SQL thread is stopped without an error: there is no failed transaction to skip")));
    }
    if inst.using_mariadb_gtid {
        return Err(Refusal::new(
            Rule::MariaDbGtidSkip,
            format!(
                "{on} replicates with MariaDB GTID, where its position is gtid_slave_pos, not coordinates a skip \
                 counter steps over; like orchestrator, this is not done automatically: switch {on} to binlog \
                 coordinates (CHANGE MASTER TO MASTER_USE_GTID=no), skip-query, then switch back \
                 (MASTER_USE_GTID=slave_pos)"
            ),
        ));
    }
    let mut steps = vec![Step::SkipFailedTransaction { on: on.clone() }];
    if !inst.is_detached_master {
        steps.push(Step::StartReplica { on: on.clone() });
    }
    Ok(steps)
}

/// `read_only`, and with `UseSuperReadOnly` on servers that have it, `super_read_only`: set
/// after `read_only` when turning on, cleared before it when turning off.
fn read_only(inst: &Instance, on: bool, settings: &RuleSettings) -> Vec<Step> {
    let d = dialect_of(Some(inst));
    let ro = d.set_read_only(on);
    let sro = if settings.use_super_read_only { d.set_super_read_only(on) } else { None };
    let statements = match (on, sro) {
        (true, Some(s)) => vec![ro, s],
        (false, Some(s)) => vec![s, ro],
        (_, None) => vec![ro],
    };
    let what = if on { "read-only" } else { "writeable" };
    vec![sql(&inst.key, format!("make {} {what}", inst.key), statements)]
}

fn semi_sync_available(inst: &Instance) -> Result<(), Refusal> {
    if inst.semi_sync_available {
        return Ok(());
    }
    let d = dialect_of(Some(inst));
    let load = d.install_semi_sync_plugins();
    let hint = if load.is_empty() { String::new() } else { format!(": load them first ({})", load.join("; ")) };
    Err(Refusal::new(Rule::SemiSyncUnavailable, format!("{} has no semi-sync plugins loaded{hint}", inst.key)))
}

fn semi_sync_source(inst: &Instance, on: bool) -> Result<Vec<Step>, Refusal> {
    semi_sync_available(inst)?;
    let d = dialect_of(Some(inst));
    let what = if on { "enable" } else { "disable" };
    Ok(vec![sql(&inst.key, format!("{what} semi-sync on {} as a source", inst.key), vec![d.set_semi_sync_source_enabled(on)])])
}

/// The replica side takes effect when the IO thread reconnects: restart it if it runs (a stopped
/// one picks the setting up when it is started).
fn semi_sync_replica(inst: &Instance, on: bool) -> Result<Vec<Step>, Refusal> {
    semi_sync_available(inst)?;
    let d = dialect_of(Some(inst));
    let mut statements = vec![d.set_semi_sync_replica_enabled(on)];
    if inst.is_replica() && io_thread_on(inst) {
        statements.push(d.stop_replica_io_thread().to_string());
        statements.push(d.start_replica_io_thread().to_string());
    }
    let what = if on { "enable" } else { "disable" };
    Ok(vec![sql(&inst.key, format!("{what} semi-sync on {} as a replica", inst.key), statements)])
}

/// The delay can only change with replication stopped; the threads end as they were.
fn delay(inst: &Instance, seconds: u32) -> Result<Vec<Step>, Refusal> {
    replica(inst)?;
    let on = &inst.key;
    let d = dialect_of(Some(inst));
    let mut steps = vec![
        Step::StopReplica { on: on.clone() },
        sql(on, format!("delay {on}'s replication by {seconds} s"), vec![d.set_replication_delay(seconds)]),
    ];
    let (io, sql_on) = (io_thread_on(inst), sql_thread_on(inst));
    if inst.is_replicating() && !inst.is_detached_master {
        steps.push(Step::StartReplica { on: on.clone() });
    } else if io || sql_on {
        let mut restart = Vec::new();
        if io {
            restart.push(d.start_replica_io_thread().to_string());
        }
        if sql_on {
            restart.push(d.start_replica_sql_thread().to_string());
        }
        steps.push(sql(on, format!("start on {on} the replication threads that were running"), restart));
    }
    Ok(steps)
}

/// One empty transaction per errant GTID of `inst`, committed on its cluster's writable primary:
/// the primary then has them, replicas skip them as already applied, and they stop being errant.
fn inject_errant(family: &Family, inst: &Instance) -> Result<Vec<Step>, Refusal> {
    let on = &inst.key;
    if inst.is_mariadb() || !inst.supports_oracle_gtid {
        return Err(Refusal::new(
            Rule::NoGtid,
            format!("{on} does not use Oracle GTID; errant GTIDs (and injecting empty transactions for them) exist only there"),
        ));
    }
    if inst.gtid_errant.is_empty() {
        return Err(Refusal::new(Rule::NoErrantGtid, format!("{on} has no errant GTIDs")));
    }
    let errant = GtidSet::parse(&inst.gtid_errant)
        .map_err(|e| Refusal::new(Rule::NoErrantGtid, format!("{on}'s errant GTID set {:?} is unreadable: {e}", inst.gtid_errant)))?;
    let count = errant.iter().take(MAX_INJECTED_TRANSACTIONS + 1).count();
    if count > MAX_INJECTED_TRANSACTIONS {
        return Err(Refusal::new(
            Rule::TooComplex,
            format!("{on} has more than {MAX_INJECTED_TRANSACTIONS} errant transactions ({errant}); inject them in smaller sets by hand"),
        ));
    }
    let primary = writable_primary(family, inst)?;
    let d = dialect_of(Some(primary));
    Ok(errant
        .iter()
        .map(|gtid| {
            let description = format!("commit an empty transaction as {gtid} (errant on {on}) on the primary {}", primary.key);
            sql(&primary.key, description, d.inject_empty_transaction(&gtid))
        })
        .collect())
}

/// The writable top of `inst`'s replication chain: its primary, or the writable co-primary when
/// the chain ends in a ring.
fn writable_primary<'a>(family: &Family<'a>, inst: &'a Instance) -> Result<&'a Instance, Refusal> {
    let mut chain: Vec<&Instance> = vec![inst];
    let mut current = inst;
    let tops: Vec<&Instance> = loop {
        match family.source_of(&current.key) {
            None if current.is_replica() => {
                return Err(Refusal::new(
                    Rule::NotReachable,
                    format!("{}'s source {} is not known: {}'s primary cannot be found", current.key, current.master_key, inst.key),
                ));
            }
            None => break vec![current],
            Some(source) => {
                if let Some(at) = chain.iter().position(|i| i.key == source.key) {
                    break chain[at..].to_vec();
                }
                chain.push(source);
                current = source;
            }
        }
    };
    if tops.iter().any(|t| t.key == inst.key) {
        return Err(Refusal::new(Rule::NotReplica, format!("{} is its cluster's primary: its GTIDs cannot be errant", inst.key)));
    }
    let primary = tops.iter().find(|t| !t.read_only).copied().ok_or_else(|| {
        let names: Vec<String> = tops.iter().map(|t| t.key.to_string()).collect();
        Refusal::new(Rule::NotWritable, format!("{}'s primary {} is read-only: there is no writable primary to inject on", inst.key, names.join(", ")))
    })?;
    if !primary.is_last_check_valid {
        return Err(Refusal::new(Rule::NotReachable, format!("the primary {} is not reachable (its last check failed)", primary.key)));
    }
    Ok(primary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::NullInt64;
    use std::collections::BTreeMap;

    const U1: &str = "00000001-0000-0000-0000-000000000000";
    const U2: &str = "00000002-0000-0000-0000-000000000000";

    fn k(n: &str) -> InstanceKey {
        InstanceKey::new(n, 3306)
    }

    /// An Oracle MySQL 9.7 server with GTID; a replica of `master` with both threads running.
    fn mysql(name: &str, id: u32, master: Option<&str>) -> Instance {
        let mut i = Instance::unseen(k(name));
        i.server_id = id;
        i.server_uuid = format!("{id:08}-0000-0000-0000-000000000000");
        i.version = "9.7.4".into();
        i.flavor_name = "MySQL".into();
        i.log_bin_enabled = true;
        i.log_replication_updates_enabled = true;
        i.binlog_format = "ROW".into();
        i.is_last_check_valid = true;
        i.is_recently_checked = true;
        i.supports_oracle_gtid = true;
        i.gtid_mode = "ON".into();
        i.read_only = master.is_some();
        if let Some(m) = master {
            i.master_key = k(m);
            i.using_oracle_gtid = true;
            running(&mut i);
        }
        i
    }

    fn mariadb(name: &str, id: u32, master: Option<&str>) -> Instance {
        let mut i = mysql(name, id, master);
        i.version = "10.11.6-MariaDB-0+deb12u1".into();
        i.flavor_name = "MariaDB".into();
        i.server_uuid.clear();
        i.supports_oracle_gtid = false;
        i.gtid_mode.clear();
        i.using_oracle_gtid = false;
        i.using_mariadb_gtid = master.is_some();
        i.semi_sync_available = true;
        i
    }

    fn running(i: &mut Instance) {
        i.replication_io_thread_running = true;
        i.replication_sql_thread_running = true;
        i.replication_io_thread_state = ThreadState::Running;
        i.replication_sql_thread_state = ThreadState::Running;
        i.replication_lag_seconds = NullInt64::some(0);
    }

    fn stopped_on_error(i: &mut Instance) {
        i.replication_sql_thread_running = false;
        i.replication_sql_thread_state = ThreadState::Stopped;
        i.last_sql_errno = 1062;
        i.last_sql_error = "Duplicate entry '3' for key 't.PRIMARY'".into();
    }

    fn plan_on(all: &[Instance], op: Operation) -> Result<Plan, Refusal> {
        plan_with(all, op, &RuleSettings::default())
    }

    fn plan_with(all: &[Instance], op: Operation, s: &RuleSettings) -> Result<Plan, Refusal> {
        let f = Family::new(all.iter());
        plan(&op, &f, s)
    }

    fn steps(all: &[Instance], op: Operation) -> Vec<Step> {
        let p = plan_on(all, op).unwrap();
        assert_eq!(p.parts.len(), 1);
        assert_eq!(p.mechanism, None);
        p.parts[0].clone()
    }

    fn refused(all: &[Instance], op: Operation) -> Rule {
        plan_on(all, op).unwrap_err().rule
    }

    /// The statements a dry run shows, per step.
    fn rendered(all: &[Instance], op: Operation, s: &RuleSettings) -> Vec<(String, Vec<String>)> {
        let view: BTreeMap<InstanceKey, Instance> = all.iter().map(|i| (i.key.clone(), i.clone())).collect();
        plan_with(all, op, s).unwrap().render(&view).steps.into_iter().map(|s| (s.server.to_string(), s.statements)).collect()
    }

    fn strs(statements: &[&str]) -> Vec<String> {
        statements.iter().map(|s| s.to_string()).collect()
    }

    fn topology() -> Vec<Instance> {
        vec![mysql("p", 1, None), mysql("r", 2, Some("p"))]
    }

    #[test]
    fn stop_start_restart_act_on_replicas_only() {
        let all = topology();
        let r = || k("r");
        assert_eq!(steps(&all, Operation::StopReplica { instance: r() }), [Step::StopReplica { on: r() }]);
        assert_eq!(steps(&all, Operation::StartReplica { instance: r() }), [Step::StartReplica { on: r() }]);
        assert_eq!(steps(&all, Operation::RestartReplica { instance: r() }), [Step::StopReplica { on: r() }, Step::StartReplica { on: r() }]);
        for op in [
            Operation::StopReplica { instance: k("p") },
            Operation::StartReplica { instance: k("p") },
            Operation::RestartReplica { instance: k("p") },
            Operation::StopReplicaNice { instance: k("p") },
            Operation::ResetReplica { instance: k("p") },
            Operation::DetachReplicaMasterHost { instance: k("p") },
            Operation::ReattachReplicaMasterHost { instance: k("p") },
            Operation::SkipQuery { instance: k("p") },
            Operation::DelayReplication { instance: k("p"), seconds: 5 },
        ] {
            assert_eq!(refused(&all, op.clone()), Rule::NotReplica, "{}", op.name());
        }
        assert_eq!(refused(&all, Operation::StopReplica { instance: k("nobody") }), Rule::UnknownInstance);
    }

    #[test]
    fn an_unreachable_server_is_refused_before_anything() {
        let mut all = topology();
        all[1].is_last_check_valid = false;
        assert_eq!(refused(&all, Operation::StopReplica { instance: k("r") }), Rule::NotReachable);
        assert_eq!(refused(&all, Operation::SetReadOnly { instance: k("r") }), Rule::NotReachable);
    }

    #[test]
    fn stop_nicely_needs_a_running_sql_thread() {
        let mut all = topology();
        assert_eq!(steps(&all, Operation::StopReplicaNice { instance: k("r") }), [Step::StopAfterDrainingRelayLog { on: k("r") }]);
        stopped_on_error(&mut all[1]);
        let refusal = plan_on(&all, Operation::StopReplicaNice { instance: k("r") }).unwrap_err();
        assert_eq!(refusal.rule, Rule::NotReplicating);
        assert!(refusal.message.contains("Duplicate entry"), "{refusal}");
    }

    #[test]
    fn reset_stops_then_forgets_the_source_in_each_dialect() {
        let all = topology();
        let s = RuleSettings::default();
        assert_eq!(
            rendered(&all, Operation::ResetReplica { instance: k("r") }, &s),
            [("r:3306".to_string(), strs(&["STOP REPLICA"])), ("r:3306".to_string(), strs(&["RESET REPLICA ALL"]))]
        );
        let all = [mariadb("p", 1, None), mariadb("r", 2, Some("p"))];
        assert_eq!(
            rendered(&all, Operation::ResetReplica { instance: k("r") }, &s),
            [("r:3306".to_string(), strs(&["STOP SLAVE"])), ("r:3306".to_string(), strs(&["RESET SLAVE ALL"]))]
        );
    }

    #[test]
    fn detach_keeps_the_position_and_reattach_undoes_it() {
        let mut all = topology();
        let detached = InstanceKey::new("//p", 3306);
        // GTID: only host and port change (the GTID state is the position).
        assert_eq!(
            rendered(&all, Operation::DetachReplicaMasterHost { instance: k("r") }, &RuleSettings::default()),
            [
                ("r:3306".to_string(), strs(&["STOP REPLICA"])),
                ("r:3306".to_string(), strs(&["CHANGE REPLICATION SOURCE TO SOURCE_HOST='//p', SOURCE_PORT=3306"]))
            ]
        );
        assert!(matches!(steps(&all, Operation::DetachReplicaMasterHost { instance: k("r") })[1], Step::Sql { .. }));
        assert_eq!(refused(&all, Operation::ReattachReplicaMasterHost { instance: k("r") }), Rule::NotDetached);

        // Without GTID the executed coordinates are kept (a host change would reset them).
        all[1].using_oracle_gtid = false;
        all[1].exec_binlog_coordinates = app::model::BinlogCoordinates::binlog("mysql-bin.000003", 1234);
        assert_eq!(
            steps(&all, Operation::DetachReplicaMasterHost { instance: k("r") })[1],
            Step::ChangeSource { replica: k("r"), to: detached, position: Position::SameExec }
        );
        assert_eq!(
            rendered(&all, Operation::DetachReplicaMasterHost { instance: k("r") }, &RuleSettings::default())[1].1,
            ["CHANGE REPLICATION SOURCE TO SOURCE_HOST='//p', SOURCE_PORT=3306, SOURCE_LOG_FILE='mysql-bin.000003', SOURCE_LOG_POS=1234"]
        );

        // As discovery sees a detached replica: the host without `//`, flagged, threads stopped.
        all[1].is_detached_master = true;
        all[1].replication_io_thread_running = false;
        all[1].replication_sql_thread_running = false;
        all[1].replication_io_thread_state = ThreadState::Stopped;
        all[1].replication_sql_thread_state = ThreadState::Stopped;
        assert_eq!(refused(&all, Operation::DetachReplicaMasterHost { instance: k("r") }), Rule::Detached);
        assert_eq!(refused(&all, Operation::StartReplica { instance: k("r") }), Rule::Detached);
        assert_eq!(refused(&all, Operation::RestartReplica { instance: k("r") }), Rule::Detached);
        assert_eq!(
            steps(&all, Operation::ReattachReplicaMasterHost { instance: k("r") }),
            [
                Step::StopReplica { on: k("r") },
                Step::ChangeSource { replica: k("r"), to: k("p"), position: Position::SameExec },
                Step::StartReplica { on: k("r") },
            ]
        );
        assert_eq!(steps(&all, Operation::StopReplica { instance: k("r") }), [Step::StopReplica { on: k("r") }], "stopping is always allowed");
    }

    #[test]
    fn mariadb_gtid_detach_names_only_host_and_port() {
        let all = [mariadb("p", 1, None), mariadb("r", 2, Some("p"))];
        assert_eq!(
            rendered(&all, Operation::DetachReplicaMasterHost { instance: k("r") }, &RuleSettings::default())[1].1,
            ["CHANGE MASTER TO MASTER_HOST='//p', MASTER_PORT=3306"]
        );
    }

    #[test]
    fn skip_query_per_mechanism() {
        let mut all = topology();
        assert_eq!(refused(&all, Operation::SkipQuery { instance: k("r") }), Rule::NoSqlError, "SQL thread running");
        all[1].replication_sql_thread_running = false;
        all[1].replication_sql_thread_state = ThreadState::Stopped;
        assert_eq!(refused(&all, Operation::SkipQuery { instance: k("r") }), Rule::NoSqlError, "stopped without error");
        stopped_on_error(&mut all[1]);
        assert_eq!(
            steps(&all, Operation::SkipQuery { instance: k("r") }),
            [Step::SkipFailedTransaction { on: k("r") }, Step::StartReplica { on: k("r") }]
        );
        let s = RuleSettings::default();
        // Oracle GTID: an empty transaction under the failed GTID (read when running).
        assert_eq!(
            rendered(&all, Operation::SkipQuery { instance: k("r") }, &s)[0].1,
            [
                "SET GTID_NEXT = '<the failed transaction''s GTID>'",
                "BEGIN",
                "COMMIT",
                "SET GTID_NEXT = 'AUTOMATIC'",
                "START REPLICA SQL_THREAD"
            ]
        );
        // Binlog coordinates: the skip counter.
        all[1].using_oracle_gtid = false;
        assert_eq!(
            rendered(&all, Operation::SkipQuery { instance: k("r") }, &s)[0].1,
            ["SET GLOBAL sql_replica_skip_counter = 1", "START REPLICA SQL_THREAD"]
        );
        // A detached replica only gets its SQL thread back.
        all[1].is_detached_master = true;
        assert_eq!(steps(&all, Operation::SkipQuery { instance: k("r") }), [Step::SkipFailedTransaction { on: k("r") }]);

        // MariaDB GTID: refused as orchestrator does; MariaDB on coordinates: the counter.
        let mut all = [mariadb("p", 1, None), mariadb("r", 2, Some("p"))];
        stopped_on_error(&mut all[1]);
        let refusal = plan_on(&all, Operation::SkipQuery { instance: k("r") }).unwrap_err();
        assert_eq!(refusal.rule, Rule::MariaDbGtidSkip);
        assert!(refusal.message.contains("MASTER_USE_GTID=no"), "{refusal}");
        all[1].using_mariadb_gtid = false;
        assert_eq!(
            rendered(&all, Operation::SkipQuery { instance: k("r") }, &s)[0].1,
            ["SET GLOBAL sql_slave_skip_counter = 1", "START SLAVE SQL_THREAD"]
        );
    }

    #[test]
    fn read_only_with_and_without_super_read_only() {
        let all = [mysql("p", 1, None), mariadb("m", 2, None)];
        let plain = RuleSettings::default();
        let sro = RuleSettings { use_super_read_only: true, ..RuleSettings::default() };
        let on = |i: &str| Operation::SetReadOnly { instance: k(i) };
        let off = |i: &str| Operation::SetWriteable { instance: k(i) };
        assert_eq!(rendered(&all, on("p"), &plain)[0].1, ["SET GLOBAL read_only = 1"]);
        assert_eq!(rendered(&all, on("p"), &sro)[0].1, ["SET GLOBAL read_only = 1", "SET GLOBAL super_read_only = 1"]);
        assert_eq!(rendered(&all, off("p"), &sro)[0].1, ["SET GLOBAL super_read_only = 0", "SET GLOBAL read_only = 0"]);
        assert_eq!(rendered(&all, off("p"), &plain)[0].1, ["SET GLOBAL read_only = 0"]);
        assert_eq!(rendered(&all, on("m"), &sro)[0].1, ["SET GLOBAL read_only = 1"], "MariaDB has no super_read_only");
        let mut old = all.to_vec();
        old[0].version = "5.7.7".into();
        assert_eq!(rendered(&old, on("p"), &sro)[0].1, ["SET GLOBAL read_only = 1"], "super_read_only came in 5.7.8");
    }

    #[test]
    fn semi_sync_names_plugins_and_io_restart() {
        let mut all = vec![mysql("p", 1, None), mysql("r", 2, Some("p")), mariadb("mp", 3, None), mariadb("mr", 4, Some("mp"))];
        let s = RuleSettings::default();
        let refusal = plan_on(&all, Operation::EnableSemiSyncMaster { instance: k("p") }).unwrap_err();
        assert_eq!(refusal.rule, Rule::SemiSyncUnavailable);
        assert!(refusal.message.contains("INSTALL PLUGIN rpl_semi_sync_source SONAME 'semisync_source.so'"), "{refusal}");
        assert_eq!(refused(&all, Operation::EnableSemiSyncReplica { instance: k("r") }), Rule::SemiSyncUnavailable);
        all[0].semi_sync_available = true;
        all[1].semi_sync_available = true;
        assert_eq!(rendered(&all, Operation::EnableSemiSyncMaster { instance: k("p") }, &s)[0].1, ["SET GLOBAL rpl_semi_sync_source_enabled = 1"]);
        assert_eq!(rendered(&all, Operation::DisableSemiSyncMaster { instance: k("p") }, &s)[0].1, ["SET GLOBAL rpl_semi_sync_source_enabled = 0"]);
        assert_eq!(
            rendered(&all, Operation::EnableSemiSyncReplica { instance: k("r") }, &s)[0].1,
            ["SET GLOBAL rpl_semi_sync_replica_enabled = 1", "STOP REPLICA IO_THREAD", "START REPLICA IO_THREAD"]
        );
        assert_eq!(rendered(&all, Operation::EnableSemiSyncMaster { instance: k("mp") }, &s)[0].1, ["SET GLOBAL rpl_semi_sync_master_enabled = 1"]);
        assert_eq!(
            rendered(&all, Operation::DisableSemiSyncReplica { instance: k("mr") }, &s)[0].1,
            ["SET GLOBAL rpl_semi_sync_slave_enabled = 0", "STOP SLAVE IO_THREAD", "START SLAVE IO_THREAD"]
        );
        // A stopped IO thread is not started: it picks the setting up when it is.
        all[3].replication_io_thread_running = false;
        all[3].replication_io_thread_state = ThreadState::Stopped;
        assert_eq!(rendered(&all, Operation::EnableSemiSyncReplica { instance: k("mr") }, &s)[0].1, ["SET GLOBAL rpl_semi_sync_slave_enabled = 1"]);
        // Oracle before 8.0.26: the old plugin names.
        all[0].version = "8.0.25".into();
        assert_eq!(rendered(&all, Operation::EnableSemiSyncMaster { instance: k("p") }, &s)[0].1, ["SET GLOBAL rpl_semi_sync_master_enabled = 1"]);
    }

    #[test]
    fn delay_keeps_the_threads_as_they_were() {
        let mut all = topology();
        let s = RuleSettings::default();
        let op = || Operation::DelayReplication { instance: k("r"), seconds: 30 };
        assert_eq!(
            rendered(&all, op(), &s).into_iter().map(|(_, st)| st).collect::<Vec<_>>(),
            [vec!["STOP REPLICA".to_string()], vec!["CHANGE REPLICATION SOURCE TO SOURCE_DELAY=30".to_string()], vec!["START REPLICA".to_string()]]
        );
        assert_eq!(steps(&all, op())[2], Step::StartReplica { on: k("r") });
        // IO thread only (SQL stopped on an error): only the IO thread comes back.
        stopped_on_error(&mut all[1]);
        assert_eq!(rendered(&all, op(), &s)[2].1, ["START REPLICA IO_THREAD"]);
        // Both stopped: stays stopped.
        all[1].replication_io_thread_running = false;
        all[1].replication_io_thread_state = ThreadState::Stopped;
        assert_eq!(steps(&all, op()).len(), 2);
        // IO thread still connecting to a source that is down counts as running.
        all[1].replication_io_thread_state = ThreadState::Other;
        all[1].replication_sql_thread_state = ThreadState::Running;
        all[1].replication_sql_thread_running = true;
        assert_eq!(rendered(&all, op(), &s)[2].1, ["START REPLICA IO_THREAD", "START REPLICA SQL_THREAD"]);
        let all = [mariadb("p", 1, None), mariadb("r", 2, Some("p"))];
        assert_eq!(rendered(&all, op(), &s)[1].1, ["CHANGE MASTER TO MASTER_DELAY=30"]);
    }

    #[test]
    fn flush_needs_binary_logs() {
        let mut all = topology();
        assert_eq!(rendered(&all, Operation::FlushBinaryLogs { instance: k("p") }, &RuleSettings::default())[0].1, ["FLUSH BINARY LOGS"]);
        all[0].log_bin_enabled = false;
        assert_eq!(refused(&all, Operation::FlushBinaryLogs { instance: k("p") }), Rule::NoBinaryLogs);
    }

    #[test]
    fn errant_gtids_become_empty_transactions_on_the_writable_primary() {
        let mut all = vec![mysql("p", 1, None), mysql("i", 2, Some("p")), mysql("r", 3, Some("i"))];
        let op = || Operation::GtidErrantInjectEmpty { instance: k("r") };
        assert_eq!(refused(&all, op()), Rule::NoErrantGtid);
        all[2].gtid_errant = format!("{U2}:3-4,{U1}:9");
        let plan = rendered(&all, op(), &RuleSettings::default());
        assert_eq!(plan.len(), 3);
        assert!(plan.iter().all(|(server, _)| server == "p:3306"), "{plan:?}");
        assert_eq!(plan[0].1, [format!("SET GTID_NEXT = '{U1}:9'"), "BEGIN".into(), "COMMIT".into(), "SET GTID_NEXT = 'AUTOMATIC'".into()]);
        assert_eq!(plan[2].1[0], format!("SET GTID_NEXT = '{U2}:4'"));

        // Co-primaries: the writable one.
        let mut ring = all.clone();
        ring[0].master_key = k("i");
        ring[0].read_only = true;
        ring[1].read_only = false;
        let p = rendered(&ring, op(), &RuleSettings::default());
        assert!(p.iter().all(|(server, _)| server == "i:3306"), "{p:?}");

        all[0].read_only = true;
        assert_eq!(refused(&all, op()), Rule::NotWritable);
        all[0].read_only = false;
        all[0].is_last_check_valid = false;
        assert_eq!(refused(&all, op()), Rule::NotReachable);
        let orphan = vec![all[2].clone()];
        assert_eq!(refused(&orphan, op()), Rule::NotReachable, "source unknown");

        all[0].is_last_check_valid = true;
        all[2].gtid_errant = format!("{U2}:1-{}", MAX_INJECTED_TRANSACTIONS + 1);
        assert_eq!(refused(&all, op()), Rule::TooComplex);

        let mut maria = vec![mariadb("p", 1, None), mariadb("r", 2, Some("p"))];
        maria[1].gtid_errant = "0-2-5".into();
        assert_eq!(refused(&maria, op()), Rule::NoGtid);
    }
}
