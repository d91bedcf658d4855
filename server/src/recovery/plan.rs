//! A recovery plan as data, and the dead primary plan (reference §5.1, with the decisions in
//! `mod.rs`). Steps that the refactoring executor already runs are reused as `Refactor(Step)`;
//! the rest are recovery's own, so adding them did not touch the executor.

use super::candidate::{choose_candidate, holdings, Candidacy};
use super::policy::RecoveryPolicy;
use crate::analysis::Snapshot;
use crate::refactor::plan::{Position, Step};
use crate::refactor::planner::moves::steps_for;
use app::model::analysis::{AnalysisCode, CodeAction, ReplicationAnalysis};
use app::model::{Instance, InstanceKey};
use app::rules::relocation::moves_by_gtid;
use app::rules::tree::Family;
use app::rules::{can_replicate_from, can_replicate_from_gtid, Mechanism};

/// What failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecoveryKind {
    DeadPrimary,
    DeadIntermediatePrimary,
}

/// What the executor does when a bounded wait runs out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnTimeout {
    /// The candidate could not apply its relay log: promoting it would lose what it fetched.
    AbortRecovery,
    /// A replica re-pointed by coordinates could not catch up: it is lost, the recovery goes on.
    LoseReplica,
}

/// One step of a recovery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecoveryStep {
    /// A step the refactoring executor already knows (stop, change source, start).
    Refactor(Step),
    /// `read_only=ON` (and `super_read_only=ON` when `super_read_only`, where the server has it:
    /// always in our plans, whatever `UseSuperReadOnly` says, since a fence that a SUPER user's
    /// application writes through is no fence) on the old primary, so there are never two
    /// writable primaries. `required`: it is reachable now and the recovery
    /// stops if this fails; otherwise it is attempted, and retried when it comes back.
    FenceOldPrimary { on: InstanceKey, super_read_only: bool, required: bool },
    /// Stop fetching, so a primary that comes back (hung, not dead) cannot feed a replica more
    /// than the candidate will have.
    StopIoThread { on: InstanceKey },
    /// Stop the IO thread, wait at most `timeout_seconds` for the SQL thread to apply what was
    /// fetched, stop the SQL thread (the executor's stop-after-draining, bounded).
    DrainRelayLog { on: InstanceKey, timeout_seconds: u64, on_timeout: OnTimeout },
    /// The promoted server applies what it already fetched (read position noted at the start),
    /// then its SQL thread is stopped; its IO thread is left to the RESET after the promotion
    /// (stopping an IO thread stuck on a hung source takes seconds on MySQL). Nothing it fetches
    /// meanwhile is applied: the SQL thread is stopped and RESET REPLICA ALL drops the relay log.
    ApplyRelayLog { on: InstanceKey, timeout_seconds: u64 },
    /// `RESET REPLICA ALL`: the promoted server forgets its dead source.
    ResetReplicaAll { on: InstanceKey },
    /// `read_only=OFF` (and `super_read_only=OFF`): the promoted server takes writes.
    SetWritable { on: InstanceKey },
    /// Point a lost replica's source at `//host` so it cannot reconnect to a returning old primary.
    DetachLostReplica { on: InstanceKey },
    /// Downtime with reason `lost-in-recovery`; 0 minutes: until seen replicating again.
    DowntimeLost { on: InstanceKey, minutes: u64 },
}

impl RecoveryStep {
    pub fn server(&self) -> &InstanceKey {
        match self {
            RecoveryStep::Refactor(s) => s.server(),
            RecoveryStep::FenceOldPrimary { on, .. }
            | RecoveryStep::StopIoThread { on }
            | RecoveryStep::DrainRelayLog { on, .. }
            | RecoveryStep::ApplyRelayLog { on, .. }
            | RecoveryStep::ResetReplicaAll { on }
            | RecoveryStep::SetWritable { on }
            | RecoveryStep::DetachLostReplica { on }
            | RecoveryStep::DowntimeLost { on, .. } => on,
        }
    }
}

/// A replica the recovery leaves behind, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LostReplica {
    pub key: InstanceKey,
    pub reason: String,
}

