//! Runs a `RecoveryPlan` on the servers, step by step, and records each step (server, what it
//! did, the statements sent, start time, duration, error) in a `RecoveryRecord`.
//!
//! Statements come from the dialect, and steps the refactoring executor knows (stop, change
//! source, start) run through it, one at a time. Unlike an operation there is no rollback: the
//! source is dead. What fails is handled per step:
//! - before the successor is writable, a failure ends the recovery (nothing is half-promoted),
//!   except a fence of the dead primary that is not `required` and a `LoseReplica` drain;
//! - after it, a failing replica is lost (its remaining steps are skipped) and the others go on.

use super::plan::{OnTimeout, RecoveryPlan, RecoveryStep};
use crate::intents::Intents;
use crate::refactor::executor::{ExecSettings, Executor};
use crate::refactor::planner::control::detach;
use app::model::analysis::ReplicationAnalysis;
use app::model::ops::{Moved, StepRun};
use app::model::{Instance, InstanceKey};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// A server and a sentence about it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct KeyReason {
    #[serde(rename = "Instance")]
    pub instance: InstanceKey,
    #[serde(rename = "Reason")]
    pub reason: String,
}

/// What one recovery did and why.
#[derive(Clone, Debug, Serialize)]
pub struct RecoveryRecord {
    #[serde(rename = "Analysis")]
    pub analysis: String,
    #[serde(rename = "FailedInstance")]
    pub failed: InstanceKey,
    #[serde(rename = "ClusterName")]
    pub cluster: String,
    #[serde(rename = "Successor")]
    pub successor: Option<InstanceKey>,
    /// Why the successor won.
    #[serde(rename = "SuccessorReason")]
    pub successor_reason: String,
    /// The other replicas of the dead primary and why they were not promoted.
    #[serde(rename = "PassedOver")]
    pub passed_over: Vec<KeyReason>,
    #[serde(rename = "LostReplicas")]
    pub lost: Vec<KeyReason>,
    #[serde(rename = "Moved")]
    pub moved: Vec<Moved>,
    #[serde(rename = "Steps")]
    pub steps: Vec<StepRun>,
    #[serde(rename = "Started")]
    pub started: DateTime<Utc>,
    #[serde(rename = "DurationMillis")]
    pub duration_ms: f64,
    /// The successor was made writable (or, without `ApplyMySQLPromotionAfterMasterFailover`,
    /// every step before the re-pointing ran).
    #[serde(rename = "Promoted")]
    pub promoted: bool,
    /// Promoted, and no step failed.
    #[serde(rename = "Success")]
    pub success: bool,
    /// Every failure, in order; empty on success.
    #[serde(rename = "Error")]
    pub error: String,
    /// Failures the plan expected and tolerates (fencing a dead primary that does not answer).
    #[serde(rename = "Warnings")]
    pub warnings: Vec<String>,
    /// The old primary was made read-only by this recovery. When it was not (it did not
    /// answer), it is fenced as soon as it answers again (`fence`).
    #[serde(rename = "OldPrimaryFenced")]
    pub fenced: bool,
    /// Every hook run, in order (filled in by `run`, around the steps).
    #[serde(rename = "Hooks")]
    pub hooks: Vec<super::hooks::HookRun>,
}

impl RecoveryRecord {
    /// The record of a recovery that ran no step: no plan, or aborted before it.
    pub fn not_run(verdict: &ReplicationAnalysis, error: String) -> RecoveryRecord {
        RecoveryRecord {
            analysis: verdict.analysis.to_string(),
            failed: verdict.analyzed_instance_key.clone(),
            cluster: verdict.cluster_details.cluster_name.clone(),
            successor: None,
            successor_reason: String::new(),
            passed_over: Vec::new(),
            lost: Vec::new(),
            moved: Vec::new(),
            steps: Vec::new(),
            started: Utc::now(),
            duration_ms: 0.0,
            promoted: false,
            success: false,
            error,
            warnings: Vec::new(),
            fenced: false,
            hooks: Vec::new(),
        }
    }

