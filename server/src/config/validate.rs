//! Checks values that type-check but cannot work, fills derived defaults the way
//! orchestrator's `postReadAdjustments` does, and compiles regexes once.

use regex::Regex;

use super::error::{one_line, ConfigError, ConfigWarning, Location, WarningKind};
use super::filters::{ClusterFilterProblem, ClusterFilters, HostnameFilters, PseudoGtidMatcher};
use super::kinds::{AuthMethod, Backend, HostnameResolve, MySqlHostnameResolve};
use super::loader::Ctx;
use super::locate::Seg;
use super::{Config, RAFT_SECRET_MIN_CHARS};

/// The SQLite file used when `SQLite3DataFile` is empty.
pub const DEFAULT_SQLITE_FILE: &str = "orchestrator.sqlite3";

/// Regexes and typed values computed once at load.
#[derive(Debug, Clone, Default)]
pub(crate) struct Compiled {
    pub(crate) backend: Backend,
    pub(crate) hostname_resolve: HostnameResolve,
    pub(crate) mysql_hostname_resolve: MySqlHostnameResolve,
    pub(crate) auth_method: AuthMethod,
    pub(crate) data_center: Option<Regex>,
    pub(crate) region: Option<Regex>,
    pub(crate) physical_environment: Option<Regex>,
    pub(crate) reject_hostname_resolve: Option<Regex>,
    pub(crate) cluster_aliases: Vec<(Regex, String)>,
    pub(crate) discovery_ignore_replica: HostnameFilters,
    pub(crate) discovery_ignore_master: HostnameFilters,
    pub(crate) discovery_ignore: HostnameFilters,
    pub(crate) problem_ignore: HostnameFilters,
    pub(crate) osc_ignore: HostnameFilters,
    pub(crate) promotion_ignore: HostnameFilters,
    pub(crate) recovery_ignore: HostnameFilters,
    pub(crate) recover_master_clusters: ClusterFilters,
    pub(crate) recover_intermediate_master_clusters: ClusterFilters,
    pub(crate) pseudo_gtid: Option<PseudoGtidMatcher>,
}

