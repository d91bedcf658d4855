//! A refusal names the rule that refused, so a user (or a test) knows exactly why nothing
//! happened.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Every rule that can refuse a topology change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    SameInstance,
    UnknownInstance,
    NotReplica,
    NotReachable,
    NoBinaryLogs,
    NoLogReplicaUpdates,
    SourceVersionNewer,
    FlavorMismatch,
    BinlogFormat,
    ReplicationFilters,
    SameServerId,
    SameServerUuid,
    SqlDelay,
    NoGtid,
    PurgedGtids,
    Descendant,
    NotSiblings,
    NotGrandparent,
    NotReplicating,
    Lagging,
    InMaintenance,
    CoMaster,
    ClusterPrimary,
    TooComplex,
    NoReplicas,
    NoCandidate,
    MariaDbGtidSkip,
    NotWritable,
}

impl Rule {
    /// The rule's name as users see it (`no-binary-logs`).
    pub fn name(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    }
}

/// Why an operation may not happen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    #[serde(rename = "Rule")]
    pub rule: Rule,
    #[serde(rename = "Message")]
    pub message: String,
}

impl Refusal {
    pub fn new(rule: Rule, message: impl Into<String>) -> Refusal {
        Refusal { rule, message: message.into() }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refused by rule {}: {}", self.rule.name(), self.message)
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_have_kebab_case_names() {
        assert_eq!(Rule::NoBinaryLogs.name(), "no-binary-logs");
        assert_eq!(Refusal::new(Rule::Descendant, "x is below y").to_string(), "refused by rule descendant: x is below y");
    }
}
