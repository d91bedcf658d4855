//! `orchestrator demo`: the seed environment on one machine, without Docker. Three MariaDB
//! servers named mysql1 (primary), mysql2 and mysql3 (its replicas) on loopback ports, and a
//! node on http://127.0.0.1:3000 that has discovered them. Ctrl-C stops everything.

use crate::config::Config;
use crate::node::{start, stop_signal, Listeners};
use crate::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape, REPLICATION_PASSWORD, REPLICATION_USER, TOPOLOGY_PASSWORD, TOPOLOGY_USER};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Where the demo's web UI listens unless `ORCHESTRATOR_DEMO_LISTEN` says otherwise.
const DEFAULT_LISTEN: &str = "127.0.0.1:3000";

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
    let listener = match TcpListener::bind(&listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("orchestrator: demo: cannot listen on {listen}: {e} (set ORCHESTRATOR_DEMO_LISTEN=127.0.0.1:<port>)");
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
    let data_dir = sandbox.dir().join("orchestrator");
    let config = match demo_config(&listen, &data_dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("orchestrator: demo: {e}");
            return 1;
        }
    };
    let shutdown = CancellationToken::new();
    let node = match start(config, Listeners { http: listener }, shutdown.clone()).await {
        Ok(n) => n,
        Err(e) => {
            eprintln!("orchestrator: demo: {e}");
            return 1;
        }
    };
    let primary = sandbox.key(0);
    if let Err(e) = node.discovery.discover(&primary).await {
        eprintln!("orchestrator: demo: discovering {primary}: {e}");
    }
    for (i, s) in sandbox.servers().iter().enumerate() {
        eprintln!("  {:7} {}   (mysql -h127.0.0.1 -P{} -u{} -p{})", s.name, sandbox.key(i), s.port, TOPOLOGY_USER, TOPOLOGY_PASSWORD);
    }
    eprintln!("\nWeb UI:   http://{}\nTry:      ORCHESTRATOR_API=http://{} orchestrator -c topology\nCtrl-C stops the demo and removes its servers.", node.addr, node.addr);
    signalled.await;
    eprintln!("Stopping...");
    node.stop().await;
    drop(sandbox);
    0
}
