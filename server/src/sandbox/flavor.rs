//! Per-flavor facts: where the server binaries are, how a datadir is initialized, which options
//! a server runs with, and which accounts the template holds.
//!
//! MariaDB runs from the host's Debian packages. Oracle MySQL 9 needs a newer glibc than the
//! host has, so it runs from a Debian sid root filesystem under chroot; every path handed to it
//! must then be the path as seen inside that root (`Runtime::inner`).

use super::error::SandboxError;
use super::options::SandboxFlavor;
use super::process;
use super::{ADMIN_PASSWORD, ADMIN_USER, REPLICATION_PASSWORD, REPLICATION_USER, TOPOLOGY_PASSWORD, TOPOLOGY_USER};
use crate::mysql::Dialect;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// Where `scripts/prepare-mysql-rootfs.sh` builds the MySQL root filesystem by default.
pub const DEFAULT_MYSQL_ROOTFS: &str = "/var/cache/orchestrator-sandbox/mysql-rootfs";

/// The MySQL root filesystem in use: `$ORCH_MYSQL_ROOTFS`, else [`DEFAULT_MYSQL_ROOTFS`].
pub fn mysql_rootfs() -> PathBuf {
    std::env::var_os("ORCH_MYSQL_ROOTFS").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(DEFAULT_MYSQL_ROOTFS))
}

const MYSQLD_IN_ROOTFS: &str = "/usr/sbin/mysqld";

/// Everywhere sandbox and build directories are created, for the stale-directory reaper.
pub(crate) fn all_base_dirs() -> Vec<PathBuf> {
    vec![host_base_dir(), mysql_rootfs().join("var/lib/orchestrator-sandbox")]
}

fn host_base_dir() -> PathBuf {
    std::env::temp_dir().join("orchestrator-sandbox")
}

/// InnoDB settings fixed when a datadir is initialized; servers copied from the template must
/// run with the same values, or they would resize their logs at every start.
fn innodb_layout(flavor: SandboxFlavor) -> &'static [(&'static str, &'static str)] {
    match flavor {
        SandboxFlavor::MariaDb => &[("innodb_log_file_size", "16M")],
        // The redo log is preallocated and so copied with every datadir: smaller than the
        // default 100M; below 32M MySQL warns that writers wait for redo space.
        SandboxFlavor::MySql => &[("innodb_redo_log_capacity", "32M")],
    }
}

/// One flavor's binaries and version on this machine.
#[derive(Clone, Debug)]
pub(crate) struct Runtime {
    pub flavor: SandboxFlavor,
    /// The root the server runs in (MySQL); `None` runs it on the host (MariaDB).
    pub root: Option<PathBuf>,
    /// The server binary, as seen inside `root`.
    server: PathBuf,
    /// MariaDB's datadir initializer.
    install_db: Option<PathBuf>,
    /// The version part of `--version` (`10.11.19-MariaDB-0+deb12u1`, `9.7.4-2`).
    pub version: String,
    /// The dialect `--version` implies, for option names; replaced by the one detected from
    /// `@@version` once a server runs.
    pub dialect: Dialect,
    /// The server must be told to stay root (`--user=root`), or it refuses to start.
    as_root: bool,
}

impl Runtime {
    /// Finds the flavor's binaries and reads their version.
    pub(crate) async fn locate(flavor: SandboxFlavor) -> Result<Runtime, SandboxError> {
        // SAFETY: geteuid has no preconditions.
        let as_root = unsafe { libc::geteuid() } == 0;
        let (root, server, install_db) = match flavor {
            SandboxFlavor::MariaDb => {
                let server = find_binary("mariadbd").ok_or(SandboxError::MariaDbMissing { binary: "mariadbd" })?;
                let install = find_binary("mariadb-install-db")
                    .ok_or(SandboxError::MariaDbMissing { binary: "mariadb-install-db" })?;
                (None, server, Some(install))
            }
            SandboxFlavor::MySql => {
                let rootfs = mysql_rootfs();
                if !rootfs.join(&MYSQLD_IN_ROOTFS[1..]).is_file() {
                    return Err(SandboxError::RootfsMissing(rootfs));
                }
                if !as_root {
                    return Err(SandboxError::NotRoot);
                }
                (Some(rootfs), PathBuf::from(MYSQLD_IN_ROOTFS), None)
            }
        };
        let version = server_version(root.as_deref(), &server).await?;
        let dialect = Dialect::detect(&version, "");
        Ok(Runtime { flavor, root, server, install_db, version, dialect, as_root })
    }