/// The plan of one recovery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveryPlan {
    pub kind: RecoveryKind,
    pub failed: InstanceKey,
    /// The promoted server (dead primary), or the server most replicas moved below (dead
    /// intermediate primary).
    pub successor: Option<InstanceKey>,
    /// For a dead primary: why the successor won and why the others did not.
    pub candidacy: Option<Candidacy>,
    pub steps: Vec<RecoveryStep>,
    /// Each moved replica, its new source and how it moves.
    pub moved: Vec<(InstanceKey, InstanceKey, Mechanism)>,
    pub lost: Vec<LostReplica>,
}

impl RecoveryPlan {
    pub fn lost_keys(&self) -> Vec<&InstanceKey> {
        self.lost.iter().map(|l| &l.key).collect()
    }
    pub fn new_source_of(&self, replica: &InstanceKey) -> Option<&InstanceKey> {
        self.moved.iter().find(|(r, _, _)| r == replica).map(|(_, to, _)| to)
    }
}

/// Why no plan: each variant is a reason the recovery record shows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryError {
    #[error("{instance}: {code} does not call for this recovery")]
    NotApplicable { instance: InstanceKey, code: AnalysisCode },
    #[error("{0} is not in the snapshot")]
    UnknownInstance(InstanceKey),
    #[error("{failed} has no replicas to recover")]
    NoReplicas { failed: InstanceKey },
    #[error("no replica of {failed} may be promoted: {}", passed_over.join("; "))]
    NoCandidate { failed: InstanceKey, passed_over: Vec<String> },
    #[error("promoting {candidate} (up to {candidate_holds}) in place of {failed} would lose data: {}", ahead.join("; "))]
    WouldLoseData { failed: InstanceKey, candidate: InstanceKey, candidate_holds: String, ahead: Vec<String> },
    #[error("no replica of {failed} can be moved: {}", lost.join("; "))]
    NothingMovable { failed: InstanceKey, lost: Vec<String> },
}

pub(super) fn in_maintenance(snapshot: &Snapshot, key: &InstanceKey) -> bool {
    snapshot.in_maintenance.contains(key) || snapshot.instances.iter().any(|i| &i.key == key && i.in_maintenance)
}

pub(super) fn failed_instance<'a>(snapshot: &Snapshot<'a>, verdict: &ReplicationAnalysis, action: CodeAction) -> Result<&'a Instance, RecoveryError> {
    let key = &verdict.analyzed_instance_key;
    if verdict.analysis.action() != action {
        return Err(RecoveryError::NotApplicable { instance: key.clone(), code: verdict.analysis });
    }
    snapshot.instances.iter().copied().find(|i| &i.key == key).ok_or_else(|| RecoveryError::UnknownInstance(key.clone()))
}

/// How `replica` moves below `target` by GTID, if it can; the refusal message if GTID is the
/// way but a rule refuses.
pub(super) fn gtid_move(replica: &Instance, target: &Instance, policy: &RecoveryPolicy) -> Option<Result<(), String>> {
    moves_by_gtid(replica, target).then(|| can_replicate_from_gtid(replica, target, &policy.rules).map_err(|r| r.message))
}

/// Plans the recovery of a dead primary: promote one replica, re-point the others below it.
pub fn plan_dead_master(snapshot: &Snapshot, verdict: &ReplicationAnalysis, policy: &RecoveryPolicy) -> Result<RecoveryPlan, RecoveryError> {
    plan_dead_master_onto(snapshot, verdict, policy, None)
}

