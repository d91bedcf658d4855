//! `sql` against a real node in front of real MariaDB servers: read-only statements answer
//! columns and rows (API) or an aligned table (CLI), in both CLI forms including the seed's
//! `-c sql -i " SHOW PROCESSLIST"`; statements that could write are refused with the reason and
//! change nothing; a stored function that writes is stopped by the read-only transaction; the
//! read timeout holds; credentials never show.

mod common;

use common::{run_cli, scalar, TestNode};
use serde_json::{json, Value};
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape, TOPOLOGY_PASSWORD};

fn encode(text: &str) -> String {
    server::cli::client::segment(text)
}

/// `GET /api/sql/<path>?q=<statement>`.
async fn sql(node: &TestNode, path: &str, statement: &str) -> (u16, Value) {
    node.api(&format!("sql/{path}?q={}", encode(statement))).await
}

fn no_password(what: &str, text: &str) {
    assert!(!text.contains(TOPOLOGY_PASSWORD), "{what} shows the topology password: {text}");
}

#[tokio::test]
async fn api_runs_read_only_statements_and_refuses_anything_that_could_write() {
    let sb = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 2, Shape::PrimaryWithReplicas)).await.unwrap();
    let node = TestNode::start(json!({ "MySQLTopologyReadTimeoutSeconds": 2 })).await;
    node.discover_cluster(&sb.key(0), 2).await;
    let path = |i: usize| format!("{}/{}", sb.key(i).hostname, sb.key(i).port);

    let (status, answer) = sql(&node, &path(0), "SELECT 1 AS one, NULL AS nothing, 'a b' AS text").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["Columns"], json!(["one", "nothing", "text"]));
    assert_eq!(answer["Rows"], json!([["1", null, "a b"]]));
    assert_eq!(answer["Truncated"], false);
    assert_eq!(answer["Instance"], json!({"Hostname": sb.key(0).hostname, "Port": sb.key(0).port}));

    // Each server answers for itself; comments, case and a trailing `;` are fine.
    let server_id = scalar(&sb, 1, "SELECT @@server_id").await;
    let (status, answer) = sql(&node, &path(1), "  /* which */ select @@server_id AS id ; -- done").await;
    assert_eq!((status, answer["Rows"].clone()), (200, json!([[server_id]])), "{answer}");
    assert_eq!(answer["Statement"], "select @@server_id AS id");

    // SHOW, EXPLAIN, DESCRIBE, WITH ... SELECT; POST with the statement as the body.
    let (status, answer) = node.api_post(&format!("sql/{}", path(0))).await;
    assert_eq!(status, 400, "no statement: {answer}");
    let resp = reqwest::Client::new().post(format!("{}/api/sql/{}", node.url, path(0))).body("SHOW PROCESSLIST").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    assert!(answer["Columns"].as_array().unwrap().contains(&json!("Info")), "{answer}");
    assert!(answer["Rows"].as_array().unwrap().iter().any(|r| r.as_array().unwrap().contains(&json!("SHOW PROCESSLIST"))), "{answer}");
    for statement in ["EXPLAIN SELECT * FROM mysql.db", "DESCRIBE mysql.db", "desc mysql.db", "WITH a AS (SELECT 2 AS x) SELECT x * 21 FROM a"] {
        let (status, answer) = sql(&node, &path(0), statement).await;
        assert_eq!(status, 200, "{statement}: {answer}");
        assert!(!answer["Rows"].as_array().unwrap().is_empty(), "{statement}: {answer}");
    }
    let (_, answer) = sql(&node, &path(0), "SELECT * FROM mysql.db WHERE 1 = 0").await;
    assert_eq!((answer["Columns"].clone(), answer["Rows"].clone()), (json!([]), json!([])));

    // Refused before anything is sent: status 400, the reason named, nothing changed.
    sb.exec(0, "CREATE DATABASE IF NOT EXISTS meta; CREATE TABLE IF NOT EXISTS meta.t (a INT) ENGINE=InnoDB; INSERT INTO meta.t VALUES (1)").await.unwrap();
    for (statement, why) in [
        ("DELETE FROM meta.t", "DELETE writes rows"),
        ("insert into meta.t values (2)", "INSERT writes rows"),
        ("SET GLOBAL read_only = 1", "SET changes settings"),
        ("DROP TABLE meta.t", "changes the schema"),
        ("SELECT 1; DELETE FROM meta.t", "several statements"),
        ("SELECT * FROM meta.t INTO OUTFILE '/tmp/orchestrator-sql-test'", "INTO OUTFILE writes a file"),
        ("SELECT * FROM meta.t FOR UPDATE", "takes row locks"),
        ("/*!99999 DELETE FROM meta.t */ SELECT 1", "executable comment"),
        ("SELECT 'x\\'; DELETE FROM meta.t; -- '", "reads differently"),
        ("WITH a AS (SELECT 1) DELETE FROM meta.t", "WITH ... DELETE writes rows"),
        ("CALL mysql.nothing()", "stored procedure"),
    ] {
        let (status, answer) = sql(&node, &path(0), statement).await;
        assert_eq!((status, answer["Code"].clone()), (400, json!("ERROR")), "{statement}: {answer}");
        let message = answer["Message"].as_str().unwrap();
        assert!(message.contains("statement refused") && message.contains(why), "{statement}: {message:?} should say {why:?}");
    }
    assert_eq!(scalar(&sb, 0, "SELECT COUNT(*) FROM meta.t").await, "1");
    assert_eq!(scalar(&sb, 0, "SELECT @@global.read_only").await, "0");

    // What the text cannot show: a function that writes. The read-only transaction stops it.
    sb.exec(
        0,
        "CREATE FUNCTION meta.bump() RETURNS INT DETERMINISTIC MODIFIES SQL DATA BEGIN INSERT INTO meta.t VALUES (9); RETURN 1; END",
    )
    .await
    .unwrap();
    sb.exec(0, "GRANT EXECUTE ON meta.* TO 'orchestrator'@'%'").await.unwrap();
    let (status, answer) = sql(&node, &path(0), "SELECT meta.bump()").await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["Message"].as_str().unwrap().contains("READ ONLY"), "{answer}");
    assert_eq!(scalar(&sb, 0, "SELECT COUNT(*) FROM meta.t").await, "1");

    // The server's own refusals are 400 with its message; a slow statement hits the read timeout.
    let (status, answer) = sql(&node, &path(0), "SELECT * FROM meta.no_such_table").await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["Message"].as_str().unwrap().contains("no_such_table"), "{answer}");
    no_password("an error", &answer.to_string());
    let started = std::time::Instant::now();
    let (status, answer) = sql(&node, &path(0), "SELECT SLEEP(20)").await;
    assert_eq!(status, 502, "{answer}");
    assert!(answer["Message"].as_str().unwrap().contains("timed out"), "{answer}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "the 2s read timeout holds: {:?}", started.elapsed());

    // Only servers the node knows.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (status, answer) = sql(&node, &format!("127.0.0.1/{closed}"), "SELECT 1").await;
    assert_eq!(status, 404, "{answer}");
}

