//! Recoveries, failure detections, blocked recoveries and the node-wide recovery switches
//! (migration 0004). The anti-flapping decision is taken here, in one transaction with the
//! registration, so two recoveries of one cluster cannot both pass it.

use super::{Backend, Store, StoreError};
use app::model::InstanceKey;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn time_opt(row: &SqliteRow, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    let text: String = row.try_get(column)?;
    if text.is_empty() {
        return Ok(None);
    }
    DateTime::parse_from_rfc3339(&text).map(|t| Some(t.with_timezone(&Utc))).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

fn time_of(row: &SqliteRow, column: &str) -> Result<DateTime<Utc>, StoreError> {
    time_opt(row, column)?.ok_or_else(|| StoreError::Corrupt(format!("{column} is empty")))
}

fn key_of(row: &SqliteRow, host: &str, port: &str) -> Result<InstanceKey, StoreError> {
    let port: i64 = row.try_get(port)?;
    Ok(InstanceKey::new(row.try_get::<String, _>(host)?, port as u16))
}

/// A recovery about to start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewRecovery {
    pub uid: String,
    pub failed: InstanceKey,
    pub cluster: String,
    pub cluster_alias: String,
    pub analysis: String,
    /// orchestrator's `Type`: `MasterRecovery`, `IntermediateMasterRecovery`, ...
    pub kind: String,
    /// Empty for an automated recovery, else the command (`graceful-master-takeover`, ...).
    pub command: String,
    pub node: String,
    pub started: DateTime<Utc>,
}

/// What registering a recovery answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Registration {
    /// Registered under this id: go on.
    Registered(i64),
    /// An active recovery blocks it (anti-flapping); nothing was written.
    Blocked(RecoveryRow),
}

/// One stored recovery, in orchestrator's `TopologyRecovery` shape plus our record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecoveryRow {
    #[serde(rename = "Id")]
    pub id: i64,
    #[serde(rename = "UID")]
    pub uid: String,
    #[serde(rename = "AnalysisEntry")]
    pub analysis_entry: serde_json::Value,
    #[serde(rename = "FailedInstanceKey")]
    pub failed: InstanceKey,
    #[serde(rename = "ClusterName")]
    pub cluster: String,
    #[serde(rename = "ClusterAlias")]
    pub cluster_alias: String,
    #[serde(rename = "Analysis")]
    pub analysis: String,
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Command")]
    pub command: String,
    #[serde(rename = "SuccessorKey")]
    pub successor: Option<InstanceKey>,
    /// Not acknowledged and started within `RecoveryPeriodBlockSeconds`: it blocks automated
    /// recoveries of its cluster.
    #[serde(rename = "IsActive")]
    pub is_active: bool,
    /// Still running (no end time).
    #[serde(rename = "IsRunning")]
    pub is_running: bool,
    #[serde(rename = "IsSuccessful")]
    pub successful: bool,
    #[serde(rename = "LostReplicas")]
    pub lost_replicas: Vec<InstanceKey>,
    #[serde(rename = "AllErrors")]
    pub all_errors: Vec<String>,
    #[serde(rename = "RecoveryStartTimestamp")]
    pub started: DateTime<Utc>,
    #[serde(rename = "RecoveryEndTimestamp")]
    pub ended: Option<DateTime<Utc>>,
    #[serde(rename = "ProcessingNodeHostname")]
    pub node: String,
    #[serde(rename = "Acknowledged")]
    pub acknowledged: bool,
    #[serde(rename = "AcknowledgedAt")]
    pub acknowledged_at: Option<DateTime<Utc>>,
    #[serde(rename = "AcknowledgedBy")]
    pub acknowledged_by: String,
    #[serde(rename = "AcknowledgedComment")]
    pub acknowledged_comment: String,
    #[serde(rename = "Summary")]
    pub summary: String,
    /// The timeline: every step, hook and decision (`RecoveryRecord`).
    #[serde(rename = "Record")]
    pub record: serde_json::Value,
}

