//! One node: the store, continuous discovery and the HTTP server, started by one function that
//! `orchestrator http` and every integration test call alike, and stopped by one cancellation
//! token (HTTP first, then discovery, then a last flush of the store).

use crate::config::{Backend, Config};
use crate::discovery::{Discovery, DiscoverySettings};
use crate::http::{self, ApiSettings, AppState};
use crate::intents::{IntentSettings, Intents};
use crate::mysql::probe::{HostnameMethod, ProbeSettings, SiteQueries};
use crate::refactor::executor::ExecSettings;
use crate::refactor::{Refactor, RefactorSettings};
use crate::raft::consensus::RaftSettings;
use crate::raft::{Command, Consensus, Event, Listener, Peer, Replicated};
use crate::store::Store;
use app::rules::RuleSettings;
use crate::topology::ascii::AsciiSettings;
use crate::topology::clusters::RecoveryFilters;
use crate::topology::DeriveSettings;
use app::model::InstanceKey;
use regex::Regex;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Sockets the node serves on, bound by the caller (tests bind port 0).
pub struct Listeners {
    pub http: TcpListener,
    /// Raft RPCs from the other nodes (`RaftBind`); required when `RaftEnabled`.
    pub raft: Option<TcpListener>,
}

impl Listeners {
    /// HTTP only (no raft).
    pub fn http(http: TcpListener) -> Listeners {
        Listeners { http, raft: None }
    }
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
    #[error("BackendDB \"mysql\" is not available yet in this version; use \"sqlite\" (the default)")]
    UnsupportedBackend,
    #[error("cannot read the listener's address: {0}")]
    Listener(std::io::Error),
    #[error("RaftEnabled is true but no raft listener was given")]
    NoRaftListener,
    #[error("{0}")]
    Raft(#[from] crate::raft::consensus::RaftStartError),
}

/// A running node.
pub struct Node {
    /// Where the HTTP server listens.
    pub addr: SocketAddr,
    pub discovery: Discovery,
    pub store: Store,
    /// Maintenance, downtime, promotion rules and tags.
    pub intents: Intents,
    /// Replicated state (and the raft node, when enabled).
    pub replicated: Replicated,
    serving: tokio::task::JoinHandle<()>,
    /// The recovery loop.
    recovering: tokio::task::JoinHandle<()>,
    /// Fences old primaries that answer again.
    fencing: tokio::task::JoinHandle<()>,
    shutdown: CancellationToken,
}

impl Node {
    /// Waits until the node has stopped (after `shutdown` was cancelled) and its last
    /// observations are written.
    pub async fn stopped(self) {
        let _ = self.serving.await;
        let _ = self.recovering.await;
        let _ = self.fencing.await;
        if let Err(e) = self.discovery.flush().await {
            tracing::error!(error = %e, "final write to the store failed");
        }
    }

    /// Cancels the node's token and waits for it to stop.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.stopped().await;
    }
}