    /// Where this flavor's sandbox directories are created: the server must see them, so for
    /// MySQL they live inside the root filesystem.
    pub(crate) fn base_dir(&self) -> PathBuf {
        match &self.root {
            Some(root) => root.join("var/lib/orchestrator-sandbox"),
            None => host_base_dir(),
        }
    }

    /// `host_path` as the server process sees it.
    pub(crate) fn inner(&self, host_path: &Path) -> PathBuf {
        match &self.root {
            Some(root) => match host_path.strip_prefix(root) {
                Ok(rel) => Path::new("/").join(rel),
                Err(_) => host_path.to_path_buf(),
            },
            None => host_path.to_path_buf(),
        }
    }

    /// The statements run once while the template is initialized (binary log off): the
    /// harness's accounts. One statement per line, no comments: MySQL's --init-file wants that.
    pub(crate) fn setup_sql(&self) -> String {
        let users = [
            (ADMIN_USER, ADMIN_PASSWORD),
            (TOPOLOGY_USER, TOPOLOGY_PASSWORD),
            (REPLICATION_USER, REPLICATION_PASSWORD),
        ];
        let mut sql = Vec::new();
        if self.flavor == SandboxFlavor::MariaDb {
            // The bootstrap server starts without grant tables loaded; CREATE USER needs them.
            sql.push("FLUSH PRIVILEGES;".to_string());
            // mariadb-install-db also makes password-less root accounts reachable over TCP.
            sql.push("DELETE FROM mysql.global_priv WHERE Host <> 'localhost';".into());
            sql.push("DELETE FROM mysql.proxies_priv WHERE Host <> 'localhost';".into());
            sql.push("FLUSH PRIVILEGES;".into());
        }
        for (user, password) in users {
            sql.push(format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{password}';"));
        }
        sql.push(format!("GRANT ALL PRIVILEGES ON *.* TO '{ADMIN_USER}'@'%' WITH GRANT OPTION;"));
        sql.push(format!("GRANT REPLICATION SLAVE ON *.* TO '{REPLICATION_USER}'@'%';"));
        // What orchestrator's documentation asks for, plus the privileges each flavor has split
        // out of SUPER since, so that failovers work with a realistic (not ALL) grant.
        let topology: &[&str] = match self.flavor {
            SandboxFlavor::MariaDb => &[
                "SUPER, PROCESS, RELOAD, REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR, REPLICATION SLAVE ADMIN, \
                 REPLICATION MASTER ADMIN, BINLOG ADMIN, READ_ONLY ADMIN, CONNECTION ADMIN ON *.*",
                "SELECT ON mysql.*",
                "SELECT ON meta.*",
            ],
            SandboxFlavor::MySql => &[
                "SUPER, PROCESS, RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.*",
                "REPLICATION_SLAVE_ADMIN, SYSTEM_VARIABLES_ADMIN, SESSION_VARIABLES_ADMIN, CONNECTION_ADMIN, \
                 BINLOG_ADMIN, REPLICATION_APPLIER ON *.*",
                "SELECT ON mysql.slave_master_info",
                "SELECT ON performance_schema.*",
                "SELECT ON meta.*",
            ],
        };
        for grant in topology {
            sql.push(format!("GRANT {grant} TO '{TOPOLOGY_USER}'@'%';"));
        }
        sql.join("\n") + "\n"
    }

    /// Initializes a new datadir at `datadir` with the accounts of `sql_file`, binlog off.
    /// MySQL writes its log to `error_log`; MariaDB's initializer to its console.
    pub(crate) fn init_command(&self, datadir: &Path, sql_file: &Path, error_log: &Path) -> Command {
        let mut cmd = match self.flavor {
            SandboxFlavor::MariaDb => {
                let mut cmd = Command::new(self.install_db.as_ref().expect("MariaDB runtime has mariadb-install-db"));
                cmd.arg("--no-defaults")
                    .arg(format!("--datadir={}", datadir.display()))
                    .arg("--auth-root-authentication-method=normal")
                    .arg("--skip-test-db")
                    .arg("--skip-name-resolve")
                    .arg(format!("--extra-file={}", sql_file.display()));
                cmd
            }
            SandboxFlavor::MySql => {
                let mut cmd = Command::new(&self.server);
                cmd.arg("--no-defaults")
                    .arg("--initialize-insecure")
                    .arg(format!("--datadir={}", self.inner(datadir).display()))
                    .arg(format!("--init-file={}", self.inner(sql_file).display()))
                    .arg(format!("--log-error={}", self.inner(error_log).display()));
                cmd
            }
        };
        if self.as_root {
            cmd.arg("--user=root");
        }
        cmd.arg("--skip-log-bin");
        for (name, value) in innodb_layout(self.flavor) {
            cmd.arg(format!("--{}={value}", name.replace('_', "-")));
        }
        cmd
    }

    /// The option file of one server. `dir` is the server's directory (host path).
    pub(crate) fn server_config(&self, dir: &Path, port: u16, server_id: u32, gtid: bool) -> String {
        let at = |name: &str| self.inner(&dir.join(name)).display().to_string();
        let lru = self.dialect.log_replica_updates_variable();
        // Renamed together with log_slave_updates in Oracle 8.0.26.
        let net_timeout = if lru == "log_replica_updates" { "replica_net_timeout" } else { "slave_net_timeout" };
        let mut o: Vec<(String, String)> = Vec::new();
        let mut set = |k: &str, v: String| o.push((k.to_string(), v));
        if self.as_root {
            set("user", "root".into());
        }
        set("datadir", at("data"));
        set("tmpdir", at("tmp"));
        set("socket", at("mysqld.sock"));
        set("pid_file", at("mysqld.pid"));
        set("log_error", at("error.log"));
        set("port", port.to_string());
        set("bind_address", "127.0.0.1".into());
        set("skip_name_resolve", "ON".into());
        set("server_id", server_id.to_string());
        set("report_host", "127.0.0.1".into());
        set("report_port", port.to_string());
        set("log_bin", "mysql-bin".into());
        // The default relay log name contains the host name.
        set("relay_log", "relay-bin".into());
        set("binlog_format", "ROW".into());
        set(lru, "ON".into());
        set(net_timeout, "4".into());
        // Durable against kill -9 (the data is in the OS cache), not against power loss; the
        // sandbox only ever sees the former and is much faster this way.
        set("sync_binlog", "0".into());
        set("innodb_flush_log_at_trx_commit", "2".into());
        set("innodb_buffer_pool_size", "32M".into());
        set("innodb_log_buffer_size", "4M".into());
        set("performance_schema", "OFF".into());
        for (name, value) in innodb_layout(self.flavor) {
            set(name, value.to_string());
        }
        match self.flavor {
            SandboxFlavor::MariaDb => {
                set("gtid_strict_mode", "ON".into());
            }
            SandboxFlavor::MySql => {
                let on = if gtid { "ON" } else { "OFF" };
                set("gtid_mode", on.into());
                set("enforce_gtid_consistency", on.into());
                set("mysqlx", "OFF".into());
                set("innodb_doublewrite", "OFF".into());
                // The compiled-in default (/var/lib/mysql-files) does not exist in the rootfs,
                // and mysqld refuses to start without it.
                set("secure_file_priv", at("tmp"));
            }
        }
        let mut text = String::from("# Written by the orchestrator sandbox harness.\n[mysqld]\n");
        for (k, v) in o {
            text.push_str(&format!("{k}={v}\n"));
        }
        text
    }

    /// The command that runs the server of `dir` with its option file.
    pub(crate) fn server_command(&self, dir: &Path) -> Command {
        let mut cmd = Command::new(&self.server);
        cmd.arg(format!("--defaults-file={}", self.inner(&dir.join("my.cnf")).display()));
        if self.root.is_none() {
            cmd.current_dir(dir);
        }
        cmd
    }
}

fn find_binary(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// `--version` of the server binary, cached per binary for the life of the process.
async fn server_version(root: Option<&Path>, server: &Path) -> Result<String, SandboxError> {
    static CACHE: Mutex<Option<HashMap<PathBuf, String>>> = Mutex::new(None);
    let host_path = match root {
        Some(r) => r.join(server.strip_prefix("/").unwrap_or(server)),
        None => server.to_path_buf(),
    };
    if let Some(v) = CACHE.lock().unwrap_or_else(|e| e.into_inner()).as_ref().and_then(|m| m.get(&host_path)) {
        return Ok(v.clone());
    }
    let mut cmd = Command::new(server);
    cmd.arg("--version").stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = process::spawn(cmd, root).await.map_err(|e| SandboxError::io("run", &host_path, e))?;
    let output =
        tokio::time::timeout(Duration::from_secs(30), tokio::task::spawn_blocking(move || child.wait_with_output()))
            .await
            .map_err(|_| {
                SandboxError::io("run", &host_path, std::io::Error::other("--version did not answer in 30 s"))
            })?
            .map_err(|e| SandboxError::io("run", &host_path, std::io::Error::other(e)))?
            .map_err(|e| SandboxError::io("run", &host_path, e))?;
    let text = String::from_utf8_lossy(&output.stdout);
    // "/usr/sbin/mysqld  Ver 9.7.4-2 for Linux on x86_64 ((Debian))"
    let version = text.split_whitespace().skip_while(|w| *w != "Ver").nth(1).map(str::to_string).ok_or_else(|| {
        let stderr = String::from_utf8_lossy(&output.stderr);
        SandboxError::io(
            "read the version of",
            &host_path,
            std::io::Error::other(format!("unexpected --version output {:?} {:?}", text.trim(), stderr.trim())),
        )
    })?;
    CACHE.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(HashMap::new).insert(host_path, version.clone());
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime(flavor: SandboxFlavor, version: &str) -> Runtime {
        let root = (flavor == SandboxFlavor::MySql).then(|| PathBuf::from("/rootfs"));
        Runtime {
            flavor,
            root,
            server: PathBuf::from("/usr/sbin/x"),
            install_db: Some(PathBuf::from("/usr/bin/mariadb-install-db")),
            version: version.into(),
            dialect: Dialect::detect(version, ""),
            as_root: true,
        }
    }

    #[test]
    fn mysql_paths_are_given_as_seen_inside_the_root() {
        let rt = runtime(SandboxFlavor::MySql, "9.7.4-2");
        assert_eq!(rt.inner(Path::new("/rootfs/var/lib/x/data")), PathBuf::from("/var/lib/x/data"));
        let cnf = rt.server_config(Path::new("/rootfs/var/lib/sb/mysql1"), 4000, 1, false);
        assert!(cnf.contains("datadir=/var/lib/sb/mysql1/data\n"), "{cnf}");
        assert!(cnf.contains("log_replica_updates=ON\n") && cnf.contains("replica_net_timeout=4\n"));
        assert!(cnf.contains("gtid_mode=OFF\n") && cnf.contains("report_port=4000\n"));
    }

    #[test]
    fn mariadb_uses_its_own_option_names() {
        let rt = runtime(SandboxFlavor::MariaDb, "10.11.19-MariaDB-0+deb12u1");
        let cnf = rt.server_config(Path::new("/tmp/sb/mysql2"), 4001, 2, true);
        assert!(cnf.contains("log_slave_updates=ON\n") && cnf.contains("slave_net_timeout=4\n"));
        assert!(cnf.contains("gtid_strict_mode=ON\n") && !cnf.contains("gtid_mode"));
        assert!(cnf.contains("server_id=2\n") && cnf.contains("user=root\n"));
        assert!(rt.setup_sql().starts_with("FLUSH PRIVILEGES;"));
    }

    #[test]
    fn setup_statements_are_one_per_line() {
        for rt in [runtime(SandboxFlavor::MySql, "9.7.4"), runtime(SandboxFlavor::MariaDb, "10.11.19-MariaDB")] {
            for line in rt.setup_sql().lines() {
                assert!(line.ends_with(';') && !line.contains("--"), "{line}");
            }
        }
    }
}
