//! One recovery (a dead primary's, co-master's or intermediate primary's), from registration to
//! record, in orchestrator's order: register (the anti-flapping check, unless a command forces
//! it), `PreFailoverProcesses` (a failure aborts), plan, execute,
//! `PostMasterFailoverProcesses` (or `PostIntermediateMasterFailoverProcesses`) and
//! `PostFailoverProcesses` on success or
//! `PostUnsuccessfulFailoverProcesses` otherwise; the record (steps and hooks, a timeline) is
//! stored with the recovery and in the audit log.

use super::executor::{execute, RecoveryRecord};
use super::hooks::{run_list, HookContext, HookRun, Phase};
use super::{plan_dead_co_master, plan_dead_intermediate_master, plan_dead_master_onto};
use super::watch::{Services, WatchSettings};
use crate::analysis::Snapshot;
use crate::raft::{Command, Reply};
use crate::store::{NewRecovery, RecoveryRow, Registration};
use app::model::analysis::{AnalysisCode, CodeAction, ReplicationAnalysis};
use app::model::InstanceKey;
use std::collections::BTreeSet;

/// Who asked for a recovery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// The recovery loop: subject to the anti-flapping block.
    Automated,
    /// A command (`force-master-failover`, ...): registered without the block check.
    /// `designated`: the replica to promote. `demote`: a graceful takeover's old primary joins
    /// the successor (by GTID?, started?).
    Command { name: String, who: String, designated: Option<InstanceKey>, demote: Option<(bool, bool)> },
}

impl Trigger {
    fn command(&self) -> &str {
        match self {
            Trigger::Automated => "",
            Trigger::Command { name, .. } => name,
        }
    }
    fn designated(&self) -> Option<&InstanceKey> {
        match self {
            Trigger::Automated => None,
            Trigger::Command { designated, .. } => designated.as_ref(),
        }
    }
    fn who(&self) -> &str {
        match self {
            Trigger::Automated => "orchestrator",
            Trigger::Command { who, .. } => who,
        }
    }
}

/// Why a recovery did not start.
#[derive(Debug)]
pub enum NotRun {
    /// An active recovery of the cluster blocks it.
    Blocked(Box<RecoveryRow>),
    /// The store could not register it: nothing was done.
    Store(String),
}

/// A recovery that ran (which may have failed: see `record.success`).
#[derive(Debug)]
pub struct Ran {
    pub id: i64,
    pub uid: String,
    pub record: RecoveryRecord,
}

/// orchestrator's `Type` of a recovery.
pub fn recovery_type(code: AnalysisCode, is_co_master: bool) -> &'static str {
    match code {
        AnalysisCode::DeadMaster | AnalysisCode::DeadMasterAndSomeReplicas | AnalysisCode::DeadMasterAndReplicas if is_co_master => {
            "CoMasterRecovery"
        }
        AnalysisCode::DeadCoMaster | AnalysisCode::DeadCoMasterAndSomeReplicas => "CoMasterRecovery",
        AnalysisCode::DeadMaster | AnalysisCode::DeadMasterAndSomeReplicas | AnalysisCode::DeadMasterAndReplicas => "MasterRecovery",
        _ => "IntermediateMasterRecovery",
    }
}

/// What hooks are told about `verdict` before anything ran.
pub fn hook_context(verdict: &ReplicationAnalysis, trigger: &Trigger, uid: &str, node: &str) -> HookContext {
    let key = &verdict.analyzed_instance_key;
    let instance_type = match recovery_type(verdict.analysis, verdict.is_co_master) {
        "MasterRecovery" => "master",
        "CoMasterRecovery" => "co-master",
        _ => "intermediate-master",
    };
    HookContext {
        failure_type: verdict.analysis.to_string(),
        instance_type: instance_type.to_string(),
        failure_description: verdict.description.clone(),
        command: trigger.command().to_string(),
        failed_host: key.hostname.clone(),
        failed_port: key.port,
        cluster: verdict.cluster_details.cluster_name.clone(),
        cluster_alias: verdict.cluster_details.cluster_alias.clone(),
        cluster_domain: verdict.cluster_details.cluster_domain.clone(),
        count_replicas: verdict.count_replicas as usize,
        is_downtimed: verdict.is_downtimed,
        auto_master_recovery: verdict.cluster_details.has_automated_master_recovery,
        auto_intermediate_master_recovery: verdict.cluster_details.has_automated_intermediate_master_recovery,
        orchestrator_host: node.to_string(),
        recovery_uid: uid.to_string(),
        replica_hosts: verdict.replicas.clone(),
        ..Default::default()
    }
}

