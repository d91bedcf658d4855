//! Clusters from the derived view: grouping, `ClusterInfo`, resolving a cluster hint the way
//! orchestrator does (name, alias, member instance, then a unique fuzzy match), and recovery
//! filter matching. Pure.

use app::model::tree::Tree;
use app::model::{ClusterInfo, ClusterOverview, Instance, InstanceKey};
use regex::Regex;
use std::collections::BTreeMap;

/// Members of every cluster, each list in tree order (depth first from the primary).
pub fn group(view: &BTreeMap<InstanceKey, Instance>) -> BTreeMap<String, Vec<Instance>> {
    let mut by_cluster: BTreeMap<String, Vec<Instance>> = BTreeMap::new();
    for inst in view.values() {
        by_cluster.entry(inst.cluster_name.clone()).or_default().push(inst.clone());
    }
    for members in by_cluster.values_mut() {
        let order: Vec<InstanceKey> = Tree::build(members).depth_first().iter().map(|(_, i)| i.key.clone()).collect();
        members.sort_by_key(|i| order.iter().position(|k| *k == i.key).unwrap_or(usize::MAX));
    }
    by_cluster
}

/// Recovery filters, as configured (`RecoverMasterClusterFilters`, ...).
#[derive(Clone, Debug, Default)]
pub struct RecoveryFilters {
    pub master: Vec<String>,
    pub intermediate_master: Vec<String>,
}

/// orchestrator's filter forms: `*`, exact cluster name, exact alias, `alias=<name>`,
/// `alias~=<regex>`, else a regex on the cluster name.
pub fn filter_matches(filters: &[String], cluster: &str, alias: &str) -> bool {
    filters.iter().any(|f| {
        if f == "*" || f == cluster || f == alias {
            true
        } else if let Some(name) = f.strip_prefix("alias=") {
            name == alias
        } else if let Some(re) = f.strip_prefix("alias~=") {
            Regex::new(re).map(|re| re.is_match(alias)).unwrap_or(false)
        } else {
            Regex::new(f).map(|re| re.is_match(cluster)).unwrap_or(false)
        }
    })
}

pub fn info(name: &str, members: &[Instance], filters: &RecoveryFilters) -> ClusterInfo {
    let alias = members.first().map(|i| i.suggested_cluster_alias.clone()).filter(|a| !a.is_empty()).unwrap_or_else(|| name.to_string());
    ClusterInfo {
        cluster_name: name.to_string(),
        cluster_alias: alias.clone(),
        cluster_domain: String::new(),
        count_instances: members.len() as u32,
        heuristic_lag: 0,
        has_automated_master_recovery: filter_matches(&filters.master, name, &alias),
        has_automated_intermediate_master_recovery: filter_matches(&filters.intermediate_master, name, &alias),
    }
}

/// Every cluster with its members, ordered by alias.
pub fn overview(view: &BTreeMap<InstanceKey, Instance>, filters: &RecoveryFilters) -> Vec<ClusterOverview> {
    let mut list: Vec<ClusterOverview> = group(view)
        .into_iter()
        .map(|(name, members)| ClusterOverview { info: info(&name, &members, filters), instances: members })
        .collect();
    list.sort_by(|a, b| a.info.cluster_alias.cmp(&b.info.cluster_alias));
    list
}

/// The cluster a hint names: a cluster name, an alias, a member's `host[:port]`, or a text that
/// matches exactly one member's `host:port`.
pub fn resolve_hint(view: &BTreeMap<InstanceKey, Instance>, hint: &str, default_port: u16) -> Option<String> {
    let hint = hint.trim();
    if hint.is_empty() {
        return None;
    }
    if view.values().any(|i| i.cluster_name == hint) {
        return Some(hint.to_string());
    }
    if let Some(i) = view.values().find(|i| i.suggested_cluster_alias == hint) {
        return Some(i.cluster_name.clone());
    }
    if let Ok(key) = InstanceKey::parse(hint, default_port) {
        if let Some(i) = view.get(&key) {
            return Some(i.cluster_name.clone());
        }
    }
    let fuzzy: Vec<&Instance> = view.values().filter(|i| i.key.to_string().contains(hint)).collect();
    match fuzzy.as_slice() {
        [one] => Some(one.cluster_name.clone()),
        _ => None,
    }
}

