//! Recoveries over HTTP, on orchestrator's paths: their records (`audit-recovery...`,
//! `audit-failure-detection...`, `active-cluster-recovery/:cluster`, `recently-active-...`),
//! why some did not run (`blocked-recoveries`), acknowledgements (`ack-recovery/...`,
//! `ack-all-recoveries`; a comment is required), the global switch
//! (`disable-|enable-|check-global-recoveries`) and ours, observe-only mode
//! (`enable-|disable-|check-observe-only`).

use crate::raft::{Command, Reply};
use super::api::key_of;
use super::error::ApiError;
use super::AppState;
use crate::recovery::watch::{switches, OBSERVE_ONLY, RECOVERIES_DISABLED};
use crate::store::{AckTarget, RecoveryQuery};
use crate::topology::clusters;
use app::model::Envelope;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

type ApiResult = Result<Response, ApiError>;
/// Path parameters of routes that may have none.
type PathParams = Option<Path<HashMap<String, String>>>;

fn params(p: PathParams) -> HashMap<String, String> {
    p.map(|Path(p)| p).unwrap_or_default()
}

/// How long after its end a recovery counts as "recently active" (orchestrator: 5 minutes).
const RECENT: chrono::Duration = chrono::Duration::minutes(5);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit-recovery", get(audit_recovery))
        .route("/audit-recovery/{page}", get(audit_recovery))
        .route("/audit-recovery/id/{id}", get(audit_recovery))
        .route("/audit-recovery/uid/{uid}", get(audit_recovery))
        .route("/audit-recovery/cluster/{cluster}", get(audit_recovery))
        .route("/audit-recovery/cluster/{cluster}/{page}", get(audit_recovery))
        .route("/audit-recovery/alias/{alias}", get(audit_recovery))
        .route("/audit-recovery/alias/{alias}/{page}", get(audit_recovery))
        .route("/audit-recovery-steps/{uid}", get(audit_recovery_steps))
        .route("/audit-failure-detection", get(audit_detection))
        .route("/audit-failure-detection/{page}", get(audit_detection))
        .route("/audit-failure-detection/id/{id}", get(audit_detection))
        .route("/audit-failure-detection/alias/{alias}", get(audit_detection))
        .route("/audit-failure-detection/alias/{alias}/{page}", get(audit_detection))
        .route("/active-cluster-recovery/{cluster}", get(active_cluster_recovery))
        .route("/recently-active-cluster-recovery/{cluster}", get(recently_active_cluster_recovery))
        .route("/recently-active-instance-recovery/{host}/{port}", get(recently_active_instance_recovery))
        .route("/blocked-recoveries", get(blocked_recoveries))
        .route("/blocked-recoveries/cluster/{cluster}", get(blocked_recoveries))
        .route("/ack-recovery/cluster/{hint}", get(ack).post(ack))
        .route("/ack-recovery/cluster/alias/{alias}", get(ack).post(ack))
        .route("/ack-recovery/instance/{host}/{port}", get(ack).post(ack))
        .route("/ack-recovery/uid/{uid}", get(ack).post(ack))
        .route("/ack-recovery/{id}", get(ack).post(ack))
        .route("/ack-all-recoveries", get(ack).post(ack))
        // The CLI command names, for callers that use them as paths.
        .route("/ack-cluster-recoveries/{hint}", get(ack).post(ack))
        .route("/ack-instance-recoveries/{host}/{port}", get(ack).post(ack))
        .route("/disable-global-recoveries", get(disable_global).post(disable_global))
        .route("/enable-global-recoveries", get(enable_global).post(enable_global))
        .route("/check-global-recoveries", get(check_global))
        .route("/enable-observe-only", get(enable_observe).post(enable_observe))
        .route("/disable-observe-only", get(disable_observe).post(disable_observe))
        .route("/check-observe-only", get(check_observe))
}

fn ok(message: impl Into<String>, details: serde_json::Value) -> Response {
    Json(Envelope::ok(message, details)).into_response()
}

fn refuse_if_read_only(state: &AppState) -> Result<(), ApiError> {
    if state.settings.read_only {
        return Err(ApiError::Conflict("this node is configured read-only (ReadOnly: true)".into()));
    }
    Ok(())
}

