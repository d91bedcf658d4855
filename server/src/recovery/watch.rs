//! The recovery loop: every 100 ms, analysis of discovery's view. A dead primary is registered
//! as a detection (once per `FailureDetectionPeriodBlockMinutes`, running
//! `OnFailureDetectionProcesses`), then recovered when, in this order: recoveries are globally
//! enabled, the node is not in observe-only mode, its cluster is in
//! `RecoverMasterClusterFilters`, it is not downtimed, one more probe confirms it is dead, and no
//! active recovery of its cluster blocks it (checked by the store when it registers). Every
//! recovery that does not run is recorded as blocked, with why.
//!
//! Dead co-masters follow the same path (master filters), dead intermediate primaries too with
//! `RecoverIntermediateMasterClusterFilters`. Not here yet (issue 6): raft leadership.

use super::hooks::{run_list, HookSettings, Phase};
use super::run::{hook_context, recover, NotRun, Trigger};
use super::RecoveryPolicy;
use crate::analysis::{Analyzer, Hints};
use crate::config::HooksConfig;
use crate::discovery::Discovery;
use crate::intents::Intents;
use crate::refactor::executor::ExecSettings;
use crate::raft::{Command, Reply};
use crate::store::{NewDetection, Store};
use app::model::analysis::{CodeAction, ReplicationAnalysis};
use app::model::InstanceKey;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How often the loop analyzes.
pub const INTERVAL: Duration = Duration::from_millis(100);

/// The longest wait for the confirming probe of a dead primary.
pub const CONFIRM_TIMEOUT: Duration = Duration::from_millis(500);

/// How often a lasting blocked recovery's record is refreshed.
const BLOCKED_REFRESH: Duration = Duration::from_secs(1);

/// The stored switch that disables automated recoveries (`disable-global-recoveries`).
pub const RECOVERIES_DISABLED: &str = "recoveries-disabled";
/// The stored switch of observe-only mode (`enable-observe-only`).
pub const OBSERVE_ONLY: &str = "observe-only";

/// What the loop takes from the configuration.
#[derive(Clone, Debug)]
pub struct WatchSettings {
    pub policy: RecoveryPolicy,
    pub exec: ExecSettings,
    /// `RecoveryPeriodBlockSeconds`.
    pub block: Duration,
    /// `FailureDetectionPeriodBlockMinutes`.
    pub detection_block: Duration,
    /// How long the confirming probe of the dead primary may take.
    pub confirm_timeout: Duration,
    /// `RecoveryObserveOnly`: observe-only until switched at runtime.
    pub observe_only: bool,
    pub hooks: HooksConfig,
    pub hook: HookSettings,
}

/// What the loop needs from the node.
#[derive(Clone)]
pub struct Services {
    pub discovery: Discovery,
    pub analyzer: Analyzer,
    pub intents: Intents,
    pub store: Store,
    /// Recovery records, detections and fences are written through it; only its leader recovers.
    pub replicated: crate::raft::Replicated,
}

/// Starts the loop; it ends when `cancel` is cancelled (a recovery under way finishes first).
pub fn spawn(services: Services, settings: WatchSettings, cancel: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut watch = Watch { services, settings, noted: HashMap::new(), detected: HashSet::new() };
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

/// A failure this loop recovers: a dead primary, co-master or intermediate primary.
pub fn calls_for_recovery(e: &ReplicationAnalysis) -> bool {
    matches!(e.analysis.action(), CodeAction::RecoverDeadMaster | CodeAction::RecoverDeadCoMaster | CodeAction::RecoverDeadIntermediateMaster)
        && e.is_actionable_recovery
}

/// The node-wide switches, as stored (or configured when never switched).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Switches {
    pub recoveries_disabled: bool,
    pub observe_only: bool,
}

/// Reads the switches; an unreadable store counts as disabled (never recover blind).
pub async fn switches(store: &Store, observe_only_default: bool) -> Result<Switches, String> {
    let disabled = store.switch(RECOVERIES_DISABLED).await.map_err(|e| e.to_string())?;
    let observe = store.switch(OBSERVE_ONLY).await.map_err(|e| e.to_string())?;
    Ok(Switches { recoveries_disabled: disabled.unwrap_or(false), observe_only: observe.unwrap_or(observe_only_default) })
}

/// Whether a dead primary is recovered now, or why not (before the anti-flapping check, which
/// the store makes when the recovery registers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    Recover,
    /// `disable-global-recoveries`.
    Disabled,
    ObserveOnly,
    /// Its cluster is not in `RecoverMasterClusterFilters` (or, for an intermediate primary,
    /// `RecoverIntermediateMasterClusterFilters`; an empty list recovers nothing).
    NotInFilters,
    Downtimed,
}

impl Gate {
    /// The short reason recorded with the blocked recovery.
    pub fn reason(self) -> &'static str {
        match self {
            Gate::Recover => "",
            Gate::Disabled => "recoveries are disabled (disable-global-recoveries)",
            Gate::ObserveOnly => "the node is in observe-only mode",
            Gate::NotInFilters => "its cluster is not in RecoverMasterClusterFilters / RecoverIntermediateMasterClusterFilters",
            Gate::Downtimed => "it is downtimed",
        }
    }
}

