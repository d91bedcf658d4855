//! Plans that move one replica: relocate (smart), move-up, move-below, move-gtid, repoint.

use super::super::plan::{Plan, Position, Step};
use app::model::ops::Operation;
use app::model::{Instance, InstanceKey};
use app::rules::relocation::{moves_by_gtid, ready_for_coordinates_move, replica};
use app::rules::tree::Family;
use app::rules::{can_replicate_from, can_replicate_from_gtid, choose_relocation, Mechanism, Refusal, Rule, RuleSettings};

/// The steps of `mechanism` moving `instance` below `target` (both checked by the caller).
pub fn steps_for(family: &Family, mechanism: Mechanism, instance: &InstanceKey, target: &InstanceKey) -> Vec<Step> {
    let i = instance.clone();
    let t = target.clone();
    match mechanism {
        Mechanism::Repoint => {
            let uses_gtid = family.get(instance).is_some_and(Instance::uses_gtid);
            let position = if uses_gtid { Position::Gtid } else { Position::SameExec };
            vec![Step::StopReplica { on: i.clone() }, Step::ChangeSource { replica: i.clone(), to: t, position }, Step::StartReplica { on: i }]
        }
        Mechanism::Gtid => vec![
            Step::StopReplica { on: i.clone() },
            Step::ChangeSource { replica: i.clone(), to: t, position: Position::Gtid },
            Step::StartReplica { on: i },
        ],
        Mechanism::MoveBelow => vec![
            Step::StopReplica { on: i.clone() },
            Step::StopReplica { on: t.clone() },
            Step::AlignSiblings { a: i.clone(), b: t.clone() },
            Step::ChangeSource { replica: i.clone(), to: t.clone(), position: Position::BinlogOf(t.clone()) },
            Step::StartReplica { on: t },
            Step::StartReplica { on: i },
        ],
        Mechanism::MoveUp => {
            let parent = family.source_of(instance).map(|p| p.key.clone()).unwrap_or_default();
            vec![
                Step::StopReplica { on: parent.clone() },
                Step::StopReplica { on: i.clone() },
                Step::CatchUpWithSource { replica: i.clone(), source: parent.clone() },
                Step::ChangeSource { replica: i.clone(), to: t, position: Position::ExecOf(parent.clone()) },
                Step::StartReplica { on: parent },
                Step::StartReplica { on: i },
            ]
        }
    }
}

fn plan_of(op: &Operation, family: &Family, mechanism: Mechanism, instance: &InstanceKey, target: &InstanceKey) -> Plan {
    Plan::single(op, Some(mechanism), steps_for(family, mechanism, instance, target))
}

fn not_below_itself(family: &Family, instance: &InstanceKey, target: &InstanceKey) -> Result<(), Refusal> {
    if family.is_descendant(target, instance) {
        return Err(Refusal::new(Rule::Descendant, format!("{target} replicates from {instance}: that would make a cycle")));
    }
    Ok(())
}

fn known<'a>(family: &Family<'a>, key: &InstanceKey) -> Result<&'a Instance, Refusal> {
    family.get(key).ok_or_else(|| Refusal::new(Rule::UnknownInstance, format!("unknown instance {key}")))
}

pub fn relocate(op: &Operation, family: &Family, instance: &InstanceKey, target: &InstanceKey, s: &RuleSettings) -> Result<Plan, Refusal> {
    let mechanism = choose_relocation(family, instance, target, s)?;
    Ok(plan_of(op, family, mechanism, instance, target))
}

pub fn move_up(op: &Operation, family: &Family, instance: &InstanceKey, s: &RuleSettings) -> Result<Plan, Refusal> {
    let inst = replica(family, instance)?;
    let parent = family
        .source_of(instance)
        .ok_or_else(|| Refusal::new(Rule::NotReachable, format!("{instance}'s source {} is not known", inst.master_key)))?;
    let grandparent = family
        .source_of(&parent.key)
        .ok_or_else(|| Refusal::new(Rule::NotGrandparent, format!("{} is not a replica: {instance} has nowhere to move up to", parent.key)))?;
    can_replicate_from(inst, grandparent, s)?;
    if moves_by_gtid(inst, grandparent) {
        can_replicate_from_gtid(inst, grandparent, s)?;
        return Ok(plan_of(op, family, Mechanism::Gtid, instance, &grandparent.key));
    }
    ready_for_coordinates_move(inst, s)?;
    ready_for_coordinates_move(parent, s)?;
    Ok(plan_of(op, family, Mechanism::MoveUp, instance, &grandparent.key))
}

pub fn move_below(op: &Operation, family: &Family, instance: &InstanceKey, sibling: &InstanceKey, s: &RuleSettings) -> Result<Plan, Refusal> {
    let inst = replica(family, instance)?;
    let sib = known(family, sibling)?;
    if !family.are_siblings(instance, sibling) {
        return Err(Refusal::new(Rule::NotSiblings, format!("{instance} and {sibling} do not replicate from the same source")));
    }
    can_replicate_from(inst, sib, s)?;
    if moves_by_gtid(inst, sib) {
        can_replicate_from_gtid(inst, sib, s)?;
        return Ok(plan_of(op, family, Mechanism::Gtid, instance, sibling));
    }
    ready_for_coordinates_move(inst, s)?;
    ready_for_coordinates_move(sib, s)?;
    Ok(plan_of(op, family, Mechanism::MoveBelow, instance, sibling))
}