#[tokio::test]
async fn cli_prints_tables_in_both_forms_and_asks_for_a_cluster_when_several_are_known() {
    let sb = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 2, Shape::PrimaryWithReplicas)).await.unwrap();
    let node = TestNode::start(json!({})).await;
    node.discover_cluster(&sb.key(0), 2).await;
    let api = node.url.clone();
    let (primary, replica) = (sb.key(0).to_string(), sb.key(1).to_string());

    let (code, out, err) = run_cli(&api, &["-c", "sql", "-i", &replica, "-q", "SELECT 1 AS one, NULL AS n"]).await;
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert_eq!(out, "+-----+------+\n| one | n    |\n+-----+------+\n| 1   | NULL |\n+-----+------+\n");
    let (code, out, _) = run_cli(&api, &["-c", "sql", "-i", &replica, "--statement", "SELECT @@port AS port"]).await;
    assert_eq!(code, 0);
    assert!(out.contains(&format!("| {} |", sb.key(1).port)), "{out}");

    // The seed README's form: the statement in -i runs on the only cluster's primary.
    let (code, out, err) = run_cli(&api, &["-c", "sql", "-i", " SHOW PROCESSLIST"]).await;
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[1].starts_with("| Id ") && lines[1].contains("| Info "), "{out}");
    assert!(lines.iter().all(|l| l.chars().count() == lines[0].chars().count()), "aligned: {out}");
    let (_, out, _) = run_cli(&api, &["-c", "sql", "-i", "select @@port"]).await;
    assert!(out.contains(&format!("| {} ", sb.key(0).port)), "runs on the primary {primary}: {out}");
    let (code, out, _) = run_cli(&api, &["-c", "sql", "-q", "SELECT @@port"]).await;
    assert_eq!(code, 0);
    assert!(out.contains(&format!("| {} ", sb.key(0).port)), "{out}");

    // Refusals are usage errors (exit 2), with the reason; nothing reaches the server.
    for (args, why) in [
        (vec!["-c", "sql", "-i", &replica, "-q", "DELETE FROM mysql.user"], "DELETE writes rows"),
        (vec!["-c", "sql", "-i", "SELECT 1; DROP DATABASE mysql"], "several statements"),
        (vec!["-c", "sql", "-i", &replica], "needs a statement"),
        (vec!["-c", "sql"], "needs a statement"),
    ] {
        let (code, out, err) = run_cli(&api, &args).await;
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}: {err}");
        assert!(err.starts_with("orchestrator: sql: ") && err.contains(why) && err.lines().count() == 1, "{args:?}: {err:?}");
    }
    let (code, _, err) = run_cli(&api, &["-c", "sql", "-i", "127.0.0.1:1", "-q", "SELECT 1"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("unknown instance"), "{err}");

    // With two clusters the seed's form asks which one (exit 2); --alias picks it.
    let other = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 1, Shape::Standalone)).await.unwrap();
    node.discover_cluster(&other.key(0), 1).await;
    let (code, out, err) = run_cli(&api, &["-c", "sql", "-i", " SHOW PROCESSLIST"]).await;
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.contains("several clusters are known") && err.contains(&primary) && err.contains(&other.key(0).to_string()), "{err}");
    let (code, out, err) = run_cli(&api, &["-c", "sql", "-i", "SELECT @@port", "--alias", &other.key(0).to_string()]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("| {} ", other.key(0).port)), "{out}");
    for text in [&out, &err] {
        no_password("the CLI", text);
    }
}
