//! A failover seen from an open browser: kill -9 of the primary while its topology page is open
//! re-draws the tree under the promoted replica without a reload, and /recoveries shows the
//! recovery with its timeline and acknowledges it.

use end2end::{open_hydrated, screenshot_dir, site_root, wait_for, Browser};
use fantoccini::{Client, Locator};
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape, TOPOLOGY_PASSWORD, TOPOLOGY_USER};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

async fn attr(client: &Client, css: &str, name: &str) -> Option<String> {
    client.find(Locator::Css(css)).await.ok()?.attr(name).await.ok()?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failover_redraws_the_open_graph_and_is_listed_with_its_timeline() -> anyhow::Result<()> {
    std::env::set_var("LEPTOS_SITE_ROOT", site_root()?);
    let sandbox = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 3, Shape::PrimaryWithReplicas)).await?;
    let dir = tempfile::tempdir()?;
    let config = serde_json::json!({
        "SQLite3DataFile": dir.path().join("orchestrator.sqlite3"),
        "MySQLTopologyUser": TOPOLOGY_USER,
        "MySQLTopologyPassword": TOPOLOGY_PASSWORD,
        "MySQLHostnameResolveMethod": "none",
        "InstancePollSeconds": 1,
        "RecoverMasterClusterFilters": ["*"],
        "DetectInstanceAliasQuery": "SELECT CONCAT('mysql', @@global.server_id)",
    });
    let config = server::config::parse(&config.to_string(), "e2e")?.config;
    let node = server::start(config, server::Listeners { http: TcpListener::bind("127.0.0.1:0").await?, raft: None }, CancellationToken::new()).await?;
    node.discovery.discover(&sandbox.key(0)).await?;
    let base = format!("http://{}", node.addr);
    let cluster = sandbox.key(0).to_string();
    let [m1, m2, m3] = [0, 1, 2].map(|i| sandbox.key(i).to_string());
    let sandbox = &sandbox;
    let store = &node.store;

    let outcome = Browser::run(|client| async move {
        open_hydrated(&client, &format!("{base}/cluster/{}", cluster.replace(':', "%3A"))).await?;
        wait_for(Duration::from_secs(15), "two replicas under mysql1", || async {
            let a = attr(&client, &format!("g.card[data-instance='{m2}']"), "data-source").await?;
            let b = attr(&client, &format!("g.card[data-instance='{m3}']"), "data-source").await?;
            (a == m1 && b == m1).then_some(())
        })
        .await?;

        sandbox.kill(0);
        // The page follows its servers into the cluster of the promoted replica.
        let (promoted, other) = wait_for(Duration::from_secs(15), "the tree re-drawn under the new primary", || async {
            let r2 = attr(&client, &format!("g.card[data-instance='{m2}']"), "data-role").await?;
            let r3 = attr(&client, &format!("g.card[data-instance='{m3}']"), "data-role").await?;
            let (p, o) = match (r2.as_str(), r3.as_str()) {
                ("primary", _) => (&m2, &m3),
                (_, "primary") => (&m3, &m2),
                _ => return None,
            };
            (attr(&client, &format!("g.card[data-instance='{o}']"), "data-source").await? == *p).then(|| (p.clone(), o.clone()))
        })
        .await?;
        // And the servers agree: the promoted one takes writes, the other replicates from it.
        let p = if promoted == m2 { 1 } else { 2 };
        let read_only = sandbox.query(p, "SELECT @@global.read_only").await?;
        assert_eq!(read_only.first().and_then(|r| r.at(0)), Some("0"), "{promoted} is writable");
        let o = 3 - p;
        let status = sandbox.query(o, sandbox.dialect().show_replica_status()).await?;
        assert_eq!(status.first().map(|r| r.text(&["Master_Port"])), Some(sandbox.key(p).port.to_string()), "{other} replicates from {promoted}");
        std::fs::write(screenshot_dir().join("failover-redrawn.png"), client.screenshot().await?)?;

        // The recoveries page lists it: promoted server, and a timeline of timed steps.
        open_hydrated(&client, &format!("{base}/recoveries")).await?;
        let text = wait_for(Duration::from_secs(10), "the recovery on /recoveries", || async {
            let section = client.find(Locator::Css(&format!("section.recovery[data-outcome='recovered'][data-instance='{m1}']"))).await.ok()?;
            section.find(Locator::Css("ol.timeline li")).await.ok()?;
            section.text().await.ok()
        })
        .await?;
        assert!(text.contains("DeadMaster") && text.contains(&format!("Promoted {promoted}")), "{text}");
        assert!(text.contains("+0 ms") && text.contains(" ms)"), "steps carry their start and duration: {text}");
        std::fs::write(screenshot_dir().join("recoveries.png"), client.screenshot().await?)?;

        // It blocks the cluster until acknowledged: the form takes a comment, and once sent the
        // node records the acknowledgement, which the page then shows.
        let section = format!("section.recovery[data-instance='{m1}']");
        assert_eq!(attr(&client, &section, "data-ack").await.as_deref(), Some("active"));
        let form = client.find(Locator::Css(&format!("{section} form.ack-form"))).await?;
        form.find(Locator::Css("input[name='comment']")).await?.send_keys("checked after the drill").await?;
        form.find(Locator::Css("button[type='submit']")).await?.click().await?;
        let text = wait_for(Duration::from_secs(10), "the acknowledgement on /recoveries", || async {
            (attr(&client, &section, "data-ack").await? == "acknowledged").then_some(())?;
            client.find(Locator::Css(&format!("{section} .acknowledged"))).await.ok()?.text().await.ok()
        })
        .await?;
        assert!(text.contains("web: checked after the drill"), "{text}");
        let stored = store.list_recoveries(&Default::default(), chrono::Utc::now() - chrono::Duration::hours(1)).await?;
        assert_eq!((stored[0].acknowledged, stored[0].acknowledged_by.as_str()), (true, "web"), "{stored:#?}");
        Ok(())
    })
    .await;
    node.stop().await;
    outcome
}

