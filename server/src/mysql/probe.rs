//! The probe: what discovery reads from one server, in as few round trips as possible.
//!
//! A probe is one multi-statement round trip: variables, semi-sync settings, status, own binlog
//! position, replica status, listed replicas, and after them the optional site queries the
//! operator configured (data center, region, alias, lag...), which may fail without failing the
//! probe. Two things are learned once per connection instead of on every probe, because reading
//! them is the most expensive part: the dialect, and which semi-sync variables exist (reading an
//! absent one is an error; the status each probe reads shows when plugins come or go, and a
//! refused statement triggers a second look). The processlist is read only when the replica list
//! cannot name the replicas. Parsing is pure (`parse_probe`) and unit-tested on captured answers.

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

impl SiteQueries {
    /// The configured queries, each with what its answer sets.
    fn wanted(&self) -> Vec<(SiteField, String)> {
        [
            (SiteField::DataCenter, &self.data_center),
            (SiteField::Region, &self.region),
            (SiteField::PhysicalEnvironment, &self.physical_environment),
            (SiteField::InstanceAlias, &self.instance_alias),
            (SiteField::ClusterAlias, &self.cluster_alias),
            (SiteField::PromotionRule, &self.promotion_rule),
            (SiteField::ReplicationLag, &self.replication_lag),
        ]
        .into_iter()
        .map(|(field, q)| (field, q.trim().trim_end_matches(';').trim().to_string()))
        .filter(|(_, q)| !q.is_empty())
        .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SiteField {
    DataCenter,
    Region,
    PhysicalEnvironment,
    InstanceAlias,
    ClusterAlias,
    PromotionRule,
    ReplicationLag,
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

/// The answers a probe parses, statement by statement.
#[derive(Clone, Debug, Default)]
pub struct ProbeAnswers {
    /// One row: `Dialect::variables_query`'s columns, by position.
    pub variables: Vec<TextRow>,
    /// One row of semi-sync settings named after their variables; empty without semi-sync.
    pub semi_sync: Vec<TextRow>,
    /// `Variable_name`/`Value` rows of `Dialect::status_query`.
    pub status: Vec<TextRow>,
    pub binlog_status: Vec<TextRow>,
    pub replica_status: Vec<TextRow>,
    pub replica_hosts: Vec<TextRow>,
    /// Binlog dump threads (`HOST` column); read only when `needs_dump_clients`.
    pub dump_clients: Vec<TextRow>,
}

/// Which answer a statement of the batch fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    Variables,
    SemiSync,
    Status,
    BinlogStatus,
    ReplicaStatus,
    ReplicaHosts,
}

/// The statements of one probe, in order, for a server with the semi-sync variables `semi_sync`.
fn probe_statements(d: &Dialect, semi_sync: &[String]) -> Vec<(Answer, String)> {
    let present: Vec<&str> = semi_sync.iter().map(String::as_str).collect();
    let mut out = vec![(Answer::Variables, d.variables_query())];
    if let Some(q) = d.semi_sync_settings_query(&present) {
        out.push((Answer::SemiSync, q));
    }
    out.extend([
        (Answer::Status, d.status_query().to_string()),
        (Answer::BinlogStatus, d.show_binlog_status().to_string()),
        (Answer::ReplicaStatus, d.show_replica_status().to_string()),
        (Answer::ReplicaHosts, d.show_replica_hosts().to_string()),
    ]);
    out
}

/// The probe's statements for a server of dialect `d` with every semi-sync variable of its
/// generation present (for documentation and tests).
pub fn probe_batch(d: &Dialect) -> Vec<String> {
    let all: Vec<String> = super::dialect::SEMI_SYNC_SETTINGS.iter().map(|s| s.to_string()).collect();
    probe_statements(d, &all).into_iter().map(|(_, sql)| sql).collect()
}

impl ProbeAnswers {
    fn fill(parts: &[(Answer, String)], sets: Vec<Vec<TextRow>>) -> ProbeAnswers {
        let mut a = ProbeAnswers::default();
        for ((part, _), rows) in parts.iter().zip(sets) {
            let slot = match part {
                Answer::Variables => &mut a.variables,
                Answer::SemiSync => &mut a.semi_sync,
                Answer::Status => &mut a.status,
                Answer::BinlogStatus => &mut a.binlog_status,
                Answer::ReplicaStatus => &mut a.replica_status,
                Answer::ReplicaHosts => &mut a.replica_hosts,
            };
            *slot = rows;
        }
        a
    }
}

/// Replicas without `report_host` are listed with an empty host (Oracle MySQL) or not at all
/// (MariaDB, whose `Slaves_connected` still counts them). Only then is the processlist, which
/// costs as much as the rest of the probe, worth reading; like orchestrator, its hosts are used
/// when the list names nobody.
pub fn needs_dump_clients(a: &ProbeAnswers) -> bool {
    if !listed_replicas(&a.replica_hosts).is_empty() {
        return false;
    }
    let connected = lookup(&name_values(&a.status), &["Slaves_connected"]).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    !a.replica_hosts.is_empty() || connected > 0
}

/// A connection with what was learned about its server, kept open between probes.
pub struct ProbeConn {
    pub conn: TextConn,
    pub dialect: Dialect,
    /// The semi-sync variables the server has (lower case), from `Dialect::semi_sync_variables`.
    semi_sync: Vec<String>,
}

impl ProbeConn {
    /// Wraps a fresh connection: detects the dialect and the semi-sync variables (one round
    /// trip, once per connection).
    pub async fn new(mut conn: TextConn) -> Result<ProbeConn, MySqlError> {
        let (dialect, semi_sync) = detect(&mut conn).await?;
        Ok(ProbeConn { conn, dialect, semi_sync })
    }

    /// Probes the server reached as `given`.
    pub async fn probe(&mut self, given: &InstanceKey, settings: &ProbeSettings) -> Result<ProbeResult, MySqlError> {
        let site = settings.site.wanted();
        let mut count = Count::default();
        let (mut answers, mut site_answers) = match self.run_batch(&site, &mut count).await {
            // A statement of ours refused: a semi-sync plugin may have been unloaded since this
            // connection looked. Look again and retry once.
            Err(e) if !e.is_unreachable() && !self.semi_sync.is_empty() => {
                self.redetect(&mut count).await?;
                self.run_batch(&site, &mut count).await?
            }
            other => other?,
        };
        if semi_sync_plugins_changed(&self.semi_sync, &answers.status) {
            self.redetect(&mut count).await?;
            (answers, site_answers) = self.run_batch(&site, &mut count).await?;
        }
        if needs_dump_clients(&answers) {
            count.batch(1);
            answers.dump_clients = self.conn.query(self.dialect.binlog_dump_clients()).await?;
        }
        let mut result = parse_probe(given, &self.dialect, settings, &answers).map_err(|reason| MySqlError::Protocol {
            target: self.conn.target().to_string(),
            reason,
        })?;
        // Site queries the batch did not reach (the server stops a batch at its first error) run
        // one by one, so one failing query does not hide the others.
        for (_, sql) in site.iter().skip(site_answers.len()) {
            count.batch(1);
            let answer = match self.conn.query(sql).await {
                Ok(rows) => first_value(&rows),
                Err(e) if e.is_unreachable() => return Err(e),
                Err(_) => None,
            };
            site_answers.push(answer);
        }
        apply_site_answers(&mut result, &site, site_answers);
        result.statements = count.statements;
        result.round_trips = count.round_trips;
        Ok(result)
    }

    /// Sends the probe's statements and then the site queries in one round trip. Returns the
    /// answers and the site answers up to and including the first site query the server
    /// refused (as `None`).
    async fn run_batch(
        &mut self,
        site: &[(SiteField, String)],
        count: &mut Count,
    ) -> Result<(ProbeAnswers, Vec<Option<String>>), MySqlError> {
        let parts = probe_statements(&self.dialect, &self.semi_sync);
        let sql: Vec<&str> = parts.iter().map(|(_, q)| q.as_str()).chain(site.iter().map(|(_, q)| q.as_str())).collect();
        count.batch(sql.len() as u32);
        let (mut sets, refused) = self.conn.query_sets_partial(&sql.join(";\n")).await?;
        if sets.len() < parts.len() {
            return Err(refused.unwrap_or_else(|| MySqlError::Protocol {
                target: self.conn.target().to_string(),
                reason: format!("expected {} result sets, got {}", parts.len(), sets.len()),
            }));
        }
        let site_sets = sets.split_off(parts.len());
        let mut site_answers: Vec<Option<String>> = site_sets.iter().take(site.len()).map(|rows| first_value(rows)).collect();
        if refused.is_some() && site_answers.len() < site.len() {
            // The site query after the last answer was refused; the ones after it never ran.
            site_answers.push(None);
        } else if site_sets.len() != site.len() {
            // A site query with more than one result set (a CALL) would shift the others: trust
            // none of them and ask one by one.
            site_answers.clear();
        }
        Ok((ProbeAnswers::fill(&parts, sets), site_answers))
    }

    async fn redetect(&mut self, count: &mut Count) -> Result<(), MySqlError> {
        count.batch(2);
        let (dialect, semi_sync) = detect(&mut self.conn).await?;
        self.dialect = dialect;
        self.semi_sync = semi_sync;
        Ok(())
    }
}

/// Statements and round trips of one probe.
#[derive(Default)]
struct Count {
    statements: u32,
    round_trips: u32,
}

impl Count {
    /// One more round trip carrying `statements` statements.
    fn batch(&mut self, statements: u32) {
        self.statements += statements;
        self.round_trips += 1;
    }
}

/// The dialect and the semi-sync variables of a server.
async fn detect(conn: &mut TextConn) -> Result<(Dialect, Vec<String>), MySqlError> {
    let sql = format!("SELECT @@global.version, @@global.version_comment;\n{}", Dialect::semi_sync_variables());
    let sets = conn.query_sets(&sql).await?;
    let row = sets.first().and_then(|rows| rows.first()).ok_or_else(|| MySqlError::Protocol {
        target: conn.target().to_string(),
        reason: "no answer to SELECT @@version".into(),
    })?;
    let dialect = Dialect::detect(row.at(0).unwrap_or(""), row.at(1).unwrap_or(""));
    let semi_sync = sets.get(1).map(|rows| name_values(rows).into_iter().map(|(name, _)| name).collect()).unwrap_or_default();
    Ok((dialect, semi_sync))
}

/// A semi-sync plugin was loaded or unloaded since `known` (the variables) was read: its status
/// variables appear or disappear with it.
fn semi_sync_plugins_changed(known: &[String], status: &[TextRow]) -> bool {
    let status = name_values(status);
    let has_var = |names: &[&str]| names.iter().any(|n| known.iter().any(|k| k == n));
    let has_status = |names: &[&str]| lookup(&status, names).is_some();
    has_var(&["rpl_semi_sync_master_enabled", "rpl_semi_sync_source_enabled"])
        != has_status(&["Rpl_semi_sync_master_status", "Rpl_semi_sync_source_status"])
        || has_var(&["rpl_semi_sync_slave_enabled", "rpl_semi_sync_replica_enabled"])
            != has_status(&["Rpl_semi_sync_slave_status", "Rpl_semi_sync_replica_status"])
}

fn apply_site_answers(result: &mut ProbeResult, site: &[(SiteField, String)], answers: Vec<Option<String>>) {
    let inst = &mut result.instance;
    for ((field, _), value) in site.iter().zip(answers) {
        let Some(value) = value else { continue };
        match field {
            SiteField::DataCenter => inst.data_center = value,
            SiteField::Region => inst.region = value,
            SiteField::PhysicalEnvironment => inst.physical_environment = value,
            SiteField::InstanceAlias => inst.instance_alias = value,
            SiteField::ClusterAlias => result.detected_cluster_alias = value,
            SiteField::PromotionRule => result.detected_promotion_rule = value,
            SiteField::ReplicationLag => {
                if let Ok(n) = value.trim().parse::<f64>() {
                    inst.replication_lag_seconds = NullInt64::some(n.max(0.0) as i64);
                }
            }
        }
    }
}

fn first_value(rows: &[TextRow]) -> Option<String> {
    rows.first().and_then(|r| r.at(0)).map(str::to_string)
}

/// `Host`/`Port` of SHOW REPLICAS rows that name their replica.
fn listed_replicas(rows: &[TextRow]) -> Vec<InstanceKey> {
    rows.iter()
        .filter_map(|row| {
            let host = row.text(&["Host"]);
            let port = row.number(&["Port"]).unwrap_or(0);
            (!host.is_empty() && port > 0 && port <= u16::MAX as i64).then(|| InstanceKey::new(host, port as u16))
        })
        .collect()
}

/// Turns the probe's answers into an instance. Pure.
pub fn parse_probe(
    given: &InstanceKey,
    d: &Dialect,
    settings: &ProbeSettings,
    answers: &ProbeAnswers,
) -> Result<ProbeResult, String> {
    let vars = answers.variables.first().ok_or("no row for the variables query")?;
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

    let status = name_values(&answers.status);
    let semi_sync: Vec<(String, String)> = answers
        .semi_sync
        .first()
        .map(|row| {
            row.columns.iter().map(|(name, value)| (name.to_ascii_lowercase(), value.clone().unwrap_or_default())).collect()
        })
        .unwrap_or_default();
    inst.uptime = lookup(&status, &["Uptime"]).and_then(|u| u.parse().ok()).unwrap_or(0);
    parse_semi_sync(&mut inst, &semi_sync, &status);

    if let Some(row) = answers.binlog_status.first() {
        inst.self_binlog_coordinates =
            BinlogCoordinates::binlog(row.text(&["File"]), row.number(&["Position"]).unwrap_or(0).max(0) as u64);
    }
    if let Some(row) = answers.replica_status.last() {
        parse_replica_status(&mut inst, row, settings.default_port);
    }
    let mut reported = listed_replicas(&answers.replica_hosts);
    // Replicas that do not set report_host are only visible as binlog dump threads; like
    // orchestrator, assume they listen on this server's port.
    if reported.is_empty() {
        for row in &answers.dump_clients {
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
        let answers = ProbeAnswers {
            variables: vec![vars_row(&[
                "box", "127.0.0.1", "2", "9.7.4", "(Debian)", "1", "ROW", "1", "1", "FULL", "1",
                "uuid-2", "ON", "uuid-1:1-5,\nuuid-2:1", "", "", "", "",
            ])],
            semi_sync: vec![row(&[("rpl_semi_sync_source_enabled", "1"), ("rpl_semi_sync_source_timeout", "10000")])],
            status: vec![
                row(&[("Variable_name", "Uptime"), ("Value", "42")]),
                row(&[("Variable_name", "Rpl_semi_sync_source_status"), ("Value", "ON")]),
                row(&[("Variable_name", "Rpl_semi_sync_source_clients"), ("Value", "2")]),
            ],
            binlog_status: vec![row(&[("File", "binlog.000002"), ("Position", "1234")])],
            replica_status: vec![row(&[
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
            replica_hosts: vec![row(&[("Server_Id", "3"), ("Host", "127.0.0.1"), ("Port", "3308")])],
            dump_clients: vec![],
        };
        assert!(!needs_dump_clients(&answers));
        let settings = ProbeSettings { hostname_method: HostnameMethod::ReportHost, default_port: 3306, ..Default::default() };
        let r = parse_probe(&given, &d, &settings, &answers).unwrap();
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
        // Only the source plugin is loaded: enabled, but semi-sync is not "available".
        assert!(i.semi_sync_master_enabled && i.semi_sync_master_status && !i.semi_sync_available);
        assert_eq!((i.semi_sync_master_timeout, i.semi_sync_master_clients), (10000, 2));
        assert_eq!(r.reported_replicas, vec![InstanceKey::new("127.0.0.1", 3308)]);
    }

    #[test]
    fn mariadb_gtid_detached_source_and_processlist_fallback() {
        let d = Dialect::detect("10.11.6-MariaDB", "");
        let given = InstanceKey::new("db2", 3306);
        let mut answers = ProbeAnswers {
            variables: vec![vars_row(&[
                "db2.example", "", "2", "10.11.6-MariaDB", "Debian", "0", "ROW", "1", "0", "FULL", "0", "", "", "", "",
                "0-1-10", "0-1-10", "0-1-10",
            ])],
            semi_sync: vec![row(&[("rpl_semi_sync_master_enabled", "1"), ("rpl_semi_sync_slave_enabled", "0")])],
            status: vec![row(&[("Variable_name", "Slaves_connected"), ("Value", "1")])],
            replica_status: vec![row(&[
                ("Master_Host", "//db1"),
                ("Master_Port", "3306"),
                ("Slave_IO_Running", "Connecting"),
                ("Slave_SQL_Running", "Yes"),
                ("Seconds_Behind_Master", ""),
                ("Using_Gtid", "Slave_Pos"),
            ])],
            ..Default::default()
        };
        // A connected replica that SHOW SLAVE HOSTS does not list: read the processlist.
        assert!(needs_dump_clients(&answers));
        answers.dump_clients = vec![row(&[("HOST", "10.0.0.9:51234")])];
        let settings = ProbeSettings { hostname_method: HostnameMethod::Hostname, default_port: 3306, ..Default::default() };
        let r = parse_probe(&given, &d, &settings, &answers).unwrap();
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

    #[test]
    fn the_processlist_is_read_only_when_the_replica_list_names_nobody() {
        let status = |connected: &str| vec![row(&[("Variable_name", "Slaves_connected"), ("Value", connected)])];
        let listed = |host: &str| vec![row(&[("Server_Id", "3"), ("Host", host), ("Port", "3308")])];
        let mut a = ProbeAnswers::default();
        assert!(!needs_dump_clients(&a), "Oracle MySQL without replicas");
        a.replica_hosts = listed("");
        assert!(needs_dump_clients(&a), "Oracle MySQL: a replica without report_host");
        a.replica_hosts = listed("db3");
        a.status = status("2");
        assert!(!needs_dump_clients(&a), "some replicas are named: like orchestrator, use those");
        a.replica_hosts.clear();
        assert!(needs_dump_clients(&a), "MariaDB: connected but not listed");
        a.status = status("0");
        assert!(!needs_dump_clients(&a), "MariaDB without replicas");
    }

    #[test]
    fn semi_sync_plugin_changes_show_in_the_status() {
        let status = |names: &[&str]| names.iter().map(|n| row(&[("Variable_name", n), ("Value", "OFF")])).collect::<Vec<_>>();
        let none: Vec<String> = Vec::new();
        let source = vec!["rpl_semi_sync_source_enabled".to_string(), "rpl_semi_sync_source_timeout".to_string()];
        assert!(!semi_sync_plugins_changed(&none, &status(&["Uptime"])));
        assert!(semi_sync_plugins_changed(&none, &status(&["Rpl_semi_sync_source_status"])), "installed");
        assert!(!semi_sync_plugins_changed(&source, &status(&["Rpl_semi_sync_source_status", "Rpl_semi_sync_source_clients"])));
        assert!(semi_sync_plugins_changed(&source, &status(&["Uptime"])), "uninstalled");
        assert!(semi_sync_plugins_changed(&source, &status(&["Rpl_semi_sync_source_status", "Rpl_semi_sync_replica_status"])));
    }

    #[test]
    fn the_batch_follows_the_dialect() {
        let statements = probe_batch(&Dialect::detect("9.7.4", ""));
        assert!(statements.contains(&"SHOW BINARY LOG STATUS".to_string()) && statements.contains(&"SHOW REPLICAS".to_string()));
        assert!(statements.iter().all(|s| !s.contains("PROCESSLIST") && !s.starts_with("SHOW GLOBAL VARIABLES")));
        let answers = ProbeAnswers::fill(
            &probe_statements(&Dialect::detect("10.11.6-MariaDB", ""), &[]),
            vec![vec![vars_row(&["a"])], vec![], vec![row(&[("File", "f")])], vec![], vec![]],
        );
        assert_eq!(answers.binlog_status.len(), 1, "without semi-sync variables the status is the second answer");
    }
}
