//! The dead co-master plan (reference §5.1, DeadCoMaster): the surviving co-master becomes the
//! only primary. It applies what it fetched from the dead one, forgets it (RESET REPLICA ALL)
//! and takes writes; the dead one's other replicas move below it by GTID.
//!
//! `CoMasterRecoveryMustPromoteOtherCoMaster` is always honoured (orchestrator's default): the
//! survivor already holds everything written on it, which no replica of the dead one has. When
//! a veto excludes it, or a reachable replica of the dead one holds more of the dead one's
//! binary log than it does, the recovery is refused and says why, as for a dead primary.

use super::candidate::{compare_holdings, holdings, veto, Candidacy};
use super::plan::{failed_instance, gtid_move, in_maintenance, LostReplica, RecoveryError, RecoveryKind, RecoveryPlan, RecoveryStep};
use super::policy::RecoveryPolicy;
use crate::analysis::Snapshot;
use crate::refactor::planner::moves::steps_for;
use app::model::analysis::{CodeAction, ReplicationAnalysis};
use app::model::Instance;
use app::rules::tree::Family;
use app::rules::{can_replicate_from, Mechanism};
use std::cmp::Ordering;

/// Plans the recovery of a dead co-master: promote the surviving one.
pub fn plan_dead_co_master(snapshot: &Snapshot, verdict: &ReplicationAnalysis, policy: &RecoveryPolicy) -> Result<RecoveryPlan, RecoveryError> {
    let dead = failed_instance(snapshot, verdict, CodeAction::RecoverDeadCoMaster)?;
    let family = Family::new(snapshot.instances.iter().copied());
    let survivor = family.get(&dead.master_key).ok_or_else(|| RecoveryError::UnknownInstance(dead.master_key.clone()))?;
    if let Some(why) = veto(survivor, dead, in_maintenance(snapshot, &survivor.key), policy) {
        return Err(RecoveryError::NoCandidate { failed: dead.key.clone(), passed_over: vec![format!("{} (the surviving co-master): {why}", survivor.key)] });
    }
    let others: Vec<&Instance> = family.replicas_of(&dead.key).into_iter().filter(|r| r.key != survivor.key).collect();
    let ahead: Vec<String> = others
        .iter()
        .filter(|r| r.is_last_check_valid && compare_holdings(r, survivor) == Ordering::Greater)
        .map(|r| format!("{} holds up to {}", r.key, holdings(r)))
        .collect();
    if !ahead.is_empty() {
        return Err(RecoveryError::WouldLoseData { failed: dead.key.clone(), candidate: survivor.key.clone(), candidate_holds: holdings(survivor).to_string(), ahead });
    }

    let mut plan = RecoveryPlan {
        kind: RecoveryKind::DeadPrimary,
        failed: dead.key.clone(),
        successor: Some(survivor.key.clone()),
        candidacy: Some(Candidacy {
            chosen: survivor.key.clone(),
            why: format!("the surviving co-master (CoMasterRecoveryMustPromoteOtherCoMaster); holds up to {} of {}'s binary log", holdings(survivor), dead.key),
            passed_over: others.iter().map(|r| (r.key.clone(), format!("{} is the surviving co-master", survivor.key))).collect(),
        }),
        steps: Vec::new(),
        moved: Vec::new(),
        lost: Vec::new(),
    };
    let fence = |required| RecoveryStep::FenceOldPrimary { on: dead.key.clone(), super_read_only: true, required };
    if dead.is_last_check_valid {
        plan.steps.push(fence(true));
    }
    for r in others.iter().filter(|r| r.is_last_check_valid) {
        plan.steps.push(RecoveryStep::StopIoThread { on: r.key.clone() });
    }
    plan.steps.push(RecoveryStep::ApplyRelayLog { on: survivor.key.clone(), timeout_seconds: policy.candidate_relay_log_wait_seconds() });
    let mut by_gtid = Vec::new();
    for r in &others {
        let lose = |reason: String| LostReplica { key: r.key.clone(), reason };
        if !r.is_last_check_valid {
            plan.lost.push(lose("unreachable: its last check failed".into()));
        } else if in_maintenance(snapshot, &r.key) {
            plan.lost.push(lose("under a maintenance lock".into()));
        } else if let Err(refusal) = can_replicate_from(r, survivor, &policy.rules) {
            plan.lost.push(lose(format!("cannot replicate from {}: {}", survivor.key, refusal.message)));
        } else {
            match gtid_move(r, survivor, policy) {
                Some(Ok(())) => by_gtid.push(r.key.clone()),
                Some(Err(why)) => plan.lost.push(lose(format!("cannot move below {} by GTID: {why}", survivor.key))),
                None => plan.lost.push(lose(format!("no GTID: its position exists only in {}'s binary log", dead.key))),
            }
        }
    }
    if policy.apply_mysql_promotion {
        plan.steps.push(RecoveryStep::SetWritable { on: survivor.key.clone() });
        plan.steps.push(RecoveryStep::ResetReplicaAll { on: survivor.key.clone() });
    }
    for r in by_gtid {
        plan.steps.extend(steps_for(&family, Mechanism::Gtid, &r, &survivor.key).into_iter().map(RecoveryStep::Refactor));
        plan.moved.push((r, survivor.key.clone(), Mechanism::Gtid));
    }
    if !dead.is_last_check_valid {
        plan.steps.push(fence(false));
    }
    for lost in &plan.lost {
        if policy.detach_lost_replicas && family.get(&lost.key).is_some_and(|i| i.is_last_check_valid) {
            plan.steps.push(RecoveryStep::DetachLostReplica { on: lost.key.clone() });
        }
    }
    for key in std::iter::once(&dead.key).chain(plan.lost.iter().map(|l| &l.key)) {
        plan.steps.push(RecoveryStep::DowntimeLost { on: key.clone(), minutes: policy.lost_downtime_minutes });
    }
    Ok(plan)
}
