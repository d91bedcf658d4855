//! `server::config` against real files: orchestrator defaults, a production-style config,
//! every refusal naming file/line/key, legacy synonyms, `${VAR}` and credentials files, and
//! secrets kept out of Debug, errors and `dump()`.

#![recursion_limit = "256"]

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;
use server::config::{self, AuthMethod, Backend, ConfigError, MySqlHostnameResolve, WarningKind};
use tempfile::TempDir;

/// Writes `text` as `name` in a fresh temp dir; keep the dir alive while using the path.
fn write(name: &str, text: &str) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write config");
    (dir, path)
}

fn load_text(text: &str) -> Result<config::Loaded, ConfigError> {
    let (_dir, path) = write("conf.json", text);
    config::load(&path)
}

/// The refusal for `text`, and the file name it must start with.
fn refusal(text: &str) -> (ConfigError, String) {
    let (_dir, path) = write("conf.json", text);
    let err = config::load(&path).expect_err("config should be refused");
    (err, path.display().to_string())
}

/// A configuration like the ones DBAs run: 3-node raft on SQLite, pt-heartbeat lag, hooks,
/// data-center classification, recovery filters. Passwords come from the environment.
const PRODUCTION: &str = r#"{
  "Debug": false,
  "EnableSyslog": false,
  "ListenAddress": ":3000",
  "URLPrefix": "/orchestrator/",
  "BackendDB": "sqlite3",
  "SQLite3DataFile": "/var/lib/orchestrator/orchestrator.db",
  "MySQLTopologyUser": "orchestrator",
  "MySQLTopologyPassword": "${ORC_TEST_PRODUCTION_TOPOLOGY_PASSWORD}",
  "MySQLTopologySSLSkipVerify": true,
  "MySQLConnectTimeoutSeconds": 1,
  "MySQLDiscoveryReadTimeoutSeconds": 3,
  "DefaultInstancePort": 3306,
  "DiscoverByShowSlaveHosts": true,
  "InstancePollSeconds": 1,
  "DiscoveryMaxConcurrency": 100,
  "DiscoverySeeds": ["db-main-1.dc1.example.com:3306", "db-orders-1.dc2.example.com:3306"],
  "DiscoveryIgnoreReplicaHostnameFilters": ["backup-[0-9]+[.]example[.]com", "10.0.9.9"],
  "UnseenInstanceForgetHours": 240,
  "SnapshotTopologiesIntervalHours": 0,
  "InstanceBulkOperationsWaitTimeoutSeconds": 10,
  "HostnameResolveMethod": "none",
  "MySQLHostnameResolveMethod": "@@report_host",
  "SkipBinlogServerUnresolveCheck": true,
  "ExpiryHostnameResolvesMinutes": 60,
  "ReasonableReplicationLagSeconds": 10,
  "ProblemIgnoreHostnameFilters": [],
  "VerifyReplicationFilters": false,
  "ReasonableMaintenanceReplicationLagSeconds": 20,
  "CandidateInstanceExpireMinutes": 60,
  "AuditLogFile": "/var/log/orchestrator/audit.log",
  "AuditToSyslog": false,
  "AuditToBackendDB": true,
  "RemoveTextFromHostnameDisplay": ".example.com:3306",
  "ReadOnly": false,
  "AuthenticationMethod": "multi",
  "HTTPAuthUser": "dba",
  "HTTPAuthPassword": "${ORC_TEST_PRODUCTION_HTTP_PASSWORD}",
  "PowerAuthUsers": ["*"],
  "ClusterNameToAlias": {
    "^db-main": "main",
    "^db-orders": "orders"
  },
  "ReplicationLagQuery": "SELECT UNIX_TIMESTAMP() - MAX(UNIX_TIMESTAMP(ts)) FROM meta.heartbeat",
  "DetectClusterAliasQuery": "SELECT value FROM meta.cluster WHERE anchor = 1",
  "DetectClusterDomainQuery": "SELECT domain FROM meta.cluster WHERE anchor = 1",
  "DetectInstanceAliasQuery": "",
  "DetectPromotionRuleQuery": "",
  "DataCenterPattern": "[.](dc[0-9]+)[.]example[.]com",
  "RegionPattern": "",
  "PhysicalEnvironmentPattern": "^([a-z]+)-",
  "PromotionIgnoreHostnameFilters": ["-delayed-"],
  "DetectSemiSyncEnforcedQuery": "",
  "ServeAgentsHttp": false,
  "UseSSL": false,
  "StatusEndpoint": "/api/status",
  "PseudoGTIDPattern": "",
  "BinlogEventsChunkSize": 10000,
  "SkipBinlogEventsContaining": [],
  "ReduceReplicationAnalysisCount": true,
  "FailureDetectionPeriodBlockMinutes": 60,
  "RecoveryPeriodBlockSeconds": 600,
  "RecoveryIgnoreHostnameFilters": [],
  "RecoverMasterClusterFilters": ["alias=main", "alias~=^ord"],
  "RecoverIntermediateMasterClusterFilters": ["*"],
  "OnFailureDetectionProcesses": [
    "echo 'Detected {failureType} on {failureCluster}. Affected replicas: {countReplicas}' >> /var/log/orchestrator/recovery.log"
  ],
  "PreGracefulTakeoverProcesses": [
    "echo 'Planned takeover about to take place on {failureCluster}' >> /var/log/orchestrator/recovery.log"
  ],
  "PreFailoverProcesses": [
    "/usr/local/bin/orc-pre-failover --cluster {failureClusterAlias} --host {failedHost}"
  ],
  "PostFailoverProcesses": [
    "echo '(for all types) Recovered from {failureType} on {failureCluster}. Failed: {failedHost}:{failedPort}; Successor: {successorHost}:{successorPort}' >> /var/log/orchestrator/recovery.log"
  ],
  "PostUnsuccessfulFailoverProcesses": ["/usr/local/bin/page-oncall 'failover of {failureCluster} failed' &"],
  "PostMasterFailoverProcesses": [
    "/usr/local/bin/move-vip --cluster {failureClusterAlias} --to {successorHost}"
  ],
  "PostIntermediateMasterFailoverProcesses": [],
  "PostGracefulTakeoverProcesses": ["echo 'Planned takeover complete' >> /var/log/orchestrator/recovery.log"],
  "CoMasterRecoveryMustPromoteOtherCoMaster": true,
  "DetachLostReplicasAfterMasterFailover": true,
  "ApplyMySQLPromotionAfterMasterFailover": true,
  "PreventCrossDataCenterMasterFailover": false,
  "PreventCrossRegionMasterFailover": true,
  "MasterFailoverDetachReplicaMasterHost": false,
  "FailMasterPromotionOnLagMinutes": 1,
  "FailMasterPromotionIfSQLThreadNotUpToDate": true,
  "PostponeReplicaRecoveryOnLagMinutes": 10,
  "OSCIgnoreHostnameFilters": [],
  "GraphiteAddr": "",
  "ConsulAddress": "127.0.0.1:8500",
  "ConsulAclToken": "",
  "ConsulKVStoreProvider": "consul-txn",
  "KVClusterMasterPrefix": "mysql/master",
  "RaftEnabled": true,
  "RaftDataDir": "/var/lib/orchestrator/raft",
  "RaftBind": "10.0.0.2",
  "RaftAdvertise": "10.0.0.2",
  "DefaultRaftPort": 10008,
  "RaftNodes": ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
  "RaftSecret": "a-shared-secret-of-32-characters",
  "HTTPAdvertise": "http://10.0.0.2:3000"
}
"#;

