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
    /// skip-query under MariaDB GTID (orchestrator refuses it too).
    #[serde(rename = "mariadb-gtid-skip")]
    MariaDbGtidSkip,
    NotWritable,
    /// The replica's source host is `//host` (detach-replica-master-host): reattach first.
    Detached,
    /// reattach-replica-master-host on a replica that was not detached.
    NotDetached,
    /// skip-query when the SQL thread is not stopped on an error: there is nothing to skip.
    NoSqlError,
    /// Semi-sync variables absent (Oracle MySQL without the plugins loaded).
    SemiSyncUnavailable,
    /// gtid-errant-inject-empty on an instance without errant GTIDs.
    NoErrantGtid,
    /// make-co-master on a writable replica: two writable primaries would diverge.
    NotReadOnly,
    /// A `pattern` that is not a regular expression: bad input, not a topology rule.
    InvalidPattern,
}

impl Rule {
    /// The rule's name as users see it (`no-binary-logs`).
    pub fn name(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    }

    /// True when the refusal is about the request itself (answered 400), not the topology.
    pub fn is_bad_input(self) -> bool {
        matches!(self, Rule::InvalidPattern)
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
        assert_eq!(Rule::MariaDbGtidSkip.name(), "mariadb-gtid-skip");
        assert_eq!(serde_json::from_str::<Rule>("\"mariadb-gtid-skip\"").unwrap(), Rule::MariaDbGtidSkip);
        assert_eq!(Refusal::new(Rule::Descendant, "x is below y").to_string(), "refused by rule descendant: x is below y");
    }
}
