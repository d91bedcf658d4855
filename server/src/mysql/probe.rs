//! The probe: what discovery reads from one server, in as few round trips as possible.
//!
//! A probe is one multi-statement round trip (variables, status, own binlog position, replica
//! status, connected replicas), plus one more only for optional site queries the operator
//! configured (data center, region, alias, lag...), which may fail without failing the probe.
//! The dialect is detected once per connection. Parsing is pure (`parse_probe`) and unit-tested
//! on captured answers.

use super::conn::{MySqlError, TextConn, TextRow};
use super::dialect::{replica_status_column_names, Dialect};
use app::model::{BinlogCoordinates, Instance, InstanceKey, NullInt64, ThreadState};

/// How to name the probed server (orchestrator's `MySQLHostnameResolveMethod`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HostnameMethod {
    /// Key the instance by `@@hostname`.
    #[default]
    Hostname,
    /// Key it by `@@report_host` when set.
    ReportHost,
    /// Keep the name it was reached by.
    AsGiven,
}

impl HostnameMethod {
    pub fn from_config(text: &str) -> HostnameMethod {
        match text {
            "@@report_host" => HostnameMethod::ReportHost,
            "none" | "" => HostnameMethod::AsGiven,
            _ => HostnameMethod::Hostname,
        }
    }
}

/// Optional per-site queries (orchestrator's `Detect*Query` and `ReplicationLagQuery`).
#[derive(Clone, Debug, Default)]
pub struct SiteQueries {
    pub data_center: String,
    pub region: String,
    pub physical_environment: String,
    pub instance_alias: String,
    pub cluster_alias: String,
    pub promotion_rule: String,
    pub replication_lag: String,
}

/// What the probe needs to know besides the connection.
#[derive(Clone, Debug, Default)]
pub struct ProbeSettings {
    pub hostname_method: HostnameMethod,
    pub default_port: u16,
    pub site: SiteQueries,
}

/// One probe's findings.
#[derive(Clone, Debug, Default)]
pub struct ProbeResult {
    /// The observed part of the instance, keyed by its canonical name.
    pub instance: Instance,
    /// Replicas this server reports (SHOW REPLICAS, or binlog dump clients).
    pub reported_replicas: Vec<InstanceKey>,
    /// Cluster alias suggested by `DetectClusterAliasQuery`, when configured.
    pub detected_cluster_alias: String,
    /// Promotion rule returned by `DetectPromotionRuleQuery`, when configured.
    pub detected_promotion_rule: String,
    /// Statements sent and round trips made, for the discovery metrics.
    pub statements: u32,
    pub round_trips: u32,
}

/// A connection with its detected dialect, kept open between probes.
pub struct ProbeConn {
    pub conn: TextConn,
    pub dialect: Dialect,
}

impl ProbeConn {
    /// Wraps a fresh connection, detecting the dialect (one round trip, once per connection).
    pub async fn new(mut conn: TextConn) -> Result<ProbeConn, MySqlError> {
        let rows = conn.query("SELECT @@global.version, @@global.version_comment").await?;
        let row = rows.first().ok_or_else(|| MySqlError::Protocol {
            target: conn.target().to_string(),
            reason: "no answer to SELECT @@version".into(),
        })?;
        let dialect = Dialect::detect(row.at(0).unwrap_or(""), row.at(1).unwrap_or(""));
        Ok(ProbeConn { conn, dialect })
    }

    /// Probes the server reached as `given`.
    pub async fn probe(&mut self, given: &InstanceKey, settings: &ProbeSettings) -> Result<ProbeResult, MySqlError> {
        let batch = probe_batch(&self.dialect);
        let sets = self.conn.query_sets(&batch.join(";\n")).await?;
        let mut result = parse_probe(given, &self.dialect, settings, &sets).map_err(|reason| MySqlError::Protocol {
            target: self.conn.target().to_string(),
            reason,
        })?;
        result.statements = batch.len() as u32;
        result.round_trips = 1;
        self.run_site_queries(&settings.site, &mut result).await;
        Ok(result)
    }