#[test]
fn defaults_are_orchestrators() {
    let loaded = load_text("{}").unwrap();
    assert!(loaded.warnings.is_empty());
    let dump = loaded.config.dump();
    let expected = json!({
        "ListenAddress": ":3000",
        "InstancePollSeconds": 5,
        "ReasonableInstanceCheckSeconds": 1,
        "DiscoveryMaxConcurrency": 300,
        "DiscoveryQueueCapacity": 100000,
        "UnseenInstanceForgetHours": 240,
        "HostnameResolveMethod": "default",
        "MySQLHostnameResolveMethod": "@@hostname",
        "SkipMaxScaleCheck": true,
        "ReasonableReplicationLagSeconds": 10,
        "ReasonableMaintenanceReplicationLagSeconds": 20,
        "MySQLConnectTimeoutSeconds": 2,
        "MySQLDiscoveryReadTimeoutSeconds": 10,
        "MySQLTopologyReadTimeoutSeconds": 600,
        "MySQLOrchestratorPort": 3306,
        "MySQLOrchestratorMaxPoolConnections": 128,
        "MySQLTopologyUseMixedTLS": true,
        "DefaultInstancePort": 3306,
        "FailureDetectionPeriodBlockMinutes": 60,
        "RecoveryPeriodBlockSeconds": 3600,
        "CoMasterRecoveryMustPromoteOtherCoMaster": true,
        "ApplyMySQLPromotionAfterMasterFailover": true,
        "DetachLostReplicasAfterMasterFailover": true,
        "RecoverMasterClusterFilters": [],
        "CandidateInstanceExpireMinutes": 60,
        "MaxConcurrentReplicaOperations": 5,
        "ProcessesShellCommand": "bash",
        "PostFailoverProcesses": [],
        "BinlogEventsChunkSize": 10000,
        "RaftEnabled": false,
        "RaftBind": "127.0.0.1:10008",
        "DefaultRaftPort": 10008,
        "RaftNodes": [],
        "ExpectFailureAnalysisConcensus": true,
        "AuthUserHeader": "X-Forwarded-User",
        "PowerAuthUsers": ["*"],
        "AccessTokenExpiryMinutes": 1440,
        "StatusEndpoint": "/api/status",
        "AuditToBackendDB": false,
        "AuditPurgeDays": 7,
        "ConsulScheme": "http",
        "ConsulKVStoreProvider": "consul",
        "AgentsServerPort": ":3001",
        "GraphitePollSeconds": 60,
        // Our deviation: embedded SQLite when BackendDB is absent.
        "BackendDB": "sqlite",
        "SQLite3DataFile": "orchestrator.sqlite3",
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(dump.get(key), Some(value), "default of {key}");
    }
    let c = &loaded.config;
    assert_eq!(c.instance_poll(), Duration::from_secs(5));
    assert_eq!(c.listen_addr(), "0.0.0.0:3000");
    assert_eq!(c.sqlite_path(), PathBuf::from("orchestrator.sqlite3"));
    assert_eq!(c.backend(), Backend::Sqlite);
    assert_eq!(c.recovery_period_block(), Duration::from_secs(3600));
    assert_eq!(config::Config::default(), loaded.config);
}

#[test]
fn production_config_loads_without_warnings() {
    std::env::set_var("ORC_TEST_PRODUCTION_TOPOLOGY_PASSWORD", "topo-pw");
    std::env::set_var("ORC_TEST_PRODUCTION_HTTP_PASSWORD", "http-pw");
    let loaded = load_text(PRODUCTION).unwrap();
    let rendered: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert!(rendered.is_empty(), "{rendered:#?}");

    let c = &loaded.config;
    assert_eq!(c.backend(), Backend::Sqlite);
    assert_eq!(
        c.sqlite_path(),
        Path::new("/var/lib/orchestrator/orchestrator.db")
    );
    assert_eq!(c.service.url_prefix, "/orchestrator");
    assert_eq!(c.topology.mysql_topology_password.expose(), "topo-pw");
    assert_eq!(c.auth.http_auth_password.expose(), "http-pw");
    assert_eq!(c.auth_method(), AuthMethod::Multi);
    assert_eq!(c.mysql_hostname_resolve(), MySqlHostnameResolve::ReportHost);
    assert_eq!(c.instance_poll(), Duration::from_secs(1));
    assert_eq!(c.discovery.discovery_seeds.len(), 2);
    assert_eq!(c.hooks.post_master_failover_processes.len(), 1);
    assert_eq!(c.recovery.postpone_replica_recovery_on_lag_minutes, 10);
    assert_eq!(c.integrations.kv_cluster_master_prefix, "mysql/master/");

    let dc = c
        .data_center_pattern()
        .unwrap()
        .captures("db-main-1.dc1.example.com")
        .unwrap();
    assert_eq!(&dc[1], "dc1");
    assert!(c.region_pattern().is_none());
    assert_eq!(
        c.cluster_alias_for("db-orders-1.dc2.example.com:3306"),
        Some("orders")
    );
    assert_eq!(c.cluster_alias_for("db-misc:3306"), None);
    assert!(c
        .recover_master_cluster_filters()
        .matches("db-main-1:3306", "main"));
    assert!(c
        .recover_master_cluster_filters()
        .matches("db-orders-1:3306", "orders"));
    assert!(!c
        .recover_master_cluster_filters()
        .matches("db-misc:3306", "misc"));
    assert!(c
        .recover_intermediate_master_cluster_filters()
        .matches("anything:3306", ""));
    assert!(c
        .discovery_ignore_replica_hostname_filters()
        .matches("backup-7.example.com", 3306));
    assert!(c
        .discovery_ignore_replica_hostname_filters()
        .matches("10.0.9.9", 3306));
    assert!(!c
        .discovery_ignore_replica_hostname_filters()
        .matches("10.0.9.99", 3306));
    assert!(c
        .promotion_ignore_hostname_filters()
        .matches("db-delayed-1", 3306));

    assert!(c.raft.raft_enabled);
    assert_eq!(c.raft_bind_addr(), "10.0.0.2:10008");
    assert_eq!(
        c.raft_peer_addrs(),
        vec!["10.0.0.1:10008", "10.0.0.2:10008", "10.0.0.3:10008"]
    );
    assert!(!c.raft_single_node());
    assert_eq!(c.http_advertise_uri(), "http://10.0.0.2:3000");
}

#[test]
fn orchestrators_own_sample_config_loads() {
    // The keys of orchestrator's conf/orchestrator-sample.conf.json that matter here,
    // including the legacy and removed ones it still ships with.
    let text = r##"{
  "#": "-----",
  "#": "this is a comment",
  "Debug": true,
  "MySQLTopologyUser": "orc_client_user",
  "MySQLTopologyPassword": "orc_client_password",
  "MySQLOrchestratorHost": "127.0.0.1",
  "BackendDB": "mysql",
  "DiscoveryIgnoreReplicaHostnameFilters": [
    "a_host_i_want_to_ignore[.]example[.]com",
    ".*[.]ignore_all_hosts_from_this_domain[.]example[.]com",
    "a_host_with_extra_port_i_want_to_ignore[.]example[.]com:3307"
  ],
  "AuthUserHeader": "",
  "ClusterNameToAlias": {"127.0.0.1": "test suite"},
  "DataCenterPattern": "[.]([^.]+)[.][^.]+[.]mydomain[.]com",
  "PhysicalEnvironmentPattern": "[.]([^.]+[.][^.]+)[.]mydomain[.]com",
  "StatusSimpleHealth": true,
  "PseudoGTIDMonotonicHint": "asc:",
  "RecoverMasterClusterFilters": ["_master_pattern_"],
  "DetachLostSlavesAfterMasterFailover": true,
  "MasterFailoverLostInstancesDowntimeMinutes": 0,
  "ConsulKVStoreProvider": "consul"
}"##;
    let loaded = load_text(text).unwrap();
    assert_eq!(loaded.config.backend(), Backend::MySql);
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    let w = &loaded.warnings[0];
    assert_eq!(w.key, "StatusSimpleHealth");
    assert_eq!(w.at.line, Some(18));
    assert!(matches!(w.kind, WarningKind::NoEffect { .. }));
}

