//! Which mechanism moves an instance below a target, the way orchestrator's smart mode chooses
//! (reference 5.5), and the preconditions of the binlog-coordinate mechanisms (move-up and
//! move-below need both servers replicating, freshly checked and not lagging).

use super::refusal::{Refusal, Rule};
use super::replication::{can_replicate_from, can_replicate_from_gtid, RuleSettings};
use super::tree::Family;
use crate::model::{Instance, InstanceKey};
use serde::{Deserialize, Serialize};

/// How a replica is moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mechanism {
    /// Already replicating from the target: point it again at the same coordinates.
    Repoint,
    /// GTID: Oracle auto-position or MariaDB GTID; the target has every transaction needed.
    Gtid,
    /// Binlog coordinates, target is a sibling: stop both, align them with START ... UNTIL,
    /// continue under the sibling at its own binlog position.
    MoveBelow,
    /// Binlog coordinates, target is the grandparent: stop the source, catch up with it, continue
    /// under the grandparent at the source's executed position.
    MoveUp,
}

impl Mechanism {
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Repoint => "repoint",
            Mechanism::Gtid => "gtid",
            Mechanism::MoveBelow => "move-below",
            Mechanism::MoveUp => "move-up",
        }
    }
}

fn known<'a>(family: &Family<'a>, key: &InstanceKey) -> Result<&'a Instance, Refusal> {
    family.get(key).ok_or_else(|| Refusal::new(Rule::UnknownInstance, format!("unknown instance {key}")))
}

/// The instance exists and replicates from someone.
pub fn replica<'a>(family: &Family<'a>, key: &InstanceKey) -> Result<&'a Instance, Refusal> {
    let inst = known(family, key)?;
    if !inst.is_replica() {
        return Err(Refusal::new(Rule::NotReplica, format!("{key} is not a replica")));
    }
    Ok(inst)
}

/// A replica that may be moved with binlog coordinates: replicating, its last check fresh and
/// valid, and not lagging beyond `ReasonableMaintenanceReplicationLagSeconds`.
pub fn ready_for_coordinates_move(inst: &Instance, settings: &RuleSettings) -> Result<(), Refusal> {
    let k = &inst.key;
    if !inst.is_last_check_valid || !inst.is_recently_checked {
        return Err(Refusal::new(Rule::NotReachable, format!("{k} was not checked recently and successfully")));
    }
    if !inst.is_replicating() {
        return Err(Refusal::new(Rule::NotReplicating, format!("{k} is not replicating (both threads must run)")));
    }
    match inst.replication_lag_seconds.get() {
        None => Err(Refusal::new(Rule::Lagging, format!("{k}'s lag is unknown"))),
        Some(lag) if lag - inst.sql_delay as i64 > settings.maintenance_lag_seconds => Err(Refusal::new(
            Rule::Lagging,
            format!("{k} lags {lag} s, more than ReasonableMaintenanceReplicationLagSeconds ({})", settings.maintenance_lag_seconds),
        )),
        Some(_) => Ok(()),
    }
}

/// Whether the replica would move by GTID: it already replicates with GTID and the target
/// speaks the same GTID (orchestrator's rule; a gtid_mode=ON replica on binlog coordinates
/// stays on coordinates).
pub fn moves_by_gtid(inst: &Instance, target: &Instance) -> bool {
    (inst.using_oracle_gtid && target.supports_oracle_gtid) || (inst.using_mariadb_gtid && target.is_mariadb())
}

