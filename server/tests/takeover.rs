//! Takeovers against real servers, in the seed's own words (`graceful-master-takeover -i
//! mysql2`, `force-master-takeover -i mysql2`: `-i` names the replica to promote), with an
//! application writing throughout as a user without SUPER (read_only stops it). Checked on the
//! servers: who is writable, who replicates from whom (their own SHOW REPLICA STATUS), and that
//! every acknowledged row is on every server.
//!
//! Run with `cargo test -p server --test takeover -- --nocapture` to see the write gap.

mod common;

use common::{replica_status, run_cli, wait_for, TestNode};
use serde_json::{json, Value};
use server::mysql::TextConn;
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape, REPLICATION_PASSWORD, REPLICATION_USER};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(30);

macro_rules! for_both_flavors {
    ($($name:ident => $scenario:path;)*) => {$(
        mod $name {
            use server::sandbox::SandboxFlavor;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mariadb() {
                $scenario(SandboxFlavor::MariaDb).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                $scenario(SandboxFlavor::MySql).await;
            }
        }
    )*};
}

for_both_flavors! {
    graceful_takeover_loses_no_row => crate::graceful_takeover_loses_no_row;
    forced_then_automatic_graceful_takeover => crate::forced_then_automatic_graceful_takeover;
}

async fn start(flavor: SandboxFlavor, overrides: Value) -> (Sandbox, TestNode) {
    let sb = Sandbox::start(SandboxOptions::new(flavor, 3, Shape::PrimaryWithReplicas)).await.expect("sandbox starts");
    let mut config = json!({
        // MariaDB does not reveal the channel's password: the demoted primary needs this.
        "ReplicationCredentialsQuery": format!("SELECT '{REPLICATION_USER}', '{REPLICATION_PASSWORD}'"),
    });
    if let (Some(c), Some(o)) = (config.as_object_mut(), overrides.as_object()) {
        c.extend(o.clone());
    }
    let node = TestNode::start(config).await;
    node.discover_cluster(&sb.key(0), 3).await;
    (sb, node)
}

async fn writable(sb: &Sandbox, i: usize) -> bool {
    match sb.query(i, "SELECT @@global.read_only").await {
        Ok(rows) => rows.first().and_then(|r| r.at(0)) == Some("0"),
        Err(_) => false,
    }
}

/// (source port, IO running, SQL running) from the server's own status.
async fn channel(sb: &Sandbox, i: usize) -> Option<(String, String, String)> {
    let row = replica_status(sb, i).await?;
    Some((
        row.text(&["Source_Port", "Master_Port"]),
        row.text(&["Replica_IO_Running", "Slave_IO_Running"]),
        row.text(&["Replica_SQL_Running", "Slave_SQL_Running"]),
    ))
}

async fn replicates_from(sb: &Sandbox, i: usize, source: usize) -> bool {
    channel(sb, i).await == Some((sb.key(source).port.to_string(), "Yes".into(), "Yes".into()))
}

/// An application: one row per transaction, as user `app` (no SUPER), on whichever server is
/// writable; it switches when its server refuses.
struct App {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<(BTreeSet<u64>, Duration)>,
    acked: Arc<Mutex<usize>>,
    last_id: Arc<Mutex<u64>>,
}

