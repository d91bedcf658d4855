//! One analyzed server with its direct replicas, counted the way orchestrator's analysis query
//! counts them (reference §4.1). Everything a rule or a warning reads is here.

use super::{AnalysisSettings, Snapshot};
use app::model::analysis::ReplicationAnalysis;
use app::model::{ClusterInfo, Instance};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// Why the analyzed server's check is (in)valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The last probe succeeded, recently enough.
    Valid,
    /// The last probe failed; seconds since the last success, if there ever was one.
    ProbeFailed { last_seen_ago: Option<i64> },
    /// The last probe succeeded but none has completed since, for longer than
    /// `InstancePollSeconds + ReasonableInstanceCheckSeconds`: a probe is hanging.
    Hanging { silent_for: chrono::Duration },
}

/// The analyzed server, its replicas and what was counted over them.
pub struct Tally<'a> {
    /// The analyzed server.
    pub instance: &'a Instance,
    /// Servers naming it as their source (detached ones excluded), ordered by key.
    pub replicas: &'a [&'a Instance],
    /// Whether, and why not, its last check is valid.
    pub check: Check,
    /// Replicates from no one (or only a detached `//host`) and is not a group secondary.
    pub is_master: bool,
    /// In a replication group that it has not left (state other than OFFLINE).
    pub is_group_member: bool,
    /// Flagged co-master, or the source of one.
    pub is_co_master: bool,
    /// Its last failed probe still ran its first query.
    pub partial_success: bool,
    pub is_binlog_server: bool,
    /// Its own IO thread reports it cannot connect to its source.
    pub is_failing_to_connect: bool,
    /// Seconds the binlog position has been seen unchanged (suspected semi-sync lock only).
    pub frozen_for: Option<i64>,
    /// Unchanged for longer than `ReasonableLockedSemiSyncMasterSeconds`.
    pub stale_coordinates: bool,
    /// Replicas whose last probe succeeded.
    pub count_valid: u32,
    /// Valid replicas with both threads running.
    pub count_replicating: u32,
    /// Valid replicas whose IO thread reports it cannot connect to this server.
    pub count_failing_to_connect: u32,
    pub count_downtimed: u32,
    /// Replicas lagging beyond `ReasonableReplicationLagSeconds` (valid or not, as orchestrator).
    pub count_lagging: u32,
    /// Replicas with `SQL_Delay` > 0.
    pub count_delayed: u32,
}

/// orchestrator's `last_io_error LIKE '%error %connecting to master%'`. MySQL 8.0.26+ says
/// "source" where it said "master" ("Error connecting to source ..."), which orchestrator's
/// pattern misses, so that MySQL's replicas never counted as failing to connect. Deliberate
/// fix: both words match, in any case.
pub fn io_error_is_connect_failure(error: &str) -> bool {
    let lower = error.to_ascii_lowercase();
    match lower.find("error ") {
        Some(i) => {
            let rest = &lower[i + "error ".len()..];
            rest.contains("connecting to master") || rest.contains("connecting to source")
        }
        None => false,
    }
}

/// A replica whose last probe succeeded (`last_checked <= last_seen`).
pub fn is_valid(replica: &Instance) -> bool {
    replica.is_last_check_valid
}

/// Valid, IO thread not running, SQL thread running, and the IO error says it cannot connect.
pub fn is_failing_to_connect(replica: &Instance) -> bool {
    !replica.replication_io_thread_running && replica.replication_sql_thread_running && io_error_is_connect_failure(&replica.last_io_error)
}

/// orchestrator's binlog servers report themselves as MaxScale.
pub fn is_binlog_server(inst: &Instance) -> bool {
    inst.flavor_name.eq_ignore_ascii_case("MaxScale")
}

