//! Which replica of a dead primary is promoted (reference §5.1 step 3, with vetoes first), why it
//! won, and why every other replica did not: the sentences go to the recovery record.
//!
//! Order: vetoes remove replicas outright; the rest rank by what they hold of the dead primary's
//! binary log, then by how many of the other reachable replicas could replicate from them (the
//! shared can-replicate-from rules, applied in reverse: version, binlog format, log_replica_updates,
//! filters), then promotion rule, the dead primary's data centre, its region, less relay log left
//! to apply, no errant GTID, and the smaller key so the answer is stable.

use super::plan::RecoveryError;
use super::policy::RecoveryPolicy;
use crate::refactor::planner::replicas::candidate::promotion_rank;
use app::model::gtid::GtidSet;
use app::model::{BinlogCoordinates, Instance, InstanceKey};
use app::rules::can_replicate_from;
use std::cmp::Ordering;

/// The chosen replica and the reasons, for the recovery record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidacy {
    pub chosen: InstanceKey,
    /// Why it won, in words.
    pub why: String,
    /// Every other replica of the dead primary and why it was not chosen.
    pub passed_over: Vec<(InstanceKey, String)>,
}

/// What a replica will hold once its relay log is applied: how far it read the dead primary's
/// binary log (its executed position when the read position is unknown).
pub fn holdings(i: &Instance) -> &BinlogCoordinates {
    if i.read_binlog_coordinates.is_empty() {
        &i.exec_binlog_coordinates
    } else {
        &i.read_binlog_coordinates
    }
}

/// `Greater` when `a` holds more of the dead primary's binary log than `b`. Oracle GTID sets
/// decide between equal coordinates when one strictly contains the other.
pub fn compare_holdings(a: &Instance, b: &Instance) -> Ordering {
    holdings(a).cmp(holdings(b)).then_with(|| match (oracle_gtids(a), oracle_gtids(b)) {
        (Some(ga), Some(gb)) => match (ga.is_subset_of(&gb), gb.is_subset_of(&ga)) {
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            _ => Ordering::Equal,
        },
        _ => Ordering::Equal,
    })
}

fn oracle_gtids(i: &Instance) -> Option<GtidSet> {
    if !i.using_oracle_gtid || i.executed_gtid_set.trim().is_empty() {
        return None;
    }
    GtidSet::parse(&i.executed_gtid_set).ok()
}

/// The relay log has been applied as far as it was read.
pub fn relay_log_applied(i: &Instance) -> bool {
    i.read_binlog_coordinates.is_empty() || i.read_binlog_coordinates == i.exec_binlog_coordinates
}

/// Why `r` may not be promoted in place of `dead`, decided before anything moves.
pub fn veto(r: &Instance, dead: &Instance, in_maintenance: bool, policy: &RecoveryPolicy) -> Option<String> {
    if !r.is_last_check_valid {
        return Some("it is unreachable (its last check failed)".into());
    }
    if r.is_downtimed {
        return Some(format!("it is downtimed ({})", r.downtime_reason));
    }
    if in_maintenance || r.in_maintenance {
        return Some("it is under a maintenance lock".into());
    }
    if promotion_rank(&r.promotion_rule) == 0 {
        return Some("its promotion rule is must_not".into());
    }
    if policy.promotion_ignore.matches(&r.key.hostname, r.key.port) {
        return Some("it matches PromotionIgnoreHostnameFilters".into());
    }
    if !r.log_bin_enabled {
        return Some("it has no binary log: nothing could replicate from it".into());
    }
    if policy.prevent_cross_data_center && r.data_center != dead.data_center {
        return Some(format!(
            "it is in data centre {:?}, not the dead primary's {:?} (PreventCrossDataCenterMasterFailover)",
            r.data_center, dead.data_center
        ));
    }
    if policy.prevent_cross_region && r.region != dead.region {
        return Some(format!("it is in region {:?}, not the dead primary's {:?} (PreventCrossRegionMasterFailover)", r.region, dead.region));
    }
    let limit = policy.fail_on_lag_minutes.saturating_mul(60) as i64;
    if let Some(lag) = r.replication_lag_seconds.get().filter(|lag| limit > 0 && *lag >= limit) {
        return Some(format!("it lags {lag} s, at least FailMasterPromotionOnLagMinutes ({} min)", policy.fail_on_lag_minutes));
    }
    if policy.fail_if_sql_thread_not_up_to_date && !relay_log_applied(r) {
        return Some(format!(
            "its relay log is not applied (executed {}, read {}; FailMasterPromotionIfSQLThreadNotUpToDate)",
            r.exec_binlog_coordinates, r.read_binlog_coordinates
        ));
    }
    if !r.last_sql_error.is_empty() {
        return Some(format!("its SQL thread stopped on an error, so its relay log cannot be applied: {}", r.last_sql_error));
    }
    None
}

/// How many of `others` (reachable replicas) could replicate from `c`.
fn serves(c: &Instance, others: &[&Instance], policy: &RecoveryPolicy) -> usize {
    others.iter().filter(|r| r.key != c.key && can_replicate_from(r, c, &policy.rules).is_ok()).count()
}