/// A new recovery's unique id: time and randomness, like orchestrator's.
pub fn new_uid() -> String {
    format!("{:x}-{:08x}", chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default(), rand::random::<u32>())
}

/// Runs the recovery `verdict` calls for: a dead primary's or a dead intermediate primary's.
/// `prepared`: an executor with connections already open (see `execute`).
pub async fn recover(
    services: &Services,
    settings: &WatchSettings,
    verdict: &ReplicationAnalysis,
    in_maintenance: &BTreeSet<InstanceKey>,
    trigger: &Trigger,
    prepared: Option<crate::refactor::executor::Executor>,
) -> Result<Ran, NotRun> {
    let s = services;
    let key = &verdict.analyzed_instance_key;
    let cluster = verdict.cluster_details.cluster_name.clone();
    let started = chrono::Utc::now();
    let uid = new_uid();
    let new = NewRecovery {
        uid: uid.clone(),
        failed: key.clone(),
        cluster: cluster.clone(),
        cluster_alias: verdict.cluster_details.cluster_alias.clone(),
        analysis: verdict.analysis.to_string(),
        kind: recovery_type(verdict.analysis, verdict.is_co_master).to_string(),
        command: trigger.command().to_string(),
        node: settings.hook.node.clone(),
        started,
    };
    let active_since = started - chrono::Duration::from_std(settings.block).unwrap_or_default();
    // Registered through raft: a node that is not the leader (or lost its quorum) cannot.
    let register = Command::RegisterRecovery { recovery: new, active_since, forced: *trigger != Trigger::Automated };
    let id = match s.replicated.write(register).await {
        Ok(Reply::Registration(Registration::Registered(id))) => id,
        Ok(Reply::Registration(Registration::Blocked(row))) => return Err(NotRun::Blocked(Box::new(row))),
        Ok(other) => return Err(NotRun::Store(format!("unexpected answer to a recovery registration: {other:?}"))),
        Err(e) => return Err(NotRun::Store(e.to_string())),
    };
    let intermediate = verdict.analysis.action() == CodeAction::RecoverDeadIntermediateMaster;
    tracing::warn!(instance = %key, %cluster, analysis = %verdict.analysis, recovery = id, "recovering");
    if let Err(e) = s.replicated.write(Command::ClearBlocked { failed: key.clone() }).await {
        tracing::error!(error = %e, "clearing a blocked recovery failed");
    }
    let mut ctx = hook_context(verdict, trigger, &uid, &settings.hook.node);
    let mut hooks: Vec<HookRun> = Vec::new();

    let (runs, pre) = run_list(Phase::PreFailoverProcesses, &settings.hooks.pre_failover_processes, &ctx, &settings.hook).await;
    hooks.extend(runs);
    let mut record = match pre {
        Err(why) => RecoveryRecord::not_run(verdict, format!("aborted by {why}")),
        Ok(()) => {
            // Fresh view: the confirming probe may have changed it.
            let view = s.discovery.instances();
            let mut snapshot = Snapshot::new(view.values(), chrono::Utc::now());
            snapshot.in_maintenance = in_maintenance.clone();
            let planned = if intermediate {
                plan_dead_intermediate_master(&snapshot, verdict, &settings.policy)
            } else if verdict.analysis.action() == CodeAction::RecoverDeadCoMaster {
                plan_dead_co_master(&snapshot, verdict, &settings.policy)
            } else {
                plan_dead_master_onto(&snapshot, verdict, &settings.policy, trigger.designated())
            };
            let planned = planned.map(|mut plan| {
                if let (Trigger::Command { demote: Some((by_gtid, start)), .. }, Some(old)) = (trigger, view.get(key)) {
                    super::takeover::demote_in_plan(&mut plan, old, *by_gtid, *start);
                }
                plan
            });
            match planned {
                Err(e) => RecoveryRecord::not_run(verdict, format!("no recovery: {e}")),
                Ok(plan) => {
                    let record = execute(&plan, verdict, &view, settings.exec.clone(), &s.intents, prepared).await;
                    let involved: BTreeSet<InstanceKey> =
                        plan.steps.iter().map(|st| st.server().clone()).filter(|k| k != key && !k.hostname.starts_with("//")).collect();
                    futures::future::join_all(involved.iter().map(|k| s.discovery.refresh(k))).await;
                    record
                }
            }
        }
    };
    record.started = started;

    ctx.is_successful = record.promoted;
    ctx.lost_replicas = record.lost.iter().map(|l| l.instance.clone()).collect();
    if let Some(successor) = record.successor.clone().filter(|_| record.promoted) {
        let inst = s.discovery.instances().get(&successor).cloned();
        ctx.successor_coordinates = inst.as_ref().map(|i| i.self_binlog_coordinates.to_string()).unwrap_or_default();
        ctx.successor_alias = inst.map(|i| i.instance_alias).unwrap_or_default();
        ctx.successor = Some(successor);
    }
    let post: Vec<(Phase, &Vec<String>)> = if record.promoted && intermediate {
        vec![
            (Phase::PostIntermediateMasterFailoverProcesses, &settings.hooks.post_intermediate_master_failover_processes),
            (Phase::PostFailoverProcesses, &settings.hooks.post_failover_processes),
        ]
    } else if record.promoted {
        vec![(Phase::PostMasterFailoverProcesses, &settings.hooks.post_master_failover_processes), (Phase::PostFailoverProcesses, &settings.hooks.post_failover_processes)]
    } else {
        vec![(Phase::PostUnsuccessfulFailoverProcesses, &settings.hooks.post_unsuccessful_failover_processes)]
    };
    for (phase, list) in post {
        let (runs, _) = run_list(phase, list, &ctx, &settings.hook).await;
        hooks.extend(runs);
    }
    let hook_errors: Vec<String> = hooks.iter().filter(|h| !h.error.is_empty() && !h.phase.aborts()).map(|h| format!("{:?} {}: {}", h.phase, h.command, h.error)).collect();
    record.warnings.extend(hook_errors);
    record.hooks = hooks;
    record.duration_ms = (chrono::Utc::now() - started).num_microseconds().unwrap_or_default() as f64 / 1000.0;

    if !intermediate && record.promoted && !record.fenced {
        let fence = Command::AddPendingFence { old: key.clone(), recovery_id: id, at: chrono::Utc::now() };
        write_or_retry(&s.replicated, fence, "remembering to fence the old primary").await;
    }
    let summary = record.summary();
    tracing::warn!(instance = %key, %cluster, success = record.success, recovery = id, "{summary}");
    let details = serde_json::to_value(&record).unwrap_or_default();
    let successor = record.successor.as_ref().filter(|_| record.promoted);
    let finish = Command::FinishRecovery {
        id,
        successful: record.success,
        successor: successor.cloned(),
        summary: summary.clone(),
        record: details.clone(),
        at: chrono::Utc::now(),
    };
    write_or_retry(&s.replicated, finish, "recording the end of a recovery").await;
    let action = match verdict.analysis.action() {
        CodeAction::RecoverDeadIntermediateMaster => "recover-dead-intermediate-master",
        CodeAction::RecoverDeadCoMaster => "recover-dead-co-master",
        _ => "recover-dead-master",
    };
    if let Err(e) = s.store.audit_with_details(action, key, &cluster, trigger.who(), &summary, &details).await {
        tracing::error!(error = %e, "auditing a recovery failed");
    }
    Ok(Ran { id, uid, record })
}

/// How long the end of a recovery keeps being written after a failed attempt.
const RETRY_WRITES_FOR: std::time::Duration = std::time::Duration::from_secs(60);

/// Writes what a recovery did. The servers were already changed, so the record must not be lost
/// to a moment without quorum: after a failed attempt the write is retried in the background,
/// every 500 ms for `RETRY_WRITES_FOR`.
async fn write_or_retry(replicated: &crate::raft::Replicated, command: Command, what: &'static str) {
    let Err(e) = replicated.write(command.clone()).await else { return };
    tracing::error!(error = %e, "{what} failed; retrying for {} s", RETRY_WRITES_FOR.as_secs());
    let replicated = replicated.clone();
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + RETRY_WRITES_FOR;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            if replicated.write(command.clone()).await.is_ok() {
                tracing::info!("{what}: written after a retry");
                return;
            }
        }
        tracing::error!("{what}: gave up after {} s (no raft quorum answered)", RETRY_WRITES_FOR.as_secs());
    });
}
