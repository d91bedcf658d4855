//! A primary with two replicas, discovered from the primary: every field the node records for
//! a server equals what that server answers about itself, before and after semi-sync is turned
//! on, and on MySQL after it is turned off again (which loads and unloads plugins under the
//! node's open connections).

use super::support::{assert_node_agrees, coordinates, key_names, server_says, thread_state, Fixture, ServerSays, WAIT};
use crate::common::wait_for;
use serde_json::{json, Value};
use server::sandbox::{SandboxFlavor, Shape};

const WRITES: &str = "CREATE DATABASE disco; CREATE TABLE disco.t (id INT PRIMARY KEY, v VARCHAR(32)); \
                      INSERT INTO disco.t VALUES (1, 'a'), (2, 'b'); INSERT INTO disco.t VALUES (3, 'c')";

pub async fn every_recorded_field_matches_the_server(flavor: SandboxFlavor) {
    let fx = Fixture::start(flavor, 3, Shape::PrimaryWithReplicas, json!({})).await;
    let members = fx.discover_all_from(0).await;
    assert_eq!(key_names(&json!(members)), sorted((0..3).map(|i| fx.name(i)).collect()));

    // Give the GTID sets and coordinates something to show, then let the writes settle: values
    // that move with writes are compared at a quiet moment.
    fx.exec(0, WRITES).await;
    fx.caught_up(&[1, 2]).await;
    for i in 0..3 {
        check_server(&fx, i).await;
    }

    enable_semi_sync(&fx).await;
    fx.exec(0, "INSERT INTO disco.t VALUES (4, 'semi-sync')").await;
    fx.caught_up(&[1, 2]).await;
    for i in 0..3 {
        check_server(&fx, i).await;
    }
    let primary = fx.instance(0).await;
    assert_eq!((primary["SemiSyncMasterStatus"].clone(), primary["SemiSyncMasterClients"].clone()), (json!(true), json!(2)));
    for i in [1, 2] {
        assert_eq!(fx.instance(i).await["SemiSyncReplicaStatus"], true, "{}", fx.name(i));
    }

    if flavor == SandboxFlavor::MySql {
        // The plugins go away under the node's open connections: their variables vanish.
        uninstall_semi_sync(&fx).await;
        for i in 0..3 {
            check_server(&fx, i).await;
            assert_eq!(fx.instance(i).await["SemiSyncAvailable"], false, "{}", fx.name(i));
        }
        let m = fx.node.api("discovery-metrics").await.1;
        assert_eq!(m["FailedProbes"], 0, "a plugin change must not fail a probe: {m}");
    }
}

