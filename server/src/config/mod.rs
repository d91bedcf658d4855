//! orchestrator-compatible configuration: the JSON file users already have, read with errors
//! that name the file, line and key.
//!
//! # Layout
//! - `mod.rs`:          [`Config`], [`Loaded`], [`load`]/[`parse`], helpers the node calls.
//! - Sections (one struct each, fields in orchestrator's order of the reference §3):
//!   - `service.rs`:      HTTP listen, URL prefix, read-only, logging, status, audit.
//!   - `backend.rs`:      `BackendDB`, SQLite file, MySQL backend connection.
//!   - `topology.rs`:     credentials, TLS and timeouts for the managed MySQL servers.
//!   - `discovery.rs`:    polling, queue, seeds, hostname resolution, classification, lag.
//!   - `recovery.rs`:     recovery filters, anti-flapping, promotion constraints.
//!   - `hooks.rs`:        the `*Processes` hook lists and their shell.
//!   - `pseudo_gtid.rs`:  Pseudo-GTID.
//!   - `raft.rs`:         raft, `HTTPAdvertise` and our `RaftSecret`.
//!   - `auth.rs`:         HTTP authentication and TLS.
//!   - `integrations.rs`: Consul / ZooKeeper KV, Graphite.
//!   - `agents.rs`:       orchestrator-agent (accepted for compatibility).
//! - `section.rs`:     the macro declaring a section: key, field, type and default on one line.
//! - `keys.rs`:        current, legacy and removed keys; typo suggestions.
//! - `legacy.rs`:      how legacy synonyms (`SlaveLagQuery`, ...) merge into current keys.
//! - `loader.rs`:      text → `Config`: syntax, key classification, typed sections, secrets,
//!   the `raft.conf` merged over the configuration file.
//! - `identity.rs`:    [`apply_identity`]: per-node overrides (flags, environment) after load.
//! - `validate.rs`:    value checks, orchestrator's post-read adjustments, compiled regexes.
//! - `locate.rs`:      line numbers of keys and values in the JSON text.
//! - `credentials.rs`: `${VAR}` expansion and my.cnf `[client]` credentials files.
//! - `filters.rs`, `kinds.rs`: compiled filters and typed choice values handed to callers.
//! - `secret.rs`:      [`Secret`], a string that prints as `****`.
//! - `error.rs`:       [`ConfigError`] (refuses) and [`ConfigWarning`] (loads anyway).
//! - `constants.rs`:   orchestrator's hard-coded timings (§3.7).
//!
//! Every field is the snake_case of its orchestrator key (`MySQLTopologyUser` →
//! `topology.mysql_topology_user`, `SQLite3DataFile` → `backend.sqlite3_data_file`,
//! `HTTPAdvertise` → `raft.http_advertise`); the doc comment of each field gives the key.
//! Defaults are orchestrator's (`newConfiguration()`), except as listed below.
//!
//! # Deviations from orchestrator
//! - `BackendDB` defaults to `sqlite` (orchestrator: `mysql`) so a node runs with no external
//!   database, and an empty `SQLite3DataFile` means `orchestrator.sqlite3` in the current
//!   directory (orchestrator refused to start).
//! - Unknown keys (silently ignored by orchestrator) are warnings naming file, line and the
//!   closest known key. Removed keys (`RecoveryPollSeconds`, `StatusSimpleHealth`, ...) and
//!   declared-but-dead keys set to a non-default value (`MasterFailoverLostInstancesDowntimeMinutes`,
//!   `ExpectFailureAnalysisConcensus`) are warnings saying they have no effect. Keys differing
//!   only by case are accepted (Go matched case-insensitively) with a warning; duplicate keys
//!   are accepted (last wins, as in Go) with a warning. Keys starting with `#` or `//` are
//!   comments and ignored silently.
//! - Values orchestrator accepted and then misbehaved on are refused at load: regexes that
//!   do not compile (orchestrator silently never matched), hostname patterns without a capture
//!   group (orchestrator crashed), `InstancePollSeconds`/`DiscoveryMaxConcurrency`/
//!   `MaxConcurrentReplicaOperations`/`BinlogEventsChunkSize` of 0, unknown `BackendDB`,
//!   `HostnameResolveMethod`, `MySQLHostnameResolveMethod` or `AuthenticationMethod` (an
//!   unknown method meant *no authentication* in orchestrator), and a `ListenAddress` that is
//!   not `[host]:port`.
//! - `${VAR}` in a secret naming an unset variable is an error (orchestrator used `""`), and
//!   expansion applies to every secret key, not only the two MySQL passwords.
//! - A credentials file may contain other options and sections (orchestrator's gcfg refused
//!   them); a missing file is an error instead of a crash.
//! - `RecoveryPeriodBlockMinutes` applies when `RecoveryPeriodBlockSeconds` is absent (in
//!   orchestrator it only applied when the seconds key was explicitly 0).
//!   `DetachLostSlavesAfterMasterFailover` / `MasterFailoverDetachSlaveMasterHost` apply when
//!   their new names are absent (orchestrator OR-ed them, so `false` could not be set).
//! - JSON `null` for any key keeps the default (Go did the same except that it emptied lists).
//! - Only one configuration file is read; orchestrator layered every file of [`DEFAULT_PATHS`]
//!   that existed. Ours: a `raft.conf` beside it (or given explicitly) is merged over it; see
//!   [`load_with_raft`].
//! - `RaftSecret` (ours) is required when `RaftEnabled`: orchestrator's raft port accepted
//!   anyone.
//! - Passwords never appear in `Debug`, error messages or [`Config::dump`].

