//! Every classic code on hand-built snapshots. Cases named `fixture_*` apply the same changes as
//! orchestrator's `tests/integration/analysis-*` fixtures to the same topology and expect the
//! same output lines; the others cover the codes those fixtures do not reach, and the order in
//! which the rules are tried.

use super::producible;
use crate::analysis::fixture::*;
use crate::analysis::{AnalysisSettings, Hints};
use app::model::analysis::AnalysisCode::{self, *};
use app::model::{BinlogCoordinates, Instance, NullInt64};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Applies `change` to the fixture topology and returns the CLI's lines.
fn run(change: impl FnOnce(&mut Vec<Instance>)) -> Vec<String> {
    let t = now();
    let mut all = topology(t);
    change(&mut all);
    lines(&analysis(&all, t))
}

fn line(port: u16, what: &str) -> String {
    format!("testhost:{port} (cluster {CLUSTER}): {what}")
}

/// The code of `port`'s entry after `change`.
fn code_of(port: u16, settings: &AnalysisSettings, change: impl FnOnce(&mut Vec<Instance>)) -> AnalysisCode {
    let t = now();
    let mut all = topology(t);
    change(&mut all);
    let hints = Hints { include_downtimed: true, include_no_problem: true };
    entry_of(&analysis_with(&all, t, settings, hints), port).analysis
}

fn code(port: u16, change: impl FnOnce(&mut Vec<Instance>)) -> AnalysisCode {
    code_of(port, &AnalysisSettings::default(), change)
}

fn on(all: &mut [Instance], ports: &[u16], f: fn(&mut Instance)) {
    for p in ports {
        f(at(all, *p));
    }
}

/// A second replica under the intermediate primary 22294.
fn add_second_im_replica(all: &mut Vec<Instance>) {
    let mut r = at(all, 22295).clone();
    r.key = key(22298);
    all.push(r);
    at(all, 22294).replicas.push(key(22298));
}

/// 22293 and 22294 replicate from each other (22295, 22296, 22297 as before).
fn co_masters(all: &mut [Instance]) {
    let a = at(all, 22293);
    a.master_key = key(22294);
    a.is_co_master = true;
    a.replication_io_thread_running = true;
    a.replication_sql_thread_running = true;
    at(all, 22294).is_co_master = true;
}

/// Only the primary and 22294 (which keeps its replica 22295).
fn single_replica(all: &mut Vec<Instance>) {
    all.retain(|i| i.key.port != 22296 && i.key.port != 22297);
}

// ---- orchestrator's fixtures ----------------------------------------------------------------

#[test]
fn fixture_no_failure() {
    assert!(run(|_| {}).is_empty());
}

#[test]
fn fixture_dead_master() {
    let got = run(|a| {
        on(a, &[22294, 22296, 22297], io_stopped);
        unreachable(at(a, 22293));
    });
    assert_eq!(got, [line(22293, "DeadMaster")]);
}

#[test]
fn fixture_dead_master_partial_success() {
    let t = now();
    let mut all = topology(t);
    on(&mut all, &[22294, 22296, 22297], io_stopped);
    unreachable(at(&mut all, 22293));
    let mut snapshot = crate::analysis::Snapshot::new(all.iter(), t);
    snapshot.partial_success.insert(key(22293));
    let got = crate::analysis::analyze(&snapshot, &AnalysisSettings::default(), Hints::default());
    assert_eq!(lines(&got), [line(22293, "DeadMaster")]);
    assert!(got[0].last_check_partial_success);
}

#[test]
fn fixture_dead_master_and_some_replicas() {
    let got = run(|a| {
        on(a, &[22294, 22296, 22297], io_stopped);
        on(a, &[22293, 22296, 22297], unreachable);
    });
    assert_eq!(got, [line(22293, "DeadMasterAndSomeReplicas")]);
}

#[test]
fn fixture_all_master_replicas_not_replicating() {
    let got = run(|a| on(a, &[22294, 22296, 22297], sql_stopped));
    assert_eq!(got, [line(22293, "AllMasterReplicasNotReplicating")]);
}

#[test]
fn fixture_all_master_replicas_not_replicating_or_dead() {
    let got = run(|a| {
        on(a, &[22294, 22296, 22297], sql_stopped);
        on(a, &[22296, 22297], unreachable);
    });
    assert_eq!(got, [line(22293, "AllMasterReplicasNotReplicatingOrDead")]);
}

