//! Takeovers over HTTP, on orchestrator's paths: `graceful-master-takeover[-auto]/:clusterHint
//! [/:designatedHost/:designatedPort]` and `/:host/:port[/...]`, `force-master-takeover/...`
//! (same shapes), `force-master-failover/:clusterHint` or `/:host/:port`, and ours,
//! `recover/:host/:port[/:candidateHost/:candidatePort]` (or `recover/host:port[/...]`). The answer's `Details` is the
//! recovery as `audit-recovery` shows it.

use super::api::key_of;
use super::error::ApiError;
use super::AppState;
use crate::recovery::takeover::{run, Kind, Request, TakeoverError};
use crate::recovery::watch::Services;
use crate::store::RecoveryQuery;
use app::model::Envelope;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::collections::HashMap;

type ApiResult = Result<Response, ApiError>;

pub fn routes() -> Router<AppState> {
    let mut r = Router::new();
    for (name, kind) in [
        ("graceful-master-takeover", Kind::Graceful),
        ("graceful-master-takeover-auto", Kind::GracefulAuto),
        ("force-master-takeover", Kind::ForceTakeover),
        ("force-master-failover", Kind::ForceFailover),
        ("recover", Kind::Recover),
    ] {
        let handler = move |state: State<AppState>, p: Path<HashMap<String, String>>| takeover(state, p, kind);
        r = r
            .route(&format!("/{name}/{{hint}}"), get(handler).post(handler))
            .route(&format!("/{name}/{{host}}/{{port}}"), get(handler).post(handler))
            .route(&format!("/{name}/{{hint}}/{{dhost}}/{{dport}}"), get(handler).post(handler))
            .route(&format!("/{name}/{{host}}/{{port}}/{{dhost}}/{{dport}}"), get(handler).post(handler));
    }
    r
}

impl From<TakeoverError> for ApiError {
    fn from(e: TakeoverError) -> Self {
        match e {
            TakeoverError::NotFound(m) => ApiError::NotFound(m),
            TakeoverError::Refused(m) => ApiError::Conflict(m),
            TakeoverError::Failed { message, .. } => ApiError::Unreachable(message),
        }
    }
}

async fn takeover(State(state): State<AppState>, Path(p): Path<HashMap<String, String>>, kind: Kind) -> ApiResult {
    if state.settings.read_only {
        return Err(ApiError::Conflict("this node is configured read-only (ReadOnly: true)".into()));
    }
    let hint = match (p.get("hint"), p.get("host"), p.get("port")) {
        (Some(h), _, _) => h.trim().to_string(),
        (None, Some(host), Some(port)) => key_of(host, port)?.to_string(),
        _ => return Err(ApiError::BadRequest("give a cluster or an instance".into())),
    };
    if hint.is_empty() {
        return Err(ApiError::BadRequest("give a cluster or an instance".into()));
    }
    let destination = match (p.get("dhost"), p.get("dport")) {
        (Some(h), Some(port)) => Some(key_of(h, port)?),
        _ => None,
    };
    let services = Services { replicated: state.replicated.clone(), discovery: state.discovery.clone(), analyzer: state.analyzer.clone(), intents: state.intents.clone(), store: state.store.clone() };
    let req = Request { kind, hint, destination, who: "api".into() };
    let done = run(&services, &state.recovery, &state.refactor, &req, state.settings.default_port).await?;
    let since = chrono::Utc::now() - chrono::Duration::from_std(state.recovery.block).unwrap_or_default();
    let row = state.store.list_recoveries(&RecoveryQuery { id: Some(done.recovery), ..Default::default() }, since).await?;
    let details = row.first().map(|r| serde_json::to_value(r).unwrap_or_default()).unwrap_or_default();
    Ok(Json(Envelope::ok(done.message, details)).into_response())
}