/// Starts a node. Returns once the store is open, discovery runs and HTTP is being served.
pub async fn start(config: Config, listeners: Listeners, shutdown: CancellationToken) -> Result<Node, StartError> {
    let store = match config.backend() {
        Backend::Sqlite if config.raft.raft_enabled => Store::open_sqlite_durable(&store_path(&config)).await?,
        Backend::Sqlite => Store::open_sqlite(&store_path(&config)).await?,
        Backend::MySql => return Err(StartError::UnsupportedBackend),
    };
    let replicated = if config.raft.raft_enabled { Replicated::for_raft(store.clone()) } else { Replicated::new(store.clone()) };
    let discovery = Discovery::start(discovery_settings(&config), store.clone(), shutdown.child_token()).await?;
    for seed in &config.discovery.discovery_seeds {
        match InstanceKey::parse(seed, config.default_instance_port()) {
            Ok(key) => {
                if let Err(e) = discovery.discover_async(&key) {
                    tracing::warn!(seed = %key, error = %e, "discovery seed not used");
                }
            }
            Err(e) => tracing::warn!(seed = %seed, error = %e, "invalid DiscoverySeeds entry"),
        }
    }
    // Servers operators asked to discover (replicated): a restarted node probes them at once,
    // whatever its observed cache holds.
    for seed in store.discovery_seeds().await? {
        if discovery.resolve_known(&seed).is_none() {
            if let Err(e) = discovery.discover_async(&seed) {
                tracing::warn!(%seed, error = %e, "replicated discovery seed not used");
            }
        }
    }
    let intents = Intents::start(replicated.clone(), discovery.clone(), intent_settings(&config), shutdown.child_token()).await?;
    replicated.set_listener(views_listener(intents.clone(), discovery.clone(), store.clone()));
    let addr = listeners.http.local_addr().map_err(StartError::Listener)?;
    if config.raft.raft_enabled {
        let raft_listener = listeners.raft.ok_or(StartError::NoRaftListener)?;
        let settings = raft_settings(&config, addr);
        tracing::info!(raft = %settings.me.raft, api = %settings.me.api, nodes = ?settings.nodes, "starting raft");
        let consensus = Consensus::start(settings, replicated.clone(), raft_listener, shutdown.child_token()).await?;
        replicated.attach(consensus);
    }
    let refactor = Refactor::new(discovery.clone(), store.clone(), refactor_settings(&config));
    let analyzer = crate::analysis::Analyzer::new(crate::analysis::AnalysisSettings::from_config(&config));
    let services = crate::recovery::watch::Services {
        discovery: discovery.clone(),
        analyzer: analyzer.clone(),
        intents: intents.clone(),
        store: store.clone(),
        replicated: replicated.clone(),
    };
    let recovery = Arc::new(watch_settings(&config));
    let fencing = crate::recovery::fence::spawn(services.clone(), recovery.exec.clone(), true, shutdown.child_token());
    let recovering = crate::recovery::watch::spawn(services, (*recovery).clone(), shutdown.child_token());
    let state = AppState {
        replicated: replicated.clone(),
        recovery,
        discovery: discovery.clone(),
        store: store.clone(),
        refactor,
        intents: intents.clone(),
        sql: crate::sql::SqlRunner::new(sql_settings(&config)),
        analyzer,
        settings: Arc::new(api_settings(&config)),
        shutdown: shutdown.clone(),
    };
    let router = http::router(state, http::default_site_root());
    let stop = shutdown.clone();
    let serving = tokio::spawn(async move {
        let served = axum::serve(listeners.http, router).with_graceful_shutdown(async move { stop.cancelled().await }).await;
        if let Err(e) = served {
            tracing::error!(error = %e, "HTTP server failed");
        }
    });
    tracing::info!(%addr, "orchestrator node serving");
    Ok(Node { addr, discovery, store, intents, replicated, serving, recovering, fencing, shutdown })
}

/// Keeps the node's in-memory views in step with the replicated state, on every node.
fn views_listener(intents: Intents, discovery: Discovery, store: Store) -> Listener {
    Arc::new(move |event: Event<'_>| match event {
        Event::Applied(Command::Intent { command }) => intents.absorb(command),
        Event::Applied(Command::SetClusterAlias { cluster, alias, .. }) => discovery.show_cluster_alias(cluster, alias),
        Event::Applied(Command::Discover { instance }) => {
            if discovery.resolve_known(instance).is_none() {
                if let Err(e) = discovery.discover_async(instance) {
                    tracing::warn!(%instance, error = %e, "a replicated discover was not started here");
                }
            }
        }
        Event::Applied(Command::Forget { instances }) => {
            let (discovery, keys) = (discovery.clone(), instances.clone());
            tokio::spawn(async move {
                if let Err(e) = discovery.forget(&keys).await {
                    tracing::error!(error = %e, "a replicated forget failed here");
                }
            });
        }
        Event::Applied(_) => {}
        Event::Restored => {
            let (intents, discovery, store) = (intents.clone(), discovery.clone(), store.clone());
            tokio::spawn(async move {
                match store.discovery_seeds().await {
                    Ok(seeds) => seeds.iter().filter(|k| discovery.resolve_known(k).is_none()).for_each(|k| {
                        let _ = discovery.discover_async(k);
                    }),
                    Err(e) => tracing::error!(error = %e, "reading discovery seeds after a raft snapshot failed"),
                }
                if let Err(e) = intents.reload().await {
                    tracing::error!(error = %e, "reloading intents after a raft snapshot failed");
                }
                match store.cluster_aliases().await {
                    Ok(aliases) => aliases.iter().for_each(|(c, a)| discovery.show_cluster_alias(c, a)),
                    Err(e) => tracing::error!(error = %e, "reloading cluster aliases after a raft snapshot failed"),
                }
            });
        }
    })
}

/// This node's raft identity and peers. `HTTPAdvertise` when set, else the raft host and the
/// port HTTP really listens on.
pub fn raft_settings(config: &Config, http: SocketAddr) -> RaftSettings {
    let me = config.raft_advertise_addr().to_ascii_lowercase();
    let api = if config.raft.http_advertise.is_empty() {
        let host = me.rsplit_once(':').map(|(h, _)| h.to_string()).unwrap_or_else(|| me.clone());
        format!("http://{host}:{}", http.port())
    } else {
        config.raft.http_advertise.clone()
    };
    RaftSettings {
        me: Peer { raft: me, api },
        bind: config.raft_bind_addr(),
        nodes: config.raft_peer_addrs().into_iter().map(|n| n.to_ascii_lowercase()).collect(),
        secret: config.raft.raft_secret.expose().to_string(),
    }
}