    /// The one-line summary the audit shows.
    pub fn summary(&self) -> String {
        let successor = self.successor.as_ref().map(ToString::to_string).unwrap_or_default();
        let lost = if self.lost.is_empty() {
            String::new()
        } else {
            format!("; lost: {}", self.lost.iter().map(|l| l.instance.to_string()).collect::<Vec<_>>().join(", "))
        };
        match (self.success, self.promoted) {
            (true, _) => format!("{}: promoted {successor} in {:.0} ms{lost}", self.analysis, self.duration_ms),
            (false, true) => format!("{}: promoted {successor} with errors: {}{lost}", self.analysis, self.error),
            (false, false) => format!("{}: FAILED, nothing promoted: {}", self.analysis, self.error),
        }
    }
}

/// One sentence per step, for the record.
pub fn describe(step: &RecoveryStep) -> String {
    match step {
        RecoveryStep::Refactor(s) => s.describe(),
        RecoveryStep::FenceOldPrimary { on, required, .. } => {
            format!("fence the old primary {on}: read-only{}", if *required { "" } else { " (if it answers)" })
        }
        RecoveryStep::StopIoThread { on } => format!("stop fetching from the dead primary on {on}"),
        RecoveryStep::DrainRelayLog { on, timeout_seconds, .. } => {
            format!("let {on} apply its relay log (at most {timeout_seconds} s), then stop it")
        }
        RecoveryStep::ApplyRelayLog { on, timeout_seconds } => {
            format!("let {on} apply the relay log it already fetched (at most {timeout_seconds} s), then stop its SQL thread")
        }
        RecoveryStep::ResetReplicaAll { on } => format!("make {on} forget its source (reset replica all)"),
        RecoveryStep::SetWritable { on } => format!("make {on} writable"),
        RecoveryStep::DetachLostReplica { on } => format!("detach the lost replica {on} from the dead primary"),
        RecoveryStep::DowntimeLost { on, minutes } => {
            let how_long = if *minutes == 0 { "the default 10 minutes".to_string() } else { format!("{minutes} minutes") };
            format!("downtime {on} as lost-in-recovery for {how_long}")
        }
    }
}

type Sent = Result<Vec<String>, (Vec<String>, String)>;

/// Runs `plan` (made from `verdict` on `view`) and records it. `prepared`: an executor whose
/// connections the caller already opened (a takeover's), so that no login delays the steps.
pub async fn execute(
    plan: &RecoveryPlan,
    verdict: &ReplicationAnalysis,
    view: &BTreeMap<InstanceKey, Instance>,
    settings: ExecSettings,
    intents: &Intents,
    prepared: Option<Executor>,
) -> RecoveryRecord {
    let candidacy = plan.candidacy.as_ref();
    let record = RecoveryRecord {
        analysis: verdict.analysis.to_string(),
        failed: plan.failed.clone(),
        cluster: verdict.cluster_details.cluster_name.clone(),
        successor: plan.successor.clone(),
        successor_reason: candidacy.map(|c| c.why.clone()).unwrap_or_default(),
        passed_over: candidacy
            .map(|c| c.passed_over.iter().map(|(k, r)| KeyReason { instance: k.clone(), reason: r.clone() }).collect())
            .unwrap_or_default(),
        lost: plan.lost.iter().map(|l| KeyReason { instance: l.key.clone(), reason: l.reason.clone() }).collect(),
        moved: Vec::new(),
        steps: Vec::new(),
        started: Utc::now(),
        duration_ms: 0.0,
        promoted: false,
        success: false,
        error: String::new(),
        warnings: Vec::new(),
        fenced: false,
        hooks: Vec::new(),
    };
    let clock = Instant::now();
    let mut exec = prepared.unwrap_or_else(|| Executor::new(settings, view));
    // Every live server the plan touches, connected at once before the first step.
    let live: BTreeSet<InstanceKey> = plan
        .steps
        .iter()
        .map(|s| s.server().clone())
        .filter(|k| k != &plan.failed && !k.hostname.starts_with("//") && view.get(k).is_some_and(|i| i.is_last_check_valid))
        .collect();
    exec.preconnect(&live.into_iter().collect::<Vec<_>>()).await;
    let mut run = Run { record, errors: Vec::new(), lost_now: BTreeSet::new() };
    let promotes = plan.steps.iter().any(|s| matches!(s, RecoveryStep::SetWritable { .. }));
    let mut aborted = false;
    // The other replicas' IO threads are stopped in the background, all at once: on MySQL,
    // stopping one stuck on a hung source waits ~2 s, which must not delay the promotion. Each
    // is settled before any later step on that replica.
    let mut stops: Option<Stops> = None;
    let mut stops_spawned = false;
    for step in &plan.steps {
        let server = step.server().clone();
        if run.lost_now.contains(&server) && !matches!(step, RecoveryStep::DowntimeLost { .. } | RecoveryStep::DetachLostReplica { .. }) {
            continue;
        }
        if matches!(step, RecoveryStep::StopIoThread { .. }) {
            if !stops_spawned {
                stops_spawned = true;
                stops = Some(Stops::spawn(plan, view, &exec));
            }
            continue;
        }
        if stops.as_ref().is_some_and(|s| s.keys.iter().any(|(k, _)| *k == server)) {
            if let Some(done) = stops.take() {
                done.settle(plan, &mut run).await;
            }
        }
        let (started, step_clock) = (Utc::now(), Instant::now());
        let result = run_step(&mut exec, step, view, intents).await;
        if run.settle(plan, step, result, started, step_clock.elapsed().as_secs_f64() * 1000.0) {
            aborted = true;
            break;
        }
    }
    if let Some(done) = stops.take() {
        done.settle(plan, &mut run).await;
    }
    let Run { mut record, errors, .. } = run;
    if !promotes && !aborted {
        record.promoted = true;
    }
    exec.close().await;
    record.success = record.promoted && errors.is_empty();
    record.error = errors.join("; ");
    record.duration_ms = clock.elapsed().as_secs_f64() * 1000.0;
    record
}