#[macro_use]
mod section;

mod agents;
mod auth;
mod backend;
pub mod constants;
mod credentials;
mod discovery;
mod error;
mod filters;
mod hooks;
mod identity;
mod integrations;
mod keys;
mod kinds;
mod legacy;
mod loader;
mod locate;
mod pseudo_gtid;
mod raft;
mod recovery;
mod secret;
mod service;
mod topology;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;

pub use agents::AgentsConfig;
pub use auth::AuthConfig;
pub use backend::BackendConfig;
pub use discovery::DiscoveryConfig;
pub use error::{ConfigError, ConfigWarning, Location, WarningKind};
pub use filters::{ClusterFilters, HostnameFilters, PseudoGtidMatcher};
pub use hooks::HooksConfig;
pub use identity::{apply_identity, IdentityOverrides};
pub use integrations::IntegrationsConfig;
pub use keys::RAFT_FILE_KEYS;
pub use kinds::{AuthMethod, Backend, HostnameResolve, MySqlHostnameResolve};
pub use pseudo_gtid::PseudoGtidConfig;
pub use raft::RaftConfig;
pub use recovery::RecoveryConfig;
pub use secret::{Secret, MASK};
pub use service::ServiceConfig;
pub use topology::TopologyConfig;
pub use validate::DEFAULT_SQLITE_FILE;

/// The files orchestrator read, in order, when run without `--config`.
pub const DEFAULT_PATHS: [&str; 3] = [
    "/etc/orchestrator.conf.json",
    "conf/orchestrator.conf.json",
    "orchestrator.conf.json",
];

/// The name of the raft file read beside a configuration file (see [`load_with_raft`]).
pub const RAFT_FILE_NAME: &str = "raft.conf";

/// The shortest `RaftSecret` accepted when `RaftEnabled`.
pub const RAFT_SECRET_MIN_CHARS: usize = 16;

/// A validated configuration. Build it with [`load`], [`parse`] or `Config::default()`.
///
/// Fields are grouped by concern; each group is plain data that callers read directly. The
/// compiled forms (regexes, filters, typed choices) are computed once at load and read through
/// methods. After changing fields by hand, call [`Config::validated`] to recompute them.
#[derive(Clone)]
pub struct Config {
    /// HTTP service, logging, status endpoint, audit.
    pub service: ServiceConfig,
    /// Backend database.
    pub backend: BackendConfig,
    /// Access to the managed MySQL servers.
    pub topology: TopologyConfig,
    /// Discovery and classification of instances.
    pub discovery: DiscoveryConfig,
    /// Recovery filters and promotion constraints.
    pub recovery: RecoveryConfig,
    /// Hook command lists.
    pub hooks: HooksConfig,
    /// Pseudo-GTID.
    pub pseudo_gtid: PseudoGtidConfig,
    /// Raft.
    pub raft: RaftConfig,
    /// HTTP authentication and TLS.
    pub auth: AuthConfig,
    /// KV stores and metrics.
    pub integrations: IntegrationsConfig,
    /// orchestrator-agent.
    pub agents: AgentsConfig,
    /// Derived from the fields above by `validate::finish`.
    compiled: validate::Compiled,
    /// The raft file merged over the configuration file, if any (not a setting: not
    /// compared, not dumped).
    raft_file: Option<PathBuf>,
}

