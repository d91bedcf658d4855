//! Failure analysis: what is wrong around each server, as a pure function of one snapshot of
//! the topology (orchestrator's `GetReplicationAnalysis`, reference §4). Each verdict names its
//! code in orchestrator's words and carries the facts its rule tested, so an operator (and the
//! recovery planner, which consumes these verdicts) can see why.
//!
//! The holistic rule comes from orchestrator's rule order: a primary we cannot reach is `Dead…`
//! only when its replicas agree (none of them replicates from it any more); while any replica
//! still replicates it is `Unreachable…`, which recovers nothing.
//!
//! # Layout
//! - `tally`:     per analyzed server, the counts over its direct replicas (orchestrator's SQL).
//! - `codes`:     the classic codes, one rule each, in orchestrator's order; first match wins.
//! - `structure`: structure warnings, computed for every entry.
//! - `filters`:   `ReduceReplicationAnalysisCount`, `RecoveryIgnoreHostnameFilters`, downtime.
//! - `reasons`:   the facts a rule tested, in words (`Inputs`).
//! - `stale`:     since when a primary's binlog position has not moved (locked semi-sync).
//! - `analyzer`:  `Analyzer`, the thin stateful shell the API (and later recovery) calls.

mod analyzer;
mod codes;
mod filters;
mod reasons;
mod stale;
mod structure;
mod tally;
#[cfg(test)]
mod fixture;

pub use analyzer::Analyzer;
pub use stale::{FrozenCoordinates, StaleCoordinates};

use crate::config::Config;
use crate::topology::clusters::{self, RecoveryFilters};
use app::model::analysis::ReplicationAnalysis;
use app::model::{ClusterInfo, Instance, InstanceKey};
use chrono::{DateTime, Utc};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// The configuration analysis depends on.
#[derive(Clone, Debug)]
pub struct AnalysisSettings {
    /// `InstancePollSeconds` + `ReasonableInstanceCheckSeconds`: a server with no successful
    /// probe for longer is hanging, and its check is invalid (reference §4.1).
    pub poll_interval: Duration,
    pub reasonable_instance_check: Duration,
    /// `ReasonableReplicationLagSeconds`: above it a replica is lagging.
    pub reasonable_replication_lag_seconds: i64,
    /// `ReasonableLockedSemiSyncMasterSeconds`: how long a semi-sync primary's binlog position
    /// must stay put to call it locked rather than a hypothesis.
    pub reasonable_locked_semi_sync_master: Duration,
    /// `EnforceExactSemiSyncReplicas`: more semi-sync replicas than the wait count is a problem.
    pub enforce_exact_semi_sync_replicas: bool,
    /// `RecoverNonWriteableMaster`: a read-only primary with replicating replicas is a problem.
    pub recover_non_writeable_master: bool,
    /// `RecoveryIgnoreHostnameFilters`: entries about matching hosts are dropped.
    pub recovery_ignore_hostname_filters: Vec<Regex>,
    /// `ReduceReplicationAnalysisCount`: skip servers with no replicas and nothing wrong.
    pub reduce_replication_analysis_count: bool,
    /// Which clusters recover automatically (shown in `ClusterDetails`).
    pub recovery_filters: RecoveryFilters,
}

impl Default for AnalysisSettings {
    /// orchestrator's defaults.
    fn default() -> Self {
        AnalysisSettings {
            poll_interval: Duration::from_secs(5),
            reasonable_instance_check: Duration::from_secs(1),
            reasonable_replication_lag_seconds: 10,
            reasonable_locked_semi_sync_master: Duration::from_secs(10),
            enforce_exact_semi_sync_replicas: false,
            recover_non_writeable_master: false,
            recovery_ignore_hostname_filters: Vec::new(),
            reduce_replication_analysis_count: true,
            recovery_filters: RecoveryFilters::default(),
        }
    }
}

impl AnalysisSettings {
    pub fn from_config(config: &Config) -> AnalysisSettings {
        let r = &config.recovery;
        AnalysisSettings {
            poll_interval: config.instance_poll(),
            reasonable_instance_check: config.reasonable_instance_check(),
            reasonable_replication_lag_seconds: config.discovery.reasonable_replication_lag_seconds as i64,
            reasonable_locked_semi_sync_master: Duration::from_secs(r.reasonable_locked_semi_sync_master_seconds),
            enforce_exact_semi_sync_replicas: r.enforce_exact_semi_sync_replicas,
            recover_non_writeable_master: r.recover_non_writeable_master,
            // The configuration is validated at load; a pattern that still does not compile
            // filters nothing rather than everything.
            recovery_ignore_hostname_filters: r.recovery_ignore_hostname_filters.iter().filter_map(|p| Regex::new(p).ok()).collect(),
            reduce_replication_analysis_count: r.reduce_replication_analysis_count,
            recovery_filters: RecoveryFilters {
                master: r.recover_master_cluster_filters.clone(),
                intermediate_master: r.recover_intermediate_master_cluster_filters.clone(),
            },
        }
    }

    /// How long after its last successful probe a server counts as hanging.
    pub fn hang_limit(&self) -> Duration {
        self.poll_interval + self.reasonable_instance_check
    }
}

