//! Operator intents against a real node in front of real MariaDB servers: downtime, maintenance,
//! promotion rules and tags through the API and the CLI, as the instance JSON, the text
//! topology and the audit show them; their survival across a restart of the node on the same
//! SQLite file; maintenance refusing topology operations until it ends or expires.

mod common;

use chrono::{DateTime, Utc};
use common::{replica_status, run_cli, wait_for, TestNode};
use serde_json::{json, Value};
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape};
use std::time::Duration;

/// Three MariaDB servers (a primary and two replicas), discovered by a fresh node.
struct Cluster {
    sb: Sandbox,
    node: TestNode,
    /// `host:port` of servers 0, 1, 2.
    names: Vec<String>,
}

impl Cluster {
    async fn start() -> Cluster {
        let sb = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 3, Shape::PrimaryWithReplicas)).await.unwrap();
        let node = TestNode::start(json!({})).await;
        node.discover_cluster(&sb.key(0), 3).await;
        let names = (0..3).map(|i| sb.key(i).to_string()).collect();
        Cluster { sb, node, names }
    }

    /// `host/port` of server `i`, as API paths spell an instance.
    fn path(&self, i: usize) -> String {
        format!("{}/{}", self.sb.key(i).hostname, self.sb.key(i).port)
    }

    async fn instance(&self, i: usize) -> Value {
        instance(&self.node, &self.path(i)).await
    }
}

async fn instance(node: &TestNode, path: &str) -> Value {
    let (status, body) = node.api(&format!("instance/{path}")).await;
    assert_eq!(status, 200, "instance/{path}: {body}");
    body
}

/// `method /api/path` answers the OK envelope; returns it.
async fn ok(node: &TestNode, method: &str, path: &str) -> Value {
    let (status, body) = if method == "POST" { node.api_post(path).await } else { node.api(path).await };
    assert_eq!((status, body["Code"].clone()), (200, json!("OK")), "{method} /api/{path}: {body}");
    body
}

/// `GET /api/path` is refused with `status` and a message containing `needle`, changing nothing
/// in the store.
async fn refused(node: &TestNode, path: &str, status: u16, needle: &str) -> Value {
    let before = node.node().store.fingerprint().await.unwrap();
    let (got, body) = node.api(path).await;
    assert_eq!(got, status, "/api/{path}: {body}");
    assert_eq!(body["Code"], "ERROR", "/api/{path}: {body}");
    let message = body["Message"].as_str().unwrap_or_default();
    assert!(message.contains(needle), "/api/{path}: {message:?} should contain {needle:?}");
    assert_eq!(node.node().store.fingerprint().await.unwrap(), before, "/api/{path} was refused but changed the store");
    body
}

fn key_text(v: &Value) -> String {
    format!("{}:{}", v["Hostname"].as_str().unwrap_or(""), v["Port"])
}

fn keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v.as_array().unwrap_or_else(|| panic!("expected an array: {v}")).iter().map(key_text).collect();
    keys.sort();
    keys
}

/// The `Key`s of an array of instances, sorted.
fn instance_keys(v: &Value) -> Vec<String> {
    keys(&Value::Array(v.as_array().unwrap_or_else(|| panic!("expected an array: {v}")).iter().map(|i| i["Key"].clone()).collect()))
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn timestamp(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}"))).unwrap().with_timezone(&Utc)
}

/// Seconds from now until `t` (negative when past).
fn seconds_until(t: DateTime<Utc>) -> i64 {
    (t - Utc::now()).num_seconds()
}

/// Stops the node and starts a new one on the SQLite file `db` (the first node's, whose temp
/// dir the caller keeps).
async fn restart(node: &mut TestNode, db: &std::path::Path) -> TestNode {
    node.node.take().expect("node running").stop().await;
    TestNode::start(json!({ "SQLite3DataFile": db })).await
}