/// One stored failure detection (orchestrator's `audit-failure-detection` rows).
#[derive(Clone, Debug, Serialize)]
pub struct DetectionRow {
    #[serde(rename = "Id")]
    pub id: i64,
    #[serde(rename = "AnalysisEntry")]
    pub analysis_entry: serde_json::Value,
    #[serde(rename = "FailedInstanceKey")]
    pub failed: InstanceKey,
    #[serde(rename = "ClusterName")]
    pub cluster: String,
    #[serde(rename = "ClusterAlias")]
    pub cluster_alias: String,
    #[serde(rename = "Analysis")]
    pub analysis: String,
    #[serde(rename = "Description")]
    pub description: String,
    #[serde(rename = "CountReplicas")]
    pub count_replicas: i64,
    #[serde(rename = "RecoveryStartTimestamp")]
    pub detected: DateTime<Utc>,
    #[serde(rename = "ProcessingNodeHostname")]
    pub node: String,
    #[serde(rename = "Acknowledged")]
    pub acknowledged: bool,
    #[serde(rename = "AcknowledgedAt")]
    pub acknowledged_at: Option<DateTime<Utc>>,
    #[serde(rename = "AcknowledgedBy")]
    pub acknowledged_by: String,
    #[serde(rename = "AcknowledgedComment")]
    pub acknowledged_comment: String,
}

/// A detection about to be registered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewDetection {
    pub failed: InstanceKey,
    pub cluster: String,
    pub cluster_alias: String,
    pub analysis: String,
    pub description: String,
    pub count_replicas: usize,
    pub node: String,
    pub detected: DateTime<Utc>,
}

/// A recovery that did not run, and why (orchestrator's `blocked-recoveries`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BlockedRow {
    #[serde(rename = "FailedInstanceKey")]
    pub failed: InstanceKey,
    #[serde(rename = "ClusterName")]
    pub cluster: String,
    #[serde(rename = "Analysis")]
    pub analysis: String,
    #[serde(rename = "Reason")]
    pub reason: String,
    /// 0 when not blocked by a recovery (filters, downtime, switches).
    #[serde(rename = "BlockingRecoveryId")]
    pub blocking_recovery_id: i64,
    #[serde(rename = "FirstBlockedTimestamp")]
    pub first_blocked: DateTime<Utc>,
    #[serde(rename = "LastBlockedTimestamp")]
    pub last_blocked: DateTime<Utc>,
}

/// Which recoveries an acknowledgement is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AckTarget {
    All,
    /// By cluster name (the caller resolved aliases and hints).
    Cluster(String),
    Instance(InstanceKey),
    Id(i64),
    Uid(String),
}

/// Which recoveries a listing shows.
#[derive(Clone, Debug, Default)]
pub struct RecoveryQuery {
    pub cluster: Option<String>,
    pub instance: Option<InstanceKey>,
    pub id: Option<i64>,
    pub uid: Option<String>,
    /// Only those active (unacknowledged, started at or after this time).
    pub active_since: Option<DateTime<Utc>>,
    /// Only those that ended at or after this time, or are still running.
    pub recent_since: Option<DateTime<Utc>>,
    pub page: u32,
}

/// Rows per page, as orchestrator's `audit-recovery`.
pub const PAGE: i64 = 50;

const RECOVERY_COLUMNS: &str = "SELECT id, uid, hostname, port, cluster, cluster_alias, analysis, kind, command, processing_node, \
    started_at, ended_at, successful, successor_hostname, successor_port, summary, record, acknowledged, acknowledged_at, \
    acknowledged_by, acknowledged_comment FROM topology_recovery";

