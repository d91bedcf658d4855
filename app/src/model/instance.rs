//! One server as the API, the CLI and the browser see it. Field names are orchestrator's JSON
//! names (`/api/instance`), so existing tooling keeps reading them; a few fields orchestrator never
//! had (MariaDB GTID positions, super_read_only, last probe error) are added under new names.

use super::key::InstanceKey;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A binary or relay log position.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BinlogCoordinates {
    /// Log file name, empty when unknown.
    #[serde(rename = "LogFile")]
    pub log_file: String,
    /// Position inside the file.
    #[serde(rename = "LogPos")]
    pub log_pos: u64,
    /// 0 = binary log, 1 = relay log (orchestrator's encoding).
    #[serde(rename = "Type")]
    pub kind: u8,
}

impl BinlogCoordinates {
    pub fn binlog(file: impl Into<String>, pos: u64) -> Self {
        BinlogCoordinates { log_file: file.into(), log_pos: pos, kind: 0 }
    }
    pub fn relaylog(file: impl Into<String>, pos: u64) -> Self {
        BinlogCoordinates { log_file: file.into(), log_pos: pos, kind: 1 }
    }
    pub fn is_empty(&self) -> bool {
        self.log_file.is_empty()
    }
}

impl std::fmt::Display for BinlogCoordinates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.log_file, self.log_pos)
    }
}

/// Go's `sql.NullInt64` shape, which orchestrator emits for lag values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NullInt64 {
    #[serde(rename = "Int64")]
    pub value: i64,
    #[serde(rename = "Valid")]
    pub valid: bool,
}

impl NullInt64 {
    pub fn some(value: i64) -> Self {
        NullInt64 { value, valid: true }
    }
    pub fn get(self) -> Option<i64> {
        self.valid.then_some(self.value)
    }
}

impl From<Option<i64>> for NullInt64 {
    fn from(v: Option<i64>) -> Self {
        match v {
            Some(value) => NullInt64 { value, valid: true },
            None => NullInt64::default(),
        }
    }
}

/// State of a replication thread, orchestrator's encoding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "i8", try_from = "i8")]
pub enum ThreadState {
    /// Not a replica: there is no such thread.
    #[default]
    NoThread,
    Stopped,
    Running,
    /// Neither running nor stopped, e.g. the IO thread is "Connecting".
    Other,
}

impl ThreadState {
    /// From the `Slave_IO_Running` / `Replica_SQL_Running` column text.
    pub fn from_status(text: &str) -> Self {
        match text {
            "Yes" => ThreadState::Running,
            "No" => ThreadState::Stopped,
            "" => ThreadState::NoThread,
            _ => ThreadState::Other,
        }
    }
    pub fn is_running(self) -> bool {
        self == ThreadState::Running
    }
}

impl From<ThreadState> for i8 {
    fn from(s: ThreadState) -> i8 {
        match s {
            ThreadState::NoThread => -1,
            ThreadState::Stopped => 0,
            ThreadState::Running => 1,
            ThreadState::Other => 2,
        }
    }
}

impl TryFrom<i8> for ThreadState {
    type Error = String;
    fn try_from(v: i8) -> Result<Self, String> {
        Ok(match v {
            -1 => ThreadState::NoThread,
            0 => ThreadState::Stopped,
            1 => ThreadState::Running,
            2 => ThreadState::Other,
            other => return Err(format!("unknown thread state {other}")),
        })
    }
}

