//! Which replica of a server regroup-replicas promotes over its siblings (orchestrator's
//! `GetCandidateReplica`, reference 5.1 step 3), from discovery's view alone.
//!
//! A replica may be chosen when its last check succeeded, it logs what it replicates, it is not
//! `must_not`, it is neither lagging nor delayed beyond `ReasonableMaintenanceReplicationLagSeconds`,
//! its SQL thread has not stopped on an error, and its major version and binlog format are not
//! newer or stronger than most of its siblings' (so they can replicate from it). Among those, the
//! most advanced executed position wins; then the better promotion rule, no errant GTID, the
//! source's data center, the source's major version, and finally the smaller key, so the answer
//! is stable.

use app::model::gtid::GtidSet;
use app::model::{Instance, InstanceKey};
use app::rules::tree::Family;
use app::rules::{Refusal, Rule, RuleSettings};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The replica of `instance` that regroup-replicas would promote over its siblings (orchestrator's
/// `get-candidate-replica`), without changing anything.
pub fn candidate(family: &Family, instance: &InstanceKey, settings: &RuleSettings) -> Result<InstanceKey, Refusal> {
    choose(family, instance, settings).map(|c| c.key.clone())
}

pub(super) fn choose<'a>(family: &Family<'a>, instance: &InstanceKey, settings: &RuleSettings) -> Result<&'a Instance, Refusal> {
    let source = family.get(instance).ok_or_else(|| Refusal::new(Rule::UnknownInstance, format!("unknown instance {instance}")))?;
    let replicas = super::replicas_below(family, instance);
    if replicas.is_empty() {
        return Err(Refusal::new(Rule::NoReplicas, format!("{instance} has no replicas")));
    }
    let version = majority(replicas.iter().map(|r| r.major_version()));
    let format = majority(replicas.iter().map(|r| format_rank(&r.binlog_format)));
    let mut best: Option<&Instance> = None;
    let mut passed_over = Vec::new();
    for r in replicas {
        if let Some(why) = unfit(r, version, format, settings) {
            passed_over.push(format!("{}: {why}", r.key));
            continue;
        }
        if best.is_none_or(|b| compare(source, r, b) == Ordering::Greater) {
            best = Some(r);
        }
    }
    best.ok_or_else(|| Refusal::new(Rule::NoCandidate, format!("no replica of {instance} can be promoted ({})", passed_over.join("; "))))
}

/// Why `r` may not be promoted over its siblings, if it may not.
fn unfit(r: &Instance, majority_version: (u32, u32), majority_format: u8, s: &RuleSettings) -> Option<String> {
    if !r.is_last_check_valid {
        return Some("its last check failed".into());
    }
    if !r.log_bin_enabled || !r.log_replication_updates_enabled {
        return Some("it does not log what it replicates (log_bin and log_replica_updates)".into());
    }
    if promotion_rank(&r.promotion_rule) == 0 {
        return Some("its promotion rule is must_not".into());
    }
    if r.sql_delay as i64 > s.maintenance_lag_seconds {
        return Some(format!("it is delayed by {} s", r.sql_delay));
    }
    if let Some(lag) = r.replication_lag_seconds.get().filter(|lag| *lag > s.maintenance_lag_seconds) {
        return Some(format!("it lags {lag} s, more than ReasonableMaintenanceReplicationLagSeconds ({})", s.maintenance_lag_seconds));
    }
    if !r.last_sql_error.is_empty() {
        return Some(format!("its replication stopped on an error: {}", r.last_sql_error));
    }
    if r.major_version() > majority_version {
        return Some(format!("it runs {}, newer than most of its siblings", r.version));
    }
    if format_rank(&r.binlog_format) > majority_format {
        return Some(format!("it logs {}, stronger than most of its siblings", r.binlog_format));
    }
    None
}

/// `Greater` when `a` is the better candidate to replace `source`'s role over its siblings.
fn compare(source: &Instance, a: &Instance, b: &Instance) -> Ordering {
    position(a, b)
        .then_with(|| promotion_rank(&a.promotion_rule).cmp(&promotion_rank(&b.promotion_rule)))
        .then_with(|| a.gtid_errant.is_empty().cmp(&b.gtid_errant.is_empty()))
        .then_with(|| (a.data_center == source.data_center).cmp(&(b.data_center == source.data_center)))
        .then_with(|| (a.major_version() == source.major_version()).cmp(&(b.major_version() == source.major_version())))
        .then_with(|| b.key.cmp(&a.key))
}

/// Which replica has executed more. Oracle GTID sets decide when one contains the other;
/// otherwise (MariaDB, file:pos, or diverged sets) the executed coordinates do: siblings
/// replicate from the same source, so their coordinates are positions in one binary log.
fn position(a: &Instance, b: &Instance) -> Ordering {
    if let (Some(ga), Some(gb)) = (oracle_gtids(a), oracle_gtids(b)) {
        match (ga.is_subset_of(&gb), gb.is_subset_of(&ga)) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
    }
    a.exec_binlog_coordinates.cmp(&b.exec_binlog_coordinates)
}

fn oracle_gtids(i: &Instance) -> Option<GtidSet> {
    if !i.supports_oracle_gtid || i.executed_gtid_set.trim().is_empty() {
        return None;
    }
    GtidSet::parse(&i.executed_gtid_set).ok()
}

/// `must` 4, `prefer` 3, `neutral` 2 (also unknown or empty), `prefer_not` 1, `must_not` 0.
pub(crate) fn promotion_rank(rule: &str) -> u8 {
    match rule.trim().to_ascii_lowercase().replace('-', "_").as_str() {
        "must" => 4,
        "prefer" => 3,
        "prefer_not" => 1,
        "must_not" => 0,
        _ => 2,
    }
}

fn format_rank(format: &str) -> u8 {
    match format.to_ascii_uppercase().as_str() {
        "STATEMENT" => 1,
        "MIXED" => 2,
        "ROW" => 3,
        _ => 0,
    }
}

/// The most common value; on a tie the smallest (the older version, the weaker format), which
/// more servers can replicate from.
fn majority<T: Ord + Copy + Default>(values: impl Iterator<Item = T>) -> T {
    let mut counts: BTreeMap<T, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    let top = counts.values().copied().max().unwrap_or(0);
    counts.into_iter().find(|(_, n)| *n == top).map(|(v, _)| v).unwrap_or_default()
}