    /// Site queries are the operator's SQL: each may fail (a missing meta table on one server)
    /// without failing the probe. They share one round trip when they all succeed.
    async fn run_site_queries(&mut self, site: &SiteQueries, result: &mut ProbeResult) {
        let wanted: Vec<(&str, &String)> = [
            ("dc", &site.data_center),
            ("region", &site.region),
            ("env", &site.physical_environment),
            ("alias", &site.instance_alias),
            ("cluster_alias", &site.cluster_alias),
            ("promotion_rule", &site.promotion_rule),
            ("lag", &site.replication_lag),
        ]
        .into_iter()
        .filter(|(_, q)| !q.trim().is_empty())
        .collect();
        if wanted.is_empty() {
            return;
        }
        let batch: Vec<&str> = wanted.iter().map(|(_, q)| q.trim().trim_end_matches(';')).collect();
        result.round_trips += 1;
        result.statements += batch.len() as u32;
        let answers: Vec<Option<String>> = match self.conn.query_sets(&batch.join(";\n")).await {
            Ok(sets) => sets.iter().map(|rows| first_value(rows)).collect(),
            Err(e) if e.is_unreachable() => return,
            Err(_) => {
                // One of them failed: run them one by one so the others still count.
                let mut out = Vec::new();
                for q in &batch {
                    result.round_trips += 1;
                    out.push(self.conn.query(q).await.ok().and_then(|rows| first_value(&rows)));
                }
                out
            }
        };
        let inst = &mut result.instance;
        for ((what, _), value) in wanted.iter().zip(answers) {
            let Some(value) = value else { continue };
            match *what {
                "dc" => inst.data_center = value,
                "region" => inst.region = value,
                "env" => inst.physical_environment = value,
                "alias" => inst.instance_alias = value,
                "cluster_alias" => result.detected_cluster_alias = value,
                "promotion_rule" => result.detected_promotion_rule = value,
                "lag" => {
                    if let Ok(n) = value.trim().parse::<f64>() {
                        inst.replication_lag_seconds = NullInt64::some(n.max(0.0) as i64);
                    }
                }
                _ => {}
            }
        }
    }
}

fn first_value(rows: &[TextRow]) -> Option<String> {
    rows.first().and_then(|r| r.at(0)).map(str::to_string)
}

/// The statements of one probe, in the order `parse_probe` expects their result sets.
pub fn probe_batch(d: &Dialect) -> Vec<String> {
    vec![
        d.variables_query(),
        "SHOW GLOBAL STATUS WHERE Variable_name = 'Uptime' OR Variable_name LIKE 'Rpl_semi_sync%'".to_string(),
        d.semi_sync_variables().to_string(),
        d.show_binlog_status().to_string(),
        d.show_replica_status().to_string(),
        d.show_replica_hosts().to_string(),
        d.binlog_dump_clients().to_string(),
    ]
}

/// Turns the probe's result sets into an instance. Pure.
pub fn parse_probe(
    given: &InstanceKey,
    d: &Dialect,
    settings: &ProbeSettings,
    sets: &[Vec<TextRow>],
) -> Result<ProbeResult, String> {
    if sets.len() < 7 {
        return Err(format!("expected 7 result sets, got {}", sets.len()));
    }
    let vars = sets[0].first().ok_or("no row for the variables query")?;
    let v = |i: usize| vars.at(i).unwrap_or("").to_string();
    let mut inst = Instance::unseen(given.clone());

    let hostname = v(0);
    let report_host = v(1);
    inst.key = match settings.hostname_method {
        HostnameMethod::Hostname if !hostname.is_empty() => InstanceKey::new(hostname, given.port),
        HostnameMethod::ReportHost if !report_host.is_empty() => InstanceKey::new(report_host, given.port),
        _ => given.clone(),
    };
    if inst.key != *given {
        inst.unresolved_hostname = given.hostname.clone();
    }
    inst.server_id = v(2).parse().unwrap_or(0);
    inst.version = v(3);
    inst.version_comment = v(4);
    inst.flavor_name = d.flavor.name().to_string();
    inst.read_only = v(5) == "1";
    inst.binlog_format = v(6);
    inst.log_bin_enabled = v(7) == "1";
    inst.log_replication_updates_enabled = v(8) == "1";
    inst.binlog_row_image = v(9);
    inst.super_read_only = v(10) == "1";
    inst.server_uuid = v(11);
    inst.gtid_mode = v(12);
    inst.executed_gtid_set = compact_gtid(&v(13));
    inst.gtid_purged = compact_gtid(&v(14));
    inst.gtid_current_pos = v(15);
    inst.gtid_binlog_pos = v(16);
    inst.gtid_slave_pos = v(17);
    inst.supports_oracle_gtid = d.has_oracle_gtid() && !inst.gtid_mode.is_empty() && inst.gtid_mode != "OFF";

    let status = name_values(&sets[1]);
    let variables = name_values(&sets[2]);
    inst.uptime = lookup(&status, &["Uptime"]).and_then(|u| u.parse().ok()).unwrap_or(0);
    parse_semi_sync(&mut inst, &variables, &status);

    if let Some(row) = sets[3].first() {
        inst.self_binlog_coordinates =
            BinlogCoordinates::binlog(row.text(&["File"]), row.number(&["Position"]).unwrap_or(0).max(0) as u64);
    }
    if let Some(row) = sets[4].last() {
        parse_replica_status(&mut inst, row, settings.default_port);
    }
    let mut reported = Vec::new();
    for row in &sets[5] {
        let host = row.text(&["Host"]);
        let port = row.number(&["Port"]).unwrap_or(0);
        if !host.is_empty() && port > 0 && port <= u16::MAX as i64 {
            reported.push(InstanceKey::new(host, port as u16));
        }
    }
    // Replicas that do not set report_host are only visible as binlog dump threads; like
    // orchestrator, assume they listen on this server's port.
    if reported.is_empty() {
        for row in &sets[6] {
            let host = row.text(&["HOST"]);
            let host = host.rsplit_once(':').map(|(h, _)| h.to_string()).unwrap_or(host);
            if !host.is_empty() {
                reported.push(InstanceKey::new(host, given.port));
            }
        }
    }
    reported.sort();
    reported.dedup();
    inst.is_last_check_valid = true;
    Ok(ProbeResult { instance: inst, reported_replicas: reported, ..Default::default() })
}