/// Validates, normalizes and compiles. Running it again on its own output changes nothing.
pub(crate) fn finish(
    mut config: Config,
    ctx: &Ctx<'_>,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<Config, ConfigError> {
    let backend = choice(
        ctx,
        "BackendDB",
        &config.backend.backend_db,
        Backend::parse,
        "mysql, sqlite or sqlite3",
    )?;
    let hostname_resolve = choice(
        ctx,
        "HostnameResolveMethod",
        &config.discovery.hostname_resolve_method,
        HostnameResolve::parse,
        "none, default, cname or ip",
    )?;
    let mysql_hostname_resolve = choice(
        ctx,
        "MySQLHostnameResolveMethod",
        &config.discovery.mysql_hostname_resolve_method,
        MySqlHostnameResolve::parse,
        "@@hostname, @@report_host or none",
    )?;
    let auth_method = choice(
        ctx,
        "AuthenticationMethod",
        &config.auth.authentication_method,
        AuthMethod::parse,
        "\"\" (none), basic, multi, proxy, token or oauth",
    )?;

    at_least(
        ctx,
        "InstancePollSeconds",
        config.discovery.instance_poll_seconds,
        1,
    )?;
    at_least(
        ctx,
        "DiscoveryMaxConcurrency",
        config.discovery.discovery_max_concurrency as u64,
        1,
    )?;
    at_least(
        ctx,
        "MaxConcurrentReplicaOperations",
        config.recovery.max_concurrent_replica_operations as u64,
        1,
    )?;
    at_least(
        ctx,
        "BinlogEventsChunkSize",
        config.pseudo_gtid.binlog_events_chunk_size,
        1,
    )?;

    if split_host_port(&config.service.listen_address).is_none() {
        return Err(ConfigError::invalid(
            ctx.at("ListenAddress"),
            "ListenAddress",
            format!(
                "{:?} is not [host]:port (e.g. \":3000\" or \"127.0.0.1:3000\")",
                config.service.listen_address
            ),
        ));
    }
    if !config.raft.http_advertise.is_empty() {
        check_http_advertise(&config.raft.http_advertise)
            .map_err(|why| ConfigError::invalid(ctx.at("HTTPAdvertise"), "HTTPAdvertise", why))?;
    }
    if config.raft.raft_enabled {
        check_raft(&config, ctx)?;
    }
    if config
        .recovery
        .fail_master_promotion_if_sql_thread_not_up_to_date
        && config
            .recovery
            .delay_master_promotion_if_sql_thread_not_up_to_date
    {
        let key = "DelayMasterPromotionIfSQLThreadNotUpToDate";
        return Err(ConfigError::invalid(
            ctx.at(key),
            key,
            "cannot be true together with FailMasterPromotionIfSQLThreadNotUpToDate",
        ));
    }
    if config.recovery.fail_master_promotion_on_lag_minutes > 0
        && config.discovery.replication_lag_query.is_empty()
    {
        let key = "FailMasterPromotionOnLagMinutes";
        return Err(ConfigError::invalid(
            ctx.at(key),
            key,
            "a non-zero value requires ReplicationLagQuery",
        ));
    }

    normalize(
        &mut config,
        backend,
        hostname_resolve,
        mysql_hostname_resolve,
        auth_method,
    );

    let d = &config.discovery;
    let r = &config.recovery;
    let compiled = Compiled {
        backend,
        hostname_resolve,
        mysql_hostname_resolve,
        auth_method,
        data_center: pattern(ctx, "DataCenterPattern", &d.data_center_pattern, true)?,
        region: pattern(ctx, "RegionPattern", &d.region_pattern, true)?,
        physical_environment: pattern(
            ctx,
            "PhysicalEnvironmentPattern",
            &d.physical_environment_pattern,
            true,
        )?,
        reject_hostname_resolve: pattern(
            ctx,
            "RejectHostnameResolvePattern",
            &d.reject_hostname_resolve_pattern,
            false,
        )?,
        cluster_aliases: cluster_aliases(ctx, &config)?,
        discovery_ignore_replica: host_filters(
            ctx,
            warnings,
            "DiscoveryIgnoreReplicaHostnameFilters",
            &d.discovery_ignore_replica_hostname_filters,
            HostnameFilters::host_port,
        )?,
        discovery_ignore_master: host_filters(
            ctx,
            warnings,
            "DiscoveryIgnoreMasterHostnameFilters",
            &d.discovery_ignore_master_hostname_filters,
            HostnameFilters::host_port,
        )?,
        discovery_ignore: host_filters(
            ctx,
            warnings,
            "DiscoveryIgnoreHostnameFilters",
            &d.discovery_ignore_hostname_filters,
            HostnameFilters::host_port,
        )?,
        problem_ignore: host_filters(
            ctx,
            warnings,
            "ProblemIgnoreHostnameFilters",
            &d.problem_ignore_hostname_filters,
            HostnameFilters::host_port,
        )?,
        osc_ignore: host_filters(
            ctx,
            warnings,
            "OSCIgnoreHostnameFilters",
            &d.osc_ignore_hostname_filters,
            HostnameFilters::host_port,
        )?,
        promotion_ignore: host_filters(
            ctx,
            warnings,
            "PromotionIgnoreHostnameFilters",
            &r.promotion_ignore_hostname_filters,
            HostnameFilters::host_port,
        )?,
        recovery_ignore: host_filters(
            ctx,
            warnings,
            "RecoveryIgnoreHostnameFilters",
            &r.recovery_ignore_hostname_filters,
            HostnameFilters::hostname_only,
        )?,
        recover_master_clusters: cluster_filters(
            ctx,
            warnings,
            "RecoverMasterClusterFilters",
            &r.recover_master_cluster_filters,
        )?,
        recover_intermediate_master_clusters: cluster_filters(
            ctx,
            warnings,
            "RecoverIntermediateMasterClusterFilters",
            &r.recover_intermediate_master_cluster_filters,
        )?,
        pseudo_gtid: pseudo_gtid(ctx, &config)?,
    };
    config.compiled = compiled;
    dead_key_warnings(&config, ctx, warnings);
    Ok(config)
}