impl Store {
    /// Registers `new` unless an active recovery blocks it: one not acknowledged, started at or
    /// after `active_since`, on the same cluster, or whose successor is the failing server or
    /// heads the failing cluster. `forced` (a command) registers without the check.
    pub async fn register_recovery(&self, new: &NewRecovery, active_since: DateTime<Utc>, forced: bool) -> Result<Registration, StoreError> {
        let _serial = self.serial.lock().await;
        let Backend::Sqlite(pool) = &*self.backend;
        // Registered already under this uid: a raft entry applied again after a crash between
        // the apply and the saving of the applied index gets the same answer, not a second row.
        let existing: Option<(i64,)> = sqlx::query_as("SELECT id FROM topology_recovery WHERE uid = ?").bind(&new.uid).fetch_optional(pool).await?;
        if let Some((id,)) = existing {
            return Ok(Registration::Registered(id));
        }
        if !forced {
            let row = sqlx::query(&format!(
                "{RECOVERY_COLUMNS} WHERE acknowledged = 0 AND started_at >= ? AND (cluster = ? \
                 OR (successor_hostname || ':' || successor_port) = ? OR (successor_hostname = ? AND successor_port = ?)) \
                 ORDER BY id DESC LIMIT 1"
            ))
            .bind(time_text(active_since))
            .bind(&new.cluster)
            .bind(&new.cluster)
            .bind(&new.failed.hostname)
            .bind(new.failed.port as i64)
            .fetch_optional(pool)
            .await?;
            if let Some(row) = row {
                return Ok(Registration::Blocked(recovery_row(&row, Some(active_since))?));
            }
        }
        let id = sqlx::query(
            "INSERT INTO topology_recovery (uid, hostname, port, cluster, cluster_alias, analysis, kind, command, processing_node, started_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&new.uid)
        .bind(&new.failed.hostname)
        .bind(new.failed.port as i64)
        .bind(&new.cluster)
        .bind(&new.cluster_alias)
        .bind(&new.analysis)
        .bind(&new.kind)
        .bind(&new.command)
        .bind(&new.node)
        .bind(time_text(new.started))
        .execute(pool)
        .await?
        .last_insert_rowid();
        Ok(Registration::Registered(id))
    }

    /// Records how recovery `id` ended.
    pub async fn finish_recovery(
        &self,
        id: i64,
        successful: bool,
        successor: Option<&InstanceKey>,
        summary: &str,
        record: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        sqlx::query(
            "UPDATE topology_recovery SET ended_at = ?, successful = ?, successor_hostname = ?, successor_port = ?, summary = ?, record = ? WHERE id = ?",
        )
        .bind(time_text(at))
        .bind(successful as i64)
        .bind(successor.map(|k| k.hostname.as_str()).unwrap_or(""))
        .bind(successor.map(|k| k.port as i64).unwrap_or(0))
        .bind(summary)
        .bind(record.to_string())
        .bind(id)
        .execute(pool)
        .await?;
        Ok(())
    }

    /// Recoveries, newest first, `PAGE` per page. `active_since` decides `IsActive`.
    pub async fn list_recoveries(&self, q: &RecoveryQuery, active_since: DateTime<Utc>) -> Result<Vec<RecoveryRow>, StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let mut sql = format!("{RECOVERY_COLUMNS} WHERE 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        if let Some(c) = &q.cluster {
            sql.push_str(" AND cluster = ?");
            binds.push(c.clone());
        }
        if let Some(k) = &q.instance {
            sql.push_str(" AND hostname = ? AND port = ?");
            binds.push(k.hostname.clone());
            binds.push(k.port.to_string());
        }
        if let Some(id) = q.id {
            sql.push_str(" AND id = ?");
            binds.push(id.to_string());
        }
        if let Some(uid) = &q.uid {
            sql.push_str(" AND uid = ?");
            binds.push(uid.clone());
        }
        if let Some(t) = q.active_since {
            sql.push_str(" AND acknowledged = 0 AND started_at >= ?");
            binds.push(time_text(t));
        }
        if let Some(t) = q.recent_since {
            sql.push_str(" AND (ended_at = '' OR ended_at >= ?)");
            binds.push(time_text(t));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {PAGE} OFFSET {}", q.page as i64 * PAGE));
        let mut query = sqlx::query(&sql);
        for b in &binds {
            query = query.bind(b);
        }
        query.fetch_all(pool).await?.iter().map(|r| recovery_row(r, Some(active_since))).collect()
    }

    /// Acknowledges every unacknowledged recovery `target` names (and, for a cluster, an
    /// instance or all, their failure detections); the blocks they caused end. Returns how many
    /// recoveries were acknowledged.
    pub async fn acknowledge(&self, target: &AckTarget, by: &str, comment: &str, at: DateTime<Utc>) -> Result<u64, StoreError> {
        let _serial = self.serial.lock().await;
        let Backend::Sqlite(pool) = &*self.backend;
        let (recoveries, detections, bind): (&str, &str, Vec<String>) = match target {
            AckTarget::All => ("1 = 1", "1 = 1", vec![]),
            // A cluster's recoveries: by name or alias, and those whose successor heads it now
            // (after a failover the cluster is named after the promoted server).
            AckTarget::Cluster(c) => (
                "(cluster = ?1 OR cluster_alias = ?1 OR (successor_hostname || ':' || successor_port) = ?1)",
                "(cluster = ?1 OR cluster_alias = ?1)",
                vec![c.clone()],
            ),
            AckTarget::Instance(k) => ("hostname = ?1 AND port = ?2", "hostname = ?1 AND port = ?2", vec![k.hostname.clone(), k.port.to_string()]),
            AckTarget::Id(id) => ("id = ?1", "", vec![id.to_string()]),
            AckTarget::Uid(uid) => ("uid = ?1", "", vec![uid.clone()]),
        };
        let now = time_text(at);
        let mut tx = pool.begin().await?;
        let mut count = 0;
        for (table, filter) in [("topology_recovery", recoveries), ("failure_detection", detections)] {
            if filter.is_empty() {
                continue;
            }
            let n = bind.len();
            let sql = format!(
                "UPDATE {table} SET acknowledged = 1, acknowledged_at = ?{}, acknowledged_by = ?{}, acknowledged_comment = ?{} \
                 WHERE acknowledged = 0 AND {filter}",
                n + 1,
                n + 2,
                n + 3
            );
            let mut query = sqlx::query(&sql);
            for b in &bind {
                query = query.bind(b);
            }
            let done = query.bind(&now).bind(by).bind(comment).execute(&mut *tx).await?.rows_affected();
            if table == "topology_recovery" {
                count = done;
            }
        }
        sqlx::query("DELETE FROM blocked_recovery WHERE blocking_recovery_id IN (SELECT id FROM topology_recovery WHERE acknowledged = 1)")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(count)
    }

    /// Registers a detection unless the server has an unacknowledged one at or after
    /// `active_since` (`FailureDetectionPeriodBlockMinutes`). Returns its id when new: the
    /// detection hooks run once per detection.
    pub async fn register_detection(&self, d: &NewDetection, active_since: DateTime<Utc>) -> Result<Option<i64>, StoreError> {
        let _serial = self.serial.lock().await;
        let Backend::Sqlite(pool) = &*self.backend;
        let active: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM failure_detection WHERE hostname = ? AND port = ? AND acknowledged = 0 AND detected_at >= ? LIMIT 1",
        )
        .bind(&d.failed.hostname)
        .bind(d.failed.port as i64)
        .bind(time_text(active_since))
        .fetch_optional(pool)
        .await?;
        if active.is_some() {
            return Ok(None);
        }
        let id = sqlx::query(
            "INSERT INTO failure_detection (hostname, port, cluster, cluster_alias, analysis, description, count_replicas, detected_at, processing_node) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&d.failed.hostname)
        .bind(d.failed.port as i64)
        .bind(&d.cluster)
        .bind(&d.cluster_alias)
        .bind(&d.analysis)
        .bind(&d.description)
        .bind(d.count_replicas as i64)
        .bind(time_text(d.detected))
        .bind(&d.node)
        .execute(pool)
        .await?
        .last_insert_rowid();
        Ok(Some(id))
    }

    /// Detections, newest first, `PAGE` per page; optionally one id or one cluster alias.
    pub async fn list_detections(&self, page: u32, id: Option<i64>, alias: Option<&str>) -> Result<Vec<DetectionRow>, StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let mut sql = "SELECT * FROM failure_detection WHERE 1 = 1".to_string();
        if id.is_some() {
            sql.push_str(" AND id = ?");
        }
        if alias.is_some() {
            sql.push_str(" AND cluster_alias = ?");
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {PAGE} OFFSET {}", page as i64 * PAGE));
        let mut query = sqlx::query(&sql);
        if let Some(id) = id {
            query = query.bind(id);
        }
        if let Some(a) = alias {
            query = query.bind(a);
        }
        query.fetch_all(pool).await?.iter().map(detection_row).collect()
    }

    /// Records (or refreshes) why the recovery of a failing server did not run.
    pub async fn note_blocked(&self, failed: &InstanceKey, cluster: &str, analysis: &str, reason: &str, blocking: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let now = time_text(at);
        sqlx::query(
            "INSERT INTO blocked_recovery (hostname, port, cluster, analysis, reason, blocking_recovery_id, first_blocked_at, last_blocked_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (hostname, port) DO UPDATE SET cluster = excluded.cluster, \
             analysis = excluded.analysis, reason = excluded.reason, blocking_recovery_id = excluded.blocking_recovery_id, \
             last_blocked_at = excluded.last_blocked_at",
        )
        .bind(&failed.hostname)
        .bind(failed.port as i64)
        .bind(cluster)
        .bind(analysis)
        .bind(reason)
        .bind(blocking)
        .bind(&now)
        .bind(&now)
        .execute(pool)
        .await?;
        Ok(())
    }

    /// Forgets why the recovery of `failed` was blocked: it is running now.
    pub async fn clear_blocked(&self, failed: &InstanceKey) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        sqlx::query("DELETE FROM blocked_recovery WHERE hostname = ? AND port = ?").bind(&failed.hostname).bind(failed.port as i64).execute(pool).await?;
        Ok(())
    }