/// The node's database. With raft it holds the raft log and the replicated state, so it lives
/// in `RaftDataDir` (a node's identity, like its raft address): emptying that directory is
/// what makes a node rejoin from scratch. Without raft, `SQLite3DataFile`.
pub fn store_path(config: &Config) -> PathBuf {
    if config.raft.raft_enabled && !config.raft.raft_data_dir.is_empty() {
        return PathBuf::from(&config.raft.raft_data_dir).join(RAFT_STORE_FILE);
    }
    config.sqlite_path()
}

/// The database file inside `RaftDataDir`.
pub const RAFT_STORE_FILE: &str = "orchestrator.sqlite3";

/// What discovery takes from the configuration.
pub fn discovery_settings(config: &Config) -> DiscoverySettings {
    let d = &config.discovery;
    let regexes = |list: &[String]| list.iter().filter_map(|p| Regex::new(p).ok()).collect::<Vec<_>>();
    let hostname_method = match config.mysql_hostname_resolve() {
        crate::config::MySqlHostnameResolve::None => HostnameMethod::AsGiven,
        crate::config::MySqlHostnameResolve::ReportHost => HostnameMethod::ReportHost,
        crate::config::MySqlHostnameResolve::Hostname => HostnameMethod::Hostname,
    };
    DiscoverySettings {
        poll_interval: config.instance_poll(),
        ping_interval: std::time::Duration::from_millis(d.instance_ping_milliseconds),
        max_concurrency: d.discovery_max_concurrency,
        user: config.topology.mysql_topology_user.clone(),
        password: config.topology.mysql_topology_password.clone(),
        connect_timeout: config.mysql_connect_timeout(),
        read_timeout: config.mysql_discovery_read_timeout(),
        probe: ProbeSettings {
            hostname_method,
            default_port: config.default_instance_port(),
            site: SiteQueries {
                data_center: d.detect_data_center_query.clone(),
                region: d.detect_region_query.clone(),
                physical_environment: d.detect_physical_environment_query.clone(),
                instance_alias: d.detect_instance_alias_query.clone(),
                cluster_alias: d.detect_cluster_alias_query.clone(),
                promotion_rule: d.detect_promotion_rule_query.clone(),
                replication_lag: d.replication_lag_query.clone(),
            },
        },
        derive: DeriveSettings {
            poll_interval: config.instance_poll(),
            reasonable_lag_seconds: d.reasonable_replication_lag_seconds as i64,
            data_center_pattern: config.data_center_pattern().cloned(),
            region_pattern: config.region_pattern().cloned(),
            physical_environment_pattern: config.physical_environment_pattern().cloned(),
            cluster_name_to_alias: d
                .cluster_name_to_alias
                .iter()
                .filter_map(|(re, alias)| Regex::new(re).ok().map(|r| (r, alias.clone())))
                .collect(),
        },
        ignore_hostnames: regexes(&d.discovery_ignore_hostname_filters),
        ignore_replica_hostnames: regexes(&d.discovery_ignore_replica_hostname_filters),
        ignore_master_hostnames: regexes(&d.discovery_ignore_master_hostname_filters),
    }
}

/// What topology operations take from the configuration.
pub fn refactor_settings(config: &Config) -> RefactorSettings {
    let maintenance_lag = config.discovery.reasonable_maintenance_replication_lag_seconds;
    RefactorSettings {
        rules: RuleSettings {
            maintenance_lag_seconds: maintenance_lag as i64,
            verify_replication_filters: config.discovery.verify_replication_filters,
            use_super_read_only: config.recovery.use_super_read_only,
        },
        exec: ExecSettings {
            user: config.topology.mysql_topology_user.clone(),
            password: config.topology.mysql_topology_password.clone(),
            connect_timeout: config.mysql_connect_timeout(),
            read_timeout: config.mysql_topology_read_timeout(),
            wait_timeout: std::time::Duration::from_secs(maintenance_lag.max(10)),
            replication_credentials_query: config.discovery.replication_credentials_query.clone(),
        },
    }
}

/// What the recovery loop takes from the configuration.
pub fn watch_settings(config: &Config) -> crate::recovery::watch::WatchSettings {
    let exec = refactor_settings(config).exec;
    crate::recovery::watch::WatchSettings {
        policy: crate::recovery::RecoveryPolicy::from_config(config),
        // The replicas already agree it is gone; the confirming probe only catches a primary
        // that is back. One that answers nothing within this is not back: waiting for the full
        // connect timeout would only delay the recovery of a hung primary.
        confirm_timeout: (exec.connect_timeout + exec.read_timeout).min(crate::recovery::watch::CONFIRM_TIMEOUT),
        exec,
        block: std::time::Duration::from_secs(config.recovery.recovery_period_block_seconds),
        detection_block: std::time::Duration::from_secs(config.recovery.failure_detection_period_block_minutes * 60),
        observe_only: config.recovery.recovery_observe_only,
        hooks: config.hooks.clone(),
        hook: crate::recovery::hooks::HookSettings {
            shell: config.hooks.processes_shell_command.clone(),
            timeout: std::time::Duration::from_secs(config.hooks.processes_timeout_seconds.max(1)),
            node: local_hostname(),
        },
    }
}

