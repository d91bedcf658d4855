//! orchestrator's JSON API (`/api/...`): same paths and shapes, correct statuses. Reads answer
//! bare JSON as orchestrator does; writes answer its envelope. Every mutating route accepts GET
//! (what orchestrator-client sends) and POST.

use super::error::ApiError;
use super::AppState;
use crate::raft::Command;
use crate::topology::{ascii, clusters};
use app::model::{Envelope, Instance, InstanceJson, InstanceKey};
use axum::extract::{OriginalUri, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

type ApiResult = Result<Response, ApiError>;

pub fn routes() -> Router<AppState> {
    Router::new()
        // discovery and instance management (mutating: GET and POST)
        .route("/discover/{host}/{port}", get(discover).post(discover))
        .route("/async-discover/{host}/{port}", get(async_discover).post(async_discover))
        .route("/refresh/{host}/{port}", get(refresh).post(refresh))
        .route("/forget/{host}/{port}", get(forget).post(forget))
        .route("/forget-cluster/{hint}", get(forget_cluster).post(forget_cluster))
        .route("/set-cluster-alias/{cluster}", get(set_cluster_alias).post(set_cluster_alias))
        // information
        .route("/instance/{host}/{port}", get(instance))
        .route("/instance-replicas/{host}/{port}", get(instance_replicas))
        .route("/cluster/{hint}", get(cluster))
        .route("/cluster/alias/{alias}", get(cluster))
        .route("/cluster/instance/{host}/{port}", get(cluster_of_instance))
        .route("/cluster-info/{hint}", get(cluster_info))
        .route("/cluster-info/alias/{alias}", get(cluster_info))
        .route("/clusters", get(cluster_names))
        .route("/clusters-info", get(clusters_info))
        .route("/masters", get(masters))
        .route("/master/{hint}", get(master))
        .route("/cluster-master/{hint}", get(master))
        .route("/all-instances", get(all_instances))
        .route("/search", get(search_query))
        .route("/search/{text}", get(search_path))
        .route("/topology/{hint}", get(topology))
        .route("/topology/{host}/{port}", get(topology_of_instance))
        .route("/topology-tabulated/{hint}", get(topology_tabulated))
        .route("/topology-tabulated/{host}/{port}", get(topology_tabulated_of_instance))
        .route("/audit", get(audit))
        .route("/audit/{page}", get(audit_page))
        .route("/audit/instance/{host}/{port}", get(audit_instance))
        .route("/audit/instance/{host}/{port}/{page}", get(audit_instance_page))
        .route("/discovery-metrics", get(discovery_metrics))
        // health and leadership
        .route("/status", get(status))
        .route("/health", get(status))
        .route("/lb-check", get(ok_text))
        .route("/_ping", get(ok_text))
        .route("/leader-check", get(leader_check))
        .route("/leader-check/{code}", get(leader_check))
        .fallback(unknown_route)
}

/// axum answers some refusals itself before any handler runs (a method a route does not take,
/// a path segment that is not UTF-8) with plain text or an empty body. Under `/api` every error
/// is orchestrator's envelope, so clients (orchestrator-client does `jq .Message`) always get a
/// message naming the problem.
pub(crate) async fn envelope_rejections(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = full_path(&request);
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&body).trim().to_string();
    let message = if status == StatusCode::METHOD_NOT_ALLOWED {
        let allowed = allow.as_ref().and_then(|v| v.to_str().ok()).unwrap_or("GET");
        format!("method {method} is not allowed on {path} (allowed: {allowed})")
    } else if text.is_empty() {
        format!("{path}: {}", status.canonical_reason().unwrap_or("request refused"))
    } else {
        format!("{path}: {text}")
    };
    let mut refused = (status, Json(Envelope::error(message))).into_response();
    if let Some(allow) = allow {
        refused.headers_mut().insert(header::ALLOW, allow);
    }
    refused
}

/// The path as the client sent it (`/api/...`; inside the nested router the prefix is gone).
fn full_path(request: &Request) -> String {
    match request.extensions().get::<OriginalUri>() {
        Some(OriginalUri(uri)) => uri.path().to_string(),
        None => request.uri().path().to_string(),
    }
}

/// Parses `:host/:port` path parameters into a key, as a 400 when malformed.
pub(crate) fn key_of(host: &str, port: &str) -> Result<InstanceKey, ApiError> {
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| ApiError::BadRequest(format!("invalid port {port:?} (expected 1-65535)")))?;
    Ok(InstanceKey::from_parts(host, port)?)
}

