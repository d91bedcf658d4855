//! Takeovers and manual recoveries (reference §5.7): `graceful-master-takeover[-auto]`,
//! `force-master-takeover`, `force-master-failover` and `recover`. Each ends in the same
//! recovery as an automated one (`run`), forced: registered without the anti-flapping check,
//! recorded with its command.
//!
//! Graceful, in orchestrator's order: choose the designated replica, refuse what cannot work
//! (banned, not replicating, lagging), move the primary's other replicas below it, check the
//! demoted primary will be able to log in to it, `PreGracefulTakeoverProcesses`, make the
//! primary read-only, wait (at most `ReasonableMaintenanceReplicationLagSeconds`) until the
//! designated replica executed all it wrote, then the recovery promotes it, with the old primary
//! joining it as a replica before it takes writes (so no write can be missed), started in the
//! `-auto` variant; `PostGracefulTakeoverProcesses`.
//!
//! Decisions that differ from orchestrator:
//! - `-i` naming a direct replica of the primary, without `-d`, designates that replica: the
//!   seed's `graceful-master-takeover -i mysql2` means "make mysql2 the primary".
//! - Any failure before the promotion (catch-up timeout included) makes the old primary
//!   writable again; orchestrator left it read-only after a catch-up timeout.
//! - The demoted primary's login to the new one is checked before anything is made read-only.

use super::executor::RecoveryRecord;
use super::hooks::{run_list, Phase};
use super::plan::{RecoveryPlan, RecoveryStep};
use super::run::{hook_context, NotRun, Trigger};
use super::watch::{Services, WatchSettings};
use crate::analysis::Hints;
use crate::refactor::executor::Executor;
use crate::refactor::plan::{Position, Step};
use crate::refactor::Refactor;
use crate::topology::clusters;
use app::model::analysis::{AnalysisCode, ReplicationAnalysis};
use app::model::ops::Operation;
use app::model::gtid::GtidSet;
use app::model::{Instance, InstanceKey};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Which command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Graceful,
    GracefulAuto,
    ForceTakeover,
    ForceFailover,
    /// `recover`: a failure the analysis sees now, recovered on request.
    Recover,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Graceful => "graceful-master-takeover",
            Kind::GracefulAuto => "graceful-master-takeover-auto",
            Kind::ForceTakeover => "force-master-takeover",
            Kind::ForceFailover => "force-master-failover",
            Kind::Recover => "recover",
        }
    }
    fn graceful(self) -> bool {
        matches!(self, Kind::Graceful | Kind::GracefulAuto)
    }
}

/// What was asked.
#[derive(Clone, Debug)]
pub struct Request {
    pub kind: Kind,
    /// A cluster name, alias, or instance (`-i`).
    pub hint: String,
    /// `-d`.
    pub destination: Option<InstanceKey>,
    pub who: String,
}

/// Why a takeover did not run or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum TakeoverError {
    #[error("{0}")]
    NotFound(String),
    /// Refused before anything changed.
    #[error("{0}")]
    Refused(String),
    /// Something changed and it did not complete; the message says what was put back.
    #[error("{message}")]
    Failed { message: String, recovery: Option<i64> },
}

/// What a takeover did.
#[derive(Debug)]
pub struct Done {
    pub recovery: i64,
    pub record: RecoveryRecord,
    pub message: String,
}