#[tokio::test]
async fn intents_show_in_the_view_are_audited_and_survive_a_restart() {
    let mut c = Cluster::start().await;
    let n = c.names.clone();

    // A downtime without a duration lasts orchestrator's default, 10 minutes (never zero).
    let answer = ok(&c.node, "GET", &format!("begin-downtime/{}/alice/kernel%20upgrade", c.path(0))).await;
    assert_eq!(key_text(&answer["Details"]), n[0]);
    assert!(answer["Message"].as_str().unwrap().starts_with(&format!("Downtime begun: {}", n[0])), "{answer}");
    let primary = c.instance(0).await;
    assert_eq!(primary["IsDowntimed"], true, "{primary}");
    assert_eq!((primary["DowntimeOwner"].clone(), primary["DowntimeReason"].clone()), (json!("alice"), json!("kernel upgrade")));
    let left = seconds_until(timestamp(&primary["DowntimeEndTimestamp"]));
    assert!((590..=600).contains(&left), "default downtime should end in ~600s, ends in {left}s");
    // The text topology flags it.
    let topology = ok(&c.node, "GET", &format!("topology/{}", n[0])).await;
    let first = topology["Details"].as_str().unwrap().lines().next().unwrap().to_string();
    assert!(first.starts_with(&n[0]) && first.contains(",downtimed]"), "{first}");
    assert_eq!(instance_keys(&c.node.api("downtimed").await.1), [n[0].clone()]);
    let (_, of_cluster) = c.node.api(&format!("downtimed/{}", n[1])).await;
    assert_eq!(of_cluster.as_array().map(Vec::len), Some(1), "downtimed/<member of the cluster>: {of_cluster}");

    // Promotion rules: default neutral; register-candidate sets one (POST as well as GET).
    assert_eq!((c.instance(1).await["PromotionRule"].clone(), c.instance(1).await["IsCandidate"].clone()), (json!("neutral"), json!(false)));
    ok(&c.node, "POST", &format!("register-candidate/{}/prefer", c.path(1))).await;
    ok(&c.node, "GET", &format!("register-candidate/{}/must_not", c.path(2))).await;
    let replica = c.instance(1).await;
    assert_eq!((replica["PromotionRule"].clone(), replica["IsCandidate"].clone()), (json!("prefer"), json!(true)));
    assert_eq!(c.instance(2).await["PromotionRule"], "must_not");

    // Tags: set, read, query with orchestrator's intersection syntax.
    ok(&c.node, "GET", &format!("tag/{}?tag=role%3Dbackup", c.path(1))).await;
    ok(&c.node, "POST", &format!("tag/{}/dc/east", c.path(1))).await;
    ok(&c.node, "GET", &format!("tag/{}?tag=dc%3Deast", c.path(2))).await;
    ok(&c.node, "GET", &format!("tag/{}?tag=reporting", c.path(2))).await;
    assert_eq!(c.node.api(&format!("tags/{}", c.path(1))).await.1, json!(["dc=east", "role=backup"]));
    assert_eq!(c.node.api(&format!("tag-value/{}?tag=role", c.path(1))).await.1, json!("backup"));
    assert_eq!(c.node.api(&format!("tag-value/{}/dc", c.path(2))).await.1, json!("east"));
    assert_eq!(keys(&c.node.api("tagged?tag=dc%3Deast").await.1), sorted(vec![n[1].clone(), n[2].clone()]));
    assert_eq!(keys(&c.node.api("tagged?tag=dc%3Deast,role").await.1), [n[1].clone()]);
    assert_eq!(keys(&c.node.api("tagged?tag=dc%3Deast,!role").await.1), [n[2].clone()]);
    assert_eq!(keys(&c.node.api("tagged?tag=!dc").await.1), [n[0].clone()], "a server without any tag lacks dc");
    assert_eq!(keys(&c.node.api(&format!("tagged/{}?tag=reporting", c.path(0))).await.1), [n[2].clone()], "orchestrator-client's path");
    let tagged_topology = ok(&c.node, "GET", &format!("topology-tags/{}", n[0])).await;
    assert!(tagged_topology["Details"].as_str().unwrap().contains("[dc=east,role=backup]"), "{tagged_topology}");
    assert!(tagged_topology["Details"].as_str().unwrap().contains("[dc=east,reporting]"), "{tagged_topology}");

    // Maintenance: listed while active.
    ok(&c.node, "POST", &format!("begin-maintenance/{}/bob/disk%20swap", c.path(2))).await;
    let (_, list) = c.node.api("maintenance").await;
    let list = list.as_array().cloned().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!((key_text(&list[0]["Key"]), list[0]["Owner"].clone(), list[0]["Reason"].clone()), (n[2].clone(), json!("bob"), json!("disk swap")));
    assert_eq!(list[0]["IsActive"], true);
    let answer = ok(&c.node, "GET", &format!("in-maintenance/{}", c.path(2))).await;
    assert_eq!((answer["Message"].clone(), answer["Details"].clone()), (json!("true"), json!(n[2])));
    let answer = ok(&c.node, "GET", &format!("in-maintenance/{}", c.path(1))).await;
    assert_eq!((answer["Message"].clone(), answer["Details"].clone()), (json!("false"), json!("")));

    // Every change is audited with orchestrator's action names.
    let (_, audit) = c.node.api("audit").await;
    let actions: Vec<(String, String)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["AuditType"].as_str().unwrap().to_string(), key_text(&e["AuditInstanceKey"])))
        .collect();
    for (action, who) in [
        ("begin-downtime", &n[0]),
        ("register-candidate", &n[1]),
        ("register-candidate", &n[2]),
        ("put-instance-tag", &n[1]),
        ("begin-maintenance", &n[2]),
    ] {
        assert!(actions.contains(&(action.to_string(), who.clone())), "{action} on {who} not audited: {actions:?}");
    }
    let downtime_entry = audit.as_array().unwrap().iter().find(|e| e["AuditType"] == "begin-downtime").unwrap();
    assert_eq!(downtime_entry["Who"], "alice");
    assert!(downtime_entry["Message"].as_str().unwrap().contains("reason: kernel upgrade"), "{downtime_entry}");
    assert_eq!(downtime_entry["ClusterName"], n[0].as_str());

    // A restart on the same SQLite file shows the same intents at once, before any probe.
    let end_before = primary["DowntimeEndTimestamp"].clone();
    let db = c.node.dir.path().join("orchestrator.sqlite3");
    let mut node = restart(&mut c.node, &db).await;
    let primary = instance(&node, &c.path(0)).await;
    assert_eq!(primary["IsDowntimed"], true, "after restart: {primary}");
    assert_eq!((primary["DowntimeOwner"].clone(), primary["DowntimeEndTimestamp"].clone()), (json!("alice"), end_before));
    let replica = instance(&node, &c.path(1)).await;
    assert_eq!((replica["PromotionRule"].clone(), replica["IsCandidate"].clone()), (json!("prefer"), json!(true)));
    assert_eq!(node.api(&format!("tags/{}", c.path(1))).await.1, json!(["dc=east", "role=backup"]));
    assert_eq!(ok(&node, "GET", &format!("in-maintenance/{}", c.path(2))).await["Message"], "true");
    assert_eq!(keys(&node.api("tagged?tag=dc%3Deast,!role").await.1), [n[2].clone()]);

    // Ending and untagging, then again after another restart.
    ok(&node, "POST", &format!("end-downtime/{}", c.path(0))).await;
    assert_eq!(instance(&node, &c.path(0)).await["IsDowntimed"], false);
    let answer = ok(&node, "GET", &format!("end-downtime/{}", c.path(0))).await;
    assert!(answer["Message"].as_str().unwrap().contains("was not downtimed"), "ending twice is harmless: {answer}");
    ok(&node, "GET", &format!("end-maintenance/{}", c.path(2))).await;
    let answer = ok(&node, "GET", &format!("untag/{}?tag=role", c.path(1))).await;
    assert_eq!(answer["Details"].as_array().map(|a| a.iter().map(key_text).collect::<Vec<_>>()), Some(vec![n[1].clone()]));
    let answer = ok(&node, "GET", "untag-all/dc/east").await;
    assert_eq!(keys(&answer["Details"]), sorted(vec![n[1].clone(), n[2].clone()]));
    let node = restart(&mut node, &db).await;
    assert_eq!(instance(&node, &c.path(0)).await["IsDowntimed"], false);
    assert_eq!(node.api("maintenance").await.1, json!([]));
    assert_eq!(node.api(&format!("tags/{}", c.path(1))).await.1, json!([]));
    assert_eq!(node.api(&format!("tags/{}", c.path(2))).await.1, json!(["reporting="]));
    assert_eq!(keys(&node.api("tagged?tag=dc").await.1), Vec::<String>::new());
    drop(c);
    node.stop().await;
}