fn ok(message: impl Into<String>, details: serde_json::Value) -> Response {
    Json(Envelope::ok(message, details)).into_response()
}

fn instance_json(i: &Instance) -> serde_json::Value {
    serde_json::to_value(InstanceJson::from(i)).unwrap_or_default()
}

fn instances_json(list: &[Instance]) -> Response {
    Json(list.iter().map(instance_json).collect::<Vec<_>>()).into_response()
}

fn known(state: &AppState, key: &InstanceKey) -> Result<Instance, ApiError> {
    state.discovery.instance(key).ok_or_else(|| ApiError::NotFound(format!("unknown instance {key}")))
}

/// Members of the cluster a hint names, in tree order.
fn members_of(state: &AppState, hint: &str) -> Result<(String, Vec<Instance>), ApiError> {
    let view = state.discovery.instances();
    let name = clusters::resolve_hint(&view, hint, state.settings.default_port)
        .ok_or_else(|| ApiError::NotFound(format!("unknown cluster {hint:?}")))?;
    let mut grouped = clusters::group(&view);
    let members = grouped.remove(&name).unwrap_or_default();
    Ok((name, members))
}

fn refuse_if_read_only(state: &AppState) -> Result<(), ApiError> {
    if state.settings.read_only {
        return Err(ApiError::Conflict("this node is configured read-only (ReadOnly: true)".into()));
    }
    Ok(())
}

async fn discover(State(state): State<AppState>, Path((host, port)): Path<(String, String)>) -> ApiResult {
    let key = key_of(&host, &port)?;
    refuse_if_read_only(&state)?;
    let inst = state.discovery.discover(&key).await?;
    // The other nodes probe it too.
    state.replicated.write(Command::Discover { instance: inst.key.clone() }).await?;
    state.store.audit("discover", &inst.key, &inst.cluster_name, "api", "").await?;
    Ok(ok(format!("Instance discovered: {}", inst.key), instance_json(&inst)))
}

async fn async_discover(State(state): State<AppState>, Path((host, port)): Path<(String, String)>) -> ApiResult {
    let key = key_of(&host, &port)?;
    refuse_if_read_only(&state)?;
    state.discovery.discover_async(&key)?;
    state.replicated.write(Command::Discover { instance: key.clone() }).await?;
    Ok(ok(format!("Asynchronous discovery initiated for instance: {key}"), json!(key)))
}

async fn refresh(State(state): State<AppState>, Path((host, port)): Path<(String, String)>) -> ApiResult {
    let key = key_of(&host, &port)?;
    known(&state, &key)?;
    let inst = state.discovery.refresh(&key).await?;
    Ok(ok(format!("Instance refreshed: {}", inst.key), instance_json(&inst)))
}

async fn forget(State(state): State<AppState>, Path((host, port)): Path<(String, String)>) -> ApiResult {
    let key = key_of(&host, &port)?;
    refuse_if_read_only(&state)?;
    let inst = known(&state, &key)?;
    state.replicated.write(Command::Forget { instances: vec![inst.key.clone()] }).await?;
    state.discovery.forget(std::slice::from_ref(&inst.key)).await?;
    state.store.audit("forget", &inst.key, &inst.cluster_name, "api", "").await?;
    Ok(ok(format!("Instance forgotten: {}", inst.key), json!(inst.key)))
}

async fn forget_cluster(State(state): State<AppState>, Path(hint): Path<String>) -> ApiResult {
    refuse_if_read_only(&state)?;
    let (name, members) = members_of(&state, &hint)?;
    let keys: Vec<InstanceKey> = members.iter().map(|i| i.key.clone()).collect();
    state.replicated.write(Command::Forget { instances: keys.clone() }).await?;
    state.discovery.forget(&keys).await?;
    state.store.audit("forget-cluster", &InstanceKey::default(), &name, "api", &format!("{} instances", keys.len())).await?;
    Ok(ok(format!("Cluster forgotten: {name}"), json!(keys)))
}

#[derive(Deserialize)]
struct AliasQuery {
    alias: Option<String>,
}

