//! From what each probe saw to what the API shows: cluster membership and names, depth,
//! co-masters, replica lists, aliases, data centers, errant GTIDs, problems, downtime and
//! promotion rules. Pure: a function of the observations, the operator's declarations and the
//! clock (a downtime or a promotion rule stops showing at its end time).

use crate::intents::model::{IntentSet, PromotionRule};
use crate::mysql::gtid::GtidSet;
use app::model::{Instance, InstanceKey, NullInt64};
use chrono::{DateTime, Utc};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// One server as discovery last saw it.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Observed {
    /// Observed fields (identity, configuration, replication) plus probe health timestamps.
    pub instance: Instance,
    /// Replicas the server itself reported.
    pub reported_replicas: Vec<InstanceKey>,
    /// `DetectClusterAliasQuery`'s answer on this server.
    pub detected_cluster_alias: String,
    /// `DetectPromotionRuleQuery`'s answer on this server. orchestrator re-registers it on
    /// every probe, so it wins over `register-candidate` while the query answers.
    pub detected_promotion_rule: String,
}

/// Settings that shape the derived view.
#[derive(Clone, Debug, Default)]
pub struct DeriveSettings {
    pub poll_interval: Duration,
    pub reasonable_lag_seconds: i64,
    pub data_center_pattern: Option<Regex>,
    pub region_pattern: Option<Regex>,
    pub physical_environment_pattern: Option<Regex>,
    /// `ClusterNameToAlias`: regex on the cluster name -> alias.
    pub cluster_name_to_alias: Vec<(Regex, String)>,
}

/// Operator declarations that the view includes.
#[derive(Clone, Debug, Default)]
pub struct Declarations {
    /// `set-cluster-alias`: cluster name -> alias.
    pub cluster_aliases: BTreeMap<String, String>,
    /// Maintenance, downtime, promotion rules and tags (`intents`).
    pub intents: Arc<IntentSet>,
}

/// Derives the full view of every known instance.
pub fn derive(
    observed: &HashMap<InstanceKey, Observed>,
    declared: &Declarations,
    settings: &DeriveSettings,
    now: DateTime<Utc>,
) -> BTreeMap<InstanceKey, Instance> {
    let known = |k: &InstanceKey| !k.is_empty() && observed.contains_key(k);

    // Parent of each instance inside the known set.
    let parent: HashMap<&InstanceKey, &InstanceKey> = observed
        .iter()
        .filter(|(_, o)| known(&o.instance.master_key))
        .map(|(k, o)| (k, &o.instance.master_key))
        .collect();

    let mut out: BTreeMap<InstanceKey, Instance> = BTreeMap::new();
    for (key, obs) in observed {
        let mut inst = obs.instance.clone();
        let (root, depth, cycle) = walk_up(key, &parent);
        inst.is_co_master = cycle.len() == 2 && cycle.contains(&key);
        inst.cluster_name = root.to_string();
        inst.replication_depth = if cycle.contains(&key) { 0 } else { depth };
        apply_patterns(&mut inst, settings);
        out.insert(key.clone(), inst);
    }

    // Replicas: those each server reports plus those that name it as their source.
    let mut replicas: BTreeMap<InstanceKey, BTreeSet<InstanceKey>> = BTreeMap::new();
    for (key, obs) in observed {
        for r in &obs.reported_replicas {
            replicas.entry(key.clone()).or_default().insert(r.clone());
        }
        if let Some(p) = parent.get(key) {
            replicas.entry((*p).clone()).or_default().insert(key.clone());
        }
    }

    // Cluster aliases: declared, then detected on the top server, then ClusterNameToAlias.
    let mut cluster_alias: BTreeMap<String, String> = BTreeMap::new();
    for inst in out.values() {
        if !cluster_alias.contains_key(&inst.cluster_name) {
            cluster_alias.insert(inst.cluster_name.clone(), alias_for(&inst.cluster_name, observed, declared, settings));
        }
    }

    let executed: HashMap<&InstanceKey, GtidSet> = observed
        .iter()
        .filter(|(_, o)| o.instance.supports_oracle_gtid && o.instance.is_last_check_valid)
        .filter_map(|(k, o)| GtidSet::parse(&o.instance.executed_gtid_set).ok().map(|s| (k, s)))
        .collect();

    for (key, inst) in out.iter_mut() {
        inst.replicas = replicas.remove(key).map(|s| s.into_iter().collect()).unwrap_or_default();
        inst.suggested_cluster_alias = cluster_alias.get(&inst.cluster_name).cloned().unwrap_or_default();
        inst.gtid_errant = errant_gtids(key, &parent, &executed, observed);
        apply_health(inst, settings, now);
        let detected_rule = observed.get(key).map(|o| o.detected_promotion_rule.as_str()).unwrap_or("");
        apply_intents(inst, &declared.intents, detected_rule, now);
    }
    out
}

