//! Recovery plans on hand-made topologies, no IO. Names say the outcome.

use super::*;
use crate::analysis::Snapshot;
use crate::config::Config;
use crate::refactor::plan::{Position, Step};
use app::model::analysis::{AnalysisCode, ReplicationAnalysis};
use app::model::{BinlogCoordinates, Instance, InstanceKey, NullInt64};
use app::rules::Mechanism;

const U: &str = "00000000-0000-0000-0000-0000000000aa";

fn k(name: &str) -> InstanceKey {
    InstanceKey::new(name, 3306)
}

/// A MySQL 8.0 server on Oracle GTID, replicating from `master` when given, in dc1/r1.
fn server(name: &str, id: u32, master: Option<&str>) -> Instance {
    let mut i = Instance::unseen(k(name));
    i.server_id = id;
    i.server_uuid = format!("{id:08}-0000-0000-0000-000000000000");
    i.version = "8.0.36".into();
    i.flavor_name = "MySQL".into();
    i.log_bin_enabled = true;
    i.log_replication_updates_enabled = true;
    i.binlog_format = "ROW".into();
    i.is_last_check_valid = true;
    i.is_recently_checked = true;
    i.supports_oracle_gtid = true;
    i.data_center = "dc1".into();
    i.region = "r1".into();
    if let Some(m) = master {
        i.master_key = k(m);
        i.using_oracle_gtid = true;
        i.replication_io_thread_running = true;
        i.replication_sql_thread_running = true;
        i.replication_lag_seconds = NullInt64::some(0);
    }
    i
}

/// A replica that read and executed the dead primary's binlog up to `pos`, GTID `U:1-pos`.
fn at(mut i: Instance, pos: u64) -> Instance {
    i.read_binlog_coordinates = BinlogCoordinates::binlog("bin.000002", pos);
    i.exec_binlog_coordinates = BinlogCoordinates::binlog("bin.000002", pos);
    i.executed_gtid_set = format!("{U}:1-{pos}");
    i
}

fn file_pos(mut i: Instance) -> Instance {
    i.using_oracle_gtid = false;
    i.supports_oracle_gtid = false;
    i.executed_gtid_set.clear();
    i
}

fn dead(mut i: Instance) -> Instance {
    i.is_last_check_valid = false;
    i
}

fn verdict(name: &str, code: AnalysisCode) -> ReplicationAnalysis {
    ReplicationAnalysis { analyzed_instance_key: k(name), analysis: code, ..Default::default() }
}

fn plan_dm(all: &[Instance], policy: &RecoveryPolicy) -> Result<RecoveryPlan, RecoveryError> {
    plan_dead_master(&Snapshot::new(all.iter(), chrono::Utc::now()), &verdict("p", AnalysisCode::DeadMaster), policy)
}

fn plan_dim(all: &[Instance]) -> Result<RecoveryPlan, RecoveryError> {
    let v = verdict("im", AnalysisCode::DeadIntermediateMaster);
    plan_dead_intermediate_master(&Snapshot::new(all.iter(), chrono::Utc::now()), &v, &RecoveryPolicy::default())
}

fn promoted(plan: &RecoveryPlan) -> &str {
    &plan.successor.as_ref().unwrap().hostname
}

#[test]
fn gtid_most_advanced_replica_is_promoted_and_the_others_move_below_it_by_gtid() {
    let all = [dead(server("p", 1, None)), at(server("a", 2, Some("p")), 90), at(server("b", 3, Some("p")), 100), at(server("c", 4, Some("p")), 95)];
    let plan = plan_dm(&all, &RecoveryPolicy::default()).unwrap();
    assert_eq!(promoted(&plan), "b");
    assert_eq!(plan.moved, vec![(k("a"), k("b"), Mechanism::Gtid), (k("c"), k("b"), Mechanism::Gtid)]);
    assert!(plan.lost.is_empty());
    let c = plan.candidacy.as_ref().unwrap();
    assert!(c.why.contains("bin.000002:100"), "{}", c.why);
    assert!(c.passed_over.iter().all(|(_, why)| why.contains("holds more")), "{:?}", c.passed_over);
    // Promotion before the GTID moves; the unreachable old primary is fenced on a best-effort basis at the end.
    let pos = |s: &RecoveryStep| plan.steps.iter().position(|x| x == s).unwrap();
    let writable = pos(&RecoveryStep::SetWritable { on: k("b") });
    // The candidate applies what it fetched (SQL thread stopped after) before it takes writes;
    // its IO thread is not stopped first (it fetches nothing from a dead source), and RESET
    // REPLICA ALL (which stops it, seconds on MySQL when it is stuck) comes right after.
    assert!(pos(&RecoveryStep::ApplyRelayLog { on: k("b"), timeout_seconds: 10 }) < writable);
    assert!(!plan.steps.contains(&RecoveryStep::StopIoThread { on: k("b") }), "the candidate's IO thread is left to the reset");
    assert!(plan.steps.contains(&RecoveryStep::StopIoThread { on: k("a") }) && plan.steps.contains(&RecoveryStep::StopIoThread { on: k("c") }));
    assert_eq!(plan.steps[writable + 1], RecoveryStep::ResetReplicaAll { on: k("b") });
    let move_a = RecoveryStep::Refactor(Step::ChangeSource { replica: k("a"), to: k("b"), position: Position::Gtid });
    assert!(pos(&move_a) > writable);
    let fence = plan.steps.iter().position(|s| matches!(s, RecoveryStep::FenceOldPrimary { required: false, .. })).unwrap();
    assert!(fence > writable);
    assert_eq!(plan.steps.last(), Some(&RecoveryStep::DowntimeLost { on: k("p"), minutes: 0 }));
}

