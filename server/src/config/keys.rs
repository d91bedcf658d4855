//! Which keys exist: current keys, legacy synonyms, removed keys, and typo suggestions.

use super::{
    agents::AgentsConfig, auth::AuthConfig, backend::BackendConfig, discovery::DiscoveryConfig,
    hooks::HooksConfig, integrations::IntegrationsConfig, pseudo_gtid::PseudoGtidConfig,
    raft::RaftConfig, recovery::RecoveryConfig, service::ServiceConfig, topology::TopologyConfig,
};

/// Every current key, section by section.
pub(crate) fn current_keys() -> impl Iterator<Item = &'static str> {
    [
        ServiceConfig::KEYS,
        BackendConfig::KEYS,
        TopologyConfig::KEYS,
        DiscoveryConfig::KEYS,
        RecoveryConfig::KEYS,
        HooksConfig::KEYS,
        PseudoGtidConfig::KEYS,
        RaftConfig::KEYS,
        AuthConfig::KEYS,
        IntegrationsConfig::KEYS,
        AgentsConfig::KEYS,
    ]
    .into_iter()
    .flatten()
    .copied()
}

/// Legacy key → the key that replaced it. orchestrator still reads these, so do we
/// (see `legacy.rs` for how each is merged).
pub(crate) const LEGACY_KEYS: &[(&str, &str)] = &[
    ("SlaveLagQuery", "ReplicationLagQuery"),
    ("RecoveryPeriodBlockMinutes", "RecoveryPeriodBlockSeconds"),
    (
        "DetachLostSlavesAfterMasterFailover",
        "DetachLostReplicasAfterMasterFailover",
    ),
    (
        "MasterFailoverDetachSlaveMasterHost",
        "MasterFailoverDetachReplicaMasterHost",
    ),
    (
        "PostponeSlaveRecoveryOnLagMinutes",
        "PostponeReplicaRecoveryOnLagMinutes",
    ),
];

/// Keys orchestrator once had (or that sample configs still carry) and that no longer do
/// anything. orchestrator ignored them silently; we accept them with a warning giving the reason.
pub(crate) const REMOVED_KEYS: &[(&str, &str)] = &[
    (
        "RecoveryPollSeconds",
        "failure analysis and recovery run every second (hard-coded)",
    ),
    ("StatusSimpleHealth", "removed from orchestrator"),
    (
        "DiscoveryPollSeconds",
        "removed from orchestrator; instances are probed every InstancePollSeconds",
    ),
    (
        "ActiveNodeExpireSeconds",
        "the active-node expiry is hard-coded to 5 seconds",
    ),
    (
        "MaintenanceExpireMinutes",
        "maintenance defaults to 10 minutes (hard-coded)",
    ),
    (
        "MaintenanceOwner",
        "removed from orchestrator; the owner is given per maintenance request",
    ),
    (
        "MaintenancePurgeDays",
        "removed from orchestrator (hard-coded to 7 days)",
    ),
    (
        "AuditPageSize",
        "removed from orchestrator (hard-coded to 20)",
    ),
    ("BinlogFileHistoryDays", "removed from orchestrator"),
    ("BufferBinlogEvents", "removed from orchestrator"),
    (
        "DatabaselessMode__experimental",
        "removed from orchestrator",
    ),
    ("ReadLongRunningQueries", "removed from orchestrator"),
    (
        "SlaveStartPostWaitMilliseconds",
        "removed from orchestrator",
    ),
    (
        "MySQLTopologyMaxPoolConnections",
        "removed from orchestrator (the per-instance pool size is hard-coded)",
    ),
    ("HttpTimeoutSeconds", "removed from orchestrator"),
    ("AgentAutoDiscover", "removed from orchestrator"),
    (
        "PseudoGTIDCoordinatesHistoryHeuristicMinutes",
        "removed from orchestrator (hard-coded to 2 minutes)",
    ),
    (
        "PseudoGTIDPreferIndependentMultiMatch",
        "removed from orchestrator",
    ),
    ("MaxOutdatedKeysToShow", "removed from orchestrator"),
    ("NodeHealthExpiry", "removed from orchestrator"),
    (
        "SmartOrchestratorDatabaseUpdate",
        "removed from orchestrator; see SkipOrchestratorDatabaseUpdate",
    ),
    (
        "MySQLConnectionLifetime",
        "renamed; use MySQLConnectionLifetimeSeconds",
    ),
    ("MySQLInterpolateParams", "removed from orchestrator"),
    (
        "MySQLReadTimeoutSeconds",
        "split into MySQLDiscoveryReadTimeoutSeconds and MySQLTopologyReadTimeoutSeconds",
    ),
    (
        "LostInRecoveryDowntimeSeconds",
        "the lost-in-recovery downtime is hard-coded (1 year, auto-renewed)",
    ),
    (
        "ReasonableStaleBinlogCoordinatesSeconds",
        "removed from orchestrator",
    ),
    (
        "RecoverReadOnlyMaster",
        "renamed; use RecoverNonWriteableMaster",
    ),
    (
        "RecoverLockedSemiSync",
        "renamed; use RecoverLockedSemiSyncMaster",
    ),
    (
        "EnforceSemiSyncReplicas",
        "renamed; use EnforceExactSemiSyncReplicas",
    ),
    (
        "EnforceSemiSyncReplicaCount",
        "removed from orchestrator; see EnforceExactSemiSyncReplicas",
    ),
    (
        "WaitForSemiSyncRecoverySeconds",
        "removed from orchestrator",
    ),
    ("ConsulKVPrefix", "renamed; use KVClusterMasterPrefix"),
    (
        "ConsulMaxOpsPerTransaction",
        "renamed; use ConsulMaxKVsPerTransaction",
    ),
    ("RemoteSSHCommand", "removed from orchestrator"),
    ("RemoteSSHCommandUseSudo", "removed from orchestrator"),
    ("RemoteSSHForMasterFailover", "removed from orchestrator"),
    (
        "PostTakeMasterProcessesEnabled",
        "removed from orchestrator; PostTakeMasterProcesses always run",
    ),
    (
        "UnreachableMasterWithStaleSlavesProcesses",
        "removed from orchestrator",
    ),
];

