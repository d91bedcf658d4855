//! orchestrator's integration-test topology (`tests/integration/create-per-test.sql`), so unit
//! tests can apply the same changes as its `analysis-*` fixtures and expect the same lines:
//!
//! ```text
//! testhost:22293            primary, STATEMENT, log_bin, log_slave_updates, Pseudo-GTID
//! + testhost:22294          replica, logs its updates
//!   + testhost:22295        replica of the intermediate primary
//! + testhost:22296          replica without binary log
//! + testhost:22297          replica, logs its updates
//! ```

use super::{analyze, AnalysisSettings, Hints, Snapshot};
use app::model::analysis::ReplicationAnalysis;
use app::model::{Instance, InstanceKey, NullInt64, ThreadState};
use chrono::{DateTime, Utc};

pub const CLUSTER: &str = "testhost:22293";

pub fn key(port: u16) -> InstanceKey {
    InstanceKey::new("testhost", port)
}

fn server(port: u16, master: Option<u16>, depth: u32, now: DateTime<Utc>) -> Instance {
    let mut i = Instance::unseen(key(port));
    i.version = "5.6.28-log".into();
    i.flavor_name = "MySQL".into();
    i.binlog_format = "STATEMENT".into();
    i.log_bin_enabled = true;
    i.log_replication_updates_enabled = true;
    i.using_pseudo_gtid = true;
    i.gtid_mode = "OFF".into();
    i.cluster_name = CLUSTER.into();
    i.replication_depth = depth;
    i.data_center = "ny".into();
    i.region = "us-region".into();
    i.is_last_check_valid = true;
    i.is_up_to_date = true;
    i.is_recently_checked = true;
    i.last_seen = Some(now);
    i.last_checked = Some(now);
    i.last_attempted_check = Some(now);
    if let Some(m) = master {
        i.master_key = key(m);
        i.replication_io_thread_running = true;
        i.replication_sql_thread_running = true;
        i.replication_io_thread_state = ThreadState::Running;
        i.replication_sql_thread_state = ThreadState::Running;
        i.replication_lag_seconds = NullInt64::some(0);
        i.seconds_behind_master = NullInt64::some(0);
    }
    i
}

/// The five servers, all probed at `now`.
pub fn topology(now: DateTime<Utc>) -> Vec<Instance> {
    let mut all = vec![
        server(22293, None, 0, now),
        server(22294, Some(22293), 1, now),
        server(22295, Some(22294), 2, now),
        server(22296, Some(22293), 1, now),
        server(22297, Some(22293), 1, now),
    ];
    all[0].replicas = vec![key(22294), key(22296), key(22297)];
    all[1].replicas = vec![key(22295)];
    all[3].version = "5.6.28".into();
    all[3].log_bin_enabled = false;
    all[4].data_center = "seattle".into();
    all
}

/// The server on `port`.
pub fn at(all: &mut [Instance], port: u16) -> &mut Instance {
    all.iter_mut().find(|i| i.key.port == port).unwrap_or_else(|| panic!("no server on port {port}"))
}

/// `last_seen = last_checked - interval 1 minute`: the last probe failed.
pub fn unreachable(i: &mut Instance) {
    let checked = i.last_checked.unwrap_or_else(Utc::now);
    i.last_seen = Some(checked - chrono::Duration::minutes(1));
    i.is_last_check_valid = false;
}

/// `slave_io_running=0`.
pub fn io_stopped(i: &mut Instance) {
    i.replication_io_thread_running = false;
    i.replication_io_thread_state = ThreadState::Stopped;
    i.replication_lag_seconds = NullInt64::default();
}

/// `slave_sql_running=0`.
pub fn sql_stopped(i: &mut Instance) {
    i.replication_sql_thread_running = false;
    i.replication_sql_thread_state = ThreadState::Stopped;
    i.replication_lag_seconds = NullInt64::default();
}

/// `slave_io_running=0, last_io_error='error connecting to master'`.
pub fn failing_to_connect(i: &mut Instance) {
    io_stopped(i);
    i.replication_io_thread_state = ThreadState::Other;
    i.last_io_error = "error connecting to master".into();
}

/// Analysis as `orchestrator -c replication-analysis` runs it (no downtimed entries, no
/// NoProblem entries), with orchestrator's default settings.
pub fn analysis(all: &[Instance], now: DateTime<Utc>) -> Vec<ReplicationAnalysis> {
    analysis_with(all, now, &AnalysisSettings::default(), Hints::default())
}

pub fn analysis_with(all: &[Instance], now: DateTime<Utc>, settings: &AnalysisSettings, hints: Hints) -> Vec<ReplicationAnalysis> {
    analyze(&Snapshot::new(all.iter(), now), settings, hints)
}

/// The binary's output lines: `host:port (cluster name): Analysis[, warnings]`.
pub fn lines(entries: &[ReplicationAnalysis]) -> Vec<String> {
    entries
        .iter()
        .map(|e| format!("{} (cluster {}): {}", e.analyzed_instance_key, e.cluster_details.cluster_name, e.analysis_string()))
        .collect()
}

/// The entry about `port`.
pub fn entry_of(entries: &[ReplicationAnalysis], port: u16) -> &ReplicationAnalysis {
    entries.iter().find(|e| e.analyzed_instance_key.port == port).unwrap_or_else(|| panic!("no entry for port {port} in {:?}", lines(entries)))
}
