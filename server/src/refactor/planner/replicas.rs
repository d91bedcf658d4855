//! Plans that move several replicas or swap roles: relocate-replicas, move-up-replicas,
//! move-replicas-gtid, repoint-replicas, take-siblings, take-master, make-co-master,
//! regroup-replicas (a part per replica, so one that cannot move does not undo the others).
//!
//! A refusal is all or nothing: when one selected replica may not move, the operation is
//! refused before anything is touched, naming every replica that may not move and the rule
//! that refused it (a `pattern` on relocate-replicas leaves replicas out on purpose).
//! Parts moving by GTID come first, as orchestrator tries GTID for all replicas before
//! anything else.
//!
//! # Layout
//! - `candidate`: which replica regroup-replicas promotes (`get-candidate-replica`).

pub(crate) mod candidate;
#[cfg(test)]
mod tests;

pub use candidate::candidate;

use super::super::plan::{Plan, Position, Step};
use super::moves::steps_for;
use app::model::ops::Operation;
use app::model::{Instance, InstanceKey};
use app::rules::relocation::{moves_by_gtid, ready_for_coordinates_move, replica};
use app::rules::tree::Family;
use app::rules::{can_replicate_from, can_replicate_from_gtid, choose_relocation, Mechanism, Refusal, Rule, RuleSettings};

pub fn plan(op: &Operation, family: &Family, settings: &RuleSettings) -> Result<Plan, Refusal> {
    let s = settings;
    match op {
        Operation::RelocateReplicas { instance, target, pattern } => relocate_replicas(op, family, instance, target, pattern.as_deref(), s),
        Operation::MoveUpReplicas { instance } => move_up_replicas(op, family, instance, s),
        Operation::MoveReplicasGtid { instance, target } => move_replicas_gtid(op, family, instance, target, s),
        Operation::RepointReplicas { instance } => repoint_replicas(op, family, instance, s),
        Operation::TakeSiblings { instance } => take_siblings(op, family, instance, s),
        Operation::TakeMaster { instance } => take_master(op, family, instance, s),
        Operation::MakeCoMaster { instance } => make_co_master(op, family, instance, s),
        Operation::RegroupReplicas { instance } => regroup_replicas(op, family, instance, s),
        other => Err(Refusal::new(Rule::TooComplex, format!("{} does not move several replicas", other.name()))),
    }
}

fn known<'a>(family: &Family<'a>, key: &InstanceKey) -> Result<&'a Instance, Refusal> {
    family.get(key).ok_or_else(|| Refusal::new(Rule::UnknownInstance, format!("unknown instance {key}")))
}

/// The moves of one operation, a part each, collected before the plan is built.
#[derive(Default)]
struct Moves {
    /// (mechanism, steps) of each replica, in the order the replicas were considered.
    parts: Vec<(Mechanism, Vec<Step>)>,
    refused: Vec<(InstanceKey, Refusal)>,
    /// The source every move-up part stopped, restarted once by the last part.
    stopped_parent: Option<InstanceKey>,
}

impl Moves {

    fn refuse(&mut self, replica: &InstanceKey, refusal: Refusal) {
        self.refused.push((replica.clone(), refusal));
    }

    /// Moves `replica` below `target` by `mechanism` (already checked). Move-up parts share the
    /// stop of the replicas' source: every part stops it (a no-op once stopped, and it keeps a
    /// part safe when an earlier part's rollback restarted it), none restarts it, and one last
    /// part restarts it whatever happened to the others.
    fn relocate(&mut self, family: &Family, mechanism: Mechanism, replica: &InstanceKey, target: &InstanceKey) {
        if mechanism != Mechanism::MoveUp {
            self.parts.push((mechanism, steps_for(family, mechanism, replica, target)));
            return;
        }
        let parent = family.source_of(replica).map(|p| p.key.clone()).unwrap_or_default();
        let steps = vec![
            Step::StopReplica { on: parent.clone() },
            Step::StopReplica { on: replica.clone() },
            Step::CatchUpWithSource { replica: replica.clone(), source: parent.clone() },
            Step::ChangeSource { replica: replica.clone(), to: target.clone(), position: Position::ExecOf(parent.clone()) },
            Step::StartReplica { on: replica.clone() },
        ];
        self.stopped_parent = Some(parent);
        self.parts.push((mechanism, steps));
    }

