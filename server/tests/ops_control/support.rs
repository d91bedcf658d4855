//! What every replica-control scenario needs: three real servers (a primary and two replicas)
//! discovered by a fresh node, the operations through the API and the CLI, and what the servers
//! themselves answer (read over the sandbox's admin account with the test's own SQL, never from
//! the node's store).

use crate::common::{replica_status, run_cli, scalar, wait_for, TestNode};
use serde_json::Value;
use server::mysql::dialect::replica_status_column_names;
use server::mysql::{Dialect, TextRow};
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape};
use std::time::Duration;

/// Deadline for anything that should happen within a few poll intervals.
pub const WAIT: Duration = Duration::from_secs(30);

/// Server 0 is the primary; 1 and 2 replicate from it.
pub const PRIMARY: usize = 0;

pub struct Fixture {
    pub sb: Sandbox,
    pub node: TestNode,
}

impl Fixture {
    /// Three servers of `flavor` (GTID positioning or binlog coordinates), a node configured with
    /// `overrides`, the cluster discovered, and a table `ctl.t` on every server.
    pub async fn start(flavor: SandboxFlavor, gtid: bool, overrides: Value) -> Fixture {
        let opts = SandboxOptions::new(flavor, 3, Shape::PrimaryWithReplicas).with_gtid(gtid);
        let sb = Sandbox::start(opts).await.expect("sandbox starts");
        let node = TestNode::start(overrides).await;
        node.discover_cluster(&sb.key(PRIMARY), 3).await;
        let f = Fixture { sb, node };
        f.exec(PRIMARY, "CREATE DATABASE ctl; CREATE TABLE ctl.t (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL)").await;
        f.insert(1..=10).await;
        f.caught_up(&[1, 2]).await;
        f
    }

    pub fn flavor(&self) -> SandboxFlavor {
        self.sb.flavor()
    }

    pub fn dialect(&self) -> Dialect {
        self.sb.dialect()
    }

    pub fn mariadb(&self) -> bool {
        self.flavor() == SandboxFlavor::MariaDb
    }

    /// `host:port` of server `i`.
    pub fn name(&self, i: usize) -> String {
        self.sb.key(i).to_string()
    }

    /// `host/port` of server `i`, as API paths spell an instance.
    pub fn path(&self, i: usize) -> String {
        format!("{}/{}", self.sb.key(i).hostname, self.sb.key(i).port)
    }

    /// Runs statements on server `i` as the sandbox's admin.
    pub async fn exec(&self, i: usize, sql: &str) {
        self.sb.exec(i, sql).await.unwrap_or_else(|e| panic!("{sql} on {}: {e}", self.name(i)));
    }

    pub async fn scalar(&self, i: usize, sql: &str) -> String {
        scalar(&self.sb, i, sql).await
    }

    /// Rows `ids` written on the primary, one transaction each, `v` = "primary".
    pub async fn insert(&self, ids: std::ops::RangeInclusive<i32>) {
        for id in ids {
            self.exec(PRIMARY, &format!("INSERT INTO ctl.t VALUES ({id}, 'primary')")).await;
        }
    }

    /// `count,sum(id)` of `ctl.t` on server `i`.
    pub async fn rows(&self, i: usize) -> String {
        self.scalar(i, "SELECT CONCAT(COUNT(*), ',', COALESCE(SUM(id), 0)) FROM ctl.t").await
    }

    /// What `CHECKSUM TABLE ctl.t` answers on server `i`.
    pub async fn checksum(&self, i: usize) -> String {
        let rows = self.sb.query(i, "CHECKSUM TABLE ctl.t").await.expect("checksum");
        rows.first().map(|r| r.text(&["Checksum"])).unwrap_or_default()
    }

    /// Waits until server `i` holds exactly the primary's rows (same checksum).
    pub async fn same_rows_as_primary(&self, i: usize) {
        let want = self.checksum(PRIMARY).await;
        let what = format!("{} to hold the primary's rows ({})", self.name(i), self.rows(PRIMARY).await);
        wait_for(WAIT, &what, || async { (self.checksum(i).await == want).then_some(()) }).await;
    }

    /// Waits until servers `replicas` have applied everything the primary has.
    pub async fn caught_up(&self, replicas: &[usize]) {
        for &r in replicas {
            self.sb.wait_caught_up(r, PRIMARY, WAIT).await.expect("replica catches up");
        }
    }

