//! Every statement whose text depends on the server's flavor or version is produced here, and
//! nowhere else. Pure: no IO, so each rule is unit-tested against the version boundaries.
//!
//! The boundaries that matter:
//! - Oracle MySQL 8.0.22 renamed `SHOW SLAVE STATUS`/`START SLAVE`/`SHOW SLAVE HOSTS` to the
//!   REPLICA forms (and its status columns from `Master_*`/`Slave_*` to `Source_*`/`Replica_*`);
//!   8.0.23 added `CHANGE REPLICATION SOURCE TO`; 8.0.26 renamed `log_slave_updates` and the
//!   semi-sync plugins; 8.2 added `SHOW BINARY LOG STATUS`; 8.4 removed every old form.
//! - MariaDB keeps `CHANGE MASTER TO` and the `Slave_*` columns in every version; it has its own
//!   GTID (`MASTER_USE_GTID`, `gtid_slave_pos`) and never had `Auto_Position`.
//! - Percona Server speaks the Oracle MySQL dialect of its version.

use std::fmt;

/// Which family a server belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    MySql,
    Percona,
    MariaDb,
}

impl Flavor {
    /// orchestrator's `FlavorName`.
    pub fn name(self) -> &'static str {
        match self {
            Flavor::MySql => "MySQL",
            Flavor::Percona => "Percona",
            Flavor::MariaDb => "MariaDB",
        }
    }
}

/// A server version, compared numerically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    /// Parses the leading `major.minor.patch` of `@@version` (`8.0.36-28`, `10.11.6-MariaDB-log`).
    pub fn parse(text: &str) -> Version {
        let mut nums = text.split(|c: char| !c.is_ascii_digit()).map(|p| p.parse::<u32>().unwrap_or(0));
        Version(nums.next().unwrap_or(0), nums.next().unwrap_or(0), nums.next().unwrap_or(0))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// The SQL dialect of one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dialect {
    pub flavor: Flavor,
    pub version: Version,
}

/// What a CHANGE MASTER / CHANGE REPLICATION SOURCE statement should set. Fields left `None`
/// are not mentioned, so the server keeps its current value (credentials, TLS options, ...).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChangeSource {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub password: Option<String>,
    /// Binlog file and position to start from (file:pos replication).
    pub log_file: Option<String>,
    pub log_pos: Option<u64>,
    /// Use GTID: Oracle auto-position, or MariaDB `MASTER_USE_GTID`.
    pub gtid: Option<GtidMode>,
    pub connect_retry: Option<u32>,
    pub heartbeat_period: Option<f64>,
    pub ssl: Option<bool>,
    /// MySQL 8+: fetch the source's RSA key for caching_sha2_password without TLS.
    pub get_public_key: Option<bool>,
    pub delay: Option<u32>,
    /// Oracle `SOURCE_RETRY_COUNT`: reconnection attempts before the IO thread gives up (8.0.27+
    /// defaults to 10, which stops a replica for good after a ~10 s outage of its source).
    /// MariaDB has no such option in CHANGE MASTER (its `master_retry_count` is a server option).
    pub retry_count: Option<u64>,
}

/// How a replica should position itself on its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GtidMode {
    /// Oracle `SOURCE_AUTO_POSITION=1` / MariaDB `MASTER_USE_GTID=slave_pos`.
    On,
    /// MariaDB `MASTER_USE_GTID=current_pos` (a former primary joining as a replica).
    MariaDbCurrentPos,
    /// Leave GTID: Oracle `SOURCE_AUTO_POSITION=0` / MariaDB `MASTER_USE_GTID=no`.
    Off,
}

/// Quote a string literal for a statement that cannot be prepared (CHANGE MASTER cannot, on
/// MariaDB: MDEV-7640). Backslashes and quotes are escaped; NUL is refused by the callers'
/// validation of host names, and passwords come from configuration.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