#[test]
fn gtid_superset_wins_between_equal_coordinates() {
    let a = at(server("a", 2, Some("p")), 100);
    let mut b = at(server("b", 3, Some("p")), 100);
    b.executed_gtid_set = format!("{U}:1-100,00000000-0000-0000-0000-0000000000bb:1-3");
    let plan = plan_dm(&[dead(server("p", 1, None)), a, b], &RecoveryPolicy::default()).unwrap();
    assert_eq!(promoted(&plan), "b");
}

#[test]
fn promotion_rules_order_equally_advanced_replicas_must_prefer_neutral_prefer_not() {
    let rules = [("a", "prefer_not"), ("b", "neutral"), ("c", "prefer"), ("d", "must")];
    let mut all = vec![dead(server("p", 1, None))];
    for (i, (name, rule)) in rules.iter().enumerate() {
        let mut r = at(server(name, 10 + i as u32, Some("p")), 50);
        r.promotion_rule = rule.to_string();
        all.push(r);
    }
    for expected in ["d", "c", "b", "a"] {
        let plan = plan_dm(&all, &RecoveryPolicy::default()).unwrap();
        assert_eq!(promoted(&plan), expected);
        all.retain(|i| i.key != k(expected));
    }
}

#[test]
fn must_not_replica_is_never_promoted() {
    let mut a = at(server("a", 2, Some("p")), 100);
    a.promotion_rule = "must_not".into();
    let b = at(server("b", 3, Some("p")), 100);
    let plan = plan_dm(&[dead(server("p", 1, None)), a.clone(), b], &RecoveryPolicy::default()).unwrap();
    assert_eq!(promoted(&plan), "b");
    assert_eq!(plan.new_source_of(&k("a")), Some(&k("b")));
    let passed = &plan.candidacy.as_ref().unwrap().passed_over;
    assert_eq!(passed, &vec![(k("a"), "its promotion rule is must_not".to_string())]);

    let err = plan_dm(&[dead(server("p", 1, None)), a], &RecoveryPolicy::default()).unwrap_err();
    assert!(matches!(err, RecoveryError::NoCandidate { .. }), "{err}");
}

#[test]
fn most_advanced_must_not_refuses_rather_than_losing_its_transactions() {
    let mut a = at(server("a", 2, Some("p")), 100);
    a.promotion_rule = "must_not".into();
    let b = at(server("b", 3, Some("p")), 90);
    let err = plan_dm(&[dead(server("p", 1, None)), a, b], &RecoveryPolicy::default()).unwrap_err();
    let RecoveryError::WouldLoseData { candidate, ahead, .. } = &err else { panic!("{err}") };
    assert_eq!(candidate, &k("b"));
    assert!(ahead[0].contains("a:3306 holds up to bin.000002:100 but its promotion rule is must_not"), "{ahead:?}");
}

#[test]
fn prevent_cross_data_center_promotes_in_the_dead_primarys_data_center_or_refuses() {
    let mut a = at(server("a", 2, Some("p")), 100);
    a.data_center = "dc2".into();
    let b = at(server("b", 3, Some("p")), 100);
    let policy = RecoveryPolicy { prevent_cross_data_center: true, ..Default::default() };
    let plan = plan_dm(&[dead(server("p", 1, None)), a.clone(), b], &policy).unwrap();
    assert_eq!(promoted(&plan), "b");

    let err = plan_dm(&[dead(server("p", 1, None)), a.clone()], &policy).unwrap_err();
    assert!(err.to_string().contains("PreventCrossDataCenterMasterFailover"), "{err}");
    // Without the policy the same data centre is only a preference, and dc2 is fine alone.
    assert_eq!(promoted(&plan_dm(&[dead(server("p", 1, None)), a], &RecoveryPolicy::default()).unwrap()), "a");
}