    /// Server `i`'s own SHOW REPLICA/SLAVE STATUS row (`None`: not a replica).
    pub async fn status(&self, i: usize) -> Option<TextRow> {
        replica_status(&self.sb, i).await
    }

    /// One column of server `i`'s replica status under its new name (`Replica_IO_Running`).
    pub async fn status_col(&self, i: usize, name: &'static str) -> String {
        let row = self.status(i).await.unwrap_or_else(|| panic!("{} is not a replica", self.name(i)));
        col(&row, name)
    }

    /// `(IO running, SQL running)` as the server says: "Yes", "No", "Connecting".
    pub async fn threads(&self, i: usize) -> (String, String) {
        let row = self.status(i).await.unwrap_or_else(|| panic!("{} is not a replica", self.name(i)));
        (col(&row, "Replica_IO_Running"), col(&row, "Replica_SQL_Running"))
    }

    /// Waits until server `i`'s threads are as given.
    pub async fn wait_threads(&self, i: usize, io: &str, sql: &str) {
        let what = format!("{} threads IO={io} SQL={sql}", self.name(i));
        wait_for(WAIT, &what, || async {
            let (a, b) = self.threads(i).await;
            (a == io && b == sql).then_some(())
        })
        .await;
    }

    /// A global variable of server `i`, as the server prints it.
    pub async fn global(&self, i: usize, var: &str) -> String {
        self.scalar(i, &format!("SELECT @@global.{var}")).await
    }

    /// A status variable of server `i` (empty when absent).
    pub async fn status_var(&self, i: usize, name: &str) -> String {
        let rows = self.sb.query(i, &format!("SHOW GLOBAL STATUS LIKE '{name}'")).await.expect("status");
        rows.first().and_then(|r| r.at(1)).unwrap_or("").to_string()
    }

    /// The node's view of server `i`.
    pub async fn instance(&self, i: usize) -> Value {
        let (status, body) = self.node.api(&format!("instance/{}", self.path(i))).await;
        assert_eq!(status, 200, "instance {}: {body}", self.name(i));
        body
    }

    /// Polls the node's view of server `i` until `ready` holds.
    pub async fn wait_instance(&self, i: usize, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
        let what = format!("the node to see {} {what}", self.name(i));
        wait_for(WAIT, &what, || async {
            let (status, body) = self.node.api(&format!("instance/{}", self.path(i))).await;
            (status == 200 && ready(&body)).then_some(body)
        })
        .await
    }

    /// Runs `op` on server `i` (extra path segments in `rest`, e.g. `/5`) with GET or POST;
    /// expects the OK envelope and returns the whole body (`Details`: the instance afterwards,
    /// `Operation`: the report).
    pub async fn run(&self, method: &str, op: &str, i: usize, rest: &str) -> Value {
        let path = format!("{op}/{}{rest}", self.path(i));
        let (status, body) = if method == "POST" { self.node.api_post(&path).await } else { self.node.api(&path).await };
        assert_eq!(status, 200, "{method} /api/{path}: {body}");
        assert_eq!(body["Code"], "OK", "{method} /api/{path}: {body}");
        assert_eq!(body["Operation"]["Success"], true, "{method} /api/{path}: {body}");
        body
    }

    /// Asks for `op`'s plan on server `i`; returns the statements per step. Checks the answer
    /// says it is a dry run.
    pub async fn dry_run(&self, op: &str, i: usize, rest: &str) -> Vec<(String, Vec<String>)> {
        let path = format!("{op}/{}{rest}?dry_run=true", self.path(i));
        let (status, body) = self.node.api(&path).await;
        assert_eq!(status, 200, "GET /api/{path}: {body}");
        assert_eq!(body["Code"], "OK", "GET /api/{path}: {body}");
        assert!(body["Message"].as_str().unwrap_or("").contains("dry run"), "{body}");
        plan_steps(&body["Details"])
    }

