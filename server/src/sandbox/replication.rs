//! Replication wiring and the waits on it. Every statement comes from `Dialect`; what differs
//! here is only how progress is compared: Oracle GTID sets (GTID_SUBTRACT on the server),
//! MariaDB GTID positions (per-domain sequence numbers, which MariaDB tracks even for file:pos
//! replicas), or, for Oracle without GTID, binlog coordinates hop by hop along the chain.

use super::{Sandbox, SandboxError, REPLICATION_PASSWORD, REPLICATION_USER};
use crate::mysql::dialect::replica_status_column_names;
use crate::mysql::{ChangeSource, GtidMode, TextRow};
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

const POLL: Duration = Duration::from_millis(50);

/// A column of SHOW REPLICA/SLAVE STATUS under its new or old name ("" if absent).
fn status_col(row: &TextRow, new_name: &'static str) -> String {
    let [new, old] = replica_status_column_names(new_name);
    row.text(&[&new, &old])
}

impl Sandbox {
    /// Makes every replica of the shape replicate from its source and waits until all run.
    pub(super) async fn wire(&self, timeout: Duration) -> Result<(), SandboxError> {
        let n = self.servers.len();
        let pairs: Vec<(usize, usize)> =
            (0..n).filter_map(|i| self.opts.shape.source_of(i, n).map(|s| (i, s))).collect();
        futures::future::try_join_all(pairs.iter().map(|&(r, s)| self.replicate(r, s))).await?;
        // Replicas are read-only, as in any real deployment (the primary stays writable).
        let read_only = self.dialect.set_read_only(true);
        futures::future::try_join_all(pairs.iter().map(|&(r, _)| self.exec(r, &read_only))).await?;
        futures::future::try_join_all(pairs.iter().map(|&(r, _)| self.wait_replicating(r, timeout))).await?;
        Ok(())
    }

    /// Points server `replica` at server `source` and starts replicating: GTID
    /// auto-positioning (MariaDB `slave_pos`) when the sandbox uses GTID, else from the
    /// source's current binlog coordinates. Connects as [`REPLICATION_USER`], retries every
    /// second and expects a heartbeat every 2 s, so failures are noticed quickly.
    pub async fn replicate(&self, replica: usize, source: usize) -> Result<(), SandboxError> {
        let src = self.get(source)?;
        self.get(replica)?;
        if replica == source {
            return Err(SandboxError::Options(format!("server {replica} cannot replicate from itself")));
        }
        let d = self.dialect;
        let mut change = ChangeSource {
            host: Some(src.host().to_string()),
            port: Some(src.port),
            user: Some(REPLICATION_USER.into()),
            password: Some(REPLICATION_PASSWORD.into()),
            connect_retry: Some(1),
            heartbeat_period: Some(2.0),
            // caching_sha2_password without TLS: without the key the IO thread fails (2061).
            get_public_key: Some(true),
            // Keep retrying through a long outage of the source, as MariaDB does by default.
            retry_count: Some(86400),
            ..Default::default()
        };
        if self.opts.gtid {
            change.gtid = Some(GtidMode::On);
        } else {
            let (file, pos) = self.binlog_coordinates(source).await?;
            change.gtid = Some(GtidMode::Off);
            change.log_file = Some(file);
            change.log_pos = Some(pos);
        }
        let mut conn = self.admin(replica).await?;
        let result = async {
            conn.exec(d.stop_replica()).await?;
            conn.exec(&d.change_source(&change)).await?;
            conn.exec(d.start_replica()).await
        }
        .await
        .map_err(|e| self.sql_error(replica, e));
        conn.close().await;
        result
    }

    /// The first row of SHOW REPLICA/SLAVE STATUS of server `i`, if it is a replica.
    pub async fn replica_status(&self, i: usize) -> Result<Option<TextRow>, SandboxError> {
        Ok(self.query(i, self.dialect.show_replica_status()).await?.into_iter().next())
    }

