//! What every discovery scenario needs: real servers with a node in front of them, the node's
//! view of one server, and what that server itself answers (read over the sandbox's admin
//! account, with the test's own SQL, so that a parsing mistake in the probe cannot hide).

use crate::common::{wait_for, TestNode};
use serde_json::{json, Value};
use server::mysql::{TextConn, TextRow};
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape};
use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Deadline for anything the node should notice within a few poll intervals.
pub const WAIT: Duration = Duration::from_secs(30);

/// Scenarios run two at a time and share two cores; timings are measured with nothing else of
/// this binary running. Every fixture holds the gate: shared, or exclusively for measuring.
static GATE: LazyLock<RwLock<()>> = LazyLock::new(|| RwLock::new(()));

enum Gate {
    Shared(#[allow(dead_code)] RwLockReadGuard<'static, ()>),
    Exclusive(#[allow(dead_code)] RwLockWriteGuard<'static, ()>),
}

/// Servers in a replication shape, and a fresh node that has not discovered them yet.
pub struct Fixture {
    pub sb: Sandbox,
    pub node: TestNode,
    _gate: Gate,
}

impl Fixture {
    /// `count` servers of `flavor` in `shape`; the node's configuration is the test default
    /// (InstancePollSeconds 1) plus `overrides`.
    pub async fn start(flavor: SandboxFlavor, count: usize, shape: Shape, overrides: Value) -> Fixture {
        let gate = Gate::Shared(GATE.read().await);
        Self::start_with(gate, flavor, count, shape, overrides).await
    }

    /// Like `start`, once no other scenario of this binary runs (for timings).
    pub async fn start_alone(flavor: SandboxFlavor, count: usize, shape: Shape, overrides: Value) -> Fixture {
        let gate = Gate::Exclusive(GATE.write().await);
        Self::start_with(gate, flavor, count, shape, overrides).await
    }

    async fn start_with(gate: Gate, flavor: SandboxFlavor, count: usize, shape: Shape, overrides: Value) -> Fixture {
        let sb = Sandbox::start(SandboxOptions::new(flavor, count, shape)).await.expect("sandbox starts");
        let node = TestNode::start(overrides).await;
        Fixture { sb, node, _gate: gate }
    }

    pub fn flavor(&self) -> SandboxFlavor {
        self.sb.flavor()
    }

    /// `host:port` of server `i`: its instance name, and for server 0 the cluster name.
    pub fn name(&self, i: usize) -> String {
        self.sb.key(i).to_string()
    }

    /// `host/port` of server `i`, as API paths spell an instance.
    pub fn path(&self, i: usize) -> String {
        format!("{}/{}", self.sb.key(i).hostname, self.sb.key(i).port)
    }

    /// Server `i`'s key as the API spells it.
    pub fn key_json(&self, i: usize) -> Value {
        json!({"Hostname": self.sb.key(i).hostname, "Port": self.sb.key(i).port})
    }

    /// `discover` of server `i` through the API, which must succeed.
    pub async fn discover(&self, i: usize) {
        let (status, body) = self.node.api(&format!("discover/{}", self.path(i))).await;
        assert_eq!(status, 200, "discover {}: {body}", self.name(i));
        assert_eq!(body["Code"], "OK", "discover {}: {body}", self.name(i));
    }

    /// Discovers server `from` and waits until the cluster headed by server 0 lists every
    /// server, each successfully probed.
    pub async fn discover_all_from(&self, from: usize) -> Vec<Value> {
        self.discover(from).await;
        self.node.wait_cluster(&self.name(0), self.sb.servers().len()).await
    }

    /// The node's view of server `i` (`/api/instance`), which must exist.
    pub async fn instance(&self, i: usize) -> Value {
        let (status, body) = self.node.api(&format!("instance/{}", self.path(i))).await;
        assert_eq!(status, 200, "instance {}: {body}", self.name(i));
        body
    }

    /// Probes server `i` again now (`/api/refresh`) and returns the node's view afterwards.
    pub async fn refresh(&self, i: usize) -> Value {
        let (status, body) = self.node.api_post(&format!("refresh/{}", self.path(i))).await;
        assert_eq!(status, 200, "refresh {}: {body}", self.name(i));
        assert_eq!(body["Code"], "OK", "refresh {}: {body}", self.name(i));
        body["Details"].clone()
    }

    /// Polls the node's view of server `i` until `ready` holds.
    pub async fn wait_instance(&self, i: usize, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
        let what = format!("{} {what}", self.name(i));
        wait_for(WAIT, &what, || async {
            let (status, body) = self.node.api(&format!("instance/{}", self.path(i))).await;
            (status == 200 && ready(&body)).then_some(body)
        })
        .await
    }

    /// orchestrator's text topology of the cluster server `i` belongs to.
    pub async fn topology(&self, i: usize) -> String {
        let (status, body) = self.node.api(&format!("topology/{}", self.path(i))).await;
        assert_eq!(status, 200, "topology of {}: {body}", self.name(i));
        body["Details"].as_str().unwrap_or_else(|| panic!("topology text expected: {body}")).to_string()
    }

    /// The line of `topology` that shows server `i`.
    pub fn topology_line<'t>(&self, topology: &'t str, i: usize) -> &'t str {
        let name = self.name(i);
        topology
            .lines()
            .find(|l| l.split_whitespace().any(|w| w == name))
            .unwrap_or_else(|| panic!("{name} is not in the topology:\n{topology}"))
    }

