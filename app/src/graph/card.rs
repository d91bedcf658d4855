//! What one card of the graph says about its server, as plain data: the view draws it, tests
//! read it. Problems are spelled out in words and marked by an icon, never by colour alone.

use crate::model::{display, Instance};

/// How a card looks at a glance (its CSS class and its icon).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    Ok,
    /// Lagging, downtimed or in maintenance: worth a look, not broken.
    Warn,
    /// Replication broken or a problem the node reports.
    Bad,
    /// The node cannot reach the server.
    Unreachable,
}

impl Health {
    pub fn class(self) -> &'static str {
        match self {
            Health::Ok => "ok",
            Health::Warn => "warn",
            Health::Bad => "bad",
            Health::Unreachable => "unreachable",
        }
    }

    pub fn icon(self) -> &'static str {
        match self {
            Health::Ok => "✓",
            Health::Warn => "◐",
            Health::Bad => "⚠",
            Health::Unreachable => "✕",
        }
    }
}

/// Everything a card shows.
#[derive(Clone, Debug, PartialEq)]
pub struct CardView {
    /// `host:port`, also the card's `data-instance`.
    pub id: String,
    /// Alias, or `host:port` when there is none.
    pub title: String,
    /// `host:port` under an alias; empty otherwise.
    pub address: String,
    pub role: &'static str,
    /// `MariaDB 10.11.6`, `MySQL 9.7.0`.
    pub version: String,
    /// `ROW`, `no binlog`.
    pub binlog: String,
    /// `read-only`, `super-read-only` or `writable`.
    pub mode: &'static str,
    /// `GTID` (Oracle), `MariaDB GTID`, or empty for binlog positions.
    pub gtid: &'static str,
    /// `lag 1h 2m 3s`, or the thread state when replication is not running; empty on a primary.
    pub replication: String,
    /// Problems in words (`not replicating`), highest first.
    pub problems: Vec<String>,
    /// Downtime, maintenance, promotion rule, errant GTIDs, delay, semi-sync: short marks.
    pub marks: Vec<String>,
    pub health: Health,
    /// Data-centre name and its colour (a stable hue per name).
    pub data_center: Option<(String, String)>,
    /// Number of direct replicas (the replicas handle shows it).
    pub replicas: usize,
    /// The source's `host:port`; empty on a primary.
    pub source: String,
}

/// The card of `i`, which `replicas` members of the graph replicate from (the graph's own
/// edges: a server's reported replica list can lag a move by a moment).
pub fn card(i: &Instance, replicas: usize) -> CardView {
    let reachable = i.is_last_check_valid;
    let problems: Vec<String> = i.problems.iter().map(|p| p.replace('_', " ")).collect();
    let mut marks = Vec::new();
    if i.is_downtimed {
        marks.push(format!("downtimed{}", if i.downtime_owner.is_empty() { String::new() } else { format!(" by {}", i.downtime_owner) }));
    }
    if i.in_maintenance {
        marks.push(format!("maintenance by {}", i.maintenance_owner));
    }
    if !i.gtid_errant.is_empty() {
        marks.push("errant GTIDs".into());
    }
    if !i.promotion_rule.is_empty() && i.promotion_rule != "neutral" {
        marks.push(format!("promotion: {}", i.promotion_rule));
    }
    if i.sql_delay > 0 {
        marks.push(format!("delayed {}", display::duration(u64::from(i.sql_delay))));
    }
    if i.semi_sync_master_enabled || i.semi_sync_replica_enabled {
        marks.push("semi-sync".into());
    }
    let health = if !reachable {
        Health::Unreachable
    } else if !problems.is_empty() {
        Health::Bad
    } else if i.is_downtimed || i.in_maintenance || !i.gtid_errant.is_empty() {
        Health::Warn
    } else {
        Health::Ok
    };
    let replication = if !i.is_replica() {
        String::new()
    } else if !reachable {
        "unreachable".into()
    } else if i.is_replicating() {
        format!("lag {}", display::lag(i))
    } else {
        display::replication_state(i)
    };
    let (address, title) = if i.instance_alias.is_empty() { (String::new(), i.key.to_string()) } else { (i.key.to_string(), i.instance_alias.clone()) };
    CardView {
        id: i.key.to_string(),
        title,
        address,
        role: match display::role(i) {
            "intermediate" | "replica" if i.is_replica() && !i.is_co_master => {
                if replicas > 0 {
                    "intermediate"
                } else {
                    "replica"
                }
            }
            other => other,
        },
        version: format!("{} {}", i.flavor_name, short_version(&i.version)).trim().to_string(),
        binlog: if i.log_bin_enabled { i.binlog_format.clone() } else { "no binlog".into() },
        mode: if i.super_read_only {
            "super-read-only"
        } else if i.read_only {
            "read-only"
        } else {
            "writable"
        },
        gtid: if i.using_mariadb_gtid {
            "MariaDB GTID"
        } else if i.using_oracle_gtid || (!i.is_replica() && i.supports_oracle_gtid) {
            "GTID"
        } else {
            ""
        },
        replication,
        problems,
        marks,
        health,
        data_center: (!i.data_center.is_empty()).then(|| (i.data_center.clone(), colour_of(&i.data_center))),
        replicas,
        source: if i.is_replica() { i.master_key.to_string() } else { String::new() },
    }
}