#[test]
fn unknown_key_is_warned_with_line_and_suggestion() {
    let (_dir, path) = write(
        "conf.json",
        "{\n  \"Debug\": true,\n  \"InstancePollSecond\": 3,\n  \"TotallyMadeUp\": 1\n}\n",
    );
    let loaded = config::load(&path).unwrap();
    let file = path.display().to_string();
    let rendered: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        rendered,
        vec![
            format!("{file}:3: unknown key \"InstancePollSecond\" (did you mean \"InstancePollSeconds\"?)"),
            format!("{file}:4: unknown key \"TotallyMadeUp\" is ignored"),
        ]
    );
    assert_eq!(
        loaded.config.discovery.instance_poll_seconds, 5,
        "the typo does not set the key"
    );
}

#[test]
fn removed_keys_say_they_have_no_effect() {
    let loaded = load_text(
        "{\n\"RecoveryPollSeconds\": 5,\n\"MasterFailoverLostInstancesDowntimeMinutes\": 30\n}",
    )
    .unwrap();
    let rendered: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(rendered.len(), 2, "{rendered:#?}");
    assert!(
        rendered[0].contains(":2: key \"RecoveryPollSeconds\" has no effect: "),
        "{}",
        rendered[0]
    );
    assert!(rendered[0].contains("every second"), "{}", rendered[0]);
    assert!(rendered[1]
        .contains(":3: key \"MasterFailoverLostInstancesDowntimeMinutes\" has no effect"));
}

