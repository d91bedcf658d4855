//! The topology graph in a real browser against a real node and real MariaDB servers: cards with
//! their roles, drag to relocate (plan, confirm, MariaDB itself reports the new source), a drop on
//! a descendant refused with the reason and nothing changed, the keyboard path, and a replica
//! stopped behind the node's back turning red without a reload, and a banner once the node is gone.

use end2end::{drag, open_hydrated, release_pointer, screenshot_dir, site_root, wait_for, Browser};
use fantoccini::{Client, Locator};
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape, TOPOLOGY_PASSWORD, TOPOLOGY_USER};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

fn card_css(key: &str) -> String {
    format!("g.card[data-instance='{key}']")
}

/// The card's attribute, once the card exists.
async fn card_attr(client: &Client, key: &str, attr: &str) -> Option<String> {
    client.find(Locator::Css(&card_css(key))).await.ok()?.attr(attr).await.ok()?
}

/// Waits until MariaDB itself says server `i` replicates from `source` with both threads running.
async fn wait_replicating_from(sandbox: &Sandbox, i: usize, source: usize) -> anyhow::Result<()> {
    let want_port = sandbox.key(source).port.to_string();
    wait_for(Duration::from_secs(15), "the replica's own SHOW SLAVE STATUS to name the new source", || async {
        let rows = sandbox.query(i, sandbox.dialect().show_replica_status()).await.ok()?;
        let row = rows.first()?;
        let port = row.text(&["Master_Port", "Source_Port"]);
        let running = row.text(&["Slave_IO_Running", "Replica_IO_Running"]) == "Yes" && row.text(&["Slave_SQL_Running", "Replica_SQL_Running"]) == "Yes";
        (port == want_port && running).then_some(())
    })
    .await
}

async fn source_port(sandbox: &Sandbox, i: usize) -> String {
    let rows = sandbox.query(i, sandbox.dialect().show_replica_status()).await.unwrap_or_default();
    rows.first().map(|r| r.text(&["Master_Port", "Source_Port"])).unwrap_or_default()
}

/// Waits until the card of `lower` is drawn entirely below the card of `upper` (its move's
/// animation has finished).
async fn wait_drawn_below(client: &Client, lower: &str, upper: &str) -> anyhow::Result<()> {
    let script = format!(
        "const a = document.querySelector(\"{}\"), b = document.querySelector(\"{}\"); \
         return !!a && !!b && a.getBoundingClientRect().top >= b.getBoundingClientRect().bottom;",
        card_css(lower),
        card_css(upper)
    );
    wait_for(Duration::from_secs(5), "the card to be drawn below its new source", || async {
        client.execute(&script, vec![]).await.ok()?.as_bool().filter(|b| *b).map(|_| ())
    })
    .await?;
    wait_for(Duration::from_secs(5), "the move's animation to end", || async {
        client.execute("return document.getAnimations().length === 0;", vec![]).await.ok()?.as_bool().filter(|b| *b).map(|_| ())
    })
    .await
}

