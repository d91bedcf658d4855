//! orchestrator's failure analysis routes: `/api/replication-analysis` (every entry, downtimed
//! ones included), `/replication-analysis/:clusterHint` and `/replication-analysis/instance/
//! :host/:port`. Answers orchestrator's envelope, `Message: "Analysis"`, entries in `Details`.

use super::api::key_of;
use super::error::ApiError;
use super::AppState;
use crate::analysis::Hints;
use crate::topology::clusters;
use app::model::analysis::ReplicationAnalysis;
use app::model::{Envelope, InstanceKey};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::collections::BTreeSet;

type ApiResult = Result<Response, ApiError>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/replication-analysis", get(all))
        .route("/replication-analysis/{cluster}", get(of_cluster))
        .route("/replication-analysis/instance/{host}/{port}", get(of_instance))
}

/// Which entries an answer keeps.
enum Scope {
    All,
    Cluster(String),
    Instance(InstanceKey),
}

async fn all(State(state): State<AppState>) -> ApiResult {
    answer(&state, Scope::All)
}

async fn of_cluster(State(state): State<AppState>, Path(hint): Path<String>) -> ApiResult {
    let view = state.discovery.instances();
    let name = clusters::resolve_hint(&view, &hint, state.settings.default_port)
        .ok_or_else(|| ApiError::NotFound(format!("unknown cluster {hint:?}")))?;
    answer(&state, Scope::Cluster(name))
}

async fn of_instance(State(state): State<AppState>, Path((host, port)): Path<(String, String)>) -> ApiResult {
    let key = key_of(&host, &port)?;
    let key = state.discovery.resolve_known(&key).ok_or_else(|| ApiError::NotFound(format!("unknown instance {key}")))?;
    answer(&state, Scope::Instance(key))
}

/// Every entry the analysis gives now, downtimed ones included (each marked skippable), as
/// orchestrator's API answers; also what the web UI's problems page shows.
pub(crate) fn entries(state: &AppState) -> Vec<ReplicationAnalysis> {
    let now = chrono::Utc::now();
    let view = state.discovery.instances();
    let in_maintenance: BTreeSet<InstanceKey> =
        state.intents.snapshot().active_maintenance(now).into_iter().map(|w| w.instance.clone()).collect();
    let hints = Hints { include_downtimed: true, include_no_problem: false };
    state.analyzer.analyze(view.values(), in_maintenance, now, hints)
}

fn answer(state: &AppState, scope: Scope) -> ApiResult {
    let mut entries = entries(state);
    entries.retain(|e| match &scope {
        Scope::All => true,
        Scope::Cluster(name) => e.cluster_details.cluster_name == *name,
        Scope::Instance(key) => e.analyzed_instance_key == *key,
    });
    for e in &mut entries {
        e.processing_node_hostname = state.settings.hostname.clone();
        e.processing_node_token = state.settings.token.clone();
    }
    let details = serde_json::to_value(&entries).map_err(|e| ApiError::Internal(format!("encoding the analysis: {e}")))?;
    Ok(Json(Envelope::ok("Analysis", details)).into_response())
}