/// Everything known about one server: what the last probe observed, what the topology says about
/// it (cluster, depth), what operators declared (promotion rule, downtime), and probe health.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Instance {
    // ---- identity -------------------------------------------------------------------------
    #[serde(rename = "Key")]
    pub key: InstanceKey,
    /// Display alias from `DetectInstanceAliasQuery`.
    #[serde(rename = "InstanceAlias")]
    pub instance_alias: String,
    #[serde(rename = "ServerID")]
    pub server_id: u32,
    #[serde(rename = "ServerUUID")]
    pub server_uuid: String,
    #[serde(rename = "Version")]
    pub version: String,
    #[serde(rename = "VersionComment")]
    pub version_comment: String,
    /// `MySQL`, `Percona` or `MariaDB`.
    #[serde(rename = "FlavorName")]
    pub flavor_name: String,
    /// Seconds since the server started.
    #[serde(rename = "Uptime")]
    pub uptime: u64,

    // ---- configuration ----------------------------------------------------------------------
    #[serde(rename = "ReadOnly")]
    pub read_only: bool,
    #[serde(rename = "SuperReadOnly")]
    pub super_read_only: bool,
    #[serde(rename = "Binlog_format")]
    pub binlog_format: String,
    #[serde(rename = "BinlogRowImage")]
    pub binlog_row_image: String,
    #[serde(rename = "LogBinEnabled")]
    pub log_bin_enabled: bool,
    #[serde(rename = "LogReplicationUpdatesEnabled")]
    pub log_replication_updates_enabled: bool,
    /// Configured replication delay (seconds).
    #[serde(rename = "SQLDelay")]
    pub sql_delay: u32,
    #[serde(rename = "HasReplicationFilters")]
    pub has_replication_filters: bool,
    /// The replication channel allows TLS (`Master_SSL_Allowed`).
    #[serde(rename = "AllowTLS")]
    pub allow_tls: bool,
    /// `OFF`, `ON`, ... for Oracle GTID; empty on MariaDB.
    #[serde(rename = "GTIDMode")]
    pub gtid_mode: String,
    #[serde(rename = "SupportsOracleGTID")]
    pub supports_oracle_gtid: bool,

    // ---- coordinates ------------------------------------------------------------------------
    #[serde(rename = "SelfBinlogCoordinates")]
    pub self_binlog_coordinates: BinlogCoordinates,
    #[serde(rename = "ReadBinlogCoordinates")]
    pub read_binlog_coordinates: BinlogCoordinates,
    #[serde(rename = "ExecBinlogCoordinates")]
    pub exec_binlog_coordinates: BinlogCoordinates,
    #[serde(rename = "RelaylogCoordinates")]
    pub relaylog_coordinates: BinlogCoordinates,

    // ---- replication ------------------------------------------------------------------------
    /// The source this server replicates from; empty when it is not a replica.
    #[serde(rename = "MasterKey")]
    pub master_key: InstanceKey,
    #[serde(rename = "MasterUUID")]
    pub master_uuid: String,
    #[serde(rename = "AncestryUUID")]
    pub ancestry_uuid: String,
    /// The replica's source host was rewritten to `//host` (detach-replica-master-host).
    #[serde(rename = "IsDetachedMaster")]
    pub is_detached_master: bool,
    #[serde(rename = "IsDetached")]
    pub is_detached: bool,
    #[serde(rename = "ReplicationSQLThreadRuning")]
    pub replication_sql_thread_running: bool,
    #[serde(rename = "ReplicationIOThreadRuning")]
    pub replication_io_thread_running: bool,
    #[serde(rename = "ReplicationSQLThreadState")]
    pub replication_sql_thread_state: ThreadState,
    #[serde(rename = "ReplicationIOThreadState")]
    pub replication_io_thread_state: ThreadState,
    /// `Slave_IO_State` / `Replica_IO_State` text, e.g. "Waiting for source to send event".
    #[serde(rename = "ReplicationIOStateText")]
    pub replication_io_state_text: String,
    #[serde(rename = "UsingOracleGTID")]
    pub using_oracle_gtid: bool,
    #[serde(rename = "UsingMariaDBGTID")]
    pub using_mariadb_gtid: bool,
    #[serde(rename = "UsingPseudoGTID")]
    pub using_pseudo_gtid: bool,
    #[serde(rename = "LastSQLError")]
    pub last_sql_error: String,
    #[serde(rename = "LastIOError")]
    pub last_io_error: String,
    #[serde(rename = "LastSQLErrno")]
    pub last_sql_errno: u32,
    #[serde(rename = "LastIOErrno")]
    pub last_io_errno: u32,
    #[serde(rename = "SecondsBehindMaster")]
    pub seconds_behind_master: NullInt64,
    /// Lag from `ReplicationLagQuery` when configured, else `SecondsBehindMaster`.
    #[serde(rename = "ReplicationLagSeconds")]
    pub replication_lag_seconds: NullInt64,
    #[serde(rename = "ExecutedGtidSet")]
    pub executed_gtid_set: String,
    #[serde(rename = "GtidPurged")]
    pub gtid_purged: String,
    #[serde(rename = "GtidErrant")]
    pub gtid_errant: String,
    /// MariaDB `gtid_current_pos`.
    #[serde(rename = "GtidCurrentPos")]
    pub gtid_current_pos: String,
    /// MariaDB `gtid_binlog_pos`.
    #[serde(rename = "GtidBinlogPos")]
    pub gtid_binlog_pos: String,
    /// MariaDB `gtid_slave_pos`.
    #[serde(rename = "GtidSlavePos")]
    pub gtid_slave_pos: String,
    #[serde(rename = "HasReplicationCredentials")]
    pub has_replication_credentials: bool,
    #[serde(rename = "ReplicationCredentialsAvailable")]
    pub replication_credentials_available: bool,

    // ---- topology ---------------------------------------------------------------------------
    /// Replicas of this server: those it reports and those that report it as their source.
    #[serde(rename = "Replicas")]
    pub replicas: Vec<InstanceKey>,
    #[serde(rename = "ClusterName")]
    pub cluster_name: String,
    #[serde(rename = "SuggestedClusterAlias")]
    pub suggested_cluster_alias: String,
    #[serde(rename = "ReplicationDepth")]
    pub replication_depth: u32,
    #[serde(rename = "IsCoMaster")]
    pub is_co_master: bool,
    #[serde(rename = "DataCenter")]
    pub data_center: String,
    #[serde(rename = "Region")]
    pub region: String,
    #[serde(rename = "PhysicalEnvironment")]
    pub physical_environment: String,

    // ---- semi-sync --------------------------------------------------------------------------
    #[serde(rename = "SemiSyncAvailable")]
    pub semi_sync_available: bool,
    #[serde(rename = "SemiSyncPriority")]
    pub semi_sync_priority: u32,
    #[serde(rename = "SemiSyncMasterEnabled")]
    pub semi_sync_master_enabled: bool,
    #[serde(rename = "SemiSyncReplicaEnabled")]
    pub semi_sync_replica_enabled: bool,
    #[serde(rename = "SemiSyncMasterTimeout")]
    pub semi_sync_master_timeout: u64,
    #[serde(rename = "SemiSyncMasterWaitForReplicaCount")]
    pub semi_sync_master_wait_for_replica_count: u32,
    #[serde(rename = "SemiSyncMasterStatus")]
    pub semi_sync_master_status: bool,
    #[serde(rename = "SemiSyncMasterClients")]
    pub semi_sync_master_clients: u32,
    #[serde(rename = "SemiSyncReplicaStatus")]
    pub semi_sync_replica_status: bool,

    // ---- probe health -----------------------------------------------------------------------
    /// When the last probe completed successfully.
    #[serde(rename = "LastSeenTimestamp")]
    pub last_seen: Option<DateTime<Utc>>,
    /// When the last probe finished, successful or not.
    #[serde(rename = "LastCheckedTimestamp")]
    pub last_checked: Option<DateTime<Utc>>,
    /// When the last probe started.
    #[serde(rename = "LastAttemptedCheckTimestamp")]
    pub last_attempted_check: Option<DateTime<Utc>>,
    #[serde(rename = "IsLastCheckValid")]
    pub is_last_check_valid: bool,
    #[serde(rename = "IsUpToDate")]
    pub is_up_to_date: bool,
    #[serde(rename = "IsRecentlyChecked")]
    pub is_recently_checked: bool,
    #[serde(rename = "SecondsSinceLastSeen")]
    pub seconds_since_last_seen: NullInt64,
    /// Duration of the last probe, nanoseconds (orchestrator's unit).
    #[serde(rename = "LastDiscoveryLatency")]
    pub last_discovery_latency: u64,
    /// Why the last probe failed, when it did.
    #[serde(rename = "LastProbeError")]
    pub last_probe_error: String,
    #[serde(rename = "CountMySQLSnapshots")]
    pub count_mysql_snapshots: u32,

    // ---- operator intent --------------------------------------------------------------------
    #[serde(rename = "IsCandidate")]
    pub is_candidate: bool,
    #[serde(rename = "PromotionRule")]
    pub promotion_rule: String,
    #[serde(rename = "IsDowntimed")]
    pub is_downtimed: bool,
    #[serde(rename = "DowntimeReason")]
    pub downtime_reason: String,
    #[serde(rename = "DowntimeOwner")]
    pub downtime_owner: String,
    #[serde(rename = "DowntimeEndTimestamp")]
    pub downtime_end: Option<DateTime<Utc>>,
    /// An active maintenance lock (`begin-maintenance`): operations on the server are refused
    /// meanwhile. Not in orchestrator's instance JSON (it kept locks apart); its clients ignore
    /// fields they do not know.
    #[serde(rename = "InMaintenance")]
    pub in_maintenance: bool,
    #[serde(rename = "MaintenanceOwner")]
    pub maintenance_owner: String,
    #[serde(rename = "MaintenanceReason")]
    pub maintenance_reason: String,
    #[serde(rename = "UnresolvedHostname")]
    pub unresolved_hostname: String,
    /// `last_check_invalid`, `not_recently_checked`, `not_replicating`, `replication_lag`,
    /// `errant_gtid`.
    #[serde(rename = "Problems")]
    pub problems: Vec<String>,

    // ---- group replication (not managed yet; kept for API shape) ----------------------------
    #[serde(rename = "ReplicationGroupName")]
    pub replication_group_name: String,
    #[serde(rename = "ReplicationGroupIsSinglePrimary")]
    pub replication_group_is_single_primary: bool,
    #[serde(rename = "ReplicationGroupMemberState")]
    pub replication_group_member_state: String,
    #[serde(rename = "ReplicationGroupMemberRole")]
    pub replication_group_member_role: String,
    #[serde(rename = "ReplicationGroupMembers")]
    pub replication_group_members: Vec<InstanceKey>,
}

