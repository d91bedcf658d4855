//! The pages around the graph, in a real browser against a real node and real MariaDB servers:
//! the dashboard's tile links to the cluster page, the discover form discovers (and refuses
//! nonsense and read-only nodes), the audit page lists it, the search box finds a server by
//! alias, /problems follows a replica stopped with SQL without a reload, /status describes
//! the node, and a live page says so when the node stops answering.

use end2end::{open_hydrated, screenshot_dir, site_root, wait_for, Browser};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape, TOPOLOGY_PASSWORD, TOPOLOGY_USER};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

async fn start_node(dir: &std::path::Path, read_only: bool, shutdown: CancellationToken) -> anyhow::Result<server::Node> {
    let config = serde_json::json!({
        "SQLite3DataFile": dir.join(format!("orchestrator-{read_only}.sqlite3")),
        "MySQLTopologyUser": TOPOLOGY_USER,
        "MySQLTopologyPassword": TOPOLOGY_PASSWORD,
        "MySQLHostnameResolveMethod": "none",
        "InstancePollSeconds": 1,
        "DetectInstanceAliasQuery": "SELECT CONCAT('mysql', @@global.server_id)",
        "ReadOnly": read_only,
    });
    let config = server::config::parse(&config.to_string(), "e2e")?.config;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    Ok(server::start(config, server::Listeners { http: listener, raft: None }, shutdown).await?)
}

/// Text of the first element matching `css`, once there is one.
async fn text_of(client: &Client, css: &str) -> Option<String> {
    client.find(Locator::Css(css)).await.ok()?.text().await.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_discover_audit_search_problems_and_status() -> anyhow::Result<()> {
    std::env::set_var("LEPTOS_SITE_ROOT", site_root()?);
    let (sandbox, lone) = tokio::try_join!(
        Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 3, Shape::PrimaryWithReplicas)),
        Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 1, Shape::Standalone)),
    )?;
    let dir = tempfile::tempdir()?;
    let node = start_node(dir.path(), false, CancellationToken::new()).await?;
    let read_only_shutdown = CancellationToken::new();
    let read_only = start_node(dir.path(), true, read_only_shutdown.clone()).await?;
    node.discovery.discover(&sandbox.key(0)).await?;
    read_only.discovery.discover(&sandbox.key(0)).await?;
    let base = format!("http://{}", node.addr);
    let read_only_base = format!("http://{}", read_only.addr);

    let lone_key = lone.key(0).to_string();
    let (sandbox, node_ref, base, read_only_base, lone_key) = (&sandbox, &node, &base, &read_only_base, &lone_key);
    let read_only_shutdown = &read_only_shutdown;
    let outcome = Browser::run(|client| async move {
        let client = &client;
        follow_the_cluster_tile(client, base, &sandbox.key(0).to_string()).await?;
        discover_with_the_form(client, base, node_ref, lone_key).await?;
        audit_lists_the_discovery(client, base, lone_key).await?;
        search_finds_an_alias(client, base, &sandbox.key(1).to_string()).await?;
        problems_follow_a_stopped_replica(client, base, sandbox).await?;
        status_describes_the_node(client, base).await?;
        read_only_node_refuses_discovery(client, read_only_base, lone_key).await?;
        read_only_topology_offers_no_actions(client, read_only_base, sandbox).await?;
        refresh_fails_visibly(client, read_only_base, read_only_shutdown).await?;
        Ok(())
    })
    .await;
    node.stop().await;
    read_only.stop().await;
    outcome
}

async fn follow_the_cluster_tile(client: &Client, base: &str, cluster: &str) -> anyhow::Result<()> {
    open_hydrated(client, &format!("{base}/")).await?;
    let tile = format!("section[data-cluster='{cluster}']");
    wait_for(Duration::from_secs(10), "the tile to count three servers", || async {
        let count = text_of(client, &format!("{tile} .facts dd.count")).await?;
        (count == "3").then_some(())
    })
    .await?;
    assert_eq!(text_of(client, &format!("{tile} .facts dd.primary")).await.as_deref(), Some("mysql1"));
    let link = client.find(Locator::Css(&format!("{tile} a.cluster-link"))).await?;
    let expected = format!("/cluster/{}", cluster.replace(':', "%3A"));
    assert_eq!(link.attr("href").await?.as_deref(), Some(expected.as_str()));
    link.click().await?;
    wait_for(Duration::from_secs(5), "the cluster page", || async {
        (client.current_url().await.ok()?.path() == expected).then_some(())
    })
    .await?;
    Ok(())
}

