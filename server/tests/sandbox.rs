//! The sandbox harness against real servers: MariaDB from the host's packages and Oracle MySQL
//! from the chroot built by scripts/prepare-mysql-rootfs.sh.

mod common;

use common::process_gone;
use server::mysql::dialect::replica_status_column_names;
use server::mysql::TextRow;
use server::sandbox::{
    Sandbox, SandboxError, SandboxFlavor, SandboxOptions, Shape, ADMIN_PASSWORD, ADMIN_USER, REPLICATION_USER,
    TOPOLOGY_PASSWORD, TOPOLOGY_USER,
};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

fn col(row: &TextRow, new_name: &'static str) -> String {
    let [new, old] = replica_status_column_names(new_name);
    row.text(&[&new, &old])
}

/// Polls `sql` on server `i` until it returns `expected` in its first column.
async fn wait_for_value(sb: &Sandbox, i: usize, sql: &str, expected: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = sb.query(i, sql).await.ok().and_then(|rows| rows.first().and_then(|r| r.at(0).map(str::to_string)));
        if got.as_deref() == Some(expected) {
            return;
        }
        assert!(Instant::now() < deadline, "server {i}: {sql} gave {got:?}, not {expected:?}, after {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts that server `i`'s own status says it replicates from server `source` and runs.
async fn assert_replicates_from(sb: &Sandbox, i: usize, source: usize) {
    let rows = sb.query(i, sb.dialect().show_replica_status()).await.unwrap();
    assert_eq!(rows.len(), 1, "server {i} should have one replication channel");
    let row = &rows[0];
    assert_eq!(col(row, "Source_Port"), sb.servers()[source].port.to_string(), "server {i}'s source port");
    assert_eq!(col(row, "Source_Host"), "127.0.0.1");
    assert_eq!(col(row, "Source_User"), REPLICATION_USER);
    assert_eq!(col(row, "Replica_IO_Running"), "Yes", "server {i} IO thread: {:?}", row.text(&["Last_IO_Error"]));
    assert_eq!(col(row, "Replica_SQL_Running"), "Yes", "server {i} SQL thread: {:?}", row.text(&["Last_SQL_Error"]));
}


async fn primary_with_replicas(flavor: SandboxFlavor) {
    Sandbox::prepare(flavor).await.unwrap();
    let started = Instant::now();
    let sb = Sandbox::start(SandboxOptions::new(flavor, 3, Shape::PrimaryWithReplicas)).await.unwrap();
    println!("{flavor}: Sandbox::start of 3 servers (template cached) took {:.2?}", started.elapsed());

    assert_eq!(sb.flavor(), flavor);
    let names: Vec<&str> = sb.servers().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["mysql1", "mysql2", "mysql3"]);
    let ids: Vec<u32> = sb.servers().iter().map(|s| s.server_id).collect();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(sb.key(1).to_string(), format!("127.0.0.1:{}", sb.servers()[1].port));
    for (i, s) in sb.servers().iter().enumerate() {
        let row = sb.query(i, "SELECT @@server_id, @@report_port, @@report_host, @@log_bin").await.unwrap().remove(0);
        assert_eq!(row.at(0), Some(s.server_id.to_string().as_str()));
        assert_eq!(row.at(1), Some(s.port.to_string().as_str()));
        assert_eq!(row.at(2), Some("127.0.0.1"));
        assert_eq!(row.at(3), Some("1"));
    }

    sb.exec(0, "CREATE DATABASE sbtest; CREATE TABLE sbtest.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO sbtest.t VALUES (1, 'hello')")
        .await
        .unwrap();
    for r in [1, 2] {
        wait_for_value(&sb, r, "SELECT v FROM sbtest.t WHERE id = 1", "hello").await;
        sb.wait_caught_up(r, 0, WAIT).await.unwrap();
        assert_replicates_from(&sb, r, 0).await;
    }

    // orchestrator's account works and sees the replicas.
    let mut conn =
        server::mysql::TextConn::connect(&sb.connect_spec(0, TOPOLOGY_USER, TOPOLOGY_PASSWORD)).await.unwrap();
    let replicas = conn.query(sb.dialect().show_replica_hosts()).await.unwrap();
    assert_eq!(replicas.len(), 2, "{replicas:?}");
    conn.close().await;
    // ... and may do what a failover does on a replica.
    let d = sb.dialect();
    let mut conn =
        server::mysql::TextConn::connect(&sb.connect_spec(1, TOPOLOGY_USER, TOPOLOGY_PASSWORD)).await.unwrap();
    let mut steps = vec![d.set_read_only(true), d.stop_replica().to_string(), d.start_replica().to_string()];
    steps.extend(d.set_super_read_only(true));
    steps.extend(d.set_super_read_only(false));
    steps.push(d.set_read_only(false));
    for sql in steps {
        conn.exec(&sql).await.unwrap_or_else(|e| panic!("{TOPOLOGY_USER} cannot run {sql}: {e}"));
    }
    conn.close().await;
    sb.wait_replicating(1, WAIT).await.unwrap();
}

#[tokio::test]
async fn mariadb_primary_with_replicas() {
    primary_with_replicas(SandboxFlavor::MariaDb).await;
}

#[tokio::test]
async fn mysql_primary_with_replicas() {
    primary_with_replicas(SandboxFlavor::MySql).await;
}

async fn chain(flavor: SandboxFlavor, gtid: bool) {
    let sb = Sandbox::start(SandboxOptions::new(flavor, 3, Shape::Chain).with_gtid(gtid)).await.unwrap();
    assert_replicates_from(&sb, 1, 0).await;
    assert_replicates_from(&sb, 2, 1).await;
    sb.exec(0, "CREATE DATABASE c; CREATE TABLE c.t (id INT PRIMARY KEY); INSERT INTO c.t VALUES (1), (2), (3)")
        .await
        .unwrap();
    sb.wait_caught_up(2, 0, WAIT).await.unwrap();
    // Caught up means applied: no polling needed any more.
    let rows = sb.query(2, "SELECT COUNT(*) FROM c.t").await.unwrap();
    assert_eq!(rows[0].at(0), Some("3"));
    let status = sb.replica_status(2).await.unwrap().unwrap();
    if flavor == SandboxFlavor::MariaDb {
        assert_eq!(status.text(&["Using_Gtid"]), if gtid { "Slave_Pos" } else { "No" });
    } else {
        assert_eq!(col(&status, "Auto_Position"), if gtid { "1" } else { "0" });
        let mode = sb.query(2, "SELECT @@gtid_mode").await.unwrap();
        assert_eq!(mode[0].at(0), Some(if gtid { "ON" } else { "OFF" }));
    }
}

#[tokio::test]
async fn mariadb_chain() {
    chain(SandboxFlavor::MariaDb, true).await;
}

#[tokio::test]
async fn mysql_chain() {
    chain(SandboxFlavor::MySql, true).await;
}

#[tokio::test]
async fn mariadb_file_pos_replication() {
    chain(SandboxFlavor::MariaDb, false).await;
}

#[tokio::test]
async fn mysql_file_pos_replication() {
    chain(SandboxFlavor::MySql, false).await;
}

#[tokio::test]
async fn intermediate_primary_with_four_servers() {
    let sb = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 4, Shape::IntermediatePrimary)).await.unwrap();
    assert!(sb.replica_status(0).await.unwrap().is_none());
    assert_replicates_from(&sb, 1, 0).await;
    assert_replicates_from(&sb, 2, 1).await;
    assert_replicates_from(&sb, 3, 0).await;
}

