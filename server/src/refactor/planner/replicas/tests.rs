//! Plans of the several-replica operations on hand-made topologies: which parts, which steps,
//! in which order, and which rule refuses.

use super::*;
use crate::refactor::planner;
use app::model::NullInt64;
use std::collections::BTreeMap;

fn k(n: &str) -> InstanceKey {
    InstanceKey::new(n, 3306)
}

/// A MySQL 9 server replicating by binlog coordinates from `master`, healthy.
fn server(name: &str, id: u32, master: Option<&str>) -> Instance {
    let mut i = Instance::unseen(k(name));
    i.server_id = id;
    i.version = "9.7.4".into();
    i.flavor_name = "MySQL".into();
    i.log_bin_enabled = true;
    i.log_replication_updates_enabled = true;
    i.binlog_format = "ROW".into();
    i.is_last_check_valid = true;
    i.is_recently_checked = true;
    if let Some(m) = master {
        i.master_key = k(m);
        i.read_only = true;
        i.replication_io_thread_running = true;
        i.replication_sql_thread_running = true;
        i.replication_lag_seconds = NullInt64::some(0);
    }
    i
}

/// Every server on Oracle GTID; replicas auto-positioned.
fn with_gtid(mut all: Vec<Instance>) -> Vec<Instance> {
    for i in all.iter_mut() {
        i.supports_oracle_gtid = true;
        i.gtid_mode = "ON".into();
        i.using_oracle_gtid = i.is_replica();
    }
    all
}

fn planned(op: Operation, all: &[Instance]) -> Result<Plan, Refusal> {
    let view: BTreeMap<InstanceKey, Instance> = all.iter().map(|i| (i.key.clone(), i.clone())).collect();
    let plan = planner::plan(&op, &view, &RuleSettings::default());
    if let Ok(p) = &plan {
        // Every plan renders (dry run) with a statement for each step.
        let rendered = p.render(&view);
        assert!(rendered.steps.iter().all(|s| !s.statements.is_empty()), "{rendered:?}");
    }
    plan
}

fn rule(result: Result<Plan, Refusal>) -> Rule {
    result.expect_err("refused").rule
}

fn stop(n: &str) -> Step {
    Step::StopReplica { on: k(n) }
}

fn start(n: &str) -> Step {
    Step::StartReplica { on: k(n) }
}

fn change(r: &str, to: &str, position: Position) -> Step {
    Step::ChangeSource { replica: k(r), to: k(to), position }
}

fn gtid_move(r: &str, to: &str) -> Vec<Step> {
    vec![stop(r), change(r, to, Position::Gtid), start(r)]
}

fn move_up_part(r: &str, parent: &str, to: &str) -> Vec<Step> {
    vec![
        stop(parent),
        stop(r),
        Step::CatchUpWithSource { replica: k(r), source: k(parent) },
        change(r, to, Position::ExecOf(k(parent))),
        start(r),
    ]
}

fn move_below_part(r: &str, sibling: &str) -> Vec<Step> {
    vec![
        stop(r),
        stop(sibling),
        Step::AlignSiblings { a: k(r), b: k(sibling) },
        change(r, sibling, Position::BinlogOf(k(sibling))),
        start(sibling),
        start(r),
    ]
}

/// p <- a <- {c, d}; p <- b
fn tree() -> Vec<Instance> {
    vec![server("p", 1, None), server("a", 2, Some("p")), server("b", 3, Some("p")), server("c", 4, Some("a")), server("d", 5, Some("a"))]
}

mod relocate_replicas {
    use super::*;

    fn op(i: &str, t: &str, pattern: Option<&str>) -> Operation {
        Operation::RelocateReplicas { instance: k(i), target: k(t), pattern: pattern.map(String::from) }
    }

    #[test]
    fn onto_their_own_source_is_a_repoint_of_each() {
        let plan = planned(op("a", "a", None), &tree()).unwrap();
        assert_eq!(plan.mechanism, Some(Mechanism::Repoint));
        assert_eq!(
            plan.parts,
            vec![
                vec![stop("c"), change("c", "a", Position::SameExec), start("c")],
                vec![stop("d"), change("d", "a", Position::SameExec), start("d")],
            ]
        );
    }

