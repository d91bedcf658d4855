//! Can instance A replicate from instance B? orchestrator's rules (reference 5.6), plus the flavor
//! rule orchestrator left implicit (MySQL cannot replicate from MariaDB, nor MariaDB from MySQL
//! 8+), and the purged-GTID rule for GTID moves.

use super::refusal::{Refusal, Rule};
use crate::model::gtid::GtidSet;
use crate::model::Instance;

/// The configuration the rules depend on (sent to the browser, so drop previews use the
/// node's own settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleSettings {
    /// `ReasonableMaintenanceReplicationLagSeconds`.
    pub maintenance_lag_seconds: i64,
    /// `VerifyReplicationFilters`.
    pub verify_replication_filters: bool,
    /// `UseSuperReadOnly`: set-read-only / set-writeable also toggle `super_read_only`.
    pub use_super_read_only: bool,
}

impl Default for RuleSettings {
    fn default() -> Self {
        RuleSettings { maintenance_lag_seconds: 20, verify_replication_filters: false, use_super_read_only: false }
    }
}

fn format_rank(format: &str) -> u8 {
    match format.to_ascii_uppercase().as_str() {
        "STATEMENT" => 1,
        "MIXED" => 2,
        "ROW" => 3,
        _ => 0,
    }
}

/// Whether `replica` could replicate from `source`.
pub fn can_replicate_from(replica: &Instance, source: &Instance, settings: &RuleSettings) -> Result<(), Refusal> {
    let (r, s) = (&replica.key, &source.key);
    if r == s {
        return Err(Refusal::new(Rule::SameInstance, format!("{r} cannot replicate from itself")));
    }
    if !source.is_last_check_valid {
        return Err(Refusal::new(Rule::NotReachable, format!("{s} is not reachable (its last check failed)")));
    }
    if !source.log_bin_enabled {
        return Err(Refusal::new(Rule::NoBinaryLogs, format!("{s} has no binary logs (log_bin is off)")));
    }
    if source.is_replica() && !source.log_replication_updates_enabled {
        return Err(Refusal::new(
            Rule::NoLogReplicaUpdates,
            format!("{s} is a replica that does not log what it replicates (log_slave_updates/log_replica_updates is off)"),
        ));
    }
    match (replica.is_mariadb(), source.is_mariadb()) {
        (false, true) => {
            return Err(Refusal::new(Rule::FlavorMismatch, format!("{r} ({}) cannot replicate from MariaDB {s}", replica.flavor_name)));
        }
        (true, false) if source.major_version().0 >= 8 => {
            return Err(Refusal::new(Rule::FlavorMismatch, format!("MariaDB {r} cannot replicate from {} {} {s}", source.flavor_name, source.version)));
        }
        _ => {}
    }
    if replica.is_mariadb() == source.is_mariadb() && replica.major_version() < source.major_version() {
        return Err(Refusal::new(
            Rule::SourceVersionNewer,
            format!("{r} runs {} which is older than {s}'s {}", replica.version, source.version),
        ));
    }
    if replica.log_bin_enabled
        && replica.log_replication_updates_enabled
        && format_rank(&replica.binlog_format) < format_rank(&source.binlog_format)
    {
        return Err(Refusal::new(
            Rule::BinlogFormat,
            format!("{r} logs {} but {s} logs {}: the replica's format must not be weaker", replica.binlog_format, source.binlog_format),
        ));
    }
    if settings.verify_replication_filters && source.has_replication_filters && !replica.has_replication_filters {
        return Err(Refusal::new(Rule::ReplicationFilters, format!("{s} has replication filters and {r} has none")));
    }
    if replica.server_id == source.server_id {
        return Err(Refusal::new(Rule::SameServerId, format!("{r} and {s} share server_id {}", source.server_id)));
    }
    if !replica.server_uuid.is_empty() && replica.server_uuid == source.server_uuid {
        return Err(Refusal::new(Rule::SameServerUuid, format!("{r} and {s} share server_uuid {}", source.server_uuid)));
    }
    if source.sql_delay as i64 > settings.maintenance_lag_seconds && replica.sql_delay < source.sql_delay {
        return Err(Refusal::new(
            Rule::SqlDelay,
            format!("{s} is delayed by {} s; {r} (delayed {} s) would apply changes earlier than its new source", source.sql_delay, replica.sql_delay),
        ));
    }
    Ok(())
}