async fn kill_and_restart_a_replica(flavor: SandboxFlavor) {
    let sb = Sandbox::start(SandboxOptions::new(flavor, 2, Shape::PrimaryWithReplicas)).await.unwrap();
    let port = sb.servers()[1].port;
    let pid = sb.pid(1).unwrap();
    sb.kill(1);
    assert_eq!(sb.pid(1), None);
    assert!(process_gone(pid), "the killed server {pid} still exists");
    assert!(matches!(sb.query(1, "SELECT 1").await, Err(SandboxError::Sql { .. })));

    // Written while the replica is down: it must fetch this after the restart.
    sb.exec(0, "CREATE DATABASE k; CREATE TABLE k.t (id INT PRIMARY KEY); INSERT INTO k.t VALUES (7)").await.unwrap();
    sb.restart(1).await.unwrap();
    assert_eq!(sb.servers()[1].port, port);
    assert_ne!(sb.pid(1), None);
    sb.wait_replicating(1, WAIT).await.unwrap();
    sb.wait_caught_up(1, 0, WAIT).await.unwrap();
    let rows = sb.query(1, "SELECT id FROM k.t").await.unwrap();
    assert_eq!(rows[0].at(0), Some("7"));
    assert_replicates_from(&sb, 1, 0).await;
}

