//! orchestrator's `/api` against a real node in front of real MariaDB servers: every route's
//! shape (bare JSON for reads, the `{Code, Message, Details}` envelope for writes), the statuses
//! of refusals, and that a refused request changes nothing.

mod common;

use common::{scalar, TestNode};
use serde_json::{json, Value};
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape};

/// Three MariaDB servers (a primary and two replicas), discovered by a fresh node.
struct Cluster {
    sb: Sandbox,
    node: TestNode,
    /// `host:port` of servers 0, 1, 2; `names[0]` is also the cluster name.
    names: Vec<String>,
}

impl Cluster {
    async fn start(overrides: Value) -> Cluster {
        let sb = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 3, Shape::PrimaryWithReplicas)).await.unwrap();
        let node = TestNode::start(overrides).await;
        node.discover_cluster(&sb.key(0), 3).await;
        let names = (0..3).map(|i| sb.key(i).to_string()).collect();
        Cluster { sb, node, names }
    }

    /// `host/port` of server `i`, as API paths spell an instance.
    fn path(&self, i: usize) -> String {
        format!("{}/{}", self.sb.key(i).hostname, self.sb.key(i).port)
    }
}

/// A port nothing listens on: bound by the OS, then released.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn key_text(v: &Value) -> String {
    format!("{}:{}", v["Hostname"].as_str().unwrap_or(""), v["Port"])
}