    #[test]
    fn up_to_the_grandparent_stops_the_source_once_and_restarts_it_last() {
        let plan = planned(op("a", "p", None), &tree()).unwrap();
        assert_eq!(plan.mechanism, Some(Mechanism::MoveUp));
        assert_eq!(plan.parts, vec![move_up_part("c", "a", "p"), move_up_part("d", "a", "p"), vec![start("a")]]);
    }

    #[test]
    fn gtid_replicas_move_first_and_anywhere() {
        let mut all = tree();
        all[3].supports_oracle_gtid = true;
        all[3].using_oracle_gtid = true;
        all[0].supports_oracle_gtid = true;
        let plan = planned(op("a", "p", None), &all).unwrap();
        assert_eq!(plan.mechanism, None, "mixed mechanisms");
        assert_eq!(plan.parts, vec![gtid_move("c", "p"), move_up_part("d", "a", "p"), vec![start("a")]]);

        let all = with_gtid(tree());
        let plan = planned(op("a", "b", None), &all).unwrap();
        assert_eq!(plan.mechanism, Some(Mechanism::Gtid));
        assert_eq!(plan.parts, vec![gtid_move("c", "b"), gtid_move("d", "b")]);
    }

    #[test]
    fn a_pattern_selects_replicas_by_host_and_port() {
        let all = with_gtid(tree());
        let plan = planned(op("a", "b", Some("^c:3306$")), &all).unwrap();
        assert_eq!(plan.parts, vec![gtid_move("c", "b")]);
        assert_eq!(rule(planned(op("a", "b", Some("nomatch")), &all)), Rule::NoReplicas);
        assert_eq!(rule(planned(op("a", "b", Some("(")), &all)), Rule::InvalidPattern);
        assert_eq!(rule(planned(op("c", "b", None), &all)), Rule::NoReplicas, "c has no replicas");
    }

    #[test]
    fn one_replica_that_may_not_move_refuses_all_and_names_each() {
        // Without GTID, cousins are too far apart.
        let refusal = planned(op("a", "b", None), &tree()).unwrap_err();
        assert_eq!(refusal.rule, Rule::TooComplex);
        assert!(refusal.message.contains("c:3306") && refusal.message.contains("d:3306"), "{refusal}");

        let mut all = with_gtid(tree());
        all[4].supports_oracle_gtid = false;
        all[4].using_oracle_gtid = false;
        all[4].replication_lag_seconds = NullInt64::some(500);
        let refusal = planned(op("a", "b", None), &all).unwrap_err();
        assert_eq!(refusal.rule, Rule::TooComplex);
        assert!(refusal.message.contains("d:3306") && !refusal.message.contains("c:3306"), "{refusal}");
        assert!(refusal.message.contains("1 others could move"), "{refusal}");
    }

    #[test]
    fn not_below_one_of_the_moved_replicas() {
        let mut all = with_gtid(tree());
        all.push(server("e", 6, Some("c")));
        let all = with_gtid(all);
        assert_eq!(rule(planned(op("a", "e", None), &all)), Rule::Descendant);
        // The target itself, a replica of the instance, is left where it is.
        let plan = planned(op("a", "c", None), &all).unwrap();
        assert_eq!(plan.parts, vec![gtid_move("d", "c")]);
    }

    #[test]
    fn below_a_sibling_each_is_aligned_with_it() {
        let plan = planned(op("a", "c", None), &tree()).unwrap();
        assert_eq!(plan.mechanism, Some(Mechanism::MoveBelow));
        assert_eq!(plan.parts, vec![move_below_part("d", "c")]);
    }

    #[test]
    fn a_co_master_is_not_one_of_the_replicas_moved() {
        // p <-> a co-masters, c and d below a.
        let mut all = with_gtid(tree());
        all[0].master_key = k("a");
        all[0].using_oracle_gtid = true;
        let plan = planned(op("a", "b", None), &all).unwrap();
        assert_eq!(plan.parts, vec![gtid_move("c", "b"), gtid_move("d", "b")]);
        let refusal = planned(Operation::TakeSiblings { instance: k("b") }, &all).unwrap_err();
        assert_eq!(refusal.rule, Rule::NoReplicas, "p's replicas are a, its co-master, and b: b has no sibling to take");
        all[3].master_key = k("p");
        all[4].master_key = k("p");
        let view = Family::new(all.iter());
        assert_eq!(candidate(&view, &k("p"), &RuleSettings::default()).map(|c| c != k("a")), Ok(true), "the co-master is no candidate");
    }

