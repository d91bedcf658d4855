//! orchestrator's raft routes: state, leader, health, status, peers, membership changes and a
//! snapshot on demand. All but the membership changes are answered by the node asked (they
//! describe it); `raft-add-peer` and `raft-remove-peer` are forwarded to the leader.

use super::error::ApiError;
use super::AppState;
use crate::raft::Consensus;
use app::model::Envelope;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

type ApiResult = Result<Response, ApiError>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/raft-state", get(state))
        .route("/raft-leader", get(leader))
        .route("/raft-health", get(health))
        .route("/raft-status", get(status))
        .route("/raft-peers", get(peers))
        .route("/raft-add-peer/{addr}", get(add_peer))
        .route("/raft-remove-peer/{addr}", get(remove_peer))
        .route("/raft-snapshot", get(snapshot))
        .route("/raft-yield/{node}", get(elect))
        .route("/raft-yield-hint/{hint}", get(elect_hint))
        .route("/raft-test/isolate/{on}", get(isolate))
}

/// The environment variable that arms test fail points in a node process (a comma-separated
/// list); unset in production, where the fail point routes answer 404.
pub const FAILPOINTS_ENV: &str = "ORCHESTRATOR_TEST_FAILPOINTS";

fn failpoint_armed(name: &str) -> bool {
    std::env::var(FAILPOINTS_ENV).is_ok_and(|v| v.split(',').any(|f| f.trim() == name))
}

fn consensus(state: &AppState) -> Result<&Consensus, ApiError> {
    state.replicated.consensus().ok_or_else(|| ApiError::NotFound("raft is not enabled on this node (RaftEnabled: false)".into()))
}

async fn state(State(s): State<AppState>) -> ApiResult {
    Ok(Json(consensus(&s)?.state_name()).into_response())
}

/// The leader's raft address, as orchestrator (`LeaderURI` in `raft-status` is its API).
async fn leader(State(s): State<AppState>) -> ApiResult {
    match consensus(&s)?.leader() {
        Some((_, peer)) => Ok(Json(peer.raft).into_response()),
        None => Err(ApiError::Unavailable("no raft leader is known to this node".into())),
    }
}

/// `"healthy"` with 200, else orchestrator's error envelope with 500.
async fn health(State(s): State<AppState>) -> ApiResult {
    if consensus(&s)?.is_healthy() {
        return Ok(Json("healthy").into_response());
    }
    Ok((StatusCode::INTERNAL_SERVER_ERROR, Json(Envelope::error("unhealthy".to_string()))).into_response())
}

async fn status(State(s): State<AppState>) -> ApiResult {
    Ok(Json(consensus(&s)?.status().await).into_response())
}

async fn peers(State(s): State<AppState>) -> ApiResult {
    Ok(Json(consensus(&s)?.status().await.peers).into_response())
}

fn raft_addr(addr: &str) -> Result<String, ApiError> {
    let addr = addr.trim();
    match addr.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => Ok(addr.to_ascii_lowercase()),
        _ => Err(ApiError::BadRequest(format!("{addr:?} is not a raft address host:port"))),
    }
}

async fn add_peer(State(s): State<AppState>, Path(addr): Path<String>) -> ApiResult {
    let addr = raft_addr(&addr)?;
    let peer = consensus(&s)?.add_peer(&addr).await?;
    let message = format!("raft peer added: {}", peer.raft);
    Ok(Json(Envelope::ok(message, json!(peer.raft))).into_response())
}

async fn remove_peer(State(s): State<AppState>, Path(addr): Path<String>) -> ApiResult {
    let addr = raft_addr(&addr)?;
    let c = consensus(&s)?;
    if !c.is_peer(&addr) {
        return Err(ApiError::NotFound(format!("{addr} is not a raft peer (see raft-peers)")));
    }
    c.remove_peer(&addr).await?;
    Ok(Json(Envelope::ok(format!("raft peer removed: {addr}"), json!(addr))).into_response())
}

/// `raft-elect-leader`: the named node (its raft address) becomes the leader.
async fn elect(State(s): State<AppState>, Path(node): Path<String>) -> ApiResult {
    let addr = raft_addr(&node)?;
    let c = consensus(&s)?;
    if !c.is_peer(&addr) {
        return Err(ApiError::NotFound(format!("{addr} is not a raft peer (see raft-peers)")));
    }
    c.elect(&addr).await?;
    Ok(Json(Envelope::ok(format!("{addr} is the raft leader"), json!(addr))).into_response())
}

/// orchestrator's `raft-yield-hint`: the one peer whose raft address contains `hint` leads.
async fn elect_hint(State(s): State<AppState>, Path(hint): Path<String>) -> ApiResult {
    let c = consensus(&s)?;
    let peers = c.status().await.peers;
    let matching: Vec<&String> = peers.iter().filter(|p| p.contains(hint.trim())).collect();
    match matching.as_slice() {
        [one] => {
            let addr = one.to_string();
            c.elect(&addr).await?;
            Ok(Json(Envelope::ok(format!("{addr} is the raft leader"), json!(addr))).into_response())
        }
        [] => Err(ApiError::NotFound(format!("no raft peer matches {hint:?} (peers: {})", peers.join(", ")))),
        many => Err(ApiError::BadRequest(format!("{hint:?} matches several raft peers: {}", many.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")))),
    }
}

async fn snapshot(State(s): State<AppState>) -> ApiResult {
    let c = consensus(&s)?;
    c.raft().trigger().snapshot().await.map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(Json(Envelope::ok("raft snapshot requested".to_string(), json!(null))).into_response())
}

/// Test fail point (armed by `ORCHESTRATOR_TEST_FAILPOINTS=raft-isolate`): cuts this node's
/// raft traffic both ways (`on` = 1) or restores it (0).
async fn isolate(State(s): State<AppState>, Path(on): Path<String>) -> ApiResult {
    if !failpoint_armed("raft-isolate") {
        return Err(ApiError::NotFound("no such API route: /api/raft-test/isolate".into()));
    }
    let on = on == "1" || on == "true";
    consensus(&s)?.set_isolated(on);
    Ok(Json(json!(on)).into_response())
}