#[tokio::test]
async fn bad_requests_and_unknown_instances_are_refused_with_their_status() {
    let c = Cluster::start().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let unknown = format!("127.0.0.1/{closed}");
    for path in [
        format!("begin-downtime/{unknown}/alice/why"),
        format!("begin-maintenance/{unknown}/alice/why"),
        format!("register-candidate/{unknown}/prefer"),
        format!("tag/{unknown}?tag=a"),
        format!("end-downtime/{unknown}"),
        format!("in-maintenance/{unknown}"),
        format!("tags/{unknown}"),
    ] {
        refused(&c.node, &path, 404, "unknown instance").await;
    }
    refused(&c.node, "downtimed/no-such-cluster", 404, "unknown cluster").await;
    refused(&c.node, &format!("begin-downtime/{}/alice/why/5x", c.path(1)), 400, "invalid duration").await;
    refused(&c.node, &format!("begin-downtime/{}/alice/why/0s", c.path(1)), 400, "zero").await;
    refused(&c.node, &format!("begin-maintenance/{}/alice/%20", c.path(1)), 400, "reason is required").await;
    refused(&c.node, &format!("register-candidate/{}/must", c.path(1)), 400, "not supported").await;
    refused(&c.node, &format!("register-candidate/{}/best", c.path(1)), 400, "invalid promotion rule").await;
    refused(&c.node, "tagged", 400, "empty tag query").await;
    refused(&c.node, "tagged?tag=a,,b", 400, "empty tag name").await;
    refused(&c.node, &format!("tag/{}?tag=!a", c.path(1)), 400, "negated").await;
    refused(&c.node, &format!("tag/{}?tag=a%3Db,c", c.path(1)), 400, "cannot contain").await;
    refused(&c.node, &format!("tag/{}", c.path(1)), 400, "missing tag").await;
    refused(&c.node, "untag-all?tag=role", 400, "needs name=value").await;
    refused(&c.node, &format!("tag-value/{}?tag=nothing", c.path(1)), 404, "tag nothing not found").await;
    refused(&c.node, &format!("begin-downtime/{}/alice/why", "127.0.0.1/notaport"), 400, "invalid port").await;

    // A second maintenance lock on a server is refused (409), naming who holds it and why.
    ok(&c.node, "GET", &format!("begin-maintenance/{}/alice/reboot", c.path(1))).await;
    refused(&c.node, &format!("begin-maintenance/{}/bob/other", c.path(1)), 409, "already in maintenance by alice (reboot)").await;
}

