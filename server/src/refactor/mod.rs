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
use app::rules::{Refusal, Rule, RuleSettings};
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

    /// What holds `key` right now (a running operation), if anything.
    pub fn holder(&self, key: &InstanceKey) -> Option<String> {
        self.inner.busy.lock().unwrap_or_else(|p| p.into_inner()).get(key).cloned()
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
        if dry_run {
            let view = self.inner.discovery.instances();
            let plan = planner::plan(&op, &view, &self.inner.settings.rules)?;
            self.refuse_maintenance(&op, &plan)?;
            let report = OperationReport { plan: plan.render(&view), steps: Vec::new(), rollback: Vec::new(), moved: Vec::new(), success: true, error: String::new() };
            return Ok(Outcome { report, instance: None });
        }
        let holder = format!("{} of {} (by {who})", op.name(), op.instance());
        // The instance and its destination are held before the view is read: a plan made from a
        // view that a running operation on them is about to change could make a cycle (a below
        // b while b moves below a) or move a replica from a position that no longer exists.
        let named: BTreeSet<InstanceKey> = [Some(op.instance()), op.target()].into_iter().flatten().cloned().collect();
        let _held = self.hold(named.iter().cloned().collect(), &holder)?;
        let view = self.inner.discovery.instances();
        let plan = planner::plan(&op, &view, &self.inner.settings.rules)?;
        self.refuse_maintenance(&op, &plan)?;
        let rendered = plan.render(&view);
        // A detached replica's `//host` source is not a server: nothing to hold or probe.
        let servers: BTreeSet<InstanceKey> =
            plan.steps().flat_map(|s| s.servers()).filter(|k| !k.hostname.starts_with("//")).cloned().collect();
        let _also_held = self.hold(servers.difference(&named).cloned().collect(), &holder)?;
        tracing::info!(operation = %op.name(), instance = %op.instance(), who, "running operation");
        let mut executor = Executor::new(self.inner.settings.exec.clone(), &view);
        executor.preflight(&plan).await?;
        let report = executor.run(&plan, rendered).await;
        for k in &servers {
            let _ = self.inner.discovery.refresh(k).await;
        }
        self.audit(&op, &report, who).await?;
        if !report.success {
            return Err(RefactorError::Failed(Box::new(report)));
        }
        Ok(Outcome { report, instance: self.inner.discovery.instance(op.instance()) })
    }

    /// An operator's maintenance lock keeps every operation off the server: the operated
    /// instance and every server a step touches. A dry run is refused too, since the run would be.
    fn refuse_maintenance(&self, op: &Operation, plan: &plan::Plan) -> Result<(), Refusal> {
        let touched: BTreeSet<&InstanceKey> = plan.steps().flat_map(|s| s.servers()).chain([op.instance()]).collect();
        for key in touched {
            if let Some(m) = self.inner.discovery.maintenance_of(key) {
                return Err(Refusal::new(
                    Rule::InMaintenance,
                    format!(
                        "{key} is in maintenance by {} ({}) until {}; end it with end-maintenance first",
                        m.owner,
                        m.reason,
                        m.end.format("%Y-%m-%d %H:%M:%S UTC")
                    ),
                ));
            }
        }
        Ok(())
    }

    async fn audit(&self, op: &Operation, report: &OperationReport, who: &str) -> Result<(), StoreError> {
        let cluster = self.inner.discovery.instance(op.instance()).map(|i| i.cluster_name).unwrap_or_default();
        let mut message = match (report.plan.target.as_ref(), report.plan.mechanism.as_str()) {
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
