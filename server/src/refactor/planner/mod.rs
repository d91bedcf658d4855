//! The planner: from an operation and the current view to a plan, or a refusal naming the rule.
//! Pure: no IO, tested on hand-made topologies.
//!
//! # Layout
//! - `moves`:    relocate, move-up, move-below, move-gtid, repoint (one replica).
//! - `replicas`: operations on several replicas and role swaps (a part per replica).
//! - `control`:  one server's replication threads and settings.

pub mod control;
pub mod moves;
pub mod replicas;

use super::plan::Plan;
use app::model::ops::Operation;
use app::model::{Instance, InstanceKey};
use app::rules::tree::Family;
use app::rules::{Refusal, RuleSettings};
use std::collections::BTreeMap;

/// Plans `op` against `view` (every known instance, as discovery derived it).
pub fn plan(op: &Operation, view: &BTreeMap<InstanceKey, Instance>, settings: &RuleSettings) -> Result<Plan, Refusal> {
    let family = Family::new(view.values());
    let f = &family;
    match op {
        Operation::Relocate { instance, target } => moves::relocate(op, f, instance, target, settings),
        Operation::MoveUp { instance } => moves::move_up(op, f, instance, settings),
        Operation::MoveBelow { instance, target } => moves::move_below(op, f, instance, target, settings),
        Operation::MoveGtid { instance, target } => moves::move_gtid(op, f, instance, target, settings),
        Operation::Repoint { instance, target } => moves::repoint(op, f, instance, target.as_ref(), settings),
        Operation::RelocateReplicas { .. }
        | Operation::MoveUpReplicas { .. }
        | Operation::MoveReplicasGtid { .. }
        | Operation::RepointReplicas { .. }
        | Operation::TakeSiblings { .. }
        | Operation::TakeMaster { .. }
        | Operation::MakeCoMaster { .. }
        | Operation::RegroupReplicas { .. } => replicas::plan(op, f, settings),
        Operation::StopReplica { .. }
        | Operation::StartReplica { .. }
        | Operation::RestartReplica { .. }
        | Operation::StopReplicaNice { .. }
        | Operation::ResetReplica { .. }
        | Operation::DetachReplicaMasterHost { .. }
        | Operation::ReattachReplicaMasterHost { .. }
        | Operation::SkipQuery { .. }
        | Operation::SetReadOnly { .. }
        | Operation::SetWriteable { .. }
        | Operation::EnableSemiSyncMaster { .. }
        | Operation::DisableSemiSyncMaster { .. }
        | Operation::EnableSemiSyncReplica { .. }
        | Operation::DisableSemiSyncReplica { .. }
        | Operation::DelayReplication { .. }
        | Operation::FlushBinaryLogs { .. }
        | Operation::GtidErrantInjectEmpty { .. } => control::plan(op, f, settings),
        // A takeover is a recovery (crate::recovery::takeover): it is never planned here.
        Operation::GracefulMasterTakeover { instance } => Err(Refusal::new(
            app::rules::Rule::ClusterPrimary,
            format!("promoting {instance} is a graceful takeover: use graceful-master-takeover"),
        )),
    }
}