#[test]
fn malformed_json_is_refused_with_line_and_column() {
    let (err, file) = refusal("{\n  \"Debug\": true,\n  \"ReadOnly\": false,,\n}\n");
    assert!(matches!(err, ConfigError::Syntax { .. }));
    let at = err.location();
    assert_eq!((at.line, at.column), (Some(3), Some(21)));
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{file}:3:21: malformed JSON: ")),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1);

    let (err, file) = refusal("{\"Debug\": tru}");
    assert!(err.to_string().starts_with(&format!("{file}:1:")), "{err}");
    let (err, _) = refusal("");
    assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
}

#[test]
fn wrong_type_is_refused_with_key_and_line() {
    let (err, file) = refusal("{\n  \"Debug\": true,\n\n  \"InstancePollSeconds\": \"five\"\n}");
    assert_eq!(
        err.to_string(),
        format!(
            "{file}:4: key \"InstancePollSeconds\": invalid type: string \"five\", expected u64"
        )
    );
    let (err, _) = refusal("{\n\"DefaultRaftPort\": 70000}");
    assert_eq!(err.key(), Some("DefaultRaftPort"));
    let (err, _) = refusal("{\"ClusterNameToAlias\": {\"a\": 1}}");
    assert_eq!(err.key(), Some("ClusterNameToAlias.a"));
    let (err, _) = refusal("{\"InstancePollSeconds\": -1}");
    assert_eq!(err.key(), Some("InstancePollSeconds"));
}

