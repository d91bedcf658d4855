//! Discovery keys: probing, hostname resolution, classification (reference §3.2).

use std::collections::BTreeMap;

use super::section::s;

config_section! {
    /// How instances are found, probed, named and classified.
    pub struct DiscoveryConfig {
        /// Target interval between two probes of one instance (minimum 1).
        "InstancePollSeconds" => instance_poll_seconds: u64 = 5,
        /// Not in orchestrator: between polls, each server's open connection is pinged this
        /// often; a failed ping probes it again at once, and a server found dead has its
        /// replicas probed at once too (so a dead primary is seen in about this time, not a
        /// poll interval). 0 turns the pings off.
        "InstancePingMilliseconds" => instance_ping_milliseconds: u64 = 100,
        /// Extra slack before an attempted-but-unfinished probe makes the last check invalid.
        "ReasonableInstanceCheckSeconds" => reasonable_instance_check_seconds: u64 = 1,
        /// Find replicas with `SHOW SLAVE HOSTS` before falling back to the processlist.
        "DiscoverByShowSlaveHosts" => discover_by_show_slave_hosts: bool = false,
        /// Number of concurrent discovery workers (minimum 1).
        "DiscoveryMaxConcurrency" => discovery_max_concurrency: usize = 300,
        /// Capacity of the discovery queue; should exceed the number of instances.
        "DiscoveryQueueCapacity" => discovery_queue_capacity: usize = 100000,
        /// Per-second discovery queue statistics kept.
        "DiscoveryQueueMaxStatisticsSize" => discovery_queue_max_statistics_size: usize = 120,
        /// Seconds of discovery metrics kept.
        "DiscoveryCollectionRetentionSeconds" => discovery_collection_retention_seconds: u64 = 120,
        /// `host:port` instances injected into discovery at startup.
        "DiscoverySeeds" => discovery_seeds: Vec<String> = Vec::new(),
        /// Regexes (or exact IPs) of replicas never auto-discovered.
        "DiscoveryIgnoreReplicaHostnameFilters" => discovery_ignore_replica_hostname_filters: Vec<String> = Vec::new(),
        /// Regexes (or exact IPs) of masters never auto-discovered.
        "DiscoveryIgnoreMasterHostnameFilters" => discovery_ignore_master_hostname_filters: Vec<String> = Vec::new(),
        /// Regexes (or exact IPs) of instances never discovered at all.
        "DiscoveryIgnoreHostnameFilters" => discovery_ignore_hostname_filters: Vec<String> = Vec::new(),
        /// Batch instance writes to the backend.
        "BufferInstanceWrites" => buffer_instance_writes: bool = false,
        /// Maximum instances per batched write.
        "InstanceWriteBufferSize" => instance_write_buffer_size: usize = 100,
        /// Maximum milliseconds between batched writes.
        "InstanceFlushIntervalMilliseconds" => instance_flush_interval_milliseconds: u64 = 100,
        /// Forget instances not seen for this many hours.
        "UnseenInstanceForgetHours" => unseen_instance_forget_hours: u64 = 240,
        /// Hours between topology snapshots; 0 disables them.
        "SnapshotTopologiesIntervalHours" => snapshot_topologies_interval_hours: u64 = 0,
        /// How hostnames are normalized: `none`, `default` (no resolving), `cname` or `ip`.
        "HostnameResolveMethod" => hostname_resolve_method: String = s("default"),
        /// What an instance is keyed by: `@@hostname`, `@@report_host`, or the name it was
        /// reached by (`none`). orchestrator's synonyms `default`, `hostname` and `report_host`
        /// are accepted and normalized.
        "MySQLHostnameResolveMethod" => mysql_hostname_resolve_method: String = s("@@hostname"),
        /// Skip checking that a binlog server's unresolved name resolves back to it.
        "SkipBinlogServerUnresolveCheck" => skip_binlog_server_unresolve_check: bool = true,
        /// Minutes a hostname resolution is cached.
        "ExpiryHostnameResolvesMinutes" => expiry_hostname_resolves_minutes: u64 = 60,
        /// Regex of resolved names that are rejected (guards against glitchy DNS).
        "RejectHostnameResolvePattern" => reject_hostname_resolve_pattern: String = s(""),
        /// Skip the MaxScale probe (`SHOW VARIABLES LIKE 'maxscale%'`).
        "SkipMaxScaleCheck" => skip_max_scale_check: bool = true,
        /// Custom replication lag query (one row, one numeric column, e.g. pt-heartbeat);
        /// empty uses `Seconds_Behind_Master`. Legacy name: `SlaveLagQuery`.
        "ReplicationLagQuery" => replication_lag_query: String = s(""),
        /// Query returning `user, password[, ca, cert, key]` used when re-pointing demoted
        /// masters and co-masters.
        "ReplicationCredentialsQuery" => replication_credentials_query: String = s(""),
        /// Regex with one capture group extracting the data center from a hostname.
        "DataCenterPattern" => data_center_pattern: String = s(""),
        /// Regex with one capture group extracting the region from a hostname.
        "RegionPattern" => region_pattern: String = s(""),
        /// Regex with one capture group extracting the physical environment from a hostname.
        "PhysicalEnvironmentPattern" => physical_environment_pattern: String = s(""),
        /// Query (one row, one column) giving an instance's data center; overrides the pattern.
        "DetectDataCenterQuery" => detect_data_center_query: String = s(""),
        /// Query giving an instance's region; overrides the pattern.
        "DetectRegionQuery" => detect_region_query: String = s(""),
        /// Query giving an instance's physical environment; overrides the pattern.
        "DetectPhysicalEnvironmentQuery" => detect_physical_environment_query: String = s(""),
        /// Query giving an instance's display alias.
        "DetectInstanceAliasQuery" => detect_instance_alias_query: String = s(""),
        /// Query (run on the master) giving the cluster alias.
        "DetectClusterAliasQuery" => detect_cluster_alias_query: String = s(""),
        /// Query (run on the depth-0 instance) giving the cluster domain / VIP.
        "DetectClusterDomainQuery" => detect_cluster_domain_query: String = s(""),
        /// Regex on cluster name → alias (see [`Config::cluster_alias_for`](super::Config::cluster_alias_for)).
        "ClusterNameToAlias" => cluster_name_to_alias: BTreeMap<String, String> = BTreeMap::new(),
        /// Query giving the instance's own promotion rule (re-registered on every probe).
        "DetectPromotionRuleQuery" => detect_promotion_rule_query: String = s(""),
        /// Query giving the semi-sync priority of a replica (0 = async).
        "DetectSemiSyncEnforcedQuery" => detect_semi_sync_enforced_query: String = s(""),
        /// Refuse moves that would lose replication-filter semantics.
        "VerifyReplicationFilters" => verify_replication_filters: bool = false,
        /// Lag above this is a `replication_lag` problem and counts as lagging in analysis.
        "ReasonableReplicationLagSeconds" => reasonable_replication_lag_seconds: u64 = 10,
        /// Lag above this refuses move-up/move-below/graceful takeover; also the catch-up wait
        /// limit of a graceful takeover.
        "ReasonableMaintenanceReplicationLagSeconds" => reasonable_maintenance_replication_lag_seconds: u64 = 20,
        /// Regexes (or exact IPs) of instances hidden from the problems list.
        "ProblemIgnoreHostnameFilters" => problem_ignore_hostname_filters: Vec<String> = Vec::new(),
        /// Regexes (or exact IPs) of replicas never recommended for online schema change.
        "OSCIgnoreHostnameFilters" => osc_ignore_hostname_filters: Vec<String> = Vec::new(),
        /// `submit-pool-instances` accepts non-FQDN names that are unique enough.
        "SupportFuzzyPoolHostnames" => support_fuzzy_pool_hostnames: bool = true,
        /// Minutes after which instance pool submissions expire.
        "InstancePoolExpiryMinutes" => instance_pool_expiry_minutes: u64 = 60,
    }
}
