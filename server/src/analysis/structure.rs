//! Structure warnings (reference §4.3): risks in the shape of a topology, computed for every
//! entry whatever its code, from the entry's counts, in orchestrator's order.

use app::model::analysis::ReplicationAnalysis;
use app::model::analysis::StructureWarning::{self, *};

pub fn warnings(a: &ReplicationAnalysis) -> Vec<StructureWarning> {
    let mut w = Vec::new();
    let master_with_replicas = a.is_master && a.count_replicas > 1;
    if master_with_replicas && a.count_logging_replicas == 0 {
        w.push(NoLoggingReplicasStructureWarning);
    }
    let failover_support = a.oracle_gtid_immediate_topology
        || a.mariadb_gtid_immediate_topology
        || a.binlog_server_immediate_topology
        || a.pseudo_gtid_immediate_topology;
    if master_with_replicas && !failover_support {
        w.push(NoFailoverSupportStructureWarning);
    }
    let (statement, mixed, row) =
        (a.count_statement_based_logging_replicas, a.count_mixed_based_logging_replicas, a.count_row_based_logging_replicas);
    if a.is_master && statement > 0 && mixed > 0 {
        w.push(StatementAndMixedLoggingReplicasStructureWarning);
    }
    if a.is_master && statement > 0 && row > 0 {
        w.push(StatementAndRowLoggingReplicasStructureWarning);
    }
    if a.is_master && mixed > 0 && row > 0 {
        w.push(MixedAndRowLoggingReplicasStructureWarning);
    }
    if a.is_master && a.count_distinct_major_versions_logging_replicas > 1 {
        w.push(MultipleMajorVersionsLoggingReplicasStructureWarning);
    }
    if a.count_replicas > 0 && (a.gtid_mode != a.min_replica_gtid_mode || a.gtid_mode != a.max_replica_gtid_mode) {
        w.push(DifferentGTIDModesStructureWarning);
    }
    if !a.max_replica_gtid_errant.is_empty() {
        w.push(ErrantGTIDStructureWarning);
    }
    if a.is_master && a.is_read_only {
        w.push(NoWriteableMasterStructureWarning);
    }
    if a.is_master
        && a.semi_sync_master_enabled
        && !a.semi_sync_master_status
        && a.semi_sync_master_wait_for_replica_count > 0
        && a.semi_sync_master_clients < a.semi_sync_master_wait_for_replica_count
    {
        w.push(NotEnoughValidSemiSyncReplicasStructureWarning);
    }
    w
}

#[cfg(test)]
mod tests {
    use crate::analysis::fixture::*;
    use app::model::analysis::StructureWarning;
    use app::model::Instance;
    use chrono::Utc;

    /// Applies `change` to orchestrator's fixture topology; the CLI's lines.
    fn run(change: impl FnOnce(&mut Vec<Instance>)) -> Vec<String> {
        let t = Utc::now();
        let mut all = topology(t);
        change(&mut all);
        lines(&analysis(&all, t))
    }

    fn on_primary(what: &str) -> Vec<String> {
        vec![format!("testhost:22293 (cluster {CLUSTER}): {what}")]
    }

    fn downtime(i: &mut Instance) {
        i.is_downtimed = true;
        i.downtime_end = Some(Utc::now() + chrono::Duration::minutes(1));
    }

    fn errant(i: &mut Instance) {
        i.master_uuid = "00020192-1111-1111-1111-111111111111".into();
        i.gtid_errant = "00020194-3333-3333-3333-333333333333:1-2".into();
    }

    #[test]
    fn fixture_errant_gtid_and_its_downtimed_variant() {
        assert_eq!(run(|a| errant(at(a, 22294))), on_primary("ErrantGTIDStructureWarning"));
        // A downtimed replica's errant transactions do not count.
        assert!(run(|a| {
            errant(at(a, 22294));
            downtime(at(a, 22294));
        })
        .is_empty());
    }