    #[test]
    fn unknown_instances_are_refused() {
        assert_eq!(rule(planned(op("zz", "p", None), &tree())), Rule::UnknownInstance);
        assert_eq!(rule(planned(op("a", "zz", None), &tree())), Rule::UnknownInstance);
    }
}

mod move_up_replicas {
    use super::*;

    fn op(i: &str) -> Operation {
        Operation::MoveUpReplicas { instance: k(i) }
    }

    #[test]
    fn with_coordinates_each_replica_is_its_own_part_and_the_source_restarts_last() {
        let plan = planned(op("a"), &tree()).unwrap();
        assert_eq!(plan.mechanism, Some(Mechanism::MoveUp));
        assert_eq!(plan.parts, vec![move_up_part("c", "a", "p"), move_up_part("d", "a", "p"), vec![start("a")]]);
    }

    #[test]
    fn gtid_replicas_just_move_and_the_source_is_not_stopped() {
        let plan = planned(op("a"), &with_gtid(tree())).unwrap();
        assert_eq!(plan.mechanism, Some(Mechanism::Gtid));
        assert_eq!(plan.parts, vec![gtid_move("c", "p"), gtid_move("d", "p")]);
        assert!(plan.steps().all(|s| s.server() != &k("a")));
    }

    #[test]
    fn refusals() {
        assert_eq!(rule(planned(op("p"), &tree())), Rule::NotReplica);
        assert_eq!(rule(planned(op("b"), &tree())), Rule::NoReplicas);
        let mut all = tree();
        all[1].replication_lag_seconds = NullInt64::some(300);
        assert_eq!(rule(planned(op("a"), &all)), Rule::Lagging, "the source itself lags");
        let mut all = tree();
        all[3].replication_sql_thread_running = false;
        let refusal = planned(op("a"), &all).unwrap_err();
        assert_eq!(refusal.rule, Rule::NotReplicating);
        assert!(refusal.message.contains("c:3306"), "{refusal}");
        let mut all = tree();
        all[0].log_bin_enabled = false;
        assert_eq!(rule(planned(op("a"), &all)), Rule::NoBinaryLogs);
    }
}

mod move_replicas_gtid {
    use super::*;

    fn op(i: &str, t: &str) -> Operation {
        Operation::MoveReplicasGtid { instance: k(i), target: k(t) }
    }

    #[test]
    fn every_replica_by_gtid() {
        let plan = planned(op("a", "b"), &with_gtid(tree())).unwrap();
        assert_eq!(plan.mechanism, Some(Mechanism::Gtid));
        assert_eq!(plan.parts, vec![gtid_move("c", "b"), gtid_move("d", "b")]);
        let plan = planned(op("a", "c"), &with_gtid(tree())).unwrap();
        assert_eq!(plan.parts, vec![gtid_move("d", "c")], "the target stays");
    }

    #[test]
    fn refused_without_gtid_or_when_the_target_purged_what_a_replica_needs() {
        assert_eq!(rule(planned(op("a", "b"), &tree())), Rule::NoGtid);
        let u = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
        let mut all = with_gtid(tree());
        all[2].executed_gtid_set = format!("{u}:1-100");
        all[2].gtid_purged = format!("{u}:1-50");
        all[3].executed_gtid_set = format!("{u}:1-90");
        all[4].executed_gtid_set = format!("{u}:1-40");
        let refusal = planned(op("a", "b"), &all).unwrap_err();
        assert_eq!(refusal.rule, Rule::PurgedGtids);
        assert!(refusal.message.contains("d:3306") && !refusal.message.contains("c:3306:"), "{refusal}");
        assert_eq!(rule(planned(op("p", "c"), &with_gtid(tree()))), Rule::Descendant);
    }
}

mod repoint_replicas {
    use super::*;