/// Downtime, maintenance and promotion rule as they stand at `now` (orchestrator's `IsDowntimed`,
/// `DowntimeReason`, `DowntimeOwner`, `DowntimeEndTimestamp`, `PromotionRule`, `IsCandidate`).
fn apply_intents(inst: &mut Instance, intents: &IntentSet, detected_rule: &str, now: DateTime<Utc>) {
    match intents.downtime_of(&inst.key, now) {
        Some(d) => {
            inst.is_downtimed = true;
            inst.downtime_reason = d.reason.clone();
            inst.downtime_owner = d.owner.clone();
            inst.downtime_end = Some(d.end);
        }
        None => {
            inst.is_downtimed = false;
            inst.downtime_reason.clear();
            inst.downtime_owner.clear();
            inst.downtime_end = None;
        }
    }
    match intents.maintenance_of(&inst.key, now) {
        Some(m) => {
            inst.in_maintenance = true;
            inst.maintenance_owner = m.owner.clone();
            inst.maintenance_reason = m.reason.clone();
        }
        None => {
            inst.in_maintenance = false;
            inst.maintenance_owner.clear();
            inst.maintenance_reason.clear();
        }
    }
    let detected = if detected_rule.is_empty() { None } else { PromotionRule::parse(detected_rule).ok() };
    let rule = detected
        .or_else(|| intents.promotion_rule_of(&inst.key, now))
        .unwrap_or(PromotionRule::Neutral);
    inst.promotion_rule = rule.as_str().to_string();
    inst.is_candidate = rule.is_candidate();
}

/// Follows sources upward. Returns the cluster's name (its top server, or the smallest key of a
/// cycle), the depth, and the members of the cycle the walk ended in (empty when none).
fn walk_up<'a>(start: &'a InstanceKey, parent: &HashMap<&'a InstanceKey, &'a InstanceKey>) -> (&'a InstanceKey, u32, Vec<&'a InstanceKey>) {
    let mut path: Vec<&InstanceKey> = vec![start];
    let mut current = start;
    while let Some(&next) = parent.get(current) {
        if let Some(pos) = path.iter().position(|k| *k == next) {
            let cycle: Vec<&InstanceKey> = path[pos..].to_vec();
            let root = cycle.iter().min().copied().unwrap_or(start);
            return (root, pos as u32, cycle);
        }
        path.push(next);
        current = next;
    }
    (current, (path.len() - 1) as u32, Vec::new())
}

fn alias_for(cluster: &str, observed: &HashMap<InstanceKey, Observed>, declared: &Declarations, settings: &DeriveSettings) -> String {
    if let Some(a) = declared.cluster_aliases.get(cluster) {
        return a.clone();
    }
    let detected = observed
        .iter()
        .find(|(k, _)| k.to_string() == cluster)
        .map(|(_, o)| o.detected_cluster_alias.clone())
        .filter(|a| !a.is_empty());
    if let Some(a) = detected {
        return a;
    }
    for (re, alias) in &settings.cluster_name_to_alias {
        if re.is_match(cluster) {
            return alias.clone();
        }
    }
    cluster.to_string()
}