#[test]
fn same_data_center_is_preferred_between_equal_replicas() {
    let mut a = at(server("a", 2, Some("p")), 100);
    a.data_center = "dc2".into();
    let b = at(server("b", 3, Some("p")), 100);
    let plan = plan_dm(&[dead(server("p", 1, None)), a, b], &RecoveryPolicy::default()).unwrap();
    assert_eq!(promoted(&plan), "b");
}

#[test]
fn lag_veto_on_the_most_advanced_replica_refuses_rather_than_loses_data() {
    let mut a = at(server("a", 2, Some("p")), 100);
    a.replication_lag_seconds = NullInt64::some(600);
    let b = at(server("b", 3, Some("p")), 90);
    let policy = RecoveryPolicy { fail_on_lag_minutes: 5, ..Default::default() };
    let err = plan_dm(&[dead(server("p", 1, None)), a.clone(), b], &policy).unwrap_err();
    assert!(matches!(err, RecoveryError::WouldLoseData { .. }), "{err}");
    assert!(err.to_string().contains("FailMasterPromotionOnLagMinutes"), "{err}");

    // An equally advanced replica that does not lag is promoted instead; nothing is lost.
    let b = at(server("b", 3, Some("p")), 100);
    let plan = plan_dm(&[dead(server("p", 1, None)), a, b], &policy).unwrap();
    assert_eq!(promoted(&plan), "b");
    assert!(plan.lost.is_empty());
}

#[test]
fn unapplied_relay_log_vetoes_only_when_configured_and_ranks_by_what_was_read() {
    let mut a = at(server("a", 2, Some("p")), 100);
    a.exec_binlog_coordinates = BinlogCoordinates::binlog("bin.000002", 40);
    a.executed_gtid_set = format!("{U}:1-40");
    let b = at(server("b", 3, Some("p")), 90);
    // a read more: once its relay log is applied it holds more, so it is the one promoted.
    let plan = plan_dm(&[dead(server("p", 1, None)), a.clone(), b.clone()], &RecoveryPolicy::default()).unwrap();
    assert_eq!(promoted(&plan), "a");
    let policy = RecoveryPolicy { fail_if_sql_thread_not_up_to_date: true, ..Default::default() };
    let err = plan_dm(&[dead(server("p", 1, None)), a, b], &policy).unwrap_err();
    assert!(err.to_string().contains("FailMasterPromotionIfSQLThreadNotUpToDate"), "{err}");
}

#[test]
fn file_pos_replicas_at_the_candidates_coordinates_are_repointed_before_promotion_others_lost() {
    let all = [
        dead(file_pos(server("p", 1, None))),
        file_pos(at(server("a", 2, Some("p")), 100)),
        file_pos(at(server("b", 3, Some("p")), 100)),
        file_pos(at(server("c", 4, Some("p")), 80)),
        dead(file_pos(at(server("d", 5, Some("p")), 100))),
    ];
    let plan = plan_dm(&all, &RecoveryPolicy::default()).unwrap();
    assert_eq!(promoted(&plan), "a");
    assert_eq!(plan.moved, vec![(k("b"), k("a"), Mechanism::MoveBelow)]);
    assert_eq!(plan.lost_keys(), vec![&k("c"), &k("d")]);
    assert!(plan.lost[0].reason.contains("exist only on the dead primary"), "{}", plan.lost[0].reason);
    assert!(plan.lost[1].reason.contains("unreachable"));
    let pos = |s: &RecoveryStep| plan.steps.iter().position(|x| x == s).unwrap();
    let change = RecoveryStep::Refactor(Step::ChangeSource { replica: k("b"), to: k("a"), position: Position::BinlogOf(k("a")) });
    assert!(pos(&RecoveryStep::DrainRelayLog { on: k("b"), timeout_seconds: 10, on_timeout: OnTimeout::LoseReplica }) < pos(&change));
    assert!(pos(&change) < pos(&RecoveryStep::SetWritable { on: k("a") }));
    // Lost replicas: the reachable one is detached; both, and the dead primary, are downtimed.
    assert!(plan.steps.contains(&RecoveryStep::DetachLostReplica { on: k("c") }));
    assert!(!plan.steps.contains(&RecoveryStep::DetachLostReplica { on: k("d") }));
    for key in ["p", "c", "d"] {
        assert!(plan.steps.contains(&RecoveryStep::DowntimeLost { on: k(key), minutes: 0 }), "{key}");
    }
}