/// `can_replicate_from` plus what a GTID move needs: both speak the same GTID, and the source
/// has not purged transactions the replica still lacks.
pub fn can_replicate_from_gtid(replica: &Instance, source: &Instance, settings: &RuleSettings) -> Result<(), Refusal> {
    can_replicate_from(replica, source, settings)?;
    let (r, s) = (&replica.key, &source.key);
    if replica.is_mariadb() {
        if !source.is_mariadb() || !source.log_bin_enabled {
            return Err(Refusal::new(Rule::NoGtid, format!("{s} cannot serve MariaDB GTID to {r}")));
        }
        return Ok(());
    }
    if !replica.supports_oracle_gtid || !source.supports_oracle_gtid {
        return Err(Refusal::new(Rule::NoGtid, format!("GTID is not enabled on {}", if replica.supports_oracle_gtid { s } else { r })));
    }
    let purged = GtidSet::parse(&source.gtid_purged).map_err(|e| Refusal::new(Rule::PurgedGtids, format!("{s}'s gtid_purged is unreadable: {e}")))?;
    let executed = GtidSet::parse(&replica.executed_gtid_set)
        .map_err(|e| Refusal::new(Rule::PurgedGtids, format!("{r}'s gtid_executed is unreadable: {e}")))?;
    let missing = purged.subtract(&executed);
    if !missing.is_empty() {
        return Err(Refusal::new(
            Rule::PurgedGtids,
            format!("{s} has purged transactions {r} has not executed: {missing}"),
        ));
    }
    Ok(())
}