    /// Forgets blocked recoveries of servers that are not failing any more.
    pub async fn clear_blocked_except(&self, failing: &[InstanceKey]) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let keep: std::collections::BTreeSet<(String, i64)> = failing.iter().map(|k| (k.hostname.clone(), k.port as i64)).collect();
        let rows: Vec<(String, i64)> = sqlx::query_as("SELECT hostname, port FROM blocked_recovery").fetch_all(pool).await?;
        for (host, port) in rows.into_iter().filter(|r| !keep.contains(r)) {
            sqlx::query("DELETE FROM blocked_recovery WHERE hostname = ? AND port = ?").bind(host).bind(port).execute(pool).await?;
        }
        Ok(())
    }

    /// Blocked recoveries, newest first; optionally of one cluster.
    pub async fn list_blocked(&self, cluster: Option<&str>) -> Result<Vec<BlockedRow>, StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let rows = match cluster {
            Some(c) => {
                sqlx::query("SELECT * FROM blocked_recovery WHERE cluster = ? ORDER BY last_blocked_at DESC").bind(c).fetch_all(pool).await?
            }
            None => sqlx::query("SELECT * FROM blocked_recovery ORDER BY last_blocked_at DESC").fetch_all(pool).await?,
        };
        rows.iter()
            .map(|r| {
                Ok(BlockedRow {
                    failed: key_of(r, "hostname", "port")?,
                    cluster: r.try_get("cluster")?,
                    analysis: r.try_get("analysis")?,
                    reason: r.try_get("reason")?,
                    blocking_recovery_id: r.try_get("blocking_recovery_id")?,
                    first_blocked: time_of(r, "first_blocked_at")?,
                    last_blocked: time_of(r, "last_blocked_at")?,
                })
            })
            .collect()
    }

    /// Remembers that `old` must be made read-only when it answers again.
    pub async fn add_pending_fence(&self, old: &InstanceKey, recovery_id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        sqlx::query("INSERT INTO pending_fence (hostname, port, recovery_id, since) VALUES (?, ?, ?, ?) ON CONFLICT (hostname, port) DO UPDATE SET recovery_id = excluded.recovery_id")
            .bind(&old.hostname)
            .bind(old.port as i64)
            .bind(recovery_id)
            .bind(time_text(at))
            .execute(pool)
            .await?;
        Ok(())
    }

    /// Old primaries still to fence, with the recovery that left them.
    pub async fn pending_fences(&self) -> Result<Vec<(InstanceKey, i64)>, StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let rows: Vec<(String, i64, i64)> = sqlx::query_as("SELECT hostname, port, recovery_id FROM pending_fence ORDER BY since").fetch_all(pool).await?;
        Ok(rows.into_iter().map(|(h, p, id)| (InstanceKey::new(h, p as u16), id)).collect())
    }

    pub async fn remove_pending_fence(&self, old: &InstanceKey) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        sqlx::query("DELETE FROM pending_fence WHERE hostname = ? AND port = ?").bind(&old.hostname).bind(old.port as i64).execute(pool).await?;
        Ok(())
    }

    /// A node-wide switch; `None` when never set.
    pub async fn switch(&self, name: &str) -> Result<Option<bool>, StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        let row: Option<(String,)> = sqlx::query_as("SELECT value FROM node_settings WHERE name = ?").bind(name).fetch_optional(pool).await?;
        Ok(row.map(|(v,)| v == "1"))
    }

    pub async fn set_switch(&self, name: &str, on: bool, by: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let Backend::Sqlite(pool) = &*self.backend;
        sqlx::query(
            "INSERT INTO node_settings (name, value, set_at, set_by) VALUES (?, ?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, set_at = excluded.set_at, set_by = excluded.set_by",
        )
        .bind(name)
        .bind(if on { "1" } else { "0" })
        .bind(time_text(at))
        .bind(by)
        .execute(pool)
        .await?;
        Ok(())
    }
}

