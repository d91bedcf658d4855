//! Three nodes in a raft group, the UI used from a follower: the drag that relocates a replica
//! is planned and run through the leader (the follower forwards the server functions), MariaDB
//! itself reports the new source, the follower's open page re-draws the tree from its own
//! probes, and its status page names the leader and the peers.

use end2end::{drag, open_hydrated, release_pointer, screenshot_dir, site_root, wait_for, Browser};
use fantoccini::{Client, Locator};
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape, TOPOLOGY_PASSWORD, TOPOLOGY_USER};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

const NODES: usize = 3;

fn card_css(key: &str) -> String {
    format!("g.card[data-instance='{key}']")
}

async fn card_attr(client: &Client, key: &str, attr: &str) -> Option<String> {
    client.find(Locator::Css(&card_css(key))).await.ok()?.attr(attr).await.ok()?
}

/// `GET path` on a node's HTTP API, its body as JSON (whatever the status: errors are envelopes).
/// HTTP/1.0, so the answer is neither chunked nor kept alive.
async fn get_json(addr: SocketAddr, path: &str) -> anyhow::Result<serde_json::Value> {
    let io = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: application/json\r\n\r\n").as_bytes()).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        anyhow::Ok(answer)
    };
    let answer = tokio::time::timeout(Duration::from_secs(30), io).await.map_err(|_| anyhow::anyhow!("GET {path} on {addr} took over 30 s"))??;
    let answer = String::from_utf8(answer)?;
    let (head, body) = answer.split_once("\r\n\r\n").ok_or_else(|| anyhow::anyhow!("GET {path}: no HTTP answer: {answer:?}"))?;
    serde_json::from_str(body).map_err(|e| anyhow::anyhow!("GET {path}: {e}: {head}\n{body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_ui_works_from_a_follower() -> anyhow::Result<()> {
    std::env::set_var("LEPTOS_SITE_ROOT", site_root()?);
    let sandbox = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 3, Shape::PrimaryWithReplicas)).await?;

    // Every socket first, so that each node's configuration can name all three raft addresses.
    let mut http = Vec::new();
    let mut raft = Vec::new();
    for _ in 0..NODES {
        http.push(TcpListener::bind("127.0.0.1:0").await?);
        raft.push(TcpListener::bind("127.0.0.1:0").await?);
    }
    let raft_addrs: Vec<String> = raft.iter().map(|l| l.local_addr().map(|a| a.to_string())).collect::<Result<_, _>>()?;
    let dirs: Vec<tempfile::TempDir> = (0..NODES).map(|_| tempfile::tempdir()).collect::<Result<_, _>>()?;
    let shutdown = CancellationToken::new();
    let mut nodes = Vec::new();
    for (i, (http, raft)) in http.into_iter().zip(raft).enumerate() {
        let json = serde_json::json!({
            "SQLite3DataFile": dirs[i].path().join("orchestrator.sqlite3"),
            "MySQLTopologyUser": TOPOLOGY_USER,
            "MySQLTopologyPassword": TOPOLOGY_PASSWORD,
            "MySQLHostnameResolveMethod": "none",
            "InstancePollSeconds": 1,
            "DetectInstanceAliasQuery": "SELECT CONCAT('mysql', @@global.server_id)",
        });
        let mut config = server::config::parse(&json.to_string(), "e2e")?.config;
        config.raft.raft_enabled = true;
        config.raft.raft_bind = raft_addrs[i].clone();
        config.raft.raft_advertise = raft_addrs[i].clone();
        config.raft.raft_nodes = raft_addrs.clone();
        config.raft.raft_data_dir = dirs[i].path().display().to_string();
        config.raft.raft_secret = server::config::Secret::new("end2end-raft-secret-0123456789");
        nodes.push(server::start(config, server::Listeners { http, raft: Some(raft) }, shutdown.clone()).await?);
    }

    let outcome = follower_ui(&sandbox, &nodes, &raft_addrs).await;
    shutdown.cancel();
    for node in nodes {
        node.stopped().await;
    }
    drop(dirs);
    outcome
}

