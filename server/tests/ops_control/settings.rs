//! Server settings: flush-binary-logs, errant GTIDs injected on the primary, read-only with
//! `UseSuperReadOnly`, semi-sync on both sides (plugins loaded or not).

use crate::support::{all_statements, Fixture, PRIMARY};
use serde_json::json;
use server::sandbox::SandboxFlavor;

pub async fn server_settings(flavor: SandboxFlavor) {
    let f = Fixture::start(flavor, true, json!({ "UseSuperReadOnly": true })).await;
    let d = f.dialect();
    let primary = f.name(PRIMARY);

    // ---- flush-binary-logs ---------------------------------------------------------------------
    let binlog = |rows: Vec<server::mysql::TextRow>| rows[0].text(&["File"]);
    let before = binlog(f.sb.query(PRIMARY, d.show_binlog_status()).await.unwrap());
    assert_eq!(f.cli(&["-c", "flush-binary-logs", "-i", &primary]).await, [primary.as_str()]);
    let after = binlog(f.sb.query(PRIMARY, d.show_binlog_status()).await.unwrap());
    let number = |file: &str| file.rsplit('.').next().unwrap().parse::<u32>().unwrap();
    assert_eq!(number(&after), number(&before) + 1, "{before} -> {after}");
    assert_eq!(all_statements(&f.audited(PRIMARY, "flush-binary-logs").await), [d.flush_binary_logs()]);

    // ---- gtid-errant-inject-empty ------------------------------------------------------------
    if f.mariadb() {
        f.refused("GET", "gtid-errant-inject-empty", 1, "", "no-gtid").await;
    } else {
        f.refused("GET", "gtid-errant-inject-empty", 1, "", "no-errant-gtid").await;
        // Two transactions written on replica 1 itself: errant.
        f.exec(1, "CREATE TABLE ctl.errant (id INT PRIMARY KEY); INSERT INTO ctl.errant VALUES (1)").await;
        let uuid = f.global(1, "server_uuid").await;
        let errant = f.wait_instance(1, "with errant GTIDs", |i| i["GtidErrant"] != "").await["GtidErrant"].as_str().unwrap().to_string();
        assert_eq!(errant, format!("{uuid}:1-2"));
        let plan = f.dry_run("gtid-errant-inject-empty", 1, "").await;
        assert_eq!(plan.len(), 2);
        assert!(plan.iter().all(|(port, _)| *port == f.sb.key(PRIMARY).port.to_string()), "on the primary: {plan:?}");
        assert_eq!(plan[0].1, d.inject_empty_transaction(&format!("{uuid}:1")));
        assert_eq!(f.scalar(PRIMARY, &format!("SELECT GTID_SUBSET('{errant}', @@global.gtid_executed)")).await, "0", "dry run");

        let body = f.run("POST", "gtid-errant-inject-empty", 1, "").await;
        assert!(body["Message"].as_str().unwrap().contains("2 empty transactions injected"), "{body}");
        assert_eq!(f.scalar(PRIMARY, &format!("SELECT GTID_SUBSET('{errant}', @@global.gtid_executed)")).await, "1");
        f.caught_up(&[1, 2]).await;
        f.wait_instance(1, "without errant GTIDs", |i| i["GtidErrant"] == "").await;
        f.wait_threads(1, "Yes", "Yes").await;
        f.wait_threads(2, "Yes", "Yes").await;
        // The primary's audit entry is the operation's, recorded under the instance it was for.
        let audit = f.audited(1, "gtid-errant-inject-empty").await;
        assert_eq!(audit.len(), 2);
    }

    // ---- set-read-only / set-writeable -------------------------------------------------------
    assert_eq!(f.global(PRIMARY, "read_only").await, "0");
    f.run("GET", "set-read-only", PRIMARY, "").await;
    assert_eq!(f.global(PRIMARY, "read_only").await, "1");
    if !f.mariadb() {
        assert_eq!(f.global(PRIMARY, "super_read_only").await, "1", "UseSuperReadOnly");
    }
    let inst = f.instance(PRIMARY).await;
    assert_eq!(inst["ReadOnly"], true, "{inst}");
    assert_eq!(f.cli(&["-c", "set-writeable", "-i", &primary]).await, [primary.as_str()]);
    assert_eq!(f.global(PRIMARY, "read_only").await, "0");
    if !f.mariadb() {
        assert_eq!(f.global(PRIMARY, "super_read_only").await, "0");
        assert_eq!(
            all_statements(&f.audited(PRIMARY, "set-writeable").await),
            ["SET GLOBAL super_read_only = 0", "SET GLOBAL read_only = 0"]
        );
    } else {
        assert_eq!(all_statements(&f.audited(PRIMARY, "set-writeable").await), ["SET GLOBAL read_only = 0"]);
    }
    // Writes work again.
    f.insert(11..=11).await;

    // ---- semi-sync ---------------------------------------------------------------------------
    // Names as each server spells them (not from our dialect).
    let (source_var, replica_var, clients) = if f.mariadb() {
        ("rpl_semi_sync_master_enabled", "rpl_semi_sync_slave_enabled", "Rpl_semi_sync_master_clients")
    } else {
        ("rpl_semi_sync_source_enabled", "rpl_semi_sync_replica_enabled", "Rpl_semi_sync_source_clients")
    };
    if !f.mariadb() {
        // Oracle MySQL ships semi-sync as plugins, not loaded here yet.
        let message = f.refused("GET", "enable-semi-sync-master", PRIMARY, "", "semi-sync-unavailable").await;
        assert!(message.contains("INSTALL PLUGIN rpl_semi_sync_source"), "{message}");
        f.refused("POST", "enable-semi-sync-replica", 1, "", "semi-sync-unavailable").await;
        for i in [PRIMARY, 1] {
            let load = d.install_semi_sync_plugins().join("; ");
            f.exec(i, &format!("SET SESSION sql_log_bin = 0; {load}")).await;
            f.wait_instance(i, "with semi-sync available", |inst| inst["SemiSyncAvailable"] == true).await;
        }
    }
    f.run("POST", "enable-semi-sync-master", PRIMARY, "").await;
    assert_eq!(f.global(PRIMARY, source_var).await, "1");
    f.run("GET", "enable-semi-sync-replica", 1, "").await;
    assert_eq!(f.global(1, replica_var).await, "1");
    assert_eq!(f.threads(1).await, ("Yes".into(), "Yes".into()));
    // Takes effect without anyone restarting replication by hand: the IO thread was restarted.
    crate::common::wait_for(crate::support::WAIT, "the primary to count one semi-sync replica", || async {
        (f.status_var(PRIMARY, clients).await == "1").then_some(())
    })
    .await;
    let audit = all_statements(&f.audited(1, "enable-semi-sync-replica").await);
    assert_eq!(audit, [format!("SET GLOBAL {replica_var} = 1"), d.stop_replica_io_thread().into(), d.start_replica_io_thread().into()]);
    // A write is acknowledged by the semi-sync replica (no timeout fallback).
    f.insert(12..=12).await;
    f.caught_up(&[1, 2]).await;

    assert_eq!(f.cli(&["-c", "disable-semi-sync-replica", "-i", &f.name(1)]).await, [f.name(1)]);
    assert_eq!(f.global(1, replica_var).await, "0");
    crate::common::wait_for(crate::support::WAIT, "the primary to count no semi-sync replica", || async {
        (f.status_var(PRIMARY, clients).await == "0").then_some(())
    })
    .await;
    f.run("GET", "disable-semi-sync-master", PRIMARY, "").await;
    assert_eq!(f.global(PRIMARY, source_var).await, "0");
    assert_eq!(f.threads(1).await, ("Yes".into(), "Yes".into()));
}