    /// `op` on server `i` must be refused by `rule` (409, the rule in `Details`), and nothing
    /// may change: server `i`'s replica status and the audit stay as they were.
    pub async fn refused(&self, method: &str, op: &str, i: usize, rest: &str, rule: &str) -> String {
        let before = (self.replication_state(i).await, self.audit_count().await);
        let path = format!("{op}/{}{rest}", self.path(i));
        let (status, body) = if method == "POST" { self.node.api_post(&path).await } else { self.node.api(&path).await };
        assert_eq!(status, 409, "{method} /api/{path} should be refused by {rule}: {body}");
        assert_eq!(body["Code"], "ERROR", "{body}");
        assert_eq!(body["Details"]["Rule"], rule, "{method} /api/{path}: {body}");
        let message = body["Message"].as_str().unwrap_or("").to_string();
        assert!(message.contains(&format!("refused by rule {rule}")), "{message}");
        let after = (self.replication_state(i).await, self.audit_count().await);
        assert_eq!(before, after, "a refused {op} changed something on {}", self.name(i));
        message
    }

    /// What a refusal or a dry run must leave alone on server `i`: source, threads, how it
    /// positions (GTID or not), errors, delay, read_only. Not the executed position: a
    /// multi-threaded applier moves it at its next checkpoint, after the transactions.
    pub async fn replication_state(&self, i: usize) -> Vec<String> {
        let mut state = vec![format!("read_only={}", self.global(i, "read_only").await)];
        if let Some(row) = self.status(i).await {
            for c in ["Source_Host", "Source_Port", "Replica_IO_Running", "Replica_SQL_Running", "Last_SQL_Errno", "SQL_Delay"] {
                state.push(format!("{c}={}", col(&row, c)));
            }
            state.push(format!("gtid={}{}", row.text(&["Auto_Position"]), row.text(&["Using_Gtid"])));
        }
        state
    }

    /// Number of audit entries the node has recorded (`/api/audit` pages of 20).
    pub async fn audit_count(&self) -> usize {
        let mut total = 0;
        for page in 0.. {
            let (status, body) = self.node.api(&format!("audit/{page}")).await;
            assert_eq!(status, 200, "audit: {body}");
            let n = body.as_array().map(Vec::len).unwrap_or(0);
            total += n;
            if n < 20 {
                break;
            }
        }
        total
    }

    /// The newest audit entry of server `i` for `action`: its statements, step by step.
    pub async fn audited(&self, i: usize, action: &str) -> Vec<(String, Vec<String>)> {
        let (status, body) = self.node.api(&format!("audit/instance/{}", self.path(i))).await;
        assert_eq!(status, 200, "audit: {body}");
        let entry = body
            .as_array()
            .and_then(|a| a.iter().find(|e| e["AuditType"] == action))
            .unwrap_or_else(|| panic!("no audit entry {action} for {}: {body}", self.name(i)))
            .clone();
        assert_eq!(entry["Details"]["Success"], true, "{entry}");
        assert!(entry["Message"].as_str().unwrap_or("").contains("done"), "{entry}");
        entry["Details"]["Steps"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|s| (s["Server"]["Port"].to_string(), strings(&s["Statements"])))
            .collect()
    }

    /// `orchestrator <args>`: must succeed; the lines printed.
    pub async fn cli(&self, args: &[&str]) -> Vec<String> {
        let (code, out, err) = run_cli(&self.node.url, args).await;
        assert_eq!(code, 0, "`orchestrator {}` failed: {err}", args.join(" "));
        out.lines().map(str::to_string).collect()
    }

    /// `orchestrator <args>` that must fail; its stderr.
    pub async fn cli_fails(&self, args: &[&str]) -> String {
        let (code, out, err) = run_cli(&self.node.url, args).await;
        assert_ne!(code, 0, "`orchestrator {}` should fail: {out}", args.join(" "));
        assert_eq!(out, "", "`orchestrator {}` printed on stdout", args.join(" "));
        err
    }
}

/// One column of a replica status row under either generation of names.
pub fn col(row: &TextRow, new_name: &'static str) -> String {
    let [new, old] = replica_status_column_names(new_name);
    row.text(&[new.as_str(), old.as_str()])
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().map(|s| s.as_str().unwrap_or("").to_string()).collect()).unwrap_or_default()
}

/// A plan's steps as (server port, statements).
pub fn plan_steps(plan: &Value) -> Vec<(String, Vec<String>)> {
    plan["Steps"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|s| (s["Server"]["Port"].to_string(), strings(&s["Statements"])))
        .collect()
}

/// Every statement of a plan or audit, in order.
pub fn all_statements(steps: &[(String, Vec<String>)]) -> Vec<String> {
    steps.iter().flat_map(|(_, s)| s.clone()).collect()
}
