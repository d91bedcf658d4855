//! The node's own database.
//!
//! # What is stored, and why
//! - **Observed cache** (`instances`): the last probe of every known server. Discovery is the
//!   only writer and can rebuild it from the servers themselves; it is kept so that a restarted
//!   node knows at once which servers to poll and shows their last known state meanwhile.
//!   Written behind (batched), never on the request path.
//! - **Operator intent** (`cluster_aliases`, `maintenance`, `downtime`, `candidates`, `tags`):
//!   what people declared. It cannot be rebuilt from the servers, so it is written before the
//!   request is answered. Maintenance, downtime, promotion rules and tags are plain records
//!   changed only by `IntentCommand`s through `apply_intent` (module `intents`), each command
//!   carrying its own timestamps: applied in the same order they give the same tables anywhere,
//!   which is what raft will replicate. Ended windows and expired registrations stop counting at
//!   their end time (readers compare with the clock); the caretaker deletes them later.
//! - **History** (`audit`): what operators and the node did, for `orchestrator -c audit`.
//! - **Recoveries** (`topology_recovery`, `failure_detection`, `blocked_recovery`,
//!   `node_settings`; module `recoveries`): every recovery with its timeline, acknowledgements,
//!   detections, why recoveries did not run, the global recovery switch and observe-only mode.
//!   Anti-flapping reads them, so a restarted node remembers what it recovered.
//!
//! SQLite (embedded, `SQLite3DataFile`) is the default backend. The backend is an enum so that a
//! MySQL backend (`BackendDB: "mysql"`) is one more variant with its own migrations; callers only
//! see `Store`'s methods. Migrations are embedded in the binary and applied at open.

mod intents;
pub mod recoveries;
pub mod raft;

pub use recoveries::{AckTarget, BlockedRow, DetectionRow, NewDetection, NewRecovery, RecoveryQuery, RecoveryRow, Registration};

use crate::topology::Observed;
use app::model::InstanceKey;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Row;
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

/// Why the store failed. Every variant is fatal for the operation that hit it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("store migration {name} failed: {reason}")]
    Migration { name: String, reason: String },
    #[error("store query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("stored record is unreadable: {0}")]
    Corrupt(String),
}

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    #[serde(rename = "AuditId")]
    pub id: i64,
    #[serde(rename = "AuditTimestamp")]
    pub at: DateTime<Utc>,
    #[serde(rename = "AuditType")]
    pub action: String,
    #[serde(rename = "AuditInstanceKey")]
    pub instance: InstanceKey,
    #[serde(rename = "ClusterName")]
    pub cluster: String,
    #[serde(rename = "Who")]
    pub who: String,
    #[serde(rename = "Message")]
    pub message: String,
    /// For operations: the plan, every step run with its statements and timing, the rollback.
    #[serde(rename = "Details", skip_serializing_if = "serde_json::Value::is_null", default)]
    pub details: serde_json::Value,
}

enum Backend {
    Sqlite(SqlitePool),
}

/// Handle to the node's database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: std::sync::Arc<Backend>,
    /// Serializes check-then-write sequences (registering a recovery against the active ones).
    serial: std::sync::Arc<tokio::sync::Mutex<()>>,
}

const SQLITE_MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("sqlite/0001_init.sql")),
    ("0002_audit_details", include_str!("sqlite/0002_audit_details.sql")),
    ("0003_intents", include_str!("sqlite/0003_intents.sql")),
    ("0004_recoveries", include_str!("sqlite/0004_recoveries.sql")),
    ("0005_raft", include_str!("sqlite/0005_raft.sql")),
];