#[tokio::test]
async fn maintenance_refuses_operations_until_it_ends_or_expires() {
    let c = Cluster::start().await;
    let (node, n) = (&c.node, &c.names);

    ok(node, "GET", &format!("begin-maintenance/{}/alice/replacing%20disks", c.path(1))).await;
    // The operation on it, and its dry run, are refused with the rule and who holds the lock.
    for path in [format!("stop-replica/{}", c.path(1)), format!("stop-replica/{}?dry_run=true", c.path(1))] {
        let body = refused(node, &path, 409, "in maintenance by alice (replacing disks)").await;
        assert_eq!(body["Details"]["Rule"], "in-maintenance", "{path}: {body}");
    }
    // An operation on another server whose plan touches it: repointing the primary's replicas.
    let body = refused(node, &format!("repoint-replicas/{}?dry_run=true", c.path(0)), 409, &format!("{} is in maintenance", n[1])).await;
    assert_eq!(body["Details"]["Rule"], "in-maintenance");
    let status = replica_status(&c.sb, 1).await.expect("still a replica");
    assert_eq!(status.text(&["Slave_IO_Running"]), "Yes", "refused operations touch nothing");
    // Other servers are free.
    ok(node, "GET", &format!("stop-replica/{}", c.path(2))).await;
    ok(node, "GET", &format!("start-replica/{}", c.path(2))).await;

    // After end-maintenance the operation runs.
    ok(node, "POST", &format!("end-maintenance/{}", c.path(1))).await;
    ok(node, "GET", &format!("stop-replica/{}", c.path(1))).await;
    assert_eq!(replica_status(&c.sb, 1).await.unwrap().text(&["Slave_IO_Running"]), "No");
    ok(node, "GET", &format!("start-replica/{}", c.path(1))).await;

    // A short maintenance expires by itself: it stops counting at its end time.
    ok(node, "GET", &format!("begin-maintenance/{}/alice/brief/3s", c.path(1))).await;
    refused(node, &format!("stop-replica/{}", c.path(1)), 409, "in maintenance").await;
    wait_for(Duration::from_secs(10), "the 3s maintenance to expire", || async {
        (ok(node, "GET", &format!("in-maintenance/{}", c.path(1))).await["Message"] == "false").then_some(())
    })
    .await;
    ok(node, "GET", &format!("stop-replica/{}", c.path(1))).await;
    ok(node, "GET", &format!("start-replica/{}", c.path(1))).await;
    ok(node, "GET", &format!("begin-maintenance/{}/bob/again/1m", c.path(1))).await;
    ok(node, "GET", &format!("end-maintenance/{}", c.path(1))).await;

    // A short downtime too; the caretaker's pass then removes the ended record and audits it.
    ok(node, "GET", &format!("begin-downtime/{}/alice/blip/2s", c.path(2))).await;
    assert_eq!(c.instance(2).await["IsDowntimed"], true);
    wait_for(Duration::from_secs(10), "the 2s downtime to expire", || async {
        let i = c.instance(2).await;
        (i["IsDowntimed"] == false).then_some(i)
    })
    .await;
    let i = c.instance(2).await;
    assert_eq!((i["DowntimeEndTimestamp"].clone(), i["DowntimeOwner"].clone()), (json!(null), json!("")));
    assert!(node.node().store.load_intents().await.unwrap().downtime.contains_key(&c.sb.key(2)), "still recorded until the caretaker runs");
    let effect = node.node().intents.expire(Utc::now()).await.unwrap();
    assert_eq!(effect.expired_downtime.len(), 1);
    assert!(node.node().store.load_intents().await.unwrap().downtime.is_empty());
    let (_, audit) = node.api(&format!("audit/instance/{}", c.path(2))).await;
    assert!(audit.as_array().unwrap().iter().any(|e| e["AuditType"] == "expire-downtime"), "{audit}");
    assert_eq!(n.len(), 3);
}