    /// The plan: GTID parts first, then the others, then the restart of a stopped source.
    /// Refused when any replica was refused, or when there is nothing to move.
    fn into_plan(self, op: &Operation, nothing_to_move: impl FnOnce() -> String) -> Result<Plan, Refusal> {
        if let Some((_, first)) = self.refused.first() {
            let rule = first.rule;
            let all: Vec<String> = self.refused.iter().map(|(k, r)| format!("{k}: {r}")).collect();
            let moving = self.parts.len();
            let message = format!(
                "{} of the replicas may not move ({}); nothing was changed{}",
                self.refused.len(),
                all.join("; "),
                if moving > 0 { format!(" ({moving} others could move: leave the refused ones out, e.g. with a pattern)") } else { String::new() }
            );
            return Err(Refusal::new(rule, message));
        }
        if self.parts.is_empty() {
            return Err(Refusal::new(Rule::NoReplicas, nothing_to_move()));
        }
        let first = self.parts[0].0;
        let mechanism = self.parts.iter().all(|(m, _)| *m == first).then_some(first);
        let (gtid, others): (Vec<_>, Vec<_>) = self.parts.into_iter().partition(|(m, _)| *m == Mechanism::Gtid);
        let mut parts: Vec<Vec<Step>> = gtid.into_iter().chain(others).map(|(_, steps)| steps).collect();
        if let Some(parent) = self.stopped_parent {
            parts.push(vec![Step::StartReplica { on: parent }]);
        }
        Ok(Plan { operation: op.clone(), mechanism, parts })
    }
}

/// The replicas of `instance`, without its co-master: the other primary of a co-master pair
/// replicates from `instance` but is its source too, not one of the replicas an operator moves
/// around (and everything in the pair's cluster descends from it, so no move could include it).
fn replicas_below<'a>(family: &Family<'a>, instance: &InstanceKey) -> Vec<&'a Instance> {
    let source = family.get(instance).map(|i| i.master_key.clone()).unwrap_or_default();
    family.replicas_of(instance).into_iter().filter(|r| r.key != source).collect()
}

/// Replicas of `instance` whose `host:port` matches `pattern` (all when there is none).
fn matching_replicas<'a>(family: &Family<'a>, instance: &InstanceKey, pattern: Option<&str>) -> Result<Vec<&'a Instance>, Refusal> {
    let replicas = replicas_below(family, instance);
    let Some(pattern) = pattern.map(str::trim).filter(|p| !p.is_empty()) else { return Ok(replicas) };
    let re = regex::Regex::new(pattern)
        .map_err(|e| Refusal::new(Rule::InvalidPattern, format!("the pattern {pattern:?} is not a regular expression: {e}")))?;
    Ok(replicas.into_iter().filter(|r| re.is_match(&r.key.to_string())).collect())
}

fn relocate_replicas(
    op: &Operation,
    family: &Family,
    instance: &InstanceKey,
    target: &InstanceKey,
    pattern: Option<&str>,
    s: &RuleSettings,
) -> Result<Plan, Refusal> {
    known(family, instance)?;
    known(family, target)?;
    let mut moves = Moves::default();
    for r in matching_replicas(family, instance, pattern)?.into_iter().filter(|r| r.key != *target) {
        match choose_relocation(family, &r.key, target, s) {
            Ok(m) => moves.relocate(family, m, &r.key, target),
            Err(e) => moves.refuse(&r.key, e),
        }
    }
    moves.into_plan(op, || match pattern {
        Some(p) => format!("no replica of {instance} matches {p:?}"),
        None => format!("{instance} has no replicas to relocate"),
    })
}

/// Every replica of `instance` moves to `instance`'s source: by GTID when it can, else with
/// binlog coordinates, `instance` stopped once for all of them and restarted at the end.
fn move_up_replicas(op: &Operation, family: &Family, instance: &InstanceKey, s: &RuleSettings) -> Result<Plan, Refusal> {
    let inst = replica(family, instance)?;
    let source = family
        .source_of(instance)
        .ok_or_else(|| Refusal::new(Rule::NotReachable, format!("{instance}'s source {} is not known", inst.master_key)))?;
    let mut moves = Moves::default();
    for r in replicas_below(family, instance) {
        let checked = can_replicate_from(r, source, s).and_then(|()| {
            if moves_by_gtid(r, source) {
                can_replicate_from_gtid(r, source, s).map(|()| Mechanism::Gtid)
            } else {
                ready_for_coordinates_move(r, s).and_then(|()| ready_for_coordinates_move(inst, s)).map(|()| Mechanism::MoveUp)
            }
        });
        match checked {
            Ok(m) => moves.relocate(family, m, &r.key, &source.key),
            Err(e) => moves.refuse(&r.key, e),
        }
    }
    moves.into_plan(op, || format!("{instance} has no replicas to move up"))
}