/// `10.11.6-MariaDB-0+deb12u1` → `10.11.6`.
fn short_version(v: &str) -> &str {
    v.split(['-', '+']).next().unwrap_or(v)
}

/// A stable, readable hue for a name (FNV-1a of its bytes), as an HSL colour.
pub fn colour_of(name: &str) -> String {
    let hash = name.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    format!("hsl({}, 65%, 50%)", hash % 360)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InstanceKey, NullInt64};

    fn replica() -> Instance {
        let mut i = Instance::unseen(InstanceKey::new("db2", 3306));
        i.master_key = InstanceKey::new("db1", 3306);
        i.instance_alias = "mysql2".into();
        i.version = "10.11.6-MariaDB-0+deb12u1".into();
        i.flavor_name = "MariaDB".into();
        i.log_bin_enabled = true;
        i.binlog_format = "ROW".into();
        i.read_only = true;
        i.is_last_check_valid = true;
        i.replication_io_thread_running = true;
        i.replication_sql_thread_running = true;
        i.replication_lag_seconds = NullInt64::some(3723);
        i.using_mariadb_gtid = true;
        i
    }

    #[test]
    fn a_healthy_replica_reads_like_the_issue_asks() {
        let c = card(&replica(), 0);
        assert_eq!(card(&replica(), 2).role, "intermediate");
        assert_eq!((c.title.as_str(), c.address.as_str(), c.role), ("mysql2", "db2:3306", "replica"));
        assert_eq!(c.version, "MariaDB 10.11.6");
        assert_eq!((c.binlog.as_str(), c.mode, c.gtid), ("ROW", "read-only", "MariaDB GTID"));
        assert_eq!(c.replication, "lag 1h 2m 3s");
        assert_eq!(c.health, Health::Ok);
    }

    #[test]
    fn problems_are_words_and_an_icon_not_only_a_colour() {
        let mut i = replica();
        i.replication_io_thread_running = false;
        i.replication_sql_thread_running = false;
        i.problems = vec!["not_replicating".into()];
        i.is_downtimed = true;
        i.downtime_owner = "ops".into();
        i.gtid_errant = "x:1".into();
        i.promotion_rule = "must_not".into();
        let c = card(&i, 0);
        assert_eq!(c.health, Health::Bad);
        assert_eq!(c.health.icon(), "⚠");
        assert_eq!(c.problems, ["not replicating"]);
        assert_eq!(c.replication, "IO stopped, SQL stopped");
        assert_eq!(c.marks, ["downtimed by ops", "errant GTIDs", "promotion: must_not"]);
        i.is_last_check_valid = false;
        assert_eq!(card(&i, 0).health, Health::Unreachable);
        assert_eq!(card(&i, 0).replication, "unreachable");
    }

    #[test]
    fn data_centres_keep_their_colour() {
        assert_eq!(colour_of("dc1"), colour_of("dc1"));
        assert_ne!(colour_of("dc1"), colour_of("dc2"));
    }
}