#[tokio::test]
async fn cli_intent_commands_use_orchestrators_names_flags_and_output() {
    let c = Cluster::start().await;
    let (api, n) = (c.node.url.clone(), &c.names);
    let run = |args: Vec<String>| {
        let api = api.clone();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_cli(&api, &args).await
        }
    };
    let args = |s: &[&str]| s.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let succeeds = |(code, out, err): (i32, String, String), what: &str| {
        assert_eq!(code, 0, "{what}: {err}");
        assert_eq!(err, "", "{what}: stderr");
        out.lines().map(str::to_string).collect::<Vec<_>>()
    };
    let fails = |(code, out, err): (i32, String, String), status: i32, needle: &str, what: &str| {
        assert_eq!(code, status, "{what}: {err}");
        assert_eq!(out, "", "{what}: stdout");
        assert!(err.starts_with("orchestrator: ") && err.contains(needle) && err.lines().count() == 1, "{what}: {err:?} should contain {needle:?}");
    };

    // Downtime: without --duration, orchestrator's default; printed as the key.
    let out = run(args(&["-c", "begin-downtime", "-i", &n[1], "--reason", "patching", "--owner", "carol"])).await;
    assert_eq!(succeeds(out, "begin-downtime"), [n[1].clone()]);
    let i = c.instance(1).await;
    assert_eq!((i["IsDowntimed"].clone(), i["DowntimeOwner"].clone(), i["DowntimeReason"].clone()), (json!(true), json!("carol"), json!("patching")));
    assert!((590..=600).contains(&seconds_until(timestamp(&i["DowntimeEndTimestamp"]))));
    let out = run(args(&["-c", "begin-downtime", "-i", &n[2], "--reason", "patching", "--duration", "2h"])).await;
    succeeds(out, "begin-downtime --duration 2h");
    let i = c.instance(2).await;
    assert!((7190..=7200).contains(&seconds_until(timestamp(&i["DowntimeEndTimestamp"]))), "{i}");
    assert!(!i["DowntimeOwner"].as_str().unwrap().is_empty(), "owner defaults to the user");
    assert_eq!(sorted(succeeds(run(args(&["-c", "downtimed"])).await, "downtimed")), sorted(vec![n[1].clone(), n[2].clone()]));
    assert_eq!(sorted(succeeds(run(args(&["-c", "which-downtimed-instances", "-i", &n[0]])).await, "which-downtimed-instances")), sorted(vec![n[1].clone(), n[2].clone()]));
    assert_eq!(succeeds(run(args(&["-c", "end-downtime", "-i", &n[1]])).await, "end-downtime"), [n[1].clone()]);
    assert_eq!(succeeds(run(args(&["-c", "downtimed"])).await, "downtimed"), [n[2].clone()]);

    // Maintenance.
    assert_eq!(succeeds(run(args(&["-c", "begin-maintenance", "-i", &n[1], "--reason", "reboot", "--duration", "5m"])).await, "begin-maintenance"), [n[1].clone()]);
    assert_eq!(succeeds(run(args(&["-c", "in-maintenance", "-i", &n[1]])).await, "in-maintenance"), [n[1].clone()]);
    assert!(succeeds(run(args(&["-c", "in-maintenance", "-i", &n[2]])).await, "in-maintenance").is_empty());
    fails(run(args(&["-c", "begin-maintenance", "-i", &n[1], "--reason", "again"])).await, 1, "already in maintenance", "second lock");
    fails(run(args(&["-c", "stop-replica", "-i", &n[1]])).await, 1, "in-maintenance", "operation while locked");
    assert_eq!(succeeds(run(args(&["-c", "end-maintenance", "-i", &n[1]])).await, "end-maintenance"), [n[1].clone()]);
    assert!(succeeds(run(args(&["-c", "in-maintenance", "-i", &n[1]])).await, "in-maintenance").is_empty());

    // Promotion rules: --promotion-rule defaults to prefer.
    assert_eq!(succeeds(run(args(&["-c", "register-candidate", "-i", &n[1]])).await, "register-candidate"), [n[1].clone()]);
    assert_eq!(c.instance(1).await["PromotionRule"], "prefer");
    succeeds(run(args(&["-c", "register-candidate", "-i", &n[1], "--promotion-rule", "prefer_not"])).await, "register-candidate prefer_not");
    assert_eq!((c.instance(1).await["PromotionRule"].clone(), c.instance(1).await["IsCandidate"].clone()), (json!("prefer_not"), json!(false)));

    // Tags.
    assert_eq!(succeeds(run(args(&["-c", "tag", "-i", &n[1], "--tag", "role=backup"])).await, "tag"), [n[1].clone()]);
    succeeds(run(args(&["-c", "tag", "-i", &n[1], "--tag", "dc=east"])).await, "tag");
    succeeds(run(args(&["-c", "tag", "-i", &n[2], "--tag", "dc=east"])).await, "tag");
    succeeds(run(args(&["-c", "tag", "-i", &n[0], "--tag", "primary"])).await, "tag without a value");
    assert_eq!(succeeds(run(args(&["-c", "tags", "-i", &n[1]])).await, "tags"), ["dc=east", "role=backup"]);
    assert_eq!(succeeds(run(args(&["-c", "tags", "-i", &n[0]])).await, "tags"), ["primary="]);
    assert_eq!(succeeds(run(args(&["-c", "tag-value", "-i", &n[1], "--tag", "role"])).await, "tag-value"), ["backup"]);
    assert_eq!(succeeds(run(args(&["-c", "tagged", "--tag", "dc=east"])).await, "tagged"), sorted(vec![n[1].clone(), n[2].clone()]));
    assert_eq!(succeeds(run(args(&["-c", "tagged", "--tag", "dc=east,!role"])).await, "tagged"), [n[2].clone()]);
    assert_eq!(succeeds(run(args(&["-c", "untag", "-i", &n[1], "--tag", "role"])).await, "untag"), [n[1].clone()]);
    assert_eq!(sorted(succeeds(run(args(&["-c", "untag-all", "--tag", "dc=east"])).await, "untag-all")), sorted(vec![n[1].clone(), n[2].clone()]));
    assert!(succeeds(run(args(&["-c", "tagged", "--tag", "dc"])).await, "tagged").is_empty());

    // Usage errors (exit 2) before anything is asked; refusals by the node (exit 1).
    fails(run(args(&["-c", "begin-downtime", "-i", &n[1]])).await, 2, "needs --reason", "no reason");
    fails(run(args(&["-c", "begin-maintenance", "-i", &n[1], "--reason", " "])).await, 2, "needs --reason", "blank reason");
    fails(run(args(&["-c", "begin-downtime", "-i", &n[1], "--reason", "x", "--duration", "5x"])).await, 2, "invalid duration", "bad duration");
    fails(run(args(&["-c", "begin-downtime", "--reason", "x"])).await, 2, "needs -i", "no instance");
    fails(run(args(&["-c", "register-candidate", "-i", &n[1], "--promotion-rule", "must"])).await, 2, "not supported", "must");
    fails(run(args(&["-c", "tag", "-i", &n[1]])).await, 2, "needs --tag", "no tag");
    fails(run(args(&["-c", "untag-all", "--tag", "dc"])).await, 2, "needs --tag name=value", "untag-all by name");
    fails(run(args(&["-c", "tagged", "--tag", "a,,b"])).await, 2, "empty tag name", "bad query");
    fails(run(args(&["-c", "tag-value", "-i", &n[1], "--tag", "nothing"])).await, 1, "tag nothing not found", "missing tag");
    fails(run(args(&["-c", "begin-downtime", "-i", "127.0.0.1:1", "--reason", "x"])).await, 1, "unknown instance", "unknown instance");

    // Each intent command is audited.
    let (_, audit) = c.node.api("audit").await;
    let actions: Vec<&str> = audit.as_array().unwrap().iter().filter_map(|e| e["AuditType"].as_str()).collect();
    for action in ["begin-downtime", "end-downtime", "begin-maintenance", "end-maintenance", "register-candidate", "put-instance-tag", "delete-instance-tag"] {
        assert!(actions.contains(&action), "{action} not audited: {actions:?}");
    }
}

