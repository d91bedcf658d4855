//! Plans that move several replicas or swap roles: relocate-replicas, move-up-replicas,
//! move-replicas-gtid, repoint-replicas, take-siblings, take-master, make-co-master,
//! regroup-replicas (a part per replica, so one that cannot move does not undo the others).

use super::super::plan::Plan;
use app::model::ops::Operation;
use app::model::InstanceKey;
use app::rules::tree::Family;
use app::rules::{Refusal, Rule, RuleSettings};

pub fn plan(op: &Operation, _family: &Family, _settings: &RuleSettings) -> Result<Plan, Refusal> {
    Err(Refusal::new(Rule::TooComplex, format!("{} is being written", op.name())))
}

/// The replica of `instance` that regroup-replicas would promote over its siblings (orchestrator's
/// `get-candidate-replica`), without changing anything.
pub fn candidate(_family: &Family, instance: &InstanceKey, _settings: &RuleSettings) -> Result<InstanceKey, Refusal> {
    Err(Refusal::new(Rule::NoCandidate, format!("choosing a candidate among {instance}'s replicas is being written")))
}