    /// Runs statements on server `i` as the sandbox's admin.
    pub async fn exec(&self, i: usize, sql: &str) {
        self.sb.exec(i, sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Waits until servers `replicas` have applied everything server 0 has.
    pub async fn caught_up(&self, replicas: &[usize]) {
        for &r in replicas {
            self.sb.wait_caught_up(r, 0, WAIT).await.expect("replica catches up");
        }
    }
}

/// What one server answers about itself.
#[derive(Debug)]
pub struct ServerSays {
    pub flavor: SandboxFlavor,
    /// Global variables, by the names of `variables_sql`.
    pub vars: BTreeMap<String, String>,
    /// SHOW BINARY LOG STATUS / SHOW MASTER STATUS.
    pub binlog: Option<TextRow>,
    /// SHOW REPLICA STATUS / SHOW SLAVE STATUS; `None` when not a replica.
    pub replica: Option<TextRow>,
    /// SHOW REPLICAS / SHOW SLAVE HOSTS.
    pub replica_hosts: Vec<TextRow>,
    /// `rpl_semi_sync%` variables and status, names in lower case.
    pub semi_sync_vars: BTreeMap<String, String>,
    pub semi_sync_status: BTreeMap<String, String>,
    pub uptime: i64,
}

fn variables_sql(flavor: SandboxFlavor) -> String {
    let mut names = vec!["server_id", "version", "version_comment", "read_only", "log_bin", "binlog_format", "binlog_row_image"];
    match flavor {
        SandboxFlavor::MariaDb => names.extend(["log_slave_updates", "gtid_current_pos", "gtid_binlog_pos", "gtid_slave_pos"]),
        SandboxFlavor::MySql => {
            names.extend(["log_replica_updates", "server_uuid", "super_read_only", "gtid_mode", "gtid_executed", "gtid_purged"])
        }
    }
    let cols: Vec<String> = names.iter().map(|n| format!("@@global.{n} AS {n}")).collect();
    format!("SELECT {}", cols.join(", "))
}

fn name_value_map(rows: &[TextRow]) -> BTreeMap<String, String> {
    rows.iter().map(|r| (r.at(0).unwrap_or("").to_ascii_lowercase(), r.at(1).unwrap_or("").to_string())).collect()
}

async fn rows(conn: &mut TextConn, sql: &str) -> Vec<TextRow> {
    conn.query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Asks server `i` directly, on one admin connection.
pub async fn server_says(sb: &Sandbox, i: usize) -> ServerSays {
    let flavor = sb.flavor();
    let d = sb.dialect();
    let mut conn = sb.admin(i).await.expect("admin connection");
    let c = &mut conn;
    let vars_row = rows(c, &variables_sql(flavor)).await.into_iter().next().expect("a row of variables");
    let vars = vars_row.columns.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone().unwrap_or_default())).collect();
    let binlog = rows(c, d.show_binlog_status()).await.into_iter().next();
    let replica = rows(c, d.show_replica_status()).await.into_iter().next();
    let replica_hosts = rows(c, d.show_replica_hosts()).await;
    let semi_sync_vars = name_value_map(&rows(c, "SHOW GLOBAL VARIABLES LIKE 'rpl_semi_sync%'").await);
    let semi_sync_status = name_value_map(&rows(c, "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync%'").await);
    let uptime = name_value_map(&rows(c, "SHOW GLOBAL STATUS LIKE 'Uptime'").await)["uptime"].parse().expect("numeric uptime");
    conn.close().await;
    ServerSays { flavor, vars, binlog, replica, replica_hosts, semi_sync_vars, semi_sync_status, uptime }
}

impl ServerSays {
    pub fn var(&self, name: &str) -> &str {
        self.vars.get(name).map(String::as_str).unwrap_or_else(|| panic!("variable {name} was not read"))
    }