/// The `Key`s of an array of instances, in the order given.
fn keys(list: &Value) -> Vec<String> {
    list.as_array().unwrap_or_else(|| panic!("expected an array, got {list}")).iter().map(|i| key_text(&i["Key"])).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// A read answers bare JSON (no envelope) with 200.
async fn read(node: &TestNode, path: &str) -> Value {
    let (status, body) = node.api(path).await;
    assert_eq!(status, 200, "GET /api/{path}: {body}");
    assert!(body.get("Code").is_none(), "GET /api/{path} should answer bare JSON, not an envelope: {body}");
    body
}

/// A write (or health route) answers the OK envelope with 200; returns its `Details`.
fn assert_ok_envelope(what: &str, status: u16, body: &Value, message_has: &str) -> Value {
    assert_eq!(status, 200, "{what}: {body}");
    assert_eq!(body["Code"], "OK", "{what}: {body}");
    let message = body["Message"].as_str().unwrap_or_else(|| panic!("{what}: no Message in {body}"));
    assert!(message.contains(message_has), "{what}: message {message:?} should contain {message_has:?}");
    assert!(body.get("Details").is_some(), "{what}: no Details in {body}");
    body["Details"].clone()
}

async fn write(node: &TestNode, method: &str, path: &str, message_has: &str) -> Value {
    let (status, body) = if method == "POST" { node.api_post(path).await } else { node.api(path).await };
    assert_ok_envelope(&format!("{method} /api/{path}"), status, &body, message_has)
}

/// Everything a refused request must leave as it was: the store, the clusters, the instances.
async fn snapshot(node: &TestNode) -> (String, Value, Vec<String>) {
    // Observations are written behind; flush so that a server a refused request let in would
    // show in the store now.
    node.node().discovery.flush().await.unwrap();
    let fingerprint = node.node().store.fingerprint().await.unwrap();
    let (_, clusters) = node.api("clusters-info").await;
    let (_, all) = node.api("all-instances").await;
    (fingerprint, clusters, sorted(keys(&all)))
}

/// Sends `method /api/path`, expects an error envelope with `status` whose message contains
/// `message_has`, and checks that nothing changed.
async fn assert_refused(node: &TestNode, method: &str, path: &str, status: u16, message_has: &str) {
    let before = snapshot(node).await;
    let (got, body) = if method == "POST" { node.api_post(path).await } else { node.api(path).await };
    let what = format!("{method} /api/{path}");
    assert_eq!(got, status, "{what}: {body}");
    assert_eq!(body["Code"], "ERROR", "{what}: {body}");
    let message = body["Message"].as_str().unwrap_or_default();
    assert!(message.contains(message_has), "{what}: message {message:?} should contain {message_has:?}");
    assert_eq!(message.lines().count(), 1, "{what}: one-line message, got {message:?}");
    assert_eq!(snapshot(node).await, before, "{what} was refused but changed the node's state");
}

#[tokio::test]
async fn instance_and_cluster_reads_answer_orchestrators_shapes() {
    let c = Cluster::start(json!({})).await;
    let (node, n) = (&c.node, &c.names);
    let version = scalar(&c.sb, 0, "SELECT @@version").await;

    let primary = read(node, &format!("instance/{}", c.path(0))).await;
    assert_eq!(key_text(&primary["Key"]), n[0]);
    assert_eq!(primary["ClusterName"], n[0].as_str());
    assert_eq!(primary["ReplicationDepth"], 0);
    assert_eq!(primary["FlavorName"], "MariaDB");
    assert_eq!(primary["Version"], version.as_str());
    assert_eq!(primary["ServerID"], 1);
    assert_eq!(primary["MasterKey"]["Hostname"], "");
    assert_eq!(sorted(primary["Replicas"].as_array().unwrap().iter().map(key_text).collect()), sorted(n[1..].to_vec()));
    assert_eq!(primary["SlaveHosts"], primary["Replicas"], "legacy duplicate");
    assert_eq!(primary["IsLastCheckValid"], true);

    let replica = read(node, &format!("instance/{}", c.path(1))).await;
    assert_eq!(key_text(&replica["MasterKey"]), n[0]);
    assert_eq!(replica["ReplicationDepth"], 1);
    assert_eq!(replica["ServerID"], 2);
    assert_eq!((replica["ReplicationIOThreadRuning"].clone(), replica["Slave_SQL_Running"].clone()), (json!(true), json!(true)));
    assert_eq!(replica["UsingMariaDBGTID"], true);
    assert_eq!(replica["ReplicationLagSeconds"]["Valid"], true);

    // The cluster by name, by alias (defaults to the name), by member instance, by fuzzy text.
    let port2 = c.sb.key(2).port.to_string();
    for path in [
        format!("cluster/{}", n[0]),
        format!("cluster/alias/{}", n[0]),
        format!("cluster/instance/{}", c.path(2)),
        format!("cluster/{}", n[1]),
        format!("cluster/{port2}"),
    ] {
        let members = read(node, &path).await;
        assert_eq!(keys(&members)[0], n[0], "{path}: the primary comes first");
        assert_eq!(sorted(keys(&members)), sorted(n.clone()), "{path}");
        assert!(members.as_array().unwrap().iter().all(|m| m["ClusterName"] == n[0].as_str()), "{path}");
    }

    let info = read(node, &format!("cluster-info/{}", n[2])).await;
    assert_eq!(
        info,
        json!({"ClusterName": n[0], "ClusterAlias": n[0], "ClusterDomain": "", "CountInstances": 3, "HeuristicLag": 0,
               "HasAutomatedMasterRecovery": false, "HasAutomatedIntermediateMasterRecovery": false})
    );
    assert_eq!(read(node, &format!("cluster-info/alias/{}", n[0])).await, info);
    assert_eq!(read(node, "clusters").await, json!([n[0]]));
    assert_eq!(read(node, "clusters-info").await, json!([info]));

    assert_eq!(keys(&read(node, "masters").await), [n[0].clone()]);
    for path in [format!("master/{}", n[0]), format!("master/{}", n[1]), format!("cluster-master/{}", n[2])] {
        assert_eq!(key_text(&read(node, &path).await["Key"]), n[0], "{path}");
    }
    assert_eq!(sorted(keys(&read(node, "all-instances").await)), sorted(n.clone()));

    assert_eq!(sorted(keys(&read(node, &format!("instance-replicas/{}", c.path(0))).await)), sorted(n[1..].to_vec()));
    assert_eq!(read(node, &format!("instance-replicas/{}", c.path(1))).await, json!([]));
}

#[tokio::test]
async fn search_topology_health_and_audit_reads() {
    let c = Cluster::start(json!({})).await;
    let (node, n) = (&c.node, &c.names);

    let port1 = c.sb.key(1).port;
    assert_eq!(keys(&read(node, &format!("search/{port1}")).await), [n[1].clone()], "exact port");
    assert_eq!(keys(&read(node, &format!("search?s={port1}")).await), [n[1].clone()]);
    assert_eq!(sorted(keys(&read(node, "search/mariadb").await)), sorted(n.clone()), "version, case-insensitive");
    assert_eq!(read(node, "search?s=no-such-thing").await, json!([]));

    for path in [format!("topology/{}", n[0]), format!("topology/{}", c.path(2)), format!("topology/{}", n[1])] {
        let text = write(node, "GET", &path, &format!("Topology for cluster {}", n[0])).await;
        let lines: Vec<&str> = text.as_str().unwrap().lines().collect();
        assert_eq!(lines.len(), 3, "{path}: {text}");
        assert!(lines[0].starts_with(&format!("{} ", n[0])), "{path}: {lines:?}");
        assert!(lines[1..].iter().all(|l| l.starts_with("+ 127.0.0.1:")), "{path}: {lines:?}");
        let bracket = lines[0].find('[').unwrap();
        assert!(lines.iter().all(|l| l.find('[') == Some(bracket)), "{path}: brackets aligned: {lines:?}");
    }
    for path in [format!("topology-tabulated/{}", c.path(0)), format!("topology-tabulated/{}", n[0])] {
        let tabulated = write(node, "GET", &path, &format!("Topology for cluster {}", n[0])).await;
        let lines: Vec<&str> = tabulated.as_str().unwrap().lines().collect();
        assert_eq!(lines.len(), 3, "{path}: {tabulated}");
        for line in lines {
            assert_eq!(line.split('|').count(), 7, "{path}: name, lag, status, version, ro/rw, binlog, flags: {line:?}");
        }
    }

    for path in ["status", "health"] {
        let details = write(node, "GET", path, "Application node is healthy").await;
        assert_eq!(details["Healthy"], true, "{path}");
        assert_eq!(details["IsActiveNode"], true, "{path}");
        assert!(details["Token"].as_str().is_some_and(|t| !t.is_empty()), "{path}: {details}");
        assert_eq!(details["ActiveNode"]["Token"], details["Token"]);
    }
    for path in ["leader-check", "leader-check/503", "lb-check", "_ping"] {
        assert_eq!(read(node, path).await, json!("OK"), "{path}");
    }
    assert_eq!(read(node, "discovery-metrics").await["KnownInstances"], 3);

    let audit = read(node, "audit").await;
    let entry = &audit.as_array().unwrap()[0];
    assert_eq!((entry["AuditType"].as_str(), key_text(&entry["AuditInstanceKey"])), (Some("discover"), n[0].clone()));
    assert_eq!(entry["ClusterName"], n[0].as_str());
    assert_eq!(read(node, "audit/0").await, audit);
    assert_eq!(read(node, "audit/1").await, json!([]), "20 per page");
    assert_eq!(read(node, &format!("audit/instance/{}", c.path(0))).await, audit);
    assert_eq!(read(node, &format!("audit/instance/{}/0", c.path(0))).await, audit);
    assert_eq!(read(node, &format!("audit/instance/{}", c.path(1))).await, json!([]));
}

#[tokio::test]
async fn writes_answer_the_envelope_accept_post_and_are_audited() {
    let c = Cluster::start(json!({})).await;
    let (node, n) = (&c.node, &c.names);

    let discovered = write(node, "POST", &format!("discover/{}", c.path(1)), &format!("Instance discovered: {}", n[1])).await;
    assert_eq!(key_text(&discovered["Key"]), n[1]);
    let refreshed = write(node, "GET", &format!("refresh/{}", c.path(2)), "Instance refreshed").await;
    assert_eq!(key_text(&refreshed["Key"]), n[2]);
    let key = write(node, "GET", &format!("async-discover/{}", c.path(2)), "Asynchronous discovery initiated").await;
    assert_eq!(key_text(&key), n[2]);

    // An alias, set by GET then changed by POST; the cluster is found by it.
    assert_eq!(write(node, "GET", &format!("set-cluster-alias/{}?alias=main", n[0]), "alias 'main'").await, "main");
    assert_eq!(node.node().store.cluster_aliases().await.unwrap().get(&n[0]).map(String::as_str), Some("main"));
    assert_eq!(read(node, "cluster-info/alias/main").await["ClusterAlias"], "main");
    assert_eq!(write(node, "POST", &format!("set-cluster-alias/{}?alias=prod", n[0]), "alias 'prod'").await, "prod");
    for path in ["cluster/alias/prod", "cluster/prod"] {
        assert_eq!(sorted(keys(&read(node, path).await)), sorted(n.clone()), "{path}");
    }
    assert_eq!(read(node, "clusters-info").await[0]["ClusterAlias"], "prod");
    assert_eq!(key_text(&read(node, "master/prod").await["Key"]), n[0]);
    write(node, "GET", "topology/prod", &format!("Topology for cluster {}", n[0])).await;
    assert_eq!(node.api("cluster/alias/main").await.0, 404, "the old alias is gone");

    // Forget by POST: gone from the API and the store at once.
    let forgotten = write(node, "POST", &format!("forget/{}", c.path(2)), &format!("Instance forgotten: {}", n[2])).await;
    assert_eq!(key_text(&forgotten), n[2]);
    assert_eq!(node.api(&format!("instance/{}", c.path(2))).await.0, 404);
    assert!(!node.node().store.fingerprint().await.unwrap().contains(&n[2]), "{} left the store", n[2]);

    let audit = read(node, "audit").await;
    let actions: Vec<(String, String, String)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["AuditType"].as_str().unwrap().to_string(), key_text(&e["AuditInstanceKey"]), e["Message"].as_str().unwrap().to_string()))
        .collect();
    let expected = [("forget", n[2].as_str(), ""), ("set-cluster-alias", ":0", "prod"), ("set-cluster-alias", ":0", "main"), ("discover", n[1].as_str(), ""), ("discover", n[0].as_str(), "")];
    let expected: Vec<(String, String, String)> = expected.iter().map(|(a, k, m)| (a.to_string(), k.to_string(), m.to_string())).collect();
    assert_eq!(actions, expected, "newest first");
    assert_eq!(read(node, &format!("audit/instance/{}", c.path(2))).await[0]["AuditType"], "forget");

    // Forget the cluster by its alias: every member goes (the forgotten replica may be back
    // already if this machine is slow: it is forgotten for 3 poll intervals only).
    let members = keys(&read(node, "cluster/prod").await);
    let keys_gone = write(node, "GET", "forget-cluster/prod", &format!("Cluster forgotten: {}", n[0])).await;
    assert_eq!(sorted(keys_gone.as_array().unwrap().iter().map(key_text).collect()), sorted(members));
    assert_eq!(read(node, "clusters").await, json!([]));
    assert_eq!(read(node, "all-instances").await, json!([]));
    assert_eq!(read(node, "audit").await[0]["AuditType"], "forget-cluster");
}

