//! Refused moves: each answers 409 naming the rule, and every server's own replication status
//! is the same afterwards as before. Starting shape (GTID): 0 ← 1 ← 2, 0 ← 3.

use crate::common::wait_for;
use crate::support::{Fixture, WAIT};
use serde_json::json;
use server::sandbox::SandboxFlavor;

/// Calls `path`, which must be refused by `rule`, and checks that no server's replication changed.
async fn refused(fx: &Fixture, path: &str, rule: &str) {
    let before = fx.channels().await;
    let audited = fx.audit().await.len();
    let (status, body) = fx.api(path).await;
    assert_eq!(status, 409, "/api/{path} should be refused by {rule}: {body}");
    assert_eq!(body["Details"]["Rule"], rule, "/api/{path}: {body}");
    let message = body["Message"].as_str().unwrap_or_default();
    assert!(message.contains(&format!("refused by rule {rule}")), "/api/{path}: {message}");
    assert_eq!(fx.channels().await, before, "/api/{path} was refused but replication changed");
    assert_eq!(fx.audit().await.len(), audited, "/api/{path} was refused, nothing ran, nothing is audited");
}

/// Descendant, purged GTIDs, no binary logs.
pub async fn refusals_name_the_rule_and_change_nothing(flavor: SandboxFlavor) {
    let fx = Fixture::start(flavor, true, json!({})).await;
    let p = |i| fx.path(i);
    let d = fx.sb.dialect();

    // 2 replicates from 1: 1 below 2 would be a cycle, whatever the mechanism.
    refused(&fx, &format!("relocate/{}/{}", p(1), p(2)), "descendant").await;
    refused(&fx, &format!("move-gtid/{}/{}", p(1), p(2)), "descendant").await;
    refused(&fx, &format!("repoint/{}/{}", p(1), p(2)), "descendant").await;

    // 2 stops; the primary writes; 3 applies that and purges the binary logs holding it.
    fx.exec(2, d.stop_replica()).await;
    fx.exec(0, "CREATE DATABASE purgetest").await;
    fx.exec(0, "CREATE TABLE purgetest.t (id INT PRIMARY KEY)").await;
    fx.exec(0, "INSERT INTO purgetest.t VALUES (1), (2), (3)").await;
    fx.sb.wait_caught_up(3, 0, WAIT).await.expect("3 catches up");
    purge_binary_logs(&fx, 3).await;
    refused(&fx, &format!("move-gtid/{}/{}", p(2), p(3)), "purged-gtids").await;
    refused(&fx, &format!("relocate/{}/{}", p(2), p(3)), "purged-gtids").await;
    // The source it has keeps everything: 2 resumes there and catches up.
    fx.exec(2, d.start_replica()).await;
    fx.sb.wait_caught_up(2, 0, WAIT).await.expect("2 catches up after its stop");
    fx.wait_view(2, 1).await;

    // 3 restarted without binary logs: nobody may replicate from it.
    restart_without_binary_logs(&fx, 3).await;
    refused(&fx, &format!("relocate/{}/{}", p(2), p(3)), "no-binary-logs").await;
    refused(&fx, &format!("move-gtid/{}/{}", p(2), p(3)), "no-binary-logs").await;
    refused(&fx, &format!("move-below/{}/{}", p(1), p(3)), "no-binary-logs").await;
    fx.node.stop().await;
}

/// Rotates server `i`'s binary log and purges every older one.
async fn purge_binary_logs(fx: &Fixture, i: usize) {
    fx.exec(i, "FLUSH BINARY LOGS").await;
    let current = fx.scalar(i, fx.sb.dialect().show_binlog_status()).await;
    // MariaDB keeps a log until its binlog checkpoint has passed it, which the sandbox's lazy
    // InnoDB flushing (innodb_flush_log_at_trx_commit=2) delays by up to a second.
    wait_for(WAIT, &format!("{} to purge every binary log before {current}", fx.name(i)), || async {
        fx.exec(i, &format!("PURGE BINARY LOGS TO '{current}'")).await;
        (fx.scalar(i, "SHOW BINARY LOGS").await == current).then_some(())
    })
    .await;
}

/// Restarts server `i` with binary logging off (its option file edited; the sandbox has no such
/// option) and waits until the node has seen it so.
async fn restart_without_binary_logs(fx: &Fixture, i: usize) {
    let cnf = fx.sb.server(i).dir().join("my.cnf");
    let text = std::fs::read_to_string(&cnf).expect("read my.cnf");
    assert!(text.contains("\nlog_bin="), "my.cnf of server {i} has no log_bin line:\n{text}");
    // MariaDB logs only when told to; Oracle MySQL 8+ logs unless told not to.
    let off = if fx.flavor() == SandboxFlavor::MySql { "skip_log_bin\n" } else { "" };
    let text: String = text.lines().map(|l| if l.starts_with("log_bin=") { off.to_string() } else { format!("{l}\n") }).collect();
    std::fs::write(&cnf, text).expect("write my.cnf");
    fx.sb.restart(i).await.expect("restart without binary logs");
    assert_eq!(fx.scalar(i, "SELECT @@GLOBAL.log_bin").await, "0", "server {i} should run without binary logs");
    fx.sb.wait_replicating(i, WAIT).await.expect("still replicating after the restart");
    wait_for(WAIT, &format!("the node to see {} without binary logs", fx.name(i)), || async {
        let (status, inst) = fx.node.api(&format!("instance/{}", fx.path(i))).await;
        (status == 200 && inst["LogBinEnabled"] == false && inst["IsLastCheckValid"] == true).then_some(())
    })
    .await;
}
