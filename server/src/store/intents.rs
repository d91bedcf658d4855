//! Operator intents in the store: `apply_intent` turns each `IntentCommand` into writes, in one
//! transaction; `load_intents` reads every record back at start. Nothing else writes these
//! tables, so the tables always equal the commands applied in order (what raft will replicate).

use super::{Backend, Store, StoreError};
use crate::intents::model::{Candidate, IntentCommand, IntentSet, PromotionRule, Window};
use app::model::InstanceKey;
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

/// Fixed-width UTC text with every digit of the time (an end time reads back exactly as it was
/// answered before a restart), so that `end_at <= ?` compares times.
fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn time_of(row: &SqliteRow, column: &str) -> Result<DateTime<Utc>, StoreError> {
    let text: String = row.try_get(column)?;
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("{column} {text:?}: {e}")))
}

fn key_of(row: &SqliteRow) -> Result<InstanceKey, StoreError> {
    let port: i64 = row.try_get("port")?;
    let port = u16::try_from(port).map_err(|_| StoreError::Corrupt(format!("port {port}")))?;
    Ok(InstanceKey::new(row.try_get::<String, _>("hostname")?, port))
}

fn window_of(row: &SqliteRow) -> Result<Window, StoreError> {
    Ok(Window {
        instance: key_of(row)?,
        owner: row.try_get("owner")?,
        reason: row.try_get("reason")?,
        begin: time_of(row, "begin_at")?,
        end: time_of(row, "end_at")?,
    })
}