/// What operator intents take from the configuration.
pub fn intent_settings(config: &Config) -> IntentSettings {
    IntentSettings { candidate_expiry: config.candidate_instance_expire(), ..Default::default() }
}

/// What the `sql` command takes from the configuration.
pub fn sql_settings(config: &Config) -> crate::sql::SqlSettings {
    crate::sql::SqlSettings {
        user: config.topology.mysql_topology_user.clone(),
        password: config.topology.mysql_topology_password.clone(),
        connect_timeout: config.mysql_connect_timeout(),
        read_timeout: config.mysql_topology_read_timeout(),
        max_rows: crate::sql::DEFAULT_MAX_ROWS,
    }
}

fn api_settings(config: &Config) -> ApiSettings {
    ApiSettings {
        default_port: config.default_instance_port(),
        ascii: AsciiSettings {
            maintenance_lag_seconds: config.discovery.reasonable_maintenance_replication_lag_seconds as i64,
        },
        recovery_filters: RecoveryFilters {
            master: config.recovery.recover_master_cluster_filters.clone(),
            intermediate_master: config.recovery.recover_intermediate_master_cluster_filters.clone(),
        },
        read_only: config.service.read_only,
        hostname: local_hostname(),
        token: format!("{:016x}", rand::random::<u64>()),
        started_at: chrono::Utc::now(),
        backend_description: format!("sqlite:{}", store_path(config).display()),
        recovery_block_seconds: config.recovery.recovery_period_block_seconds,
        observe_only_default: config.recovery.recovery_observe_only,
    }
}

pub fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Finds the configuration file: `--config`, else the first of orchestrator's default paths
/// that exists, else built-in defaults.
pub fn config_path(explicit: Option<&PathBuf>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.clone());
    }
    crate::config::DEFAULT_PATHS.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// `orchestrator http`: runs a node until SIGINT or SIGTERM.
pub async fn run_http(inv: &crate::cli::Invocation) -> i32 {
    let config = match config_path(inv.config.as_ref()) {
        Some(path) => match crate::config::load(&path) {
            Ok(loaded) => {
                for w in &loaded.warnings {
                    eprintln!("orchestrator: warning: {w}");
                }
                loaded.config
            }
            Err(e) => {
                eprintln!("orchestrator: {e}");
                return crate::config::ConfigError::EXIT_STATUS;
            }
        },
        None => Config::default(),
    };
    let mut config = config;
    let identity = crate::config::IdentityOverrides {
        listen_address: inv.listen_address.clone(),
        raft_bind: inv.raft_bind.clone(),
        raft_advertise: inv.raft_advertise.clone(),
        raft_data_dir: inv.raft_data_dir.clone(),
        http_advertise: inv.http_advertise.clone(),
        sqlite_data_file: inv.sqlite_data_file.clone(),
    };
    if let Err(e) = crate::config::apply_identity(&mut config, &identity) {
        eprintln!("orchestrator: {e}");
        return crate::config::ConfigError::EXIT_STATUS;
    }
    if let Some(raft_file) = config.raft_file() {
        eprintln!("orchestrator: raft settings from {}", raft_file.display());
    }
    let addr = config.listen_addr();
    let listener = match TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("orchestrator: cannot listen on {addr}: {e}");
            return 1;
        }
    };
    let raft = if config.raft.raft_enabled {
        let bind = config.raft_bind_addr();
        match TcpListener::bind(&bind).await {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("orchestrator: cannot listen for raft on {bind} (RaftBind): {e}");
                return 1;
            }
        }
    } else {
        None
    };
    let shutdown = CancellationToken::new();
    // Installed before serving, so that a SIGTERM arriving during start-up stops gracefully.
    let signalled = stop_signal();
    let node = match start(config, Listeners { http: listener, raft }, shutdown.clone()).await {
        Ok(n) => n,
        Err(e) => {
            eprintln!("orchestrator: {e}");
            return 1;
        }
    };
    eprintln!("orchestrator: serving on http://{}", node.addr);
    signalled.await;
    shutdown.cancel();
    node.stopped().await;
    0
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, not when the
/// returned future is first polled.
pub fn stop_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        match (term, int) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}