fn move_replicas_gtid(op: &Operation, family: &Family, instance: &InstanceKey, target: &InstanceKey, s: &RuleSettings) -> Result<Plan, Refusal> {
    known(family, instance)?;
    let tgt = known(family, target)?;
    let mut moves = Moves::default();
    for r in replicas_below(family, instance).into_iter().filter(|r| r.key != *target) {
        let checked = if family.is_descendant(target, &r.key) {
            Err(Refusal::new(Rule::Descendant, format!("{target} replicates from {}: that would make a cycle", r.key)))
        } else {
            can_replicate_from_gtid(r, tgt, s)
        };
        match checked {
            Ok(()) => moves.relocate(family, Mechanism::Gtid, &r.key, target),
            Err(e) => moves.refuse(&r.key, e),
        }
    }
    moves.into_plan(op, || format!("{instance} has no replicas to move"))
}

fn repoint_replicas(op: &Operation, family: &Family, instance: &InstanceKey, s: &RuleSettings) -> Result<Plan, Refusal> {
    let inst = known(family, instance)?;
    let mut moves = Moves::default();
    for r in replicas_below(family, instance) {
        match can_replicate_from(r, inst, s) {
            Ok(()) => moves.relocate(family, Mechanism::Repoint, &r.key, instance),
            Err(e) => moves.refuse(&r.key, e),
        }
    }
    moves.into_plan(op, || format!("{instance} has no replicas to repoint"))
}

/// The siblings of `instance` become its replicas (relocate-replicas of its source onto it).
fn take_siblings(op: &Operation, family: &Family, instance: &InstanceKey, s: &RuleSettings) -> Result<Plan, Refusal> {
    let inst = replica(family, instance)?;
    let mut moves = Moves::default();
    for sibling in replicas_below(family, &inst.master_key).into_iter().filter(|r| r.key != *instance) {
        match choose_relocation(family, &sibling.key, instance, s) {
            Ok(m) => moves.relocate(family, m, &sibling.key, instance),
            Err(e) => moves.refuse(&sibling.key, e),
        }
    }
    moves.into_plan(op, || format!("{instance} has no siblings to take"))
}

/// The best replica of `instance` stays where it is; its siblings move below it.
fn regroup_replicas(op: &Operation, family: &Family, instance: &InstanceKey, s: &RuleSettings) -> Result<Plan, Refusal> {
    let chosen = candidate::choose(family, instance, s)?;
    let mut moves = Moves::default();
    for sibling in replicas_below(family, instance).into_iter().filter(|r| r.key != chosen.key) {
        match choose_relocation(family, &sibling.key, &chosen.key, s) {
            Ok(m) => moves.relocate(family, m, &sibling.key, &chosen.key),
            Err(e) => moves.refuse(&sibling.key, e),
        }
    }
    moves.into_plan(op, || format!("{} is the only replica of {instance}: there is nothing to regroup", chosen.key))
}

