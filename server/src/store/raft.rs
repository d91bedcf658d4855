//! The raft tables (migration 0005) and the copy of the replicated tables that snapshots carry.
//!
//! `raft_log` holds log entries as JSON by index; `raft_meta` holds small named JSON values (vote,
//! committed, purged and applied pointers, membership) and the current snapshot with its bytes.
//! `export_replicated` copies the replicated tables generically (column names and SQLite values)
//! in one read transaction; `import_replicated` replaces them in one write transaction. The
//! observed cache travels only as a list of servers for the importing node to discover.

use super::{Backend, Store, StoreError};
use app::model::InstanceKey;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};
use sqlx::query::Query;
use sqlx::sqlite::{Sqlite, SqliteArguments, SqliteConnection, SqliteRow};
use sqlx::{Row, TypeInfo, ValueRef};

/// The tables raft replicates: the same rows on every node, changed only by `raft::Command`s.
pub const REPLICATED_TABLES: &[&str] = &[
    "discovery_seeds",
    "cluster_aliases",
    "maintenance",
    "downtime",
    "candidates",
    "tags",
    "topology_recovery",
    "failure_detection",
    "blocked_recovery",
    "node_settings",
    "pending_fence",
];

/// The `raft_meta` row of the current snapshot (its meta in `value`, its bytes in `data`).
const SNAPSHOT: &str = "snapshot";

