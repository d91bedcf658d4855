//! The web UI: Leptos pages rendered on the server and hydrated in the browser, the server
//! functions they call, and the built bundle under `/pkg`.

use super::AppState;
use crate::topology::clusters;
use crate::refactor::RefactorError;
use app::api::{AuditRow, Discovered, Node, NodeFuture, NodeInfo, NodeView, OperationError, RecoveryView};
use app::model::ops::{Operation, OperationReport};
use app::model::{ClusterOverview, InstanceKey};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

/// The name wasm-bindgen gives the bundle (`--out-name`): `pkg/orchestrator.js`,
/// `pkg/orchestrator_bg.wasm`, plus the stylesheet `pkg/orchestrator.css`.
pub const OUTPUT_NAME: &str = "orchestrator";

const READ_ONLY: &str = "this node is configured read-only (ReadOnly: true)";

impl NodeView for AppState {
    fn clusters_overview(&self) -> Vec<ClusterOverview> {
        clusters::overview(&self.discovery.instances(), &self.settings.recovery_filters)
    }

    fn replication_analysis(&self) -> Vec<app::model::analysis::ReplicationAnalysis> {
        super::analysis::entries(self)
    }

    fn operate(&self, op: Operation, dry_run: bool) -> NodeFuture<Result<OperationReport, OperationError>> {
        let state = self.clone();
        Box::pin(async move {
            if !dry_run && state.settings.read_only {
                return Err(OperationError { message: READ_ONLY.into(), report: None });
            }
            if let Operation::GracefulMasterTakeover { instance } = &op {
                return graceful_takeover(&state, instance, dry_run).await;
            }
            match state.refactor.run(op, dry_run, "web").await {
                Ok(outcome) => Ok(outcome.report),
                Err(RefactorError::Failed(report)) => Err(OperationError { message: format!("{} failed: {}", report.plan.operation, report.error), report: Some(*report) }),
                Err(other) => Err(OperationError { message: other.to_string(), report: None }),
            }
        })
    }

    fn node_info(&self) -> NodeFuture<NodeInfo> {
        let state = self.clone();
        Box::pin(async move {
            let store_healthy = state.store.fingerprint().await.is_ok();
            let view = state.discovery.instances();
            let s = &state.settings;
            NodeInfo {
                read_only: s.read_only,
                version: env!("CARGO_PKG_VERSION").to_string(),
                hostname: s.hostname.clone(),
                http_address: String::new(),
                started: s.started_at,
                uptime_seconds: (chrono::Utc::now() - s.started_at).num_seconds().max(0) as u64,
                instances: view.len(),
                clusters: view.values().map(|i| &i.cluster_name).collect::<BTreeSet<_>>().len(),
                store_healthy,
                backend: s.backend_description.clone(),
                raft: match state.replicated.consensus() {
                    Some(c) => {
                        let status = c.status().await;
                        Some(app::api::RaftInfo { leader: status.leader, is_leader: c.is_leader(), peers: status.peers })
                    }
                    None => None,
                },
                rules: *state.refactor.rule_settings(),
            }
        })
    }

    fn audit_log(&self, page: u32) -> NodeFuture<Result<Vec<AuditRow>, String>> {
        let state = self.clone();
        Box::pin(async move {
            let entries = state.store.list_audit(page, None).await.map_err(|e| {
                tracing::error!(error = %e, "reading the audit log failed");
                "cannot read the audit log from the node's store".to_string()
            })?;
            Ok(entries
                .into_iter()
                .map(|e| AuditRow { id: e.id, at: e.at, action: e.action, instance: e.instance, cluster: e.cluster, who: e.who, message: e.message })
                .collect())
        })
    }

    fn recoveries(&self) -> NodeFuture<Result<Vec<RecoveryView>, String>> {
        let state = self.clone();
        Box::pin(async move {
            let unreadable = |e: crate::store::StoreError| {
                tracing::error!(error = %e, "reading recoveries failed");
                "cannot read recoveries from the node's store".to_string()
            };
            let since = chrono::Utc::now() - chrono::Duration::seconds(state.settings.recovery_block_seconds as i64);
            let blocked = state.store.list_blocked(None).await.map_err(unreadable)?;
            let ran = state.store.list_recoveries(&crate::store::RecoveryQuery::default(), since).await.map_err(unreadable)?;
            Ok(blocked.into_iter().map(blocked_view).chain(ran.into_iter().map(recovery_view)).collect())
        })
    }

    fn acknowledge(&self, id: i64, comment: String) -> NodeFuture<Result<u64, String>> {
        let state = self.clone();
        Box::pin(async move {
            if state.settings.read_only {
                return Err(READ_ONLY.into());
            }
            if comment.trim().is_empty() {
                return Err("an acknowledgement needs a comment: why is it safe to recover this cluster again?".into());
            }
            let comment = crate::intents::parse::validate_text("comment", &comment)?;
            let command = crate::raft::Command::Acknowledge { target: crate::store::AckTarget::Id(id), by: "web".into(), comment: comment.clone(), at: chrono::Utc::now() };
            let count = match state.replicated.write(command).await {
                Ok(crate::raft::Reply::Acknowledged(n)) => n,
                Ok(_) => 0,
                Err(e) => {
                    tracing::error!(error = %e, "acknowledging a recovery failed");
                    return Err(format!("cannot record the acknowledgement: {e}"));
                }
            };
            let message = format!("acknowledged {count} of recovery {id}: {comment}");
            if let Err(e) = state.store.audit("ack-recovery", &InstanceKey::default(), "", "web", &message).await {
                tracing::error!(error = %e, "auditing an acknowledgement failed");
            }
            Ok(count)
        })
    }