#[test]
fn fixture_dead_intermediate_master_and_replicas() {
    let got = run(|a| on(a, &[22295, 22294], unreachable));
    assert_eq!(got, [line(22294, "DeadIntermediateMasterAndReplicas")]);
}

#[test]
fn fixture_dead_intermediate_master_with_single_replica_failing_to_connect() {
    let got = run(|a| {
        failing_to_connect(at(a, 22295));
        unreachable(at(a, 22294));
    });
    assert_eq!(got, [line(22294, "DeadIntermediateMasterWithSingleReplicaFailingToConnect")]);
}

#[test]
fn fixture_dead_intermediate_master_with_single_replica() {
    let got = run(|a| {
        io_stopped(at(a, 22295));
        unreachable(at(a, 22294));
    });
    assert_eq!(got, [line(22294, "DeadIntermediateMasterWithSingleReplica")]);
}

#[test]
fn fixture_first_tier_replica_failing_to_connect() {
    let got = run(|a| failing_to_connect(at(a, 22294)));
    assert_eq!(got, [line(22294, "FirstTierReplicaFailingToConnectToMaster")]);
}

#[test]
fn fixture_unreachable_master() {
    assert_eq!(run(|a| unreachable(at(a, 22293))), [line(22293, "UnreachableMaster")]);
}

#[test]
fn fixture_unreachable_master_not_lagging_replicas() {
    let got = run(|a| {
        unreachable(at(a, 22293));
        on(a, &[22295, 22296, 22297], |i| i.replication_lag_seconds = NullInt64::some(60));
    });
    assert_eq!(got, [line(22293, "UnreachableMaster")]);
}

#[test]
fn fixture_unreachable_master_partial_success() {
    let t = now();
    let mut all = topology(t);
    unreachable(at(&mut all, 22293));
    let mut snapshot = crate::analysis::Snapshot::new(all.iter(), t);
    snapshot.partial_success.insert(key(22293));
    assert!(crate::analysis::analyze(&snapshot, &AnalysisSettings::default(), Hints::default()).is_empty());
}

#[test]
fn fixture_unreachable_master_partial_success_broken_replica() {
    let t = now();
    let mut all = topology(t);
    unreachable(at(&mut all, 22293));
    failing_to_connect(at(&mut all, 22294));
    let mut snapshot = crate::analysis::Snapshot::new(all.iter(), t);
    snapshot.partial_success.insert(key(22293));
    let got = crate::analysis::analyze(&snapshot, &AnalysisSettings::default(), Hints::default());
    assert_eq!(lines(&got), [line(22293, "UnreachableMaster"), line(22294, "FirstTierReplicaFailingToConnectToMaster")]);
}

#[test]
fn fixture_unreachable_master_with_delayed_replicas() {
    let got = run(|a| {
        unreachable(at(a, 22293));
        on(a, &[22294, 22296, 22297], |i| {
            i.replication_lag_seconds = NullInt64::some(600);
            i.sql_delay = 600;
        });
    });
    assert_eq!(got, [line(22293, "UnreachableMaster")]);
}

#[test]
fn fixture_unreachable_master_with_lagging_replicas_and_delayed_replicas() {
    let got = run(|a| {
        unreachable(at(a, 22293));
        on(a, &[22294, 22296, 22297], |i| i.replication_lag_seconds = NullInt64::some(600));
        at(a, 22297).sql_delay = 600;
    });
    assert_eq!(got, [line(22293, "UnreachableMasterWithLaggingReplicas")]);
}

#[test]
fn fixture_unreachable_master_with_lagging_replicas() {
    let got = run(|a| {
        unreachable(at(a, 22293));
        on(a, &[22294, 22296, 22297], |i| i.replication_lag_seconds = NullInt64::some(60));
    });
    assert_eq!(got, [line(22293, "UnreachableMasterWithLaggingReplicas")]);
}

#[test]
fn fixture_unreachable_intermediate_master() {
    assert_eq!(run(|a| unreachable(at(a, 22294))), [line(22294, "UnreachableIntermediateMaster")]);
}

#[test]
fn fixture_unreachable_intermediate_master_with_lagging_replicas() {
    let got = run(|a| {
        unreachable(at(a, 22294));
        at(a, 22295).replication_lag_seconds = NullInt64::some(60);
    });
    assert_eq!(got, [line(22294, "UnreachableIntermediateMasterWithLaggingReplicas")]);
}

#[test]
fn fixture_unreachable_intermediate_master_partial_success() {
    let t = now();
    let mut all = topology(t);
    unreachable(at(&mut all, 22294));
    let mut snapshot = crate::analysis::Snapshot::new(all.iter(), t);
    snapshot.partial_success.insert(key(22294));
    assert!(crate::analysis::analyze(&snapshot, &AnalysisSettings::default(), Hints::default()).is_empty());
}