/// Like `plan_dead_master`, promoting `designated` when given (see `choose_candidate`).
pub fn plan_dead_master_onto(
    snapshot: &Snapshot,
    verdict: &ReplicationAnalysis,
    policy: &RecoveryPolicy,
    designated: Option<&InstanceKey>,
) -> Result<RecoveryPlan, RecoveryError> {
    let dead = failed_instance(snapshot, verdict, CodeAction::RecoverDeadMaster)?;
    let family = Family::new(snapshot.instances.iter().copied());
    let replicas: Vec<&Instance> = family.replicas_of(&dead.key).into_iter().filter(|r| r.key != dead.master_key).collect();
    let candidacy = choose_candidate(dead, &replicas, &|k| in_maintenance(snapshot, k), policy, designated)?;
    let c = family.get(&candidacy.chosen).ok_or_else(|| RecoveryError::UnknownInstance(candidacy.chosen.clone()))?;

    let mut plan = RecoveryPlan {
        kind: RecoveryKind::DeadPrimary,
        failed: dead.key.clone(),
        successor: Some(c.key.clone()),
        candidacy: None,
        steps: Vec::new(),
        moved: Vec::new(),
        lost: Vec::new(),
    };
    let fence = |required| RecoveryStep::FenceOldPrimary { on: dead.key.clone(), super_read_only: true, required };
    if dead.is_last_check_valid {
        plan.steps.push(fence(true));
    }
    for r in replicas.iter().filter(|r| r.is_last_check_valid && r.key != c.key) {
        plan.steps.push(RecoveryStep::StopIoThread { on: r.key.clone() });
    }
    plan.steps.push(RecoveryStep::ApplyRelayLog { on: c.key.clone(), timeout_seconds: policy.candidate_relay_log_wait_seconds() });

    let mut by_gtid = Vec::new();
    for r in replicas.iter().filter(|r| r.key != c.key) {
        let lose = |reason: String| LostReplica { key: r.key.clone(), reason };
        if !r.is_last_check_valid {
            plan.lost.push(lose("unreachable: its last check failed".into()));
            continue;
        }
        if in_maintenance(snapshot, &r.key) {
            plan.lost.push(lose("under a maintenance lock".into()));
            continue;
        }
        if let Err(refusal) = can_replicate_from(r, c, &policy.rules) {
            plan.lost.push(lose(format!("cannot replicate from {}: {}", c.key, refusal.message)));
            continue;
        }
        match gtid_move(r, c, policy) {
            Some(Ok(())) => by_gtid.push(r.key.clone()),
            Some(Err(why)) => plan.lost.push(lose(format!("cannot move below {} by GTID: {why}", c.key))),
            None if !holdings(r).is_empty() && holdings(r) == holdings(c) => {
                // Same data as the candidate: after both applied their relay logs, the candidate's
                // own binlog position is where this replica continues. Done before the candidate
                // takes writes, so that position still means "nothing new yet".
                plan.steps.push(RecoveryStep::DrainRelayLog {
                    on: r.key.clone(),
                    timeout_seconds: policy.relay_log_wait_seconds,
                    on_timeout: OnTimeout::LoseReplica,
                });
                plan.steps.push(RecoveryStep::Refactor(Step::ChangeSource {
                    replica: r.key.clone(),
                    to: c.key.clone(),
                    position: Position::BinlogOf(c.key.clone()),
                }));
                plan.steps.push(RecoveryStep::Refactor(Step::StartReplica { on: r.key.clone() }));
                plan.moved.push((r.key.clone(), c.key.clone(), Mechanism::MoveBelow));
            }
            None => plan.lost.push(lose(format!(
                "no GTID, and it holds up to {} where {} holds {}: its missing transactions exist only on the dead primary",
                holdings(r),
                c.key,
                holdings(c)
            ))),
        }
    }

    if policy.apply_mysql_promotion {
        // Writable first: RESET REPLICA ALL stops the IO thread, which on MySQL waits seconds
        // when it is stuck on a hung source; the SQL thread is already stopped.
        plan.steps.push(RecoveryStep::SetWritable { on: c.key.clone() });
        plan.steps.push(RecoveryStep::ResetReplicaAll { on: c.key.clone() });
    }
    // GTID replicas after the promotion: the new primary is writable sooner, and auto-position
    // makes their moment of re-pointing irrelevant.
    for r in by_gtid {
        plan.steps.extend(steps_for(&family, Mechanism::Gtid, &r, &c.key).into_iter().map(RecoveryStep::Refactor));
        plan.moved.push((r, c.key.clone(), Mechanism::Gtid));
    }
    if !dead.is_last_check_valid {
        plan.steps.push(fence(false));
    }
    for lost in &plan.lost {
        let reachable = family.get(&lost.key).is_some_and(|i| i.is_last_check_valid);
        if policy.detach_lost_replicas && reachable {
            plan.steps.push(RecoveryStep::DetachLostReplica { on: lost.key.clone() });
        }
    }
    for key in std::iter::once(&dead.key).chain(plan.lost.iter().map(|l| &l.key)) {
        plan.steps.push(RecoveryStep::DowntimeLost { on: key.clone(), minutes: policy.lost_downtime_minutes });
    }
    plan.candidacy = Some(candidacy);
    Ok(plan)
}