fn compact_gtid(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn name_values(rows: &[TextRow]) -> Vec<(String, String)> {
    rows.iter()
        .map(|r| (r.at(0).unwrap_or("").to_ascii_lowercase(), r.at(1).unwrap_or("").to_string()))
        .collect()
}

fn lookup<'a>(pairs: &'a [(String, String)], names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| {
        let n = n.to_ascii_lowercase();
        pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str())
    })
}

fn on(pairs: &[(String, String)], names: &[&str]) -> bool {
    matches!(lookup(pairs, names).map(str::to_ascii_uppercase).as_deref(), Some("ON" | "1" | "YES"))
}

/// Both the legacy (master/slave) and the 8.0.26+ (source/replica) semi-sync plugin names.
fn parse_semi_sync(inst: &mut Instance, vars: &[(String, String)], status: &[(String, String)]) {
    let source_var = ["rpl_semi_sync_master_enabled", "rpl_semi_sync_source_enabled"];
    let replica_var = ["rpl_semi_sync_slave_enabled", "rpl_semi_sync_replica_enabled"];
    inst.semi_sync_available = lookup(vars, &source_var).is_some() && lookup(vars, &replica_var).is_some();
    inst.semi_sync_master_enabled = on(vars, &source_var);
    inst.semi_sync_replica_enabled = on(vars, &replica_var);
    inst.semi_sync_master_timeout = lookup(vars, &["rpl_semi_sync_master_timeout", "rpl_semi_sync_source_timeout"])
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    inst.semi_sync_master_wait_for_replica_count =
        lookup(vars, &["rpl_semi_sync_master_wait_for_slave_count", "rpl_semi_sync_source_wait_for_replica_count"])
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
    inst.semi_sync_master_status = on(status, &["Rpl_semi_sync_master_status", "Rpl_semi_sync_source_status"]);
    inst.semi_sync_master_clients = lookup(status, &["Rpl_semi_sync_master_clients", "Rpl_semi_sync_source_clients"])
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    inst.semi_sync_replica_status = on(status, &["Rpl_semi_sync_slave_status", "Rpl_semi_sync_replica_status"]);
}