#[tokio::test]
async fn refusals_have_their_status_name_the_problem_and_change_nothing() {
    let c = Cluster::start(json!({})).await;
    let (node, n) = (&c.node, &c.names);
    let closed = closed_port();
    let nowhere = format!("127.0.0.1/{closed}");
    let nowhere_key = format!("127.0.0.1:{closed}");
    let cases: Vec<(&str, String, u16, String)> = vec![
        // unknown instance
        ("GET", format!("instance/{nowhere}"), 404, format!("unknown instance {nowhere_key}")),
        ("GET", format!("instance-replicas/{nowhere}"), 404, format!("unknown instance {nowhere_key}")),
        ("GET", format!("cluster/instance/{nowhere}"), 404, format!("unknown instance {nowhere_key}")),
        ("GET", format!("topology/{nowhere}"), 404, format!("unknown instance {nowhere_key}")),
        ("GET", format!("refresh/{nowhere}"), 404, format!("unknown instance {nowhere_key}")),
        ("GET", format!("forget/{nowhere}"), 404, format!("unknown instance {nowhere_key}")),
        ("POST", format!("forget/{nowhere}"), 404, format!("unknown instance {nowhere_key}")),
        // unknown cluster
        ("GET", "cluster/no-such-cluster".into(), 404, "unknown cluster \"no-such-cluster\"".into()),
        ("GET", "cluster/alias/no-such-alias".into(), 404, "no-such-alias".into()),
        ("GET", "cluster-info/no-such-cluster".into(), 404, "unknown cluster".into()),
        ("GET", "master/no-such-cluster".into(), 404, "unknown cluster".into()),
        ("GET", "topology-tabulated/no-such-cluster".into(), 404, "unknown cluster".into()),
        ("GET", "forget-cluster/no-such-cluster".into(), 404, "unknown cluster".into()),
        ("POST", "forget-cluster/no-such-cluster".into(), 404, "unknown cluster".into()),
        ("GET", "set-cluster-alias/no-such-cluster?alias=x".into(), 404, "unknown cluster \"no-such-cluster\"".into()),
        ("POST", format!("set-cluster-alias/{}?alias=x", n[1]), 404, "give the cluster name".into()),
        // unknown route, or a method a route does not take
        ("GET", "no-such-route".into(), 404, "no such API route: /api/no-such-route".into()),
        ("GET", "instance/127.0.0.1".into(), 404, "no such API route".into()),
        ("POST", format!("instance/{}", c.path(0)), 405, "method POST is not allowed".into()),
        // malformed ports and hosts
        ("GET", "instance/127.0.0.1/0".into(), 400, "invalid port \"0\"".into()),
        ("GET", "instance/127.0.0.1/70000".into(), 400, "invalid port \"70000\"".into()),
        ("GET", "discover/127.0.0.1/abc".into(), 400, "invalid port \"abc\"".into()),
        ("POST", "forget/127.0.0.1/-1".into(), 400, "invalid port \"-1\"".into()),
        ("GET", "discover/db;drop/3306".into(), 400, "invalid host name \"db;drop\"".into()),
        ("POST", "discover/db%20x/3306".into(), 400, "invalid host name \"db x\"".into()),
        ("GET", "instance/db1:3306/3306".into(), 400, "invalid host name \"db1:3306\"".into()),
        ("GET", "discover/%FF/3306".into(), 400, "UTF-8".into()),
        // missing or bad parameters
        ("GET", format!("set-cluster-alias/{}", n[0]), 400, "missing ?alias=".into()),
        ("POST", format!("set-cluster-alias/{}", n[0]), 400, "missing ?alias=".into()),
        ("GET", "audit/x".into(), 400, "invalid page \"x\"".into()),
        ("GET", "audit/-1".into(), 400, "invalid page \"-1\"".into()),
        ("GET", format!("audit/instance/{}/next", c.path(0)), 400, "invalid page \"next\"".into()),
        ("GET", "search?s=".into(), 400, "empty search text".into()),
        ("GET", "search/%20".into(), 400, "empty search text".into()),
        ("GET", "search".into(), 400, "missing ?s=".into()),
        ("GET", "leader-check/abc".into(), 400, "invalid status code \"abc\"".into()),
        // a server that does not answer
        ("GET", format!("discover/{nowhere}"), 502, nowhere_key.clone()),
        ("POST", format!("discover/{nowhere}"), 502, nowhere_key.clone()),
    ];
    for (method, path, status, message_has) in &cases {
        assert_refused(node, method, path, *status, message_has).await;
    }
    // Still the same three servers, all of them probed fine.
    node.wait_cluster(&n[0], 3).await;
}

