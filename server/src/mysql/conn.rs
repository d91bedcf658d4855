//! Connections to managed servers and text-protocol queries.
//!
//! Everything sent to a managed server goes through `TextConn`: statements are sent unprepared
//! (COM_QUERY), so several statements travel in one round trip and every value comes back as
//! text, whatever the server's column types are (they differ between flavors and versions).

use futures::TryStreamExt;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlSslMode};
use sqlx::{Column, Connection, Executor, Row};
use std::time::Duration;

/// Why talking to a managed server failed.
#[derive(Debug, thiserror::Error)]
pub enum MySqlError {
    #[error("cannot connect to {target}: {reason}")]
    Connect { target: String, reason: String },
    #[error("connecting to {0} timed out")]
    ConnectTimeout(String),
    #[error("query on {target} timed out after {seconds:.1}s")]
    QueryTimeout { target: String, seconds: f64 },
    #[error("query on {target} failed: {reason}")]
    Query { target: String, reason: String },
    #[error("unexpected answer from {target}: {reason}")]
    Protocol { target: String, reason: String },
}

impl MySqlError {
    /// The server could not be reached or did not answer (as opposed to refusing a statement).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, MySqlError::Connect { .. } | MySqlError::ConnectTimeout(_) | MySqlError::QueryTimeout { .. })
    }
}

/// Where and as whom to connect.
#[derive(Clone, Debug)]
pub struct ConnectSpec {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Never printed: `Secret`'s Debug and Display show `****`.
    pub password: crate::config::Secret,
    pub connect_timeout: Duration,
    /// Upper bound for one round trip; a hung server is declared unreachable after it.
    pub read_timeout: Duration,
}

impl ConnectSpec {
    fn target(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// One result row: column names and values, all as text (`None` for SQL NULL).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextRow {
    pub columns: Vec<(String, Option<String>)>,
}

impl TextRow {
    /// The value of the first of `names` that exists in the row (case-insensitive), NULL as "".
    pub fn get(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| {
            self.columns
                .iter()
                .find(|(c, _)| c.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.as_deref().unwrap_or(""))
        })
    }

    pub fn text(&self, names: &[&str]) -> String {
        self.get(names).unwrap_or("").to_string()
    }

    pub fn number(&self, names: &[&str]) -> Option<i64> {
        self.get(names).and_then(|v| v.trim().parse::<i64>().ok())
    }

    /// Value by position.
    pub fn at(&self, index: usize) -> Option<&str> {
        self.columns.get(index).and_then(|(_, v)| v.as_deref())
    }

    pub fn is_true(&self, names: &[&str]) -> bool {
        matches!(self.get(names).map(|v| v.to_ascii_uppercase()).as_deref(), Some("1" | "ON" | "YES" | "TRUE"))
    }
}

/// A connection to one managed server.
pub struct TextConn {
    conn: MySqlConnection,
    target: String,
    read_timeout: Duration,
}

impl TextConn {
    pub async fn connect(spec: &ConnectSpec) -> Result<TextConn, MySqlError> {
        let opts = MySqlConnectOptions::new()
            .host(&spec.host)
            .port(spec.port)
            .username(&spec.user)
            .password(spec.password.expose())
            // Managed servers may or may not have TLS; caching_sha2_password works either way.
            .ssl_mode(MySqlSslMode::Preferred)
            .statement_cache_capacity(0)
            .charset("utf8mb4")
            // sqlx would otherwise spend a round trip per connection on `SET sql_mode=...,
            // time_zone=..., NAMES ...`: the handshake already selects utf8mb4, every value is read
            // as text, and the operator's site queries must run under the server's own sql_mode
            // (PIPES_AS_CONCAT would change what `||` means in them), as with orchestrator.
            .pipes_as_concat(false)
            .no_engine_substitution(false)
            .timezone(None)
            .set_names(false);
        let target = spec.target();
        let conn = match tokio::time::timeout(spec.connect_timeout, MySqlConnection::connect_with(&opts)).await {
            Err(_) => return Err(MySqlError::ConnectTimeout(target)),
            Ok(Err(e)) => return Err(MySqlError::Connect { target, reason: describe(&e) }),
            Ok(Ok(c)) => c,
        };
        Ok(TextConn { conn, target, read_timeout: spec.read_timeout })
    }