/// A recovery's outcome as its steps settle.
struct Run {
    record: RecoveryRecord,
    errors: Vec<String>,
    /// Replicas lost while running: their remaining steps are skipped.
    lost_now: BTreeSet<InstanceKey>,
}

impl Run {
    /// Records one step's result; true when it ends the recovery.
    fn settle(&mut self, plan: &RecoveryPlan, step: &RecoveryStep, result: Sent, started: DateTime<Utc>, duration_ms: f64) -> bool {
        let server = step.server().clone();
        let (statements, error) = match result {
            Ok(s) => (s, String::new()),
            Err((s, e)) => (s, e),
        };
        self.record.steps.push(StepRun { server: server.clone(), description: describe(step), statements, started, duration_ms, error: error.clone() });
        if error.is_empty() {
            match step {
                RecoveryStep::SetWritable { .. } => self.record.promoted = true,
                RecoveryStep::FenceOldPrimary { .. } => self.record.fenced = true,
                RecoveryStep::Refactor(crate::refactor::plan::Step::StartReplica { on }) => {
                    if let Some(to) = plan.new_source_of(on) {
                        self.record.moved.push(Moved { instance: on.clone(), source: to.clone() });
                    }
                }
                _ => {}
            }
            return false;
        }
        if matches!(step, RecoveryStep::FenceOldPrimary { required: false, .. }) {
            self.record.warnings.push(format!("{}: {error}", describe(step)));
            return false;
        }
        self.errors.push(format!("{}: {error}", describe(step)));
        let successor = plan.successor.as_ref() == Some(&server);
        let fatal = match step {
            RecoveryStep::FenceOldPrimary { required, .. } => *required,
            RecoveryStep::DrainRelayLog { on_timeout, .. } => *on_timeout == OnTimeout::AbortRecovery,
            RecoveryStep::DetachLostReplica { .. } | RecoveryStep::DowntimeLost { .. } => false,
            // Before the promotion only the successor's own steps decide; a replica that
            // cannot be stopped is lost rather than blocking the others.
            _ => successor && !self.record.promoted,
        };
        if !fatal && !successor && server != plan.failed && self.lost_now.insert(server.clone()) {
            self.record.lost.push(KeyReason { instance: server, reason: format!("its recovery step failed: {error}") });
        }
        fatal
    }
}

/// The plan's IO-thread stops, running in the background on connections of their own.
struct Stops {
    keys: Vec<(InstanceKey, RecoveryStep)>,
    started: DateTime<Utc>,
    clock: Instant,
    handle: tokio::task::JoinHandle<Vec<Sent>>,
}