/// The primary of a cluster: its depth-0 writable member, else any depth-0 member.
pub fn primary(members: &[Instance]) -> Option<&Instance> {
    let tops: Vec<&Instance> = members.iter().filter(|i| i.replication_depth == 0).collect();
    tops.iter().find(|i| !i.read_only).or_else(|| tops.first()).copied()
}

/// Case-insensitive search over host, cluster, alias, version; exact server id or port.
pub fn search<'a>(view: &'a BTreeMap<InstanceKey, Instance>, text: &str) -> Vec<&'a Instance> {
    let needle = text.trim().to_ascii_lowercase();
    if needle.is_empty() {
        return Vec::new();
    }
    view.values()
        .filter(|i| {
            [&i.key.to_string(), &i.cluster_name, &i.suggested_cluster_alias, &i.instance_alias, &i.version, &i.version_comment]
                .iter()
                .any(|f| f.to_ascii_lowercase().contains(&needle))
                || i.server_id.to_string() == needle
                || i.key.port.to_string() == needle
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> BTreeMap<InstanceKey, Instance> {
        let mut v = BTreeMap::new();
        for (host, master, depth) in [("db1", None, 0), ("db2", Some("db1"), 1), ("db3", Some("db2"), 2), ("other", None, 0)] {
            let mut i = Instance::unseen(InstanceKey::new(host, 3306));
            i.replication_depth = depth;
            i.cluster_name = if host == "other" { "other:3306".into() } else { "db1:3306".into() };
            i.suggested_cluster_alias = if host == "other" { "other:3306".into() } else { "main".into() };
            if let Some(m) = master {
                i.master_key = InstanceKey::new(m, 3306);
                i.read_only = true;
            }
            v.insert(i.key.clone(), i);
        }
        v
    }

    #[test]
    fn hints_resolve_by_name_alias_member_and_unique_fuzzy_match() {
        let v = view();
        assert_eq!(resolve_hint(&v, "db1:3306", 3306).as_deref(), Some("db1:3306"));
        assert_eq!(resolve_hint(&v, "main", 3306).as_deref(), Some("db1:3306"));
        assert_eq!(resolve_hint(&v, "db3", 3306).as_deref(), Some("db1:3306"));
        assert_eq!(resolve_hint(&v, "oth", 3306).as_deref(), Some("other:3306"));
        assert_eq!(resolve_hint(&v, "db", 3306), None, "ambiguous");
        assert_eq!(resolve_hint(&v, "nope", 3306), None);
    }

    #[test]
    fn grouping_orders_members_as_the_tree() {
        let g = group(&view());
        let names: Vec<String> = g["db1:3306"].iter().map(|i| i.key.hostname.clone()).collect();
        assert_eq!(names, ["db1", "db2", "db3"]);
        assert_eq!(primary(&g["db1:3306"]).unwrap().key.hostname, "db1");
        let o = overview(&view(), &RecoveryFilters { master: vec!["alias=main".into()], ..Default::default() });
        assert_eq!(o[0].info.cluster_alias, "main");
        assert!(o[0].info.has_automated_master_recovery);
        assert!(!o[1].info.has_automated_master_recovery);
    }

    #[test]
    fn filters_take_orchestrators_forms() {
        assert!(filter_matches(&["*".into()], "c:1", "a"));
        assert!(filter_matches(&["c:1".into()], "c:1", "a"));
        assert!(filter_matches(&["alias~=^ma".into()], "c:1", "main"));
        assert!(filter_matches(&["^c:".into()], "c:1", "a"));
        assert!(!filter_matches(&[], "c:1", "a"));
        assert!(!filter_matches(&["alias=x".into()], "c:1", "main"));
    }

    #[test]
    fn search_matches_fields_and_exact_numbers() {
        let v = view();
        assert_eq!(search(&v, "DB2").len(), 1);
        assert_eq!(search(&v, "main").len(), 3);
        assert_eq!(search(&v, "3306").len(), 4);
        assert!(search(&v, "  ").is_empty());
    }
}