impl Store {
    /// Opens (creating if needed) the SQLite file and applies pending migrations. Commits reach
    /// the file's write-ahead log; they survive the process, not necessarily a power loss.
    pub async fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        Store::open_sqlite_with(path, SqliteSynchronous::Normal).await
    }

    /// As `open_sqlite`, but every commit is on disk before it returns (`synchronous=FULL`):
    /// raft requires its vote and log entries to be durable before it acknowledges them.
    pub async fn open_sqlite_durable(path: &Path) -> Result<Store, StoreError> {
        Store::open_sqlite_with(path, SqliteSynchronous::Full).await
    }

    async fn open_sqlite_with(path: &Path, synchronous: SqliteSynchronous) -> Result<Store, StoreError> {
        let open_err = |reason: String| StoreError::Open { path: path.display().to_string(), reason };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        let opts = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|e| open_err(e.to_string()))?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(|e| open_err(e.to_string()))?;
        migrate_sqlite(&pool).await?;
        Ok(Store { backend: std::sync::Arc::new(Backend::Sqlite(pool)), serial: Default::default() })
    }

    /// Every instance in the observed cache.
    pub async fn load_instances(&self) -> Result<Vec<Observed>, StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let rows = sqlx::query("SELECT observed FROM instances ORDER BY hostname, port").fetch_all(pool).await?;
        rows.iter()
            .map(|r| {
                let text: String = r.try_get("observed")?;
                serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect()
    }

    /// Writes a batch of observations in one transaction.
    pub async fn save_instances(&self, batch: &[Observed]) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let mut tx = pool.begin().await?;
        for obs in batch {
            let i = &obs.instance;
            let json = serde_json::to_string(obs).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query(
                "INSERT INTO instances (hostname, port, last_checked, last_seen, observed) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (hostname, port) DO UPDATE SET last_checked = excluded.last_checked,
                 last_seen = excluded.last_seen, observed = excluded.observed",
            )
            .bind(&i.key.hostname)
            .bind(i.key.port as i64)
            .bind(i.last_checked.map(|t| t.to_rfc3339()))
            .bind(i.last_seen.map(|t| t.to_rfc3339()))
            .bind(json)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_instances(&self, keys: &[InstanceKey]) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let mut tx = pool.begin().await?;
        for k in keys {
            sqlx::query("DELETE FROM instances WHERE hostname = ? AND port = ?")
                .bind(&k.hostname)
                .bind(k.port as i64)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn cluster_aliases(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let rows = sqlx::query("SELECT cluster_name, alias FROM cluster_aliases").fetch_all(pool).await?;
        rows.iter().map(|r| Ok((r.try_get("cluster_name")?, r.try_get("alias")?))).collect()
    }

    /// Sets (or, with an empty alias, removes) a cluster's alias.
    pub async fn set_cluster_alias(&self, cluster: &str, alias: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        if alias.is_empty() {
            sqlx::query("DELETE FROM cluster_aliases WHERE cluster_name = ?").bind(cluster).execute(pool).await?;
        } else {
            sqlx::query(
                "INSERT INTO cluster_aliases (cluster_name, alias, set_at) VALUES (?, ?, ?)
                 ON CONFLICT (cluster_name) DO UPDATE SET alias = excluded.alias, set_at = excluded.set_at",
            )
            .bind(cluster)
            .bind(alias)
            .bind(at.to_rfc3339())
            .execute(pool)
            .await?;
        }
        Ok(())
    }

    pub async fn audit(&self, action: &str, instance: &InstanceKey, cluster: &str, who: &str, message: &str) -> Result<(), StoreError> {
        self.audit_with_details(action, instance, cluster, who, message, &serde_json::Value::Null).await
    }

    /// An audit entry with structured details (an operation's report).
    pub async fn audit_with_details(
        &self,
        action: &str,
        instance: &InstanceKey,
        cluster: &str,
        who: &str,
        message: &str,
        details: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let details = if details.is_null() { String::new() } else { details.to_string() };
        sqlx::query("INSERT INTO audit (at, action, hostname, port, cluster, who, message, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(Utc::now().to_rfc3339())
            .bind(action)
            .bind(&instance.hostname)
            .bind(instance.port as i64)
            .bind(cluster)
            .bind(who)
            .bind(message)
            .bind(details)
            .execute(pool)
            .await?;
        Ok(())
    }

    /// Audit entries, newest first; `page` counts from 0, 20 per page as orchestrator.
    /// The latest `limit` entries whose action is one of `actions`, newest first.
    pub async fn list_audit_actions(&self, actions: &[&str], limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let marks = vec!["?"; actions.len().max(1)].join(", ");
        let sql = format!("SELECT id, at, action, hostname, port, cluster, who, message, details FROM audit WHERE action IN ({marks}) ORDER BY id DESC LIMIT ?");
        let mut query = sqlx::query(&sql);
        for a in actions {
            query = query.bind(*a);
        }
        let rows = query.bind(limit as i64).fetch_all(pool).await?;
        rows.iter().map(audit_entry).collect()
    }

    pub async fn list_audit(&self, page: u32, instance: Option<&InstanceKey>) -> Result<Vec<AuditEntry>, StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        const COLUMNS: &str = "SELECT id, at, action, hostname, port, cluster, who, message, details FROM audit";
        let offset = page as i64 * 20;
        let rows = match instance {
            Some(k) => {
                sqlx::query(&format!("{COLUMNS} WHERE hostname = ? AND port = ? ORDER BY id DESC LIMIT 20 OFFSET ?"))
                    .bind(&k.hostname)
                    .bind(k.port as i64)
                    .bind(offset)
                    .fetch_all(pool)
                    .await?
            }
            None => sqlx::query(&format!("{COLUMNS} ORDER BY id DESC LIMIT 20 OFFSET ?")).bind(offset).fetch_all(pool).await?,
        };
        rows.iter().map(audit_entry).collect()
    }

    /// A digest of everything stored, for tests that check a refused request changed nothing.
    pub async fn fingerprint(&self) -> Result<String, StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let mut out = String::new();
        for sql in [
            "SELECT hostname || ':' || port FROM instances ORDER BY 1",
            "SELECT cluster_name || '=' || alias FROM cluster_aliases ORDER BY 1",
            "SELECT 'maintenance ' || hostname || ':' || port || ' ' || owner || ' ' || reason || ' ' || end_at FROM maintenance ORDER BY 1",
            "SELECT 'downtime ' || hostname || ':' || port || ' ' || owner || ' ' || reason || ' ' || end_at FROM downtime ORDER BY 1",
            "SELECT 'candidate ' || hostname || ':' || port || ' ' || promotion_rule || ' ' || expires_at FROM candidates ORDER BY 1",
            "SELECT 'tag ' || hostname || ':' || port || ' ' || name || '=' || value FROM tags ORDER BY 1",
            "SELECT CAST(COUNT(*) AS TEXT) FROM audit",
        ] {
            for row in sqlx::query(sql).fetch_all(pool).await? {
                out.push_str(&row.try_get::<String, _>(0)?);
                out.push('\n');
            }
        }
        Ok(out)
    }
}

async fn migrate_sqlite(pool: &SqlitePool) -> Result<(), StoreError> {
    let fail = |name: &str, e: sqlx::Error| StoreError::Migration { name: name.to_string(), reason: e.to_string() };
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        .execute(pool)
        .await
        .map_err(|e| fail("schema_migrations", e))?;
    for (name, sql) in SQLITE_MIGRATIONS {
        let done: Option<(String,)> = sqlx::query_as("SELECT name FROM schema_migrations WHERE name = ?")
            .bind(name)
            .fetch_optional(pool)
            .await
            .map_err(|e| fail(name, e))?;
        if done.is_some() {
            continue;
        }
        let mut tx = pool.begin().await.map_err(|e| fail(name, e))?;
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(|e| fail(name, e))?;
        sqlx::query("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)")
            .bind(name)
            .bind(Utc::now().to_rfc3339())
            .execute(&mut *tx)
            .await
            .map_err(|e| fail(name, e))?;
        tx.commit().await.map_err(|e| fail(name, e))?;
    }
    Ok(())
}

/// One audit row as an entry.
fn audit_entry(r: &sqlx::sqlite::SqliteRow) -> Result<AuditEntry, StoreError> {
    let at: String = r.try_get("at")?;
    let port: i64 = r.try_get("port")?;
    Ok(AuditEntry {
        id: r.try_get("id")?,
        at: DateTime::parse_from_rfc3339(&at).map(|t| t.with_timezone(&Utc)).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        action: r.try_get("action")?,
        instance: InstanceKey::new(r.try_get::<String, _>("hostname")?, port as u16),
        cluster: r.try_get("cluster")?,
        who: r.try_get("who")?,
        message: r.try_get("message")?,
        details: {
            let text: String = r.try_get("details")?;
            if text.is_empty() { serde_json::Value::Null } else { serde_json::from_str(&text).unwrap_or(serde_json::Value::Null) }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::Instance;

    #[tokio::test]
    async fn instances_aliases_and_audit_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/orchestrator.sqlite3");
        let store = Store::open_sqlite(&path).await.unwrap();
        let mut obs = Observed { instance: Instance::unseen(InstanceKey::new("db1", 3306)), ..Default::default() };
        obs.reported_replicas = vec![InstanceKey::new("db2", 3306)];
        store.save_instances(&[obs.clone()]).await.unwrap();
        obs.instance.version = "8.0.36".into();
        store.save_instances(&[obs.clone()]).await.unwrap();
        store.set_cluster_alias("db1:3306", "main", Utc::now()).await.unwrap();
        store.audit("discover", &obs.instance.key, "db1:3306", "test", "found").await.unwrap();
        drop(store);

        let store = Store::open_sqlite(&path).await.unwrap();
        let loaded = store.load_instances().await.unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].instance.version, "8.0.36");
        assert_eq!(loaded[0].reported_replicas, obs.reported_replicas);
        assert_eq!(store.cluster_aliases().await.unwrap()["db1:3306"], "main");
        let audit = store.list_audit(0, None).await.unwrap();
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].action, "discover");
        assert_eq!(store.list_audit(0, Some(&InstanceKey::new("db1", 3306))).await.unwrap().len(), 1);
        assert_eq!(store.list_audit(0, Some(&InstanceKey::new("db9", 3306))).await.unwrap().len(), 0);

        store.delete_instances(&[InstanceKey::new("db1", 3306)]).await.unwrap();
        store.set_cluster_alias("db1:3306", "", Utc::now()).await.unwrap();
        assert!(store.load_instances().await.unwrap().is_empty());
        assert!(store.cluster_aliases().await.unwrap().is_empty());
    }
}

