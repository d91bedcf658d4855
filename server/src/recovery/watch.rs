//! The recovery loop: every 100 ms, analysis of discovery's view; a dead primary whose cluster
//! is in `RecoverMasterClusterFilters`, that is not downtimed and whose cluster had no recovery
//! within `RecoveryPeriodBlockSeconds` is confirmed by one more probe, then planned, executed,
//! audited, and the servers involved are probed again.
//!
//! Not here yet (issue 5): intermediate and co-master recoveries, hooks, acknowledgements, the
//! global switch and observe-only mode, raft leadership; the anti-flapping memory is in this
//! process only.

use super::executor::{execute, RecoveryRecord};
use super::{plan_dead_master, RecoveryPolicy};
use crate::analysis::{Analyzer, Hints, Snapshot};
use crate::discovery::Discovery;
use crate::intents::Intents;
use crate::refactor::executor::ExecSettings;
use crate::store::Store;
use app::model::analysis::{AnalysisCode, ReplicationAnalysis};
use app::model::InstanceKey;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How often the loop analyzes.
pub const INTERVAL: Duration = Duration::from_millis(100);

/// What the loop takes from the configuration.
#[derive(Clone, Debug)]
pub struct WatchSettings {
    pub policy: RecoveryPolicy,
    pub exec: ExecSettings,
    /// `RecoveryPeriodBlockSeconds`.
    pub block: Duration,
    /// How long the confirming probe of the dead primary may take.
    pub confirm_timeout: Duration,
}

/// What the loop needs from the node.
#[derive(Clone)]
pub struct Services {
    pub discovery: Discovery,
    pub analyzer: Analyzer,
    pub intents: Intents,
    pub store: Store,
}

/// Starts the loop; it ends when `cancel` is cancelled (a recovery under way finishes first).
pub fn spawn(services: Services, settings: WatchSettings, cancel: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut watch = Watch { services, settings, last_recovery: HashMap::new(), noted: HashSet::new() };
        let mut ticker = tokio::time::interval(INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = ticker.tick() => watch.pass().await,
            }
        }
    })
}

/// A dead primary this loop recovers (intermediate and co-master recoveries are not here yet).
pub fn calls_for_recovery(e: &ReplicationAnalysis) -> bool {
    matches!(e.analysis, AnalysisCode::DeadMaster | AnalysisCode::DeadMasterAndSomeReplicas) && e.is_actionable_recovery
}

/// Whether a dead primary is recovered now, or why not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    Recover,
    /// Its cluster is not in `RecoverMasterClusterFilters` (an empty list recovers nothing).
    NotInFilters,
    Downtimed,
    /// Its cluster was recovered `ago`, within `RecoveryPeriodBlockSeconds`.
    Blocked { ago: Duration },
}

/// Decides from the verdict (whose cluster details carry the filters' answer) and the time
/// since the cluster's last recovery. Checked in orchestrator's order: filters, downtime, block.
pub fn gate(verdict: &ReplicationAnalysis, since_last_recovery: Option<Duration>, block: Duration) -> Gate {
    if !verdict.cluster_details.has_automated_master_recovery {
        return Gate::NotInFilters;
    }
    if verdict.skippable_due_to_downtime {
        return Gate::Downtimed;
    }
    match since_last_recovery {
        Some(ago) if ago < block => Gate::Blocked { ago },
        _ => Gate::Recover,
    }
}

struct Watch {
    services: Services,
    settings: WatchSettings,
    /// Cluster → when its last recovery started (anti-flapping).
    last_recovery: HashMap<String, Instant>,
    /// (failed server, reason) already audited during the current failure, so a blocked
    /// recovery is recorded once, not every 100 ms.
    noted: HashSet<(InstanceKey, &'static str)>,
}

impl Watch {
    async fn pass(&mut self) {
        let s = &self.services;
        let now = chrono::Utc::now();
        let view = s.discovery.instances();
        let in_maintenance: BTreeSet<InstanceKey> = s.intents.snapshot().active_maintenance(now).into_iter().map(|w| w.instance.clone()).collect();
        let hints = Hints { include_downtimed: true, include_no_problem: false };
        let entries = s.analyzer.analyze(view.values(), in_maintenance.clone(), now, hints);
        let dead: Vec<ReplicationAnalysis> = entries.into_iter().filter(calls_for_recovery).collect();
        let current: HashSet<InstanceKey> = dead.iter().map(|e| e.analyzed_instance_key.clone()).collect();
        self.noted.retain(|(k, _)| current.contains(k));
        for verdict in dead {
            let key = verdict.analyzed_instance_key.clone();
            let cluster = verdict.cluster_details.cluster_name.clone();
            let since = self.last_recovery.get(&cluster).map(Instant::elapsed);
            match gate(&verdict, since, self.settings.block) {
                Gate::Recover => {}
                // orchestrator only logs this; so does this loop (once per failure).
                Gate::NotInFilters => {
                    if self.noted.insert((key.clone(), "filters")) {
                        tracing::info!(instance = %key, %cluster, "dead primary: cluster not in RecoverMasterClusterFilters, no recovery");
                    }
                    continue;
                }
                Gate::Downtimed => {
                    self.note(&key, &cluster, "downtimed", format!("{}: no recovery: {key} is downtimed", verdict.analysis)).await;
                    continue;
                }
                Gate::Blocked { ago } => {
                    let why = format!(
                        "{}: no recovery: blocked by the recovery of cluster {cluster} {:.0} s ago (RecoveryPeriodBlockSeconds={})",
                        verdict.analysis,
                        ago.as_secs_f64(),
                        self.settings.block.as_secs()
                    );
                    self.note(&key, &cluster, "blocked", why).await;
                    continue;
                }
            }
            // Holistic confirmation: the replicas agree; one more probe of the primary itself.
            let confirm = tokio::time::timeout(self.settings.confirm_timeout, self.services.discovery.refresh(&key)).await;
            if let Ok(Ok(inst)) = confirm {
                if inst.is_last_check_valid {
                    tracing::info!(instance = %key, "dead primary answered the confirming probe: no recovery");
                    continue;
                }
            }
            self.recover(&verdict, &in_maintenance).await;
        }
    }