/// A configuration and what was odd about it.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The effective configuration.
    pub config: Config,
    /// Problems that did not prevent loading (unknown keys, keys with no effect, ...), in
    /// file order. Each prints as one line starting with the file name.
    pub warnings: Vec<ConfigWarning>,
}

impl Loaded {
    /// Logs every warning at WARN level.
    pub fn log_warnings(&self) {
        for warning in &self.warnings {
            tracing::warn!("{warning}");
        }
    }
}

/// Reads and validates the configuration file at `path`, with the `raft.conf` beside it merged
/// over it when that file exists: `load_with_raft(path, None)`. `${VAR}` references in secrets
/// are read from the process environment.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    load_with_raft(path, None)
}

/// Reads and validates the configuration file `config` and a raft file merged over it:
/// `raft`, or when it is `None` the file [`RAFT_FILE_NAME`] in `config`'s directory if it
/// exists (none is fine; an explicit `raft` that cannot be read is an error).
///
/// The raft file has the configuration file's format (a JSON object, `#`/`//` comment keys)
/// and may only hold the keys of [`RAFT_FILE_KEYS`]; any other key is refused naming the raft
/// file, line and key. Its keys override the configuration file's (`null` keeps the
/// configuration file's value). Every message about a key names the file that set it.
/// [`Config::raft_file`] tells which raft file was merged.
pub fn load_with_raft(config: &Path, raft: Option<&Path>) -> Result<Loaded, ConfigError> {
    loader::load(config, raft, &process_env)
}

/// Parses and validates configuration `text`; `origin` (usually the file name) starts every
/// message. Relative credentials-file paths are relative to the current directory.
pub fn parse(text: &str, origin: &str) -> Result<Loaded, ConfigError> {
    loader::parse(text, origin, &process_env)
}