/// The instance as orchestrator serializes it, with its legacy duplicate fields
/// (`Slave_SQL_Running`, `SlaveHosts`, ...) so old consumers keep working.
#[derive(Serialize)]
pub struct InstanceJson<'a> {
    #[serde(flatten)]
    pub instance: &'a Instance,
    #[serde(rename = "LogSlaveUpdatesEnabled")]
    log_slave_updates_enabled: bool,
    #[serde(rename = "Slave_SQL_Running")]
    slave_sql_running: bool,
    #[serde(rename = "Slave_IO_Running")]
    slave_io_running: bool,
    #[serde(rename = "SlaveLagSeconds")]
    slave_lag_seconds: NullInt64,
    #[serde(rename = "SlaveHosts")]
    slave_hosts: &'a [InstanceKey],
    #[serde(rename = "IsReplica")]
    is_replica: bool,
}

impl<'a> From<&'a Instance> for InstanceJson<'a> {
    fn from(i: &'a Instance) -> Self {
        InstanceJson {
            instance: i,
            log_slave_updates_enabled: i.log_replication_updates_enabled,
            slave_sql_running: i.replication_sql_thread_running,
            slave_io_running: i.replication_io_thread_running,
            slave_lag_seconds: i.replication_lag_seconds,
            slave_hosts: &i.replicas,
            is_replica: i.is_replica(),
        }
    }
}