/// Chooses how `instance` moves below `target`, or says why it cannot.
pub fn choose_relocation(family: &Family, instance: &InstanceKey, target: &InstanceKey, settings: &RuleSettings) -> Result<Mechanism, Refusal> {
    let inst = replica(family, instance)?;
    let tgt = known(family, target)?;
    if family.is_descendant(target, instance) {
        return Err(Refusal::new(Rule::Descendant, format!("{target} replicates from {instance}: that would make a cycle")));
    }
    can_replicate_from(inst, tgt, settings)?;
    if inst.master_key == *target {
        return Ok(Mechanism::Repoint);
    }
    if moves_by_gtid(inst, tgt) {
        can_replicate_from_gtid(inst, tgt, settings)?;
        return Ok(Mechanism::Gtid);
    }
    if family.are_siblings(instance, target) {
        ready_for_coordinates_move(inst, settings)?;
        ready_for_coordinates_move(tgt, settings)?;
        return Ok(Mechanism::MoveBelow);
    }
    if family.grandparent_of(instance).is_some_and(|g| g.key == *target) {
        ready_for_coordinates_move(inst, settings)?;
        if let Some(parent) = family.source_of(instance) {
            ready_for_coordinates_move(parent, settings)?;
        }
        return Ok(Mechanism::MoveUp);
    }
    Err(Refusal::new(
        Rule::TooComplex,
        format!("without GTID, {instance} can only move below a sibling or up to its grandparent; move it step by step"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NullInt64;

    fn server(name: &str, id: u32, master: Option<&str>) -> Instance {
        let mut i = Instance::unseen(InstanceKey::new(name, 3306));
        i.server_id = id;
        i.version = "10.11.6-MariaDB".into();
        i.flavor_name = "MariaDB".into();
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
    fn smart_mode_picks_the_mechanism_orchestrator_would() {
        // p <- a <- c, p <- b ; file:pos
        let all = [server("p", 1, None), server("a", 2, Some("p")), server("b", 3, Some("p")), server("c", 4, Some("a"))];
        let f = Family::new(all.iter());
        let s = RuleSettings::default();
        assert_eq!(choose_relocation(&f, &k("a"), &k("p"), &s), Ok(Mechanism::Repoint));
        assert_eq!(choose_relocation(&f, &k("a"), &k("b"), &s), Ok(Mechanism::MoveBelow));
        assert_eq!(choose_relocation(&f, &k("c"), &k("p"), &s), Ok(Mechanism::MoveUp));
        assert_eq!(choose_relocation(&f, &k("c"), &k("b"), &s).unwrap_err().rule, Rule::TooComplex);
        assert_eq!(choose_relocation(&f, &k("a"), &k("c"), &s).unwrap_err().rule, Rule::Descendant);
        assert_eq!(choose_relocation(&f, &k("p"), &k("a"), &s).unwrap_err().rule, Rule::NotReplica);
        assert_eq!(choose_relocation(&f, &k("zz"), &k("a"), &s).unwrap_err().rule, Rule::UnknownInstance);
    }

    #[test]
    fn gtid_replicas_move_anywhere_compatible() {
        let mut all = vec![server("p", 1, None), server("a", 2, Some("p")), server("b", 3, Some("p")), server("c", 4, Some("a"))];
        for i in all.iter_mut().skip(1) {
            i.using_mariadb_gtid = true;
        }
        let f = Family::new(all.iter());
        let s = RuleSettings::default();
        assert_eq!(choose_relocation(&f, &k("c"), &k("b"), &s), Ok(Mechanism::Gtid));
        assert_eq!(choose_relocation(&f, &k("a"), &k("b"), &s), Ok(Mechanism::Gtid));
    }

    #[test]
    fn coordinate_moves_need_healthy_replication() {
        let mut all = vec![server("p", 1, None), server("a", 2, Some("p")), server("b", 3, Some("p"))];
        all[1].replication_lag_seconds = NullInt64::some(100);
        let f = Family::new(all.iter());
        assert_eq!(choose_relocation(&f, &k("a"), &k("b"), &RuleSettings::default()).unwrap_err().rule, Rule::Lagging);
        all[1].replication_sql_thread_running = false;
        let f = Family::new(all.iter());
        assert_eq!(choose_relocation(&f, &k("a"), &k("b"), &RuleSettings::default()).unwrap_err().rule, Rule::NotReplicating);
    }
}
