//! What dropping a card on another card of the graph would do: the browser shows it while the
//! card is dragged, and asks the server for the plan of exactly this operation on drop. The
//! decisions use the same rules the server enforces (`choose_relocation`), so the preview does
//! not disagree with the server (orchestrator's UI guessed; reference 8.4).

use super::relocation::choose_relocation;
use super::replication::RuleSettings;
use super::tree::Family;
use super::{Refusal, Rule};
use crate::model::ops::Operation;
use crate::model::{Instance, InstanceKey};
use serde::{Deserialize, Serialize};

/// What is being dragged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dragged {
    /// A server's card: move that server.
    Instance(InstanceKey),
    /// A server's replicas handle: move all its replicas.
    ReplicasOf(InstanceKey),
}

/// Where on the target card the drop lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Zone {
    /// The card's body: "below this server".
    Below,
    /// The card's source strip: "in place of this server" (take-master).
    Replace,
}

/// The preview of one drop: the operation it would run, in words, or why it cannot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DropDecision {
    Accept { operation: Operation, label: String },
    Refuse(Refusal),
}

impl DropDecision {
    pub fn is_accepted(&self) -> bool {
        matches!(self, DropDecision::Accept { .. })
    }

    /// The short text shown on the hovered card.
    pub fn text(&self) -> String {
        match self {
            DropDecision::Accept { label, .. } => label.clone(),
            DropDecision::Refuse(r) => r.message.clone(),
        }
    }
}

fn refuse(rule: Rule, message: impl Into<String>) -> DropDecision {
    DropDecision::Refuse(Refusal::new(rule, message))
}

fn reachable(i: &Instance) -> bool {
    i.is_last_check_valid && i.is_recently_checked
}

/// Decides a drop of `dragged` on `target`'s `zone`.
pub fn decide(members: &[Instance], dragged: &Dragged, target: &InstanceKey, zone: Zone, settings: &RuleSettings) -> DropDecision {
    let family = Family::new(members.iter());
    let Some(tgt) = family.get(target) else {
        return refuse(Rule::UnknownInstance, format!("{target} is not in this cluster"));
    };
    if !reachable(tgt) {
        return refuse(Rule::NotReachable, format!("{target} is not reachable"));
    }
    match dragged {
        Dragged::Instance(key) => decide_instance(&family, key, tgt, zone, settings),
        Dragged::ReplicasOf(key) => decide_replicas(&family, key, tgt),
    }
}

fn decide_instance(family: &Family, key: &InstanceKey, tgt: &Instance, zone: Zone, settings: &RuleSettings) -> DropDecision {
    let Some(inst) = family.get(key) else {
        return refuse(Rule::UnknownInstance, format!("{key} is not in this cluster"));
    };
    let target = &tgt.key;
    if key == target {
        return refuse(Rule::SameInstance, "drop it on another server");
    }
    if !reachable(inst) {
        return refuse(Rule::NotReachable, format!("{key} is not reachable"));
    }
    if inst.in_maintenance {
        return refuse(Rule::InMaintenance, format!("{key} is in maintenance by {} ({}); end it first", inst.maintenance_owner, inst.maintenance_reason));
    }
    if zone == Zone::Replace && inst.master_key == *target {
        if !tgt.is_replica() && tgt.is_co_master {
            return refuse(Rule::CoMaster, format!("{target} is a co-master: a co-master cluster has no single primary to take over"));
        }
        if !tgt.is_replica() {
            return DropDecision::Accept {
                operation: Operation::GracefulMasterTakeover { instance: key.clone() },
                label: format!("graceful takeover: {key} becomes the primary, {target} its replica"),
            };
        }
        if tgt.is_co_master {
            return refuse(Rule::CoMaster, format!("{target} is a co-master and cannot be taken over"));
        }
        return DropDecision::Accept {
            operation: Operation::TakeMaster { instance: key.clone() },
            label: format!("take master: {key} replaces {target}, which becomes its replica"),
        };
    }
    if tgt.master_key == *key && !inst.is_replica() && !inst.is_co_master && inst.problems.is_empty() {
        return DropDecision::Accept {
            operation: Operation::MakeCoMaster { instance: target.clone() },
            label: format!("make co-master: {key} also replicates from {target}"),
        };
    }
    match choose_relocation(family, key, target, settings) {
        Ok(mechanism) => DropDecision::Accept {
            operation: Operation::Relocate { instance: key.clone(), target: target.clone() },
            label: format!("relocate below {target} ({})", mechanism.name()),
        },
        Err(refusal) => DropDecision::Refuse(refusal),
    }
}