#[test]
fn invalid_values_are_refused_naming_the_key() {
    let cases: &[(&str, &str)] = &[
        (r#""InstancePollSeconds": 0"#, "InstancePollSeconds"),
        (r#""DiscoveryMaxConcurrency": 0"#, "DiscoveryMaxConcurrency"),
        (r#""DataCenterPattern": "([a-z""#, "DataCenterPattern"),
        (r#""DataCenterPattern": "dc[0-9]""#, "DataCenterPattern"),
        (r#""RegionPattern": "(?P<x""#, "RegionPattern"),
        (
            r#""PhysicalEnvironmentPattern": "*env""#,
            "PhysicalEnvironmentPattern",
        ),
        (
            r#""RejectHostnameResolvePattern": "[""#,
            "RejectHostnameResolvePattern",
        ),
        (
            r#""DiscoveryIgnoreHostnameFilters": ["ok", "(bad"]"#,
            "DiscoveryIgnoreHostnameFilters[1]",
        ),
        (
            r#""DiscoveryIgnoreReplicaHostnameFilters": ["(bad"]"#,
            "DiscoveryIgnoreReplicaHostnameFilters[0]",
        ),
        (
            r#""DiscoveryIgnoreMasterHostnameFilters": ["(bad"]"#,
            "DiscoveryIgnoreMasterHostnameFilters[0]",
        ),
        (
            r#""ProblemIgnoreHostnameFilters": ["(bad"]"#,
            "ProblemIgnoreHostnameFilters[0]",
        ),
        (
            r#""OSCIgnoreHostnameFilters": ["(bad"]"#,
            "OSCIgnoreHostnameFilters[0]",
        ),
        (
            r#""PromotionIgnoreHostnameFilters": ["(bad"]"#,
            "PromotionIgnoreHostnameFilters[0]",
        ),
        (
            r#""RecoveryIgnoreHostnameFilters": ["(bad"]"#,
            "RecoveryIgnoreHostnameFilters[0]",
        ),
        (
            r#""RecoverMasterClusterFilters": ["alias~=(bad"]"#,
            "RecoverMasterClusterFilters[0]",
        ),
        (
            r#""ClusterNameToAlias": {"(bad": "alias"}"#,
            "ClusterNameToAlias",
        ),
        (r#""PseudoGTIDPattern": "(bad""#, "PseudoGTIDPattern"),
        (r#""BackendDB": "postgres""#, "BackendDB"),
        (
            r#""MySQLHostnameResolveMethod": "@@server_id""#,
            "MySQLHostnameResolveMethod",
        ),
        (r#""HostnameResolveMethod": "dns""#, "HostnameResolveMethod"),
        (r#""AuthenticationMethod": "basc""#, "AuthenticationMethod"),
        (r#""ListenAddress": "3000""#, "ListenAddress"),
        (r#""ListenAddress": "0.0.0.0:http""#, "ListenAddress"),
        (r#""HTTPAdvertise": "10.0.0.1:3000""#, "HTTPAdvertise"),
        (r#""RaftEnabled": true, "RaftDataDir": """#, "RaftDataDir"),
        (
            r#""FailMasterPromotionOnLagMinutes": 1"#,
            "FailMasterPromotionOnLagMinutes",
        ),
    ];
    for (body, key) in cases {
        // The offending key sits on line 3.
        let text = format!("{{\n  \"Debug\": false,\n  {body}\n}}");
        let (err, file) = refusal(&text);
        assert_eq!(err.key(), Some(*key), "{body}: {err}");
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("{file}:3: key \"{key}\": ")),
            "{body}: {message}"
        );
        assert_eq!(message.lines().count(), 1, "{message}");
    }
}

#[test]
fn legacy_synonyms_map_to_current_keys() {
    let loaded = load_text(
        r#"{
  "SlaveLagQuery": "select lag from meta.heartbeat",
  "RecoveryPeriodBlockMinutes": 10,
  "DetachLostSlavesAfterMasterFailover": false,
  "MasterFailoverDetachSlaveMasterHost": true,
  "PostponeSlaveRecoveryOnLagMinutes": 7
}"#,
    )
    .unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = &loaded.config;
    assert_eq!(
        c.discovery.replication_lag_query,
        "select lag from meta.heartbeat"
    );
    assert_eq!(c.recovery.recovery_period_block_seconds, 600);
    assert!(!c.recovery.detach_lost_replicas_after_master_failover);
    assert!(c.recovery.master_failover_detach_replica_master_host);
    assert_eq!(c.recovery.postpone_replica_recovery_on_lag_minutes, 7);
    let dump = c.dump();
    assert_eq!(
        dump["ReplicationLagQuery"],
        "select lag from meta.heartbeat"
    );
    assert!(dump.get("SlaveLagQuery").is_none());

    // The seconds key wins over the minutes key, with a warning.
    let loaded =
        load_text("{\n\"RecoveryPeriodBlockSeconds\": 30,\n\"RecoveryPeriodBlockMinutes\": 10\n}")
            .unwrap();
    assert_eq!(loaded.config.recovery.recovery_period_block_seconds, 30);
    assert_eq!(loaded.warnings.len(), 1);
    assert_eq!(loaded.warnings[0].key, "RecoveryPeriodBlockMinutes");
    assert_eq!(loaded.warnings[0].at.line, Some(3));

    // Synonyms with different values are refused, naming the legacy key.
    let (err, file) =
        refusal("{\n\"ReplicationLagQuery\": \"select 1\",\n\"SlaveLagQuery\": \"select 2\"\n}");
    assert_eq!(
        err.to_string(),
        format!(
            "{file}:3: keys \"SlaveLagQuery\" and \"ReplicationLagQuery\" are synonyms but have different values; keep only \"ReplicationLagQuery\""
        )
    );
    let (err, _) = refusal(
        "{\"DetachLostReplicasAfterMasterFailover\": true, \"DetachLostSlavesAfterMasterFailover\": false}",
    );
    assert_eq!(err.key(), Some("DetachLostSlavesAfterMasterFailover"));
}

#[test]
fn env_references_are_expanded() {
    std::env::set_var("ORC_TEST_ENV_ORCHESTRATOR_PASSWORD", "backend-pw");
    let loaded = load_text(
        r#"{"BackendDB": "mysql", "MySQLOrchestratorPassword": "${ORC_TEST_ENV_ORCHESTRATOR_PASSWORD}"}"#,
    )
    .unwrap();
    assert_eq!(
        loaded.config.backend.mysql_orchestrator_password.expose(),
        "backend-pw"
    );

    std::env::remove_var("ORC_TEST_ENV_UNSET_VARIABLE");
    let (err, file) =
        refusal("{\n\"MySQLTopologyPassword\": \"${ORC_TEST_ENV_UNSET_VARIABLE}\"\n}");
    assert_eq!(
        err.to_string(),
        format!("{file}:2: key \"MySQLTopologyPassword\": environment variable \"ORC_TEST_ENV_UNSET_VARIABLE\" is not set")
    );
}

#[test]
fn credentials_files_fill_user_and_password() {
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("topology.cnf");
    std::fs::write(
        &creds,
        "[client]\nuser = orc_topology\npassword = \"t0p#secret\"\n\n[mysqld]\nport=3306\n",
    )
    .unwrap();
    let text = format!(
        r#"{{"MySQLTopologyUser": "ignored", "MySQLTopologyPassword": "ignored", "MySQLTopologyCredentialsConfigFile": {:?}}}"#,
        creds.display().to_string()
    );
    let loaded = load_text(&text).unwrap();
    assert_eq!(loaded.config.topology.mysql_topology_user, "orc_topology");
    assert_eq!(
        loaded.config.topology.mysql_topology_password.expose(),
        "t0p#secret"
    );

    let missing = dir.path().join("nope.cnf").display().to_string();
    let (err, file) = refusal(&format!(
        "{{\n\"MySQLOrchestratorCredentialsConfigFile\": {missing:?}\n}}"
    ));
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "{file}:2: key \"MySQLOrchestratorCredentialsConfigFile\": cannot use credentials file {missing:?}: "
        )),
        "{message}"
    );
}

#[test]
fn secrets_never_show() {
    const SECRET: &str = "Sup3r-S3cret-Value";
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("backend.cnf");
    std::fs::write(
        &creds,
        format!("[client]\nuser=orc\npassword={SECRET}-file\n"),
    )
    .unwrap();
    let text = format!(
        r#"{{
  "MySQLTopologyPassword": "{SECRET}-topology",
  "MySQLOrchestratorCredentialsConfigFile": {:?},
  "HTTPAuthPassword": "{SECRET}-http",
  "OAuthClientSecret": "{SECRET}-oauth",
  "ConsulAclToken": "{SECRET}-consul",
  "MySQLTopologyPasword": "{SECRET}-typo"
}}"#,
        creds.display().to_string()
    );
    let loaded = load_text(&text).unwrap();
    let c = &loaded.config;
    assert_eq!(
        c.backend.mysql_orchestrator_password.expose(),
        format!("{SECRET}-file")
    );
    let debug = format!("{c:?} {loaded:?}");
    let dump = c.dump().to_string();
    let warnings: String = loaded
        .warnings
        .iter()
        .map(|w| format!("{w} {w:?}"))
        .collect();
    for (what, text) in [("Debug", &debug), ("dump", &dump), ("warnings", &warnings)] {
        assert!(!text.contains(SECRET), "{what} shows a secret: {text}");
    }
    assert_eq!(c.dump()["MySQLTopologyPassword"], "****");
    assert_eq!(c.dump()["MySQLOrchestratorPassword"], "****");
    assert_eq!(c.dump()["ConsulAclToken"], "****");
    assert_eq!(c.dump()["MySQLTopologyUser"], "", "users are not secrets");

    // Errors: a wrong-type secret, and an error elsewhere in a file full of secrets.
    for text in [
        "{\"MySQLTopologyPassword\": 123456789}".to_owned(),
        format!("{{\"HTTPAuthPassword\": [\"{SECRET}\"]}}"),
        format!("{{\"MySQLTopologyPassword\": \"{SECRET}\", \"InstancePollSeconds\": 0}}"),
        format!("{{\"MySQLTopologyPassword\": \"{SECRET}\",, }}"),
    ] {
        let (err, _) = refusal(&text);
        let shown = format!("{err} {err:?}");
        assert!(
            !shown.contains(SECRET) && !shown.contains("123456789"),
            "{shown}"
        );
    }
}

#[test]
fn unreadable_file_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.conf.json");
    let err = config::load(&path).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("{}: cannot read", path.display())),
        "{err}"
    );
    assert!(matches!(err, ConfigError::Read { .. }));
}

#[test]
fn no_input_panics() {
    // Every prefix of a real config, plus odd documents: each is either loaded or refused.
    std::env::set_var("ORC_TEST_PRODUCTION_TOPOLOGY_PASSWORD", "topo-pw");
    std::env::set_var("ORC_TEST_PRODUCTION_HTTP_PASSWORD", "http-pw");
    let mut inputs: Vec<String> = PRODUCTION
        .char_indices()
        .map(|(i, _)| PRODUCTION[..i].to_owned())
        .collect();
    inputs.extend(
        [
            "null",
            "[]",
            "\"x\"",
            "1e999",
            "{\"\": 1}",
            "{\"InstancePollSeconds\": 1e3}",
            "{\"InstancePollSeconds\": 18446744073709551616}",
            "{\"ClusterNameToAlias\": []}",
            "{\"DiscoverySeeds\": {}}",
            "{\"ListenAddress\": \"[::1\"}",
            "{\"ListenAddress\": \"]:1\"}",
            "{\"HTTPAdvertise\": \"://:\"}",
            "{\"MySQLTopologyPassword\": \"${\"}",
            "{\"MySQLTopologyCredentialsConfigFile\": \"/\"}",
            "{\"\\ud800\": 1}",
            "{\"a\":{\"b\":[[[[]]]]}}",
        ]
        .map(str::to_owned),
    );
    for text in inputs {
        let _ = config::parse(&text, "fuzz.json");
    }
}

#[test]
fn the_shipped_seed_environment_config_loads_without_warnings() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../conf/orchestrator/config.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let env = |name: &str| (name == "ORCHESTRATOR_TOPOLOGY_PASSWORD").then(|| "s3cret".to_string());
    let loaded = config::parse_with_env(&text, "conf/orchestrator/config.json", &env).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.config.discovery.discovery_seeds, vec!["mysql1:3306".to_string()]);
    assert_eq!(loaded.config.topology.mysql_topology_password.expose(), "s3cret");
    assert_eq!(loaded.config.instance_poll(), Duration::from_secs(1));
}