fn analysis_entry(key: &InstanceKey, analysis: &str, cluster: &str, alias: &str) -> serde_json::Value {
    serde_json::json!({
        "AnalyzedInstanceKey": key,
        "Analysis": analysis,
        "ClusterDetails": { "ClusterName": cluster, "ClusterAlias": alias },
    })
}

fn recovery_row(r: &SqliteRow, active_since: Option<DateTime<Utc>>) -> Result<RecoveryRow, StoreError> {
    let failed = key_of(r, "hostname", "port")?;
    let successor = key_of(r, "successor_hostname", "successor_port")?;
    let record: String = r.try_get("record")?;
    let record: serde_json::Value = if record.is_empty() { serde_json::Value::Null } else { serde_json::from_str(&record).unwrap_or_default() };
    let lost_replicas = record["LostReplicas"]
        .as_array()
        .map(|a| a.iter().filter_map(|l| serde_json::from_value(l["Instance"].clone()).ok()).collect())
        .unwrap_or_default();
    let all_errors = record["Error"].as_str().filter(|e| !e.is_empty()).map(|e| vec![e.to_string()]).unwrap_or_default();
    let started = time_of(r, "started_at")?;
    let acknowledged = r.try_get::<i64, _>("acknowledged")? != 0;
    let (cluster, alias, analysis): (String, String, String) = (r.try_get("cluster")?, r.try_get("cluster_alias")?, r.try_get("analysis")?);
    let ended = time_opt(r, "ended_at")?;
    Ok(RecoveryRow {
        id: r.try_get("id")?,
        uid: r.try_get("uid")?,
        analysis_entry: analysis_entry(&failed, &analysis, &cluster, &alias),
        failed,
        cluster,
        cluster_alias: alias,
        analysis,
        kind: r.try_get("kind")?,
        command: r.try_get("command")?,
        successor: (!successor.hostname.is_empty()).then_some(successor),
        is_active: !acknowledged && active_since.is_some_and(|t| started >= t),
        is_running: ended.is_none(),
        successful: r.try_get::<i64, _>("successful")? != 0,
        lost_replicas,
        all_errors,
        started,
        ended,
        node: r.try_get("processing_node")?,
        acknowledged,
        acknowledged_at: time_opt(r, "acknowledged_at")?,
        acknowledged_by: r.try_get("acknowledged_by")?,
        acknowledged_comment: r.try_get("acknowledged_comment")?,
        summary: r.try_get("summary")?,
        record,
    })
}

