//! The dead intermediate primary plan (reference §5.2): its replicas move below a sibling of the
//! dead server (plan A: in its data centre; plan C: elsewhere) or up to its own source (plan D).
//!
//! Plan B (regroup the replicas below one of them) is not planned: with GTID, A/C/D always
//! reach a live server, and without GTID or Pseudo-GTID a regroup would leave the group still
//! below the dead server. Replicas without GTID are lost: their position exists only in the dead
//! server's binary log. Lost replicas keep pointing at the dead server (if it returns they resume
//! where they were), so unlike a dead primary they are neither detached nor downtimed.

use super::candidate::compare_holdings;
use super::plan::{failed_instance, gtid_move, in_maintenance, LostReplica, RecoveryError, RecoveryKind, RecoveryPlan, RecoveryStep};
use super::policy::RecoveryPolicy;
use crate::analysis::Snapshot;
use crate::refactor::planner::moves::steps_for;
use crate::refactor::planner::replicas::candidate::promotion_rank;
use app::model::analysis::{CodeAction, ReplicationAnalysis};
use app::model::Instance;
use app::rules::tree::Family;
use app::rules::{can_replicate_from, Mechanism};
use std::collections::BTreeMap;

/// Siblings of `dead` that may take its replicas, best first: `prefer` in its data centre,
/// `prefer` anywhere, any in its data centre, any; then more replicas, then more advanced.
fn sibling_targets<'a>(family: &Family<'a>, snapshot: &Snapshot, dead: &Instance, source: &Instance, policy: &RecoveryPolicy) -> Vec<&'a Instance> {
    let mut valid: Vec<&Instance> = family
        .replicas_of(&source.key)
        .into_iter()
        .filter(|s| s.key != dead.key && s.key != source.master_key)
        .filter(|s| s.is_last_check_valid && s.is_replicating() && s.log_bin_enabled && s.log_replication_updates_enabled)
        .filter(|s| promotion_rank(&s.promotion_rule) > 0 && !policy.promotion_ignore.matches(&s.key.hostname, s.key.port))
        .filter(|s| s.has_replication_filters == dead.has_replication_filters && !in_maintenance(snapshot, &s.key))
        .collect();
    let tier = |s: &Instance| {
        let prefer = promotion_rank(&s.promotion_rule) >= 3;
        let local = s.data_center == dead.data_center;
        match (prefer, local) {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (false, false) => 3,
        }
    };
    valid.sort_by(|a, b| {
        tier(a)
            .cmp(&tier(b))
            .then_with(|| family.replicas_of(&b.key).len().cmp(&family.replicas_of(&a.key).len()))
            .then_with(|| compare_holdings(b, a))
            .then_with(|| a.key.cmp(&b.key))
    });
    valid
}

/// Plans the recovery of a dead intermediate primary: move its replicas to live servers.
pub fn plan_dead_intermediate_master(snapshot: &Snapshot, verdict: &ReplicationAnalysis, policy: &RecoveryPolicy) -> Result<RecoveryPlan, RecoveryError> {
    let dead = failed_instance(snapshot, verdict, CodeAction::RecoverDeadIntermediateMaster)?;
    let family = Family::new(snapshot.instances.iter().copied());
    let source = family.source_of(&dead.key).ok_or_else(|| RecoveryError::UnknownInstance(dead.master_key.clone()))?;
    let replicas: Vec<&Instance> = family.replicas_of(&dead.key).into_iter().filter(|r| r.key != dead.master_key).collect();
    if replicas.is_empty() {
        return Err(RecoveryError::NoReplicas { failed: dead.key.clone() });
    }
    let mut targets = sibling_targets(&family, snapshot, dead, source, policy);
    if source.is_last_check_valid {
        targets.push(source);
    }

    let mut plan = RecoveryPlan {
        kind: RecoveryKind::DeadIntermediatePrimary,
        failed: dead.key.clone(),
        successor: None,
        candidacy: None,
        steps: Vec::new(),
        moved: Vec::new(),
        lost: Vec::new(),
    };
    for r in &replicas {
        let lose = |reason: String| LostReplica { key: r.key.clone(), reason };
        if !r.is_last_check_valid {
            plan.lost.push(lose("unreachable: its last check failed".into()));
            continue;
        }
        if in_maintenance(snapshot, &r.key) {
            plan.lost.push(lose("under a maintenance lock".into()));
            continue;
        }
        let mut refusals = Vec::new();
        let target = targets.iter().find(|t| {
            let verdict = can_replicate_from(r, t, &policy.rules)
                .map_err(|e| e.message)
                .and_then(|()| gtid_move(r, t, policy).unwrap_or_else(|| Err("no GTID between them".into())));
            if let Err(why) = &verdict {
                refusals.push(format!("{}: {why}", t.key));
            }
            verdict.is_ok()
        });
        match target {
            Some(t) => {
                plan.steps.extend(steps_for(&family, Mechanism::Gtid, &r.key, &t.key).into_iter().map(RecoveryStep::Refactor));
                plan.moved.push((r.key.clone(), t.key.clone(), Mechanism::Gtid));
            }
            None if !r.uses_gtid() => plan.lost.push(lose(format!(
                "no GTID: its position exists only in {}'s binary log",
                dead.key
            ))),
            None if targets.is_empty() => plan.lost.push(lose("no live sibling or source can take it".into())),
            None => plan.lost.push(lose(format!("no live server can take it ({})", refusals.join("; ")))),
        }
    }
    if plan.moved.is_empty() {
        return Err(RecoveryError::NothingMovable {
            failed: dead.key.clone(),
            lost: plan.lost.iter().map(|l| format!("{}: {}", l.key, l.reason)).collect(),
        });
    }
    let mut counts: BTreeMap<_, usize> = BTreeMap::new();
    for (_, to, _) in &plan.moved {
        *counts.entry(to.clone()).or_default() += 1;
    }
    plan.successor = counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0))).map(|(k, _)| k);
    Ok(plan)
}