async fn follower_ui(sandbox: &Sandbox, nodes: &[server::node::Node], raft_addrs: &[String]) -> anyhow::Result<()> {
    let leader = wait_for(Duration::from_secs(30), "a raft leader", || async { nodes.iter().position(|n| n.replicated.is_leader()) }).await?;
    let follower = (0..NODES).find(|&i| i != leader).expect("three nodes");

    // Discovered through the leader's API: the others learn of it from raft and probe it too.
    let primary = sandbox.key(0);
    let answer = get_json(nodes[leader].addr, &format!("/api/discover/{}/{}", primary.hostname, primary.port)).await?;
    anyhow::ensure!(answer["Code"] == "OK", "discover through the leader: {answer}");
    let cluster = primary.to_string();
    for (i, node) in nodes.iter().enumerate() {
        wait_for(Duration::from_secs(30), &format!("node {} to list the 3 probed members", i + 1), || async {
            let members = get_json(node.addr, &format!("/api/cluster/{cluster}")).await.ok()?;
            let members = members.as_array()?;
            (members.len() == 3 && members.iter().all(|m| m["IsLastCheckValid"] == true && m["Version"] != "")).then_some(())
        })
        .await?;
    }

    let base = format!("http://{}", nodes[follower].addr);
    let [m1, m2, m3] = [0, 1, 2].map(|i| sandbox.key(i).to_string());
    let follower_node = &nodes[follower];
    Browser::run(|client| async move {
        open_hydrated(&client, &format!("{base}/cluster/{}", cluster.replace(':', "%3A"))).await?;
        wait_for(Duration::from_secs(15), "three cards with their roles on the follower's page", || async {
            let roles = [card_attr(&client, &m1, "data-role").await?, card_attr(&client, &m2, "data-role").await?, card_attr(&client, &m3, "data-role").await?];
            (roles == ["primary", "replica", "replica"]).then_some(())
        })
        .await?;
        assert!(!follower_node.replicated.is_leader(), "the page is served by a follower");

        // The same drag as on a lone node: mysql3 onto mysql2.
        let from = client.find(Locator::Css(&format!("{} rect.box", card_css(&m3)))).await?;
        let to = client.find(Locator::Css(&format!("{} rect.box", card_css(&m2)))).await?;
        drag(&client, &from, &to, false).await?;
        let hint = client.find(Locator::Css(".drop-hint")).await?.text().await?;
        assert!(hint.contains("relocate below") && hint.contains(&m2), "hovering mysql2 previews the relocation: {hint}");
        release_pointer(&client).await?;
        // The plan is made by the leader (the follower forwards `operate`), and so is the run.
        let plan = wait_for(Duration::from_secs(15), "the confirmation with the plan", || async {
            let dialog = client.find(Locator::Css(".confirm-dialog")).await.ok()?;
            dialog.find(Locator::Css("ol.plan li")).await.ok()?;
            dialog.text().await.ok()
        })
        .await?;
        assert!(plan.contains(&m3), "the plan names the moved server {m3}: {plan}");
        assert!(plan.contains("CHANGE MASTER TO") || plan.contains("CHANGE REPLICATION SOURCE"), "the plan shows statements: {plan}");
        client.find(Locator::Css(".confirm-dialog button.confirm")).await?.click().await?;
        let done = wait_for(Duration::from_secs(60), "the operation's result", || async {
            let text = client.find(Locator::Css(".confirm-dialog")).await.ok()?.text().await.ok()?;
            (text.contains("Done") || text.contains("failed")).then_some(text)
        })
        .await?;
        assert!(done.contains("✓ Done"), "the operation run through the leader succeeds: {done}");
        client.find(Locator::Css(".confirm-dialog .actions button")).await?.click().await?;
        // It ran on the leader: operations are audited in the store of the node that runs them.
        let m3_key = sandbox.key(2);
        let on_leader = nodes[leader].store.list_audit(0, Some(&m3_key)).await?;
        assert!(on_leader.iter().any(|e| e.who == "web"), "the leader audited the operation on {m3}: {on_leader:?}");
        let on_follower = follower_node.store.list_audit(0, Some(&m3_key)).await?;
        assert!(on_follower.is_empty(), "the follower ran nothing itself: {on_follower:?}");

        // MariaDB itself: mysql3 replicates from mysql2, both threads running.
        let want_port = sandbox.key(1).port.to_string();
        wait_for(Duration::from_secs(15), "mysql3's own SHOW SLAVE STATUS to name mysql2", || async {
            let rows = sandbox.query(2, sandbox.dialect().show_replica_status()).await.ok()?;
            let row = rows.first()?;
            let running = row.text(&["Slave_IO_Running", "Replica_IO_Running"]) == "Yes" && row.text(&["Slave_SQL_Running", "Replica_SQL_Running"]) == "Yes";
            (row.text(&["Master_Port", "Source_Port"]) == want_port && running).then_some(())
        })
        .await?;
        // The follower's open page follows, from its own probes, without a reload.
        wait_for(Duration::from_secs(15), "mysql3's card under mysql2 on the follower's page", || async {
            let source = card_attr(&client, &m3, "data-source").await?;
            let role = card_attr(&client, &m2, "data-role").await?;
            (source == m2 && role == "intermediate").then_some(())
        })
        .await?;
        wait_for(Duration::from_secs(5), "the move's animation to end", || async {
            client.execute("return document.getAnimations().length === 0;", vec![]).await.ok()?.as_bool().filter(|b| *b).map(|_| ())
        })
        .await?;
        std::fs::write(screenshot_dir().join("raft-follower-topology.png"), client.screenshot().await?)?;

        // The follower's status page: whom it follows, and the three peers.
        open_hydrated(&client, &format!("{base}/status")).await?;
        let leader_now = nodes.iter().position(|n| n.replicated.is_leader()).map(|i| raft_addrs[i].clone());
        let leader_addr = leader_now.unwrap_or_else(|| raft_addrs[leader].clone());
        let text = wait_for(Duration::from_secs(15), "the raft facts on the follower's status page", || async {
            let text = client.find(Locator::Css(".node-status dd.raft")).await.ok()?.text().await.ok()?;
            text.contains("follower of").then_some(text)
        })
        .await?;
        assert!(text.contains(&format!("follower of {leader_addr}")), "the follower names its leader {leader_addr}: {text}");
        for peer in raft_addrs {
            assert!(text.contains(peer.as_str()), "peer {peer} is listed: {text}");
        }
        std::fs::write(screenshot_dir().join("raft-follower-status.png"), client.screenshot().await?)?;
        Ok(())
    })
    .await
}