    fn discover(&self, host_port: String) -> NodeFuture<Result<Discovered, String>> {
        let state = self.clone();
        Box::pin(async move {
            let key = InstanceKey::parse(&host_port, state.settings.default_port).map_err(|e| e.to_string())?;
            if state.settings.read_only {
                return Err(READ_ONLY.into());
            }
            let inst = state.discovery.discover(&key).await.map_err(|e| format!("cannot discover {key}: {e}"))?;
            if let Err(e) = state.replicated.write(crate::raft::Command::Discover { instance: inst.key.clone() }).await {
                return Err(format!("{} was discovered here, but the other nodes were not told: {e}", inst.key));
            }
            if let Err(e) = state.store.audit("discover", &inst.key, &inst.cluster_name, "web", "").await {
                tracing::error!(error = %e, "recording a discovery in the audit log failed");
                return Err(format!("{} was discovered, but the node could not record it in its audit log", inst.key));
            }
            Ok(Discovered { instance: inst.key.to_string(), cluster_name: inst.cluster_name })
        })
    }
}

pub fn router(state: AppState, site_root: PathBuf) -> Router {
    let options = LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(site_root.display().to_string())
        .site_pkg_dir("pkg")
        .build();
    let routes = generate_route_list(app::App);
    let node = Node(Arc::new(state));
    let pkg = ServeDir::new(site_root.join("pkg"));
    Router::new()
        .leptos_routes_with_context(
            &options,
            routes,
            move || provide_context(node.clone()),
            {
                let options = options.clone();
                move || app::shell(options.clone())
            },
        )
        .nest_service("/pkg", Router::new().fallback_service(pkg).layer(CompressionLayer::new()))
        .with_state(options)
}

/// The promote zone's drop: a graceful takeover onto `designated`, planned (`dry_run`) or run,
/// reported in an operation's shape for the confirm dialog.
async fn graceful_takeover(state: &AppState, designated: &InstanceKey, dry_run: bool) -> Result<OperationReport, OperationError> {
    use crate::recovery::takeover;
    let refused = |e: takeover::TakeoverError| OperationError { message: e.to_string(), report: None };
    let view = state.discovery.instances();
    let plan = takeover::preview(&view, designated, state.refactor.rule_settings().maintenance_lag_seconds).map_err(refused)?;
    if dry_run {
        return Ok(OperationReport { plan, steps: Vec::new(), rollback: Vec::new(), moved: Vec::new(), success: true, error: String::new() });
    }
    let services = crate::recovery::watch::Services {
        discovery: state.discovery.clone(),
        analyzer: state.analyzer.clone(),
        intents: state.intents.clone(),
        store: state.store.clone(),
        replicated: state.replicated.clone(),
    };
    let req = takeover::Request { kind: takeover::Kind::Graceful, hint: designated.to_string(), destination: Some(designated.clone()), who: "web".into() };
    match takeover::run(&services, &state.recovery, &state.refactor, &req, state.settings.default_port).await {
        Ok(done) => Ok(OperationReport { plan, steps: done.record.steps, rollback: Vec::new(), moved: done.record.moved, success: true, error: String::new() }),
        Err(e) => Err(refused(e)),
    }
}

/// A stored recovery as the recoveries page shows it; its record is the executor's
/// `RecoveryRecord` with the hooks (absent for one that could not be planned).
fn recovery_view(r: crate::store::RecoveryRow) -> RecoveryView {
    let d = &r.record;
    let text = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let lost = d
        .get("LostReplicas")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .map(|l| {
                    let key = serde_json::from_value::<InstanceKey>(l["Instance"].clone()).map(|k| k.to_string()).unwrap_or_default();
                    format!("{key}: {}", l["Reason"].as_str().unwrap_or_default())
                })
                .collect()
        })
        .unwrap_or_default();
    let hooks = d
        .get("Hooks")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .map(|h| app::api::HookView {
                    phase: h["Phase"].as_str().unwrap_or_default().to_string(),
                    command: h["Command"].as_str().unwrap_or_default().to_string(),
                    started: serde_json::from_value(h["Started"].clone()).ok(),
                    duration_ms: h["DurationMillis"].as_f64().unwrap_or_default(),
                    status: h["Status"].as_i64().map(|s| s as i32),
                    output: h["Output"].as_str().unwrap_or_default().to_string(),
                    error: h["Error"].as_str().unwrap_or_default().to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    RecoveryView {
        id: r.id,
        uid: r.uid,
        at: r.started,
        action: "recovery".into(),
        command: r.command,
        instance: r.failed,
        cluster: r.cluster,
        message: if r.is_running { "running…".into() } else { r.summary },
        analysis: r.analysis,
        success: (!r.is_running).then_some(r.successful),
        successor: r.successor,
        successor_reason: text("SuccessorReason"),
        lost,
        steps: d.get("Steps").and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default(),
        hooks,
        warnings: d.get("Warnings").and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default(),
        error: text("Error"),
        duration_ms: d.get("DurationMillis").and_then(|v| v.as_f64()).unwrap_or_default(),
        is_active: r.is_active,
        acknowledged: r.acknowledged,
        acknowledgement: if r.acknowledged { format!("{}: {}", r.acknowledged_by, r.acknowledged_comment) } else { String::new() },
        blocked_by: 0,
    }
}

/// A failure whose recovery did not run.
fn blocked_view(b: crate::store::BlockedRow) -> RecoveryView {
    RecoveryView {
        at: b.last_blocked,
        action: "blocked".into(),
        instance: b.failed,
        cluster: b.cluster,
        message: b.reason,
        analysis: b.analysis,
        blocked_by: b.blocking_recovery_id,
        ..Default::default()
    }
}
