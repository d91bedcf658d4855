//! The first page, in a real browser: the dashboard lists the discovered cluster with its three
//! servers and their roles, after hydration, and follows a change made on a server directly.

use end2end::{open_hydrated, screenshot_dir, site_root, wait_for, Browser};
use fantoccini::Locator;
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape, TOPOLOGY_PASSWORD, TOPOLOGY_USER};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_lists_the_cluster_and_follows_a_stopped_replica() -> anyhow::Result<()> {
    std::env::set_var("LEPTOS_SITE_ROOT", site_root()?);
    let sandbox = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 3, Shape::PrimaryWithReplicas)).await?;
    let dir = tempfile::tempdir()?;
    let config = serde_json::json!({
        "SQLite3DataFile": dir.path().join("orchestrator.sqlite3"),
        "MySQLTopologyUser": TOPOLOGY_USER,
        "MySQLTopologyPassword": TOPOLOGY_PASSWORD,
        "MySQLHostnameResolveMethod": "none",
        "InstancePollSeconds": 1,
        "DetectInstanceAliasQuery": "SELECT CONCAT('mysql', @@global.server_id)",
    });
    let config = server::config::parse(&config.to_string(), "e2e")?.config;
    let node = server::start(config, server::Listeners { http: TcpListener::bind("127.0.0.1:0").await?, raft: None }, CancellationToken::new()).await?;
    node.discovery.discover(&sandbox.key(0)).await?;
    let url = format!("http://{}/", node.addr);
    let cluster = sandbox.key(0).to_string();

    let outcome = Browser::run(|client| async move {
        open_hydrated(&client, &url).await?;
        // All three servers, with their roles, in tree order.
        let rows = wait_for(Duration::from_secs(10), "three instance rows", || async {
            let rows = client.find_all(Locator::Css(&format!("section[data-cluster='{cluster}'] tr[data-instance]"))).await.ok()?;
            (rows.len() == 3).then_some(rows)
        })
        .await?;
        let mut roles = Vec::new();
        let mut names = Vec::new();
        for row in &rows {
            roles.push(row.attr("data-role").await?.unwrap_or_default());
            names.push(row.find(Locator::Css("td.name strong")).await?.text().await?);
        }
        assert_eq!(roles, ["primary", "replica", "replica"]);
        // Siblings are ordered by host:port, and the sandbox's ports are random.
        names[1..].sort();
        assert_eq!(names, ["mysql1", "mysql2", "mysql3"]);
        std::fs::write(screenshot_dir().join("dashboard.png"), client.screenshot().await?)?;

        // Stop replication on mysql3 behind the node's back: the open page shows it, no reload.
        sandbox.exec(2, sandbox.dialect().stop_replica()).await?;
        let replica = sandbox.key(2).to_string();
        let text = wait_for(Duration::from_secs(3), "mysql3's row to show the problem", || async {
            let row = client.find(Locator::Css(&format!("tr[data-instance='{replica}']"))).await.ok()?;
            let class = row.attr("class").await.ok()??;
            let text = row.text().await.ok()?;
            (class.contains("problem") && text.contains("not_replicating")).then_some(text)
        })
        .await?;
        assert!(text.contains("IO stopped, SQL stopped"), "row says: {text}");
        std::fs::write(screenshot_dir().join("dashboard-stopped-replica.png"), client.screenshot().await?)?;
        Ok(())
    })
    .await;
    node.stop().await;
    outcome
}