impl Dialect {
    /// Detects the dialect from `@@version` and `@@version_comment`.
    pub fn detect(version: &str, version_comment: &str) -> Dialect {
        let flavor = if version.contains("MariaDB") {
            Flavor::MariaDb
        } else if version_comment.contains("Percona") || version.contains("Percona") {
            Flavor::Percona
        } else {
            Flavor::MySql
        };
        Dialect { flavor, version: Version::parse(version) }
    }

    pub fn is_mariadb(&self) -> bool {
        self.flavor == Flavor::MariaDb
    }

    fn oracle_at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        !self.is_mariadb() && self.version >= Version(major, minor, patch)
    }

    /// Oracle 8.0.22+: SHOW REPLICA STATUS, START/STOP REPLICA, SHOW REPLICAS, new column names.
    pub fn replica_keywords(&self) -> bool {
        self.oracle_at_least(8, 0, 22)
    }

    /// Oracle GTID exists at all (5.6+); MariaDB has its own.
    pub fn has_oracle_gtid(&self) -> bool {
        self.oracle_at_least(5, 6, 0)
    }

    pub fn show_replica_status(&self) -> &'static str {
        if self.replica_keywords() {
            "SHOW REPLICA STATUS"
        } else {
            "SHOW SLAVE STATUS"
        }
    }

    pub fn show_binlog_status(&self) -> &'static str {
        if self.oracle_at_least(8, 2, 0) {
            "SHOW BINARY LOG STATUS"
        } else {
            "SHOW MASTER STATUS"
        }
    }

    pub fn show_replica_hosts(&self) -> &'static str {
        if self.replica_keywords() {
            "SHOW REPLICAS"
        } else {
            "SHOW SLAVE HOSTS"
        }
    }

    pub fn start_replica(&self) -> &'static str {
        if self.replica_keywords() {
            "START REPLICA"
        } else {
            "START SLAVE"
        }
    }

    pub fn stop_replica(&self) -> &'static str {
        if self.replica_keywords() {
            "STOP REPLICA"
        } else {
            "STOP SLAVE"
        }
    }

    /// Start replicating until the SQL thread has executed up to `file:pos` of the source's
    /// binary log, then stop it there (the IO thread keeps running).
    pub fn start_replica_until(&self, file: &str, pos: u64) -> String {
        if self.replica_keywords() {
            format!("START REPLICA UNTIL SOURCE_LOG_FILE={}, SOURCE_LOG_POS={pos}", quote(file))
        } else {
            format!("START SLAVE UNTIL MASTER_LOG_FILE={}, MASTER_LOG_POS={pos}", quote(file))
        }
    }

    pub fn start_replica_io_thread(&self) -> &'static str {
        if self.replica_keywords() {
            "START REPLICA IO_THREAD"
        } else {
            "START SLAVE IO_THREAD"
        }
    }

    pub fn stop_replica_io_thread(&self) -> &'static str {
        if self.replica_keywords() {
            "STOP REPLICA IO_THREAD"
        } else {
            "STOP SLAVE IO_THREAD"
        }
    }

    pub fn start_replica_sql_thread(&self) -> &'static str {
        if self.replica_keywords() {
            "START REPLICA SQL_THREAD"
        } else {
            "START SLAVE SQL_THREAD"
        }
    }

    pub fn stop_replica_sql_thread(&self) -> &'static str {
        if self.replica_keywords() {
            "STOP REPLICA SQL_THREAD"
        } else {
            "STOP SLAVE SQL_THREAD"
        }
    }

    pub fn reset_replica_all(&self) -> &'static str {
        if self.replica_keywords() {
            "RESET REPLICA ALL"
        } else {
            "RESET SLAVE ALL"
        }
    }

    /// Skip the next event group the SQL thread would apply (binlog-coordinates replication).
    pub fn skip_one_event_group(&self) -> &'static str {
        if self.oracle_at_least(8, 0, 26) {
            "SET GLOBAL sql_replica_skip_counter = 1"
        } else {
            "SET GLOBAL sql_slave_skip_counter = 1"
        }
    }

    /// Commit an empty transaction under `gtid` (Oracle GTID), so a replica treats that
    /// transaction as applied.
    pub fn inject_empty_transaction(&self, gtid: &str) -> Vec<String> {
        vec![format!("SET GTID_NEXT = {}", quote(gtid)), "BEGIN".into(), "COMMIT".into(), "SET GTID_NEXT = 'AUTOMATIC'".into()]
    }

    /// A replica's heartbeat period, in seconds, as its first column (Oracle: the channel's
    /// stored settings; MariaDB: a status variable). Needed because changing the source's host
    /// resets the period to its default on both flavors.
    pub fn heartbeat_period_query(&self) -> &'static str {
        if self.is_mariadb() {
            "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'SLAVE_HEARTBEAT_PERIOD'"
        } else {
            "SELECT Heartbeat FROM mysql.slave_master_info WHERE Channel_name = ''"
        }
    }

    /// The server's binary logs, oldest first.
    pub fn show_binary_logs(&self) -> &'static str {
        "SHOW BINARY LOGS"
    }

    /// MariaDB: the GTID position at the start of binary log `file` (what a replica must have
    /// applied before the server can still serve it). `None` elsewhere.
    pub fn binlog_gtid_pos_sql(&self, file: &str) -> Option<String> {
        self.is_mariadb().then(|| format!("SELECT BINLOG_GTID_POS({}, 4)", quote(file)))
    }

    /// What a replica has applied, as a GTID set (MariaDB: its replication position).
    pub fn applied_gtids_query(&self) -> &'static str {
        if self.is_mariadb() {
            "SELECT @@GLOBAL.gtid_slave_pos"
        } else {
            "SELECT @@GLOBAL.gtid_executed"
        }
    }

    /// Oracle GTID: transactions no longer in the server's binary logs.
    pub fn gtid_purged_query(&self) -> &'static str {
        "SELECT @@GLOBAL.gtid_purged"
    }

    /// Where the server keeps its own channel's replication user and password, when it reveals
    /// them (Oracle MySQL with master_info_repository=TABLE); MariaDB never does.
    pub fn stored_replication_credentials_query(&self) -> Option<&'static str> {
        (!self.is_mariadb()).then_some("SELECT User_name, User_password FROM mysql.slave_master_info WHERE Channel_name = ''")
    }

    /// The variable that says whether a replica writes what it applies to its own binlog.
    pub fn log_replica_updates_variable(&self) -> &'static str {
        if self.oracle_at_least(8, 0, 26) {
            "log_replica_updates"
        } else {
            "log_slave_updates"
        }
    }

    /// CHANGE MASTER TO / CHANGE REPLICATION SOURCE TO with only the given options.
    pub fn change_source(&self, c: &ChangeSource) -> String {
        let new = self.oracle_at_least(8, 0, 23);
        let (stmt, p) = if new { ("CHANGE REPLICATION SOURCE TO", "SOURCE") } else { ("CHANGE MASTER TO", "MASTER") };
        let mut opts: Vec<String> = Vec::new();
        if let Some(h) = &c.host {
            opts.push(format!("{p}_HOST={}", quote(h)));
        }
        if let Some(port) = c.port {
            opts.push(format!("{p}_PORT={port}"));
        }
        if let Some(u) = &c.user {
            opts.push(format!("{p}_USER={}", quote(u)));
        }
        if let Some(pw) = &c.password {
            opts.push(format!("{p}_PASSWORD={}", quote(pw)));
        }
        match (c.gtid, self.is_mariadb()) {
            (Some(GtidMode::On), true) => opts.push("MASTER_USE_GTID=slave_pos".into()),
            (Some(GtidMode::MariaDbCurrentPos), true) => opts.push("MASTER_USE_GTID=current_pos".into()),
            (Some(GtidMode::Off), true) => opts.push("MASTER_USE_GTID=no".into()),
            (Some(GtidMode::On | GtidMode::MariaDbCurrentPos), false) => opts.push(format!("{p}_AUTO_POSITION=1")),
            (Some(GtidMode::Off), false) => opts.push(format!("{p}_AUTO_POSITION=0")),
            (None, _) => {}
        }
        if let Some(f) = &c.log_file {
            opts.push(format!("{p}_LOG_FILE={}", quote(f)));
        }
        if let Some(pos) = c.log_pos {
            opts.push(format!("{p}_LOG_POS={pos}"));
        }
        if let Some(r) = c.connect_retry {
            opts.push(format!("{p}_CONNECT_RETRY={r}"));
        }
        if let Some(h) = c.heartbeat_period {
            opts.push(format!("{p}_HEARTBEAT_PERIOD={h}"));
        }
        if let Some(ssl) = c.ssl {
            opts.push(format!("{p}_SSL={}", ssl as u8));
        }
        if let Some(k) = c.get_public_key {
            // Oracle MySQL 8.0+ only; MariaDB has no caching_sha2_password.
            if self.oracle_at_least(8, 0, 0) {
                opts.push(format!("GET_{p}_PUBLIC_KEY={}", k as u8));
            }
        }
        if let Some(d) = c.delay {
            opts.push(format!("{p}_DELAY={d}"));
        }
        if let Some(n) = c.retry_count {
            if !self.is_mariadb() {
                opts.push(format!("{p}_RETRY_COUNT={n}"));
            }
        }
        format!("{stmt} {}", opts.join(", "))
    }

    /// The statements that read a server's configuration in one round trip (see `probe`).
    pub fn variables_query(&self) -> String {
        let lru = self.log_replica_updates_variable();
        let mut cols = vec![
            "@@global.hostname".to_string(),
            "@@global.report_host".into(),
            "@@global.server_id".into(),
            "@@global.version".into(),
            "@@global.version_comment".into(),
            "@@global.read_only".into(),
            "@@global.binlog_format".into(),
            "@@global.log_bin".into(),
            format!("@@global.{lru}"),
            "@@global.binlog_row_image".into(),
        ];
        if self.is_mariadb() {
            cols.extend([
                "0".to_string(),
                "''".into(),
                "''".into(),
                "''".into(),
                "''".into(),
                "@@global.gtid_current_pos".into(),
                "@@global.gtid_binlog_pos".into(),
                "@@global.gtid_slave_pos".into(),
            ]);
        } else if self.has_oracle_gtid() {
            cols.extend([
                "@@global.super_read_only".to_string(),
                "@@global.server_uuid".into(),
                "@@global.gtid_mode".into(),
                "@@global.gtid_executed".into(),
                "@@global.gtid_purged".into(),
                "''".into(),
                "''".into(),
                "''".into(),
            ]);
        } else {
            cols.extend(["0".to_string(), "''".into(), "''".into(), "''".into(), "''".into(), "''".into(), "''".into(), "''".into()]);
        }
        format!("SELECT {}", cols.join(", "))
    }

    /// Which semi-sync variables exist (their plugins may come and go on Oracle MySQL); read once
    /// per connection: on MySQL it is the most expensive statement a probe would otherwise send.
    pub fn semi_sync_variables() -> &'static str {
        "SHOW GLOBAL VARIABLES LIKE 'rpl_semi_sync%'"
    }

    /// The semi-sync settings among `present` (names from [`SEMI_SYNC_SETTINGS`] that
    /// `semi_sync_variables` listed), one column each, named after its variable. `None` when
    /// there are none: selecting an unknown variable is an error.
    pub fn semi_sync_settings_query(&self, present: &[&str]) -> Option<String> {
        let cols: Vec<String> = SEMI_SYNC_SETTINGS
            .iter()
            .filter(|name| present.iter().any(|p| p.eq_ignore_ascii_case(name)))
            .map(|name| format!("@@global.{name} AS {name}"))
            .collect();
        (!cols.is_empty()).then(|| format!("SELECT {}", cols.join(", ")))
    }

    /// The status a probe reads: uptime, semi-sync state (either plugin generation), and on
    /// MariaDB the number of connected replicas (`Slaves_connected`), which tells whether the
    /// replica list needs the processlist. Exact names: cheaper than a LIKE pattern.
    pub fn status_query(&self) -> &'static str {
        "SHOW GLOBAL STATUS WHERE Variable_name IN ('Uptime', 'Slaves_connected', \
         'Rpl_semi_sync_master_status', 'Rpl_semi_sync_master_clients', 'Rpl_semi_sync_slave_status', \
         'Rpl_semi_sync_source_status', 'Rpl_semi_sync_source_clients', 'Rpl_semi_sync_replica_status')"
    }

    /// Replicas connected through a binlog dump thread, for servers whose replicas do not set
    /// `report_host`.
    pub fn binlog_dump_clients(&self) -> &'static str {
        "SELECT HOST FROM information_schema.PROCESSLIST WHERE COMMAND IN ('Binlog Dump', 'Binlog Dump GTID')"
    }

    /// Errant GTID computation (Oracle only): `gtid_subtract(a, b)`.
    pub fn gtid_subtract(&self, a: &str, b: &str) -> Option<String> {
        self.has_oracle_gtid().then(|| format!("SELECT GTID_SUBTRACT({}, {})", quote(a), quote(b)))
    }

    pub fn set_read_only(&self, on: bool) -> String {
        format!("SET GLOBAL read_only = {}", on as u8)
    }

    /// `super_read_only` exists on Oracle MySQL / Percona 5.7.8+ only.
    pub fn set_super_read_only(&self, on: bool) -> Option<String> {
        self.oracle_at_least(5, 7, 8).then(|| format!("SET GLOBAL super_read_only = {}", on as u8))
    }

    /// Oracle 8.0.26 added the `semisync_source`/`semisync_replica` plugins (variables
    /// `rpl_semi_sync_source_*`/`rpl_semi_sync_replica_*`) beside the old ones, and 8.4 removed
    /// the old ones; MariaDB builds semi-sync in under the old names. Between 8.0.26 and 8.4 a
    /// server may have loaded either generation: the new one, the documented choice, is assumed.
    fn semi_sync_new_names(&self) -> bool {
        self.oracle_at_least(8, 0, 26)
    }

    /// The variable that turns semi-sync on for a source (it waits for replica acks).
    pub fn semi_sync_source_enabled_variable(&self) -> &'static str {
        if self.semi_sync_new_names() {
            "rpl_semi_sync_source_enabled"
        } else {
            "rpl_semi_sync_master_enabled"
        }
    }

    /// The variable that turns semi-sync on for a replica (it acks what it receives).
    pub fn semi_sync_replica_enabled_variable(&self) -> &'static str {
        if self.semi_sync_new_names() {
            "rpl_semi_sync_replica_enabled"
        } else {
            "rpl_semi_sync_slave_enabled"
        }
    }

    pub fn set_semi_sync_source_enabled(&self, on: bool) -> String {
        format!("SET GLOBAL {} = {}", self.semi_sync_source_enabled_variable(), on as u8)
    }

    pub fn set_semi_sync_replica_enabled(&self, on: bool) -> String {
        format!("SET GLOBAL {} = {}", self.semi_sync_replica_enabled_variable(), on as u8)
    }

    /// What loads semi-sync on a server that lacks it (Oracle MySQL ships it as plugins; MariaDB
    /// 10.3.3+ has it built in: nothing to load). For messages that say what to do, and tests.
    pub fn install_semi_sync_plugins(&self) -> Vec<String> {
        if self.is_mariadb() {
            return Vec::new();
        }
        let (source, replica) = if self.semi_sync_new_names() { ("source", "replica") } else { ("master", "slave") };
        [source, replica].iter().map(|side| format!("INSTALL PLUGIN rpl_semi_sync_{side} SONAME 'semisync_{side}.so'")).collect()
    }

    /// Close the current binary log and open the next one (never written to the binary log).
    pub fn flush_binary_logs(&self) -> &'static str {
        "FLUSH BINARY LOGS"
    }

    /// Make the replica apply each transaction `seconds` after its source committed it. Both
    /// flavors need the replication threads stopped for this (MariaDB both, Oracle the applier).
    pub fn set_replication_delay(&self, seconds: u32) -> String {
        self.change_source(&ChangeSource { delay: Some(seconds), ..Default::default() })
    }
}

