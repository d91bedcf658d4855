//! Replication threads: stop, start, restart, stop nicely, delay, reset; dry runs and refusals
//! that change nothing; the audit of what ran.

use crate::support::{all_statements, Fixture, PRIMARY, WAIT};
use crate::common::wait_for;
use serde_json::json;
use server::sandbox::SandboxFlavor;

pub async fn replication_threads(flavor: SandboxFlavor) {
    let f = Fixture::start(flavor, true, json!({})).await;
    let d = f.dialect();
    let r1 = f.name(1);
    let audit_before = f.audit_count().await;

    // A dry run shows the statement and changes nothing (API and CLI).
    let state = f.replication_state(1).await;
    let plan = f.dry_run("stop-replica", 1, "").await;
    assert_eq!(all_statements(&plan), [d.stop_replica()]);
    let lines = f.cli(&["-c", "stop-replica", "-i", &r1, "--noop"]).await;
    assert!(lines.iter().any(|l| l == &format!("{r1}\t{}", d.stop_replica())), "{lines:?}");
    assert!(lines[0].contains("dry run"), "{lines:?}");
    assert_eq!(f.replication_state(1).await, state, "a dry run changed replication");
    assert_eq!(f.threads(1).await, ("Yes".into(), "Yes".into()));
    assert_eq!(f.audit_count().await, audit_before, "a dry run was audited");

    // stop (GET), start (POST), restart (CLI): as the server itself says.
    let body = f.run("GET", "stop-replica", 1, "").await;
    assert_eq!(f.threads(1).await, ("No".into(), "No".into()));
    assert_eq!(body["Details"]["ReplicationIOThreadRuning"], false, "the answer carries the instance afterwards: {body}");
    f.run("POST", "start-replica", 1, "").await;
    assert_eq!(f.threads(1).await, ("Yes".into(), "Yes".into()));
    assert_eq!(f.cli(&["-c", "restart-replica", "-i", &r1]).await, [r1.as_str()]);
    assert_eq!(f.threads(1).await, ("Yes".into(), "Yes".into()));
    // The legacy name is the same operation.
    f.run("GET", "stop-slave", 1, "").await;
    assert_eq!(f.threads(1).await, ("No".into(), "No".into()));
    f.run("GET", "start-slave", 1, "").await;
    f.wait_threads(1, "Yes", "Yes").await;

    // delay-replication keeps both threads running, and the delay is the server's.
    f.run("GET", "delay-replication", 1, "/2").await;
    assert_eq!(f.status_col(1, "SQL_Delay").await, "2");
    assert_eq!(f.threads(1).await, ("Yes".into(), "Yes".into()));

    // stop-replica-nice: with the delay, rows are fetched before they are applied; stopping
    // nicely applies every fetched row before stopping.
    f.insert(11..=15).await;
    let primary_pos = f.sb.query(PRIMARY, d.show_binlog_status()).await.unwrap()[0].number(&["Position"]).unwrap();
    wait_for(WAIT, "replica 1 to fetch the new rows", || async {
        let read: i64 = f.status_col(1, "Read_Source_Log_Pos").await.parse().unwrap_or(0);
        (read >= primary_pos).then_some(())
    })
    .await;
    assert_eq!(f.cli(&["-c", "stop-replica-nice", "-i", &r1]).await, [r1.as_str()]);
    assert_eq!(f.threads(1).await, ("No".into(), "No".into()));
    assert_eq!(f.status_col(1, "Exec_Source_Log_Pos").await, f.status_col(1, "Read_Source_Log_Pos").await, "relay log applied");
    assert_eq!(f.rows(1).await, f.rows(PRIMARY).await, "every fetched row was applied before stopping");

    // Threads stopped stay stopped when the delay changes (CLI, -S).
    assert_eq!(f.cli(&["-c", "delay-replication", "-i", &r1, "-S", "0"]).await, [r1.as_str()]);
    assert_eq!(f.status_col(1, "SQL_Delay").await, "0");
    assert_eq!(f.threads(1).await, ("No".into(), "No".into()));
    f.run("POST", "start-replica", 1, "").await;
    f.caught_up(&[1]).await;

    // Only the IO thread running: it is the only one running afterwards, and stopping nicely is
    // refused (nothing would apply the relay log).
    f.exec(1, d.stop_replica_sql_thread()).await;
    f.wait_instance(1, "with its SQL thread stopped", |i| i["ReplicationSQLThreadRuning"] == false && i["ReplicationIOThreadRuning"] == true)
        .await;
    f.run("POST", "delay-replication", 1, "/5").await;
    assert_eq!(f.status_col(1, "SQL_Delay").await, "5");
    assert_eq!(f.threads(1).await, ("Yes".into(), "No".into()));
    f.refused("GET", "stop-replica-nice", 1, "", "not-replicating").await;
    let err = f.cli_fails(&["-c", "stop-replica-nice", "-i", &r1]).await;
    assert!(err.contains("not-replicating"), "{err}");
    f.run("GET", "delay-replication", 1, "/0").await;
    f.run("GET", "start-replica", 1, "").await;
    assert_eq!(f.threads(1).await, ("Yes".into(), "Yes".into()));

    // Refusals name their rule and change nothing.
    for op in ["stop-replica", "start-replica", "restart-replica", "reset-replica", "skip-query"] {
        f.refused("GET", op, PRIMARY, "", "not-replica").await;
    }
    f.refused("POST", "delay-replication", PRIMARY, "/3", "not-replica").await;
    let err = f.cli_fails(&["-c", "stop-replica", "-i", &f.name(PRIMARY)]).await;
    assert!(err.contains("not-replica"), "{err}");

    // reset-replica: replica 2 forgets its source and leaves the cluster.
    let plan = f.dry_run("reset-replica", 2, "").await;
    assert_eq!(all_statements(&plan), [d.stop_replica(), d.reset_replica_all()]);
    assert!(f.status(2).await.is_some(), "dry run kept the channel");
    f.run("POST", "reset-slave", 2, "").await;
    assert!(f.status(2).await.is_none(), "{} still has a replication channel", f.name(2));
    let inst = f.instance(2).await;
    assert_eq!(inst["MasterKey"]["Hostname"], "", "{inst}");
    f.node.wait_cluster(&f.name(PRIMARY), 2).await;

    // The audit has each operation that ran, with the statements sent.
    let stop = f.audited(1, "stop-replica").await;
    assert_eq!(all_statements(&stop), [d.stop_replica()]);
    let restart = f.audited(1, "restart-replica").await;
    assert_eq!(all_statements(&restart), [d.stop_replica(), d.start_replica()]);
    let nice = f.audited(1, "stop-replica-nice").await;
    assert_eq!(all_statements(&nice), [d.stop_replica_io_thread(), d.stop_replica_sql_thread()]);
    let delay = f.audited(1, "delay-replication").await;
    // The newest: the SQL thread was stopped, so only the IO thread was started again.
    assert_eq!(all_statements(&delay), [d.stop_replica().to_string(), d.set_replication_delay(0), d.start_replica_io_thread().to_string()]);
    let reset = f.audited(2, "reset-replica").await;
    assert_eq!(all_statements(&reset), [d.stop_replica(), d.reset_replica_all()]);
    // stop, start, restart, stop-slave, start-slave, delay 2, nice, delay 0, start, delay 5,
    // delay 0, start, reset.
    assert_eq!(f.audit_count().await, audit_before + 13);
}