    #[test]
    fn each_replica_at_its_own_coordinates() {
        let plan = planned(Operation::RepointReplicas { instance: k("p") }, &tree()).unwrap();
        assert_eq!(plan.mechanism, Some(Mechanism::Repoint));
        assert_eq!(
            plan.parts,
            vec![
                vec![stop("a"), change("a", "p", Position::SameExec), start("a")],
                vec![stop("b"), change("b", "p", Position::SameExec), start("b")],
            ]
        );
        let plan = planned(Operation::RepointReplicas { instance: k("a") }, &with_gtid(tree())).unwrap();
        assert_eq!(plan.parts[0], vec![stop("c"), change("c", "a", Position::Gtid), start("c")]);
    }

    #[test]
    fn refusals() {
        let mut all = tree();
        all[1].log_replication_updates_enabled = false;
        assert_eq!(rule(planned(Operation::RepointReplicas { instance: k("a") }, &all)), Rule::NoLogReplicaUpdates);
        assert_eq!(rule(planned(Operation::RepointReplicas { instance: k("c") }, &all)), Rule::NoReplicas);
    }
}

mod take_siblings {
    use super::*;

    fn op(i: &str) -> Operation {
        Operation::TakeSiblings { instance: k(i) }
    }

    #[test]
    fn siblings_move_below_by_alignment_or_gtid() {
        let plan = planned(op("b"), &tree()).unwrap();
        assert_eq!(plan.mechanism, Some(Mechanism::MoveBelow));
        assert_eq!(plan.parts, vec![move_below_part("a", "b")]);
        let mut all = tree();
        all.push(server("e", 6, Some("p")));
        let plan = planned(op("e"), &with_gtid(all)).unwrap();
        assert_eq!(plan.parts, vec![gtid_move("a", "e"), gtid_move("b", "e")]);
    }

    #[test]
    fn refusals() {
        assert_eq!(rule(planned(op("p"), &tree())), Rule::NotReplica);
        let all = vec![server("p", 1, None), server("a", 2, Some("p"))];
        assert_eq!(rule(planned(op("a"), &all)), Rule::NoReplicas);
        let mut all = tree();
        all[2].log_bin_enabled = false;
        assert_eq!(rule(planned(op("b"), &all)), Rule::NoBinaryLogs);
    }
}

mod take_master {
    use super::*;

    fn op(i: &str) -> Operation {
        Operation::TakeMaster { instance: k(i) }
    }

    #[test]
    fn with_coordinates_the_replica_catches_up_then_both_change_and_the_demoted_starts_first() {
        let plan = planned(op("c"), &tree()).unwrap();
        assert_eq!(plan.mechanism, Some(Mechanism::MoveUp));
        assert_eq!(
            plan.parts,
            vec![vec![
                stop("a"),
                stop("c"),
                Step::CatchUpWithSource { replica: k("c"), source: k("a") },
                change("c", "p", Position::ExecOf(k("a"))),
                change("a", "c", Position::BinlogOf(k("c"))),
                start("a"),
                start("c"),
            ]]
        );
    }

    #[test]
    fn with_gtid_no_alignment_is_needed() {
        let plan = planned(op("c"), &with_gtid(tree())).unwrap();
        assert_eq!(plan.mechanism, Some(Mechanism::Gtid));
        assert_eq!(
            plan.parts,
            vec![vec![stop("a"), stop("c"), change("c", "p", Position::Gtid), change("a", "c", Position::Gtid), start("a"), start("c")]]
        );
    }

    #[test]
    fn a_primary_or_a_co_master_is_not_taken() {
        let refusal = planned(op("a"), &tree()).unwrap_err();
        assert_eq!(refusal.rule, Rule::ClusterPrimary);
        assert!(refusal.message.contains("graceful-master-takeover"), "{refusal}");
        // p <-> a co-masters, c below a
        let mut all = tree();
        all[0].master_key = k("a");
        all[0].is_co_master = true;
        all[1].is_co_master = true;
        assert_eq!(rule(planned(op("c"), &all)), Rule::CoMaster);
        assert_eq!(rule(planned(op("a"), &all)), Rule::CoMaster);
        assert_eq!(rule(planned(op("p"), &tree())), Rule::NotReplica);
    }