fn check_of(inst: &Instance, now: DateTime<Utc>, settings: &AnalysisSettings) -> Check {
    if !inst.is_last_check_valid {
        return Check::ProbeFailed { last_seen_ago: inst.last_seen.map(|t| (now - t).num_seconds().max(0)) };
    }
    // Discovery stamps a probe only when it ends, so a probe stuck on a hung server shows as
    // a last success that keeps getting older; orchestrator's `last_attempted_check` rule
    // amounts to the same limit.
    let limit = chrono::Duration::from_std(settings.hang_limit()).unwrap_or(chrono::Duration::MAX);
    match inst.last_seen {
        Some(seen) if now - seen > limit => Check::Hanging { silent_for: now - seen },
        _ => Check::Valid,
    }
}

impl<'a> Tally<'a> {
    pub fn new(instance: &'a Instance, replicas: &'a [&'a Instance], snapshot: &Snapshot<'_>, settings: &AnalysisSettings) -> Tally<'a> {
        let is_master = (instance.master_key.is_empty() || instance.is_detached_master)
            && (instance.replication_group_name.is_empty() || instance.replication_group_member_role == "PRIMARY");
        let frozen = snapshot
            .frozen_coordinates
            .get(&instance.key)
            .filter(|f| f.coordinates == instance.self_binlog_coordinates)
            .map(|f| snapshot.now - f.since);
        let reasonable_frozen = chrono::Duration::from_std(settings.reasonable_locked_semi_sync_master).unwrap_or(chrono::Duration::MAX);
        let lag_limit = settings.reasonable_replication_lag_seconds;
        let count = |f: &dyn Fn(&Instance) -> bool| replicas.iter().filter(|r| f(r)).count() as u32;
        Tally {
            instance,
            replicas,
            check: check_of(instance, snapshot.now, settings),
            is_master,
            is_group_member: !instance.replication_group_name.is_empty() && instance.replication_group_member_state != "OFFLINE",
            is_co_master: instance.is_co_master || replicas.iter().any(|r| r.is_co_master),
            partial_success: snapshot.partial_success.contains(&instance.key),
            is_binlog_server: is_binlog_server(instance),
            is_failing_to_connect: is_failing_to_connect(instance),
            frozen_for: frozen.map(|d| d.num_seconds().max(0)),
            // orchestrator: first seen strictly before now - ReasonableLockedSemiSyncMasterSeconds.
            stale_coordinates: frozen.is_some_and(|d| d > reasonable_frozen),
            count_valid: count(&|r| is_valid(r)),
            count_replicating: count(&|r| is_valid(r) && r.is_replicating()),
            count_failing_to_connect: count(&|r| is_valid(r) && is_failing_to_connect(r)),
            count_downtimed: count(&|r| r.is_downtimed),
            count_lagging: count(&|r| r.replication_lag_seconds.get().is_some_and(|l| l > lag_limit)),
            count_delayed: count(&|r| r.sql_delay > 0),
        }
    }

    pub fn last_check_valid(&self) -> bool {
        self.check == Check::Valid
    }

    pub fn count_replicas(&self) -> u32 {
        self.replicas.len() as u32
    }