async fn set_cluster_alias(State(state): State<AppState>, Path(cluster): Path<String>, Query(q): Query<AliasQuery>) -> ApiResult {
    let alias = q.alias.ok_or_else(|| ApiError::BadRequest("missing ?alias= parameter".into()))?;
    let alias = alias.trim();
    if alias.chars().any(|c| c.is_control()) || alias.len() > 128 {
        return Err(ApiError::BadRequest("alias must be at most 128 printable characters".into()));
    }
    refuse_if_read_only(&state)?;
    let view = state.discovery.instances();
    if !view.values().any(|i| i.cluster_name == cluster) {
        return Err(ApiError::NotFound(format!("unknown cluster {cluster:?} (give the cluster name, e.g. its primary's host:port)")));
    }
    state.replicated.write(Command::SetClusterAlias { cluster: cluster.clone(), alias: alias.to_string(), at: chrono::Utc::now() }).await?;
    state.store.audit("set-cluster-alias", &InstanceKey::default(), &cluster, "api", alias).await?;
    Ok(ok(format!("Cluster {cluster} now has alias '{alias}'"), json!(alias)))
}

async fn instance(State(state): State<AppState>, Path((host, port)): Path<(String, String)>) -> ApiResult {
    let key = key_of(&host, &port)?;
    Ok(Json(instance_json(&known(&state, &key)?)).into_response())
}

async fn instance_replicas(State(state): State<AppState>, Path((host, port)): Path<(String, String)>) -> ApiResult {
    let key = key_of(&host, &port)?;
    let inst = known(&state, &key)?;
    let view = state.discovery.instances();
    let replicas: Vec<Instance> = view.values().filter(|i| i.master_key == inst.key).cloned().collect();
    Ok(instances_json(&replicas))
}

async fn cluster(State(state): State<AppState>, Path(hint): Path<String>) -> ApiResult {
    let (_, members) = members_of(&state, &hint)?;
    Ok(instances_json(&members))
}

async fn cluster_of_instance(State(state): State<AppState>, Path((host, port)): Path<(String, String)>) -> ApiResult {
    let key = key_of(&host, &port)?;
    let inst = known(&state, &key)?;
    cluster(State(state), Path(inst.cluster_name)).await
}

async fn cluster_info(State(state): State<AppState>, Path(hint): Path<String>) -> ApiResult {
    let (name, members) = members_of(&state, &hint)?;
    Ok(Json(clusters::info(&name, &members, &state.settings.recovery_filters)).into_response())
}

async fn cluster_names(State(state): State<AppState>) -> ApiResult {
    let names: Vec<String> = clusters::group(&state.discovery.instances()).into_keys().collect();
    Ok(Json(names).into_response())
}

async fn clusters_info(State(state): State<AppState>) -> ApiResult {
    let view = state.discovery.instances();
    let infos: Vec<_> = clusters::group(&view)
        .iter()
        .map(|(name, members)| clusters::info(name, members, &state.settings.recovery_filters))
        .collect();
    Ok(Json(infos).into_response())
}

async fn masters(State(state): State<AppState>) -> ApiResult {
    let view = state.discovery.instances();
    let list: Vec<Instance> = clusters::group(&view)
        .values()
        .filter_map(|m| clusters::primary(m).filter(|p| !p.read_only).cloned())
        .collect();
    Ok(instances_json(&list))
}

async fn master(State(state): State<AppState>, Path(hint): Path<String>) -> ApiResult {
    let (name, members) = members_of(&state, &hint)?;
    let primary = clusters::primary(&members).ok_or_else(|| ApiError::NotFound(format!("cluster {name} has no primary")))?;
    Ok(Json(instance_json(primary)).into_response())
}

async fn all_instances(State(state): State<AppState>) -> ApiResult {
    let list: Vec<Instance> = state.discovery.instances().values().cloned().collect();
    Ok(instances_json(&list))
}

#[derive(Deserialize)]
struct SearchQuery {
    s: Option<String>,
}

async fn search_query(State(state): State<AppState>, Query(q): Query<SearchQuery>) -> ApiResult {
    let text = q.s.ok_or_else(|| ApiError::BadRequest("missing ?s= search text".into()))?;
    search_path(State(state), Path(text)).await
}

async fn search_path(State(state): State<AppState>, Path(text): Path<String>) -> ApiResult {
    if text.trim().is_empty() {
        return Err(ApiError::BadRequest("empty search text".into()));
    }
    let view = state.discovery.instances();
    let found: Vec<Instance> = clusters::search(&view, &text).into_iter().cloned().collect();
    Ok(instances_json(&found))
}

fn ascii_topology(state: &AppState, hint: &str, tabulated: bool) -> ApiResult {
    let (name, members) = members_of(state, hint)?;
    let text = ascii::render(&members, state.settings.ascii, tabulated, None);
    Ok(ok(format!("Topology for cluster {name}"), json!(text)))
}

