//! Topology refactoring: relocate, move-up, move-below, GTID moves, repoint, and replica
//! control, each first planned against discovery's view (refused with the rule that says no),
//! then either shown (dry run) or executed, audited, and followed by a fresh probe of every
//! server it touched.
//!
//! Two operations never touch one server at once: an operation holds a lock on every server of
//! its plan until it ends, and a server an operator put in maintenance refuses operations.
//!
//! # Layout
//! - `plan`:       steps as data, and their rendering as statements (dry run, confirm dialog).
//! - `planner`:    operation + view → plan, or a refusal (pure).
//! - `executor`:   runs a plan, records every step, puts replication back on failure.
//! - `failpoints`: named points before each step, armed by tests (`testing` feature).

pub mod executor;
pub mod failpoints;
pub mod plan;
pub mod planner;

use crate::discovery::Discovery;
use crate::store::{Store, StoreError};
use app::model::ops::{Operation, OperationReport};
use app::model::{Instance, InstanceKey};
use app::rules::{Refusal, RuleSettings};
use executor::{ExecSettings, Executor};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// Why an operation did not complete.
#[derive(Debug, thiserror::Error)]
pub enum RefactorError {
    /// A rule refused it before anything was touched.
    #[error("{0}")]
    Refused(Refusal),
    /// Another operation holds one of its servers.
    #[error("{instance} is busy with {holder}; try again when it has finished")]
    Busy { instance: InstanceKey, holder: String },
    /// It ran and a step failed; replication was put back as the report says.
    #[error("{} failed: {}", .0.plan.operation, .0.error)]
    Failed(Box<OperationReport>),
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl From<Refusal> for RefactorError {
    fn from(r: Refusal) -> Self {
        RefactorError::Refused(r)
    }
}

/// What an operation needs from the configuration.
#[derive(Clone, Debug)]
pub struct RefactorSettings {
    pub rules: RuleSettings,
    pub exec: ExecSettings,
}

/// The result of a dry run or a successful run.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub report: OperationReport,
    /// The operated instance as probed right after the run (`None` for a dry run).
    pub instance: Option<Instance>,
}

struct Inner {
    discovery: Discovery,
    store: Store,
    settings: RefactorSettings,
    /// Servers held by running operations, with what holds them.
    busy: Mutex<HashMap<InstanceKey, String>>,
}

/// Handle to topology refactoring; cheap to clone.
#[derive(Clone)]
pub struct Refactor {
    inner: Arc<Inner>,
}

/// Releases the servers of an operation when dropped (also when the request is cancelled).
struct Held {
    inner: Arc<Inner>,
    keys: Vec<InstanceKey>,
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut busy = self.inner.busy.lock().unwrap_or_else(|p| p.into_inner());
        for k in &self.keys {
            busy.remove(k);
        }
    }
}

impl Refactor {
    pub fn new(discovery: Discovery, store: Store, settings: RefactorSettings) -> Refactor {
        Refactor { inner: Arc::new(Inner { discovery, store, settings, busy: Mutex::new(HashMap::new()) }) }
    }

    pub fn rule_settings(&self) -> &RuleSettings {
        &self.inner.settings.rules
    }

    fn hold(&self, keys: Vec<InstanceKey>, holder: &str) -> Result<Held, RefactorError> {
        let mut busy = self.inner.busy.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((k, h)) = keys.iter().find_map(|k| busy.get(k).map(|h| (k, h))) {
            return Err(RefactorError::Busy { instance: k.clone(), holder: h.clone() });
        }
        for k in &keys {
            busy.insert(k.clone(), holder.to_string());
        }
        Ok(Held { inner: self.inner.clone(), keys })
    }

    /// Plans `op`; with `dry_run` returns the plan, else runs it.
    pub async fn run(&self, op: Operation, dry_run: bool, who: &str) -> Result<Outcome, RefactorError> {
        let view = self.inner.discovery.instances();
        let plan = planner::plan(&op, &view, &self.inner.settings.rules)?;
        let rendered = plan.render(&view);
        if dry_run {
            let report = OperationReport { plan: rendered, steps: Vec::new(), rollback: Vec::new(), moved: Vec::new(), success: true, error: String::new() };
            return Ok(Outcome { report, instance: None });
        }
        let servers: Vec<InstanceKey> =
            plan.steps().flat_map(|s| s.servers()).cloned().collect::<BTreeSet<_>>().into_iter().collect();
        let holder = format!("{} of {} (by {who})", op.name(), op.instance());
        let _held = self.hold(servers.clone(), &holder)?;
        tracing::info!(operation = %op.name(), instance = %op.instance(), who, "running operation");
        let report = Executor::new(self.inner.settings.exec.clone(), &view).run(&plan, rendered).await;
        for k in &servers {
            let _ = self.inner.discovery.refresh(k).await;
        }
        self.audit(&op, &report, who).await?;
        if !report.success {
            return Err(RefactorError::Failed(Box::new(report)));
        }
        Ok(Outcome { report, instance: self.inner.discovery.instance(op.instance()) })
    }

    async fn audit(&self, op: &Operation, report: &OperationReport, who: &str) -> Result<(), StoreError> {
        let cluster = self.inner.discovery.instance(op.instance()).map(|i| i.cluster_name).unwrap_or_default();
        let mut message = match (op.target(), report.plan.mechanism.as_str()) {
            (Some(t), "") => format!("{} below {t}", op.instance()),
            (Some(t), m) => format!("{} below {t} using {m}", op.instance()),
            (None, _) => op.instance().to_string(),
        };
        message.push_str(if report.success { ": done" } else { ": FAILED: " });
        message.push_str(&report.error);
        let details = serde_json::to_value(report).unwrap_or_default();
        self.inner.store.audit_with_details(&op.name(), op.instance(), &cluster, who, &message, &details).await
    }
}