    pub fn target(&self) -> &str {
        &self.target
    }

    /// Runs one or more `;`-separated statements in one round trip and returns the rows of each
    /// statement's result set, in order (statements without a result set give an empty list).
    pub async fn query_sets(&mut self, sql: &str) -> Result<Vec<Vec<TextRow>>, MySqlError> {
        match self.query_sets_partial(sql).await? {
            (sets, None) => Ok(sets),
            (_, Some(refused)) => Err(refused),
        }
    }

    /// Like `query_sets`, but when the server refuses a statement (the server stops a batch at
    /// its first error) the result sets of the statements before it are kept: returns them with
    /// the refusal. Only an unreachable or hung server is an `Err`.
    pub async fn query_sets_partial(&mut self, sql: &str) -> Result<(Vec<Vec<TextRow>>, Option<MySqlError>), MySqlError> {
        let started = std::time::Instant::now();
        let fut = async {
            let mut sets: Vec<Vec<TextRow>> = Vec::new();
            let mut current: Vec<TextRow> = Vec::new();
            let mut stream = self.conn.fetch_many(sql);
            loop {
                match stream.try_next().await {
                    Ok(Some(sqlx::Either::Left(_done))) => sets.push(std::mem::take(&mut current)),
                    Ok(Some(sqlx::Either::Right(row))) => current.push(text_row(&row)),
                    Ok(None) => break,
                    Err(e) => return (sets, Some(e)),
                }
            }
            if !current.is_empty() {
                sets.push(current);
            }
            (sets, None)
        };
        match tokio::time::timeout(self.read_timeout, fut).await {
            Err(_) => Err(MySqlError::QueryTimeout { target: self.target.clone(), seconds: started.elapsed().as_secs_f64() }),
            Ok((_, Some(e))) if is_connection_error(&e) => Err(MySqlError::Connect { target: self.target.clone(), reason: describe(&e) }),
            Ok((sets, Some(e))) => Ok((sets, Some(MySqlError::Query { target: self.target.clone(), reason: describe(&e) }))),
            Ok((sets, None)) => Ok((sets, None)),
        }
    }

    /// Runs one statement and returns its rows.
    pub async fn query(&mut self, sql: &str) -> Result<Vec<TextRow>, MySqlError> {
        Ok(self.query_sets(sql).await?.into_iter().next().unwrap_or_default())
    }

    /// Runs statements whose results are not needed.
    pub async fn exec(&mut self, sql: &str) -> Result<(), MySqlError> {
        self.query_sets(sql).await.map(|_| ())
    }

    /// A cheap liveness check.
    pub async fn ping(&mut self) -> Result<(), MySqlError> {
        match tokio::time::timeout(self.read_timeout, self.conn.ping()).await {
            Err(_) => Err(MySqlError::QueryTimeout { target: self.target.clone(), seconds: self.read_timeout.as_secs_f64() }),
            Ok(Err(e)) => Err(MySqlError::Connect { target: self.target.clone(), reason: describe(&e) }),
            Ok(Ok(())) => Ok(()),
        }
    }

    pub async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_millis(500), self.conn.close()).await;
    }
}

fn text_row(row: &sqlx::mysql::MySqlRow) -> TextRow {
    let columns = row
        .columns()
        .iter()
        .map(|c| {
            let value: Option<Vec<u8>> = row.try_get_unchecked(c.ordinal()).ok().flatten();
            (c.name().to_string(), value.map(|v| String::from_utf8_lossy(&v).into_owned()))
        })
        .collect();
    TextRow { columns }
}

fn is_connection_error(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed)
}

/// A one-line description without the statement text (which may hold credentials).
fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("{} ({code})", db.message()),
            None => db.message().to_string(),
        },
        sqlx::Error::Io(io) => io.to_string(),
        other => other.to_string().lines().next().unwrap_or_default().to_string(),
    }
}
