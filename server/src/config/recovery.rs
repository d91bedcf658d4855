//! Failure detection and recovery keys: filters, blocking, promotion (reference §3.3).
//! The hook lists are in `hooks.rs`.

config_section! {
    /// Which clusters recover automatically, and how a recovery chooses and promotes.
    pub struct RecoveryConfig {
        /// Clusters with automated master (and co-master) recovery: exact cluster name, exact
        /// alias, `alias=<name>`, `alias~=<regex>`, `*`, or a regex on the cluster name.
        /// Empty means no automated master recovery.
        "RecoverMasterClusterFilters" => recover_master_cluster_filters: Vec<String> = Vec::new(),
        /// Same, for intermediate masters and group members with replicas.
        "RecoverIntermediateMasterClusterFilters" => recover_intermediate_master_cluster_filters: Vec<String> = Vec::new(),
        /// Regexes on hostname of instances dropped from analysis entirely.
        "RecoveryIgnoreHostnameFilters" => recovery_ignore_hostname_filters: Vec<String> = Vec::new(),
        /// A detection (and its `OnFailureDetectionProcesses`) is registered once per instance
        /// per this many minutes.
        "FailureDetectionPeriodBlockMinutes" => failure_detection_period_block_minutes: u64 = 60,
        /// Anti-flapping window after a recovery on a cluster. Legacy `RecoveryPeriodBlockMinutes`
        /// is used (×60) when this key is absent or 0.
        "RecoveryPeriodBlockSeconds" => recovery_period_block_seconds: u64 = 3600,
        /// Treat a read-only master with replicating replicas as a failure and make it writable.
        "RecoverNonWriteableMaster" => recover_non_writeable_master: bool = false,
        /// A co-master failover must promote the surviving co-master, or fail.
        "CoMasterRecoveryMustPromoteOtherCoMaster" => co_master_recovery_must_promote_other_co_master: bool = true,
        /// On the promoted master run `RESET SLAVE ALL` and `read_only=0` (and try
        /// `read_only=1` on the old master).
        "ApplyMySQLPromotionAfterMasterFailover" => apply_mysql_promotion_after_master_failover: bool = true,
        /// Detach (`//host`) replicas that could not be re-attached after a master failover.
        /// Legacy name: `DetachLostSlavesAfterMasterFailover`.
        "DetachLostReplicasAfterMasterFailover" => detach_lost_replicas_after_master_failover: bool = true,
        /// Detach the promoted master from its old master host. Legacy name:
        /// `MasterFailoverDetachSlaveMasterHost`.
        "MasterFailoverDetachReplicaMasterHost" => master_failover_detach_replica_master_host: bool = false,
        /// Declared but unused by orchestrator: lost instances always get the auto-renewing
        /// `lost-in-recovery` downtime. A non-zero value draws a warning.
        "MasterFailoverLostInstancesDowntimeMinutes" => master_failover_lost_instances_downtime_minutes: u64 = 0,
        /// Refuse to promote outside the dead master's data center.
        "PreventCrossDataCenterMasterFailover" => prevent_cross_data_center_master_failover: bool = false,
        /// Refuse to promote outside the dead master's region.
        "PreventCrossRegionMasterFailover" => prevent_cross_region_master_failover: bool = false,
        /// Fail a promotion when the candidate lags this many minutes or more (0 = off;
        /// requires `ReplicationLagQuery`).
        "FailMasterPromotionOnLagMinutes" => fail_master_promotion_on_lag_minutes: u64 = 0,
        /// Fail a promotion when the candidate has unapplied relay logs.
        "FailMasterPromotionIfSQLThreadNotUpToDate" => fail_master_promotion_if_sql_thread_not_up_to_date: bool = false,
        /// Wait for the candidate's relay logs to apply before promoting (exclusive with the above).
        "DelayMasterPromotionIfSQLThreadNotUpToDate" => delay_master_promotion_if_sql_thread_not_up_to_date: bool = false,
        /// Replicas delayed more than this many minutes are re-attached only after the promotion
        /// (0 = off). Legacy name: `PostponeSlaveRecoveryOnLagMinutes`.
        "PostponeReplicaRecoveryOnLagMinutes" => postpone_replica_recovery_on_lag_minutes: u64 = 0,
        /// Regexes (or exact IPs) of instances never promoted (same effect as `must_not`).
        "PromotionIgnoreHostnameFilters" => promotion_ignore_hostname_filters: Vec<String> = Vec::new(),
        /// Minutes after which a promotion-rule registration expires.
        "CandidateInstanceExpireMinutes" => candidate_instance_expire_minutes: u64 = 60,
        /// Maximum concurrent operations on replicas (e.g. parallel GTID moves).
        "MaxConcurrentReplicaOperations" => max_concurrent_replica_operations: usize = 5,
        /// Per-replica wait when stopping replicas "nicely" during candidate selection.
        "InstanceBulkOperationsWaitTimeoutSeconds" => instance_bulk_operations_wait_timeout_seconds: u64 = 10,
        /// Also toggle `super_read_only` whenever `read_only` is set.
        "UseSuperReadOnly" => use_super_read_only: bool = false,
        /// Enable/disable semi-sync on replicas to match the master's wait count exactly.
        "EnforceExactSemiSyncReplicas" => enforce_exact_semi_sync_replicas: bool = false,
        /// Enable semi-sync on enough replicas when the master is locked waiting for acks.
        "RecoverLockedSemiSyncMaster" => recover_locked_semi_sync_master: bool = false,
        /// Seconds binlog coordinates must stay frozen to confirm a locked semi-sync master;
        /// 0 means `ReasonableReplicationLagSeconds` (filled in at load).
        "ReasonableLockedSemiSyncMasterSeconds" => reasonable_locked_semi_sync_master_seconds: u64 = 0,
        /// Not in orchestrator: start in observe-only mode (detect, record and run detection
        /// hooks, never recover). Switched at runtime with `enable-observe-only` /
        /// `disable-observe-only`; the switch is stored and outlives restarts.
        "RecoveryObserveOnly" => recovery_observe_only: bool = false,
        /// Report only instances where a handled problem is possible (fewer analysis rows).
        "ReduceReplicationAnalysisCount" => reduce_replication_analysis_count: bool = true,
    }
}