#[test]
fn a_cluster_of_one_replica_promotes_it_even_without_log_replica_updates() {
    let mut a = at(server("a", 2, Some("p")), 10);
    a.log_replication_updates_enabled = false;
    let plan = plan_dm(&[dead(server("p", 1, None)), a], &RecoveryPolicy::default()).unwrap();
    assert_eq!(promoted(&plan), "a");
    assert!(plan.moved.is_empty() && plan.lost.is_empty());
    assert!(plan.candidacy.unwrap().passed_over.is_empty());
}

#[test]
fn mariadb_gtid_replicas_move_below_the_most_advanced_by_gtid() {
    let maria = |name, id, pos| {
        let mut i = at(server(name, id, Some("p")), pos);
        i.flavor_name = "MariaDB".into();
        i.version = "10.11.6-MariaDB".into();
        i.supports_oracle_gtid = false;
        i.using_oracle_gtid = false;
        i.using_mariadb_gtid = true;
        i.executed_gtid_set.clear();
        i.gtid_slave_pos = format!("0-1-{pos}");
        i
    };
    let mut p = dead(server("p", 1, None));
    p.flavor_name = "MariaDB".into();
    p.version = "10.11.6-MariaDB".into();
    let plan = plan_dm(&[p, maria("a", 2, 70), maria("b", 3, 120)], &RecoveryPolicy::default()).unwrap();
    assert_eq!(promoted(&plan), "b");
    assert_eq!(plan.moved, vec![(k("a"), k("b"), Mechanism::Gtid)]);
}

#[test]
fn a_newer_replica_loses_to_an_equal_one_every_other_replica_can_replicate_from() {
    let mut a = at(server("a", 2, Some("p")), 100);
    a.version = "8.4.3".into();
    let b = at(server("b", 3, Some("p")), 100);
    let c = at(server("c", 4, Some("p")), 100);
    let plan = plan_dm(&[dead(server("p", 1, None)), a, b, c], &RecoveryPolicy::default()).unwrap();
    assert_eq!(promoted(&plan), "b");
    assert_eq!(plan.new_source_of(&k("a")), Some(&k("b")), "an older source serves a newer replica");
}

#[test]
fn a_reachable_old_primary_is_fenced_first_with_super_read_only_and_must_succeed() {
    let all = [server("p", 1, None), at(server("a", 2, Some("p")), 100)];
    let policy = RecoveryPolicy { use_super_read_only: false, ..Default::default() };
    let plan = plan_dm(&all, &policy).unwrap();
    assert_eq!(plan.steps[0], RecoveryStep::FenceOldPrimary { on: k("p"), super_read_only: true, required: true });
}

#[test]
fn downtimed_and_maintenance_replicas_are_not_promoted() {
    let mut a = at(server("a", 2, Some("p")), 100);
    a.is_downtimed = true;
    let mut b = at(server("b", 3, Some("p")), 100);
    b.in_maintenance = true;
    let c = at(server("c", 4, Some("p")), 100);
    let plan = plan_dm(&[dead(server("p", 1, None)), a, b, c], &RecoveryPolicy::default()).unwrap();
    assert_eq!(promoted(&plan), "c");
    assert_eq!(plan.lost_keys(), vec![&k("b")], "a maintenance lock is respected, a downtime is not");
}

#[test]
fn a_verdict_that_is_not_a_dead_primary_plans_nothing() {
    let all = [server("p", 1, None), at(server("a", 2, Some("p")), 100)];
    let err = plan_dead_master(&Snapshot::new(all.iter(), chrono::Utc::now()), &verdict("p", AnalysisCode::UnreachableMaster), &RecoveryPolicy::default())
        .unwrap_err();
    assert!(matches!(err, RecoveryError::NotApplicable { .. }));
}

/// p <- im <- (x, y), p <- s1 (dc2, two replicas of its own... none), p <- s2 (dc1).
fn intermediate_topology() -> Vec<Instance> {
    let mut s1 = at(server("s1", 3, Some("p")), 100);
    s1.data_center = "dc2".into();
    vec![
        server("p", 1, None),
        dead(at(server("im", 2, Some("p")), 100)),
        s1,
        at(server("s2", 4, Some("p")), 100),
        at(server("x", 5, Some("im")), 100),
        at(server("y", 6, Some("im")), 90),
    ]
}