impl App {
    async fn start(sb: &Sandbox) -> App {
        sb.exec(0, "CREATE DATABASE tk; CREATE TABLE tk.t (id BIGINT PRIMARY KEY, at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))").await.expect("table");
        sb.exec(0, "CREATE USER 'app'@'%' IDENTIFIED BY 'app_password'; GRANT SELECT, INSERT ON tk.* TO 'app'@'%'").await.expect("app user");
        for r in [1, 2] {
            sb.wait_caught_up(r, 0, WAIT).await.expect("replicas have the table and the user");
        }
        let specs: Vec<_> = (0..3).map(|i| sb.connect_spec(i, "app", "app_password")).collect();
        let stop = CancellationToken::new();
        let acked = Arc::new(Mutex::new(0));
        let last_id = Arc::new(Mutex::new(0));
        let (token, counter, last) = (stop.clone(), acked.clone(), last_id.clone());
        let task = tokio::spawn(async move {
            let mut ids = BTreeSet::new();
            let (mut next, mut target, mut conn): (u64, usize, Option<TextConn>) = (1, 0, None);
            let (mut last_ack, mut gap) = (Instant::now(), Duration::ZERO);
            while !token.is_cancelled() {
                if conn.is_none() {
                    conn = TextConn::connect(&specs[target]).await.ok();
                }
                let ok = match conn.as_mut() {
                    Some(c) => c.exec(&format!("INSERT INTO tk.t (id) VALUES ({next})")).await.is_ok(),
                    None => false,
                };
                if ok {
                    ids.insert(next);
                    *last.lock().unwrap() = next;
                    next += 1;
                    *counter.lock().unwrap() += 1;
                    gap = gap.max(last_ack.elapsed());
                    last_ack = Instant::now();
                } else {
                    // Refused (read-only) or gone: try the next server, as a proxy would.
                    if let Some(c) = conn.take() {
                        c.close().await;
                    }
                    target = (target + 1) % specs.len();
                    // Each attempt is a round trip already; let the other tasks run.
                    tokio::task::yield_now().await;
                }
            }
            if let Some(c) = conn {
                c.close().await;
            }
            (ids, gap)
        });
        let app = App { stop, task, acked, last_id };
        app.wait_rows(50).await;
        app
    }

    async fn wait_rows(&self, more: usize) {
        let from = *self.acked.lock().unwrap();
        wait_for(WAIT, &format!("{more} more rows written"), || async { (*self.acked.lock().unwrap() >= from + more).then_some(()) }).await;
    }

    /// The last id acknowledged so far.
    fn mark(&self) -> u64 {
        *self.last_id.lock().unwrap()
    }

    async fn stop(self) -> (BTreeSet<u64>, Duration) {
        self.stop.cancel();
        self.task.await.expect("app ends")
    }
}

/// Every server holds exactly the acknowledged rows (plus at most the one in flight).
async fn assert_all_rows_everywhere(sb: &Sandbox, acked: &BTreeSet<u64>, primary: usize) {
    let want = acked.len() as u64;
    for i in 0..3 {
        if i != primary {
            sb.wait_caught_up(i, primary, WAIT).await.expect("caught up");
        }
        let rows = sb.query(i, "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM tk.t").await.expect("count");
        let n = |c: usize| rows.first().and_then(|r| r.at(c)).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        let (count, max) = (n(0), n(1));
        assert_eq!(count, max, "[{}] ids without gaps", sb.key(i));
        assert!(count == want || count == want + 1, "[{}] holds {count} rows, {want} were acknowledged", sb.key(i));
    }
}

async fn graceful_takeover_loses_no_row(flavor: SandboxFlavor) {
    let log = tempfile::NamedTempFile::new().expect("log file");
    let l = log.path().display();
    let (sb, node) = start(
        flavor,
        json!({
            "PreGracefulTakeoverProcesses": [format!("echo pre {{command}} {{failedPort}} >> {l}")],
            "PostGracefulTakeoverProcesses": [format!("echo post {{successorPort}} >> {l}")],
        }),
    )
    .await;
    let app = App::start(&sb).await;

    // The seed's form: -i names the replica to promote.
    let clock = Instant::now();
    let (code, stdout, stderr) = run_cli(&node.url, &["-c", "graceful-master-takeover", "-i", &sb.key(1).to_string()]).await;
    let took = clock.elapsed();
    assert_eq!(code, 0, "{stdout} {stderr}");
    assert!(stdout.contains(&format!("{} is the primary", sb.key(1))), "{stdout}");
    app.wait_rows(50).await;
    let (acked, gap) = app.stop().await;
    eprintln!("{flavor}: graceful-master-takeover took {took:?} (CLI round trip); the application's longest write gap was {gap:?}");

    // The servers say: 1 takes writes, 2 replicates from it, the old primary is read-only and
    // set up to replicate from 1 but stopped (orchestrator's non-auto variant).
    assert!(writable(&sb, 1).await && !writable(&sb, 0).await && !writable(&sb, 2).await);
    assert!(replicates_from(&sb, 2, 1).await, "{:?}", channel(&sb, 2).await);
    let old = channel(&sb, 0).await.expect("the old primary has a channel");
    assert_eq!(old, (sb.key(1).port.to_string(), "No".into(), "No".into()), "the demoted primary points at the new one, stopped");
    // Started by hand, it replicates, and every acknowledged row is everywhere.
    sb.exec(0, sb.dialect().start_replica()).await.expect("start the demoted primary's replication");
    wait_for(WAIT, "the demoted primary to replicate", || async { replicates_from(&sb, 0, 1).await.then_some(()) }).await;
    assert_all_rows_everywhere(&sb, &acked, 1).await;

    // Recorded as a recovery with its command, and the hooks ran in order.
    let (_, recoveries) = node.api("audit-recovery").await;
    let r = &recoveries[0];
    assert_eq!((r["Command"].clone(), r["IsSuccessful"].clone()), (json!("graceful-master-takeover"), json!(true)), "{recoveries:#}");
    let text = std::fs::read_to_string(log.path()).unwrap_or_default();
    assert_eq!(text.lines().collect::<Vec<_>>(), [format!("pre graceful-master-takeover {}", sb.key(0).port), format!("post {}", sb.key(1).port)], "{text}");
    node.stop().await;
}