async fn topology(State(state): State<AppState>, Path(hint): Path<String>) -> ApiResult {
    ascii_topology(&state, &hint, false)
}

async fn topology_of_instance(State(state): State<AppState>, Path((host, port)): Path<(String, String)>) -> ApiResult {
    let key = key_of(&host, &port)?;
    let inst = known(&state, &key)?;
    ascii_topology(&state, &inst.cluster_name, false)
}

async fn topology_tabulated(State(state): State<AppState>, Path(hint): Path<String>) -> ApiResult {
    ascii_topology(&state, &hint, true)
}

async fn topology_tabulated_of_instance(State(state): State<AppState>, Path((host, port)): Path<(String, String)>) -> ApiResult {
    let key = key_of(&host, &port)?;
    let inst = known(&state, &key)?;
    ascii_topology(&state, &inst.cluster_name, true)
}

fn page_of(text: &str) -> Result<u32, ApiError> {
    text.parse().map_err(|_| ApiError::BadRequest(format!("invalid page {text:?}")))
}

async fn audit(State(state): State<AppState>) -> ApiResult {
    Ok(Json(state.store.list_audit(0, None).await?).into_response())
}

async fn audit_page(State(state): State<AppState>, Path(page): Path<String>) -> ApiResult {
    Ok(Json(state.store.list_audit(page_of(&page)?, None).await?).into_response())
}

async fn audit_instance(State(state): State<AppState>, Path((host, port)): Path<(String, String)>) -> ApiResult {
    let key = key_of(&host, &port)?;
    Ok(Json(state.store.list_audit(0, Some(&key)).await?).into_response())
}

async fn audit_instance_page(State(state): State<AppState>, Path((host, port, page)): Path<(String, String, String)>) -> ApiResult {
    let key = key_of(&host, &port)?;
    Ok(Json(state.store.list_audit(page_of(&page)?, Some(&key)).await?).into_response())
}

async fn discovery_metrics(State(state): State<AppState>) -> ApiResult {
    Ok(Json(state.discovery.metrics()).into_response())
}

/// orchestrator's `/api/status`: healthy when this node can write to its store.
async fn status(State(state): State<AppState>) -> ApiResult {
    let healthy = state.store.fingerprint().await.is_ok();
    let s = &state.settings;
    let details = json!({
        "Healthy": healthy,
        "Hostname": s.hostname,
        "Token": s.token,
        "IsActiveNode": true,
        "ActiveNode": {
            "Hostname": s.hostname,
            "Token": s.token,
            "AppVersion": env!("CARGO_PKG_VERSION"),
            "FirstSeenActive": s.started_at,
            "LastSeenActive": chrono::Utc::now(),
            "DBBackend": s.backend_description,
        },
        "Error": null,
        "AvailableNodes": [],
        "RaftLeader": "",
        "IsRaftLeader": false,
        "RaftLeaderURI": "",
        "RaftAdvertise": "",
        "RaftHealthyMembers": [],
    });
    let (code, message) = if healthy {
        (StatusCode::OK, "Application node is healthy")
    } else {
        (StatusCode::INTERNAL_SERVER_ERROR, "Application node is unhealthy")
    };
    let envelope = if healthy { Envelope::ok(message, details) } else { Envelope { details, ..Envelope::error(message) } };
    Ok((code, Json(envelope)).into_response())
}

async fn ok_text() -> Response {
    Json("OK").into_response()
}

/// 200 "OK" on the leader (without raft every node leads itself), else 404 "Not leader" or the
/// status given as `/leader-check/{code}`, as orchestrator: load balancers send writes to the node
/// that answers 200.
async fn leader_check(State(state): State<AppState>, path: Option<Path<BTreeMap<String, String>>>) -> ApiResult {
    let mut status = StatusCode::NOT_FOUND;
    if let Some(Path(p)) = path {
        if let Some(code) = p.get("code") {
            let n: u16 = code.parse().map_err(|_| ApiError::BadRequest(format!("invalid status code {code:?}")))?;
            status = StatusCode::from_u16(n).map_err(|_| ApiError::BadRequest(format!("invalid status code {code:?}")))?;
        }
    }
    if state.replicated.is_leader() {
        return Ok(Json("OK").into_response());
    }
    Ok((status, Json("Not leader")).into_response())
}

async fn unknown_route(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::NotFound(format!("no such API route: {}", uri.path()))
}