/// In the seed's environment servers go by their aliases (`mysql1`...): `begin-downtime -i mysql3`
/// and `end-downtime -i mysql3` act on the server whose `DetectInstanceAliasQuery` says so.
#[tokio::test]
async fn intents_accept_an_instance_alias() {
    let sb = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 3, Shape::PrimaryWithReplicas)).await.unwrap();
    let node = TestNode::start(json!({ "DetectInstanceAliasQuery": "SELECT CONCAT('mysql', @@global.server_id)" })).await;
    node.discover_cluster(&sb.key(0), 3).await;
    let third = sb.key(2);
    let alias = instance(&node, &format!("{}/{}", third.hostname, third.port)).await["InstanceAlias"].as_str().unwrap_or_default().to_string();
    assert!(alias.starts_with("mysql"), "the sandbox names its servers: {alias:?}");

    let body = ok(&node, "GET", &format!("begin-downtime/{alias}/3306/dba/by-alias/10m")).await;
    assert_eq!(body["Details"]["Port"].as_u64().or(body["Details"].as_str().and_then(|d| d.rsplit(':').next()?.parse().ok())), Some(third.port as u64), "{body}");
    let view = instance(&node, &format!("{}/{}", third.hostname, third.port)).await;
    assert_eq!(view["IsDowntimed"], true, "the aliased server is downtimed: {view}");
    ok(&node, "GET", &format!("end-downtime/{alias}/3306")).await;
    assert_eq!(instance(&node, &format!("{}/{}", third.hostname, third.port)).await["IsDowntimed"], false);
    refused(&node, "begin-downtime/nosuch/3306/dba/x/10m", 404, "unknown instance").await;
    node.stop().await;
}