/// The semi-sync settings a probe reads: MariaDB and Oracle MySQL before 8.0.26 (or with the
/// old plugins loaded) use the master/slave names, Oracle 8.0.26+ plugins the source/replica names.
pub const SEMI_SYNC_SETTINGS: [&str; 8] = [
    "rpl_semi_sync_master_enabled",
    "rpl_semi_sync_master_timeout",
    "rpl_semi_sync_master_wait_for_slave_count",
    "rpl_semi_sync_slave_enabled",
    "rpl_semi_sync_source_enabled",
    "rpl_semi_sync_source_timeout",
    "rpl_semi_sync_source_wait_for_replica_count",
    "rpl_semi_sync_replica_enabled",
];

/// Reads one column of SHOW REPLICA/SLAVE STATUS under either of its names (Oracle 8.0.22
/// renamed `Master_*`/`Slave_*` to `Source_*`/`Replica_*`; MariaDB and older servers use the old
/// names). `name` is the new name; the old one is derived.
pub fn replica_status_column_names(new_name: &'static str) -> [String; 2] {
    let old = new_name
        .replace("Source", "Master")
        .replace("source", "master")
        .replace("Replica", "Slave")
        .replace("replica", "slave");
    [new_name.to_string(), old]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(version: &str) -> Dialect {
        Dialect::detect(version, "")
    }

    #[test]
    fn detects_flavors() {
        assert_eq!(Dialect::detect("10.11.6-MariaDB-0+deb12u1", "Debian 12").flavor, Flavor::MariaDb);
        assert_eq!(Dialect::detect("8.0.36-28", "Percona Server (GPL), Release 28").flavor, Flavor::Percona);
        assert_eq!(Dialect::detect("9.7.4", "(Debian)").flavor, Flavor::MySql);
        assert_eq!(Version::parse("8.0.22-log"), Version(8, 0, 22));
    }

    #[test]
    fn gtid_checks_ask_each_flavor_its_own_question() {
        let maria = d("10.11.6-MariaDB");
        let oracle = d("9.7.4");
        assert_eq!(maria.binlog_gtid_pos_sql("mysql-bin.000002").as_deref(), Some("SELECT BINLOG_GTID_POS('mysql-bin.000002', 4)"));
        assert_eq!(oracle.binlog_gtid_pos_sql("x"), None);
        assert_eq!(maria.applied_gtids_query(), "SELECT @@GLOBAL.gtid_slave_pos");
        assert_eq!(oracle.applied_gtids_query(), "SELECT @@GLOBAL.gtid_executed");
        assert!(maria.stored_replication_credentials_query().is_none(), "MariaDB never reveals the password");
        assert!(oracle.stored_replication_credentials_query().is_some_and(|q| q.contains("slave_master_info")));
    }

    #[test]
    fn keyword_boundaries_follow_the_8_0_22_and_8_0_23_renames() {
        assert_eq!(d("5.7.44").show_replica_status(), "SHOW SLAVE STATUS");
        assert_eq!(d("8.0.21").show_replica_status(), "SHOW SLAVE STATUS");
        assert_eq!(d("8.0.22").show_replica_status(), "SHOW REPLICA STATUS");
        assert_eq!(d("8.0.22").start_replica(), "START REPLICA");
        assert_eq!(d("8.0.22").show_replica_hosts(), "SHOW REPLICAS");
        assert!(d("8.0.22").change_source(&ChangeSource { port: Some(1), ..Default::default() }).starts_with("CHANGE MASTER TO"));
        assert!(d("8.0.23").change_source(&ChangeSource { port: Some(1), ..Default::default() }).starts_with("CHANGE REPLICATION SOURCE TO SOURCE_PORT=1"));
        assert_eq!(d("8.0.25").log_replica_updates_variable(), "log_slave_updates");
        assert_eq!(d("8.0.26").log_replica_updates_variable(), "log_replica_updates");
        assert_eq!(d("8.0.40").show_binlog_status(), "SHOW MASTER STATUS");
        assert_eq!(d("8.4.3").show_binlog_status(), "SHOW BINARY LOG STATUS");
        assert_eq!(d("9.7.4").show_binlog_status(), "SHOW BINARY LOG STATUS");
        assert_eq!(d("9.7.4").reset_replica_all(), "RESET REPLICA ALL");
        assert_eq!(d("8.0.21").start_replica_until("b.1", 4), "START SLAVE UNTIL MASTER_LOG_FILE='b.1', MASTER_LOG_POS=4");
        assert_eq!(d("9.7.4").start_replica_until("b.1", 4), "START REPLICA UNTIL SOURCE_LOG_FILE='b.1', SOURCE_LOG_POS=4");
        assert_eq!(d("10.11.6-MariaDB").start_replica_until("b.1", 4), "START SLAVE UNTIL MASTER_LOG_FILE='b.1', MASTER_LOG_POS=4");
    }

    #[test]
    fn mariadb_keeps_its_own_syntax_in_every_version() {
        let m = d("11.4.2-MariaDB");
        assert_eq!(m.show_replica_status(), "SHOW SLAVE STATUS");
        assert_eq!(m.show_binlog_status(), "SHOW MASTER STATUS");
        assert_eq!(m.log_replica_updates_variable(), "log_slave_updates");
        let sql = m.change_source(&ChangeSource {
            host: Some("db1".into()),
            port: Some(3306),
            gtid: Some(GtidMode::On),
            get_public_key: Some(true),
            ..Default::default()
        });
        assert_eq!(sql, "CHANGE MASTER TO MASTER_HOST='db1', MASTER_PORT=3306, MASTER_USE_GTID=slave_pos");
        assert!(m.gtid_subtract("a", "b").is_none());
        assert!(m.variables_query().contains("gtid_slave_pos"));
    }

    #[test]
    fn change_source_mentions_only_what_is_set_and_quotes_literals() {
        let sql = d("9.7.4").change_source(&ChangeSource {
            host: Some("h'x".into()),
            user: Some("repl".into()),
            password: Some("p\\w".into()),
            gtid: Some(GtidMode::On),
            get_public_key: Some(true),
            connect_retry: Some(1),
            retry_count: Some(86400),
            ..Default::default()
        });
        assert_eq!(
            sql,
            "CHANGE REPLICATION SOURCE TO SOURCE_HOST='h''x', SOURCE_USER='repl', SOURCE_PASSWORD='p\\\\w', \
             SOURCE_AUTO_POSITION=1, SOURCE_CONNECT_RETRY=1, GET_SOURCE_PUBLIC_KEY=1, SOURCE_RETRY_COUNT=86400"
        );
    }

    #[test]
    fn semi_sync_settings_select_only_variables_that_exist() {
        let m = d("10.11.6-MariaDB");
        assert_eq!(m.semi_sync_settings_query(&[]), None);
        assert_eq!(m.semi_sync_settings_query(&["rpl_semi_sync_master_trace_level"]), None);
        assert_eq!(
            d("9.7.4").semi_sync_settings_query(&["RPL_SEMI_SYNC_SOURCE_ENABLED", "rpl_semi_sync_replica_enabled"]).unwrap(),
            "SELECT @@global.rpl_semi_sync_source_enabled AS rpl_semi_sync_source_enabled, \
             @@global.rpl_semi_sync_replica_enabled AS rpl_semi_sync_replica_enabled"
        );
    }

    #[test]
    fn read_only_adds_super_read_only_from_oracle_5_7_8() {
        assert_eq!(d("9.7.4").set_read_only(true), "SET GLOBAL read_only = 1");
        assert_eq!(d("10.11.6-MariaDB").set_read_only(false), "SET GLOBAL read_only = 0");
        assert_eq!(d("5.7.7").set_super_read_only(true), None);
        assert_eq!(d("5.7.8").set_super_read_only(true).as_deref(), Some("SET GLOBAL super_read_only = 1"));
        assert_eq!(Dialect::detect("8.0.36-28", "Percona Server").set_super_read_only(false).as_deref(), Some("SET GLOBAL super_read_only = 0"));
        assert_eq!(d("11.4.2-MariaDB").set_super_read_only(true), None, "MariaDB has no super_read_only");
    }

    #[test]
    fn semi_sync_names_follow_the_8_0_26_plugins() {
        for v in ["5.7.44", "8.0.25", "10.11.6-MariaDB", "11.4.2-MariaDB"] {
            assert_eq!(d(v).set_semi_sync_source_enabled(true), "SET GLOBAL rpl_semi_sync_master_enabled = 1", "{v}");
            assert_eq!(d(v).set_semi_sync_replica_enabled(false), "SET GLOBAL rpl_semi_sync_slave_enabled = 0", "{v}");
        }
        for v in ["8.0.26", "8.4.3", "9.7.4"] {
            assert_eq!(d(v).set_semi_sync_source_enabled(false), "SET GLOBAL rpl_semi_sync_source_enabled = 0", "{v}");
            assert_eq!(d(v).set_semi_sync_replica_enabled(true), "SET GLOBAL rpl_semi_sync_replica_enabled = 1", "{v}");
        }
        assert!(d("10.11.6-MariaDB").install_semi_sync_plugins().is_empty(), "built in");
        assert_eq!(
            d("8.0.25").install_semi_sync_plugins(),
            ["INSTALL PLUGIN rpl_semi_sync_master SONAME 'semisync_master.so'", "INSTALL PLUGIN rpl_semi_sync_slave SONAME 'semisync_slave.so'"]
        );
        assert_eq!(
            d("9.7.4").install_semi_sync_plugins(),
            ["INSTALL PLUGIN rpl_semi_sync_source SONAME 'semisync_source.so'", "INSTALL PLUGIN rpl_semi_sync_replica SONAME 'semisync_replica.so'"]
        );
    }

    #[test]
    fn delay_skip_and_flush_per_flavor() {
        assert_eq!(d("8.0.22").set_replication_delay(60), "CHANGE MASTER TO MASTER_DELAY=60");
        assert_eq!(d("8.0.23").set_replication_delay(60), "CHANGE REPLICATION SOURCE TO SOURCE_DELAY=60");
        assert_eq!(d("10.11.6-MariaDB").set_replication_delay(0), "CHANGE MASTER TO MASTER_DELAY=0");
        assert_eq!(d("8.0.25").skip_one_event_group(), "SET GLOBAL sql_slave_skip_counter = 1");
        assert_eq!(d("8.0.26").skip_one_event_group(), "SET GLOBAL sql_replica_skip_counter = 1");
        assert_eq!(d("10.11.6-MariaDB").skip_one_event_group(), "SET GLOBAL sql_slave_skip_counter = 1");
        assert_eq!(
            d("9.7.4").inject_empty_transaction("u:7"),
            ["SET GTID_NEXT = 'u:7'", "BEGIN", "COMMIT", "SET GTID_NEXT = 'AUTOMATIC'"]
        );
        assert_eq!(d("9.7.4").flush_binary_logs(), "FLUSH BINARY LOGS");
        assert_eq!(d("10.11.6-MariaDB").flush_binary_logs(), "FLUSH BINARY LOGS");
        assert_eq!(d("8.0.21").stop_replica_io_thread(), "STOP SLAVE IO_THREAD");
        assert_eq!(d("8.0.22").start_replica_io_thread(), "START REPLICA IO_THREAD");
        assert_eq!(d("10.11.6-MariaDB").start_replica_sql_thread(), "START SLAVE SQL_THREAD");
        assert_eq!(d("8.0.21").reset_replica_all(), "RESET SLAVE ALL");
        assert_eq!(d("10.11.6-MariaDB").reset_replica_all(), "RESET SLAVE ALL");
    }

    #[test]
    fn column_names_cover_both_generations() {
        assert_eq!(replica_status_column_names("Source_Host"), ["Source_Host".to_string(), "Master_Host".into()]);
        assert_eq!(
            replica_status_column_names("Replica_SQL_Running"),
            ["Replica_SQL_Running".to_string(), "Slave_SQL_Running".into()]
        );
        assert_eq!(
            replica_status_column_names("Read_Source_Log_Pos"),
            ["Read_Source_Log_Pos".to_string(), "Read_Master_Log_Pos".into()]
        );
    }
}