#[tokio::test]
async fn mariadb_kill_and_restart_a_replica() {
    kill_and_restart_a_replica(SandboxFlavor::MariaDb).await;
}

#[tokio::test]
async fn mysql_kill_and_restart_a_replica() {
    kill_and_restart_a_replica(SandboxFlavor::MySql).await;
}

#[tokio::test]
async fn a_paused_server_answers_nothing_until_resumed() {
    let sb = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 1, Shape::Standalone)).await.unwrap();
    sb.pause(0);
    let mut spec = sb.connect_spec(0, ADMIN_USER, ADMIN_PASSWORD);
    spec.connect_timeout = Duration::from_millis(500);
    let err =
        server::mysql::TextConn::connect(&spec).await.err().expect("a stopped server cannot complete a handshake");
    assert!(err.is_unreachable(), "{err}");
    sb.resume(0);
    sb.query(0, "SELECT 1").await.unwrap();
}

#[tokio::test]
async fn dropping_the_sandbox_kills_every_server_and_removes_its_directory() {
    let sb = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 2, Shape::PrimaryWithReplicas)).await.unwrap();
    let pids: Vec<u32> = (0..2).map(|i| sb.pid(i).unwrap()).collect();
    let dir = sb.dir().to_path_buf();
    sb.pause(1); // a stopped process must die too
    drop(sb);
    for pid in pids {
        assert!(process_gone(pid), "server process {pid} survived the drop");
    }
    assert!(!dir.exists(), "{} still exists", dir.display());
}

#[test]
fn a_sandbox_in_a_thread_that_panics_leaves_no_process() {
    let (tx, rx) = std::sync::mpsc::channel::<(Vec<u32>, PathBuf)>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let sb = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 2, Shape::Standalone)).await.unwrap();
            tx.send(((0..2).map(|i| sb.pid(i).unwrap()).collect(), sb.dir().to_path_buf())).unwrap();
            panic!("deliberate panic with a running sandbox");
        })
    });
    assert!(thread.join().is_err());
    let (pids, dir) = rx.recv().unwrap();
    for pid in pids {
        assert!(process_gone(pid), "server process {pid} survived the panic");
    }
    assert!(!dir.exists());
}

#[tokio::test]
async fn bad_options_are_refused_with_a_clear_message() {
    let err = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 0, Shape::Standalone)).await.unwrap_err();
    assert!(err.to_string().contains("count must be 1 to"), "{err}");
}

/// `orchestrator demo` and tests share a sandbox across tasks of a multi-threaded runtime.
#[test]
fn the_sandbox_and_its_futures_can_move_between_threads() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: T) {}
    let start = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 1, Shape::Standalone));
    send(start);
    fn with_sandbox(sb: &Sandbox) {
        send_sync(sb);
        send(sb.replicate(1, 0));
        send(sb.wait_caught_up(1, 0, WAIT));
        send(sb.restart(0));
        send(sb.query(0, "SELECT 1"));
    }
    let _ = with_sandbox;
}
