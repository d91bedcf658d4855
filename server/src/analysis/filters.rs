//! Which entries are kept (reference §4.4): `ReduceReplicationAnalysisCount`, entries with
//! nothing to say, `RecoveryIgnoreHostnameFilters`, and downtime.

use super::tally::Tally;
use super::{AnalysisSettings, Hints};
use app::model::analysis::ReplicationAnalysis;

/// orchestrator's `HAVING` clause under `ReduceReplicationAnalysisCount`: a server is analyzed
/// only if it has replicas, or something is wrong with it or them. (A replica-less primary
/// that is reachable is thus never reported, not even a locked semi-sync or read-only one.)
pub fn passes_reduction(t: &Tally<'_>, settings: &AnalysisSettings) -> bool {
    if !settings.reduce_replication_analysis_count {
        return true;
    }
    let n = t.count_replicas();
    !t.last_check_valid()
        || t.count_failing_to_connect > 0
        || t.count_valid < n
        || t.count_replicating < n
        || t.is_failing_to_connect
        || n > 0
}

/// Marks downtime and drops what the caller does not want, in orchestrator's order.
pub fn keep(mut e: ReplicationAnalysis, settings: &AnalysisSettings, hints: Hints) -> Option<ReplicationAnalysis> {
    if e.is_clean() && !hints.include_no_problem {
        return None;
    }
    let host = &e.analyzed_instance_key.hostname;
    if settings.recovery_ignore_hostname_filters.iter().any(|re| re.is_match(host)) {
        return None;
    }
    if e.is_downtimed {
        e.skippable_due_to_downtime = true;
    }
    if e.count_replicas == e.count_downtimed_replicas && e.analysis.is_about_replicas() {
        e.is_replicas_downtimed = true;
        e.skippable_due_to_downtime = true;
    }
    if e.skippable_due_to_downtime && !hints.include_downtimed {
        return None;
    }
    Some(e)
}

#[cfg(test)]
mod tests {
    use crate::analysis::fixture::*;
    use crate::analysis::{AnalysisSettings, Hints};
    use app::model::analysis::AnalysisCode;
    use app::model::Instance;
    use chrono::Utc;
    use regex::Regex;

    fn downtime(i: &mut Instance, minutes: i64) {
        i.is_downtimed = true;
        i.downtime_end = Some(Utc::now() + chrono::Duration::minutes(minutes));
    }

    const ALL: Hints = Hints { include_downtimed: true, include_no_problem: false };

    #[test]
    fn fixture_no_problem_downtime() {
        let t = Utc::now();
        let mut all = topology(t);
        sql_stopped(at(&mut all, 22295));
        downtime(at(&mut all, 22295), 1);
        // The CLI leaves it out...
        assert!(analysis(&all, t).is_empty());
        // ...the API keeps it, marked: every replica of it is downtimed.
        let api = analysis_with(&all, t, &AnalysisSettings::default(), ALL);
        let e = entry_of(&api, 22294);
        assert_eq!(e.analysis, AnalysisCode::AllIntermediateMasterReplicasNotReplicating);
        assert!(e.is_replicas_downtimed && e.skippable_due_to_downtime && !e.is_downtimed);
    }

    #[test]
    fn a_downtimed_server_is_skippable_and_says_how_long_is_left() {
        let t = Utc::now();
        let mut all = topology(t);
        unreachable(at(&mut all, 22293));
        on_each(&mut all, &[22294, 22296, 22297], io_stopped);
        downtime(at(&mut all, 22293), 10);
        assert!(analysis(&all, t).is_empty());
        let api = analysis_with(&all, t, &AnalysisSettings::default(), ALL);
        let e = entry_of(&api, 22293);
        assert_eq!(e.analysis, AnalysisCode::DeadMaster);
        assert!(e.is_downtimed && e.skippable_due_to_downtime && !e.is_replicas_downtimed);
        assert!((590..=600).contains(&e.downtime_remaining_seconds), "{}", e.downtime_remaining_seconds);
        assert_eq!(e.downtime_end_timestamp.len(), "2006-01-02 15:04:05".len());
    }

    #[test]
    fn replicas_downtimed_only_matters_for_codes_about_replicas() {
        let t = Utc::now();
        let mut all = topology(t);
        unreachable(at(&mut all, 22294));
        downtime(at(&mut all, 22295), 1);
        let api = analysis_with(&all, t, &AnalysisSettings::default(), ALL);
        let e = entry_of(&api, 22294);
        assert_eq!(e.analysis, AnalysisCode::UnreachableIntermediateMaster);
        assert!(!e.skippable_due_to_downtime && !e.is_replicas_downtimed);
    }

    #[test]
    fn recovery_ignore_hostname_filters_drop_entries() {
        let t = Utc::now();
        let mut all = topology(t);
        unreachable(at(&mut all, 22293));
        let settings = AnalysisSettings { recovery_ignore_hostname_filters: vec![Regex::new("^test").unwrap()], ..Default::default() };
        assert!(analysis_with(&all, t, &settings, ALL).is_empty());
        let settings = AnalysisSettings { recovery_ignore_hostname_filters: vec![Regex::new("^prod").unwrap()], ..Default::default() };
        assert_eq!(analysis_with(&all, t, &settings, ALL).len(), 1);
    }

    #[test]
    fn reduced_analysis_leaves_out_healthy_leaves() {
        let t = Utc::now();
        let all = topology(t);
        let every = Hints { include_downtimed: true, include_no_problem: true };
        let ports = |s: &AnalysisSettings| -> Vec<u16> {
            analysis_with(&all, t, s, every).iter().map(|e| e.analyzed_instance_key.port).collect()
        };
        // Primaries first, then by replica count.
        assert_eq!(ports(&AnalysisSettings::default()), [22293, 22294]);
        let full = AnalysisSettings { reduce_replication_analysis_count: false, ..Default::default() };
        assert_eq!(ports(&full), [22293, 22294, 22295, 22296, 22297]);
    }

    #[test]
    fn cluster_details_name_the_cluster_and_its_recovery_filters() {
        let t = Utc::now();
        let mut all = topology(t);
        unreachable(at(&mut all, 22293));
        let settings = AnalysisSettings {
            recovery_filters: crate::topology::clusters::RecoveryFilters { master: vec!["testhost".into()], intermediate_master: vec![] },
            ..Default::default()
        };
        let e = &analysis_with(&all, t, &settings, ALL)[0];
        assert_eq!(e.cluster_details.cluster_name, CLUSTER);
        assert_eq!(e.cluster_details.cluster_alias, CLUSTER);
        assert_eq!(e.cluster_details.count_instances, 5);
        assert!(e.cluster_details.has_automated_master_recovery);
        assert!(!e.cluster_details.has_automated_intermediate_master_recovery);
        assert_eq!(e.replicas, [key(22294), key(22296), key(22297)]);
        assert_eq!(e.slave_hosts, e.replicas);
    }

    fn on_each(all: &mut [Instance], ports: &[u16], f: fn(&mut Instance)) {
        for p in ports {
            f(at(all, *p));
        }
    }
}