/// Keys that hold secrets: never echoed in errors, masked in Debug and `dump()`, and
/// `${VAR}`-expanded at load.
pub(crate) const SECRET_KEYS: &[&str] = &[
    "MySQLTopologyPassword",
    "MySQLOrchestratorPassword",
    "HTTPAuthPassword",
    "OAuthClientSecret",
    "ConsulAclToken",
    "RaftSecret",
];

/// The keys a `raft.conf` may hold: the node's raft identity and the cluster's raft settings.
pub const RAFT_FILE_KEYS: &[&str] = &[
    "RaftEnabled",
    "RaftBind",
    "RaftAdvertise",
    "RaftDataDir",
    "DefaultRaftPort",
    "RaftNodes",
    "HTTPAdvertise",
    "RaftSecret",
];

/// What a key written in a config file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// A current key (its exact spelling).
    Current(&'static str),
    /// A legacy synonym (its exact spelling).
    Legacy(&'static str),
    /// A removed key (its exact spelling) and why it does nothing.
    Removed(&'static str, &'static str),
    /// `"#"`, `"#..."` or `"//..."`: the usual way to write comments in JSON configs
    /// (orchestrator's own sample uses `"#"`). Ignored silently.
    Comment,
    /// Not a key we know.
    Unknown,
}

/// Classifies `key`. Matching is case-insensitive, as in Go's encoding/json; the returned
/// spelling tells whether the case differed.
pub(crate) fn classify(key: &str) -> KeyKind {
    if key.starts_with('#') || key.starts_with("//") {
        return KeyKind::Comment;
    }
    let exact_then_folded = |candidate: &str| candidate == key;
    let folded = |candidate: &str| candidate.eq_ignore_ascii_case(key);
    for matches in [&exact_then_folded as &dyn Fn(&str) -> bool, &folded] {
        if let Some(k) = current_keys().find(|k| matches(k)) {
            return KeyKind::Current(k);
        }
        if let Some((k, _)) = LEGACY_KEYS.iter().find(|(k, _)| matches(k)) {
            return KeyKind::Legacy(k);
        }
        if let Some((k, why)) = REMOVED_KEYS.iter().find(|(k, _)| matches(k)) {
            return KeyKind::Removed(k, why);
        }
    }
    KeyKind::Unknown
}

/// The known key closest to `key` when it is close enough to be a typo.
pub(crate) fn suggest(key: &str) -> Option<&'static str> {
    suggest_among(
        key,
        current_keys().chain(LEGACY_KEYS.iter().map(|(k, _)| *k)),
    )
}

/// The key of `candidates` closest to `key` when it is close enough to be a typo.
pub(crate) fn suggest_among(
    key: &str,
    candidates: impl Iterator<Item = &'static str>,
) -> Option<&'static str> {
    let wanted = key.to_ascii_lowercase();
    // Allow about one edit per five characters, at least one and at most four.
    let limit = (wanted.chars().count() / 5).clamp(1, 4);
    candidates
        .map(|candidate| {
            (
                edit_distance(&wanted, &candidate.to_ascii_lowercase()),
                candidate,
            )
        })
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance over chars.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn keys_are_unique_across_sections_and_lists() {
        let mut seen = BTreeSet::new();
        let all = current_keys()
            .chain(LEGACY_KEYS.iter().map(|(k, _)| *k))
            .chain(REMOVED_KEYS.iter().map(|(k, _)| *k));
        for key in all {
            assert!(
                seen.insert(key.to_ascii_lowercase()),
                "{key} declared twice"
            );
        }
        for (_, replacement) in LEGACY_KEYS {
            assert!(
                current_keys().any(|k| k == *replacement),
                "{replacement} is not a current key"
            );
        }
        for key in SECRET_KEYS.iter().chain(RAFT_FILE_KEYS) {
            assert!(
                current_keys().any(|k| k == *key),
                "{key} is not a current key"
            );
        }
    }

    #[test]
    fn classification() {
        assert_eq!(
            classify("InstancePollSeconds"),
            KeyKind::Current("InstancePollSeconds")
        );
        assert_eq!(
            classify("instancepollseconds"),
            KeyKind::Current("InstancePollSeconds")
        );
        assert_eq!(classify("SlaveLagQuery"), KeyKind::Legacy("SlaveLagQuery"));
        assert!(matches!(
            classify("RecoveryPollSeconds"),
            KeyKind::Removed("RecoveryPollSeconds", _)
        ));
        assert_eq!(classify("#"), KeyKind::Comment);
        assert_eq!(classify("// note"), KeyKind::Comment);
        assert_eq!(classify("NoSuchKey"), KeyKind::Unknown);
    }

    #[test]
    fn suggestions_for_typos_only() {
        assert_eq!(suggest("InstancePollSecond"), Some("InstancePollSeconds"));
        assert_eq!(suggest("ListenAdress"), Some("ListenAddress"));
        assert_eq!(
            suggest("MySQLTopologyPasword"),
            Some("MySQLTopologyPassword")
        );
        assert_eq!(suggest("SlaveLagQuerry"), Some("SlaveLagQuery"));
        assert_eq!(suggest("Foo"), None);
        assert_eq!(suggest("CompletelyDifferentThing"), None);
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("é", "e"), 1);
    }
}