/// Waits for the confirmation to show the plan, checks it names `server`, runs it and waits for
/// the result.
async fn confirm_plan_and_run(client: &Client, server: &str) -> anyhow::Result<String> {
    let plan = wait_for(Duration::from_secs(10), "the confirmation with the plan", || async {
        let dialog = client.find(Locator::Css(".confirm-dialog")).await.ok()?;
        dialog.find(Locator::Css("ol.plan li")).await.ok()?;
        dialog.text().await.ok()
    })
    .await?;
    assert!(plan.contains(server), "the plan names the moved server {server}: {plan}");
    assert!(plan.contains("CHANGE MASTER TO") || plan.contains("CHANGE REPLICATION SOURCE"), "the plan shows statements: {plan}");
    client.find(Locator::Css(".confirm-dialog button.confirm")).await?.click().await?;
    let done = wait_for(Duration::from_secs(30), "the operation's result", || async {
        let dialog = client.find(Locator::Css(".confirm-dialog")).await.ok()?;
        let text = dialog.text().await.ok()?;
        (text.contains("Done") || text.contains("failed")).then_some(text)
    })
    .await?;
    assert!(done.contains("✓ Done"), "the operation succeeds: {done}");
    client.find(Locator::Css(".confirm-dialog .actions button")).await?.click().await?;
    Ok(plan)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drag_to_relocate_refusals_keyboard_and_live_problems() -> anyhow::Result<()> {
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
    let shutdown = CancellationToken::new();
    let node = server::start(config, server::Listeners { http: TcpListener::bind("127.0.0.1:0").await?, raft: None }, shutdown.clone()).await?;
    node.discovery.discover(&sandbox.key(0)).await?;
    let cluster = sandbox.key(0).to_string();
    let url = format!("http://{}/cluster/{}", node.addr, cluster.replace(':', "%3A"));
    let [m1, m2, m3] = [0, 1, 2].map(|i| sandbox.key(i).to_string());
    let intents = &node.intents;

    let outcome = Browser::run(|client| async move {
        open_hydrated(&client, &url).await?;
        // Three cards with their roles, once discovery has seen the replicas.
        wait_for(Duration::from_secs(15), "three cards with their roles", || async {
            let roles = [card_attr(&client, &m1, "data-role").await?, card_attr(&client, &m2, "data-role").await?, card_attr(&client, &m3, "data-role").await?];
            (roles == ["primary", "replica", "replica"]).then_some(())
        })
        .await?;
        let title = client.find(Locator::Css(&format!("{} .title", card_css(&m3)))).await?.text().await?;
        assert_eq!(title, "mysql3", "cards show the alias");

        // Drag mysql3 onto mysql2: while hovering, the target says what the drop would do.
        let from = client.find(Locator::Css(&format!("{} rect.box", card_css(&m3)))).await?;
        let to = client.find(Locator::Css(&format!("{} rect.box", card_css(&m2)))).await?;
        drag(&client, &from, &to, false).await?;
        let hint = client.find(Locator::Css(".drop-hint")).await?.text().await?;
        assert!(hint.contains("relocate below") && hint.contains(&m2), "hovering mysql2 previews the relocation: {hint}");
        assert_eq!(card_attr(&client, &m2, "data-drop").await.as_deref(), Some("accept"));
        release_pointer(&client).await?;
        confirm_plan_and_run(&client, &m3).await?;
        // The page re-parents the card, and MariaDB itself says mysql3 replicates from mysql2.
        wait_for(Duration::from_secs(5), "mysql3's card under mysql2", || async {
            (card_attr(&client, &m3, "data-source").await? == m2).then_some(())
        })
        .await?;
        wait_replicating_from(&sandbox, 2, 1).await?;
        assert_eq!(card_attr(&client, &m2, "data-role").await.as_deref(), Some("intermediate"));
        wait_drawn_below(&client, &m3, &m2).await?;
        std::fs::write(screenshot_dir().join("topology.png"), client.screenshot().await?)?;

        // Drag mysql2 onto its own replica mysql3: refused, with the reason, and nothing runs.
        let from = client.find(Locator::Css(&format!("{} rect.box", card_css(&m2)))).await?;
        let to = client.find(Locator::Css(&format!("{} rect.box", card_css(&m3)))).await?;
        drag(&client, &from, &to, false).await?;
        let hint = wait_for(Duration::from_secs(3), "the refusal on the hovered descendant", || async {
            let hint = client.find(Locator::Css(".drop-hint.refused")).await.ok()?;
            hint.text().await.ok()
        })
        .await?;
        assert!(hint.contains("refused") && hint.contains("cycle"), "the reason is shown: {hint}");
        assert_eq!(card_attr(&client, &m3, "data-drop").await.as_deref(), Some("refuse"));
        std::fs::write(screenshot_dir().join("topology-refused-drop.png"), client.screenshot().await?)?;
        release_pointer(&client).await?;
        assert!(client.find(Locator::Css(".confirm-dialog")).await.is_err(), "a refused drop opens nothing");
        assert_eq!(source_port(&sandbox, 1).await, sandbox.key(0).port.to_string(), "mysql2 still replicates from mysql1");
        assert_eq!(source_port(&sandbox, 2).await, sandbox.key(1).port.to_string(), "mysql3 still replicates from mysql2");

        // A server in maintenance says so on its card, and dragging it is refused before anything
        // is asked of the node.
        intents.begin_maintenance(&sandbox.key(2), "ops", "kernel upgrade", None).await?;
        wait_for(Duration::from_secs(3), "mysql3's maintenance mark", || async {
            let text = client.find(Locator::Css(&card_css(&m3))).await.ok()?.text().await.ok()?;
            text.contains("maintenance by ops").then_some(())
        })
        .await?;
        let from = client.find(Locator::Css(&format!("{} rect.box", card_css(&m3)))).await?;
        let to = client.find(Locator::Css(&format!("{} rect.box", card_css(&m1)))).await?;
        drag(&client, &from, &to, false).await?;
        let hint = client.find(Locator::Css(".drop-hint.refused")).await?.text().await?;
        assert!(hint.contains("in maintenance by ops (kernel upgrade)"), "the lock is the reason: {hint}");
        release_pointer(&client).await?;
        assert!(client.find(Locator::Css(".confirm-dialog")).await.is_err(), "a refused drop opens nothing");
        intents.end_maintenance(&sandbox.key(2), "ops").await?;
        wait_for(Duration::from_secs(3), "the maintenance mark to go", || async {
            let text = client.find(Locator::Css(&card_css(&m3))).await.ok()?.text().await.ok()?;
            (!text.contains("maintenance")).then_some(())
        })
        .await?;

        // Keyboard path: select mysql3, "Move below…", Enter on mysql1.
        client.execute(&format!("document.querySelector(\"{}\").focus()", card_css(&m3)), vec![]).await?;
        client.active_element().await?.send_keys("\u{E007}").await?;
        let panel = wait_for(Duration::from_secs(3), "mysql3's panel", || async {
            client.find(Locator::Css(&format!("aside.panel[data-instance='{m3}']"))).await.ok()
        })
        .await?;
        panel.find(Locator::Css("button.move-below")).await?.click().await?;
        wait_for(Duration::from_secs(3), "verdicts on every card", || async {
            (card_attr(&client, &m1, "data-drop").await?.as_str() == "accept").then_some(())
        })
        .await?;
        client.execute(&format!("document.querySelector(\"{}\").focus()", card_css(&m1)), vec![]).await?;
        client.active_element().await?.send_keys("\u{E007}").await?;
        confirm_plan_and_run(&client, &m3).await?;
        wait_replicating_from(&sandbox, 2, 0).await?;
        wait_for(Duration::from_secs(5), "mysql3's card back under mysql1", || async {
            (card_attr(&client, &m3, "data-source").await? == m1).then_some(())
        })
        .await?;
        assert_eq!(card_attr(&client, &m2, "data-role").await.as_deref(), Some("replica"), "mysql2 has no replica left");

        // Stop replication on mysql2 with SQL: its card shows the problem within 2 s.
        sandbox.exec(1, sandbox.dialect().stop_replica()).await?;
        let text = wait_for(Duration::from_secs(2), "mysql2's card to show the problem", || async {
            if card_attr(&client, &m2, "data-health").await? != "bad" {
                return None;
            }
            client.find(Locator::Css(&card_css(&m2))).await.ok()?.text().await.ok()
        })
        .await?;
        assert!(text.contains("not replicating"), "the problem in words: {text}");
        std::fs::write(screenshot_dir().join("topology-stopped-replica.png"), client.screenshot().await?)?;

        // A narrow screen: the panel goes below the graph and nothing overflows sideways.
        client.set_window_size(390, 800).await?;
        wait_for(Duration::from_secs(3), "the page to fit a narrow screen", || async {
            let fits = client.execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![]).await.ok()?;
            fits.as_bool().filter(|b| *b).map(|_| ())
        })
        .await?;
        let cards_inside = "const svg = document.querySelector('svg.topology').getBoundingClientRect(); \
            return [...document.querySelectorAll('g.card rect.box')].every(r => { const b = r.getBoundingClientRect(); \
            return b.left >= svg.left - 1 && b.right <= svg.right + 1; }) && document.getAnimations().length === 0;";
        wait_for(Duration::from_secs(3), "the graph to refit the narrow screen", || async {
            client.execute(cards_inside, vec![]).await.ok()?.as_bool().filter(|b| *b).map(|_| ())
        })
        .await?;
        std::fs::write(screenshot_dir().join("topology-narrow.png"), client.screenshot().await?)?;
        client.set_window_size(1280, 800).await?;

        // The node stops: the open page says its data is stale.
        shutdown.cancel();
        wait_for(Duration::from_secs(10), "the stale-data banner", || async { client.find(Locator::Css(".banner.stale")).await.ok() }).await?;
        Ok(())
    })
    .await;
    node.stop().await;
    outcome
}