/// `instance` and its source swap places: `instance` moves up to its grandparent, and its
/// former source replicates from it. A primary is not taken (orchestrator's StopReplication
/// refuses a server that is not a replica): graceful-master-takeover is the operation that
/// demotes a primary, making the new one writable and the old one read-only. A co-master is
/// not taken either (orchestrator's rule).
fn take_master(op: &Operation, family: &Family, instance: &InstanceKey, s: &RuleSettings) -> Result<Plan, Refusal> {
    let inst = replica(family, instance)?;
    let master = family
        .get(&inst.master_key)
        .ok_or_else(|| Refusal::new(Rule::NotReachable, format!("{instance}'s source {} is not known", inst.master_key)))?;
    let m = &master.key;
    if master.master_key == *instance {
        return Err(Refusal::new(Rule::CoMaster, format!("{instance} and {m} are co-masters: each already replicates from the other")));
    }
    if master.is_co_master {
        return Err(Refusal::new(Rule::CoMaster, format!("{m} is a co-master; a co-master cannot be taken")));
    }
    if !master.is_replica() {
        return Err(Refusal::new(
            Rule::ClusterPrimary,
            format!("{m} is the primary of its cluster; to make {instance} the primary use graceful-master-takeover (-d {instance})"),
        ));
    }
    let grandparent = family
        .get(&master.master_key)
        .ok_or_else(|| Refusal::new(Rule::NotReachable, format!("{m}'s source {} is not known", master.master_key)))?;
    let g = &grandparent.key;
    can_replicate_from(inst, grandparent, s)?;
    can_replicate_from(master, inst, s)?;
    let up_by_gtid = moves_by_gtid(inst, grandparent);
    let down_by_gtid = moves_by_gtid(master, inst);
    if up_by_gtid {
        can_replicate_from_gtid(inst, grandparent, s)?;
    }
    if down_by_gtid {
        can_replicate_from_gtid(master, inst, s)?;
    }
    let mut steps = vec![Step::StopReplica { on: m.clone() }, Step::StopReplica { on: instance.clone() }];
    let mechanism = if up_by_gtid && down_by_gtid {
        Mechanism::Gtid
    } else {
        // Both stopped, `instance` applies everything its source has: then the source's executed
        // position (on the grandparent) and `instance`'s own binlog position describe one state.
        ready_for_coordinates_move(inst, s)?;
        ready_for_coordinates_move(master, s)?;
        steps.push(Step::CatchUpWithSource { replica: instance.clone(), source: m.clone() });
        Mechanism::MoveUp
    };
    let up = if up_by_gtid { Position::Gtid } else { Position::ExecOf(m.clone()) };
    let down = if down_by_gtid { Position::Gtid } else { Position::BinlogOf(instance.clone()) };
    steps.extend([
        Step::ChangeSource { replica: instance.clone(), to: g.clone(), position: up },
        Step::ChangeSource { replica: m.clone(), to: instance.clone(), position: down },
        // The demoted source first: while `instance` is stopped nothing moves, so if
        // `instance` then fails to start, both are put back exactly where they were.
        Step::StartReplica { on: m.clone() },
        Step::StartReplica { on: instance.clone() },
    ]);
    Ok(Plan::single(op, Some(mechanism), steps))
}

/// `instance`, a read-only replica of a primary that replicates from nobody, becomes that
/// primary's source too: the primary joins as a replica of `instance` with the replication
/// credentials `instance` uses (its channel's, or `ReplicationCredentialsQuery`'s), by GTID
/// when `instance` replicates by GTID, else at `instance`'s current binlog position (any
/// position will do: `instance` is read-only, everything in its binary log came from the
/// primary, which ignores its own events coming back).
fn make_co_master(op: &Operation, family: &Family, instance: &InstanceKey, s: &RuleSettings) -> Result<Plan, Refusal> {
    let inst = replica(family, instance)?;
    let master = family
        .get(&inst.master_key)
        .ok_or_else(|| Refusal::new(Rule::NotReachable, format!("{instance}'s source {} is not known", inst.master_key)))?;
    let m = &master.key;
    if master.master_key == *instance {
        return Err(Refusal::new(Rule::CoMaster, format!("{instance} is already co-master of {m}")));
    }
    if master.is_replica() {
        return Err(Refusal::new(
            Rule::CoMaster,
            format!("{m} is not a primary: it replicates from {}; only a primary that replicates from nobody gets a co-master", master.master_key),
        ));
    }
    if !inst.read_only {
        return Err(Refusal::new(Rule::NotReadOnly, format!("{instance} is writable; make it read-only (set-read-only) before making it a co-master")));
    }
    can_replicate_from(master, inst, s)?;
    let by_gtid = if inst.is_mariadb() { inst.using_mariadb_gtid } else { inst.using_oracle_gtid && master.supports_oracle_gtid };
    if by_gtid {
        can_replicate_from_gtid(master, inst, s)?;
    }
    let position = if by_gtid { Position::Gtid } else { Position::BinlogOf(instance.clone()) };
    let steps = vec![
        Step::JoinAsReplica { server: m.clone(), to: instance.clone(), position, credentials_from: instance.clone() },
        Step::StartReplica { on: m.clone() },
    ];
    Ok(Plan::single(op, by_gtid.then_some(Mechanism::Gtid), steps))
}
