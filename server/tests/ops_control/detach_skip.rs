//! Detaching and reattaching a replica's source host, and skipping a failed transaction, with
//! writes on the primary throughout: every row written while detached or after the skipped one
//! arrives.

use crate::support::{all_statements, Fixture, PRIMARY, WAIT};
use crate::common::wait_for;
use serde_json::json;
use server::sandbox::SandboxFlavor;

pub async fn detach_reattach_and_skip_query(flavor: SandboxFlavor, gtid: bool) {
    let f = Fixture::start(flavor, gtid, json!({})).await;
    let d = f.dialect();
    let r1 = f.name(1);
    let primary = f.sb.key(PRIMARY);

    // ---- detach-replica-master-host -------------------------------------------------------
    f.refused("GET", "reattach-replica-master-host", 1, "", "not-detached").await;
    let plan = f.dry_run("detach-replica-master-host", 1, "").await;
    let change = &all_statements(&plan)[1];
    assert!(change.contains(&format!("'//{}'", primary.hostname)), "{change}");
    assert_eq!(f.threads(1).await, ("Yes".into(), "Yes".into()), "dry run changed nothing");

    f.run("POST", "detach-replica-master-host", 1, "").await;
    assert_eq!(f.status_col(1, "Source_Host").await, format!("//{}", primary.hostname));
    assert_eq!(f.status_col(1, "Source_Port").await, primary.port.to_string());
    assert_eq!(f.threads(1).await, ("No".into(), "No".into()));
    let inst = f.instance(1).await;
    assert_eq!(inst["IsDetachedMaster"], true, "{inst}");
    assert_eq!(inst["MasterKey"]["Hostname"], primary.hostname, "{inst}");
    // The detached host is not taken for a server of its own.
    let (_, all) = f.node.api("all-instances").await;
    let names: Vec<String> = all.as_array().unwrap().iter().map(|i| i["Key"]["Hostname"].as_str().unwrap_or("").to_string()).collect();
    assert!(names.iter().all(|h| !h.starts_with("//")), "{names:?}");
    f.node.wait_cluster(&f.name(PRIMARY), 3).await;

    f.refused("GET", "detach-replica-master-host", 1, "", "detached").await;
    f.refused("POST", "start-replica", 1, "", "detached").await;
    f.refused("GET", "restart-replica", 1, "", "detached").await;

    // Rows written while detached do not arrive...
    f.insert(11..=20).await;
    f.caught_up(&[2]).await;
    assert_eq!(f.rows(1).await, "10,55");

    // ...and arrive after reattaching, from exactly where replication stopped (CLI, legacy name).
    assert_eq!(f.cli(&["-c", "reattach-replica", "-i", &r1]).await, [r1.as_str()]);
    assert_eq!(f.status_col(1, "Source_Host").await, primary.hostname);
    assert_eq!(f.threads(1).await, ("Yes".into(), "Yes".into()));
    f.same_rows_as_primary(1).await;
    assert_eq!(f.status_col(1, "Last_SQL_Errno").await, "0");
    f.wait_instance(1, "attached again", |i| i["IsDetachedMaster"] == false).await;
    let audit = f.audited(1, "detach-replica-master-host").await;
    assert_eq!(all_statements(&audit)[0], d.stop_replica());
    assert!(all_statements(&audit)[1].contains("//"), "{audit:?}");
    let audit = f.audited(1, "reattach-replica-master-host").await;
    assert_eq!(all_statements(&audit).last().map(String::as_str), Some(d.start_replica()));

    // ---- skip-query --------------------------------------------------------------------------
    f.refused("GET", "skip-query", 2, "", "no-sql-error").await;

    // Row 21 exists on replica 1 only: the primary's row 21 fails there (duplicate key), and
    // rows 22 and 23 come after it.
    f.exec(1, "SET SESSION sql_log_bin = 0; INSERT INTO ctl.t VALUES (21, 'replica')").await;
    f.insert(21..=23).await;
    wait_for(WAIT, "replica 1 to stop on the duplicate key", || async {
        let errno = f.status_col(1, "Last_SQL_Errno").await;
        (errno == "1062" || (errno != "0" && f.status_col(1, "Replica_SQL_Running").await == "No")).then_some(())
    })
    .await;
    f.wait_threads(1, "Yes", "No").await;
    f.wait_instance(1, "stopped on an SQL error", |i| i["ReplicationSQLThreadRuning"] == false && i["LastSQLErrno"] != 0).await;

    let mariadb_gtid = f.mariadb() && gtid;
    if mariadb_gtid {
        // orchestrator refuses under MariaDB GTID; the replica is left as it was.
        let message = f.refused("POST", "skip-query", 1, "", "mariadb-gtid-skip").await;
        assert!(message.contains("MASTER_USE_GTID=no"), "{message}");
        let err = f.cli_fails(&["-c", "skip-query", "-i", &r1]).await;
        assert!(err.contains("mariadb-gtid-skip"), "{err}");
        assert_eq!(f.threads(1).await, ("Yes".into(), "No".into()));
        return;
    }

    let state = f.replication_state(1).await;
    let plan = all_statements(&f.dry_run("skip-query", 1, "").await);
    let oracle_gtid = gtid && !f.mariadb();
    if oracle_gtid {
        assert!(plan[0].starts_with("SET GTID_NEXT"), "{plan:?}");
    } else {
        assert_eq!(plan[0], d.skip_one_event_group(), "{plan:?}");
    }
    assert_eq!(f.replication_state(1).await, state, "dry run changed replication");

    let body = f.run("POST", "skip-query", 1, "").await;
    f.wait_threads(1, "Yes", "Yes").await;
    assert_eq!(body["Details"]["LastSQLErrno"], 0, "{body}");
    // Everything after the skipped transaction arrived; the skipped row kept the replica's value.
    f.insert(24..=30).await;
    f.caught_up(&[1, 2]).await;
    assert_eq!(f.rows(1).await, f.rows(PRIMARY).await);
    assert_eq!(f.scalar(1, "SELECT v FROM ctl.t WHERE id = 21").await, "replica");
    assert_eq!(f.scalar(1, "SELECT COUNT(*) FROM ctl.t WHERE id > 21 AND v = 'primary'").await, "9");
    f.same_rows_as_primary(2).await;

    let audit = all_statements(&f.audited(1, "skip-query").await);
    if oracle_gtid {
        // The empty transaction carries the primary's GTID of the failed insert.
        let uuid = f.global(PRIMARY, "server_uuid").await;
        assert!(audit[0].starts_with(&format!("SET GTID_NEXT = '{uuid}:")), "{audit:?}");
        let gtid = audit[0].trim_start_matches("SET GTID_NEXT = '").trim_end_matches('\'').to_string();
        assert_eq!(f.scalar(1, &format!("SELECT GTID_SUBSET('{gtid}', @@global.gtid_executed)")).await, "1");
    } else {
        assert_eq!(audit[0], d.skip_one_event_group(), "{audit:?}");
    }
    assert!(audit.contains(&d.start_replica_sql_thread().to_string()), "{audit:?}");
    assert_eq!(audit.last().map(String::as_str), Some(d.start_replica()), "{audit:?}");
}