#[tokio::test]
async fn read_only_node_refuses_mutations_with_409() {
    let sb = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 3, Shape::PrimaryWithReplicas)).await.unwrap();
    // A read-only node still discovers its seeds by itself.
    let node = TestNode::start(json!({"ReadOnly": true, "DiscoverySeeds": [sb.key(0).to_string()]})).await;
    let cluster = sb.key(0).to_string();
    node.wait_cluster(&cluster, 3).await;
    let path = |i: usize| format!("{}/{}", sb.key(i).hostname, sb.key(i).port);
    let closed = closed_port();
    for method in ["GET", "POST"] {
        for target in [
            format!("discover/{}", path(1)),
            format!("discover/127.0.0.1/{closed}"),
            format!("async-discover/127.0.0.1/{closed}"),
            format!("forget/{}", path(2)),
            format!("forget-cluster/{cluster}"),
            format!("set-cluster-alias/{cluster}?alias=main"),
        ] {
            assert_refused(&node, method, &target, 409, "ReadOnly").await;
        }
    }
    // Reads still answer, and nothing was audited.
    assert_eq!(read(&node, &format!("cluster/{cluster}")).await.as_array().unwrap().len(), 3);
    assert_eq!(read(&node, "audit").await, json!([]));
    assert!(node.node().store.cluster_aliases().await.unwrap().is_empty());
    // The refused async-discover did not start probing the closed port meanwhile.
    assert_eq!(read(&node, "discovery-metrics").await["KnownInstances"], 3);
}