async fn discover_with_the_form(client: &Client, base: &str, node: &server::Node, lone: &str) -> anyhow::Result<()> {
    open_hydrated(client, &format!("{base}/discover")).await?;
    let input = client.find(Locator::Css("input[name='host_port']")).await?;
    input.send_keys(lone).await?;
    client.find(Locator::Css(".discover-form button[type='submit']")).await?.click().await?;
    let found = wait_for(Duration::from_secs(15), "the discovery's outcome", || async {
        client.find(Locator::Css(".outcome")).await.ok()
    })
    .await?;
    let text = found.text().await?;
    assert_eq!(found.attr("class").await?.as_deref(), Some("outcome ok"), "outcome: {text}");
    assert!(text.contains(lone), "outcome: {text}");
    let link = found.find(Locator::Css("a.cluster-link")).await?;
    assert_eq!(link.attr("href").await?, Some(format!("/cluster/{}", lone.replace(':', "%3A"))));

    // Nonsense gets a clear error and changes nothing.
    let known = node.discovery.instances().len();
    let latest_audit = node.store.list_audit(0, None).await?.first().map(|e| e.id);
    input.clear().await?;
    input.send_keys("nonsense:port").await?;
    client.find(Locator::Css(".discover-form button[type='submit']")).await?.click().await?;
    let refusal = wait_for(Duration::from_secs(10), "the refusal", || async {
        text_of(client, ".outcome.error").await
    })
    .await?;
    assert!(refusal.contains("invalid port \"port\""), "refusal: {refusal}");
    assert_eq!(node.discovery.instances().len(), known);
    assert_eq!(node.store.list_audit(0, None).await?.first().map(|e| e.id), latest_audit);
    Ok(())
}

async fn audit_lists_the_discovery(client: &Client, base: &str, lone: &str) -> anyhow::Result<()> {
    open_hydrated(client, &format!("{base}/audit")).await?;
    let row = wait_for(Duration::from_secs(5), "the discovery in the audit log", || async {
        text_of(client, "table.audit tr[data-action='discover']").await
    })
    .await?;
    assert!(row.contains(lone) && row.contains("web"), "latest discover row: {row}");
    Ok(())
}

async fn search_finds_an_alias(client: &Client, base: &str, mysql2: &str) -> anyhow::Result<()> {
    open_hydrated(client, &format!("{base}/")).await?;
    let search = client.find(Locator::Css("header .search input[name='q']")).await?;
    search.send_keys("MySQL2").await?;
    search.send_keys(&Key::Enter).await?;
    let rows = wait_for(Duration::from_secs(5), "one search result", || async {
        let url = client.current_url().await.ok()?;
        let rows = client.find_all(Locator::Css("table.results tbody tr")).await.ok()?;
        (url.path() == "/search" && rows.len() == 1).then_some(rows)
    })
    .await?;
    assert_eq!(rows[0].attr("data-instance").await?.as_deref(), Some(mysql2));
    assert!(rows[0].text().await?.contains("mysql2"));
    Ok(())
}

async fn problems_follow_a_stopped_replica(client: &Client, base: &str, sandbox: &Sandbox) -> anyhow::Result<()> {
    open_hydrated(client, &format!("{base}/problems")).await?;
    wait_for(Duration::from_secs(10), "no problems", || async { text_of(client, ".all-clear").await }).await?;

    sandbox.exec(2, sandbox.dialect().stop_replica()).await?;
    let stopped = Instant::now();
    let mysql3 = sandbox.key(2).to_string();
    let item = wait_for(Duration::from_secs(2), "mysql3 on /problems", || async {
        text_of(client, &format!("li[data-instance='{mysql3}'][data-problems~='not_replicating']")).await
    })
    .await?;
    eprintln!("the stopped replica showed on /problems after {:?}", stopped.elapsed());
    assert!(item.contains("not replicating") && item.contains("IO stopped, SQL stopped"), "item: {item}");
    assert!(text_of(client, ".analysis-clear").await.is_some(), "one stopped replica of two is not a failure");

    // Both replicas stopped: the failure analysis names the primary, with the facts behind it.
    sandbox.exec(1, sandbox.dialect().stop_replica()).await?;
    let primary = sandbox.key(0).to_string();
    let entry = wait_for(Duration::from_secs(3), "AllMasterReplicasNotReplicating on /problems", || async {
        text_of(client, &format!("li[data-analysis='AllMasterReplicasNotReplicating'][data-instance='{primary}']")).await
    })
    .await?;
    assert!(entry.contains("replica"), "the entry says why: {entry}");
    std::fs::write(screenshot_dir().join("problems.png"), client.screenshot().await?)?;
    Ok(())
}