    #[test]
    fn the_demoted_source_must_be_able_to_replicate_from_the_replica() {
        let mut all = tree();
        all[3].log_replication_updates_enabled = false;
        assert_eq!(rule(planned(op("c"), &all)), Rule::NoLogReplicaUpdates);
        let mut all = tree();
        all[1].replication_lag_seconds = NullInt64::some(120);
        assert_eq!(rule(planned(op("c"), &all)), Rule::Lagging);
    }
}

mod make_co_master {
    use super::*;

    fn op(i: &str) -> Operation {
        Operation::MakeCoMaster { instance: k(i) }
    }

    #[test]
    fn the_primary_joins_as_a_replica_of_the_read_only_replica() {
        let plan = planned(op("a"), &tree()).unwrap();
        assert_eq!(plan.mechanism, None);
        assert_eq!(
            plan.parts,
            vec![vec![
                Step::JoinAsReplica { server: k("p"), to: k("a"), position: Position::BinlogOf(k("a")), credentials_from: k("a") },
                start("p"),
            ]]
        );
        let plan = planned(op("a"), &with_gtid(tree())).unwrap();
        assert_eq!(plan.mechanism, Some(Mechanism::Gtid));
        assert_eq!(plan.parts[0][0], Step::JoinAsReplica { server: k("p"), to: k("a"), position: Position::Gtid, credentials_from: k("a") });
    }

    #[test]
    fn mariadb_replicas_on_gtid_make_gtid_co_masters() {
        let mut all = tree();
        for i in all.iter_mut() {
            i.flavor_name = "MariaDB".into();
            i.version = "10.11.6-MariaDB".into();
            i.using_mariadb_gtid = i.is_replica();
        }
        let plan = planned(op("a"), &all).unwrap();
        assert_eq!(plan.parts[0][0], Step::JoinAsReplica { server: k("p"), to: k("a"), position: Position::Gtid, credentials_from: k("a") });
    }

    #[test]
    fn refusals() {
        let mut all = tree();
        all[1].read_only = false;
        let refusal = planned(op("a"), &all).unwrap_err();
        assert_eq!(refusal.rule, Rule::NotReadOnly);
        assert!(refusal.message.contains("read-only"), "{refusal}");
        assert_eq!(rule(planned(op("c"), &tree())), Rule::CoMaster, "a is not a primary");
        assert_eq!(rule(planned(op("p"), &tree())), Rule::NotReplica);
        let mut all = tree();
        all[0].master_key = k("a");
        assert_eq!(rule(planned(op("a"), &all)), Rule::CoMaster, "already co-masters");
        let mut all = tree();
        all[1].log_replication_updates_enabled = false;
        assert_eq!(rule(planned(op("a"), &all)), Rule::NoLogReplicaUpdates);
    }
}

mod regroup {
    use super::*;
    use app::model::BinlogCoordinates;

    /// p <- {a, b, c}, executed up to p's binlog positions 100, 300, 200.
    fn siblings() -> Vec<Instance> {
        let mut all = vec![server("p", 1, None), server("a", 2, Some("p")), server("b", 3, Some("p")), server("c", 4, Some("p"))];
        for (i, pos) in [(1, 100), (2, 300), (3, 200)] {
            all[i].exec_binlog_coordinates = BinlogCoordinates::binlog("binlog.000002", pos);
        }
        all
    }

    fn chosen(all: &[Instance]) -> Result<InstanceKey, Refusal> {
        candidate(&Family::new(all.iter()), &k("p"), &RuleSettings::default())
    }

    #[test]
    fn the_most_advanced_replica_is_chosen() {
        assert_eq!(chosen(&siblings()), Ok(k("b")));
        let mut all = siblings();
        all[1].exec_binlog_coordinates = BinlogCoordinates::binlog("binlog.000003", 4);
        assert_eq!(chosen(&all), Ok(k("a")), "a later binlog file");
    }

    #[test]
    fn gtid_supersets_decide_when_they_can() {
        let u = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
        let mut all = with_gtid(siblings());
        all[1].executed_gtid_set = format!("{u}:1-30");
        all[2].executed_gtid_set = format!("{u}:1-20");
        all[3].executed_gtid_set = format!("{u}:1-25");
        assert_eq!(chosen(&all), Ok(k("a")));
    }