    /// A column of the replica status, under this flavor's name for it: MariaDB keeps the
    /// `Master_*`/`Slave_*` names, MySQL 9 has only `Source_*`/`Replica_*`.
    pub fn replica_col(&self, mysql_name: &str, mariadb_name: &str) -> String {
        let row = self.replica.as_ref().expect("a replica");
        let name = if self.flavor == SandboxFlavor::MariaDb { mariadb_name } else { mysql_name };
        row.get(&[name]).unwrap_or_else(|| panic!("no column {name} in the replica status: {row:?}")).to_string()
    }

    /// A column both flavors name alike.
    pub fn replica_same(&self, name: &str) -> String {
        self.replica_col(name, name)
    }
}

/// `{"LogFile": ..., "LogPos": ..., "Type": kind}`, as the API spells coordinates.
pub fn coordinates(file: &str, pos: &str, kind: u8) -> Value {
    json!({"LogFile": file, "LogPos": pos.parse::<u64>().unwrap_or(0), "Type": kind})
}

/// The API's thread state code for a `Yes`/`No`/other status text.
pub fn thread_state(text: &str) -> i64 {
    match text {
        "Yes" => 1,
        "No" => 0,
        "" => -1,
        _ => 2,
    }
}

/// `name: expected, got` for every field whose value differs from the node's view.
pub fn differences(instance: &Value, expected: &[(&str, Value)]) -> Vec<String> {
    expected
        .iter()
        .filter(|(field, want)| &instance[*field] != want)
        .map(|(field, want)| format!("{field}: server says {want}, node says {}", instance[*field]))
        .collect()
}

/// Compares the node's view of server `i` with the server's own answers, refreshing first; a
/// value may move between the refresh and the reading (an IO thread retrying), so a difference
/// must persist over several refreshes to fail the test.
pub async fn assert_node_agrees(fx: &Fixture, i: usize, expected: impl Fn(&ServerSays) -> Vec<(&'static str, Value)>) -> Value {
    let mut last = Vec::new();
    for _ in 0..10 {
        let instance = fx.refresh(i).await;
        let says = server_says(&fx.sb, i).await;
        last = differences(&instance, &expected(&says));
        if last.is_empty() {
            return instance;
        }
    }
    panic!("{} ({}): the node disagrees with the server:\n  {}", fx.name(i), fx.flavor(), last.join("\n  "));
}

/// Keys (`host:port`) of a list of instances or keys, sorted.
pub fn key_names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("expected an array: {list}"))
        .iter()
        .map(|v| {
            let k = if v.get("Key").is_some() { &v["Key"] } else { v };
            format!("{}:{}", k["Hostname"].as_str().unwrap_or(""), k["Port"])
        })
        .collect();
    names.sort();
    names
}