/// The primary's top strip is its promote zone: dropping a replica there plans a graceful
/// takeover, shows the plan, and runs it: the replica takes writes and the old primary
/// replicates from it, as MariaDB itself reports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_replica_on_the_primarys_strip_runs_a_graceful_takeover() -> anyhow::Result<()> {
    use end2end::{drag, release_pointer};
    std::env::set_var("LEPTOS_SITE_ROOT", site_root()?);
    let sandbox = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 3, Shape::PrimaryWithReplicas)).await?;
    let dir = tempfile::tempdir()?;
    let config = serde_json::json!({
        "SQLite3DataFile": dir.path().join("orchestrator.sqlite3"),
        "MySQLTopologyUser": TOPOLOGY_USER,
        "MySQLTopologyPassword": TOPOLOGY_PASSWORD,
        "MySQLHostnameResolveMethod": "none",
        "InstancePollSeconds": 1,
        // MariaDB does not reveal the channel's password: the demoted primary needs it.
        "ReplicationCredentialsQuery": format!("SELECT '{}', '{}'", server::sandbox::REPLICATION_USER, server::sandbox::REPLICATION_PASSWORD),
    });
    let config = server::config::parse(&config.to_string(), "e2e")?.config;
    let node = server::start(config, server::Listeners { http: TcpListener::bind("127.0.0.1:0").await?, raft: None }, CancellationToken::new()).await?;
    node.discovery.discover(&sandbox.key(0)).await?;
    let base = format!("http://{}", node.addr);
    let cluster = sandbox.key(0).to_string();
    let [m1, m2, m3] = [0, 1, 2].map(|i| sandbox.key(i).to_string());
    let sandbox = &sandbox;

    let outcome = Browser::run(|client| async move {
        open_hydrated(&client, &format!("{base}/cluster/{}", cluster.replace(':', "%3A"))).await?;
        wait_for(Duration::from_secs(15), "two replicas under mysql1", || async {
            let a = attr(&client, &format!("g.card[data-instance='{m2}']"), "data-source").await?;
            let b = attr(&client, &format!("g.card[data-instance='{m3}']"), "data-source").await?;
            (a == m1 && b == m1).then_some(())
        })
        .await?;
        let from = client.find(Locator::Css(&format!("g.card[data-instance='{m2}'] rect.box"))).await?;
        let to = client.find(Locator::Css(&format!("g.card[data-instance='{m1}'] rect.strip"))).await?;
        drag(&client, &from, &to, false).await?;
        let hint = client.find(Locator::Css(".drop-hint")).await?.text().await?;
        assert!(hint.contains("graceful takeover"), "hovering the primary's strip previews a takeover: {hint}");
        release_pointer(&client).await?;
        let plan = wait_for(Duration::from_secs(10), "the takeover's plan", || async {
            let dialog = client.find(Locator::Css(".confirm-dialog")).await.ok()?;
            dialog.find(Locator::Css("ol.plan li")).await.ok()?;
            dialog.text().await.ok()
        })
        .await?;
        assert!(plan.contains("graceful-master-takeover") && plan.contains("read_only"), "{plan}");
        client.find(Locator::Css(".confirm-dialog button.confirm")).await?.click().await?;
        let done = wait_for(Duration::from_secs(30), "the takeover's result", || async {
            let text = client.find(Locator::Css(".confirm-dialog")).await.ok()?.text().await.ok()?;
            (text.contains("Done") || text.contains("failed")).then_some(text)
        })
        .await?;
        assert!(done.contains("✓ Done"), "{done}");
        // MariaDB says: mysql2 takes writes; mysql1 and mysql3 are its replicas.
        let read_only = sandbox.query(1, "SELECT @@global.read_only").await?;
        assert_eq!(read_only.first().and_then(|r| r.at(0)), Some("0"), "{m2} is writable");
        for i in [0, 2] {
            let status = sandbox.query(i, sandbox.dialect().show_replica_status()).await?;
            assert_eq!(status.first().map(|r| r.text(&["Master_Port"])), Some(sandbox.key(1).port.to_string()), "{} replicates from {m2}", sandbox.key(i));
        }
        client.find(Locator::Css(".confirm-dialog .actions button")).await?.click().await?;
        // The page follows: mysql2 is drawn as the primary with mysql1 below it.
        wait_for(Duration::from_secs(15), "mysql1 drawn below mysql2", || async {
            let role = attr(&client, &format!("g.card[data-instance='{m2}']"), "data-role").await?;
            let source = attr(&client, &format!("g.card[data-instance='{m1}']"), "data-source").await?;
            (role == "primary" && source == m2).then_some(())
        })
        .await?;
        std::fs::write(screenshot_dir().join("graceful-takeover.png"), client.screenshot().await?)?;
        Ok(())
    })
    .await;
    node.stop().await;
    outcome
}