    #[test]
    fn promotion_rules_data_center_and_errant_gtids_break_ties() {
        let mut all = siblings();
        for r in all.iter_mut().skip(1) {
            r.exec_binlog_coordinates = BinlogCoordinates::binlog("binlog.000002", 500);
        }
        assert_eq!(chosen(&all), Ok(k("a")), "the smallest key when all else is equal");
        all[0].data_center = "east".into();
        all[3].data_center = "east".into();
        assert_eq!(chosen(&all), Ok(k("c")), "the source's data center");
        all[1].gtid_errant = "x:1".into();
        all[2].promotion_rule = "prefer".into();
        assert_eq!(chosen(&all), Ok(k("b")), "a better promotion rule beats the data center");
        all[2].gtid_errant = "x:2".into();
        assert_eq!(chosen(&all), Ok(k("b")), "the rule comes before errant GTIDs");
        all[3].promotion_rule = "must".into();
        assert_eq!(chosen(&all), Ok(k("c")));
    }

    #[test]
    fn unfit_replicas_are_skipped_even_when_most_advanced() {
        let mut all = siblings();
        all[2].promotion_rule = "must_not".into();
        assert_eq!(chosen(&all), Ok(k("c")));
        let mut all = siblings();
        all[2].replication_lag_seconds = NullInt64::some(3600);
        assert_eq!(chosen(&all), Ok(k("c")));
        let mut all = siblings();
        all[2].is_last_check_valid = false;
        assert_eq!(chosen(&all), Ok(k("c")));
        let mut all = siblings();
        all[2].log_replication_updates_enabled = false;
        assert_eq!(chosen(&all), Ok(k("c")));
        let mut all = siblings();
        all[2].sql_delay = 3600;
        assert_eq!(chosen(&all), Ok(k("c")));
        let mut all = siblings();
        all[2].version = "9.9.0".into();
        assert_eq!(chosen(&all), Ok(k("c")), "b runs a newer version than most of its siblings");
        let mut all = siblings();
        all[2].version = "8.4.3".into();
        all[3].version = "8.4.3".into();
        assert_eq!(chosen(&all), Ok(k("b")), "an older version than most is fine");
    }

    #[test]
    fn no_candidate_names_why_each_was_passed_over() {
        let mut all = siblings();
        for r in all.iter_mut().skip(1) {
            r.promotion_rule = "must_not".into();
        }
        all[1].is_last_check_valid = false;
        let refusal = chosen(&all).unwrap_err();
        assert_eq!(refusal.rule, Rule::NoCandidate);
        assert!(refusal.message.contains("a:3306: its last check failed") && refusal.message.contains("must_not"), "{refusal}");
        assert_eq!(chosen(&[server("p", 1, None)]).unwrap_err().rule, Rule::NoReplicas);
        assert_eq!(candidate(&Family::new(siblings().iter()), &k("zz"), &RuleSettings::default()).unwrap_err().rule, Rule::UnknownInstance);
    }

    #[test]
    fn siblings_move_below_the_chosen_one() {
        let op = Operation::RegroupReplicas { instance: k("p") };
        let plan = planned(op.clone(), &siblings()).unwrap();
        assert_eq!(plan.mechanism, Some(Mechanism::MoveBelow));
        assert_eq!(plan.parts, vec![move_below_part("a", "b"), move_below_part("c", "b")]);
        let plan = planned(op.clone(), &with_gtid(siblings())).unwrap();
        assert_eq!(plan.parts, vec![gtid_move("a", "b"), gtid_move("c", "b")]);
        let one = vec![server("p", 1, None), server("a", 2, Some("p"))];
        let refusal = planned(op, &one).unwrap_err();
        assert_eq!(refusal.rule, Rule::NoReplicas);
        assert_eq!(chosen(&one), Ok(k("a")), "get-candidate-replica still answers");
    }

    #[test]
    fn a_sibling_that_cannot_follow_refuses_the_regroup() {
        let mut all = siblings();
        all[1].binlog_format = "STATEMENT".into();
        all[1].replication_lag_seconds = NullInt64::some(0);
        let refusal = planned(Operation::RegroupReplicas { instance: k("p") }, &all).unwrap_err();
        assert_eq!(refusal.rule, Rule::BinlogFormat);
        assert!(refusal.message.contains("a:3306"), "{refusal}");
    }
}