impl Stops {
    fn spawn(plan: &RecoveryPlan, view: &BTreeMap<InstanceKey, Instance>, exec: &Executor) -> Stops {
        let keys: Vec<(InstanceKey, RecoveryStep)> = plan
            .steps
            .iter()
            .filter_map(|s| match s {
                RecoveryStep::StopIoThread { on } => Some((on.clone(), s.clone())),
                _ => None,
            })
            .collect();
        let work: Vec<(InstanceKey, Vec<String>)> = keys.iter().map(|(k, _)| (k.clone(), vec![exec.dialect_for(k).stop_replica_io_thread().to_string()])).collect();
        let mut bg = Executor::new(exec.settings().clone(), view);
        let handle = tokio::spawn(async move {
            let results = bg.exec_concurrently(work).await;
            bg.close().await;
            results
        });
        Stops { keys, started: Utc::now(), clock: Instant::now(), handle }
    }

    /// Waits for the stops and records each (a failure loses that replica).
    async fn settle(self, plan: &RecoveryPlan, run: &mut Run) {
        let results = match self.handle.await {
            Ok(r) => r,
            Err(e) => self.keys.iter().map(|_| Err((Vec::new(), format!("the stop did not finish: {e}")))).collect(),
        };
        let took = self.clock.elapsed().as_secs_f64() * 1000.0;
        for ((_, step), result) in self.keys.iter().zip(results) {
            run.settle(plan, step, result, self.started, took);
        }
    }
}

async fn run_step(exec: &mut Executor, step: &RecoveryStep, view: &BTreeMap<InstanceKey, Instance>, intents: &Intents) -> Sent {
    match step {
        RecoveryStep::Refactor(s) => exec.run_single(s).await,
        RecoveryStep::FenceOldPrimary { on, super_read_only, .. } => {
            let d = exec.dialect_for(on);
            let mut statements = vec![d.set_read_only(true)];
            if *super_read_only {
                statements.extend(d.set_super_read_only(true));
            }
            exec.exec_all(on, &statements).await
        }
        RecoveryStep::StopIoThread { on } => {
            let sql = exec.dialect_for(on).stop_replica_io_thread().to_string();
            exec.exec_all(on, &[sql]).await
        }
        RecoveryStep::DrainRelayLog { on, timeout_seconds, .. } => exec.drain_relay_log(on, Duration::from_secs(*timeout_seconds)).await,
        RecoveryStep::ApplyRelayLog { on, timeout_seconds } => exec.apply_relay_log(on, Duration::from_secs(*timeout_seconds)).await,
        RecoveryStep::ResetReplicaAll { on } => {
            let d = exec.dialect_for(on);
            exec.exec_all(on, &[d.stop_replica().to_string(), d.reset_replica_all().to_string()]).await
        }
        RecoveryStep::SetWritable { on } => {
            let d = exec.dialect_for(on);
            // read_only=0 also clears super_read_only on Oracle MySQL; said explicitly anyway.
            let mut statements: Vec<String> = d.set_super_read_only(false).into_iter().collect();
            statements.push(d.set_read_only(false));
            exec.exec_all(on, &statements).await
        }
        RecoveryStep::DetachLostReplica { on } => {
            let Some(inst) = view.get(on) else { return Err((Vec::new(), format!("{on} is not in the view"))) };
            let steps = detach(inst).map_err(|r| (Vec::new(), r.message))?;
            let mut sent = Vec::new();
            for s in &steps {
                match exec.run_single(s).await {
                    Ok(mut more) => sent.append(&mut more),
                    Err((mut more, e)) => {
                        sent.append(&mut more);
                        return Err((sent, e));
                    }
                }
            }
            Ok(sent)
        }
        RecoveryStep::DowntimeLost { on, minutes } => {
            let duration = (*minutes > 0).then(|| Duration::from_secs(minutes * 60));
            match intents.begin_downtime(on, "orchestrator", "lost-in-recovery", duration).await {
                Ok(_) => Ok(Vec::new()),
                Err(e) => Err((Vec::new(), e.to_string())),
            }
        }
    }
}