/// orchestrator's `ReplicationAnalysisHints`: which entries the caller wants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hints {
    /// Keep entries skippable because of downtime (the API does; automated recovery skips them).
    pub include_downtimed: bool,
    /// Keep entries with nothing wrong and nothing risky.
    pub include_no_problem: bool,
}

/// Everything analysis reads, taken at one moment.
#[derive(Clone, Debug)]
pub struct Snapshot<'a> {
    /// Every known server, as the derived view shows it.
    pub instances: Vec<&'a Instance>,
    /// The moment the snapshot stands for (hang detection, downtime left).
    pub now: DateTime<Utc>,
    /// Servers under an active maintenance lock: not analyzed (they still count as replicas).
    pub in_maintenance: BTreeSet<InstanceKey>,
    /// Servers whose last failed probe still ran its first query (orchestrator's
    /// `LastCheckPartialSuccess`). Discovery does not record this yet, so it is empty outside
    /// tests.
    pub partial_success: BTreeSet<InstanceKey>,
    /// Since when each semi-sync primary's binlog position has been seen unchanged.
    pub frozen_coordinates: BTreeMap<InstanceKey, FrozenCoordinates>,
}

impl<'a> Snapshot<'a> {
    pub fn new(instances: impl IntoIterator<Item = &'a Instance>, now: DateTime<Utc>) -> Snapshot<'a> {
        Snapshot {
            instances: instances.into_iter().collect(),
            now,
            in_maintenance: BTreeSet::new(),
            partial_success: BTreeSet::new(),
            frozen_coordinates: BTreeMap::new(),
        }
    }
}

/// Analyzes every server of the snapshot: one entry per server that has something to say
/// (or all of them, with `Hints::include_no_problem`), primaries first.
pub fn analyze(snapshot: &Snapshot<'_>, settings: &AnalysisSettings, hints: Hints) -> Vec<ReplicationAnalysis> {
    let mut replicas_of: BTreeMap<&InstanceKey, Vec<&Instance>> = BTreeMap::new();
    for inst in &snapshot.instances {
        // A detached replica (`//host`) no longer names its source: orchestrator's join on
        // master_host does not find it, and neither do we.
        if !inst.master_key.is_empty() && !inst.is_detached_master && inst.master_key != inst.key {
            replicas_of.entry(&inst.master_key).or_default().push(inst);
        }
    }
    for list in replicas_of.values_mut() {
        list.sort_by(|a, b| a.key.cmp(&b.key));
    }
    let cluster_infos = cluster_infos(&snapshot.instances, &settings.recovery_filters);

    let mut entries = Vec::new();
    for inst in &snapshot.instances {
        if snapshot.in_maintenance.contains(&inst.key) {
            continue;
        }
        let replicas = replicas_of.get(&inst.key).map(Vec::as_slice).unwrap_or(&[]);
        let tally = tally::Tally::new(inst, replicas, snapshot, settings);
        if !filters::passes_reduction(&tally, settings) {
            continue;
        }
        let cluster = cluster_infos.get(inst.cluster_name.as_str()).cloned().unwrap_or_default();
        let mut entry = tally.entry(cluster, snapshot.now);
        let verdict = codes::classify(&tally, settings);
        entry.analysis = verdict.code;
        entry.description = verdict.description.to_string();
        entry.is_actionable_recovery = verdict.code.is_actionable();
        entry.structure_analysis = structure::warnings(&entry);
        entry.inputs = reasons::describe(&tally, &entry, verdict.tested, settings);
        if let Some(entry) = filters::keep(entry, settings, hints) {
            entries.push(entry);
        }
    }
    entries.sort_by(|a, b| {
        let is_cluster_master = |e: &ReplicationAnalysis| e.analyzed_instance_key.to_string() == e.cluster_details.cluster_name;
        b.is_master
            .cmp(&a.is_master)
            .then(is_cluster_master(b).cmp(&is_cluster_master(a)))
            .then(b.count_replicas.cmp(&a.count_replicas))
            .then(a.analyzed_instance_key.cmp(&b.analyzed_instance_key))
    });
    entries
}

/// `ClusterDetails` of every cluster in the snapshot.
fn cluster_infos<'a>(instances: &[&'a Instance], filters: &RecoveryFilters) -> BTreeMap<&'a str, ClusterInfo> {
    let mut counts: BTreeMap<&str, (u32, &str)> = BTreeMap::new();
    for inst in instances {
        let e = counts.entry(inst.cluster_name.as_str()).or_insert((0, inst.suggested_cluster_alias.as_str()));
        e.0 += 1;
    }
    counts
        .into_iter()
        .map(|(name, (count, alias))| {
            let alias = if alias.is_empty() { name } else { alias };
            let info = ClusterInfo {
                cluster_name: name.to_string(),
                cluster_alias: alias.to_string(),
                cluster_domain: String::new(),
                count_instances: count,
                heuristic_lag: 0,
                has_automated_master_recovery: clusters::filter_matches(&filters.master, name, alias),
                has_automated_intermediate_master_recovery: clusters::filter_matches(&filters.intermediate_master, name, alias),
            };
            (name, info)
        })
        .collect()
}