/// The raft keys, when raft is enabled: data dir, addresses and the secret.
fn check_raft(config: &Config, ctx: &Ctx<'_>) -> Result<(), ConfigError> {
    let raft = &config.raft;
    for (key, value) in [
        ("RaftDataDir", &raft.raft_data_dir),
        ("RaftBind", &raft.raft_bind),
    ] {
        if value.is_empty() {
            return Err(ConfigError::invalid(
                ctx.at_or(key, "RaftEnabled"),
                key,
                "must be set when RaftEnabled is true",
            ));
        }
    }
    let port = raft.default_raft_port;
    check_raft_address(&raft.raft_bind, port)
        .map_err(|why| ConfigError::invalid(ctx.at("RaftBind"), "RaftBind", why))?;
    if !raft.raft_advertise.is_empty() {
        check_raft_address(&raft.raft_advertise, port)
            .map_err(|why| ConfigError::invalid(ctx.at("RaftAdvertise"), "RaftAdvertise", why))?;
    }
    for (i, node) in raft.raft_nodes.iter().enumerate() {
        check_raft_address(node, port).map_err(|why| {
            ConfigError::invalid(
                ctx.at_path("RaftNodes", &[Seg::Index(i)]),
                format!("RaftNodes[{i}]"),
                why,
            )
        })?;
    }
    check_raft_secret(raft.raft_secret.expose()).map_err(|why| {
        ConfigError::invalid(ctx.at_or("RaftSecret", "RaftEnabled"), "RaftSecret", why)
    })
}

/// `RaftSecret` when raft is enabled: set, and at least `RAFT_SECRET_MIN_CHARS` long. The
/// message never contains the value.
pub(crate) fn check_raft_secret(secret: &str) -> Result<(), String> {
    if secret.is_empty() {
        return Err(format!(
            "must be set when RaftEnabled is true: the shared secret the raft nodes authenticate each other with (at least {RAFT_SECRET_MIN_CHARS} characters, e.g. \"${{ORCHESTRATOR_RAFT_SECRET}}\" read from the environment)"
        ));
    }
    if secret.chars().count() < RAFT_SECRET_MIN_CHARS {
        return Err(format!(
            "must be at least {RAFT_SECRET_MIN_CHARS} characters long (the value is not shown)"
        ));
    }
    Ok(())
}

/// A raft address: `host[:port]`, host a name, an IPv4 address or an IPv6 address (bracketed
/// when a port follows). Without a port, `default_port` (`DefaultRaftPort`) must not be 0.
pub(crate) fn check_raft_address(value: &str, default_port: u16) -> Result<(), String> {
    let (host, has_port) = match split_host_port(value) {
        Some((host, _)) => (host, true),
        None => match value.strip_prefix('[') {
            Some(rest) => match rest.strip_suffix(']') {
                Some(host) => (host, false),
                None => return Err(format!("{value:?} is not host[:port]")),
            },
            None => (value, false),
        },
    };
    if host.is_empty() {
        return Err(format!("{value:?} has no host; expected host[:port]"));
    }
    if host.contains(':') && host.parse::<std::net::Ipv6Addr>().is_err() {
        return Err(format!("{value:?} is not host[:port]"));
    }
    if host
        .chars()
        .any(|c| c.is_whitespace() || matches!(c, '/' | '@' | '[' | ']'))
    {
        return Err(format!("{value:?} is not host[:port]"));
    }
    if !has_port && default_port == 0 {
        return Err(format!(
            "{value:?} has no port and DefaultRaftPort is 0; give host:port"
        ));
    }
    Ok(())
}