impl Store {
    /// Writes one intent command. The caller (`Intents`) has already checked it against the
    /// current set; this only records it.
    pub async fn apply_intent(&self, command: &IntentCommand) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let mut tx = pool.begin().await?;
        let upsert_window = |table: &str| {
            format!(
                "INSERT INTO {table} (hostname, port, owner, reason, begin_at, end_at) VALUES (?, ?, ?, ?, ?, ?)
                 ON CONFLICT (hostname, port) DO UPDATE SET owner = excluded.owner, reason = excluded.reason,
                 begin_at = excluded.begin_at, end_at = excluded.end_at"
            )
        };
        match command {
            IntentCommand::BeginMaintenance(w) | IntentCommand::BeginDowntime(w) => {
                let table = if matches!(command, IntentCommand::BeginMaintenance(_)) { "maintenance" } else { "downtime" };
                sqlx::query(&upsert_window(table))
                    .bind(&w.instance.hostname)
                    .bind(w.instance.port as i64)
                    .bind(&w.owner)
                    .bind(&w.reason)
                    .bind(time_text(w.begin))
                    .bind(time_text(w.end))
                    .execute(&mut *tx)
                    .await?;
            }
            IntentCommand::EndMaintenance { instance } | IntentCommand::EndDowntime { instance } => {
                let table = if matches!(command, IntentCommand::EndMaintenance { .. }) { "maintenance" } else { "downtime" };
                sqlx::query(&format!("DELETE FROM {table} WHERE hostname = ? AND port = ?"))
                    .bind(&instance.hostname)
                    .bind(instance.port as i64)
                    .execute(&mut *tx)
                    .await?;
            }
            IntentCommand::RegisterCandidate(c) => {
                sqlx::query(
                    "INSERT INTO candidates (hostname, port, promotion_rule, registered_at, expires_at) VALUES (?, ?, ?, ?, ?)
                     ON CONFLICT (hostname, port) DO UPDATE SET promotion_rule = excluded.promotion_rule,
                     registered_at = excluded.registered_at, expires_at = excluded.expires_at",
                )
                .bind(&c.instance.hostname)
                .bind(c.instance.port as i64)
                .bind(c.rule.as_str())
                .bind(time_text(c.registered))
                .bind(time_text(c.expires))
                .execute(&mut *tx)
                .await?;
            }
            IntentCommand::PutTag { instance, tag, at } => {
                sqlx::query(
                    "INSERT INTO tags (hostname, port, name, value, set_at) VALUES (?, ?, ?, ?, ?)
                     ON CONFLICT (hostname, port, name) DO UPDATE SET value = excluded.value, set_at = excluded.set_at",
                )
                .bind(&instance.hostname)
                .bind(instance.port as i64)
                .bind(&tag.name)
                .bind(&tag.value)
                .bind(time_text(*at))
                .execute(&mut *tx)
                .await?;
            }
            IntentCommand::Untag { instance, name, value } => {
                let mut sql = String::from("DELETE FROM tags WHERE name = ?");
                if value.is_some() {
                    sql.push_str(" AND value = ?");
                }
                if instance.is_some() {
                    sql.push_str(" AND hostname = ? AND port = ?");
                }
                let mut q = sqlx::query(&sql).bind(name);
                if let Some(v) = value {
                    q = q.bind(v);
                }
                if let Some(k) = instance {
                    q = q.bind(&k.hostname).bind(k.port as i64);
                }
                q.execute(&mut *tx).await?;
            }
            IntentCommand::Expire { now } => {
                let now = time_text(*now);
                for sql in [
                    "DELETE FROM maintenance WHERE end_at <= ?",
                    "DELETE FROM downtime WHERE end_at <= ?",
                    "DELETE FROM candidates WHERE expires_at <= ?",
                ] {
                    sqlx::query(sql).bind(&now).execute(&mut *tx).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every intent record (ended ones included until they are expired).
    pub async fn load_intents(&self) -> Result<IntentSet, StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let mut set = IntentSet::default();
        for row in sqlx::query("SELECT * FROM maintenance").fetch_all(pool).await? {
            let w = window_of(&row)?;
            set.maintenance.insert(w.instance.clone(), w);
        }
        for row in sqlx::query("SELECT * FROM downtime").fetch_all(pool).await? {
            let w = window_of(&row)?;
            set.downtime.insert(w.instance.clone(), w);
        }
        for row in sqlx::query("SELECT * FROM candidates").fetch_all(pool).await? {
            let rule: String = row.try_get("promotion_rule")?;
            let c = Candidate {
                instance: key_of(&row)?,
                rule: PromotionRule::parse(&rule).map_err(StoreError::Corrupt)?,
                registered: time_of(&row, "registered_at")?,
                expires: time_of(&row, "expires_at")?,
            };
            set.candidates.insert(c.instance.clone(), c);
        }
        for row in sqlx::query("SELECT hostname, port, name, value FROM tags").fetch_all(pool).await? {
            set.tags.entry(key_of(&row)?).or_default().insert(row.try_get("name")?, row.try_get("value")?);
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intents::model::Tag;
    use chrono::Duration;

    /// Applying commands to the store and to a set gives the same records, also after reopening.
    #[tokio::test]
    async fn store_and_set_agree_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o.sqlite3");
        let store = Store::open_sqlite(&path).await.unwrap();
        let t0 = Utc::now();
        let key = |n: &str| InstanceKey::new(n, 3306);
        let window = |n: &str, minutes: i64| Window { instance: key(n), owner: "ops".into(), reason: "disk swap".into(), begin: t0, end: t0 + Duration::minutes(minutes) };
        let tag = |name: &str, value: &str| Tag { name: name.into(), value: value.into() };
        let commands = vec![
            IntentCommand::BeginMaintenance(window("a", 10)),
            IntentCommand::BeginMaintenance(window("b", -1)),
            IntentCommand::BeginDowntime(window("a", 30)),
            IntentCommand::BeginDowntime(window("c", 30)),
            IntentCommand::EndDowntime { instance: key("c") },
            IntentCommand::RegisterCandidate(Candidate { instance: key("a"), rule: PromotionRule::PreferNot, registered: t0, expires: t0 + Duration::minutes(60) }),
            IntentCommand::RegisterCandidate(Candidate { instance: key("b"), rule: PromotionRule::Prefer, registered: t0, expires: t0 - Duration::seconds(1) }),
            IntentCommand::PutTag { instance: key("a"), tag: tag("role", "backup"), at: t0 },
            IntentCommand::PutTag { instance: key("a"), tag: tag("dc", "east"), at: t0 },
            IntentCommand::PutTag { instance: key("b"), tag: tag("dc", "east"), at: t0 },
            IntentCommand::PutTag { instance: key("b"), tag: tag("bare", ""), at: t0 },
            IntentCommand::Untag { instance: Some(key("a")), name: "dc".into(), value: None },
            IntentCommand::Untag { instance: None, name: "role".into(), value: Some("other".into()) },
            IntentCommand::Expire { now: t0 },
        ];
        let mut expected = IntentSet::default();
        for c in &commands {
            expected.apply(c).unwrap();
            store.apply_intent(c).await.unwrap();
        }
        assert_eq!(expected.maintenance.len(), 1, "b's window had ended");
        assert!(expected.candidates.contains_key(&key("a")) && !expected.candidates.contains_key(&key("b")));
        drop(store);
        let store = Store::open_sqlite(&path).await.unwrap();
        let loaded = store.load_intents().await.unwrap();
        assert_eq!(loaded, expected);
        assert_eq!(loaded.tags_of(&key("b")).iter().map(Tag::stored_form).collect::<Vec<_>>(), ["bare=", "dc=east"]);
    }
}