    /// The entry with every count filled in; the code, warnings and inputs come later.
    pub fn entry(&self, cluster: ClusterInfo, now: DateTime<Utc>) -> ReplicationAnalysis {
        let inst = self.instance;
        let replicas = self.replicas;
        let count = |f: &dyn Fn(&Instance) -> bool| replicas.iter().filter(|r| f(r)).count() as u32;
        let logging = |r: &Instance| r.log_bin_enabled && r.log_replication_updates_enabled;
        let logging_format = |format: &'static str| count(&|r| logging(r) && r.binlog_format.eq_ignore_ascii_case(format));
        let majors: BTreeSet<(u32, u32)> = replicas.iter().filter(|r| logging(r)).map(|r| r.major_version()).collect();
        let valid_on = |f: &dyn Fn(&Instance) -> bool| count(&|r| is_valid(r) && f(r));
        let whole_valid_topology = |n: u32| self.count_valid > 0 && n == self.count_valid;
        let modes = replicas.iter().map(|r| r.gtid_mode.as_str());
        let keys: Vec<_> = replicas.iter().map(|r| r.key.clone()).collect();
        let (downtime_end, downtime_left) = match (inst.is_downtimed, inst.downtime_end) {
            (true, Some(end)) => (end.format("%Y-%m-%d %H:%M:%S").to_string(), (end - now).num_seconds().max(0)),
            _ => (String::new(), 0),
        };
        ReplicationAnalysis {
            analyzed_instance_key: inst.key.clone(),
            analyzed_instance_master_key: inst.master_key.clone(),
            cluster_details: cluster,
            data_center: inst.data_center.clone(),
            region: inst.region.clone(),
            physical_environment: inst.physical_environment.clone(),
            binlog_coordinates: inst.self_binlog_coordinates.clone(),
            is_master: self.is_master,
            is_replication_group_member: self.is_group_member,
            is_co_master: self.is_co_master,
            last_check_valid: self.last_check_valid(),
            last_check_partial_success: self.partial_success,
            count_replicas: self.count_replicas(),
            count_valid_replicas: self.count_valid,
            count_valid_replicating_replicas: self.count_replicating,
            count_replicas_failing_to_connect_to_master: self.count_failing_to_connect,
            count_downtimed_replicas: self.count_downtimed,
            replication_depth: inst.replication_depth,
            replicas: keys.clone(),
            slave_hosts: keys,
            is_failing_to_connect_to_master: self.is_failing_to_connect,
            is_downtimed: inst.is_downtimed,
            downtime_end_timestamp: downtime_end,
            // orchestrator computes now - end, a negative number for an active downtime; the
            // field's name promises what is left, so that is what it holds here.
            downtime_remaining_seconds: downtime_left,
            is_binlog_server: self.is_binlog_server,
            pseudo_gtid_immediate_topology: inst.using_pseudo_gtid,
            oracle_gtid_immediate_topology: whole_valid_topology(valid_on(&|r| r.using_oracle_gtid)),
            mariadb_gtid_immediate_topology: whole_valid_topology(valid_on(&|r| r.using_mariadb_gtid)),
            binlog_server_immediate_topology: whole_valid_topology(valid_on(&is_binlog_server)),
            semi_sync_master_enabled: inst.semi_sync_master_enabled,
            semi_sync_master_status: inst.semi_sync_master_status,
            semi_sync_master_wait_for_replica_count: inst.semi_sync_master_wait_for_replica_count,
            semi_sync_master_clients: inst.semi_sync_master_clients,
            count_semi_sync_replicas_enabled: count(&|r| r.semi_sync_replica_enabled),
            count_logging_replicas: count(&logging),
            count_statement_based_logging_replicas: logging_format("STATEMENT"),
            count_mixed_based_logging_replicas: logging_format("MIXED"),
            count_row_based_logging_replicas: logging_format("ROW"),
            count_distinct_major_versions_logging_replicas: majors.len() as u32,
            count_delayed_replicas: self.count_delayed,
            count_lagging_replicas: self.count_lagging,
            gtid_mode: inst.gtid_mode.clone(),
            min_replica_gtid_mode: modes.clone().min().unwrap_or("").to_string(),
            max_replica_gtid_mode: modes.max().unwrap_or("").to_string(),
            max_replica_gtid_errant: replicas
                .iter()
                .filter(|r| !r.is_downtimed)
                .map(|r| r.gtid_errant.as_str())
                .max()
                .unwrap_or("")
                .to_string(),
            is_read_only: inst.read_only,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_failures_are_recognised_in_both_vocabularies() {
        assert!(io_error_is_connect_failure("error connecting to master 'repl@db1:3306' - retry-time: 60"));
        assert!(io_error_is_connect_failure("error reconnecting to master 'repl@db1:3306' - retry-time: 1"));
        assert!(io_error_is_connect_failure(
            "Error connecting to source 'repl@127.0.0.1:3306'. This was attempt 1/86400, with a delay of 60 seconds"
        ));
        assert!(io_error_is_connect_failure("Error reconnecting to source 'repl@127.0.0.1:3306'. This was attempt 3/10"));
        assert!(!io_error_is_connect_failure(""));
        assert!(!io_error_is_connect_failure("Got fatal error 1236 from master when reading data from binary log"));
        assert!(!io_error_is_connect_failure("connecting to master"), "orchestrator's pattern needs 'error ' first");
    }
}
