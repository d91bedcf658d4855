//! Plans that control one server's replication or settings: stop/start/restart replica, stop
//! nicely, reset, detach/reattach the source host, skip a query, read-only, semi-sync, delay,
//! flush binary logs, inject empty transactions for errant GTIDs.

use super::super::plan::Plan;
use app::model::ops::Operation;
use app::rules::tree::Family;
use app::rules::{Refusal, Rule, RuleSettings};

pub fn plan(op: &Operation, _family: &Family, _settings: &RuleSettings) -> Result<Plan, Refusal> {
    Err(Refusal::new(Rule::TooComplex, format!("{} is being written", op.name())))
}