fn decide_replicas(family: &Family, key: &InstanceKey, tgt: &Instance) -> DropDecision {
    let replicas = family.replicas_of(key);
    if replicas.is_empty() {
        return refuse(Rule::NoReplicas, format!("{key} has no replicas"));
    }
    let target = &tgt.key;
    if tgt.is_replica() && !tgt.log_replication_updates_enabled {
        return refuse(Rule::NoLogReplicaUpdates, format!("{target} does not log what it replicates"));
    }
    if family.is_descendant(target, key) && replicas.len() <= 1 {
        return refuse(Rule::Descendant, format!("{target} is {key}'s only replica line"));
    }
    let label = if target == key {
        format!("repoint {}'s {} replicas", key, replicas.len())
    } else {
        format!("relocate {}'s {} replicas below {target}", key, replicas.len())
    };
    DropDecision::Accept { operation: Operation::RelocateReplicas { instance: key.clone(), target: target.clone(), pattern: None }, label }
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
            i.using_mariadb_gtid = true;
            i.read_only = true;
        }
        i
    }

    fn k(n: &str) -> InstanceKey {
        InstanceKey::new(n, 3306)
    }

    fn cluster() -> Vec<Instance> {
        vec![server("p", 1, None), server("a", 2, Some("p")), server("b", 3, Some("p")), server("c", 4, Some("a"))]
    }

    #[test]
    fn dragging_a_replica_onto_a_sibling_relocates_it() {
        let s = RuleSettings::default();
        let d = decide(&cluster(), &Dragged::Instance(k("b")), &k("a"), Zone::Below, &s);
        assert_eq!(d, DropDecision::Accept { operation: Operation::Relocate { instance: k("b"), target: k("a") }, label: "relocate below a:3306 (gtid)".into() });
    }

    #[test]
    fn dropping_on_a_descendant_is_refused_with_the_reason() {
        let s = RuleSettings::default();
        let d = decide(&cluster(), &Dragged::Instance(k("a")), &k("c"), Zone::Below, &s);
        assert!(matches!(&d, DropDecision::Refuse(r) if r.rule == Rule::Descendant), "{d:?}");
        assert!(d.text().contains("cycle"));
    }

    #[test]
    fn zones_and_special_cases() {
        let s = RuleSettings::default();
        let members = cluster();
        let take = decide(&members, &Dragged::Instance(k("c")), &k("a"), Zone::Replace, &s);
        assert!(matches!(take, DropDecision::Accept { operation: Operation::TakeMaster { .. }, .. }));
        let promote = decide(&members, &Dragged::Instance(k("a")), &k("p"), Zone::Replace, &s);
        assert!(matches!(promote, DropDecision::Accept { operation: Operation::GracefulMasterTakeover { ref instance }, .. } if *instance == k("a")), "{promote:?}");
        let co = decide(&members, &Dragged::Instance(k("p")), &k("a"), Zone::Below, &s);
        assert!(matches!(co, DropDecision::Accept { operation: Operation::MakeCoMaster { .. }, .. }));
        let own = decide(&members, &Dragged::Instance(k("a")), &k("a"), Zone::Below, &s);
        assert!(matches!(own, DropDecision::Refuse(ref r) if r.rule == Rule::SameInstance));
        let replicas = decide(&members, &Dragged::ReplicasOf(k("p")), &k("b"), Zone::Below, &s);
        assert!(replicas.is_accepted());
        let none = decide(&members, &Dragged::ReplicasOf(k("b")), &k("a"), Zone::Below, &s);
        assert!(!none.is_accepted());
        let mut locked = members.clone();
        locked[3].in_maintenance = true;
        assert!(matches!(decide(&locked, &Dragged::Instance(k("c")), &k("b"), Zone::Below, &s), DropDecision::Refuse(ref r) if r.rule == Rule::InMaintenance));
        let mut dead = members.clone();
        dead[2].is_last_check_valid = false;
        assert!(matches!(decide(&dead, &Dragged::Instance(k("c")), &k("b"), Zone::Below, &s), DropDecision::Refuse(ref r) if r.rule == Rule::NotReachable));
    }
}