/// orchestrator's post-read adjustments, plus canonical spellings for the choice keys.
fn normalize(
    config: &mut Config,
    backend: Backend,
    hostname_resolve: HostnameResolve,
    mysql_hostname_resolve: MySqlHostnameResolve,
    auth_method: AuthMethod,
) {
    // `BackendDB: ""` meant mysql in orchestrator; spell it out.
    config.backend.backend_db = backend.canonical().to_owned();
    if backend == Backend::Sqlite && config.backend.sqlite3_data_file.is_empty() {
        config.backend.sqlite3_data_file = DEFAULT_SQLITE_FILE.to_owned();
    }
    config.discovery.hostname_resolve_method = hostname_resolve.canonical().to_owned();
    config.discovery.mysql_hostname_resolve_method = mysql_hostname_resolve.canonical().to_owned();
    config.auth.authentication_method = auth_method.canonical().to_owned();

    let prefix = config.service.url_prefix.trim_matches('/');
    config.service.url_prefix = if prefix.is_empty() {
        String::new()
    } else {
        format!("/{prefix}")
    };

    if config.raft.raft_advertise.is_empty() {
        config.raft.raft_advertise = config.raft.raft_bind.clone();
    }
    let kv = &mut config.integrations.kv_cluster_master_prefix;
    if kv != "/" {
        *kv = format!("{}/", kv.trim_end_matches('/'));
    }
    config.integrations.consul_max_kvs_per_transaction = config
        .integrations
        .consul_max_kvs_per_transaction
        .clamp(5, 64);

    if config.pseudo_gtid.auto_pseudo_gtid {
        let p = &mut config.pseudo_gtid;
        p.pseudo_gtid_pattern = "drop view if exists `_pseudo_gtid_`".to_owned();
        p.pseudo_gtid_pattern_is_fixed_substring = true;
        p.pseudo_gtid_monotonic_hint = "asc:".to_owned();
        p.detect_pseudo_gtid_query = "select 1".to_owned();
    }
    if config.discovery.instance_write_buffer_size == 0 {
        config.discovery.buffer_instance_writes = false;
    }
    if config.recovery.reasonable_locked_semi_sync_master_seconds == 0 {
        config.recovery.reasonable_locked_semi_sync_master_seconds =
            config.discovery.reasonable_replication_lag_seconds;
    }
}

fn choice<T>(
    ctx: &Ctx<'_>,
    key: &str,
    value: &str,
    parse: fn(&str) -> Option<T>,
    expected: &str,
) -> Result<T, ConfigError> {
    parse(value).ok_or_else(|| {
        ConfigError::invalid(
            ctx.at(key),
            key,
            format!("{value:?} is not one of {expected}"),
        )
    })
}

fn at_least(ctx: &Ctx<'_>, key: &str, value: u64, minimum: u64) -> Result<(), ConfigError> {
    if value < minimum {
        return Err(ConfigError::invalid(
            ctx.at(key),
            key,
            format!("{value} is below the minimum of {minimum}"),
        ));
    }
    Ok(())
}

fn bad_regex(at: Location, key: String, pattern: &str, err: &regex::Error) -> ConfigError {
    ConfigError::invalid(
        at,
        key,
        format!(
            "invalid regular expression {pattern:?}: {}",
            one_line(&err.to_string())
        ),
    )
}

/// Compiles an optional pattern; hostname classifiers need a capture group (orchestrator
/// crashed on a pattern without one).
fn pattern(
    ctx: &Ctx<'_>,
    key: &str,
    pattern: &str,
    needs_group: bool,
) -> Result<Option<Regex>, ConfigError> {
    if pattern.is_empty() {
        return Ok(None);
    }
    let re =
        Regex::new(pattern).map_err(|e| bad_regex(ctx.at(key), key.to_owned(), pattern, &e))?;
    if needs_group && re.captures_len() < 2 {
        return Err(ConfigError::invalid(
            ctx.at(key),
            key,
            format!("{pattern:?} has no capture group; the first group's match is the name"),
        ));
    }
    Ok(Some(re))
}

fn cluster_aliases(ctx: &Ctx<'_>, config: &Config) -> Result<Vec<(Regex, String)>, ConfigError> {
    let key = "ClusterNameToAlias";
    config
        .discovery
        .cluster_name_to_alias
        .iter()
        .filter(|(pattern, _)| !pattern.is_empty()) // orchestrator skips these too
        .map(|(pattern, alias)| {
            let re = Regex::new(pattern).map_err(|e| {
                bad_regex(
                    ctx.at_path(key, &[Seg::Key(pattern.clone())]),
                    key.to_owned(),
                    pattern,
                    &e,
                )
            })?;
            Ok((re, alias.clone()))
        })
        .collect()
}

