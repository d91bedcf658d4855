//! The `sql` command (the seed's README uses it; orchestrator never had it): one read-only
//! statement on a managed server, as the topology user, answered as columns and rows.
//!
//! Two guards: `classify` refuses anything but one SELECT-like, SHOW, EXPLAIN or DESCRIBE
//! statement (with the reason), and the statement runs inside `START TRANSACTION READ ONLY`, so
//! that what the text cannot reveal (a stored function that writes) is refused by the server.
//!
//! # Layout
//! - `classify`: is a statement read-only? (pure)
//! - here:       `SqlRunner`: connect, run with a read timeout, collect at most `max_rows` rows.

pub mod classify;

use crate::mysql::{ConnectSpec, MySqlError, TextConn};
use app::model::InstanceKey;
use classify::ReadOnly;
use serde::Serialize;
use std::time::{Duration, Instant};

/// What the runner takes from the configuration.
#[derive(Clone)]
pub struct SqlSettings {
    /// `MySQLTopologyUser` / `MySQLTopologyPassword`.
    pub user: String,
    pub password: crate::config::Secret,
    pub connect_timeout: Duration,
    /// One statement may take this long (`MySQLTopologyReadTimeoutSeconds`, at most
    /// `MAX_READ_TIMEOUT`: an ad-hoc query from a request should not hold a connection for the
    /// 10 minutes an operation may take).
    pub read_timeout: Duration,
    /// Rows beyond this are dropped (the answer says so).
    pub max_rows: usize,
}

/// Never shows the password.
impl std::fmt::Debug for SqlSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlSettings")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("max_rows", &self.max_rows)
            .finish()
    }
}

/// The longest an ad-hoc statement may run.
pub const MAX_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Rows answered at most.
pub const DEFAULT_MAX_ROWS: usize = 10_000;

/// A statement's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SqlAnswer {
    #[serde(rename = "Instance")]
    pub instance: InstanceKey,
    #[serde(rename = "Statement")]
    pub statement: String,
    /// Column names; empty when the statement returned no rows (the text protocol only names
    /// columns in rows).
    #[serde(rename = "Columns")]
    pub columns: Vec<String>,
    /// Values as text, `null` for SQL NULL.
    #[serde(rename = "Rows")]
    pub rows: Vec<Vec<Option<String>>>,
    /// More rows existed than `max_rows`.
    #[serde(rename = "Truncated")]
    pub truncated: bool,
    #[serde(rename = "ElapsedMillis")]
    pub elapsed_ms: u64,
}

/// Runs classified statements on managed servers; cheap to clone.
#[derive(Clone, Debug)]
pub struct SqlRunner {
    settings: SqlSettings,
}

impl SqlRunner {
    pub fn new(settings: SqlSettings) -> SqlRunner {
        SqlRunner { settings }
    }

    /// Runs `statement` on `key` in a read-only transaction, then rolls back and disconnects.
    pub async fn run(&self, key: &InstanceKey, statement: &ReadOnly) -> Result<SqlAnswer, MySqlError> {
        let s = &self.settings;
        let spec = ConnectSpec {
            host: key.hostname.clone(),
            port: key.port,
            user: s.user.clone(),
            password: s.password.clone(),
            connect_timeout: s.connect_timeout,
            read_timeout: s.read_timeout.min(MAX_READ_TIMEOUT),
        };
        let started = Instant::now();
        let mut conn = TextConn::connect(&spec).await?;
        let result = async {
            conn.exec("START TRANSACTION READ ONLY").await?;
            let rows = conn.query(&statement.text).await?;
            let _ = conn.exec("ROLLBACK").await;
            Ok::<_, MySqlError>(rows)
        }
        .await;
        conn.close().await;
        let rows = result?;
        let columns = rows.first().map(|r| r.columns.iter().map(|(name, _)| name.clone()).collect()).unwrap_or_default();
        let truncated = rows.len() > s.max_rows;
        let rows = rows.into_iter().take(s.max_rows).map(|r| r.columns.into_iter().map(|(_, v)| v).collect()).collect();
        Ok(SqlAnswer {
            instance: key.clone(),
            statement: statement.text.clone(),
            columns,
            rows,
            truncated,
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    }
}

/// The answer as an aligned text table, the way the mysql client prints one.
pub fn render_table(columns: &[String], rows: &[Vec<Option<String>>]) -> Vec<String> {
    if columns.is_empty() {
        return vec!["Empty set".to_string()];
    }
    // One line per row: line breaks and tabs inside values (SHOW CREATE TABLE) are shown escaped.
    let cell = |v: &Option<String>| match v {
        Some(text) => text.replace('\n', "\\n").replace('\r', "\\r").replace('\t', "\\t"),
        None => "NULL".to_string(),
    };
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    for row in rows {
        for (w, v) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell(v).chars().count());
        }
    }
    let border = format!("+{}+", widths.iter().map(|w| "-".repeat(w + 2)).collect::<Vec<_>>().join("+"));
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!(" {c}{} ", " ".repeat(w.saturating_sub(c.chars().count())))).collect();
        format!("|{}|", padded.join("|"))
    };
    let mut out = vec![border.clone(), line(columns.to_vec()), border.clone()];
    for row in rows {
        out.push(line(row.iter().map(cell).collect()));
    }
    out.push(border);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_never_show_the_password() {
        let s = SqlSettings {
            user: "orc".into(),
            password: "hunter2".into(),
            connect_timeout: Duration::from_secs(1),
            read_timeout: Duration::from_secs(1),
            max_rows: 1,
        };
        let shown = format!("{:?}", SqlRunner::new(s));
        assert!(!shown.contains("hunter2") && shown.contains("redacted"), "{shown}");
    }

    #[test]
    fn tables_align_like_the_mysql_client() {
        let columns = vec!["Id".to_string(), "Info".to_string()];
        let rows = vec![vec![Some("5".to_string()), None], vec![Some("12".to_string()), Some("SHOW PROCESSLIST".to_string())]];
        assert_eq!(
            render_table(&columns, &rows),
            [
                "+----+------------------+",
                "| Id | Info             |",
                "+----+------------------+",
                "| 5  | NULL             |",
                "| 12 | SHOW PROCESSLIST |",
                "+----+------------------+",
            ]
        );
        assert_eq!(render_table(&[], &[]), ["Empty set"]);
        let multi = render_table(&["Create Table".to_string()], &[vec![Some("CREATE TABLE t (\n  a int\n)".to_string())]]);
        assert_eq!(multi[3], "| CREATE TABLE t (\\n  a int\\n) |");
    }
}