impl Instance {
    /// A placeholder for a server known by name only (never probed yet).
    pub fn unseen(key: InstanceKey) -> Self {
        Instance { key, promotion_rule: "neutral".into(), ..Default::default() }
    }

    /// Configured to replicate from someone (threads may be stopped).
    pub fn is_replica(&self) -> bool {
        !self.master_key.is_empty()
    }

    /// Both replication threads running.
    pub fn is_replicating(&self) -> bool {
        self.replication_io_thread_running && self.replication_sql_thread_running
    }

    /// Display name: the alias when there is one, else `host:port`.
    pub fn display_name(&self) -> String {
        if self.instance_alias.is_empty() {
            self.key.to_string()
        } else {
            self.instance_alias.clone()
        }
    }

    /// `5.7.21-log` -> (5, 7); `10.11.19-MariaDB-0+deb12u1` -> (10, 11).
    pub fn major_version(&self) -> (u32, u32) {
        let mut parts = self.version.split(|c: char| !c.is_ascii_digit());
        let major = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        let minor = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        (major, minor)
    }

    pub fn is_mariadb(&self) -> bool {
        self.flavor_name == "MariaDB"
    }

    /// Replication uses GTID (Oracle auto-position or MariaDB GTID).
    pub fn uses_gtid(&self) -> bool {
        self.using_oracle_gtid || self.using_mariadb_gtid
    }
}