async fn status_describes_the_node(client: &Client, base: &str) -> anyhow::Result<()> {
    open_hydrated(client, &format!("{base}/status")).await?;
    let watching = wait_for(Duration::from_secs(5), "a healthy read-write node", || async {
        text_of(client, ".node-status[data-healthy='true'][data-read-only='false'] dd.watching").await
    })
    .await?;
    assert_eq!(watching, "4 servers in 2 clusters");
    assert!(!text_of(client, ".node-status dd.version").await.unwrap_or_default().is_empty());
    Ok(())
}

async fn read_only_node_refuses_discovery(client: &Client, base: &str, lone: &str) -> anyhow::Result<()> {
    open_hydrated(client, &format!("{base}/discover")).await?;
    client.find(Locator::Css(".discover-form fieldset[disabled]")).await?;
    let notice = client.find(Locator::Css(".notice")).await?.text().await?;
    assert!(notice.contains("read-only"), "notice: {notice}");
    // The node itself refuses, whatever the page shows.
    let answer = client
        .execute(
            "return fetch('/_sfn/discover', {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'}, \
             body: 'host_port=' + encodeURIComponent(arguments[0])}).then(r => r.text())",
            vec![serde_json::json!(lone)],
        )
        .await?;
    let answer = answer.as_str().unwrap_or_default().to_string();
    assert!(answer.contains("read-only"), "answer: {answer}");
    Ok(())
}

/// On a read-only node the graph shows the cluster, the panel shows details without actions,
/// and dragging a card does nothing.
async fn read_only_topology_offers_no_actions(client: &Client, base: &str, sandbox: &Sandbox) -> anyhow::Result<()> {
    let cluster = sandbox.key(0).to_string();
    open_hydrated(client, &format!("{base}/cluster/{}", cluster.replace(':', "%3A"))).await?;
    let card = |i: usize| format!("g.card[data-instance='{}']", sandbox.key(i));
    wait_for(Duration::from_secs(15), "three cards on the read-only node", || async {
        (client.find_all(Locator::Css("g.card[data-role='replica']")).await.ok()?.len() == 2).then_some(())
    })
    .await?;
    client.execute(&format!("document.querySelector(\"{}\").focus()", card(2)), vec![]).await?;
    client.active_element().await?.send_keys("\u{E007}").await?;
    let panel = wait_for(Duration::from_secs(3), "the details panel", || async { client.find(Locator::Css("aside.panel")).await.ok() }).await?;
    assert!(panel.text().await?.contains("Replication"), "details are shown");
    assert!(panel.find(Locator::Css(".panel-actions")).await.is_err(), "a read-only node offers no actions");
    let from = client.find(Locator::Css(&format!("{} rect.box", card(2)))).await?;
    let to = client.find(Locator::Css(&format!("{} rect.box", card(1)))).await?;
    end2end::drag(client, &from, &to, true).await?;
    assert!(client.find(Locator::Css(".drop-hint")).await.is_err(), "no drag on a read-only node");
    assert!(client.find(Locator::Css(".confirm-dialog")).await.is_err(), "and nothing to confirm");
    Ok(())
}

async fn refresh_fails_visibly(client: &Client, base: &str, stop_node: &CancellationToken) -> anyhow::Result<()> {
    open_hydrated(client, &format!("{base}/")).await?;
    stop_node.cancel();
    let line = wait_for(Duration::from_secs(5), "the refresh error line", || async {
        text_of(client, ".refresh-error").await
    })
    .await?;
    assert!(line.contains("Cannot refresh"), "error line: {line}");
    Ok(())
}