async fn forced_then_automatic_graceful_takeover(flavor: SandboxFlavor) {
    let (sb, node) = start(flavor, json!({})).await;
    let app = App::start(&sb).await;

    // Bad input changes nothing: an unknown cluster, and force-master-takeover without a
    // replica to promote (-i names the primary, which has two).
    let (code, _, stderr) = run_cli(&node.url, &["-c", "force-master-takeover", "-i", "no-such-host:1"]).await;
    assert_eq!(code, 1, "{stderr}");
    let (code, _, stderr) = run_cli(&node.url, &["-c", "force-master-takeover", "-i", &sb.key(0).to_string()]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("-d"), "{stderr}");
    assert!(writable(&sb, 0).await && replicates_from(&sb, 1, 0).await && replicates_from(&sb, 2, 0).await);

    // The seed's force-master-takeover -i <replica>: promoted at once; the other replica follows
    // it; the old primary, alive, is fenced read-only.
    let (code, stdout, stderr) = run_cli(&node.url, &["-c", "force-master-takeover", "-i", &sb.key(2).to_string()]).await;
    assert_eq!(code, 0, "{stdout} {stderr}");
    assert!(writable(&sb, 2).await, "{stdout}");
    assert!(!writable(&sb, 0).await, "the old primary is fenced");
    wait_for(WAIT, "1 to replicate from 2", || async { replicates_from(&sb, 1, 2).await.then_some(()) }).await;
    app.wait_rows(50).await;

    // graceful-master-takeover-auto on the cluster, no replica named: 2's only replica (1) is
    // promoted and 2 replicates from it, started. Every row acknowledged from now on (on 2, then
    // on 1) is on both.
    node.wait_cluster(&sb.key(2).to_string(), 2).await;
    let mark = app.mark();
    let (code, stdout, stderr) = run_cli(&node.url, &["-c", "graceful-master-takeover-auto", "-i", &sb.key(2).to_string()]).await;
    assert_eq!(code, 0, "{stdout} {stderr}");
    app.wait_rows(50).await;
    let (acked, gap) = app.stop().await;
    eprintln!("{flavor}: forced then automatic graceful takeover; longest write gap {gap:?}");
    assert!(writable(&sb, 1).await && !writable(&sb, 2).await);
    wait_for(WAIT, "2 to replicate from 1", || async { replicates_from(&sb, 2, 1).await.then_some(()) }).await;
    sb.wait_caught_up(2, 1, WAIT).await.expect("2 caught up");
    for i in [1, 2] {
        let rows = sb.query(i, &format!("SELECT id FROM tk.t WHERE id > {mark}")).await.expect("rows");
        let held: BTreeSet<u64> = rows.iter().filter_map(|r| r.at(0).and_then(|v| v.parse().ok())).collect();
        let missing: Vec<&u64> = acked.iter().filter(|id| **id > mark && !held.contains(id)).collect();
        assert!(missing.is_empty(), "[{}] acknowledged rows missing after the graceful takeover: {missing:?}", sb.key(i));
    }

    let (_, recoveries) = node.api("audit-recovery").await;
    let commands: Vec<&str> = recoveries.as_array().map(|a| a.iter().filter_map(|r| r["Command"].as_str()).collect()).unwrap_or_default();
    assert_eq!(commands, ["graceful-master-takeover-auto", "force-master-takeover"], "{recoveries:#}");
    node.stop().await;
}