    /// Audits why a recovery did not happen, once per failure.
    async fn note(&mut self, key: &InstanceKey, cluster: &str, reason: &'static str, message: String) {
        if !self.noted.insert((key.clone(), reason)) {
            return;
        }
        tracing::warn!(instance = %key, %cluster, "{message}");
        if let Err(e) = self.services.store.audit("blocked-recovery", key, cluster, "orchestrator", &message).await {
            tracing::error!(error = %e, "auditing a blocked recovery failed");
        }
    }

    async fn recover(&mut self, verdict: &ReplicationAnalysis, in_maintenance: &BTreeSet<InstanceKey>) {
        let s = self.services.clone();
        let key = &verdict.analyzed_instance_key;
        let cluster = verdict.cluster_details.cluster_name.clone();
        // Fresh view: the confirming probe may have changed it.
        let view = s.discovery.instances();
        let mut snapshot = Snapshot::new(view.values(), chrono::Utc::now());
        snapshot.in_maintenance = in_maintenance.clone();
        self.last_recovery.insert(cluster.clone(), Instant::now());
        tracing::warn!(instance = %key, %cluster, analysis = %verdict.analysis, "recovering a dead primary");
        let plan = match plan_dead_master(&snapshot, verdict, &self.settings.policy) {
            Ok(plan) => plan,
            Err(e) => {
                let message = format!("{}: no recovery: {e}", verdict.analysis);
                tracing::error!(instance = %key, %cluster, "{message}");
                let details = serde_json::json!({ "Analysis": verdict.analysis.to_string(), "FailedInstance": key, "Error": e.to_string() });
                if let Err(e) = s.store.audit_with_details("recover-dead-master", key, &cluster, "orchestrator", &message, &details).await {
                    tracing::error!(error = %e, "auditing a recovery failed");
                }
                return;
            }
        };
        let record: RecoveryRecord = execute(&plan, verdict, &view, self.settings.exec.clone(), &s.intents).await;
        if let Some(successor) = &record.successor {
            // The successor heads the cluster now (its name follows the primary): the same
            // block applies to it.
            self.last_recovery.insert(successor.to_string(), Instant::now());
        }
        tracing::warn!(instance = %key, %cluster, success = record.success, "{}", record.summary());
        let involved: BTreeSet<InstanceKey> =
            plan.steps.iter().map(|st| st.server().clone()).filter(|k| k != key && !k.hostname.starts_with("//")).collect();
        futures::future::join_all(involved.iter().map(|k| s.discovery.refresh(k))).await;
        let details = serde_json::to_value(&record).unwrap_or_default();
        if let Err(e) = s.store.audit_with_details("recover-dead-master", key, &cluster, "orchestrator", &record.summary(), &details).await {
            tracing::error!(error = %e, "auditing a recovery failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dead(in_filters: bool) -> ReplicationAnalysis {
        let mut e = ReplicationAnalysis { analysis: AnalysisCode::DeadMaster, is_actionable_recovery: true, ..Default::default() };
        e.cluster_details.has_automated_master_recovery = in_filters;
        e
    }

    #[test]
    fn only_dead_primaries_call_for_this_loop() {
        assert!(calls_for_recovery(&dead(true)));
        let some = ReplicationAnalysis { analysis: AnalysisCode::DeadMasterAndSomeReplicas, ..dead(true) };
        assert!(calls_for_recovery(&some));
        for code in [AnalysisCode::UnreachableMaster, AnalysisCode::DeadMasterAndReplicas, AnalysisCode::DeadIntermediateMaster] {
            assert!(!calls_for_recovery(&ReplicationAnalysis { analysis: code, ..dead(true) }), "{code}");
        }
        assert!(!calls_for_recovery(&ReplicationAnalysis { is_actionable_recovery: false, ..dead(true) }));
    }

    #[test]
    fn filters_then_downtime_then_the_block_decide() {
        let block = Duration::from_secs(3600);
        assert_eq!(gate(&dead(true), None, block), Gate::Recover);
        assert_eq!(gate(&dead(false), None, block), Gate::NotInFilters);
        let downtimed = ReplicationAnalysis { skippable_due_to_downtime: true, ..dead(true) };
        assert_eq!(gate(&downtimed, None, block), Gate::Downtimed);
        assert_eq!(gate(&ReplicationAnalysis { skippable_due_to_downtime: true, ..dead(false) }, None, block), Gate::NotInFilters);
        let ago = Duration::from_secs(10);
        assert_eq!(gate(&dead(true), Some(ago), block), Gate::Blocked { ago });
        assert_eq!(gate(&downtimed, Some(ago), block), Gate::Downtimed);
        assert_eq!(gate(&dead(true), Some(block), block), Gate::Recover);
        assert_eq!(gate(&dead(true), Some(ago), Duration::ZERO), Gate::Recover);
    }
}