fn apply_patterns(inst: &mut Instance, settings: &DeriveSettings) {
    let capture = |re: &Option<Regex>| {
        re.as_ref()
            .and_then(|re| re.captures(&inst.key.hostname))
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_string())
    };
    if inst.data_center.is_empty() {
        inst.data_center = capture(&settings.data_center_pattern).unwrap_or_default();
    }
    if inst.region.is_empty() {
        inst.region = capture(&settings.region_pattern).unwrap_or_default();
    }
    if inst.physical_environment.is_empty() {
        inst.physical_environment = capture(&settings.physical_environment_pattern).unwrap_or_default();
    }
}

/// Transactions a replica has that did not come from its ancestors (orchestrator's rule:
/// drop the ancestors' own UUIDs first, so that a source probed slightly before its replica does
/// not make fresh replicated transactions look errant).
fn errant_gtids(
    key: &InstanceKey,
    parent: &HashMap<&InstanceKey, &InstanceKey>,
    executed: &HashMap<&InstanceKey, GtidSet>,
    observed: &HashMap<InstanceKey, Observed>,
) -> String {
    let (Some(mine), Some(source)) = (executed.get(key), parent.get(key)) else { return String::new() };
    let Some(source_set) = executed.get(source) else { return String::new() };
    let mut candidate = mine.clone();
    let mut seen = BTreeSet::new();
    let mut current = *source;
    while seen.insert(current) {
        if let Some(o) = observed.get(current) {
            if !o.instance.server_uuid.is_empty() && current != key {
                candidate = candidate.without_source(&o.instance.server_uuid);
            }
        }
        match parent.get(current) {
            Some(next) => current = next,
            None => break,
        }
    }
    candidate.subtract(source_set).to_string()
}