/// Decides in orchestrator's order: the global switch, (ours) observe-only, filters, downtime.
pub fn gate(verdict: &ReplicationAnalysis, switches: Switches) -> Gate {
    if switches.recoveries_disabled {
        return Gate::Disabled;
    }
    if switches.observe_only {
        return Gate::ObserveOnly;
    }
    let in_filters = match verdict.analysis.action() {
        CodeAction::RecoverDeadIntermediateMaster => verdict.cluster_details.has_automated_intermediate_master_recovery,
        _ => verdict.cluster_details.has_automated_master_recovery,
    };
    if !in_filters {
        return Gate::NotInFilters;
    }
    if verdict.skippable_due_to_downtime {
        return Gate::Downtimed;
    }
    Gate::Recover
}

struct Watch {
    services: Services,
    settings: WatchSettings,
    /// (failed server, reason) → when its blocked record was last written, so a lasting block
    /// is logged once and its record refreshed every `BLOCKED_REFRESH`, not every 100 ms.
    noted: HashMap<(InstanceKey, String), Instant>,
    /// Failing servers whose detection this process registered (or found active): not asked
    /// of the store again every 100 ms while the failure lasts.
    detected: HashSet<InstanceKey>,
}

impl Watch {
    async fn pass(&mut self) {
        let s = &self.services;
        // Every node analyses; only the raft leader detects and recovers (without raft, the
        // node is its own leader). A node that becomes leader starts with a clean memory.
        if !s.replicated.is_leader() {
            self.detected.clear();
            self.noted.clear();
            return;
        }
        let now = chrono::Utc::now();
        let view = s.discovery.instances();
        let in_maintenance: BTreeSet<InstanceKey> = s.intents.snapshot().active_maintenance(now).into_iter().map(|w| w.instance.clone()).collect();
        let hints = Hints { include_downtimed: true, include_no_problem: false };
        let entries = s.analyzer.analyze(view.values(), in_maintenance.clone(), now, hints);
        let dead: Vec<ReplicationAnalysis> = entries.into_iter().filter(calls_for_recovery).collect();
        let failing: Vec<InstanceKey> = dead.iter().map(|e| e.analyzed_instance_key.clone()).collect();
        self.detected.retain(|k| failing.contains(k));
        let before = self.noted.len();
        self.noted.retain(|(k, _), _| failing.contains(k));
        if self.noted.len() != before {
            if let Err(e) = s.replicated.write(Command::ClearBlockedExcept { failing: failing.clone() }).await {
                tracing::error!(error = %e, "clearing ended blocked recoveries failed");
            }
        }
        if dead.is_empty() {
            return;
        }
        let switches = match switches(&s.store, self.settings.observe_only).await {
            Ok(sw) => sw,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the recovery switches: no recovery");
                return;
            }
        };
        for verdict in dead {
            self.detect(&verdict).await;
            let key = verdict.analyzed_instance_key.clone();
            let g = gate(&verdict, switches);
            if g != Gate::Recover {
                self.note(&verdict, g.reason().to_string(), 0).await;
                continue;
            }
            // Holistic confirmation: the replicas agree; one more probe of the primary itself.
            let confirm = tokio::time::timeout(self.settings.confirm_timeout, self.services.discovery.refresh(&key)).await;
            if let Ok(Ok(inst)) = confirm {
                if inst.is_last_check_valid {
                    tracing::info!(instance = %key, "dead primary answered the confirming probe: no recovery");
                    continue;
                }
            }
            match recover(&self.services, &self.settings, &verdict, &in_maintenance, &Trigger::Automated, None).await {
                Ok(_) => {}
                Err(NotRun::Blocked(by)) => {
                    let why = format!(
                        "blocked by recovery {} of {} started {} (RecoveryPeriodBlockSeconds={}); acknowledge it to unblock",
                        by.id,
                        by.failed,
                        by.started.format("%Y-%m-%d %H:%M:%S UTC"),
                        self.settings.block.as_secs()
                    );
                    self.note(&verdict, why, by.id).await;
                }
                Err(NotRun::Store(e)) => tracing::error!(instance = %key, error = %e, "cannot register a recovery: no recovery"),
            }
        }
    }

    /// Registers the detection of `verdict` (once per period) and runs the detection hooks in
    /// the background: they must not delay the recovery.
    async fn detect(&mut self, verdict: &ReplicationAnalysis) {
        if !self.detected.insert(verdict.analyzed_instance_key.clone()) {
            return;
        }
        let s = &self.services;
        let now = chrono::Utc::now();
        let d = NewDetection {
            failed: verdict.analyzed_instance_key.clone(),
            cluster: verdict.cluster_details.cluster_name.clone(),
            cluster_alias: verdict.cluster_details.cluster_alias.clone(),
            analysis: verdict.analysis.to_string(),
            description: verdict.description.clone(),
            count_replicas: verdict.count_replicas as usize,
            node: self.settings.hook.node.clone(),
            detected: now,
        };
        let since = now - chrono::Duration::from_std(self.settings.detection_block).unwrap_or_default();
        let failed = d.failed.clone();
        let detection = s.replicated.write(Command::RegisterDetection { detection: d.clone(), active_since: since }).await;
        match detection {
            Ok(Reply::Detection(Some(id))) => {
                tracing::warn!(instance = %d.failed, analysis = %d.analysis, detection = id, "failure detected");
                let list = self.settings.hooks.on_failure_detection_processes.clone();
                if list.is_empty() {
                    return;
                }
                let ctx = hook_context(verdict, &Trigger::Automated, "", &self.settings.hook.node);
                let (hook, store, failed, cluster) = (self.settings.hook.clone(), s.store.clone(), d.failed.clone(), d.cluster.clone());
                tokio::spawn(async move {
                    let (runs, _) = run_list(Phase::OnFailureDetectionProcesses, &list, &ctx, &hook).await;
                    let message = format!("detection {id}: {} hook(s) ran, {} failed", runs.len(), runs.iter().filter(|r| !r.error.is_empty()).count());
                    let details = serde_json::json!({ "DetectionId": id, "Hooks": runs });
                    if let Err(e) = store.audit_with_details("failure-detection-hooks", &failed, &cluster, "orchestrator", &message, &details).await {
                        tracing::error!(error = %e, "auditing detection hooks failed");
                    }
                });
            }
            Ok(_) => {}
            Err(e) => {
                // Asked again on the next pass.
                self.detected.remove(&failed);
                tracing::error!(error = %e, "registering a failure detection failed");
            }
        }
    }

    /// Records why a recovery did not run: logged and audited once per failure and reason,
    /// the blocked record refreshed every `BLOCKED_REFRESH`.
    async fn note(&mut self, verdict: &ReplicationAnalysis, reason: String, blocking: i64) {
        let key = verdict.analyzed_instance_key.clone();
        let cluster = verdict.cluster_details.cluster_name.clone();
        let first = !self.noted.contains_key(&(key.clone(), reason.clone()));
        if self.noted.get(&(key.clone(), reason.clone())).is_some_and(|t| t.elapsed() < BLOCKED_REFRESH) {
            return;
        }
        self.noted.insert((key.clone(), reason.clone()), Instant::now());
        let s = &self.services;
        let blocked = Command::NoteBlocked {
            failed: key.clone(),
            cluster: cluster.clone(),
            analysis: verdict.analysis.to_string(),
            reason: reason.clone(),
            blocking,
            at: chrono::Utc::now(),
        };
        if let Err(e) = s.replicated.write(blocked).await {
            tracing::error!(error = %e, "recording a blocked recovery failed");
        }
        if !first {
            return;
        }
        let message = format!("{}: no recovery of {key}: {reason}", verdict.analysis);
        tracing::warn!(instance = %key, %cluster, "{message}");
        if let Err(e) = s.store.audit("blocked-recovery", &key, &cluster, "orchestrator", &message).await {
            tracing::error!(error = %e, "auditing a blocked recovery failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::analysis::AnalysisCode;

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
        assert!(calls_for_recovery(&ReplicationAnalysis { analysis: AnalysisCode::DeadCoMaster, ..dead(true) }), "co-masters use the master filters");
        for code in [AnalysisCode::UnreachableMaster, AnalysisCode::DeadMasterAndReplicas, AnalysisCode::UnreachableIntermediateMasterWithLaggingReplicas] {
            assert!(!calls_for_recovery(&ReplicationAnalysis { analysis: code, ..dead(true) }), "{code}");
        }
        let im = ReplicationAnalysis { analysis: AnalysisCode::DeadIntermediateMaster, ..dead(true) };
        assert!(calls_for_recovery(&im));
        assert_eq!(gate(&im, Switches::default()), Gate::NotInFilters, "the master filters do not cover intermediate primaries");
        let mut im_in = im.clone();
        im_in.cluster_details.has_automated_intermediate_master_recovery = true;
        assert_eq!(gate(&im_in, Switches::default()), Gate::Recover);
        assert!(!calls_for_recovery(&ReplicationAnalysis { is_actionable_recovery: false, ..dead(true) }));
    }

    #[test]
    fn the_switch_then_observe_only_then_filters_then_downtime_decide() {
        let on = Switches::default();
        assert_eq!(gate(&dead(true), on), Gate::Recover);
        assert_eq!(gate(&dead(false), on), Gate::NotInFilters);
        let downtimed = ReplicationAnalysis { skippable_due_to_downtime: true, ..dead(true) };
        assert_eq!(gate(&downtimed, on), Gate::Downtimed);
        assert_eq!(gate(&ReplicationAnalysis { skippable_due_to_downtime: true, ..dead(false) }, on), Gate::NotInFilters);
        let observe = Switches { observe_only: true, ..on };
        assert_eq!(gate(&dead(true), observe), Gate::ObserveOnly);
        let disabled = Switches { recoveries_disabled: true, observe_only: true };
        assert_eq!(gate(&downtimed, disabled), Gate::Disabled);
        assert!(Gate::Disabled.reason().contains("disable-global-recoveries"));
    }
}