#[test]
fn fixture_all_intermediate_master_replicas_not_replicating() {
    let got = run(|a| sql_stopped(at(a, 22295)));
    assert_eq!(got, [line(22294, "AllIntermediateMasterReplicasNotReplicating")]);
}

#[test]
fn fixture_semi_sync_locked_master_hypothesis_and_locked() {
    for (first_seen_ago, expected) in [(0, "LockedSemiSyncMasterHypothesis"), (60, "LockedSemiSyncMaster")] {
        let t = now();
        let mut all = topology(t);
        let m = at(&mut all, 22293);
        m.semi_sync_master_enabled = true;
        m.semi_sync_master_status = true;
        m.semi_sync_master_wait_for_replica_count = 2;
        m.semi_sync_master_clients = 1;
        m.self_binlog_coordinates = BinlogCoordinates::binlog("mysql-bin.000167", 137086726);
        unreachable(at(&mut all, 22296));
        let mut snapshot = crate::analysis::Snapshot::new(all.iter(), t);
        let since = t - chrono::Duration::seconds(first_seen_ago);
        let frozen = crate::analysis::FrozenCoordinates { coordinates: BinlogCoordinates::binlog("mysql-bin.000167", 137086726), since };
        snapshot.frozen_coordinates.insert(key(22293), frozen);
        let got = crate::analysis::analyze(&snapshot, &AnalysisSettings::default(), Hints::default());
        assert_eq!(lines(&got), [line(22293, expected)]);
    }
}

// ---- codes no fixture reaches ------------------------------------------------------------

#[test]
fn dead_master_without_replicas() {
    let got = run(|a| {
        a.truncate(1);
        unreachable(at(a, 22293));
    });
    assert_eq!(got, [line(22293, "DeadMasterWithoutReplicas")]);
}

#[test]
fn dead_master_and_replicas() {
    assert_eq!(code(22293, |a| on(a, &[22293, 22294, 22296, 22297], unreachable)), DeadMasterAndReplicas);
}

#[test]
fn master_with_too_many_semi_sync_replicas_only_when_enforcing() {
    let semi = |a: &mut Vec<Instance>| {
        let m = at(a, 22293);
        m.semi_sync_master_enabled = true;
        m.semi_sync_master_status = true;
        m.semi_sync_master_wait_for_replica_count = 1;
        m.semi_sync_master_clients = 3;
    };
    let enforcing = AnalysisSettings { enforce_exact_semi_sync_replicas: true, ..Default::default() };
    assert_eq!(code_of(22293, &enforcing, semi), MasterWithTooManySemiSyncReplicas);
    assert_eq!(code(22293, semi), NoProblem);
}

#[test]
fn read_only_master_is_a_code_only_with_recover_non_writeable_master() {
    let recovering = AnalysisSettings { recover_non_writeable_master: true, ..Default::default() };
    assert_eq!(code_of(22293, &recovering, |a| at(a, 22293).read_only = true), NoWriteableMasterStructureWarning);
    assert_eq!(code(22293, |a| at(a, 22293).read_only = true), NoProblem);
}

#[test]
fn master_single_replica_not_replicating_and_dead() {
    assert_eq!(
        code(22293, |a| {
            single_replica(a);
            sql_stopped(at(a, 22294));
        }),
        MasterSingleReplicaNotReplicating
    );
    assert_eq!(
        code(22293, |a| {
            single_replica(a);
            unreachable(at(a, 22294));
        }),
        MasterSingleReplicaDead
    );
}

#[test]
fn co_master_codes() {
    let dead = |a: &mut Vec<Instance>| {
        co_masters(a);
        unreachable(at(a, 22293));
        on(a, &[22294, 22296, 22297], io_stopped);
    };
    assert_eq!(code(22293, dead), DeadCoMaster);
    assert_eq!(
        code(22293, |a| {
            dead(a);
            unreachable(at(a, 22296));
        }),
        DeadCoMasterAndSomeReplicas
    );
    assert_eq!(
        code(22293, |a| {
            co_masters(a);
            unreachable(at(a, 22293));
        }),
        UnreachableCoMaster
    );
    assert_eq!(
        code(22293, |a| {
            co_masters(a);
            on(a, &[22294, 22296, 22297], sql_stopped);
        }),
        AllCoMasterReplicasNotReplicating
    );
}