/// The primary of `cluster`: the one member that replicates from nobody.
pub fn cluster_primary<'a>(view: &'a BTreeMap<InstanceKey, Instance>, cluster: &str) -> Result<&'a Instance, TakeoverError> {
    let members: Vec<&Instance> = view.values().filter(|i| i.cluster_name == cluster).collect();
    let tops: Vec<&Instance> = members.iter().copied().filter(|i| !i.is_replica() || members.iter().any(|m| m.key == i.master_key && m.master_key == i.key)).collect();
    match tops.as_slice() {
        [one] => Ok(one),
        [] => Err(TakeoverError::NotFound(format!("cluster {cluster} has no primary"))),
        many => Err(TakeoverError::Refused(format!(
            "Found {} potential masters in {cluster} ({}): a co-master cluster has no single primary to take over",
            many.len(),
            many.iter().map(|i| i.key.to_string()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// The replica to promote: `-d`, else `-i` when it names a direct replica of the primary,
/// else the only direct replica; `None` lets the recovery choose (the `-auto` variant and
/// `force-master-failover`).
pub fn choose_designated(
    view: &BTreeMap<InstanceKey, Instance>,
    primary: &Instance,
    operand: Option<&InstanceKey>,
    destination: Option<&InstanceKey>,
    kind: Kind,
) -> Result<Option<InstanceKey>, TakeoverError> {
    let direct: Vec<&Instance> = view.values().filter(|i| i.master_key == primary.key && i.key != primary.master_key).collect();
    if direct.is_empty() {
        return Err(TakeoverError::Refused(format!("{} has no replicas to promote", primary.key)));
    }
    if let Some(d) = destination {
        if !direct.iter().any(|i| &i.key == d) {
            return Err(TakeoverError::Refused(format!("{d} is not a direct replica of the primary {}", primary.key)));
        }
        return Ok(Some(d.clone()));
    }
    if let Some(o) = operand.filter(|o| direct.iter().any(|i| &i.key == *o)) {
        return Ok(Some(o.clone()));
    }
    if let [one] = direct.as_slice() {
        return Ok(Some(one.key.clone()));
    }
    match kind {
        Kind::GracefulAuto | Kind::ForceFailover | Kind::Recover => Ok(None),
        _ => Err(TakeoverError::Refused(format!(
            "{} has {} direct replicas ({}): name the one to promote with -d",
            primary.key,
            direct.len(),
            direct.iter().map(|i| i.key.to_string()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// A graceful takeover's recovery plan: the old primary (read-only, reachable) is not lost; it
/// joins the successor as a replica while the successor's channel still holds the credentials
/// (before RESET REPLICA ALL); at a binlog position, also before the successor takes writes, so
/// that position is exactly where the old primary continues. Started when `start`.
pub fn demote_in_plan(plan: &mut RecoveryPlan, old: &Instance, by_gtid: bool, start: bool) {
    let Some(successor) = plan.successor.clone() else { return };
    plan.steps.retain(|s| !matches!(s, RecoveryStep::DowntimeLost { on, .. } | RecoveryStep::DetachLostReplica { on } if on == &old.key));
    let position = if by_gtid { Position::Gtid } else { Position::BinlogOf(successor.clone()) };
    let join = RecoveryStep::Refactor(Step::JoinAsReplica { server: old.key.clone(), to: successor.clone(), position, credentials_from: successor.clone() });
    // By GTID the join's moment does not matter: it waits until the successor takes writes
    // (the writes are stopped until then). At a binlog position it must come before them. Either
    // way before RESET REPLICA ALL, while the successor's channel still holds the credentials.
    let writable = |s: &RecoveryStep| matches!(s, RecoveryStep::SetWritable { on } if on == &successor);
    let reset = |s: &RecoveryStep| matches!(s, RecoveryStep::ResetReplicaAll { on } if on == &successor);
    let at = if by_gtid {
        plan.steps.iter().position(reset).or_else(|| plan.steps.iter().position(writable).map(|i| i + 1))
    } else {
        plan.steps.iter().position(|s| writable(s) || reset(s))
    };
    plan.steps.insert(at.unwrap_or(plan.steps.len()), join);
    if start {
        plan.steps.push(RecoveryStep::Refactor(Step::StartReplica { on: old.key.clone() }));
    }
    plan.moved.push((old.key.clone(), successor, if by_gtid { app::rules::Mechanism::Gtid } else { app::rules::Mechanism::MoveBelow }));
}

/// The old primary can replicate from the successor by GTID.
pub fn joins_by_gtid(old: &Instance, successor: &Instance) -> bool {
    if old.is_mariadb() {
        old.using_mariadb_gtid || successor.using_mariadb_gtid
    } else {
        old.supports_oracle_gtid && successor.using_oracle_gtid
    }
}

/// What a graceful takeover onto `designated` will do, for the confirm dialog: the steps in
/// order, with the statements known beforehand (`<...>` for values read while it runs).
pub fn preview(view: &BTreeMap<InstanceKey, Instance>, designated: &InstanceKey, wait_seconds: i64) -> Result<app::model::ops::Plan, TakeoverError> {
    use app::model::ops::PlanStep;
    let d = view.get(designated).ok_or_else(|| TakeoverError::NotFound(format!("{designated} is not known")))?;
    let primary = view.get(&d.master_key).ok_or_else(|| TakeoverError::NotFound(format!("{designated}'s source is not known")))?;
    cluster_primary(view, &primary.cluster_name)?;
    choose_designated(view, primary, None, Some(designated), Kind::Graceful)?;
    let dialect = |i: &Instance| crate::refactor::plan::dialect_of(Some(i));
    let (p, dd) = (dialect(primary), dialect(d));
    let step = |server: &InstanceKey, description: String, statements: Vec<String>| PlanStep { server: server.clone(), description, statements };
    let mut steps: Vec<PlanStep> = view
        .values()
        .filter(|i| i.master_key == primary.key && i.key != *designated && i.key != primary.master_key)
        .map(|s| step(&s.key, format!("relocate {} below {designated}", s.key), vec!["<planned when it runs>".into()]))
        .collect();
    let mut fence = vec![p.set_read_only(true)];
    fence.extend(p.set_super_read_only(true));
    steps.push(step(&primary.key, format!("make {} read-only (writes stop here)", primary.key), fence));
    steps.push(step(designated, format!("wait until {designated} executed everything {} wrote (at most {wait_seconds} s)", primary.key), Vec::new()));
    steps.push(step(designated, format!("let {designated} apply what it fetched, then stop its SQL thread"), vec![dd.stop_replica_sql_thread().to_string()]));
    let by_gtid = joins_by_gtid(primary, d);
    let how = if by_gtid { "by GTID" } else { "at its binlog position" };
    let join = step(&primary.key, format!("make {} replicate from {designated} {how} (left stopped)", primary.key), vec!["<CHANGE REPLICATION SOURCE TO ... with the replication credentials>".into()]);
    let writable = step(designated, format!("make {designated} take writes"), {
        let mut v: Vec<String> = dd.set_super_read_only(false).into_iter().collect();
        v.push(dd.set_read_only(false));
        v
    });
    if by_gtid {
        steps.extend([writable, join]);
    } else {
        steps.extend([join, writable]);
    }
    steps.push(step(designated, format!("make {designated} forget its source"), vec![dd.stop_replica().to_string(), dd.reset_replica_all().to_string()]));
    Ok(app::model::ops::Plan {
        operation: Kind::Graceful.name().into(),
        instance: designated.clone(),
        target: Some(primary.key.clone()),
        mechanism: String::new(),
        steps,
    })
}

/// Runs a takeover or a manual recovery.
pub async fn run(services: &Services, settings: &WatchSettings, refactor: &Refactor, req: &Request, default_port: u16) -> Result<Done, TakeoverError> {
    let s = services;
    let view = s.discovery.instances();
    let cluster = clusters::resolve_hint(&view, &req.hint, default_port).ok_or_else(|| TakeoverError::NotFound(format!("no known cluster or instance matches {:?}", req.hint)))?;
    let operand = InstanceKey::parse(&req.hint, default_port).ok().filter(|k| view.contains_key(k));
    let (failed, designated) = if req.kind == Kind::Recover {
        let failed = operand.clone().ok_or_else(|| TakeoverError::NotFound(format!("recover needs a known instance, not {:?}", req.hint)))?;
        (failed, req.destination.clone())
    } else {
        let primary = cluster_primary(&view, &cluster)?;
        let d = choose_designated(&view, primary, operand.as_ref(), req.destination.as_ref(), req.kind)?;
        (primary.key.clone(), d)
    };
    let mut verdict = analysis_of(s, &failed)?;
    if req.kind == Kind::Recover {
        if !matches!(verdict.analysis, AnalysisCode::DeadMaster | AnalysisCode::DeadMasterAndSomeReplicas | AnalysisCode::DeadMasterAndReplicas) {
            return Err(TakeoverError::Refused(format!("{failed}: {} does not call for a primary recovery", verdict.analysis)));
        }
    } else {
        verdict.analysis = AnalysisCode::DeadMaster;
        verdict.description = format!("{} requested by {}", req.kind.name(), req.who);
    }
    verdict.is_actionable_recovery = true;
    let mut trigger = Trigger::Command { name: req.kind.name().to_string(), who: req.who.clone(), designated: designated.clone(), demote: None };

    if !req.kind.graceful() {
        if req.kind == Kind::ForceTakeover {
            if let Some(d) = &designated {
                fence_and_settle(s, settings, &failed, d).await;
            }
        }
        return finish(recover(s, settings, &verdict, &trigger, None).await?, None);
    }

    // Graceful: the designated replica, chosen now when the command let us choose.
    let primary = view.get(&failed).cloned().ok_or_else(|| TakeoverError::NotFound(format!("{failed} is not known")))?;
    let designated = match designated {
        Some(d) => d,
        None => {
            let snapshot = crate::analysis::Snapshot::new(view.values(), chrono::Utc::now());
            let plan = super::plan_dead_master(&snapshot, &verdict, &settings.policy).map_err(|e| TakeoverError::Refused(e.to_string()))?;
            plan.successor.ok_or_else(|| TakeoverError::Refused(format!("no replica of {failed} may be promoted")))?
        }
    };
    let d = view.get(&designated).cloned().ok_or_else(|| TakeoverError::NotFound(format!("{designated} is not known")))?;
    if let Some(why) = super::candidate::veto(&d, &primary, false, &settings.policy) {
        return Err(TakeoverError::Refused(format!("{designated} may not be promoted: {why}")));
    }
    if !d.replication_io_thread_running || !d.replication_sql_thread_running {
        return Err(TakeoverError::Refused(format!("{designated} is not replicating from {failed}: start its replication first")));
    }
    let max_lag = settings.policy.rules.maintenance_lag_seconds;
    match d.replication_lag_seconds.get() {
        Some(lag) if lag <= max_lag => {}
        lag => {
            return Err(TakeoverError::Refused(format!(
                "{designated} lags {} (ReasonableMaintenanceReplicationLagSeconds is {max_lag} s)",
                lag.map(|l| format!("{l} s")).unwrap_or_else(|| "an unknown time".into())
            )))
        }
    }
    // The primary's other replicas move below the designated one first.
    for sibling in view.values().filter(|i| i.master_key == failed && i.key != designated && i.key != primary.master_key) {
        let op = Operation::Relocate { instance: sibling.key.clone(), target: designated.clone() };
        if let Err(e) = refactor.run(op, false, &req.who).await {
            if sibling.is_downtimed {
                tracing::warn!(instance = %sibling.key, error = %e, "downtimed replica left below the old primary");
                continue;
            }
            return Err(TakeoverError::Failed { message: format!("moving {} below {designated} failed, nothing else was changed: {e}", sibling.key), recovery: None });
        }
    }
    let view = s.discovery.instances();
    let by_gtid = joins_by_gtid(&primary, &d);
    let mut exec = Executor::new(settings.exec.clone(), &view);
    if let Err(e) = exec.replication_credentials(&designated).await {
        exec.close().await;
        return Err(TakeoverError::Refused(format!("{failed} could not log in to {designated} as its replica: {e}")));
    }
    let ctx = hook_context(&verdict, &trigger, "", &settings.hook.node);
    let (pre, ok) = run_list(Phase::PreGracefulTakeoverProcesses, &settings.hooks.pre_graceful_takeover_processes, &ctx, &settings.hook).await;
    if let Err(why) = ok {
        exec.close().await;
        let output = pre.last().map(|h| h.output.trim().to_string()).unwrap_or_default();
        return Err(TakeoverError::Refused(format!("aborted by {why}{}", if output.is_empty() { String::new() } else { format!(": {output}") })));
    }

    // Read-only, then wait for the designated replica to execute everything.
    let dialect = exec.dialect_for(&failed);
    // super_read_only too (where the server has it): an application connected as a SUPER user
    // would otherwise keep writing on the old primary during the catch-up.
    let mut fence = vec![dialect.set_read_only(true)];
    fence.extend(dialect.set_super_read_only(true));
    if let Err((_, e)) = exec.exec_all(&failed, &fence).await {
        exec.close().await;
        return Err(TakeoverError::Failed { message: format!("making {failed} read-only failed: {e}"), recovery: None });
    }
    let stopped_writes = Instant::now();
    let caught_up = catch_up(&mut exec, &failed, &designated, Duration::from_secs(max_lag.max(1) as u64)).await;
    tracing::info!(primary = %failed, designated = %designated, "read-only; {designated} caught up after {:?}", stopped_writes.elapsed());
    if let Err(e) = caught_up {
        let restored = restore_writable(&mut exec, &failed).await;
        exec.close().await;
        return Err(TakeoverError::Failed { message: format!("{e}; {restored}"), recovery: None });
    }
    // No probe here: the writes are stopped until the promotion. The view already shows the
    // siblings below the designated replica (relocate probes what it moved), and a designated
    // promotion does not rank by positions.

    trigger = Trigger::Command { name: req.kind.name().to_string(), who: req.who.clone(), designated: Some(designated.clone()), demote: Some((by_gtid, req.kind == Kind::GracefulAuto)) };
    // The recovery goes on with this executor's connections: no login while writes are stopped.
    let ran = recover(s, settings, &verdict, &trigger, Some(exec)).await;
    tracing::info!(primary = %failed, designated = %designated, "takeover recovery done {:?} after the writes stopped", stopped_writes.elapsed());
    let ran = match ran {
        Ok(ran) if ran.record.promoted => ran,
        other => {
            let mut exec = Executor::new(settings.exec.clone(), &s.discovery.instances());
            let restored = restore_writable(&mut exec, &failed).await;
            exec.close().await;
            return match other {
                Ok(ran) => Err(TakeoverError::Failed { message: format!("{}; {restored}", ran.record.summary()), recovery: Some(ran.id) }),
                Err(e) => Err(TakeoverError::Failed { message: format!("{e}; {restored}"), recovery: None }),
            };
        }
    };
    let mut ctx = ctx;
    ctx.is_successful = true;
    ctx.successor = Some(designated.clone());
    ctx.recovery_uid = ran.uid.clone();
    let (post, _) = run_list(Phase::PostGracefulTakeoverProcesses, &settings.hooks.post_graceful_takeover_processes, &ctx, &settings.hook).await;
    for h in post.iter().filter(|h| !h.error.is_empty()) {
        tracing::warn!(command = %h.command, error = %h.error, "PostGracefulTakeoverProcesses failed");
    }
    let _ = s.discovery.refresh(&failed).await;
    finish(ran, Some(&failed))
}

fn finish(ran: super::run::Ran, demoted: Option<&InstanceKey>) -> Result<Done, TakeoverError> {
    if !ran.record.promoted {
        return Err(TakeoverError::Failed { message: ran.record.summary(), recovery: Some(ran.id) });
    }
    let successor = ran.record.successor.as_ref().map(ToString::to_string).unwrap_or_default();
    if !ran.record.success {
        return Err(TakeoverError::Failed { message: format!("{successor} is the primary now, but: {}", ran.record.error), recovery: Some(ran.id) });
    }
    let message = match demoted {
        Some(old) => format!("{successor} is the primary; {old} replicates from it ({})", ran.record.summary()),
        None => format!("{successor} is the primary ({})", ran.record.summary()),
    };
    Ok(Done { recovery: ran.id, record: ran.record, message })
}

async fn recover(s: &Services, settings: &WatchSettings, verdict: &ReplicationAnalysis, trigger: &Trigger, prepared: Option<Executor>) -> Result<super::run::Ran, TakeoverError> {
    let in_maintenance: BTreeSet<InstanceKey> =
        s.intents.snapshot().active_maintenance(chrono::Utc::now()).into_iter().map(|w| w.instance.clone()).collect();
    super::run::recover(s, settings, verdict, &in_maintenance, trigger, prepared).await.map_err(|e| match e {
        NotRun::Blocked(by) => TakeoverError::Refused(format!("blocked by recovery {}", by.id)),
        NotRun::Store(e) => TakeoverError::Failed { message: format!("cannot register the recovery: {e}"), recovery: None },
    })
}

/// The analysis entry of `key` (whatever it is), with its cluster's details.
fn analysis_of(s: &Services, key: &InstanceKey) -> Result<ReplicationAnalysis, TakeoverError> {
    let view = s.discovery.instances();
    let hints = Hints { include_downtimed: true, include_no_problem: true };
    s.analyzer
        .analyze(view.values(), BTreeSet::new(), chrono::Utc::now(), hints)
        .into_iter()
        .find(|e| &e.analyzed_instance_key == key)
        .ok_or_else(|| TakeoverError::NotFound(format!("{key} is not known to the analysis")))
}

/// Waits until `replica` executed everything `primary` (read-only now) wrote: its executed
/// coordinates reach the primary's binlog position, or (Oracle GTID) its executed set holds the
/// primary's, which is exact where a multi-threaded replica's coordinates lag to a checkpoint.
/// How long `force-master-takeover` lets the designated replica catch up with a live primary.
const FORCE_SETTLE: Duration = Duration::from_secs(2);

/// `force-master-takeover` of a primary that still answers: it is made read-only first and the
/// designated replica gets `FORCE_SETTLE` to execute what it wrote, so that no other replica is
/// left ahead of the new primary (it could not follow it). Best effort: a primary that does not
/// answer, or a replica that does not catch up in time, does not stop the forced promotion.
async fn fence_and_settle(s: &Services, settings: &WatchSettings, primary: &InstanceKey, designated: &InstanceKey) {
    let mut exec = Executor::new(settings.exec.clone(), &s.discovery.instances());
    let dialect = exec.dialect_for(primary);
    let mut fence = vec![dialect.set_read_only(true)];
    fence.extend(dialect.set_super_read_only(true));
    match exec.exec_all(primary, &fence).await {
        Ok(_) => {
            if let Err(e) = catch_up(&mut exec, primary, designated, FORCE_SETTLE).await {
                tracing::warn!(%primary, %designated, "force-master-takeover goes on without the catch-up: {e}");
            }
        }
        Err((_, e)) => tracing::warn!(%primary, "force-master-takeover: the old primary could not be made read-only first: {e}"),
    }
    exec.close().await;
}

async fn catch_up(exec: &mut Executor, primary: &InstanceKey, replica: &InstanceKey, timeout: Duration) -> Result<(), String> {
    let target = exec.binlog_coordinates(primary).await.map_err(|e| format!("reading {primary}'s binary log position failed: {e}"))?;
    let written = if exec.dialect_for(primary).is_mariadb() {
        None
    } else {
        let rows = exec.query(primary, "SELECT @@GLOBAL.gtid_executed").await.map_err(|e| format!("reading {primary}'s GTIDs failed: {e}"))?;
        rows.first().and_then(|r| r.at(0)).map(str::trim).filter(|g| !g.is_empty()).and_then(|g| GtidSet::parse(g).ok())
    };
    let deadline = Instant::now() + timeout;
    loop {
        let row = exec.replica_status(replica).await.map_err(|e| format!("reading {replica}'s status failed: {e}"))?;
        let row = row.ok_or_else(|| format!("{replica} is not a replica"))?;
        let at = crate::refactor::executor::exec_of(&row);
        let by_gtid = written.as_ref().is_some_and(|w| GtidSet::parse(&row.text(&["Executed_Gtid_Set"])).is_ok_and(|e| w.subtract(&e).is_empty()));
        if at >= target || by_gtid {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{replica} did not catch up with {primary} within {} s (it executed up to {at}, the primary wrote up to {target})",
                timeout.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn restore_writable(exec: &mut Executor, primary: &InstanceKey) -> String {
    let d = exec.dialect_for(primary);
    let mut statements: Vec<String> = d.set_super_read_only(false).into_iter().collect();
    statements.push(d.set_read_only(false));
    match exec.exec_all(primary, &statements).await {
        Ok(_) => format!("{primary} was made writable again"),
        Err((_, e)) => format!("making {primary} writable again FAILED: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(name: &str, source: Option<&str>) -> Instance {
        let mut i = Instance::unseen(InstanceKey::new(name, 3306));
        i.cluster_name = "p:3306".into();
        i.is_last_check_valid = true;
        i.log_bin_enabled = true;
        if let Some(s) = source {
            i.master_key = InstanceKey::new(s, 3306);
        }
        i
    }

    fn view(all: Vec<Instance>) -> BTreeMap<InstanceKey, Instance> {
        all.into_iter().map(|i| (i.key.clone(), i)).collect()
    }

    fn k(name: &str) -> InstanceKey {
        InstanceKey::new(name, 3306)
    }

    #[test]
    fn the_designated_replica_is_d_then_the_operand_then_the_only_one() {
        let v = view(vec![server("p", None), server("a", Some("p")), server("b", Some("p")), server("c", Some("a"))]);
        let p = cluster_primary(&v, "p:3306").unwrap();
        assert_eq!(p.key, k("p"));
        assert_eq!(choose_designated(&v, p, None, Some(&k("b")), Kind::Graceful).unwrap(), Some(k("b")));
        assert_eq!(choose_designated(&v, p, Some(&k("a")), None, Kind::Graceful).unwrap(), Some(k("a")), "the seed's -i mysql2");
        let err = choose_designated(&v, p, Some(&k("p")), None, Kind::Graceful).unwrap_err().to_string();
        assert!(err.contains("name the one to promote with -d"), "{err}");
        assert_eq!(choose_designated(&v, p, None, None, Kind::GracefulAuto).unwrap(), None);
        let err = choose_designated(&v, p, None, Some(&k("c")), Kind::ForceTakeover).unwrap_err().to_string();
        assert!(err.contains("not a direct replica"), "{err}");
        let one = view(vec![server("p", None), server("a", Some("p"))]);
        assert_eq!(choose_designated(&one, one.get(&k("p")).unwrap(), None, None, Kind::Graceful).unwrap(), Some(k("a")));
    }

    #[test]
    fn a_co_master_cluster_has_no_single_primary() {
        let mut p = server("p", Some("q"));
        p.master_key = k("q");
        let v = view(vec![p, server("q", Some("p")), server("a", Some("p"))]);
        let err = cluster_primary(&v, "p:3306").unwrap_err().to_string();
        assert!(err.contains("Found 2 potential masters"), "{err}");
    }

    #[test]
    fn the_old_primary_joins_before_the_successor_takes_writes() {
        let old = server("p", None);
        let mut plan = RecoveryPlan {
            kind: super::super::plan::RecoveryKind::DeadPrimary,
            failed: k("p"),
            successor: Some(k("a")),
            candidacy: None,
            steps: vec![
                RecoveryStep::FenceOldPrimary { on: k("p"), super_read_only: false, required: true },
                RecoveryStep::ResetReplicaAll { on: k("a") },
                RecoveryStep::SetWritable { on: k("a") },
                RecoveryStep::DowntimeLost { on: k("p"), minutes: 0 },
            ],
            moved: Vec::new(),
            lost: Vec::new(),
        };
        demote_in_plan(&mut plan, &old, false, true);
        let join = RecoveryStep::Refactor(Step::JoinAsReplica { server: k("p"), to: k("a"), position: Position::BinlogOf(k("a")), credentials_from: k("a") });
        assert_eq!(plan.steps[1], join, "before RESET REPLICA ALL (the credentials) and read_only=0 (the position)");
        assert!(!plan.steps.iter().any(|s| matches!(s, RecoveryStep::DowntimeLost { .. })), "the old primary is not lost");
        assert_eq!(plan.steps.last(), Some(&RecoveryStep::Refactor(Step::StartReplica { on: k("p") })));

        // By GTID: after the successor takes writes (the join is not on the write path), still
        // before its reset.
        let mut plan = RecoveryPlan {
            kind: super::super::plan::RecoveryKind::DeadPrimary,
            failed: k("p"),
            successor: Some(k("a")),
            candidacy: None,
            steps: vec![RecoveryStep::SetWritable { on: k("a") }, RecoveryStep::ResetReplicaAll { on: k("a") }],
            moved: Vec::new(),
            lost: Vec::new(),
        };
        demote_in_plan(&mut plan, &old, true, false);
        let join = RecoveryStep::Refactor(Step::JoinAsReplica { server: k("p"), to: k("a"), position: Position::Gtid, credentials_from: k("a") });
        assert_eq!(plan.steps, vec![RecoveryStep::SetWritable { on: k("a") }, join, RecoveryStep::ResetReplicaAll { on: k("a") }]);
    }
}