/// orchestrator's `ClusterInfo` (`/api/clusters-info`, `/api/cluster-info/...`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterInfo {
    #[serde(rename = "ClusterName")]
    pub cluster_name: String,
    #[serde(rename = "ClusterAlias")]
    pub cluster_alias: String,
    #[serde(rename = "ClusterDomain")]
    pub cluster_domain: String,
    #[serde(rename = "CountInstances")]
    pub count_instances: u32,
    #[serde(rename = "HeuristicLag")]
    pub heuristic_lag: i64,
    #[serde(rename = "HasAutomatedMasterRecovery")]
    pub has_automated_master_recovery: bool,
    #[serde(rename = "HasAutomatedIntermediateMasterRecovery")]
    pub has_automated_intermediate_master_recovery: bool,
}

/// orchestrator's write envelope: `{"Code": "OK"|"ERROR", "Message": ..., "Details": ...}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(rename = "Code")]
    pub code: String,
    #[serde(rename = "Message")]
    pub message: String,
    #[serde(rename = "Details", default)]
    pub details: serde_json::Value,
}

impl Envelope {
    pub fn ok(message: impl Into<String>, details: serde_json::Value) -> Self {
        Envelope { code: "OK".into(), message: message.into(), details }
    }
    pub fn error(message: impl Into<String>) -> Self {
        Envelope { code: "ERROR".into(), message: message.into(), details: serde_json::Value::Null }
    }
    pub fn is_ok(&self) -> bool {
        self.code == "OK"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_uses_orchestrator_names_and_legacy_duplicates() {
        let mut i = Instance::unseen(InstanceKey::new("db1", 3306));
        i.replicas = vec![InstanceKey::new("db2", 3306)];
        i.replication_io_thread_running = true;
        let v = serde_json::to_value(InstanceJson::from(&i)).unwrap();
        assert_eq!(v["Key"]["Hostname"], "db1");
        assert_eq!(v["Key"]["Port"], 3306);
        assert_eq!(v["Slave_IO_Running"], true);
        assert_eq!(v["SlaveHosts"][0]["Hostname"], "db2");
        assert_eq!(v["Replicas"][0]["Port"], 3306);
        assert_eq!(v["ReplicationSQLThreadState"], -1);
        assert_eq!(v["SecondsBehindMaster"]["Valid"], false);
        // and it reads back
        let back: Instance = serde_json::from_value(v).unwrap();
        assert_eq!(back, i);
    }

    #[test]
    fn versions_parse() {
        let mut i = Instance::default();
        i.version = "10.11.19-MariaDB-0+deb12u1".into();
        assert_eq!(i.major_version(), (10, 11));
        i.version = "9.7.4".into();
        assert_eq!(i.major_version(), (9, 7));
    }
}