#[test]
fn dead_intermediate_master_with_several_replicas() {
    assert_eq!(
        code(22294, |a| {
            add_second_im_replica(a);
            on(a, &[22295, 22298], io_stopped);
            unreachable(at(a, 22294));
        }),
        DeadIntermediateMaster
    );
    assert_eq!(
        code(22294, |a| {
            add_second_im_replica(a);
            io_stopped(at(a, 22295));
            on(a, &[22294, 22298], unreachable);
        }),
        DeadIntermediateMasterAndSomeReplicas
    );
}

#[test]
fn all_intermediate_master_replicas_failing_to_connect_or_dead() {
    assert_eq!(
        code(22294, |a| {
            add_second_im_replica(a);
            failing_to_connect(at(a, 22295));
            unreachable(at(a, 22298));
        }),
        AllIntermediateMasterReplicasFailingToConnectOrDead
    );
}

#[test]
fn binlog_server_failing_to_connect_comes_before_first_tier() {
    assert_eq!(
        code(22294, |a| {
            at(a, 22294).flavor_name = "MaxScale".into();
            failing_to_connect(at(a, 22294));
        }),
        BinlogServerFailingToConnectToMaster
    );
}

#[test]
fn dead_replication_group_member_with_replicas() {
    let group = |a: &mut Vec<Instance>| {
        let m = at(a, 22293);
        m.replication_group_name = "8a94f357-aab4-11df-86ab-c80aa9429562".into();
        m.replication_group_member_state = "ONLINE".into();
        m.replication_group_member_role = "PRIMARY".into();
        unreachable(m);
    };
    assert_eq!(
        code(22293, |a| {
            group(a);
            on(a, &[22294, 22296, 22297], io_stopped);
        }),
        DeadReplicationGroupMemberWithReplicas
    );
    // A group member never gets the classic codes: replicating replicas leave it NoProblem.
    assert_eq!(code(22293, group), NoProblem);
}

#[test]
fn every_producible_code_has_a_case_here() {
    let source = include_str!("codes_tests.rs");
    for c in producible() {
        let named = regex::Regex::new(&format!(r"\b{c}\b")).unwrap();
        assert!(named.is_match(source), "no test case expects {c}");
    }
}

// ---- first matching rule wins ------------------------------------------------------------

#[test]
fn without_replicas_wins_over_dead_master() {
    // Zero replicas also satisfy DeadMaster's "all valid, none replicating".
    assert_eq!(
        code(22293, |a| {
            a.truncate(1);
            unreachable(at(a, 22293));
        }),
        DeadMasterWithoutReplicas
    );
}

#[test]
fn lagging_wins_over_plain_unreachable() {
    let lagging = |a: &mut Vec<Instance>| {
        unreachable(at(a, 22293));
        on(a, &[22294, 22296, 22297], |i| i.replication_lag_seconds = NullInt64::some(60));
    };
    assert_eq!(code(22293, lagging), UnreachableMasterWithLaggingReplicas);
}

#[test]
fn dead_master_wins_over_locked_semi_sync() {
    assert_eq!(
        code(22293, |a| {
            let m = at(a, 22293);
            m.semi_sync_master_enabled = true;
            m.semi_sync_master_status = true;
            m.semi_sync_master_wait_for_replica_count = 2;
            unreachable(m);
            on(a, &[22294, 22296, 22297], io_stopped);
        }),
        DeadMaster
    );
}

#[test]
fn locked_semi_sync_wins_over_replicas_not_replicating() {
    assert_eq!(
        code(22293, |a| {
            let m = at(a, 22293);
            m.semi_sync_master_enabled = true;
            m.semi_sync_master_status = true;
            m.semi_sync_master_wait_for_replica_count = 2;
            on(a, &[22294, 22296, 22297], io_stopped);
        }),
        LockedSemiSyncMasterHypothesis
    );
}

#[test]
fn too_many_semi_sync_replicas_wins_over_read_only_master() {
    let both = AnalysisSettings { enforce_exact_semi_sync_replicas: true, recover_non_writeable_master: true, ..Default::default() };
    assert_eq!(
        code_of(22293, &both, |a| {
            let m = at(a, 22293);
            m.read_only = true;
            m.semi_sync_master_enabled = true;
            m.semi_sync_master_status = true;
            m.semi_sync_master_wait_for_replica_count = 1;
            m.semi_sync_master_clients = 3;
        }),
        MasterWithTooManySemiSyncReplicas
    );
}