/// The ranking criteria, best first, each with the words that explain a win on it.
fn criteria<'a>(dead: &'a Instance, reachable: &'a [&'a Instance], policy: &'a RecoveryPolicy) -> Vec<(&'static str, Box<dyn Fn(&Instance, &Instance) -> Ordering + 'a>)> {
    vec![
        ("it holds more of the dead primary's binary log", Box::new(compare_holdings)),
        ("more of the other replicas can replicate from it", Box::new(move |a: &Instance, b: &Instance| serves(a, reachable, policy).cmp(&serves(b, reachable, policy)))),
        ("its promotion rule is better", Box::new(|a: &Instance, b: &Instance| promotion_rank(&a.promotion_rule).cmp(&promotion_rank(&b.promotion_rule)))),
        ("it is in the dead primary's data centre", Box::new(move |a: &Instance, b: &Instance| (a.data_center == dead.data_center).cmp(&(b.data_center == dead.data_center)))),
        ("it is in the dead primary's region", Box::new(move |a: &Instance, b: &Instance| (a.region == dead.region).cmp(&(b.region == dead.region)))),
        ("its relay log is already applied", Box::new(|a: &Instance, b: &Instance| relay_log_applied(a).cmp(&relay_log_applied(b)))),
        ("it has no errant GTID", Box::new(|a: &Instance, b: &Instance| a.gtid_errant.is_empty().cmp(&b.gtid_errant.is_empty()))),
        ("its name sorts first (all else equal)", Box::new(|a: &Instance, b: &Instance| b.key.cmp(&a.key))),
    ]
}

/// Chooses which of `replicas` (the dead primary's direct replicas) to promote.
/// `maintenance(key)` says whether a key is under a maintenance lock in the snapshot.
pub fn choose_promotion_candidate(
    dead: &Instance,
    replicas: &[&Instance],
    maintenance: &dyn Fn(&InstanceKey) -> bool,
    policy: &RecoveryPolicy,
) -> Result<Candidacy, RecoveryError> {
    choose_candidate(dead, replicas, maintenance, policy, None)
}

/// `designated`, when an operator named it (takeovers, `recover -d`): it must be one of
/// `replicas` and pass the vetoes; the others are passed over for it. The data-loss check is
/// the operator's: a graceful takeover has the designated replica caught up first, a forced
/// one is asked for as it is.
pub fn choose_candidate(
    dead: &Instance,
    replicas: &[&Instance],
    maintenance: &dyn Fn(&InstanceKey) -> bool,
    policy: &RecoveryPolicy,
    designated: Option<&InstanceKey>,
) -> Result<Candidacy, RecoveryError> {
    if let Some(d) = designated {
        let Some(r) = replicas.iter().find(|r| &r.key == d) else {
            return Err(RecoveryError::NoCandidate { failed: dead.key.clone(), passed_over: vec![format!("{d}: it is not a direct replica of {}", dead.key)] });
        };
        if let Some(v) = veto(r, dead, maintenance(&r.key), policy) {
            return Err(RecoveryError::NoCandidate { failed: dead.key.clone(), passed_over: vec![format!("{d}: {v}")] });
        }
        let passed_over = replicas.iter().filter(|o| &o.key != d).map(|o| (o.key.clone(), format!("{d} was designated"))).collect();
        let why = format!("designated by the operator; holds up to {} of {}'s binary log", holdings(r), dead.key);
        return Ok(Candidacy { chosen: d.clone(), why, passed_over });
    }
    if replicas.is_empty() {
        return Err(RecoveryError::NoReplicas { failed: dead.key.clone() });
    }
    let reachable: Vec<&Instance> = replicas.iter().copied().filter(|r| r.is_last_check_valid).collect();
    let vetoes: Vec<(&Instance, Option<String>)> = replicas.iter().map(|r| (*r, veto(r, dead, maintenance(&r.key), policy))).collect();
    let ranks = criteria(dead, &reachable, policy);
    let compare = |a: &Instance, b: &Instance| ranks.iter().map(|(_, f)| f(a, b)).find(|o| o.is_ne()).unwrap_or(Ordering::Equal);
    let best = vetoes
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(r, _)| *r)
        .max_by(|a, b| compare(a, b))
        .ok_or_else(|| RecoveryError::NoCandidate {
            failed: dead.key.clone(),
            passed_over: vetoes.iter().map(|(r, v)| format!("{}: {}", r.key, v.clone().unwrap_or_default())).collect(),
        })?;

    // Never lose data silently: a reachable replica holding more than the candidate means the
    // candidate is not the one to promote, and the one that is was vetoed.
    let ahead: Vec<String> = vetoes
        .iter()
        .filter(|(r, _)| r.is_last_check_valid && r.key != best.key && compare_holdings(r, best) == Ordering::Greater)
        .map(|(r, v)| format!("{} holds up to {} but {}", r.key, holdings(r), v.clone().unwrap_or_else(|| "was not chosen".into())))
        .collect();
    if !ahead.is_empty() {
        return Err(RecoveryError::WouldLoseData { failed: dead.key.clone(), candidate: best.key.clone(), candidate_holds: holdings(best).to_string(), ahead });
    }

    let passed_over = vetoes
        .iter()
        .filter(|(r, _)| r.key != best.key)
        .map(|(r, v)| {
            let why = match v {
                Some(v) => v.clone(),
                None => {
                    let won_on = ranks.iter().find(|(_, f)| f(best, r).is_gt()).map(|(w, _)| *w).unwrap_or("it ranked first");
                    format!("{} was preferred: {won_on}", best.key)
                }
            };
            (r.key.clone(), why)
        })
        .collect();
    let why = format!(
        "holds up to {} of the dead primary's binary log, no reachable replica holds more; {} of {} other reachable replicas can replicate from it; promotion rule {}; data centre {:?}",
        holdings(best),
        serves(best, &reachable, policy),
        reachable.iter().filter(|r| r.key != best.key).count(),
        if best.promotion_rule.is_empty() { "neutral" } else { &best.promotion_rule },
        best.data_center,
    );
    Ok(Candidacy { chosen: best.key.clone(), why, passed_over })
}
