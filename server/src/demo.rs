//! `orchestrator demo`: the seed environment on one machine, without Docker. Three MariaDB
//! servers named mysql1 (primary), mysql2 and mysql3 (its replicas) on loopback ports, and three
//! nodes forming a raft cluster, their web UIs and APIs on http://127.0.0.1:3000, 3001 and 3002,
//! that have discovered them. Ctrl-C stops everything.

use crate::config::Config;
use crate::node::{start, stop_signal, Listeners};
use crate::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape, REPLICATION_PASSWORD, REPLICATION_USER, TOPOLOGY_PASSWORD, TOPOLOGY_USER};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Where the first node's web UI listens unless `ORCHESTRATOR_DEMO_LISTEN` says otherwise; the
/// other two take the next ports (or free ones, when it says port 0).
const DEFAULT_LISTEN: &str = "127.0.0.1:3000";
/// Nodes in the demo's raft cluster.
const NODES: usize = 3;

/// The node configuration the demo runs with: an orchestrator config.json as a user would
/// write it, with the sandbox's credentials. Instances are named `mysql<server_id>` by
/// `DetectInstanceAliasQuery`, as the seed's hosts are.
pub fn demo_config(listen: &str, data_dir: &std::path::Path) -> Result<Config, String> {
    let json = serde_json::json!({
        "ListenAddress": listen,
        "BackendDB": "sqlite",
        "SQLite3DataFile": data_dir.join("orchestrator.sqlite3"),
        "MySQLTopologyUser": TOPOLOGY_USER,
        "MySQLTopologyPassword": TOPOLOGY_PASSWORD,
        "MySQLHostnameResolveMethod": "none",
        "InstancePollSeconds": 1,
        "DetectInstanceAliasQuery": "SELECT CONCAT('mysql', @@global.server_id)",
        "RecoverMasterClusterFilters": ["*"],
        "RecoverIntermediateMasterClusterFilters": ["*"],
        // A takeover makes the old primary a replica: MariaDB does not reveal the channel's
        // password, so the demo says which account its replicas use.
        "ReplicationCredentialsQuery": format!("SELECT '{REPLICATION_USER}', '{REPLICATION_PASSWORD}'"),
    });
    crate::config::parse(&json.to_string(), "demo configuration").map(|l| l.config).map_err(|e| e.to_string())
}

pub async fn run(inv: &crate::cli::Invocation) -> i32 {
    // From the start, so that Ctrl-C while the servers start still removes them.
    let signalled = stop_signal();
    let flavor = match inv.positional.get(1).map(String::as_str) {
        None => SandboxFlavor::MariaDb,
        Some(name) => match SandboxFlavor::parse(name) {
            Some(f) => f,
            None => {
                eprintln!("orchestrator: demo: unknown flavor {name:?} (use mariadb or mysql)");
                return 2;
            }
        },
    };
    let listen = std::env::var("ORCHESTRATOR_DEMO_LISTEN").unwrap_or_else(|_| DEFAULT_LISTEN.to_string());
    let (http, raft) = match bind_nodes(&listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("orchestrator: demo: {e} (set ORCHESTRATOR_DEMO_LISTEN=127.0.0.1:<port>)");
            return 1;
        }
    };
    eprintln!("Starting three {} servers (mysql1 primary, mysql2 and mysql3 replicas)...", flavor.name());
    let sandbox = match Sandbox::start(SandboxOptions::new(flavor, 3, Shape::PrimaryWithReplicas)).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("orchestrator: demo: {e}");
            return 1;
        }
    };
    let raft_nodes: Vec<String> = raft.iter().filter_map(|l| l.local_addr().ok()).map(|a| a.to_string()).collect();
    let shutdown = CancellationToken::new();
    let mut nodes = Vec::new();
    for (i, (http, raft)) in http.into_iter().zip(raft).enumerate() {
        let data_dir = sandbox.dir().join(format!("orchestrator{}", i + 1));
        let config = match demo_config(&listen, &data_dir).and_then(|c| with_raft(c, &raft_nodes[i], &raft_nodes, &data_dir)) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("orchestrator: demo: {e}");
                return 1;
            }
        };
        match start(config, Listeners { http, raft: Some(raft) }, shutdown.clone()).await {
            Ok(n) => nodes.push(n),
            Err(e) => {
                eprintln!("orchestrator: demo: {e}");
                return 1;
            }
        }
    }
    // Discovery through the leader: it tells the others (a replicated `discover`).
    let primary = sandbox.key(0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let leader = loop {
        if let Some(n) = nodes.iter().find(|n| n.replicated.is_leader()) {
            break Some(n);
        }
        if std::time::Instant::now() > deadline {
            break None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    match leader {
        Some(n) => {
            if let Err(e) = n.discovery.discover(&primary).await {
                eprintln!("orchestrator: demo: discovering {primary}: {e}");
            }
            if let Err(e) = n.replicated.write(crate::raft::Command::Discover { instance: primary.clone() }).await {
                eprintln!("orchestrator: demo: telling the other nodes about {primary}: {e}");
            }
        }
        None => eprintln!("orchestrator: demo: the nodes elected no raft leader within 20 s"),
    }
    for (i, s) in sandbox.servers().iter().enumerate() {
        eprintln!("  {:7} {}   (mysql -h127.0.0.1 -P{} -u{} -p{})", s.name, sandbox.key(i), s.port, TOPOLOGY_USER, TOPOLOGY_PASSWORD);
    }
    eprintln!();
    for (i, n) in nodes.iter().enumerate() {
        eprintln!("Node {}:   http://{}   (raft {})", i + 1, n.addr, raft_nodes[i]);
    }
    let first = nodes[0].addr;
    eprintln!("Try:      ORCHESTRATOR_API=http://{first} orchestrator -c topology\n          ORCHESTRATOR_API=http://{first} orchestrator -c raft-status\nCtrl-C stops the demo and removes its servers.");
    signalled.await;
    eprintln!("Stopping...");
    for n in nodes {
        n.stop().await;
    }
    drop(sandbox);
    0
}

/// Binds the nodes' HTTP listeners (the given address and the next ports, or free ports when it
/// says port 0) and their raft listeners (free loopback ports).
async fn bind_nodes(listen: &str) -> Result<(Vec<TcpListener>, Vec<TcpListener>), String> {
    let (host, port) = listen.rsplit_once(':').ok_or_else(|| format!("{listen:?} is not host:port"))?;
    let port: u16 = port.parse().map_err(|_| format!("{listen:?} is not host:port"))?;
    let mut http = Vec::new();
    let mut raft = Vec::new();
    for i in 0..NODES {
        let p = if port == 0 { 0 } else { port + i as u16 };
        let addr = format!("{host}:{p}");
        http.push(TcpListener::bind(&addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?);
        raft.push(TcpListener::bind("127.0.0.1:0").await.map_err(|e| format!("cannot listen for raft: {e}"))?);
    }
    Ok((http, raft))
}

/// The demo node's raft settings: this node's address, all three, its own data directory, and a
/// secret made up for this run.
fn with_raft(mut config: Config, me: &str, all: &[String], data_dir: &std::path::Path) -> Result<Config, String> {
    static SECRET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let secret = SECRET.get_or_init(|| format!("{:032x}", rand::random::<u128>()));
    config.raft.raft_enabled = true;
    config.raft.raft_bind = me.to_string();
    config.raft.raft_advertise = me.to_string();
    config.raft.raft_nodes = all.to_vec();
    config.raft.raft_data_dir = data_dir.display().to_string();
    config.raft.raft_secret = crate::config::Secret::new(secret.clone());
    Ok(config)
}
