//! What a recovery may do, read once from the configuration (reference §3.3) so the planner stays
//! a pure function of snapshot + verdict + policy.

use crate::config::{Config, HostnameFilters};
use app::rules::RuleSettings;

/// The promotion and re-pointing constraints of one recovery.
#[derive(Clone, Debug)]
pub struct RecoveryPolicy {
    /// `PreventCrossDataCenterMasterFailover`: only a replica in the dead primary's data centre
    /// may be promoted.
    pub prevent_cross_data_center: bool,
    /// `PreventCrossRegionMasterFailover`: only a replica in the dead primary's region.
    pub prevent_cross_region: bool,
    /// `FailMasterPromotionIfSQLThreadNotUpToDate`: a candidate with an unapplied relay log is
    /// vetoed (decided from the snapshot, before anything is moved).
    pub fail_if_sql_thread_not_up_to_date: bool,
    /// `FailMasterPromotionOnLagMinutes` (0 = off): a candidate lagging this long is vetoed.
    pub fail_on_lag_minutes: u64,
    /// `DelayMasterPromotionIfSQLThreadNotUpToDate`: wait for the relay log as long as it takes
    /// (bounded by `long_relay_log_wait_seconds`) instead of the short bound.
    pub delay_if_sql_thread_not_up_to_date: bool,
    /// `ApplyMySQLPromotionAfterMasterFailover`: RESET REPLICA ALL and read_only off on the new
    /// primary. When false the plan re-points replicas but leaves the promotion to hooks.
    pub apply_mysql_promotion: bool,
    /// `MasterFailoverLostInstancesDowntimeMinutes`: downtime given to lost replicas and the dead
    /// primary. orchestrator declared but ignored it (a renewing `lost-in-recovery` downtime);
    /// 0 here means "until seen replicating again", the executor's renewing downtime.
    pub lost_downtime_minutes: u64,
    /// `DetachLostReplicasAfterMasterFailover`: point lost replicas at `//host` so they cannot
    /// reconnect to the old primary if it comes back.
    pub detach_lost_replicas: bool,
    /// `PromotionIgnoreHostnameFilters`: never promoted (as `must_not`).
    pub promotion_ignore: HostnameFilters,
    /// `InstanceBulkOperationsWaitTimeoutSeconds`: how long a replica may take to apply its relay
    /// log before it is promoted or re-pointed.
    pub relay_log_wait_seconds: u64,
    /// The bound used instead when `delay_if_sql_thread_not_up_to_date` (orchestrator: 24 h).
    pub long_relay_log_wait_seconds: u64,
    /// `UseSuperReadOnly`: fencing sets super_read_only, promotion clears it.
    pub use_super_read_only: bool,
    /// The shared can-replicate-from settings.
    pub rules: RuleSettings,
}

impl Default for RecoveryPolicy {
    /// orchestrator's defaults, equal to `from_config(&Config::default())`.
    fn default() -> Self {
        RecoveryPolicy {
            prevent_cross_data_center: false,
            prevent_cross_region: false,
            fail_if_sql_thread_not_up_to_date: false,
            fail_on_lag_minutes: 0,
            delay_if_sql_thread_not_up_to_date: false,
            apply_mysql_promotion: true,
            lost_downtime_minutes: 0,
            detach_lost_replicas: true,
            promotion_ignore: HostnameFilters::default(),
            relay_log_wait_seconds: 10,
            long_relay_log_wait_seconds: 24 * 3600,
            use_super_read_only: false,
            rules: RuleSettings::default(),
        }
    }
}

impl RecoveryPolicy {
    pub fn from_config(config: &Config) -> RecoveryPolicy {
        let r = &config.recovery;
        RecoveryPolicy {
            prevent_cross_data_center: r.prevent_cross_data_center_master_failover,
            prevent_cross_region: r.prevent_cross_region_master_failover,
            fail_if_sql_thread_not_up_to_date: r.fail_master_promotion_if_sql_thread_not_up_to_date,
            fail_on_lag_minutes: r.fail_master_promotion_on_lag_minutes,
            delay_if_sql_thread_not_up_to_date: r.delay_master_promotion_if_sql_thread_not_up_to_date,
            apply_mysql_promotion: r.apply_mysql_promotion_after_master_failover,
            lost_downtime_minutes: r.master_failover_lost_instances_downtime_minutes,
            detach_lost_replicas: r.detach_lost_replicas_after_master_failover,
            promotion_ignore: config.promotion_ignore_hostname_filters().clone(),
            relay_log_wait_seconds: r.instance_bulk_operations_wait_timeout_seconds,
            long_relay_log_wait_seconds: 24 * 3600,
            use_super_read_only: r.use_super_read_only,
            rules: RuleSettings {
                maintenance_lag_seconds: config.discovery.reasonable_maintenance_replication_lag_seconds as i64,
                verify_replication_filters: config.discovery.verify_replication_filters,
                use_super_read_only: r.use_super_read_only,
            },
        }
    }

    /// How long the candidate may take to apply its relay log before the recovery gives up.
    pub fn candidate_relay_log_wait_seconds(&self) -> u64 {
        if self.delay_if_sql_thread_not_up_to_date {
            self.long_relay_log_wait_seconds
        } else {
            self.relay_log_wait_seconds
        }
    }
}