/// `HostnameFilters::host_port` or `HostnameFilters::hostname_only`.
type CompileFilters = fn(&[String]) -> Result<HostnameFilters, (usize, String)>;

fn host_filters(
    ctx: &Ctx<'_>,
    warnings: &mut Vec<ConfigWarning>,
    key: &str,
    patterns: &[String],
    compile: CompileFilters,
) -> Result<HostnameFilters, ConfigError> {
    for (i, p) in patterns.iter().enumerate() {
        if p.is_empty() {
            warnings.push(ConfigWarning {
                at: ctx.at_path(key, &[Seg::Index(i)]),
                key: format!("{key}[{i}]"),
                kind: WarningKind::Suspicious {
                    message: "an empty filter matches every instance".to_owned(),
                },
            });
        }
    }
    compile(patterns).map_err(|(i, message)| {
        let pattern = patterns.get(i).map(String::as_str).unwrap_or("");
        ConfigError::invalid(
            ctx.at_path(key, &[Seg::Index(i)]),
            format!("{key}[{i}]"),
            format!(
                "invalid regular expression {pattern:?}: {}",
                one_line(&message)
            ),
        )
    })
}

fn cluster_filters(
    ctx: &Ctx<'_>,
    warnings: &mut Vec<ConfigWarning>,
    key: &str,
    patterns: &[String],
) -> Result<ClusterFilters, ConfigError> {
    let entry = |i: usize| patterns.get(i).map(String::as_str).unwrap_or("");
    match ClusterFilters::compile(patterns) {
        Ok((filters, problems)) => {
            for problem in problems {
                if let ClusterFilterProblem::NotARegex(i, message) = problem {
                    warnings.push(ConfigWarning {
                        at: ctx.at_path(key, &[Seg::Index(i)]),
                        key: format!("{key}[{i}]"),
                        kind: WarningKind::Suspicious {
                            message: format!(
                                "{:?} is not a valid regular expression ({}); it only matches a cluster name or alias exactly",
                                entry(i),
                                one_line(&message)
                            ),
                        },
                    });
                }
            }
            Ok(filters)
        }
        Err(
            ClusterFilterProblem::BadAliasPattern(i, message)
            | ClusterFilterProblem::NotARegex(i, message),
        ) => Err(ConfigError::invalid(
            ctx.at_path(key, &[Seg::Index(i)]),
            format!("{key}[{i}]"),
            format!(
                "invalid regular expression in {:?}: {}",
                entry(i),
                one_line(&message)
            ),
        )),
    }
}

fn pseudo_gtid(ctx: &Ctx<'_>, config: &Config) -> Result<Option<PseudoGtidMatcher>, ConfigError> {
    let p = &config.pseudo_gtid;
    if p.pseudo_gtid_pattern.is_empty() {
        return Ok(None);
    }
    if p.pseudo_gtid_pattern_is_fixed_substring {
        return Ok(Some(PseudoGtidMatcher::Substring(
            p.pseudo_gtid_pattern.clone(),
        )));
    }
    Ok(
        pattern(ctx, "PseudoGTIDPattern", &p.pseudo_gtid_pattern, false)?
            .map(PseudoGtidMatcher::Pattern),
    )
}

/// Keys orchestrator declares but never reads: say so when they are set to something that
/// would matter if they worked.
fn dead_key_warnings(config: &Config, ctx: &Ctx<'_>, warnings: &mut Vec<ConfigWarning>) {
    let mut warn = |key: &str, reason: &str| {
        if ctx.has(key) {
            warnings.push(ConfigWarning {
                at: ctx.at(key),
                key: key.to_owned(),
                kind: WarningKind::NoEffect {
                    reason: reason.to_owned(),
                },
            });
        }
    };
    if config
        .recovery
        .master_failover_lost_instances_downtime_minutes
        != 0
    {
        warn(
            "MasterFailoverLostInstancesDowntimeMinutes",
            "orchestrator never used it; instances lost in a recovery always get the auto-renewing lost-in-recovery downtime",
        );
    }
    if !config.raft.expect_failure_analysis_concensus {
        warn(
            "ExpectFailureAnalysisConcensus",
            "orchestrator never implemented the consensus check",
        );
    }
}