/// When recoveries started at or after it are active (`RecoveryPeriodBlockSeconds`).
fn active_since(state: &AppState) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() - chrono::Duration::seconds(state.settings.recovery_block_seconds as i64)
}

fn number<T: std::str::FromStr>(p: &HashMap<String, String>, name: &str) -> Result<Option<T>, ApiError> {
    match p.get(name) {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| ApiError::BadRequest(format!("{name} must be a number, not {text:?}"))),
    }
}

/// A cluster named by a hint (name, alias, instance), or taken as it is: the recoveries of a
/// cluster whose primary is gone are still filed under its old name.
fn cluster_name(state: &AppState, hint: &str) -> String {
    clusters::resolve_hint(&state.discovery.instances(), hint, state.settings.default_port).unwrap_or_else(|| hint.to_string())
}

async fn audit_recovery(State(state): State<AppState>, p: PathParams) -> ApiResult {
    let p = params(p);
    let mut q = RecoveryQuery { page: number(&p, "page")?.unwrap_or(0), id: number(&p, "id")?, uid: p.get("uid").cloned(), ..Default::default() };
    q.cluster = p.get("cluster").map(|c| cluster_name(&state, c));
    let mut rows = state.store.list_recoveries(&q, active_since(&state)).await?;
    if let Some(alias) = p.get("alias") {
        rows.retain(|r| &r.cluster_alias == alias);
    }
    Ok(Json(rows).into_response())
}

/// The steps and hooks of one recovery, in the order they ran.
async fn audit_recovery_steps(State(state): State<AppState>, Path(uid): Path<String>) -> ApiResult {
    let q = RecoveryQuery { uid: Some(uid.clone()), ..Default::default() };
    let row = state.store.list_recoveries(&q, active_since(&state)).await?.into_iter().next().ok_or_else(|| ApiError::NotFound(format!("no recovery {uid}")))?;
    Ok(Json(json!({ "Steps": row.record["Steps"], "Hooks": row.record["Hooks"] })).into_response())
}

async fn audit_detection(State(state): State<AppState>, p: PathParams) -> ApiResult {
    let p = params(p);
    let rows = state.store.list_detections(number(&p, "page")?.unwrap_or(0), number(&p, "id")?, p.get("alias").map(String::as_str)).await?;
    Ok(Json(rows).into_response())
}

async fn active_cluster_recovery(State(state): State<AppState>, Path(cluster): Path<String>) -> ApiResult {
    let since = active_since(&state);
    let q = RecoveryQuery { cluster: Some(cluster_name(&state, &cluster)), active_since: Some(since), ..Default::default() };
    Ok(Json(state.store.list_recoveries(&q, since).await?).into_response())
}

async fn recently_active_cluster_recovery(State(state): State<AppState>, Path(cluster): Path<String>) -> ApiResult {
    let q = RecoveryQuery { cluster: Some(cluster_name(&state, &cluster)), recent_since: Some(chrono::Utc::now() - RECENT), ..Default::default() };
    Ok(Json(state.store.list_recoveries(&q, active_since(&state)).await?).into_response())
}

async fn recently_active_instance_recovery(State(state): State<AppState>, Path((host, port)): Path<(String, String)>) -> ApiResult {
    let key = key_of(&host, &port)?;
    let q = RecoveryQuery { instance: Some(key), recent_since: Some(chrono::Utc::now() - RECENT), ..Default::default() };
    Ok(Json(state.store.list_recoveries(&q, active_since(&state)).await?).into_response())
}

async fn blocked_recoveries(State(state): State<AppState>, p: PathParams) -> ApiResult {
    let p = params(p);
    let cluster = p.get("cluster").map(|c| cluster_name(&state, c));
    Ok(Json(state.store.list_blocked(cluster.as_deref()).await?).into_response())
}

#[derive(Deserialize, Default)]
struct AckQuery {
    comment: Option<String>,
}