pub fn move_gtid(op: &Operation, family: &Family, instance: &InstanceKey, target: &InstanceKey, s: &RuleSettings) -> Result<Plan, Refusal> {
    let inst = replica(family, instance)?;
    let tgt = known(family, target)?;
    not_below_itself(family, instance, target)?;
    can_replicate_from_gtid(inst, tgt, s)?;
    Ok(plan_of(op, family, Mechanism::Gtid, instance, target))
}

pub fn repoint(op: &Operation, family: &Family, instance: &InstanceKey, target: Option<&InstanceKey>, s: &RuleSettings) -> Result<Plan, Refusal> {
    let inst = replica(family, instance)?;
    let target = target.unwrap_or(&inst.master_key);
    let tgt = known(family, target)?;
    not_below_itself(family, instance, target)?;
    can_replicate_from(inst, tgt, s)?;
    Ok(plan_of(op, family, Mechanism::Repoint, instance, target))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::NullInt64;

    fn server(name: &str, id: u32, master: Option<&str>) -> Instance {
        let mut i = Instance::unseen(InstanceKey::new(name, 3306));
        i.server_id = id;
        i.version = "9.7.4".into();
        i.flavor_name = "MySQL".into();
        i.log_bin_enabled = true;
        i.log_replication_updates_enabled = true;
        i.binlog_format = "ROW".into();
        i.is_last_check_valid = true;
        i.is_recently_checked = true;
        if let Some(m) = master {
            i.master_key = InstanceKey::new(m, 3306);
            i.replication_io_thread_running = true;
            i.replication_sql_thread_running = true;
            i.replication_lag_seconds = NullInt64::some(0);
        }
        i
    }

    fn k(n: &str) -> InstanceKey {
        InstanceKey::new(n, 3306)
    }

    #[test]
    fn move_below_with_coordinates_stops_aligns_changes_and_restarts() {
        let all = [server("p", 1, None), server("a", 2, Some("p")), server("b", 3, Some("p"))];
        let f = Family::new(all.iter());
        let op = Operation::MoveBelow { instance: k("a"), target: k("b") };
        let plan = move_below(&op, &f, &k("a"), &k("b"), &RuleSettings::default()).unwrap();
        assert_eq!(plan.mechanism, Some(Mechanism::MoveBelow));
        assert_eq!(
            plan.parts[0],
            vec![
                Step::StopReplica { on: k("a") },
                Step::StopReplica { on: k("b") },
                Step::AlignSiblings { a: k("a"), b: k("b") },
                Step::ChangeSource { replica: k("a"), to: k("b"), position: Position::BinlogOf(k("b")) },
                Step::StartReplica { on: k("b") },
                Step::StartReplica { on: k("a") },
            ]
        );
    }

    #[test]
    fn move_up_needs_a_grandparent_and_uses_gtid_when_it_can() {
        let mut all = [server("p", 1, None), server("a", 2, Some("p")), server("c", 3, Some("a"))];
        let s = RuleSettings::default();
        let f = Family::new(all.iter());
        let op = Operation::MoveUp { instance: k("a") };
        assert_eq!(move_up(&op, &f, &k("a"), &s).unwrap_err().rule, Rule::NotGrandparent);
        let op = Operation::MoveUp { instance: k("c") };
        let plan = move_up(&op, &f, &k("c"), &s).unwrap();
        assert_eq!(plan.mechanism, Some(Mechanism::MoveUp));
        assert_eq!(plan.parts[0][3], Step::ChangeSource { replica: k("c"), to: k("p"), position: Position::ExecOf(k("a")) });
        for i in all.iter_mut() {
            i.supports_oracle_gtid = true;
            i.using_oracle_gtid = i.is_replica();
        }
        let f = Family::new(all.iter());
        let plan = move_up(&op, &f, &k("c"), &s).unwrap();
        assert_eq!(plan.mechanism, Some(Mechanism::Gtid));
        assert_eq!(plan.parts[0].len(), 3);
    }

    #[test]
    fn refusals_name_their_rule() {
        let mut all = [server("p", 1, None), server("a", 2, Some("p")), server("c", 3, Some("a")), server("b", 4, Some("p"))];
        let s = RuleSettings::default();
        {
            let f = Family::new(all.iter());
            let below = |i: &str, t: &str| move_below(&Operation::MoveBelow { instance: k(i), target: k(t) }, &f, &k(i), &k(t), &s);
            assert_eq!(below("c", "b").unwrap_err().rule, Rule::NotSiblings);
            let gtid = |i: &str, t: &str| move_gtid(&Operation::MoveGtid { instance: k(i), target: k(t) }, &f, &k(i), &k(t), &s);
            assert_eq!(gtid("a", "c").unwrap_err().rule, Rule::Descendant);
            assert_eq!(gtid("a", "b").unwrap_err().rule, Rule::NoGtid);
        }
        all[3].log_bin_enabled = false;
        let f = Family::new(all.iter());
        let below = move_below(&Operation::MoveBelow { instance: k("a"), target: k("b") }, &f, &k("a"), &k("b"), &s);
        assert_eq!(below.unwrap_err().rule, Rule::NoBinaryLogs);
    }

    #[test]
    fn repoint_defaults_to_the_current_source() {
        let all = [server("p", 1, None), server("a", 2, Some("p"))];
        let f = Family::new(all.iter());
        let op = Operation::Repoint { instance: k("a"), target: None };
        let plan = repoint(&op, &f, &k("a"), None, &RuleSettings::default()).unwrap();
        assert_eq!(plan.parts[0][1], Step::ChangeSource { replica: k("a"), to: k("p"), position: Position::SameExec });
    }
}