/// [`parse`] with `${VAR}` looked up through `env` instead of the process environment.
pub fn parse_with_env(
    text: &str,
    origin: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Loaded, ConfigError> {
    loader::parse(text, origin, env)
}

/// [`parse_with_env`] of a configuration text and a raft file's text merged over it, as
/// [`load_with_raft`] merges files; each origin starts the messages about its text.
pub fn parse_with_raft(
    text: &str,
    origin: &str,
    raft_text: &str,
    raft_origin: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Loaded, ConfigError> {
    loader::parse_files(
        loader::Source { text, origin },
        Some(loader::Source {
            text: raft_text,
            origin: raft_origin,
        }),
        env,
    )
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl Default for Config {
    /// orchestrator's defaults (with our `BackendDB`), after the same adjustments a loaded
    /// file gets: equal to `parse("{}")`.
    fn default() -> Self {
        let raw = Config::orchestrator_defaults();
        let ctx = loader::Ctx::detached("defaults");
        // The defaults are valid (tested); should that ever break, keep the raw values.
        validate::finish(raw.clone(), &ctx, &mut Vec::new()).unwrap_or(raw)
    }
}

impl Config {
    /// Every section at its declared default, not yet validated or compiled.
    fn orchestrator_defaults() -> Config {
        Config {
            service: Default::default(),
            backend: Default::default(),
            topology: Default::default(),
            discovery: Default::default(),
            recovery: Default::default(),
            hooks: Default::default(),
            pseudo_gtid: Default::default(),
            raft: Default::default(),
            auth: Default::default(),
            integrations: Default::default(),
            agents: Default::default(),
            compiled: Default::default(),
            raft_file: None,
        }
    }

    /// The raft file merged over the configuration file by [`load`]/[`load_with_raft`], for
    /// the node to log; `None` when there was none (or the configuration was parsed from text).
    pub fn raft_file(&self) -> Option<&Path> {
        self.raft_file.as_deref()
    }

    /// Re-validates after fields were changed in code and recomputes the compiled forms.
    /// Errors carry no line numbers (origin `<config>`). Does not re-read credentials files
    /// nor expand `${VAR}`.
    pub fn validated(self) -> Result<Config, ConfigError> {
        validate::finish(self, &loader::Ctx::detached("<config>"), &mut Vec::new())
    }

    /// The effective configuration as orchestrator-named JSON, secrets masked as `"****"`
    /// (for `orchestrator -c dump-config`). Legacy synonyms appear under their current names.
    pub fn dump(&self) -> serde_json::Value {
        let sections = [
            serde_json::to_value(&self.service),
            serde_json::to_value(&self.backend),
            serde_json::to_value(&self.topology),
            serde_json::to_value(&self.discovery),
            serde_json::to_value(&self.recovery),
            serde_json::to_value(&self.hooks),
            serde_json::to_value(&self.pseudo_gtid),
            serde_json::to_value(&self.raft),
            serde_json::to_value(&self.auth),
            serde_json::to_value(&self.integrations),
            serde_json::to_value(&self.agents),
        ];
        let mut all = serde_json::Map::new();
        for section in sections {
            if let Ok(serde_json::Value::Object(keys)) = section {
                all.extend(keys);
            }
        }
        serde_json::Value::Object(all)
    }

    // ---- service -------------------------------------------------------------------------

    /// The address to bind the HTTP listener to: orchestrator's `:3000` (no host) becomes
    /// `0.0.0.0:3000`; anything else is returned as written (`127.0.0.1:3000`, `[::1]:3000`,
    /// `localhost:3000`).
    pub fn listen_addr(&self) -> String {
        match validate::split_host_port(&self.service.listen_address) {
            Some(("", port)) => format!("0.0.0.0:{port}"),
            _ => self.service.listen_address.clone(),
        }
    }

    // ---- backend -------------------------------------------------------------------------

    /// The backend kind.
    pub fn backend(&self) -> Backend {
        self.compiled.backend
    }

    /// The SQLite data file: `SQLite3DataFile`, or `orchestrator.sqlite3` in the current
    /// directory when it is empty.
    pub fn sqlite_path(&self) -> PathBuf {
        match self.backend.sqlite3_data_file.as_str() {
            "" => PathBuf::from(DEFAULT_SQLITE_FILE),
            file => PathBuf::from(file),
        }
    }

    // ---- topology ------------------------------------------------------------------------

    /// `DefaultInstancePort`: the port of an instance named without one.
    pub fn default_instance_port(&self) -> u16 {
        self.topology.default_instance_port
    }

    // ---- timings -------------------------------------------------------------------------

    /// `InstancePollSeconds`: target interval between two probes of one instance.
    pub fn instance_poll(&self) -> Duration {
        Duration::from_secs(self.discovery.instance_poll_seconds)
    }

    /// `ReasonableInstanceCheckSeconds`.
    pub fn reasonable_instance_check(&self) -> Duration {
        Duration::from_secs(self.discovery.reasonable_instance_check_seconds)
    }

    /// `ReasonableReplicationLagSeconds`.
    pub fn reasonable_replication_lag(&self) -> Duration {
        Duration::from_secs(self.discovery.reasonable_replication_lag_seconds)
    }

    /// `ReasonableMaintenanceReplicationLagSeconds`.
    pub fn reasonable_maintenance_replication_lag(&self) -> Duration {
        Duration::from_secs(
            self.discovery
                .reasonable_maintenance_replication_lag_seconds,
        )
    }

    /// `UnseenInstanceForgetHours`.
    pub fn unseen_instance_forget(&self) -> Duration {
        Duration::from_secs(
            self.discovery
                .unseen_instance_forget_hours
                .saturating_mul(3600),
        )
    }

    /// `MySQLConnectTimeoutSeconds`.
    pub fn mysql_connect_timeout(&self) -> Duration {
        Duration::from_secs(self.topology.mysql_connect_timeout_seconds)
    }

    /// `MySQLDiscoveryReadTimeoutSeconds`.
    pub fn mysql_discovery_read_timeout(&self) -> Duration {
        Duration::from_secs(self.topology.mysql_discovery_read_timeout_seconds)
    }

    /// `MySQLTopologyReadTimeoutSeconds`.
    pub fn mysql_topology_read_timeout(&self) -> Duration {
        Duration::from_secs(self.topology.mysql_topology_read_timeout_seconds)
    }

    /// `RecoveryPeriodBlockSeconds` (after legacy `RecoveryPeriodBlockMinutes` was applied).
    pub fn recovery_period_block(&self) -> Duration {
        Duration::from_secs(self.recovery.recovery_period_block_seconds)
    }

    /// `FailureDetectionPeriodBlockMinutes`.
    pub fn failure_detection_period_block(&self) -> Duration {
        Duration::from_secs(
            self.recovery
                .failure_detection_period_block_minutes
                .saturating_mul(60),
        )
    }

    /// `CandidateInstanceExpireMinutes`.
    pub fn candidate_instance_expire(&self) -> Duration {
        Duration::from_secs(
            self.recovery
                .candidate_instance_expire_minutes
                .saturating_mul(60),
        )
    }

    // ---- discovery: names and classification ---------------------------------------------

    /// `HostnameResolveMethod`.
    pub fn hostname_resolve(&self) -> HostnameResolve {
        self.compiled.hostname_resolve
    }

    /// `MySQLHostnameResolveMethod`.
    pub fn mysql_hostname_resolve(&self) -> MySqlHostnameResolve {
        self.compiled.mysql_hostname_resolve
    }

    /// `DataCenterPattern`, compiled; its first capture group is the data center.
    pub fn data_center_pattern(&self) -> Option<&Regex> {
        self.compiled.data_center.as_ref()
    }

    /// `RegionPattern`, compiled; its first capture group is the region.
    pub fn region_pattern(&self) -> Option<&Regex> {
        self.compiled.region.as_ref()
    }

    /// `PhysicalEnvironmentPattern`, compiled; its first capture group is the environment.
    pub fn physical_environment_pattern(&self) -> Option<&Regex> {
        self.compiled.physical_environment.as_ref()
    }

    /// `RejectHostnameResolvePattern`, compiled.
    pub fn reject_hostname_resolve_pattern(&self) -> Option<&Regex> {
        self.compiled.reject_hostname_resolve.as_ref()
    }

    /// The `ClusterNameToAlias` alias of a cluster: the first pattern (in key order; orchestrator
    /// used Go's random map order) found in `cluster_name`.
    pub fn cluster_alias_for(&self, cluster_name: &str) -> Option<&str> {
        self.compiled
            .cluster_aliases
            .iter()
            .find(|(re, _)| re.is_match(cluster_name))
            .map(|(_, alias)| alias.as_str())
    }

    /// `DiscoveryIgnoreReplicaHostnameFilters`, compiled.
    pub fn discovery_ignore_replica_hostname_filters(&self) -> &HostnameFilters {
        &self.compiled.discovery_ignore_replica
    }

    /// `DiscoveryIgnoreMasterHostnameFilters`, compiled.
    pub fn discovery_ignore_master_hostname_filters(&self) -> &HostnameFilters {
        &self.compiled.discovery_ignore_master
    }

    /// `DiscoveryIgnoreHostnameFilters`, compiled.
    pub fn discovery_ignore_hostname_filters(&self) -> &HostnameFilters {
        &self.compiled.discovery_ignore
    }

    /// `ProblemIgnoreHostnameFilters`, compiled.
    pub fn problem_ignore_hostname_filters(&self) -> &HostnameFilters {
        &self.compiled.problem_ignore
    }

    /// `OSCIgnoreHostnameFilters`, compiled.
    pub fn osc_ignore_hostname_filters(&self) -> &HostnameFilters {
        &self.compiled.osc_ignore
    }

    // ---- recovery ------------------------------------------------------------------------

    /// `PromotionIgnoreHostnameFilters`, compiled.
    pub fn promotion_ignore_hostname_filters(&self) -> &HostnameFilters {
        &self.compiled.promotion_ignore
    }

    /// `RecoveryIgnoreHostnameFilters`, compiled (regexes on the hostname only).
    pub fn recovery_ignore_hostname_filters(&self) -> &HostnameFilters {
        &self.compiled.recovery_ignore
    }

    /// `RecoverMasterClusterFilters`, compiled.
    pub fn recover_master_cluster_filters(&self) -> &ClusterFilters {
        &self.compiled.recover_master_clusters
    }

    /// `RecoverIntermediateMasterClusterFilters`, compiled.
    pub fn recover_intermediate_master_cluster_filters(&self) -> &ClusterFilters {
        &self.compiled.recover_intermediate_master_clusters
    }

    /// How to recognize Pseudo-GTID markers; `None` when Pseudo-GTID is disabled.
    pub fn pseudo_gtid_matcher(&self) -> Option<&PseudoGtidMatcher> {
        self.compiled.pseudo_gtid.as_ref()
    }

    // ---- auth ----------------------------------------------------------------------------

    /// `AuthenticationMethod`.
    pub fn auth_method(&self) -> AuthMethod {
        self.compiled.auth_method
    }

    // ---- raft ----------------------------------------------------------------------------

    /// `RaftSecret`: the shared secret every raft request carries (masked when printed; read
    /// it with [`Secret::expose`]). Set and at least [`RAFT_SECRET_MIN_CHARS`] long when raft
    /// is enabled.
    pub fn raft_secret(&self) -> &Secret {
        &self.raft.raft_secret
    }

    /// `RaftBind` with `DefaultRaftPort` added when it has no port.
    pub fn raft_bind_addr(&self) -> String {
        raft_node_addr(&self.raft.raft_bind, self.raft.default_raft_port)
    }

    /// `RaftAdvertise` (defaults to `RaftBind`) with `DefaultRaftPort` added when it has no port.
    pub fn raft_advertise_addr(&self) -> String {
        raft_node_addr(&self.raft.raft_advertise, self.raft.default_raft_port)
    }

    /// `RaftNodes`, each with `DefaultRaftPort` added when it has no port.
    pub fn raft_peer_addrs(&self) -> Vec<String> {
        self.raft
            .raft_nodes
            .iter()
            .map(|node| raft_node_addr(node, self.raft.default_raft_port))
            .collect()
    }

    /// True when raft runs as a single node: `RaftNodes` is empty or lists only this node
    /// (orchestrator's rule).
    pub fn raft_single_node(&self) -> bool {
        let peers = self.raft_peer_addrs();
        peers.is_empty() || (peers.len() == 1 && peers[0] == self.raft_advertise_addr())
    }

    /// Where peers reach this node's HTTP API if it is leader: `HTTPAdvertise`, or else
    /// orchestrator's guess `http[s]://<RaftAdvertise host>:<ListenAddress port>`.
    pub fn http_advertise_uri(&self) -> String {
        if !self.raft.http_advertise.is_empty() {
            return self.raft.http_advertise.clone();
        }
        let scheme = if self.auth.use_ssl { "https" } else { "http" };
        let host = raft_host(&self.raft.raft_advertise);
        let port =
            validate::split_host_port(&self.service.listen_address).map_or(3000, |(_, port)| port);
        format!("{scheme}://{host}:{port}")
    }
}

/// `host[:port]` → `host:port`, adding `default_port` when there is none (and it is not 0).
fn raft_node_addr(node: &str, default_port: u16) -> String {
    if validate::split_host_port(node).is_some() || default_port == 0 {
        return node.to_owned();
    }
    if node.contains(':') && !node.starts_with('[') {
        // A bare IPv6 address.
        return format!("[{node}]:{default_port}");
    }
    format!("{node}:{default_port}")
}

/// The host part of `host[:port]`.
fn raft_host(node: &str) -> &str {
    match validate::split_host_port(node) {
        Some((host, _)) if node.starts_with('[') => &node[..host.len() + 2],
        Some((host, _)) => host,
        None => node,
    }
}

impl PartialEq for Config {
    /// Compares the settings; compiled forms follow from them.
    fn eq(&self, other: &Self) -> bool {
        self.service == other.service
            && self.backend == other.backend
            && self.topology == other.topology
            && self.discovery == other.discovery
            && self.recovery == other.recovery
            && self.hooks == other.hooks
            && self.pseudo_gtid == other.pseudo_gtid
            && self.raft == other.raft
            && self.auth == other.auth
            && self.integrations == other.integrations
            && self.agents == other.agents
    }
}

impl fmt::Debug for Config {
    /// The settings (secrets masked); compiled forms are left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("service", &self.service)
            .field("backend", &self.backend)
            .field("topology", &self.topology)
            .field("discovery", &self.discovery)
            .field("recovery", &self.recovery)
            .field("hooks", &self.hooks)
            .field("pseudo_gtid", &self.pseudo_gtid)
            .field("raft", &self.raft)
            .field("auth", &self.auth)
            .field("integrations", &self.integrations)
            .field("agents", &self.agents)
            .field("raft_file", &self.raft_file)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_equals_empty_file() {
        assert_eq!(parse("{}", "x").unwrap().config, Config::default());
        let ctx = loader::Ctx::detached("defaults");
        assert!(validate::finish(Config::orchestrator_defaults(), &ctx, &mut Vec::new()).is_ok());
    }

    #[test]
    fn defaults_after_adjustment() {
        let c = Config::default();
        assert_eq!(c.backend(), Backend::Sqlite);
        assert_eq!(c.backend.sqlite3_data_file, "orchestrator.sqlite3");
        assert_eq!(c.raft.raft_advertise, "127.0.0.1:10008");
        assert_eq!(c.integrations.kv_cluster_master_prefix, "mysql/master/");
        assert_eq!(c.recovery.reasonable_locked_semi_sync_master_seconds, 10);
        assert_eq!(c.instance_poll(), Duration::from_secs(5));
        assert_eq!(c.listen_addr(), "0.0.0.0:3000");
        assert_eq!(c.sqlite_path(), PathBuf::from("orchestrator.sqlite3"));
        assert!(c.data_center_pattern().is_none());
        assert!(c.recover_master_cluster_filters().is_empty());
    }

    #[test]
    fn raft_addresses_get_the_default_port() {
        let mut c = Config::default();
        c.raft.raft_bind = "10.0.0.2".into();
        c.raft.raft_advertise = String::new();
        c.raft.raft_nodes = vec![
            "10.0.0.1".into(),
            "10.0.0.2:10008".into(),
            "fe80::1".into(),
            "[::1]".into(),
        ];
        let c = c.validated().unwrap();
        assert_eq!(c.raft_bind_addr(), "10.0.0.2:10008");
        assert_eq!(c.raft_advertise_addr(), "10.0.0.2:10008");
        assert_eq!(
            c.raft_peer_addrs(),
            vec![
                "10.0.0.1:10008",
                "10.0.0.2:10008",
                "[fe80::1]:10008",
                "[::1]:10008"
            ]
        );
        assert!(!c.raft_single_node());
        assert_eq!(c.http_advertise_uri(), "http://10.0.0.2:3000");
    }

    #[test]
    fn single_node_raft() {
        let mut c = Config::default();
        c.raft.raft_nodes = vec!["127.0.0.1".into()];
        assert!(c.raft_single_node());
        c.raft.raft_nodes.clear();
        assert!(c.raft_single_node());
    }

    #[test]
    fn listen_addr_keeps_explicit_hosts() {
        let mut c = Config::default();
        c.service.listen_address = "[::1]:3001".into();
        assert_eq!(c.listen_addr(), "[::1]:3001");
        c.service.listen_address = "127.0.0.1:3002".into();
        assert_eq!(c.listen_addr(), "127.0.0.1:3002");
    }

    #[test]
    fn http_advertise_uri_brackets_ipv6() {
        let mut c = Config::default();
        c.raft.raft_advertise = "[fd00::2]:10008".into();
        c.auth.use_ssl = true;
        assert_eq!(c.http_advertise_uri(), "https://[fd00::2]:3000");
        c.raft.http_advertise = "http://public:80".into();
        assert_eq!(c.http_advertise_uri(), "http://public:80");
    }

    #[test]
    fn dump_round_trips_without_warnings() {
        let dumped = Config::default().dump();
        let loaded = parse(&dumped.to_string(), "dump").unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert_eq!(loaded.config, Config::default());
        let keys = dumped.as_object().unwrap().len();
        assert_eq!(keys, keys::current_keys().count());
    }
}