/// The acknowledgement's target from whichever path matched.
fn ack_target(state: &AppState, p: &HashMap<String, String>) -> Result<AckTarget, ApiError> {
    if let (Some(host), Some(port)) = (p.get("host"), p.get("port")) {
        return Ok(AckTarget::Instance(key_of(host, port)?));
    }
    if let Some(hint) = p.get("hint") {
        return Ok(AckTarget::Cluster(cluster_name(state, hint)));
    }
    if let Some(alias) = p.get("alias") {
        return Ok(AckTarget::Cluster(alias.clone()));
    }
    if let Some(uid) = p.get("uid") {
        return Ok(AckTarget::Uid(uid.clone()));
    }
    if let Some(id) = number(p, "id")? {
        return Ok(AckTarget::Id(id));
    }
    Ok(AckTarget::All)
}

async fn ack(State(state): State<AppState>, p: PathParams, Query(q): Query<AckQuery>) -> ApiResult {
    let p = params(p);
    refuse_if_read_only(&state)?;
    let comment = q.comment.unwrap_or_default();
    let comment = crate::intents::parse::validate_text("comment", &comment)
        .map_err(|_| ApiError::BadRequest("an acknowledgement needs a comment: add ?comment=<why it is safe to recover again>".into()))?;
    let target = ack_target(&state, &p)?;
    let command = Command::Acknowledge { target: target.clone(), by: "api".into(), comment: comment.clone(), at: chrono::Utc::now() };
    let count = match state.replicated.write(command).await? {
        Reply::Acknowledged(n) => n,
        _ => 0,
    };
    let what = match &target {
        AckTarget::All => "all recoveries".to_string(),
        AckTarget::Cluster(c) => format!("recoveries of {c}"),
        AckTarget::Instance(k) => format!("recoveries of {k}"),
        AckTarget::Id(id) => format!("recovery {id}"),
        AckTarget::Uid(uid) => format!("recovery {uid}"),
    };
    let audited = app::model::InstanceKey::default();
    if let Err(e) = state.store.audit("ack-recovery", &audited, "", "api", &format!("acknowledged {count} of {what}: {comment}")).await {
        tracing::error!(error = %e, "auditing an acknowledgement failed");
    }
    Ok(ok(format!("Acknowledged {count} recoveries"), json!(count)))
}

async fn set_switch(state: &AppState, name: &str, on: bool, message: &str) -> ApiResult {
    refuse_if_read_only(state)?;
    state.replicated.write(Command::SetSwitch { name: name.to_string(), on, by: "api".into(), at: chrono::Utc::now() }).await?;
    let audited = app::model::InstanceKey::default();
    if let Err(e) = state.store.audit(name, &audited, "", "api", message).await {
        tracing::error!(error = %e, "auditing a recovery switch failed");
    }
    Ok(ok(message, json!(if on { "enabled" } else { "disabled" })))
}

async fn disable_global(State(state): State<AppState>) -> ApiResult {
    set_switch(&state, RECOVERIES_DISABLED, true, "Global recoveries disabled").await
}

async fn enable_global(State(state): State<AppState>) -> ApiResult {
    set_switch(&state, RECOVERIES_DISABLED, false, "Global recoveries enabled").await
}

async fn check_global(State(state): State<AppState>) -> ApiResult {
    let sw = switches(&state.store, state.settings.observe_only_default).await.map_err(ApiError::Internal)?;
    let word = if sw.recoveries_disabled { "disabled" } else { "enabled" };
    Ok(ok(format!("Global recoveries {word}"), json!(word)))
}

async fn enable_observe(State(state): State<AppState>) -> ApiResult {
    set_switch(&state, OBSERVE_ONLY, true, "Observe-only mode enabled: failures are detected and recorded, nothing is recovered").await
}

async fn disable_observe(State(state): State<AppState>) -> ApiResult {
    set_switch(&state, OBSERVE_ONLY, false, "Observe-only mode disabled").await
}

async fn check_observe(State(state): State<AppState>) -> ApiResult {
    let sw = switches(&state.store, state.settings.observe_only_default).await.map_err(ApiError::Internal)?;
    let word = if sw.observe_only { "enabled" } else { "disabled" };
    Ok(ok(format!("Observe-only mode {word}"), json!(word)))
}