#[test]
fn failing_to_connect_single_replica_wins_over_plain_single_replica() {
    // Both rules match a single valid, failing, non-replicating replica.
    assert_eq!(
        code(22294, |a| {
            failing_to_connect(at(a, 22295));
            unreachable(at(a, 22294));
        }),
        DeadIntermediateMasterWithSingleReplicaFailingToConnect
    );
}

#[test]
fn replicas_failing_to_connect_wins_over_not_replicating() {
    assert_eq!(
        code(22294, |a| {
            add_second_im_replica(a);
            on(a, &[22295, 22298], failing_to_connect);
        }),
        AllIntermediateMasterReplicasFailingToConnectOrDead
    );
}

#[test]
fn dead_co_master_wins_over_dead_intermediate_master() {
    // A co-master is not a primary: the intermediate rules would match too, later.
    assert_eq!(
        code(22293, |a| {
            co_masters(a);
            unreachable(at(a, 22293));
            on(a, &[22294, 22296, 22297], io_stopped);
        }),
        DeadCoMaster
    );
}

// ---- holistic: dead only when the replicas agree -------------------------------------------

#[test]
fn unreachable_primary_is_dead_only_once_every_replica_lost_it() {
    let t = now();
    let mut all = topology(t);
    unreachable(at(&mut all, 22293));
    let verdict = |all: &[Instance]| entry_of(&analysis(all, t), 22293).clone();
    assert_eq!(verdict(&all).analysis, UnreachableMaster, "replicas still replicate: only our path is cut");
    failing_to_connect(at(&mut all, 22294));
    failing_to_connect(at(&mut all, 22296));
    assert_eq!(verdict(&all).analysis, UnreachableMaster, "22297 still replicates from it");
    failing_to_connect(at(&mut all, 22297));
    let dead = verdict(&all);
    assert_eq!(dead.analysis, DeadMaster);
    assert!(dead.is_actionable_recovery);
    assert_eq!(dead.count_replicas_failing_to_connect_to_master, 3);
    assert!(dead.inputs.contains(&"3 of 3 reachable replicas cannot connect to the primary".to_string()), "{:?}", dead.inputs);
    assert!(dead.inputs.contains(&"0 of 3 reachable replicas replicate from it".to_string()), "{:?}", dead.inputs);
    assert!(dead.inputs[1].starts_with("its last probe failed (last answered 60s ago)"), "{:?}", dead.inputs);
}

#[test]
fn a_probe_that_hangs_makes_the_check_invalid() {
    let settings = AnalysisSettings::default(); // 5 s polls + 1 s
    let t = now();
    let mut all = topology(t);
    // Answered 7 s ago, nothing since: a probe is stuck on it.
    at(&mut all, 22293).last_seen = Some(t - chrono::Duration::seconds(7));
    let got = analysis_with(&all, t, &settings, Hints::default());
    let e = entry_of(&got, 22293);
    assert_eq!(e.analysis, UnreachableMaster);
    assert!(!e.last_check_valid);
    assert!(e.inputs[1].starts_with("no probe of it has completed for 7.0s"), "{:?}", e.inputs);
    // 5 s is within the poll interval: fine.
    at(&mut all, 22293).last_seen = Some(t - chrono::Duration::seconds(5));
    assert!(analysis_with(&all, t, &settings, Hints::default()).is_empty());
}

#[test]
fn mysql_8_connect_errors_count_as_failing_to_connect() {
    let t = now();
    let mut all = topology(t);
    for p in [22294, 22296, 22297] {
        let r = at(&mut all, p);
        failing_to_connect(r);
        r.last_io_error = "Error reconnecting to source 'repl@testhost:22293'. This was attempt 2/86400, with a delay of 1 seconds between attempts. Message: Can't connect".into();
    }
    unreachable(at(&mut all, 22293));
    let e = analysis(&all, t).into_iter().next().unwrap();
    assert_eq!((e.analysis, e.count_replicas_failing_to_connect_to_master), (DeadMaster, 3));
    // No error text reaches the inputs (it names the replication account).
    assert!(e.inputs.iter().all(|i| !i.contains("repl@")), "{:?}", e.inputs);
}

#[test]
fn maintenance_excludes_the_server_from_analysis() {
    let t = now();
    let mut all = topology(t);
    unreachable(at(&mut all, 22293));
    let mut snapshot = crate::analysis::Snapshot::new(all.iter(), t);
    snapshot.in_maintenance = BTreeSet::from([key(22293)]);
    assert!(crate::analysis::analyze(&snapshot, &AnalysisSettings::default(), Hints::default()).is_empty());
}
