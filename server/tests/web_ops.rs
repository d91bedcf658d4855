//! The server function the web UI's confirm dialog uses: the same operation first as a plan,
//! then run, through `/_sfn/operate`, checked on the servers themselves.

mod common;

use common::{replica_status, wait_for, TestNode};
use serde_json::{json, Value};
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape};
use std::time::Duration;

async fn operate(node: &TestNode, op: Value, dry_run: bool) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("{}/_sfn/operate", node.url))
        .json(&json!({ "op": op, "dry_run": dry_run }))
        .send()
        .await
        .expect("server function reachable");
    assert!(resp.status().is_success(), "server function answered {}", resp.status());
    resp.json().await.expect("JSON answer")
}

fn key(sandbox: &Sandbox, i: usize) -> Value {
    json!({ "Hostname": sandbox.key(i).hostname, "Port": sandbox.key(i).port })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_confirm_dialog_shows_the_plan_then_the_same_operation_runs() {
    let sandbox = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 3, Shape::PrimaryWithReplicas)).await.unwrap();
    let node = TestNode::start(json!({})).await;
    node.discover_cluster(&sandbox.key(0), 3).await;
    let relocate = json!({ "Operation": "relocate", "instance": key(&sandbox, 2), "target": key(&sandbox, 1) });

    let plan = operate(&node, relocate.clone(), true).await;
    let plan = &plan["Ok"]["Plan"];
    assert_eq!(plan["Mechanism"], "gtid");
    let statements: Vec<String> =
        plan["Steps"].as_array().unwrap().iter().flat_map(|s| s["Statements"].as_array().unwrap().clone()).map(|s| s.as_str().unwrap().to_string()).collect();
    assert_eq!(statements[0], "STOP SLAVE");
    assert!(statements[1].contains(&format!("MASTER_PORT={}", sandbox.key(1).port)), "{statements:?}");
    let before = replica_status(&sandbox, 2).await.unwrap();
    assert_eq!(before.text(&["Master_Port"]), sandbox.key(0).port.to_string(), "a plan changes nothing");

    let run = operate(&node, relocate, false).await;
    assert_eq!(run["Ok"]["Success"], true, "{run}");
    let after = wait_for(Duration::from_secs(10), "mysql3 replicating from mysql2", || async {
        let row = replica_status(&sandbox, 2).await?;
        (row.text(&["Master_Port"]) == sandbox.key(1).port.to_string() && row.text(&["Slave_IO_Running"]) == "Yes").then_some(row)
    })
    .await;
    assert_eq!(after.text(&["Slave_SQL_Running"]), "Yes");

    // A refusal comes back as data the page can show, naming the rule.
    let cycle = json!({ "Operation": "relocate", "instance": key(&sandbox, 1), "target": key(&sandbox, 2) });
    let refused = operate(&node, cycle, false).await;
    let message = refused["Err"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("rule descendant"), "{refused}");
    node.stop().await;
}