    #[test]
    fn fixture_major_versions() {
        let got = run(|a| at(a, 22297).version = "5.7.8".into());
        assert_eq!(got, on_primary("MultipleMajorVersionsLoggingReplicasStructureWarning"));
    }

    #[test]
    fn fixture_no_failover_support() {
        let got = run(|a| a.iter_mut().for_each(|i| i.using_pseudo_gtid = false));
        assert_eq!(got, on_primary("NoFailoverSupportStructureWarning"));
        // Every valid replica on MariaDB GTID is failover support.
        let got = run(|a| {
            a.iter_mut().for_each(|i| {
                i.using_pseudo_gtid = false;
                i.using_mariadb_gtid = i.key.port != 22293;
            })
        });
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn fixture_no_logging_replicas() {
        let got = run(|a| a.iter_mut().for_each(|i| i.log_replication_updates_enabled = false));
        assert_eq!(got, on_primary("NoLoggingReplicasStructureWarning"));
    }

    #[test]
    fn fixture_no_writeable_master() {
        assert_eq!(run(|a| at(a, 22293).read_only = true), on_primary("NoWriteableMasterStructureWarning"));
    }

    #[test]
    fn fixture_row_statement() {
        let got = run(|a| at(a, 22297).binlog_format = "ROW".into());
        assert_eq!(got, on_primary("StatementAndRowLoggingReplicasStructureWarning"));
    }

    #[test]
    fn mixed_formats() {
        let got = run(|a| at(a, 22297).binlog_format = "MIXED".into());
        assert_eq!(got, on_primary("StatementAndMixedLoggingReplicasStructureWarning"));
        let got = run(|a| {
            at(a, 22294).binlog_format = "ROW".into();
            at(a, 22297).binlog_format = "MIXED".into();
        });
        assert_eq!(got, on_primary("MixedAndRowLoggingReplicasStructureWarning"));
    }

    #[test]
    fn different_gtid_modes_on_any_server_with_replicas() {
        let got = run(|a| at(a, 22295).gtid_mode = "ON".into());
        assert_eq!(got, vec![format!("testhost:22294 (cluster {CLUSTER}): DifferentGTIDModesStructureWarning")]);
    }

    #[test]
    fn fixture_semi_sync_structure() {
        let semi = |a: &mut Vec<Instance>, wait: u32, clients: u32| {
            let m = at(a, 22293);
            m.semi_sync_master_enabled = true;
            m.semi_sync_master_status = false;
            m.semi_sync_master_wait_for_replica_count = wait;
            m.semi_sync_master_clients = clients;
        };
        let warning = on_primary("NotEnoughValidSemiSyncReplicasStructureWarning");
        // analysis-semi-sync-no-valid-replicas
        assert_eq!(
            run(|a| {
                semi(a, 1, 0);
                a.iter_mut().for_each(|i| i.semi_sync_replica_enabled = true);
            }),
            warning
        );
        // analysis-semi-sync-not-enough-valid-replicas
        assert_eq!(run(|a| semi(a, 2, 1)), warning);
        // analysis-semi-sync-not-enough-valid-replicas-invalid
        assert_eq!(
            run(|a| {
                semi(a, 2, 1);
                unreachable(at(a, 22296));
            }),
            warning
        );
        // analysis-semi-sync-ok
        assert!(run(|a| {
            semi(a, 2, 2);
            at(a, 22293).semi_sync_master_status = true;
        })
        .is_empty());
    }

    #[test]
    fn warnings_accompany_a_failure_code() {
        let got = run(|a| {
            at(a, 22293).read_only = true;
            unreachable(at(a, 22293));
        });
        assert_eq!(got, on_primary("UnreachableMaster, NoWriteableMasterStructureWarning"));
    }

    #[test]
    fn every_warning_has_a_case_here() {
        let source = include_str!("structure.rs");
        let tests = &source[source.find("mod tests").unwrap()..];
        for w in StructureWarning::ALL {
            assert!(tests.contains(&format!("\"{w}\"")) || tests.contains(&format!("{w}\"")), "no test expects {w}");
        }
    }
}