/// A log index as SQLite stores it.
fn index(i: u64) -> i64 {
    i.min(i64::MAX as u64) as i64
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

impl Store {
    /// Writes log entries, `(index, entry as JSON)`, in one transaction (replacing same indexes).
    pub async fn raft_append(&self, entries: &[(u64, String)]) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let mut tx = pool.begin().await?;
        for (i, entry) in entries {
            sqlx::query("INSERT OR REPLACE INTO raft_log (log_index, entry) VALUES (?, ?)")
                .bind(index(*i))
                .bind(entry)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The entries with `start <= index < end`, in order.
    pub async fn raft_entries(&self, start: u64, end: u64) -> Result<Vec<String>, StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let rows = sqlx::query("SELECT entry FROM raft_log WHERE log_index >= ? AND log_index < ? ORDER BY log_index")
            .bind(index(start))
            .bind(index(end))
            .fetch_all(pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get("entry")?)).collect()
    }

    /// The last entry, if any.
    pub async fn raft_last_entry(&self) -> Result<Option<String>, StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let row = sqlx::query("SELECT entry FROM raft_log ORDER BY log_index DESC LIMIT 1").fetch_optional(pool).await?;
        Ok(row.map(|r| r.try_get("entry")).transpose()?)
    }

    /// Deletes the entries from `since` on.
    pub async fn raft_truncate(&self, since: u64) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        sqlx::query("DELETE FROM raft_log WHERE log_index >= ?").bind(index(since)).execute(pool).await?;
        Ok(())
    }

    /// Deletes the entries up to `upto` and records `last_purged`, in one transaction.
    pub async fn raft_purge(&self, upto: u64, last_purged: &Value) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM raft_log WHERE log_index <= ?").bind(index(upto)).execute(&mut *tx).await?;
        put_meta(&mut tx, "last_purged", last_purged, None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A named value of `raft_meta`, read as `T`.
    pub async fn raft_meta<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let row = sqlx::query("SELECT value FROM raft_meta WHERE name = ?").bind(name).fetch_optional(pool).await?;
        let Some(row) = row else { return Ok(None) };
        let text: String = row.try_get("value")?;
        serde_json::from_str(&text).map(Some).map_err(|e| corrupt(format!("raft_meta {name}: {e}")))
    }

    /// Sets named values of `raft_meta`, in one transaction.
    pub async fn raft_set_meta(&self, items: &[(&str, Value)]) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let mut tx = pool.begin().await?;
        for (name, value) in items {
            put_meta(&mut tx, name, value, None).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The current snapshot: its meta (JSON) and its bytes.
    pub async fn raft_snapshot(&self) -> Result<Option<(Value, Vec<u8>)>, StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let row = sqlx::query("SELECT value, data FROM raft_meta WHERE name = ?").bind(SNAPSHOT).fetch_optional(pool).await?;
        let Some(row) = row else { return Ok(None) };
        let meta: String = row.try_get("value")?;
        let meta = serde_json::from_str(&meta).map_err(|e| corrupt(format!("snapshot meta: {e}")))?;
        Ok(Some((meta, row.try_get::<Option<Vec<u8>>, _>("data")?.unwrap_or_default())))
    }

    /// Makes `meta` and `data` the current snapshot.
    pub async fn raft_set_snapshot(&self, meta: &Value, data: &[u8]) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let mut conn = pool.acquire().await?;
        put_meta(&mut conn, SNAPSHOT, meta, Some(data)).await
    }

    /// A consistent copy of the replicated tables (`tables`: per table `columns` and `rows`),
    /// their AUTOINCREMENT counters (`sequences`) and the known servers (`instances`).
    pub async fn export_replicated(&self) -> Result<Value, StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let mut tx = pool.begin().await?;
        let mut tables = Map::new();
        for table in REPLICATED_TABLES {
            let columns = table_columns(&mut tx, table).await?;
            let list = columns.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
            let rows = sqlx::query(&format!("SELECT {list} FROM {table} ORDER BY rowid")).fetch_all(&mut *tx).await?;
            let rows = rows.iter().map(|r| (0..columns.len()).map(|i| cell(r, i)).collect::<Result<Vec<_>, _>>()).collect::<Result<Vec<_>, _>>()?;
            tables.insert(table.to_string(), json!({ "columns": columns, "rows": rows }));
        }
        let mut sequences = Map::new();
        for row in sqlx::query("SELECT name, seq FROM sqlite_sequence").fetch_all(&mut *tx).await? {
            let name: String = row.try_get("name")?;
            if REPLICATED_TABLES.contains(&name.as_str()) {
                sequences.insert(name, json!(row.try_get::<i64, _>("seq")?));
            }
        }
        let instances = sqlx::query("SELECT hostname, port FROM instances ORDER BY hostname, port")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| Ok(InstanceKey::new(r.try_get::<String, _>("hostname")?, r.try_get::<i64, _>("port")? as u16)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        tx.commit().await?;
        Ok(json!({ "tables": tables, "sequences": sequences, "instances": instances }))
    }

    /// Replaces the replicated tables' contents with an export, in one transaction. A table the
    /// export lacks ends up empty.
    pub async fn import_replicated(&self, v: &Value) -> Result<(), StoreError> {
        self.install_replicated(v, &[], None).await
    }

    /// `import_replicated`, plus `raft_meta` values and the current snapshot, in one transaction.
    pub async fn install_replicated(&self, v: &Value, meta: &[(&str, Value)], snapshot: Option<(&Value, &[u8])>) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let tables = v.get("tables").and_then(Value::as_object).ok_or_else(|| corrupt("replicated data has no tables"))?;
        let mut known = Vec::new();
        {
            let mut conn = pool.acquire().await?;
            for table in REPLICATED_TABLES {
                known.push(table_columns(&mut conn, table).await?);
            }
        }
        // Writes first, so that the transaction takes the write lock at once.
        let mut tx = pool.begin().await?;
        for (table, known) in REPLICATED_TABLES.iter().zip(&known) {
            sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *tx).await?;
            let Some(t) = tables.get(*table) else { continue };
            let columns: Vec<String> = serde_json::from_value(t["columns"].clone()).map_err(|e| corrupt(format!("{table} columns: {e}")))?;
            if let Some(c) = columns.iter().find(|c| !known.contains(c)) {
                return Err(corrupt(format!("table {table} has no column {c}")));
            }
            let list = columns.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
            let sql = format!("INSERT INTO {table} ({list}) VALUES ({})", vec!["?"; columns.len()].join(", "));
            for row in t["rows"].as_array().into_iter().flatten() {
                let cells = row.as_array().filter(|c| c.len() == columns.len()).ok_or_else(|| corrupt(format!("bad row in {table}")))?;
                let mut query = sqlx::query(&sql);
                for c in cells {
                    query = bind_cell(query, c)?;
                }
                query.execute(&mut *tx).await?;
            }
        }
        for table in REPLICATED_TABLES {
            sqlx::query("DELETE FROM sqlite_sequence WHERE name = ?").bind(table).execute(&mut *tx).await?;
            if let Some(seq) = v["sequences"].get(*table).and_then(Value::as_i64) {
                sqlx::query("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)").bind(table).bind(seq).execute(&mut *tx).await?;
            }
        }
        for (name, value) in meta {
            put_meta(&mut tx, name, value, None).await?;
        }
        if let Some((meta, data)) = snapshot {
            put_meta(&mut tx, SNAPSHOT, meta, Some(data)).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The servers an export knew (the exporting node's observed cache), for discovery to probe.
pub fn exported_instances(v: &Value) -> Vec<InstanceKey> {
    serde_json::from_value(v["instances"].clone()).unwrap_or_default()
}

async fn put_meta(conn: &mut SqliteConnection, name: &str, value: &Value, data: Option<&[u8]>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO raft_meta (name, value, data) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, data = excluded.data",
    )
    .bind(name)
    .bind(value.to_string())
    .bind(data)
    .execute(conn)
    .await?;
    Ok(())
}

async fn table_columns(conn: &mut SqliteConnection, table: &str) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query("SELECT name FROM pragma_table_info(?) ORDER BY cid").bind(table).fetch_all(conn).await?;
    rows.iter().map(|r| Ok(r.try_get("name")?)).collect()
}