fn apply_health(inst: &mut Instance, settings: &DeriveSettings, now: DateTime<Utc>) {
    let poll = chrono::Duration::from_std(settings.poll_interval).unwrap_or(chrono::Duration::seconds(5));
    let checked_within = |limit: chrono::Duration| inst.last_checked.is_some_and(|t| now - t <= limit);
    inst.is_up_to_date = checked_within(poll + chrono::Duration::seconds(1));
    inst.is_recently_checked = checked_within(poll * 5);
    inst.seconds_since_last_seen = match inst.last_seen {
        Some(t) => NullInt64::some((now - t).num_seconds().max(0)),
        None => NullInt64::default(),
    };
    inst.problems.clear();
    let lag = inst.replication_lag_seconds.get().unwrap_or(0);
    if !inst.is_last_check_valid {
        inst.problems.push("last_check_invalid".into());
    } else if !inst.is_recently_checked {
        inst.problems.push("not_recently_checked".into());
    } else if inst.is_replica() && !inst.is_replicating() {
        inst.problems.push("not_replicating".into());
    } else if inst.is_replica() && lag > settings.reasonable_lag_seconds {
        inst.problems.push("replication_lag".into());
    }
    if !inst.gtid_errant.is_empty() {
        inst.problems.push("errant_gtid".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(name: &str, master: Option<&str>) -> (InstanceKey, Observed) {
        let key = InstanceKey::new(name, 3306);
        let mut inst = Instance::unseen(key.clone());
        inst.is_last_check_valid = true;
        inst.last_checked = Some(Utc::now());
        inst.last_seen = inst.last_checked;
        if let Some(m) = master {
            inst.master_key = InstanceKey::new(m, 3306);
            inst.replication_io_thread_running = true;
            inst.replication_sql_thread_running = true;
        }
        (key, Observed { instance: inst, ..Default::default() })
    }

    fn settings() -> DeriveSettings {
        DeriveSettings { poll_interval: Duration::from_secs(5), reasonable_lag_seconds: 10, ..Default::default() }
    }

    #[test]
    fn cluster_name_is_the_top_primary_and_depth_counts_hops() {
        let observed: HashMap<_, _> = [obs("a", None), obs("b", Some("a")), obs("c", Some("b")), obs("x", Some("unknown"))].into();
        let view = derive(&observed, &Declarations::default(), &settings(), Utc::now());
        let c = &view[&InstanceKey::new("c", 3306)];
        assert_eq!(c.cluster_name, "a:3306");
        assert_eq!(c.replication_depth, 2);
        assert_eq!(view[&InstanceKey::new("a", 3306)].replicas, vec![InstanceKey::new("b", 3306)]);
        // A replica whose source is unknown heads its own cluster.
        assert_eq!(view[&InstanceKey::new("x", 3306)].cluster_name, "x:3306");
    }

    #[test]
    fn co_masters_share_the_smaller_name() {
        let observed: HashMap<_, _> = [obs("b", Some("a")), obs("a", Some("b")), obs("r", Some("b"))].into();
        let view = derive(&observed, &Declarations::default(), &settings(), Utc::now());
        for name in ["a", "b", "r"] {
            assert_eq!(view[&InstanceKey::new(name, 3306)].cluster_name, "a:3306");
        }
        assert!(view[&InstanceKey::new("a", 3306)].is_co_master);
        assert!(view[&InstanceKey::new("b", 3306)].is_co_master);
        assert!(!view[&InstanceKey::new("r", 3306)].is_co_master);
        assert_eq!(view[&InstanceKey::new("r", 3306)].replication_depth, 1);
    }

    #[test]
    fn aliases_declared_then_detected_then_patterns() {
        let mut observed: HashMap<_, _> = [obs("a", None), obs("b", Some("a"))].into();
        let mut s = settings();
        s.cluster_name_to_alias = vec![(Regex::new("^a:").unwrap(), "from-pattern".into())];
        let view = derive(&observed, &Declarations::default(), &s, Utc::now());
        assert_eq!(view[&InstanceKey::new("b", 3306)].suggested_cluster_alias, "from-pattern");
        observed.get_mut(&InstanceKey::new("a", 3306)).unwrap().detected_cluster_alias = "detected".into();
        let view = derive(&observed, &Declarations::default(), &s, Utc::now());
        assert_eq!(view[&InstanceKey::new("b", 3306)].suggested_cluster_alias, "detected");
        let declared = Declarations { cluster_aliases: [("a:3306".to_string(), "main".to_string())].into(), ..Default::default() };
        let view = derive(&observed, &declared, &s, Utc::now());
        assert_eq!(view[&InstanceKey::new("a", 3306)].suggested_cluster_alias, "main");
    }

    #[test]
    fn problems_follow_orchestrator_precedence() {
        let (ka, a) = obs("a", None);
        let (kb, mut b) = obs("b", Some("a"));
        b.instance.replication_sql_thread_running = false;
        let (kc, mut c) = obs("c", Some("a"));
        c.instance.replication_lag_seconds = NullInt64::some(30);
        let (kd, mut d) = obs("d", Some("a"));
        d.instance.is_last_check_valid = false;
        d.instance.replication_sql_thread_running = false;
        let observed: HashMap<_, _> = [(ka.clone(), a), (kb.clone(), b), (kc.clone(), c), (kd.clone(), d)].into();
        let view = derive(&observed, &Declarations::default(), &settings(), Utc::now());
        assert!(view[&ka].problems.is_empty());
        assert_eq!(view[&kb].problems, vec!["not_replicating"]);
        assert_eq!(view[&kc].problems, vec!["replication_lag"]);
        assert_eq!(view[&kd].problems, vec!["last_check_invalid"]);
        let later = Utc::now() + chrono::Duration::seconds(60);
        let view = derive(&observed, &Declarations::default(), &settings(), later);
        assert_eq!(view[&ka].problems, vec!["not_recently_checked"]);
        assert!(!view[&ka].is_up_to_date);
    }

    #[test]
    fn errant_gtids_ignore_what_came_from_ancestors() {
        let p = "11111111-1111-1111-1111-111111111111";
        let r = "22222222-2222-2222-2222-222222222222";
        let (ka, mut a) = obs("a", None);
        a.instance.supports_oracle_gtid = true;
        a.instance.server_uuid = p.into();
        a.instance.executed_gtid_set = format!("{p}:1-100");
        let (kb, mut b) = obs("b", Some("a"));
        b.instance.supports_oracle_gtid = true;
        b.instance.server_uuid = r.into();
        // Probed after the source wrote more: not errant. Its own write: errant.
        b.instance.executed_gtid_set = format!("{p}:1-105,{r}:1-2");
        let observed: HashMap<_, _> = [(ka, a), (kb.clone(), b)].into();
        let view = derive(&observed, &Declarations::default(), &settings(), Utc::now());
        assert_eq!(view[&kb].gtid_errant, format!("{r}:1-2"));
        assert!(view[&kb].problems.contains(&"errant_gtid".to_string()));
    }

    #[test]
    fn downtime_maintenance_and_promotion_rules_show_until_they_end() {
        use crate::intents::model::{Candidate, IntentCommand, Window};
        let (ka, a) = obs("a", None);
        let (kb, mut b) = obs("b", Some("a"));
        b.detected_promotion_rule = "must_not".into();
        let observed: HashMap<_, _> = [(ka.clone(), a), (kb.clone(), b)].into();
        let now = Utc::now();
        let end = now + chrono::Duration::seconds(30);
        let mut intents = IntentSet::default();
        let w = Window { instance: ka.clone(), owner: "alice".into(), reason: "kernel".into(), begin: now, end };
        intents.apply(&IntentCommand::BeginDowntime(w)).unwrap();
        let lock = Window { instance: kb.clone(), owner: "bob".into(), reason: "upgrade".into(), begin: now, end };
        intents.apply(&IntentCommand::BeginMaintenance(lock)).unwrap();
        for k in [&ka, &kb] {
            let c = Candidate { instance: k.clone(), rule: PromotionRule::Prefer, registered: now, expires: end };
            intents.apply(&IntentCommand::RegisterCandidate(c)).unwrap();
        }
        let declared = Declarations { intents: Arc::new(intents), ..Default::default() };
        let view = derive(&observed, &declared, &settings(), now);
        let a = &view[&ka];
        assert!(a.is_downtimed);
        assert_eq!((a.downtime_owner.as_str(), a.downtime_reason.as_str(), a.downtime_end), ("alice", "kernel", Some(end)));
        assert_eq!((a.promotion_rule.as_str(), a.is_candidate), ("prefer", true));
        // The server's own DetectPromotionRuleQuery answer wins, as it is re-registered per probe.
        assert_eq!((view[&kb].promotion_rule.as_str(), view[&kb].is_candidate), ("must_not", false));
        let b = &view[&kb];
        assert_eq!((b.in_maintenance, b.maintenance_owner.as_str(), b.maintenance_reason.as_str()), (true, "bob", "upgrade"));
        assert!(!view[&ka].in_maintenance);

        let view = derive(&observed, &declared, &settings(), end);
        let a = &view[&ka];
        assert!(!a.is_downtimed && a.downtime_owner.is_empty() && a.downtime_end.is_none());
        assert!(!view[&kb].in_maintenance && view[&kb].maintenance_owner.is_empty(), "the lock ended");
        assert_eq!((a.promotion_rule.as_str(), a.is_candidate), ("neutral", false));
    }

    #[test]
    fn data_center_from_hostname_pattern() {
        let observed: HashMap<_, _> = [obs("db1.dc-east.example", None)].into();
        let mut s = settings();
        s.data_center_pattern = Some(Regex::new(r"\.(dc-[a-z]+)\.").unwrap());
        let view = derive(&observed, &Declarations::default(), &s, Utc::now());
        assert_eq!(view.values().next().unwrap().data_center, "dc-east");
    }
}