/// Splits `[host]:port` (host may be empty or a bracketed IPv6 address).
pub(crate) fn split_host_port(address: &str) -> Option<(&str, u16)> {
    let (host, port) = if let Some(rest) = address.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (host, after.strip_prefix(':')?)
    } else {
        let (host, port) = address.rsplit_once(':')?;
        if host.contains(':') {
            return None;
        }
        (host, port)
    };
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((host, port.parse().ok()?))
}

/// `scheme://host:port`, nothing after (as orchestrator requires).
pub(crate) fn check_http_advertise(value: &str) -> Result<(), String> {
    let Some((scheme, rest)) = value
        .split_once("://")
        .filter(|(scheme, _)| !scheme.is_empty())
    else {
        return Err(format!(
            "{value:?} must include a scheme (http:// or https://)"
        ));
    };
    let _ = scheme;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if end != rest.len() {
        return Err(format!("{value:?} must not include a path"));
    }
    let host_port = rest
        .rsplit_once('@')
        .map_or(rest, |(_, host_port)| host_port);
    match split_host_port(host_port) {
        None => Err(format!("{value:?} must include a port number")),
        Some(("", _)) => Err(format!("{value:?} must include a host name")),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_forms() {
        assert_eq!(split_host_port(":3000"), Some(("", 3000)));
        assert_eq!(split_host_port("127.0.0.1:3000"), Some(("127.0.0.1", 3000)));
        assert_eq!(split_host_port("[::1]:3000"), Some(("::1", 3000)));
        assert_eq!(split_host_port("localhost:0"), Some(("localhost", 0)));
        for bad in [
            "3000",
            ":",
            "host:",
            ":+80",
            ":70000",
            "::1:3000",
            "[::1]3000",
            "a:b",
            "",
        ] {
            assert_eq!(split_host_port(bad), None, "{bad}");
        }
    }

    #[test]
    fn http_advertise_forms() {
        assert!(check_http_advertise("http://10.0.0.1:3000").is_ok());
        assert!(check_http_advertise("https://[::1]:443").is_ok());
        assert!(check_http_advertise("10.0.0.1:3000")
            .unwrap_err()
            .contains("scheme"));
        assert!(check_http_advertise("http://host")
            .unwrap_err()
            .contains("port"));
        assert!(check_http_advertise("http://:3000")
            .unwrap_err()
            .contains("host"));
        assert!(check_http_advertise("http://host:3000/")
            .unwrap_err()
            .contains("path"));
    }

    #[test]
    fn raft_address_forms() {
        for good in [
            "10.0.0.1",
            "10.0.0.1:10008",
            "orchestrator-raft1",
            "orchestrator-raft1:10008",
            "fe80::1",
            "[fe80::1]",
            "[::1]:10008",
        ] {
            assert_eq!(check_raft_address(good, 10008), Ok(()), "{good}");
        }
        for bad in [
            "",
            ":10008",
            "host:",
            "host:abc",
            "[::1",
            "a b",
            "http://x:1",
            "[]:1",
        ] {
            assert!(check_raft_address(bad, 10008).is_err(), "{bad}");
        }
        assert!(check_raft_address("host", 0)
            .unwrap_err()
            .contains("DefaultRaftPort"));
        assert_eq!(check_raft_address("host:1", 0), Ok(()));
    }

    #[test]
    fn raft_secret_rules_never_echo_the_value() {
        assert!(check_raft_secret("").unwrap_err().contains("must be set"));
        let short = check_raft_secret("fifteen-chars!!").unwrap_err();
        assert!(short.contains("at least 16"), "{short}");
        assert!(!short.contains("fifteen"), "{short}");
        assert_eq!(check_raft_secret("sixteen-chars!!!"), Ok(()));
    }

    #[test]
    fn defaults_finish_cleanly_and_finishing_is_idempotent() {
        let ctx = Ctx::detached("defaults");
        let mut warnings = Vec::new();
        let once = finish(Config::orchestrator_defaults(), &ctx, &mut warnings).unwrap();
        let twice = finish(once.clone(), &ctx, &mut warnings).unwrap();
        assert_eq!(once, twice);
        assert!(warnings.is_empty());
    }
}