/// One SQLite value as JSON: numbers, strings, null, and blobs as `{"blob": "<hex>"}`.
fn cell(row: &SqliteRow, i: usize) -> Result<Value, StoreError> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let kind = raw.type_info().name().to_string();
    Ok(match kind.as_str() {
        "INTEGER" => json!(row.try_get::<i64, _>(i)?),
        "REAL" => json!(row.try_get::<f64, _>(i)?),
        "TEXT" => json!(row.try_get::<String, _>(i)?),
        "BLOB" => json!({ "blob": row.try_get::<Vec<u8>, _>(i)?.iter().map(|b| format!("{b:02x}")).collect::<String>() }),
        other => return Err(corrupt(format!("unexpected SQLite value of type {other}"))),
    })
}

fn bind_cell<'q>(query: Query<'q, Sqlite, SqliteArguments<'q>>, cell: &Value) -> Result<Query<'q, Sqlite, SqliteArguments<'q>>, StoreError> {
    Ok(match cell {
        Value::Null => query.bind(None::<i64>),
        Value::Number(n) if n.is_i64() => query.bind(n.as_i64()),
        Value::Number(n) => query.bind(n.as_f64()),
        Value::String(s) => query.bind(s.clone()),
        Value::Object(o) => {
            let hex = o.get("blob").and_then(Value::as_str).ok_or_else(|| corrupt(format!("bad cell {cell}")))?;
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| hex.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(|| corrupt(format!("bad blob {hex}")))?;
            query.bind(bytes)
        }
        _ => return Err(corrupt(format!("bad cell {cell}"))),
    })
}

/// Discovery seeds: what a node probes first after a restart (replicated).
impl Store {
    pub async fn add_discovery_seed(&self, key: &InstanceKey) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        sqlx::query("INSERT OR IGNORE INTO discovery_seeds (hostname, port) VALUES (?, ?)")
            .bind(&key.hostname)
            .bind(key.port as i64)
            .execute(pool)
            .await?;
        Ok(())
    }

    pub async fn remove_discovery_seeds(&self, keys: &[InstanceKey]) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        for key in keys {
            sqlx::query("DELETE FROM discovery_seeds WHERE hostname = ? AND port = ?").bind(&key.hostname).bind(key.port as i64).execute(pool).await?;
        }
        Ok(())
    }

    pub async fn discovery_seeds(&self) -> Result<Vec<InstanceKey>, StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let rows: Vec<(String, i64)> = sqlx::query_as("SELECT hostname, port FROM discovery_seeds ORDER BY hostname, port").fetch_all(pool).await?;
        Ok(rows.into_iter().map(|(h, p)| InstanceKey::new(h, p as u16)).collect())
    }
}