fn detection_row(r: &SqliteRow) -> Result<DetectionRow, StoreError> {
    let failed = key_of(r, "hostname", "port")?;
    let (cluster, alias, analysis): (String, String, String) = (r.try_get("cluster")?, r.try_get("cluster_alias")?, r.try_get("analysis")?);
    Ok(DetectionRow {
        id: r.try_get("id")?,
        analysis_entry: analysis_entry(&failed, &analysis, &cluster, &alias),
        failed,
        cluster,
        cluster_alias: alias,
        analysis,
        description: r.try_get("description")?,
        count_replicas: r.try_get("count_replicas")?,
        detected: time_of(r, "detected_at")?,
        node: r.try_get("processing_node")?,
        acknowledged: r.try_get::<i64, _>("acknowledged")? != 0,
        acknowledged_at: time_opt(r, "acknowledged_at")?,
        acknowledged_by: r.try_get("acknowledged_by")?,
        acknowledged_comment: r.try_get("acknowledged_comment")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn new(cluster: &str, host: &str, started: DateTime<Utc>) -> NewRecovery {
        NewRecovery {
            uid: {
                static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                format!("{host}-{}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
            },
            failed: InstanceKey::new(host, 3306),
            cluster: cluster.into(),
            cluster_alias: "main".into(),
            analysis: "DeadMaster".into(),
            kind: "MasterRecovery".into(),
            command: String::new(),
            node: "node1".into(),
            started,
        }
    }

    #[tokio::test]
    async fn a_recovery_blocks_its_cluster_and_its_successor_until_acknowledged_or_expired() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("s.sqlite3")).await.unwrap();
        let now = Utc::now();
        let hour_ago = now - Duration::hours(1);
        let Registration::Registered(first) = store.register_recovery(&new("db1:3306", "db1", now), hour_ago, false).await.unwrap() else {
            panic!("the first recovery registers")
        };
        let successor = InstanceKey::new("db2", 3306);
        store.finish_recovery(first, true, Some(&successor), "promoted db2", &serde_json::json!({"LostReplicas": [{"Instance": {"Hostname": "db3", "Port": 3306}}]}), Utc::now()).await.unwrap();

        // The same cluster, and the cluster now headed by the successor, are blocked.
        for (cluster, host) in [("db1:3306", "db3"), ("db2:3306", "db2"), ("db2:3306", "db4")] {
            match store.register_recovery(&new(cluster, host, now), hour_ago, false).await.unwrap() {
                Registration::Blocked(row) => assert_eq!(row.id, first, "{cluster} {host}"),
                Registration::Registered(_) => panic!("{cluster}/{host} should be blocked"),
            }
        }
        // Another cluster is not; a forced recovery is not; an expired block does not count.
        assert!(matches!(store.register_recovery(&new("db9:3306", "db9", now), hour_ago, false).await.unwrap(), Registration::Registered(_)));
        assert!(matches!(store.register_recovery(&new("db2:3306", "db2", now), hour_ago, true).await.unwrap(), Registration::Registered(_)));
        let rows = store.list_recoveries(&RecoveryQuery { id: Some(first), ..Default::default() }, hour_ago).await.unwrap();
        assert_eq!(rows[0].lost_replicas, vec![InstanceKey::new("db3", 3306)]);
        assert!(rows[0].is_active && rows[0].successful && !rows[0].is_running);
        assert!(matches!(store.register_recovery(&new("db1:3306", "db1", now), now + Duration::seconds(1), false).await.unwrap(), Registration::Registered(_)));

        // Acknowledging the cluster ends the block, and says who and why.
        store.note_blocked(&InstanceKey::new("db2", 3306), "db2:3306", "DeadMaster", "blocked", first, Utc::now()).await.unwrap();
        assert_eq!(store.list_blocked(None).await.unwrap().len(), 1);
        assert!(store.acknowledge(&AckTarget::Cluster("db1:3306".into()), "alice", "checked", Utc::now()).await.unwrap() >= 1);
        assert!(store.list_blocked(None).await.unwrap().is_empty());
        let row = &store.list_recoveries(&RecoveryQuery { id: Some(first), ..Default::default() }, hour_ago).await.unwrap()[0];
        assert!(row.acknowledged && !row.is_active);
        assert_eq!((row.acknowledged_by.as_str(), row.acknowledged_comment.as_str()), ("alice", "checked"));
        assert!(matches!(store.register_recovery(&new("db2:3306", "db2", now), hour_ago, false).await.unwrap(), Registration::Blocked(_)), "the forced one still blocks");
        assert_eq!(store.acknowledge(&AckTarget::All, "bob", "all", Utc::now()).await.unwrap(), 2, "db9 and the forced one");
        assert!(matches!(store.register_recovery(&new("db2:3306", "db2", now), hour_ago, false).await.unwrap(), Registration::Registered(_)));
    }

    #[tokio::test]
    async fn a_detection_registers_once_per_period_and_switches_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let store = Store::open_sqlite(&path).await.unwrap();
        let now = Utc::now();
        let d = NewDetection {
            failed: InstanceKey::new("db1", 3306),
            cluster: "db1:3306".into(),
            cluster_alias: "main".into(),
            analysis: "DeadMaster".into(),
            description: "Master cannot be reached and all of its replicas are broken".into(),
            count_replicas: 2,
            node: "node1".into(),
            detected: now,
        };
        let since = now - Duration::hours(1);
        assert!(store.register_detection(&d, since).await.unwrap().is_some());
        assert!(store.register_detection(&d, since).await.unwrap().is_none());
        store.acknowledge(&AckTarget::Instance(d.failed.clone()), "alice", "ok", Utc::now()).await.unwrap();
        assert!(store.register_detection(&d, since).await.unwrap().is_some());
        assert_eq!(store.list_detections(0, None, Some("main")).await.unwrap().len(), 2);
        assert_eq!(store.switch("recoveries-disabled").await.unwrap(), None);
        store.set_switch("recoveries-disabled", true, "alice", Utc::now()).await.unwrap();
        drop(store);
        let store = Store::open_sqlite(&path).await.unwrap();
        assert_eq!(store.switch("recoveries-disabled").await.unwrap(), Some(true));
    }
}