/// Compares everything about server `i`, then its uptime (which moves by itself) within a
/// tolerance.
async fn check_server(fx: &Fixture, i: usize) {
    let instance = assert_node_agrees(fx, i, |says| expected_fields(fx, i, says)).await;
    let says = server_says(&fx.sb, i).await;
    let node_uptime = instance["Uptime"].as_i64().expect("numeric Uptime");
    assert!(
        (0..=2).contains(&(says.uptime - node_uptime)),
        "{}: uptime {node_uptime} s on the node, {} s on the server",
        fx.name(i),
        says.uptime
    );
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn on(text: &str) -> bool {
    text == "1" || text.eq_ignore_ascii_case("ON")
}

fn number(text: &str) -> u64 {
    text.trim().parse().unwrap_or(0)
}

/// GTID sets as the server prints them, with a newline after each comma.
fn compact(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Every field of the node's view of server `i` that the server answers, with its value.
fn expected_fields(fx: &Fixture, i: usize, says: &ServerSays) -> Vec<(&'static str, Value)> {
    let mut f = identity_and_configuration(says);
    f.extend(replication(says));
    f.extend(semi_sync(says));
    let primary = fx.name(0);
    let mut replicas: Vec<(String, u64)> =
        says.replica_hosts.iter().map(|r| (r.text(&["Host"]), number(&r.text(&["Port"])))).collect();
    replicas.sort();
    let replicas: Vec<Value> = replicas.iter().map(|(h, p)| json!({"Hostname": h, "Port": p})).collect();
    f.extend([
        ("ClusterName", json!(primary)),
        ("ReplicationDepth", json!(if i == 0 { 0 } else { 1 })),
        ("Replicas", json!(replicas)),
        ("SlaveHosts", json!(replicas)),
        ("IsCoMaster", json!(false)),
        ("IsLastCheckValid", json!(true)),
        ("Problems", json!([])),
        ("GtidErrant", json!("")),
    ]);
    f
}

fn identity_and_configuration(says: &ServerSays) -> Vec<(&'static str, Value)> {
    let mysql = says.flavor == SandboxFlavor::MySql;
    let log_replica_updates = on(says.var(if mysql { "log_replica_updates" } else { "log_slave_updates" }));
    let mut f = vec![
        ("ServerID", json!(number(says.var("server_id")))),
        ("Version", json!(says.var("version"))),
        ("VersionComment", json!(says.var("version_comment"))),
        ("FlavorName", json!(if mysql { "MySQL" } else { "MariaDB" })),
        ("ReadOnly", json!(on(says.var("read_only")))),
        ("LogBinEnabled", json!(on(says.var("log_bin")))),
        ("LogReplicationUpdatesEnabled", json!(log_replica_updates)),
        ("LogSlaveUpdatesEnabled", json!(log_replica_updates)),
        ("Binlog_format", json!(says.var("binlog_format"))),
        ("BinlogRowImage", json!(says.var("binlog_row_image"))),
    ];
    if mysql {
        f.extend([
            ("ServerUUID", json!(says.var("server_uuid"))),
            ("SuperReadOnly", json!(on(says.var("super_read_only")))),
            ("GTIDMode", json!(says.var("gtid_mode"))),
            ("SupportsOracleGTID", json!(says.var("gtid_mode") != "OFF")),
            ("ExecutedGtidSet", json!(compact(says.var("gtid_executed")))),
            ("GtidPurged", json!(compact(says.var("gtid_purged")))),
            ("GtidCurrentPos", json!("")),
            ("GtidBinlogPos", json!("")),
            ("GtidSlavePos", json!("")),
        ]);
    } else {
        // MariaDB has neither server_uuid, super_read_only nor Oracle GTID.
        f.extend([
            ("ServerUUID", json!("")),
            ("SuperReadOnly", json!(false)),
            ("GTIDMode", json!("")),
            ("SupportsOracleGTID", json!(false)),
            ("ExecutedGtidSet", json!("")),
            ("GtidPurged", json!("")),
            ("GtidCurrentPos", json!(says.var("gtid_current_pos"))),
            ("GtidBinlogPos", json!(says.var("gtid_binlog_pos"))),
            ("GtidSlavePos", json!(says.var("gtid_slave_pos"))),
        ]);
    }
    let own = match &says.binlog {
        Some(row) => coordinates(&row.text(&["File"]), &row.text(&["Position"]), 0),
        None => coordinates("", "0", 0),
    };
    f.push(("SelfBinlogCoordinates", own));
    f
}

fn replication(says: &ServerSays) -> Vec<(&'static str, Value)> {
    if says.replica.is_none() {
        return vec![
            ("MasterKey", json!({"Hostname": "", "Port": 0})),
            ("ReplicationIOThreadState", json!(-1)),
            ("ReplicationSQLThreadState", json!(-1)),
            ("ReplicationIOThreadRuning", json!(false)),
            ("ReplicationSQLThreadRuning", json!(false)),
            ("ReadBinlogCoordinates", coordinates("", "0", 0)),
            ("ExecBinlogCoordinates", coordinates("", "0", 0)),
            ("RelaylogCoordinates", coordinates("", "0", 0)),
            ("SecondsBehindMaster", json!({"Int64": 0, "Valid": false})),
            ("LastSQLError", json!("")),
            ("LastIOError", json!("")),
            ("UsingOracleGTID", json!(false)),
            ("UsingMariaDBGTID", json!(false)),
        ];
    }
    let mysql = says.flavor == SandboxFlavor::MySql;
    let col = |mysql_name: &str, mariadb_name: &str| says.replica_col(mysql_name, mariadb_name);
    let io = col("Replica_IO_Running", "Slave_IO_Running");
    let sql = col("Replica_SQL_Running", "Slave_SQL_Running");
    let lag = col("Seconds_Behind_Source", "Seconds_Behind_Master");
    let filters = [
        "Replicate_Do_DB",
        "Replicate_Ignore_DB",
        "Replicate_Do_Table",
        "Replicate_Ignore_Table",
        "Replicate_Wild_Do_Table",
        "Replicate_Wild_Ignore_Table",
    ];
    vec![
        ("MasterKey", json!({"Hostname": col("Source_Host", "Master_Host"), "Port": number(&col("Source_Port", "Master_Port"))})),
        ("ReplicationIOThreadRuning", json!(io == "Yes")),
        ("ReplicationSQLThreadRuning", json!(sql == "Yes")),
        ("Slave_IO_Running", json!(io == "Yes")),
        ("Slave_SQL_Running", json!(sql == "Yes")),
        ("ReplicationIOThreadState", json!(thread_state(&io))),
        ("ReplicationSQLThreadState", json!(thread_state(&sql))),
        ("ReplicationIOStateText", json!(col("Replica_IO_State", "Slave_IO_State"))),
        (
            "ReadBinlogCoordinates",
            coordinates(&col("Source_Log_File", "Master_Log_File"), &col("Read_Source_Log_Pos", "Read_Master_Log_Pos"), 0),
        ),
        (
            "ExecBinlogCoordinates",
            coordinates(
                &col("Relay_Source_Log_File", "Relay_Master_Log_File"),
                &col("Exec_Source_Log_Pos", "Exec_Master_Log_Pos"),
                0,
            ),
        ),
        ("RelaylogCoordinates", coordinates(&says.replica_same("Relay_Log_File"), &says.replica_same("Relay_Log_Pos"), 1)),
        (
            "SecondsBehindMaster",
            if lag.is_empty() { json!({"Int64": 0, "Valid": false}) } else { json!({"Int64": number(&lag), "Valid": true}) },
        ),
        ("SQLDelay", json!(number(&says.replica_same("SQL_Delay")))),
        ("UsingOracleGTID", json!(mysql && says.replica_same("Auto_Position") == "1")),
        ("UsingMariaDBGTID", json!(!mysql && !matches!(says.replica_same("Using_Gtid").as_str(), "" | "No"))),
        ("LastSQLError", json!(says.replica_same("Last_SQL_Error"))),
        ("LastIOError", json!(says.replica_same("Last_IO_Error"))),
        ("LastSQLErrno", json!(number(&says.replica_same("Last_SQL_Errno")))),
        ("LastIOErrno", json!(number(&says.replica_same("Last_IO_Errno")))),
        ("MasterUUID", json!(if mysql { says.replica_same("Source_UUID") } else { String::new() })),
        ("HasReplicationCredentials", json!(!col("Source_User", "Master_User").is_empty())),
        ("AllowTLS", json!(col("Source_SSL_Allowed", "Master_SSL_Allowed") == "Yes")),
        ("HasReplicationFilters", json!(filters.iter().any(|c| !says.replica_same(c).is_empty()))),
    ]
}

fn semi_sync(says: &ServerSays) -> Vec<(&'static str, Value)> {
    let var = |names: [&str; 2]| names.iter().find_map(|n| says.semi_sync_vars.get(*n)).cloned();
    let status = |names: [&str; 2]| names.iter().find_map(|n| says.semi_sync_status.get(*n)).cloned();
    let source_enabled = var(["rpl_semi_sync_master_enabled", "rpl_semi_sync_source_enabled"]);
    let replica_enabled = var(["rpl_semi_sync_slave_enabled", "rpl_semi_sync_replica_enabled"]);
    let num = |v: Option<String>| v.map(|v| number(&v)).unwrap_or(0);
    let is_on = |v: Option<String>| v.is_some_and(|v| on(&v));
    vec![
        ("SemiSyncAvailable", json!(source_enabled.is_some() && replica_enabled.is_some())),
        ("SemiSyncMasterEnabled", json!(is_on(source_enabled))),
        ("SemiSyncReplicaEnabled", json!(is_on(replica_enabled))),
        ("SemiSyncMasterTimeout", json!(num(var(["rpl_semi_sync_master_timeout", "rpl_semi_sync_source_timeout"])))),
        (
            "SemiSyncMasterWaitForReplicaCount",
            json!(num(var(["rpl_semi_sync_master_wait_for_slave_count", "rpl_semi_sync_source_wait_for_replica_count"]))),
        ),
        ("SemiSyncMasterStatus", json!(is_on(status(["rpl_semi_sync_master_status", "rpl_semi_sync_source_status"])))),
        ("SemiSyncMasterClients", json!(num(status(["rpl_semi_sync_master_clients", "rpl_semi_sync_source_clients"])))),
        ("SemiSyncReplicaStatus", json!(is_on(status(["rpl_semi_sync_slave_status", "rpl_semi_sync_replica_status"])))),
    ]
}

/// Semi-sync on the primary and both replicas: MariaDB has it built in; MySQL 9 needs the
/// `semisync_source`/`semisync_replica` plugins (the 8.0.26+ names). The replicas' IO threads
/// reconnect so that the primary counts them as semi-sync clients.
async fn enable_semi_sync(fx: &Fixture) {
    let d = fx.sb.dialect();
    let (source, replica) = match fx.flavor() {
        SandboxFlavor::MariaDb => ("SET GLOBAL rpl_semi_sync_master_enabled = 1", "SET GLOBAL rpl_semi_sync_slave_enabled = 1"),
        SandboxFlavor::MySql => (
            "INSTALL PLUGIN rpl_semi_sync_source SONAME 'semisync_source.so'; SET GLOBAL rpl_semi_sync_source_enabled = 1",
            "INSTALL PLUGIN rpl_semi_sync_replica SONAME 'semisync_replica.so'; SET GLOBAL rpl_semi_sync_replica_enabled = 1",
        ),
    };
    fx.exec(0, source).await;
    for r in [1, 2] {
        fx.exec(
            r,
            &format!("{replica}; {stop} IO_THREAD; {start} IO_THREAD", stop = d.stop_replica(), start = d.start_replica()),
        )
        .await;
    }
    wait_for(WAIT, "two semi-sync clients on the primary", || async {
        let says = server_says(&fx.sb, 0).await;
        let clients = ["rpl_semi_sync_master_clients", "rpl_semi_sync_source_clients"]
            .iter()
            .find_map(|n| says.semi_sync_status.get(*n).cloned());
        (clients.as_deref() == Some("2")).then_some(())
    })
    .await;
}

/// Undoes `enable_semi_sync` on MySQL: replicas first (the source plugin cannot be uninstalled
/// while semi-sync replicas are connected).
async fn uninstall_semi_sync(fx: &Fixture) {
    let d = fx.sb.dialect();
    fx.exec(0, "SET GLOBAL rpl_semi_sync_source_enabled = 0").await;
    for r in [1, 2] {
        fx.exec(r, &format!(
            "SET GLOBAL rpl_semi_sync_replica_enabled = 0; {stop} IO_THREAD; \
             UNINSTALL PLUGIN rpl_semi_sync_replica; {start} IO_THREAD",
            stop = d.stop_replica(),
            start = d.start_replica()
        ))
        .await;
    }
    wait_for(WAIT, "no semi-sync clients on the primary", || async {
        let says = server_says(&fx.sb, 0).await;
        (says.semi_sync_status.get("rpl_semi_sync_source_clients").map(String::as_str) == Some("0")).then_some(())
    })
    .await;
    fx.exec(0, "UNINSTALL PLUGIN rpl_semi_sync_source").await;
    fx.caught_up(&[1, 2]).await;
}