/// MariaDB GTID positions (`domain-server-seq`, comma separated) as the highest sequence number
/// per replication domain. Unreadable entries are skipped.
fn mariadb_position(text: &str) -> std::collections::BTreeMap<u32, u64> {
    let mut by_domain = std::collections::BTreeMap::new();
    for gtid in text.split(',').map(str::trim).filter(|g| !g.is_empty()) {
        let mut parts = gtid.split('-');
        let (Some(domain), Some(_server), Some(seq)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let (Ok(domain), Ok(seq)) = (domain.parse::<u32>(), seq.parse::<u64>()) else { continue };
        let e = by_domain.entry(domain).or_insert(0);
        *e = (*e).max(seq);
    }
    by_domain
}

/// The MariaDB counterpart of the purged-GTID rule, which orchestrator never had: `source` can
/// serve `replica` with GTID only if, in every replication domain, the replica has applied at
/// least what came before `source`'s oldest binary log (`oldest_binlog_start`, the GTID position
/// at its start: `BINLOG_GTID_POS(<oldest binlog>, 4)`); `replica_pos` is the position it would
/// ask for (`gtid_slave_pos`). Otherwise the source answers error 1236 and the replica stops.
pub fn mariadb_gtid_available(
    replica: &crate::model::InstanceKey,
    replica_pos: &str,
    source: &crate::model::InstanceKey,
    oldest_binlog_start: &str,
) -> Result<(), Refusal> {
    let have = mariadb_position(replica_pos);
    let missing: Vec<String> = mariadb_position(oldest_binlog_start)
        .into_iter()
        .filter(|(domain, kept_after)| have.get(domain).copied().unwrap_or(0) < *kept_after)
        .map(|(domain, kept_after)| match have.get(&domain) {
            Some(seq) => format!("domain {domain}: {replica} has applied up to {seq}, {source} keeps only what came after {kept_after}"),
            None => format!("domain {domain}: {replica} has applied nothing, {source} keeps only what came after {kept_after}"),
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Refusal::new(
        Rule::PurgedGtids,
        format!("{source} has purged binary logs {replica} still needs ({})", missing.join("; ")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::InstanceKey;

    pub(crate) fn server(name: &str, id: u32) -> Instance {
        let mut i = Instance::unseen(InstanceKey::new(name, 3306));
        i.server_id = id;
        i.server_uuid = format!("{id:08}-0000-0000-0000-000000000000");
        i.version = "8.0.36".into();
        i.flavor_name = "MySQL".into();
        i.log_bin_enabled = true;
        i.log_replication_updates_enabled = true;
        i.binlog_format = "ROW".into();
        i.is_last_check_valid = true;
        i.supports_oracle_gtid = true;
        i
    }

    fn rule(r: Result<(), Refusal>) -> Option<Rule> {
        r.err().map(|e| e.rule)
    }

    #[test]
    fn each_rule_refuses_on_its_own() {
        let s = RuleSettings::default();
        let a = server("a", 1);
        let b = server("b", 2);
        assert_eq!(rule(can_replicate_from(&a, &b, &s)), None);
        assert_eq!(rule(can_replicate_from(&a, &a, &s)), Some(Rule::SameInstance));

        let mut nolog = b.clone();
        nolog.log_bin_enabled = false;
        assert_eq!(rule(can_replicate_from(&a, &nolog, &s)), Some(Rule::NoBinaryLogs));

        let mut quiet_replica = b.clone();
        quiet_replica.master_key = InstanceKey::new("x", 3306);
        quiet_replica.log_replication_updates_enabled = false;
        assert_eq!(rule(can_replicate_from(&a, &quiet_replica, &s)), Some(Rule::NoLogReplicaUpdates));

        let mut newer = b.clone();
        newer.version = "8.4.3".into();
        assert_eq!(rule(can_replicate_from(&a, &newer, &s)), Some(Rule::SourceVersionNewer));
        assert_eq!(rule(can_replicate_from(&newer, &a, &s)), None, "an older source is fine");

        let mut stmt = a.clone();
        stmt.binlog_format = "STATEMENT".into();
        assert_eq!(rule(can_replicate_from(&stmt, &b, &s)), Some(Rule::BinlogFormat));

        let mut same_id = b.clone();
        same_id.server_id = 1;
        assert_eq!(rule(can_replicate_from(&a, &same_id, &s)), Some(Rule::SameServerId));

        let mut delayed = b.clone();
        delayed.sql_delay = 3600;
        assert_eq!(rule(can_replicate_from(&a, &delayed, &s)), Some(Rule::SqlDelay));

        let mut maria = b.clone();
        maria.flavor_name = "MariaDB".into();
        maria.version = "10.11.6-MariaDB".into();
        assert_eq!(rule(can_replicate_from(&a, &maria, &s)), Some(Rule::FlavorMismatch));

        let mut dead = b.clone();
        dead.is_last_check_valid = false;
        assert_eq!(rule(can_replicate_from(&a, &dead, &s)), Some(Rule::NotReachable));
    }

    #[test]
    fn mariadb_gtid_moves_need_the_oldest_binlog_to_follow_the_replica() {
        let (r, s) = (InstanceKey::new("r", 3306), InstanceKey::new("s", 3306));
        assert_eq!(mariadb_gtid_available(&r, "0-1-10", &s, "0-1-10"), Ok(()));
        assert_eq!(mariadb_gtid_available(&r, "0-1-12,1-2-3", &s, "0-1-10"), Ok(()));
        assert_eq!(mariadb_gtid_available(&r, "0-1-10", &s, ""), Ok(()), "nothing purged");
        let refusal = mariadb_gtid_available(&r, "0-1-9", &s, "0-1-10").unwrap_err();
        assert_eq!(refusal.rule, Rule::PurgedGtids);
        assert!(refusal.message.contains("domain 0: r:3306 has applied up to 9"), "{refusal}");
        let refusal = mariadb_gtid_available(&r, "0-1-20", &s, "0-1-10,2-5-1").unwrap_err();
        assert!(refusal.message.contains("domain 2: r:3306 has applied nothing"), "{refusal}");
    }

    #[test]
    fn gtid_moves_check_purged_transactions() {
        let s = RuleSettings::default();
        let u = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
        let mut a = server("a", 1);
        let mut b = server("b", 2);
        a.executed_gtid_set = format!("{u}:1-10");
        b.executed_gtid_set = format!("{u}:1-20");
        b.gtid_purged = format!("{u}:1-5");
        assert_eq!(rule(can_replicate_from_gtid(&a, &b, &s)), None);
        b.gtid_purged = format!("{u}:1-15");
        let refusal = can_replicate_from_gtid(&a, &b, &s).unwrap_err();
        assert_eq!(refusal.rule, Rule::PurgedGtids);
        assert!(refusal.message.contains(&format!("{u}:11-15")), "{refusal}");
        a.supports_oracle_gtid = false;
        assert_eq!(rule(can_replicate_from_gtid(&a, &b, &s)), Some(Rule::NoGtid));
    }
}
