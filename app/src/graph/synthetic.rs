//! A synthetic cluster for benchmarks: the same one for the node's `bench graph` and the
//! browser's `/bench/graph` page, generated deterministically on both sides.

use crate::model::{Instance, InstanceKey, NullInt64};

/// A primary, 20 intermediate primaries, the rest replicas spread over them, every fifth with a
/// replica of its own: wide and three levels deep, like a large real fleet.
pub fn synthetic_cluster(servers: usize) -> Vec<Instance> {
    let key = |i: usize| InstanceKey::new(format!("db{i:04}.example.com"), 3306);
    let mut out = Vec::with_capacity(servers);
    for i in 0..servers {
        let mut inst = Instance::unseen(key(i));
        inst.server_id = i as u32 + 1;
        inst.version = "8.0.36-28".into();
        inst.flavor_name = "Percona".into();
        inst.log_bin_enabled = true;
        inst.log_replication_updates_enabled = true;
        inst.binlog_format = "ROW".into();
        inst.is_last_check_valid = true;
        inst.is_recently_checked = true;
        inst.supports_oracle_gtid = true;
        inst.data_center = format!("dc{}", i % 3);
        if i > 0 {
            let source = if i <= 20 { 0 } else if i % 5 == 0 && i > 40 { i - 1 } else { 1 + i % 20 };
            inst.master_key = key(source);
            inst.using_oracle_gtid = true;
            inst.read_only = true;
            inst.replication_io_thread_running = true;
            inst.replication_sql_thread_running = true;
            inst.replication_lag_seconds = NullInt64::some((i % 7) as i64);
        }
        out.push(inst);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_primary_and_everyone_below_it() {
        let c = super::synthetic_cluster(500);
        assert_eq!(c.len(), 500);
        assert_eq!(c.iter().filter(|i| !i.is_replica()).count(), 1);
        let keys: std::collections::BTreeSet<_> = c.iter().map(|i| &i.key).collect();
        assert!(c.iter().filter(|i| i.is_replica()).all(|i| keys.contains(&i.master_key)));
    }
}