    /// Waits until server `i` runs both replication threads.
    pub async fn wait_replicating(&self, i: usize, timeout: Duration) -> Result<(), SandboxError> {
        let deadline = Instant::now() + timeout;
        loop {
            let last = match self.replica_status(i).await {
                Ok(Some(row)) => {
                    let io = status_col(&row, "Replica_IO_Running");
                    let sql = status_col(&row, "Replica_SQL_Running");
                    if io == "Yes" && sql == "Yes" {
                        return Ok(());
                    }
                    format!(
                        "IO thread {io}, SQL thread {sql}, last IO error: {:?}, last SQL error: {:?}",
                        row.text(&["Last_IO_Error"]),
                        row.text(&["Last_SQL_Error"])
                    )
                }
                Ok(None) => "not configured as a replica".into(),
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                return Err(self.timeout(timeout, format!("{} to replicate ({last})", self.servers[i].name)));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until server `replica` has applied everything server `source` has now, directly
    /// or through intermediate replicas.
    pub async fn wait_caught_up(&self, replica: usize, source: usize, timeout: Duration) -> Result<(), SandboxError> {
        self.get(replica)?;
        self.get(source)?;
        if replica == source {
            return Ok(());
        }
        let deadline = Instant::now() + timeout;
        let what = || format!("{} to catch up with {}", self.servers[replica].name, self.servers[source].name);
        if self.dialect.is_mariadb() || self.opts.gtid {
            let target = self.gtid_position(source, true).await?;
            loop {
                let have = self.gtid_position(replica, false).await?;
                if self.gtid_covers(replica, &have, &target).await? {
                    return Ok(());
                }
                if Instant::now() >= deadline {
                    return Err(self.timeout(timeout, format!("{} (has {have:?}, needs {target:?})", what())));
                }
                tokio::time::sleep(POLL).await;
            }
        }
        // Oracle file:pos: coordinates only compare between a replica and its direct source,
        // so wait hop by hop from the source down.
        let path = self.replication_path(replica, source).await?;
        for hop in path.windows(2) {
            let (upstream, downstream) = (hop[0], hop[1]);
            let target = self.binlog_coordinates(upstream).await?;
            loop {
                let row = self.replica_status(downstream).await?.unwrap_or_default();
                let applied = (
                    status_col(&row, "Relay_Source_Log_File"),
                    status_col(&row, "Exec_Source_Log_Pos").parse::<u64>().unwrap_or(0),
                );
                // Binlog names end in zero-padded sequence numbers: they order as text.
                if applied >= target {
                    break;
                }
                if Instant::now() >= deadline {
                    return Err(self.timeout(timeout, format!("{} (at {applied:?}, needs {target:?})", what())));
                }
                tokio::time::sleep(POLL).await;
            }
        }
        Ok(())
    }

    /// `[source, ..., replica]`: the servers events flow through from `source` to `replica`.
    async fn replication_path(&self, replica: usize, source: usize) -> Result<Vec<usize>, SandboxError> {
        let mut path = vec![replica];
        let mut current = replica;
        while current != source && path.len() <= self.servers.len() {
            let row = self.replica_status(current).await?.unwrap_or_default();
            let port = status_col(&row, "Source_Port");
            let Some(up) = self.servers.iter().position(|s| s.port.to_string() == port) else { break };
            path.push(up);
            current = up;
        }
        if current != source {
            return Err(SandboxError::Options(format!(
                "{} does not replicate, directly or indirectly, from {}",
                self.servers[replica].name, self.servers[source].name
            )));
        }
        path.reverse();
        Ok(path)
    }

    /// The binlog file and position server `i` is writing at.
    async fn binlog_coordinates(&self, i: usize) -> Result<(String, u64), SandboxError> {
        let rows = self.query(i, self.dialect.show_binlog_status()).await?;
        match rows.first() {
            Some(row) => Ok((row.text(&["File"]), row.number(&["Position"]).unwrap_or(0) as u64)),
            None => Err(SandboxError::Options(format!("{} has no binary log", self.servers[i].name))),
        }
    }

    /// Oracle: `@@gtid_executed`. MariaDB: what server `i` has logged (`as_source`) or what it
    /// has logged or applied (`gtid_binlog_pos` and `gtid_slave_pos`).
    async fn gtid_position(&self, i: usize, as_source: bool) -> Result<Vec<String>, SandboxError> {
        let rows = self.query(i, &self.dialect.variables_query()).await?;
        let row = rows.first().cloned().unwrap_or_default();
        Ok(if !self.dialect.is_mariadb() {
            vec![row.text(&["@@global.gtid_executed"])]
        } else if as_source {
            vec![row.text(&["@@global.gtid_binlog_pos"])]
        } else {
            vec![row.text(&["@@global.gtid_binlog_pos"]), row.text(&["@@global.gtid_slave_pos"])]
        })
    }

    async fn gtid_covers(&self, on: usize, have: &[String], target: &[String]) -> Result<bool, SandboxError> {
        let target = target.join(",");
        if self.dialect.is_mariadb() {
            return Ok(mariadb_covers(have, &target));
        }
        let Some(sql) = self.dialect.gtid_subtract(&target, &have.join(",")) else { return Ok(false) };
        let rows = self.query(on, &sql).await?;
        Ok(rows.first().and_then(|r| r.at(0)).unwrap_or("").trim().is_empty())
    }

    fn timeout(&self, timeout: Duration, what: String) -> SandboxError {
        SandboxError::Timeout { what, seconds: timeout.as_secs_f64() }
    }
}

/// MariaDB GTID positions: for every replication domain of `target` (`domain-server-seq`, comma
/// separated), some position in `have` reaches at least its sequence number.
fn mariadb_covers(have: &[String], target: &str) -> bool {
    let mut reached: HashMap<u32, u64> = HashMap::new();
    for (domain, seq) in have.iter().flat_map(|p| parse_mariadb_gtids(p)) {
        let e = reached.entry(domain).or_insert(0);
        *e = (*e).max(seq);
    }
    parse_mariadb_gtids(target).into_iter().all(|(domain, seq)| reached.get(&domain).is_some_and(|r| *r >= seq))
}

fn parse_mariadb_gtids(text: &str) -> Vec<(u32, u64)> {
    text.split(',')
        .filter_map(|gtid| {
            let mut parts = gtid.trim().split('-');
            let domain = parts.next()?.parse().ok()?;
            let _server = parts.next()?;
            let seq = parts.next()?.parse().ok()?;
            Some((domain, seq))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mariadb_positions_compare_per_domain() {
        let have = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(mariadb_covers(&have(&[""]), ""));
        assert!(mariadb_covers(&have(&["0-1-5"]), "0-1-5"));
        assert!(mariadb_covers(&have(&["0-2-9", ""]), "0-1-5"));
        assert!(!mariadb_covers(&have(&["0-1-4"]), "0-1-5"));
        assert!(!mariadb_covers(&have(&["0-1-9"]), "0-1-5,1-3-2"));
        assert!(mariadb_covers(&have(&["0-1-9", "1-3-2"]), "0-1-5,1-3-2"));
    }
}