fn parse_replica_status(inst: &mut Instance, row: &TextRow, default_port: u16) {
    let col = |name: &'static str| replica_status_column_names(name);
    let get = |name: &'static str| {
        let [new, old] = col(name);
        row.text(&[new.as_str(), old.as_str()])
    };
    let num = |name: &'static str| {
        let [new, old] = col(name);
        row.number(&[new.as_str(), old.as_str()])
    };
    let mut host = get("Source_Host");
    if let Some(stripped) = host.strip_prefix("//") {
        inst.is_detached_master = true;
        host = stripped.to_string();
    }
    let port = num("Source_Port").filter(|p| *p > 0 && *p <= u16::MAX as i64).map(|p| p as u16).unwrap_or(default_port);
    if !host.is_empty() && host != "_" {
        inst.master_key = InstanceKey::new(host, port);
    }
    let io = ThreadState::from_status(&get("Replica_IO_Running"));
    let sql = ThreadState::from_status(&get("Replica_SQL_Running"));
    inst.replication_io_thread_state = io;
    inst.replication_sql_thread_state = sql;
    inst.replication_io_thread_running = io.is_running();
    inst.replication_sql_thread_running = sql.is_running();
    inst.replication_io_state_text = get("Replica_IO_State");
    inst.read_binlog_coordinates =
        BinlogCoordinates::binlog(get("Source_Log_File"), num("Read_Source_Log_Pos").unwrap_or(0).max(0) as u64);
    inst.exec_binlog_coordinates =
        BinlogCoordinates::binlog(get("Relay_Source_Log_File"), num("Exec_Source_Log_Pos").unwrap_or(0).max(0) as u64);
    inst.relaylog_coordinates =
        BinlogCoordinates::relaylog(row.text(&["Relay_Log_File"]), row.number(&["Relay_Log_Pos"]).unwrap_or(0).max(0) as u64);
    inst.last_sql_error = row.text(&["Last_SQL_Error"]);
    inst.last_io_error = row.text(&["Last_IO_Error"]);
    inst.last_sql_errno = row.number(&["Last_SQL_Errno"]).unwrap_or(0).max(0) as u32;
    inst.last_io_errno = row.number(&["Last_IO_Errno"]).unwrap_or(0).max(0) as u32;
    inst.sql_delay = row.number(&["SQL_Delay"]).unwrap_or(0).max(0) as u32;
    inst.using_oracle_gtid = row.number(&["Auto_Position"]) == Some(1);
    inst.using_mariadb_gtid = !matches!(row.get(&["Using_Gtid"]), None | Some("" | "No"));
    inst.master_uuid = get("Source_UUID");
    inst.has_replication_filters = [
        "Replicate_Do_DB",
        "Replicate_Ignore_DB",
        "Replicate_Do_Table",
        "Replicate_Ignore_Table",
        "Replicate_Wild_Do_Table",
        "Replicate_Wild_Ignore_Table",
    ]
    .iter()
    .any(|c| !row.text(&[c]).is_empty());
    inst.allow_tls = get("Source_SSL_Allowed") == "Yes";
    inst.has_replication_credentials = !get("Source_User").is_empty();
    inst.replication_credentials_available = inst.has_replication_credentials;
    let lag = num("Seconds_Behind_Source").map(|s| s.max(0));
    inst.seconds_behind_master = NullInt64::from(lag);
    inst.replication_lag_seconds = inst.seconds_behind_master;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pairs: &[(&str, &str)]) -> TextRow {
        TextRow { columns: pairs.iter().map(|(k, v)| (k.to_string(), Some(v.to_string()))).collect() }
    }

    fn vars_row(values: &[&str]) -> TextRow {
        TextRow { columns: values.iter().enumerate().map(|(i, v)| (format!("c{i}"), Some(v.to_string()))).collect() }
    }

    #[test]
    fn parses_a_mysql_9_replica() {
        let d = Dialect::detect("9.7.4", "(Debian)");
        let given = InstanceKey::new("127.0.0.1", 3307);
        let sets = vec![
            vec![vars_row(&[
                "box", "127.0.0.1", "2", "9.7.4", "(Debian)", "1", "ROW", "1", "1", "FULL", "1",
                "uuid-2", "ON", "uuid-1:1-5,\nuuid-2:1", "", "", "", "",
            ])],
            vec![row(&[("Variable_name", "Uptime"), ("Value", "42")])],
            vec![],
            vec![row(&[("File", "binlog.000002"), ("Position", "1234")])],
            vec![row(&[
                ("Source_Host", "127.0.0.1"),
                ("Source_Port", "3306"),
                ("Source_User", "repl"),
                ("Replica_IO_Running", "Yes"),
                ("Replica_SQL_Running", "No"),
                ("Source_Log_File", "binlog.000003"),
                ("Read_Source_Log_Pos", "999"),
                ("Relay_Source_Log_File", "binlog.000003"),
                ("Exec_Source_Log_Pos", "900"),
                ("Relay_Log_File", "relay.000002"),
                ("Relay_Log_Pos", "77"),
                ("Last_SQL_Errno", "1062"),
                ("Last_SQL_Error", "Duplicate entry"),
                ("Seconds_Behind_Source", "-3"),
                ("Auto_Position", "1"),
                ("Source_UUID", "uuid-1"),
                ("SQL_Delay", "0"),
                ("Source_SSL_Allowed", "No"),
            ])],
            vec![row(&[("Server_Id", "3"), ("Host", "127.0.0.1"), ("Port", "3308")])],
            vec![],
        ];
        let settings = ProbeSettings { hostname_method: HostnameMethod::ReportHost, default_port: 3306, ..Default::default() };
        let r = parse_probe(&given, &d, &settings, &sets).unwrap();
        let i = &r.instance;
        assert_eq!(i.key, given);
        assert_eq!(i.server_id, 2);
        assert!(i.read_only && i.super_read_only && i.log_bin_enabled && i.log_replication_updates_enabled);
        assert_eq!(i.executed_gtid_set, "uuid-1:1-5,uuid-2:1");
        assert!(i.supports_oracle_gtid && i.using_oracle_gtid && !i.using_mariadb_gtid);
        assert_eq!(i.master_key, InstanceKey::new("127.0.0.1", 3306));
        assert_eq!(i.replication_sql_thread_state, ThreadState::Stopped);
        assert!(i.replication_io_thread_running && !i.replication_sql_thread_running);
        assert_eq!(i.exec_binlog_coordinates, BinlogCoordinates::binlog("binlog.000003", 900));
        assert_eq!(i.self_binlog_coordinates, BinlogCoordinates::binlog("binlog.000002", 1234));
        assert_eq!(i.last_sql_errno, 1062);
        assert_eq!(i.seconds_behind_master, NullInt64::some(0));
        assert_eq!(i.uptime, 42);
        assert_eq!(r.reported_replicas, vec![InstanceKey::new("127.0.0.1", 3308)]);
    }

    #[test]
    fn mariadb_gtid_detached_source_and_processlist_fallback() {
        let d = Dialect::detect("10.11.6-MariaDB", "");
        let given = InstanceKey::new("db2", 3306);
        let sets = vec![
            vec![vars_row(&[
                "db2.example", "", "2", "10.11.6-MariaDB", "Debian", "0", "ROW", "1", "0", "FULL", "0", "", "", "", "",
                "0-1-10", "0-1-10", "0-1-10",
            ])],
            vec![],
            vec![
                row(&[("Variable_name", "rpl_semi_sync_master_enabled"), ("Value", "ON")]),
                row(&[("Variable_name", "rpl_semi_sync_slave_enabled"), ("Value", "OFF")]),
            ],
            vec![],
            vec![row(&[
                ("Master_Host", "//db1"),
                ("Master_Port", "3306"),
                ("Slave_IO_Running", "Connecting"),
                ("Slave_SQL_Running", "Yes"),
                ("Seconds_Behind_Master", ""),
                ("Using_Gtid", "Slave_Pos"),
            ])],
            vec![],
            vec![row(&[("HOST", "10.0.0.9:51234")])],
        ];
        let settings = ProbeSettings { hostname_method: HostnameMethod::Hostname, default_port: 3306, ..Default::default() };
        let r = parse_probe(&given, &d, &settings, &sets).unwrap();
        let i = &r.instance;
        assert_eq!(i.key, InstanceKey::new("db2.example", 3306));
        assert_eq!(i.unresolved_hostname, "db2");
        assert!(i.is_detached_master);
        assert_eq!(i.master_key, InstanceKey::new("db1", 3306));
        assert_eq!(i.replication_io_thread_state, ThreadState::Other);
        assert!(i.using_mariadb_gtid && !i.supports_oracle_gtid);
        assert!(!i.seconds_behind_master.valid);
        assert!(i.semi_sync_available && i.semi_sync_master_enabled && !i.semi_sync_replica_enabled);
        assert_eq!(i.gtid_slave_pos, "0-1-10");
        assert_eq!(r.reported_replicas, vec![InstanceKey::new("10.0.0.9", 3306)]);
    }
}