#[test]
fn dead_intermediate_primary_gtid_replicas_move_below_a_sibling_in_its_data_center() {
    let plan = plan_dim(&intermediate_topology()).unwrap();
    assert_eq!(plan.moved, vec![(k("x"), k("s2"), Mechanism::Gtid), (k("y"), k("s2"), Mechanism::Gtid)]);
    assert_eq!(promoted(&plan), "s2");
    assert!(plan.lost.is_empty());
    assert_eq!(plan.steps[1], RecoveryStep::Refactor(Step::ChangeSource { replica: k("x"), to: k("s2"), position: Position::Gtid }));
}

#[test]
fn dead_intermediate_primary_without_a_valid_sibling_moves_replicas_up_to_its_source() {
    let mut all = intermediate_topology();
    all.retain(|i| !i.key.hostname.starts_with('s'));
    let plan = plan_dim(&all).unwrap();
    assert_eq!(plan.new_source_of(&k("x")), Some(&k("p")));
    assert_eq!(promoted(&plan), "p");
}

#[test]
fn dead_intermediate_primary_replicas_without_gtid_are_lost() {
    let mut all = intermediate_topology();
    let y = all.iter_mut().find(|i| i.key == k("y")).unwrap();
    *y = file_pos(y.clone());
    let plan = plan_dim(&all).unwrap();
    assert_eq!(plan.lost_keys(), vec![&k("y")]);
    assert!(plan.lost[0].reason.contains("no GTID"), "{}", plan.lost[0].reason);
    for i in all.iter_mut().filter(|i| i.master_key == k("im")) {
        *i = file_pos(i.clone());
    }
    assert!(matches!(plan_dim(&all).unwrap_err(), RecoveryError::NothingMovable { .. }));
}

#[test]
fn policy_from_default_config_matches_orchestrators_defaults() {
    let p = RecoveryPolicy::from_config(&Config::default());
    let d = RecoveryPolicy::default();
    assert_eq!(
        (p.apply_mysql_promotion, p.detach_lost_replicas, p.fail_on_lag_minutes, p.relay_log_wait_seconds, p.prevent_cross_data_center),
        (d.apply_mysql_promotion, d.detach_lost_replicas, d.fail_on_lag_minutes, d.relay_log_wait_seconds, d.prevent_cross_data_center)
    );
    assert!(p.promotion_ignore.is_empty());
}

#[test]
fn a_dead_co_master_promotes_the_surviving_one_and_its_replicas_follow() {
    // p and q are co-masters (q read-only); a replicates from p.
    let p = dead(server("p", 1, Some("q")));
    let q = at(server("q", 2, Some("p")), 100);
    let a = at(server("a", 3, Some("p")), 100);
    let all = [p, q, a];
    let v = verdict("p", AnalysisCode::DeadCoMaster);
    let plan = plan_dead_co_master(&Snapshot::new(all.iter(), chrono::Utc::now()), &v, &RecoveryPolicy::default()).unwrap();
    assert_eq!(promoted(&plan), "q");
    assert_eq!(plan.moved, vec![(k("a"), k("q"), Mechanism::Gtid)]);
    let pos = |s: &RecoveryStep| plan.steps.iter().position(|x| x == s).unwrap();
    assert!(pos(&RecoveryStep::ApplyRelayLog { on: k("q"), timeout_seconds: 10 }) < pos(&RecoveryStep::SetWritable { on: k("q") }));
    assert_eq!(pos(&RecoveryStep::ResetReplicaAll { on: k("q") }), pos(&RecoveryStep::SetWritable { on: k("q") }) + 1);
    assert!(plan.candidacy.as_ref().unwrap().why.contains("surviving co-master"));

    // A replica of p that read more of p's binary log than q: promoting q would lose it.
    let ahead = [all[0].clone(), all[1].clone(), at(server("a", 3, Some("p")), 120)];
    let err = plan_dead_co_master(&Snapshot::new(ahead.iter(), chrono::Utc::now()), &v, &RecoveryPolicy::default()).unwrap_err();
    assert!(matches!(err, RecoveryError::WouldLoseData { .. }), "{err}");
    // A dead primary's verdict is not this plan's.
    let wrong = verdict("p", AnalysisCode::DeadMaster);
    assert!(plan_dead_co_master(&Snapshot::new(all.iter(), chrono::Utc::now()), &wrong, &RecoveryPolicy::default()).is_err());
}
