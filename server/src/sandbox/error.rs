//! Why a sandbox could not be started or driven. Every message is one line and says what to do.

use crate::mysql::MySqlError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("{binary} not found: install MariaDB with `apt-get install -y mariadb-server`")]
    MariaDbMissing { binary: &'static str },

    #[error(
        "no Oracle MySQL root filesystem at {0} (usr/sbin/mysqld missing): build it with \
         scripts/prepare-mysql-rootfs.sh, or point ORCH_MYSQL_ROOTFS at one"
    )]
    RootfsMissing(PathBuf),

    #[error("running Oracle MySQL under chroot needs root privileges: run as root, or use the MariaDB flavor")]
    NotRoot,

    #[error("invalid sandbox options: {0}")]
    Options(String),

    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("preparing the {flavor} template datadir failed: {reason}; log {log}: {tail}")]
    Template { flavor: String, reason: String, log: PathBuf, tail: String },

    #[error("{server} did not start: {reason}; error log {log}: {tail}")]
    Start { server: String, reason: String, log: PathBuf, tail: String },

    #[error("{server}: {source}")]
    Sql {
        server: String,
        #[source]
        source: MySqlError,
    },

    #[error("{server} is not running (killed?): call restart() first")]
    NotRunning { server: String },

    #[error("timed out after {seconds:.1}s waiting for {what}")]
    Timeout { what: String, seconds: f64 },

    #[error("no server {index}: this sandbox has {count} (indexes start at 0)")]
    NoSuchServer { index: usize, count: usize },
}

impl SandboxError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> SandboxError {
        SandboxError::Io { action, path: path.into(), source }
    }
}

/// The last `lines` non-empty lines of a log file, joined with " | " so an error stays one line.
pub(crate) fn log_tail(path: &std::path::Path, lines: usize) -> String {
    let Ok(bytes) = std::fs::read(path) else {
        return "(no log written)".to_string();
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut last: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).rev().take(lines).collect();
    if last.is_empty() {
        return "(empty)".to_string();
    }
    last.reverse();
    last.join(" | ")
}
