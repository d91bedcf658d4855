//! Failure-analysis verdicts (`/api/replication-analysis`): one entry per analyzed server, with
//! orchestrator's field names and codes, so its consumers keep working, plus `Inputs`: the facts
//! the deciding rule looked at, in words. The recovery planner reads the same entries: the code
//! (`Analysis`), what kind of recovery it calls for (`AnalysisCode::action`), the instance type,
//! the replicas, and whether downtime makes it skippable.

use super::instance::{BinlogCoordinates, ClusterInfo};
use super::key::InstanceKey;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Declares a unit enum whose variants serialize as their own names (orchestrator's codes),
/// with `as_str` and the list of every variant in declaration order.
macro_rules! named_codes {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $($(#[$vmeta])* $variant,)* }

        impl $name {
            /// Every code, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The code as orchestrator spells it.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => stringify!($variant),)* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_codes! {
    /// What is wrong around one server (orchestrator's `AnalysisCode`), in the order the rules
    /// are tried: the first rule that matches gives the code.
    pub enum AnalysisCode {
        NoProblem,
        DeadMasterWithoutReplicas,
        DeadMaster,
        DeadMasterAndReplicas,
        DeadMasterAndSomeReplicas,
        UnreachableMasterWithLaggingReplicas,
        UnreachableMaster,
        LockedSemiSyncMaster,
        LockedSemiSyncMasterHypothesis,
        MasterWithTooManySemiSyncReplicas,
        /// Also a structure warning; a code only with `RecoverNonWriteableMaster`.
        NoWriteableMasterStructureWarning,
        MasterSingleReplicaNotReplicating,
        MasterSingleReplicaDead,
        AllMasterReplicasNotReplicating,
        AllMasterReplicasNotReplicatingOrDead,
        /// Defined by orchestrator but never produced (its rule is commented out); kept so the
        /// name parses.
        MasterWithoutReplicas,
        DeadCoMaster,
        DeadCoMasterAndSomeReplicas,
        UnreachableCoMaster,
        AllCoMasterReplicasNotReplicating,
        DeadIntermediateMasterWithSingleReplicaFailingToConnect,
        DeadIntermediateMasterWithSingleReplica,
        DeadIntermediateMaster,
        DeadIntermediateMasterAndSomeReplicas,
        DeadIntermediateMasterAndReplicas,
        UnreachableIntermediateMasterWithLaggingReplicas,
        UnreachableIntermediateMaster,
        AllIntermediateMasterReplicasFailingToConnectOrDead,
        AllIntermediateMasterReplicasNotReplicating,
        BinlogServerFailingToConnectToMaster,
        FirstTierReplicaFailingToConnectToMaster,
        DeadReplicationGroupMemberWithReplicas,
    }
}

named_codes! {
    /// A risk in the shape of a topology (orchestrator's structure analysis): nothing is broken,
    /// but a failover would be harder or lossy.
    pub enum StructureWarning {
        NoLoggingReplicasStructureWarning,
        NoFailoverSupportStructureWarning,
        StatementAndMixedLoggingReplicasStructureWarning,
        StatementAndRowLoggingReplicasStructureWarning,
        MixedAndRowLoggingReplicasStructureWarning,
        MultipleMajorVersionsLoggingReplicasStructureWarning,
        DifferentGTIDModesStructureWarning,
        ErrantGTIDStructureWarning,
        NoWriteableMasterStructureWarning,
        NotEnoughValidSemiSyncReplicasStructureWarning,
    }
}

/// What a code calls for (orchestrator's `getCheckAndRecoverFunction`, reference §4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodeAction {
    /// Promote a replica in place of the dead primary.
    RecoverDeadMaster,
    /// Move the dead intermediate primary's replicas elsewhere.
    RecoverDeadIntermediateMaster,
    /// Promote the surviving co-master (uses the master recovery filters).
    RecoverDeadCoMaster,
    /// Enable semi-sync on enough replicas, when `EnforceExactSemiSyncReplicas` or
    /// `RecoverLockedSemiSyncMaster` is on; otherwise nothing.
    RecoverLockedSemiSyncMaster,
    /// Disable semi-sync on the surplus replicas.
    DisableSurplusSemiSyncReplicas,
    /// Make the primary writable, when `RecoverNonWriteableMaster` is on.
    SetMasterWritable,
    /// Move the dead group member's async replicas to another member.
    RecoverDeadGroupMember,
    /// Registered as a detection (hooks run) but nothing is recovered.
    DetectionOnly,
    /// Neither detected nor recovered.
    Ignore,
}

impl AnalysisCode {
    /// The recovery this code calls for.
    pub fn action(self) -> CodeAction {
        use AnalysisCode::*;
        match self {
            DeadMaster | DeadMasterAndSomeReplicas => CodeAction::RecoverDeadMaster,
            DeadIntermediateMaster
            | DeadIntermediateMasterAndSomeReplicas
            | DeadIntermediateMasterWithSingleReplicaFailingToConnect
            | AllIntermediateMasterReplicasFailingToConnectOrDead => CodeAction::RecoverDeadIntermediateMaster,
            DeadCoMaster | DeadCoMasterAndSomeReplicas => CodeAction::RecoverDeadCoMaster,
            LockedSemiSyncMaster => CodeAction::RecoverLockedSemiSyncMaster,
            MasterWithTooManySemiSyncReplicas => CodeAction::DisableSurplusSemiSyncReplicas,
            NoWriteableMasterStructureWarning => CodeAction::SetMasterWritable,
            DeadReplicationGroupMemberWithReplicas => CodeAction::RecoverDeadGroupMember,
            DeadMasterAndReplicas
            | DeadIntermediateMasterAndReplicas
            | UnreachableMaster
            | UnreachableMasterWithLaggingReplicas
            | UnreachableIntermediateMasterWithLaggingReplicas
            | AllMasterReplicasNotReplicating
            | AllMasterReplicasNotReplicatingOrDead => CodeAction::DetectionOnly,
            _ => CodeAction::Ignore,
        }
    }

    /// orchestrator's `IsActionableRecovery`: the code has a recovery function.
    pub fn is_actionable(self) -> bool {
        !matches!(self.action(), CodeAction::DetectionOnly | CodeAction::Ignore)
    }

    /// Codes about the replicas rather than the server itself: when every replica is
    /// downtimed, the entry is as good as downtimed (reference §4.4).
    pub fn is_about_replicas(self) -> bool {
        use AnalysisCode::*;
        matches!(
            self,
            AllMasterReplicasNotReplicating
                | AllMasterReplicasNotReplicatingOrDead
                | MasterSingleReplicaDead
                | AllCoMasterReplicasNotReplicating
                | DeadIntermediateMasterWithSingleReplica
                | DeadIntermediateMasterWithSingleReplicaFailingToConnect
                | DeadIntermediateMasterAndReplicas
                | DeadIntermediateMasterAndSomeReplicas
                | AllIntermediateMasterReplicasFailingToConnectOrDead
                | AllIntermediateMasterReplicasNotReplicating
        )
    }
}

/// The role of the analyzed server (orchestrator's `AnalysisInstanceType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnalysisInstanceType {
    #[serde(rename = "master")]
    Master,
    #[serde(rename = "co-master")]
    CoMaster,
    #[serde(rename = "intermediate-master")]
    IntermediateMaster,
    #[serde(rename = "group-member")]
    GroupMember,
}

/// One analyzed server: what was found (`Analysis`, `StructureAnalysis`), the counts the rules
/// read, and why (`Inputs`). Field names are orchestrator's `ReplicationAnalysis` JSON names.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReplicationAnalysis {
    /// The server this entry is about.
    #[serde(rename = "AnalyzedInstanceKey")]
    pub analyzed_instance_key: InstanceKey,
    /// Its source; empty for a primary.
    #[serde(rename = "AnalyzedInstanceMasterKey")]
    pub analyzed_instance_master_key: InstanceKey,
    /// Its cluster (name, alias, whether recovery filters cover it).
    #[serde(rename = "ClusterDetails")]
    pub cluster_details: ClusterInfo,
    /// Where it runs, for cross-DC/region promotion rules.
    #[serde(rename = "AnalyzedInstanceDataCenter")]
    pub data_center: String,
    #[serde(rename = "AnalyzedInstanceRegion")]
    pub region: String,
    #[serde(rename = "AnalyzedInstancePhysicalEnvironment")]
    pub physical_environment: String,
    /// Its own binary log position as last seen (a locked semi-sync primary's stays put).
    #[serde(rename = "AnalyzedInstanceBinlogCoordinates")]
    pub binlog_coordinates: BinlogCoordinates,
    /// Replicates from nobody (or only from a detached `//host`), and is not a group secondary.
    #[serde(rename = "IsMaster")]
    pub is_master: bool,
    #[serde(rename = "IsReplicationGroupMember")]
    pub is_replication_group_member: bool,
    /// One of two servers replicating from each other, or the source of one.
    #[serde(rename = "IsCoMaster")]
    pub is_co_master: bool,
    /// The last probe succeeded and no probe has hung since (reference §4.1).
    #[serde(rename = "LastCheckValid")]
    pub last_check_valid: bool,
    /// The last failed probe still ran its first query (the server is up but sick).
    #[serde(rename = "LastCheckPartialSuccess")]
    pub last_check_partial_success: bool,
    /// Direct replicas (servers naming this one as their source).
    #[serde(rename = "CountReplicas")]
    pub count_replicas: u32,
    /// Direct replicas whose last probe succeeded.
    #[serde(rename = "CountValidReplicas")]
    pub count_valid_replicas: u32,
    /// Valid replicas with both threads running: they still receive from this server.
    #[serde(rename = "CountValidReplicatingReplicas")]
    pub count_valid_replicating_replicas: u32,
    /// Valid replicas whose IO thread reports it cannot connect to this server: they agree
    /// it is gone.
    #[serde(rename = "CountReplicasFailingToConnectToMaster")]
    pub count_replicas_failing_to_connect_to_master: u32,
    #[serde(rename = "CountDowntimedReplicas")]
    pub count_downtimed_replicas: u32,
    /// Hops from the top of the cluster.
    #[serde(rename = "ReplicationDepth")]
    pub replication_depth: u32,
    /// The direct replicas, ordered by key.
    #[serde(rename = "Replicas")]
    pub replicas: Vec<InstanceKey>,
    /// Legacy duplicate of `Replicas`, which orchestrator still emits.
    #[serde(rename = "SlaveHosts")]
    pub slave_hosts: Vec<InstanceKey>,
    /// This server's own IO thread cannot connect to its source.
    #[serde(rename = "IsFailingToConnectToMaster")]
    pub is_failing_to_connect_to_master: bool,
    /// The verdict.
    #[serde(rename = "Analysis")]
    pub analysis: AnalysisCode,
    /// orchestrator's sentence for the code.
    #[serde(rename = "Description")]
    pub description: String,
    /// Structure warnings, whatever the code. An empty list where orchestrator emitted `null`
    /// (readers that take a list take both; this one reads both too).
    #[serde(rename = "StructureAnalysis", deserialize_with = "null_as_empty")]
    pub structure_analysis: Vec<StructureWarning>,
    #[serde(rename = "IsDowntimed")]
    pub is_downtimed: bool,
    /// Every replica is downtimed and the code is about the replicas.
    #[serde(rename = "IsReplicasDowntimed")]
    pub is_replicas_downtimed: bool,
    /// `YYYY-MM-DD HH:MM:SS` (UTC) when downtimed, else empty.
    #[serde(rename = "DowntimeEndTimestamp")]
    pub downtime_end_timestamp: String,
    /// Seconds of downtime left (0 when not downtimed).
    #[serde(rename = "DowntimeRemainingSeconds")]
    pub downtime_remaining_seconds: i64,
    #[serde(rename = "IsBinlogServer")]
    pub is_binlog_server: bool,
    /// The failover mechanisms the immediate topology supports: Pseudo-GTID on this server,
    /// or every valid replica on Oracle GTID / MariaDB GTID / binlog servers.
    #[serde(rename = "PseudoGTIDImmediateTopology")]
    pub pseudo_gtid_immediate_topology: bool,
    #[serde(rename = "OracleGTIDImmediateTopology")]
    pub oracle_gtid_immediate_topology: bool,
    #[serde(rename = "MariaDBGTIDImmediateTopology")]
    pub mariadb_gtid_immediate_topology: bool,
    #[serde(rename = "BinlogServerImmediateTopology")]
    pub binlog_server_immediate_topology: bool,
    /// Semi-sync as this server sees it, for the locked-primary rules.
    #[serde(rename = "SemiSyncMasterEnabled")]
    pub semi_sync_master_enabled: bool,
    #[serde(rename = "SemiSyncMasterStatus")]
    pub semi_sync_master_status: bool,
    #[serde(rename = "SemiSyncMasterWaitForReplicaCount")]
    pub semi_sync_master_wait_for_replica_count: u32,
    #[serde(rename = "SemiSyncMasterClients")]
    pub semi_sync_master_clients: u32,
    #[serde(rename = "CountSemiSyncReplicasEnabled")]
    pub count_semi_sync_replicas_enabled: u32,
    /// Replicas with log_bin and log_slave_updates: those that could replace this server.
    #[serde(rename = "CountLoggingReplicas")]
    pub count_logging_replicas: u32,
    #[serde(rename = "CountStatementBasedLoggingReplicas")]
    pub count_statement_based_logging_replicas: u32,
    #[serde(rename = "CountMixedBasedLoggingReplicas")]
    pub count_mixed_based_logging_replicas: u32,
    #[serde(rename = "CountRowBasedLoggingReplicas")]
    pub count_row_based_logging_replicas: u32,
    #[serde(rename = "CountDistinctMajorVersionsLoggingReplicas")]
    pub count_distinct_major_versions_logging_replicas: u32,
    /// Replicas delayed on purpose (`SQL_Delay` > 0).
    #[serde(rename = "CountDelayedReplicas")]
    pub count_delayed_replicas: u32,
    /// Replicas lagging more than `ReasonableReplicationLagSeconds`.
    #[serde(rename = "CountLaggingReplicas")]
    pub count_lagging_replicas: u32,
    /// The code has a recovery (reference §4.5). orchestrator only fills this in when a
    /// recovery looked at the entry; here it always says what the code calls for.
    #[serde(rename = "IsActionableRecovery")]
    pub is_actionable_recovery: bool,
    /// The node that produced the entry.
    #[serde(rename = "ProcessingNodeHostname")]
    pub processing_node_hostname: String,
    #[serde(rename = "ProcessingNodeToken")]
    pub processing_node_token: String,
    /// Other raft nodes agreeing (orchestrator never filled this in either).
    #[serde(rename = "CountAdditionalAgreeingNodes")]
    pub count_additional_agreeing_nodes: i64,
    /// Set by a recovery that registers the detection.
    #[serde(rename = "StartActivePeriod")]
    pub start_active_period: String,
    /// Downtime means automated recovery leaves this entry alone (a manual one does not).
    #[serde(rename = "SkippableDueToDowntime")]
    pub skippable_due_to_downtime: bool,
    /// `gtid_mode` of this server and the smallest / largest among its replicas.
    #[serde(rename = "GTIDMode")]
    pub gtid_mode: String,
    #[serde(rename = "MinReplicaGTIDMode")]
    pub min_replica_gtid_mode: String,
    #[serde(rename = "MaxReplicaGTIDMode")]
    pub max_replica_gtid_mode: String,
    /// The largest errant GTID set among replicas that are not downtimed.
    #[serde(rename = "MaxReplicaGTIDErrant")]
    pub max_replica_gtid_errant: String,
    /// Set by forced/graceful operations that build an entry themselves.
    #[serde(rename = "CommandHint")]
    pub command_hint: String,
    #[serde(rename = "IsReadOnly")]
    pub is_read_only: bool,
    /// Not orchestrator's: the facts the deciding rule tested, in words, e.g. "2 of 2 replicas
    /// cannot connect to it". No SQL text, error text or credentials.
    #[serde(rename = "Inputs")]
    pub inputs: Vec<String>,
}

/// Go's nil slice marshals as `null`.
fn null_as_empty<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

impl Default for AnalysisCode {
    fn default() -> Self {
        AnalysisCode::NoProblem
    }
}

impl ReplicationAnalysis {
    /// orchestrator's `GetAnalysisInstanceType`: co-master first, then group member, master,
    /// else intermediate master.
    pub fn instance_type(&self) -> AnalysisInstanceType {
        if self.is_co_master {
            AnalysisInstanceType::CoMaster
        } else if self.is_replication_group_member {
            AnalysisInstanceType::GroupMember
        } else if self.is_master {
            AnalysisInstanceType::Master
        } else {
            AnalysisInstanceType::IntermediateMaster
        }
    }

    /// orchestrator's `AnalysisString`: the code (unless NoProblem) and the structure
    /// warnings, comma separated.
    pub fn analysis_string(&self) -> String {
        let mut parts: Vec<&str> = Vec::new();
        if self.analysis != AnalysisCode::NoProblem {
            parts.push(self.analysis.as_str());
        }
        parts.extend(self.structure_analysis.iter().map(|w| w.as_str()));
        parts.join(", ")
    }

    /// Nothing wrong and nothing risky.
    pub fn is_clean(&self) -> bool {
        self.analysis == AnalysisCode::NoProblem && self.structure_analysis.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_orchestrators_names() {
        assert_eq!(serde_json::to_value(AnalysisCode::DeadMaster).unwrap(), "DeadMaster");
        let back: AnalysisCode = serde_json::from_value(serde_json::json!("AllMasterReplicasNotReplicating")).unwrap();
        assert_eq!(back, AnalysisCode::AllMasterReplicasNotReplicating);
        for code in AnalysisCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
        for w in StructureWarning::ALL {
            assert_eq!(serde_json::to_value(w).unwrap(), w.as_str());
        }
        assert_eq!(AnalysisCode::ALL.len(), 32);
        assert_eq!(StructureWarning::ALL.len(), 10);
    }

    #[test]
    fn entry_uses_orchestrators_field_names() {
        let mut e = ReplicationAnalysis { analysis: AnalysisCode::DeadMaster, ..Default::default() };
        e.replicas = vec![InstanceKey::new("db2", 3306)];
        e.slave_hosts = e.replicas.clone();
        e.structure_analysis = vec![StructureWarning::NoLoggingReplicasStructureWarning];
        let v = serde_json::to_value(&e).unwrap();
        for field in [
            "AnalyzedInstanceKey", "AnalyzedInstanceMasterKey", "ClusterDetails", "IsMaster", "IsCoMaster", "LastCheckValid",
            "CountReplicas", "CountValidReplicas", "CountValidReplicatingReplicas", "CountReplicasFailingToConnectToMaster",
            "CountDowntimedReplicas", "ReplicationDepth", "IsFailingToConnectToMaster", "Description", "IsDowntimed",
            "IsReplicasDowntimed", "DowntimeEndTimestamp", "DowntimeRemainingSeconds", "IsBinlogServer",
            "OracleGTIDImmediateTopology", "MariaDBGTIDImmediateTopology", "BinlogServerImmediateTopology",
            "SemiSyncMasterEnabled", "CountDelayedReplicas", "CountLaggingReplicas", "IsActionableRecovery",
            "ProcessingNodeHostname", "ProcessingNodeToken", "SkippableDueToDowntime", "GTIDMode", "IsReadOnly", "Inputs",
        ] {
            assert!(v.get(field).is_some(), "missing {field}");
        }
        assert_eq!(v["Analysis"], "DeadMaster");
        assert_eq!(v["SlaveHosts"], v["Replicas"]);
        assert_eq!(v["StructureAnalysis"][0], "NoLoggingReplicasStructureWarning");
        let back: ReplicationAnalysis = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(back, e);
        let mut from_go = v;
        from_go["StructureAnalysis"] = serde_json::Value::Null;
        let read: ReplicationAnalysis = serde_json::from_value(from_go).unwrap();
        assert!(read.structure_analysis.is_empty());
        assert_eq!(back.analysis_string(), "DeadMaster, NoLoggingReplicasStructureWarning");
    }

    #[test]
    fn actions_follow_orchestrators_mapping() {
        assert_eq!(AnalysisCode::DeadMaster.action(), CodeAction::RecoverDeadMaster);
        assert!(AnalysisCode::DeadMasterAndSomeReplicas.is_actionable());
        assert_eq!(AnalysisCode::UnreachableMaster.action(), CodeAction::DetectionOnly);
        assert!(!AnalysisCode::UnreachableMaster.is_actionable());
        assert!(!AnalysisCode::DeadMasterAndReplicas.is_actionable());
        assert_eq!(AnalysisCode::DeadIntermediateMasterWithSingleReplica.action(), CodeAction::Ignore);
        assert!(AnalysisCode::AllIntermediateMasterReplicasFailingToConnectOrDead.is_actionable());
        assert!(AnalysisCode::MasterSingleReplicaDead.is_about_replicas());
        assert!(!AnalysisCode::DeadMaster.is_about_replicas());
    }
}
