//! Operator intents over HTTP, on orchestrator's paths: maintenance (`begin-maintenance/:host/
//! :port/:owner/:reason`, `end-maintenance/:host/:port`, `in-maintenance/...`, `maintenance`),
//! downtime (`begin-downtime/:host/:port/:owner/:reason[/:duration]`, `end-downtime/...`,
//! `downtimed[/:clusterHint]`), promotion rules (`register-candidate/:host/:port/:rule`) and tags
//! (`tag`, `untag`, `untag-all`, `tagged`, `tags`, `tag-value`, `topology-tags`). Mutating routes
//! take GET (as orchestrator-client sends) and POST and answer orchestrator's envelope; reads
//! answer bare JSON.

use super::api::key_of;
use super::error::ApiError;
use super::AppState;
use crate::intents::model::Window;
use crate::intents::parse::{self, TagFilter};
use crate::intents::IntentError;
use crate::topology::{ascii, clusters};
use app::model::{Envelope, Instance, InstanceJson, InstanceKey};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

type ApiResult = Result<Response, ApiError>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/begin-maintenance/{host}/{port}/{owner}/{reason}", get(begin_maintenance).post(begin_maintenance))
        .route("/begin-maintenance/{host}/{port}/{owner}/{reason}/{duration}", get(begin_maintenance).post(begin_maintenance))
        .route("/end-maintenance/{host}/{port}", get(end_maintenance).post(end_maintenance))
        .route("/in-maintenance/{host}/{port}", get(in_maintenance))
        .route("/maintenance", get(maintenance))
        .route("/begin-downtime/{host}/{port}/{owner}/{reason}", get(begin_downtime).post(begin_downtime))
        .route("/begin-downtime/{host}/{port}/{owner}/{reason}/{duration}", get(begin_downtime).post(begin_downtime))
        .route("/end-downtime/{host}/{port}", get(end_downtime).post(end_downtime))
        .route("/downtimed", get(downtimed))
        .route("/downtimed/{hint}", get(downtimed))
        .route("/register-candidate/{host}/{port}/{rule}", get(register_candidate).post(register_candidate))
        .route("/tagged", get(tagged))
        // orchestrator-client sends `tagged/<instance>?tag=...`; the instance plays no part.
        .route("/tagged/{host}/{port}", get(tagged))
        .route("/tags/{host}/{port}", get(tags))
        .route("/tag-value/{host}/{port}", get(tag_value))
        .route("/tag-value/{host}/{port}/{name}", get(tag_value))
        .route("/tag/{host}/{port}", get(tag).post(tag))
        .route("/tag/{host}/{port}/{name}/{value}", get(tag).post(tag))
        .route("/untag/{host}/{port}", get(untag).post(untag))
        .route("/untag/{host}/{port}/{name}", get(untag).post(untag))
        .route("/untag-all", get(untag_all).post(untag_all))
        .route("/untag-all/{name}/{value}", get(untag_all).post(untag_all))
        .route("/topology-tags/{hint}", get(topology_tags))
        .route("/topology-tags/{host}/{port}", get(topology_tags_of_instance))
}

impl From<IntentError> for ApiError {
    fn from(e: IntentError) -> Self {
        match e {
            IntentError::Invalid(m) => ApiError::BadRequest(m),
            IntentError::UnknownInstance(_) | IntentError::NoSuchTag { .. } => ApiError::NotFound(e.to_string()),
            IntentError::Conflict(c) => ApiError::Conflict(c.to_string()),
            IntentError::Store(s) => s.into(),
            IntentError::Write(w) => w.into(),
        }
    }
}

/// Every parameter these routes take, from the path (`:owner`, `:tagName`, ...) or the query
/// (`?tag=`, `?duration=`).
#[derive(Deserialize, Default)]
struct Params {
    host: Option<String>,
    port: Option<String>,
    owner: Option<String>,
    reason: Option<String>,
    duration: Option<String>,
    rule: Option<String>,
    name: Option<String>,
    value: Option<String>,
    hint: Option<String>,
}

#[derive(Deserialize, Default)]
struct TagQuery {
    tag: Option<String>,
    duration: Option<String>,
}

impl Params {
    fn key(&self) -> Result<InstanceKey, ApiError> {
        key_of(self.host.as_deref().unwrap_or(""), self.port.as_deref().unwrap_or(""))
    }

    fn text(&self, field: &str, value: &Option<String>) -> Result<String, ApiError> {
        parse::validate_text(field, value.as_deref().unwrap_or("")).map_err(ApiError::BadRequest)
    }

    /// The duration from the path, else `?duration=`; none means the default.
    fn duration(&self, q: &TagQuery) -> Result<Option<std::time::Duration>, ApiError> {
        match self.duration.as_deref().or(q.duration.as_deref()).filter(|d| !d.trim().is_empty()) {
            None => Ok(None),
            Some(d) => parse::parse_duration(d).map(Some).map_err(ApiError::BadRequest),
        }
    }

    /// The tag: `?tag=name[=value]` (orchestrator's precedence), else `/:tagName[/:tagValue]`
    /// taken as they are.
    fn tag(&self, q: &TagQuery) -> Result<TagFilter, ApiError> {
        if let Some(text) = q.tag.as_deref().filter(|t| !t.is_empty()) {
            return TagFilter::parse(text).map_err(ApiError::BadRequest);
        }
        let name = self.name.as_deref().unwrap_or("").trim();
        if name.is_empty() {
            return Err(ApiError::BadRequest("missing tag: give ?tag=name[=value]".into()));
        }
        parse::validate_tag_name(name).map_err(ApiError::BadRequest)?;
        let value = self.value.as_deref().map(str::trim);
        if let Some(v) = value {
            parse::validate_tag_value(v).map_err(ApiError::BadRequest)?;
        }
        Ok(TagFilter { name: name.to_string(), value: value.map(str::to_string), negate: false })
    }
}

fn refuse_if_read_only(state: &AppState) -> Result<(), ApiError> {
    if state.settings.read_only {
        return Err(ApiError::Conflict("this node is configured read-only (ReadOnly: true)".into()));
    }
    Ok(())
}

fn ok(message: impl Into<String>, details: serde_json::Value) -> Response {
    Json(Envelope::ok(message, details)).into_response()
}

fn until(w: &Window) -> String {
    w.end.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A maintenance window as `/api/maintenance` lists it (orchestrator's fields, plus the end).
fn maintenance_json(w: &Window) -> serde_json::Value {
    let now = chrono::Utc::now();
    json!({
        "Key": w.instance,
        "Owner": w.owner,
        "Reason": w.reason,
        "BeginTimestamp": w.begin,
        "EndTimestamp": w.end,
        "SecondsElapsed": (now - w.begin).num_seconds().max(0),
        "IsActive": w.is_active(now),
    })
}

async fn begin_maintenance(State(state): State<AppState>, Path(p): Path<Params>, Query(q): Query<TagQuery>) -> ApiResult {
    let key = p.key()?;
    let (owner, reason, duration) = (p.text("owner", &p.owner)?, p.text("reason", &p.reason)?, p.duration(&q)?);
    refuse_if_read_only(&state)?;
    // A running operation holds the server as if in maintenance: one or the other, not both.
    if let Some(holder) = state.refactor.holder(&key) {
        return Err(ApiError::Conflict(format!("{key} is busy with {holder}; begin maintenance when it has finished")));
    }
    let w = state.intents.begin_maintenance(&key, &owner, &reason, duration).await?;
    Ok(ok(format!("Maintenance begun: {} (until {})", w.instance, until(&w)), json!(w.instance)))
}

async fn end_maintenance(State(state): State<AppState>, Path(p): Path<Params>) -> ApiResult {
    let key = p.key()?;
    refuse_if_read_only(&state)?;
    let ended = state.intents.end_maintenance(&key, "api").await?;
    let message = if ended { format!("Maintenance ended: {key}") } else { format!("Maintenance ended: {key} (it was not in maintenance)") };
    Ok(ok(message, json!(key)))
}

/// orchestrator's answer: `Message` "true" or "false", `Details` the key when true.
async fn in_maintenance(State(state): State<AppState>, Path(p): Path<Params>) -> ApiResult {
    let key = p.key()?;
    let held = state.intents.maintenance_of(&key)?;
    let details = match &held {
        Some(w) => json!(w.instance.to_string()),
        None => json!(""),
    };
    let mut body = serde_json::to_value(Envelope::ok(held.is_some().to_string(), details)).unwrap_or_default();
    if let Some(w) = &held {
        body["Maintenance"] = maintenance_json(w);
    }
    Ok(Json(body).into_response())
}

async fn maintenance(State(state): State<AppState>) -> ApiResult {
    let list: Vec<serde_json::Value> = state.intents.active_maintenance().iter().map(maintenance_json).collect();
    Ok(Json(list).into_response())
}

async fn begin_downtime(State(state): State<AppState>, Path(p): Path<Params>, Query(q): Query<TagQuery>) -> ApiResult {
    let key = p.key()?;
    let (owner, reason, duration) = (p.text("owner", &p.owner)?, p.text("reason", &p.reason)?, p.duration(&q)?);
    refuse_if_read_only(&state)?;
    let w = state.intents.begin_downtime(&key, &owner, &reason, duration).await?;
    Ok(ok(format!("Downtime begun: {} (until {})", w.instance, until(&w)), json!(w.instance)))
}

async fn end_downtime(State(state): State<AppState>, Path(p): Path<Params>) -> ApiResult {
    let key = p.key()?;
    refuse_if_read_only(&state)?;
    let ended = state.intents.end_downtime(&key, "api").await?;
    let message = if ended { format!("Downtime ended: {key}") } else { format!("Downtime ended: {key} (it was not downtimed)") };
    Ok(ok(message, json!(key)))
}

/// Downtimed instances (bare array), of one cluster when a hint is given.
async fn downtimed(State(state): State<AppState>, p: Option<Path<Params>>) -> ApiResult {
    let view = state.discovery.instances();
    let cluster = match p.and_then(|Path(p)| p.hint) {
        Some(hint) => Some(
            clusters::resolve_hint(&view, &hint, state.settings.default_port)
                .ok_or_else(|| ApiError::NotFound(format!("unknown cluster {hint:?}")))?,
        ),
        None => None,
    };
    let mut list: Vec<&Instance> = view.values().filter(|i| i.is_downtimed && cluster.as_ref().is_none_or(|c| *c == i.cluster_name)).collect();
    list.sort_by(|a, b| (&a.cluster_name, a.replication_depth, &a.key).cmp(&(&b.cluster_name, b.replication_depth, &b.key)));
    let json: Vec<serde_json::Value> = list.iter().map(|i| serde_json::to_value(InstanceJson::from(*i)).unwrap_or_default()).collect();
    Ok(Json(json).into_response())
}

async fn register_candidate(State(state): State<AppState>, Path(p): Path<Params>) -> ApiResult {
    let key = p.key()?;
    let rule = crate::intents::model::PromotionRule::parse(p.rule.as_deref().unwrap_or("")).map_err(ApiError::BadRequest)?;
    refuse_if_read_only(&state)?;
    let c = state.intents.register_candidate(&key, rule, "api").await?;
    let until = c.expires.format("%Y-%m-%d %H:%M:%S UTC");
    Ok(ok(format!("Registered candidate: {} is {} until {until}", c.instance, rule.as_str()), json!(c.instance)))
}

async fn tagged(State(state): State<AppState>, Query(q): Query<TagQuery>) -> ApiResult {
    let text = q.tag.unwrap_or_default();
    let query = parse::parse_tag_query(&text).map_err(ApiError::BadRequest)?;
    let keys: Vec<InstanceKey> = state.intents.tagged(&query).into_iter().collect();
    Ok(Json(keys).into_response())
}

/// orchestrator's `tags`: `name=value` strings, by name.
async fn tags(State(state): State<AppState>, Path(p): Path<Params>) -> ApiResult {
    let key = p.key()?;
    let list: Vec<String> = state.intents.tags_of(&key)?.iter().map(|t| t.stored_form()).collect();
    Ok(Json(list).into_response())
}

async fn tag_value(State(state): State<AppState>, Path(p): Path<Params>, Query(q): Query<TagQuery>) -> ApiResult {
    let key = p.key()?;
    let tag = p.tag(&q)?;
    Ok(Json(state.intents.tag_value(&key, &tag.name)?).into_response())
}

async fn tag(State(state): State<AppState>, Path(p): Path<Params>, Query(q): Query<TagQuery>) -> ApiResult {
    let key = p.key()?;
    let tag = p.tag(&q)?;
    refuse_if_read_only(&state)?;
    let canonical = state.discovery.resolve_known(&key).unwrap_or(key);
    let tag = state.intents.tag(&canonical, tag, "api").await?;
    Ok(ok(format!("{canonical} tagged with {}", tag.stored_form()), json!(canonical)))
}

async fn untag(State(state): State<AppState>, Path(p): Path<Params>, Query(q): Query<TagQuery>) -> ApiResult {
    let key = p.key()?;
    let tag = p.tag(&q)?;
    refuse_if_read_only(&state)?;
    let name = tag.name.clone();
    let untagged = state.intents.untag(&key, tag, "api").await?;
    Ok(ok(format!("{name} removed from {} instances", untagged.len()), json!(untagged)))
}

async fn untag_all(State(state): State<AppState>, p: Option<Path<Params>>, Query(q): Query<TagQuery>) -> ApiResult {
    let p = p.map(|Path(p)| p).unwrap_or_default();
    let tag = p.tag(&q)?;
    refuse_if_read_only(&state)?;
    let name = tag.name.clone();
    let untagged = state.intents.untag_all(tag, "api").await?;
    Ok(ok(format!("{name} removed from {} instances", untagged.len()), json!(untagged)))
}

/// orchestrator's `topology-tags`: the text topology with each instance's tags appended.
fn ascii_with_tags(state: &AppState, hint: &str) -> ApiResult {
    let view = state.discovery.instances();
    let name = clusters::resolve_hint(&view, hint, state.settings.default_port)
        .ok_or_else(|| ApiError::NotFound(format!("unknown cluster {hint:?}")))?;
    let members = clusters::group(&view).remove(&name).unwrap_or_default();
    let intents = state.intents.snapshot();
    let tags_of = |i: &Instance| intents.tags_of(&i.key).iter().map(|t| t.display()).collect::<Vec<_>>();
    let text = ascii::render(&members, state.settings.ascii, false, Some(&tags_of as &dyn Fn(&Instance) -> Vec<String>));
    Ok(ok(format!("Topology for cluster {name}"), json!(text)))
}

async fn topology_tags(State(state): State<AppState>, Path(hint): Path<String>) -> ApiResult {
    ascii_with_tags(&state, &hint)
}

async fn topology_tags_of_instance(State(state): State<AppState>, Path(p): Path<Params>) -> ApiResult {
    let key = p.key()?;
    let inst = state.discovery.instance(&key).ok_or_else(|| ApiError::NotFound(format!("unknown instance {key}")))?;
    ascii_with_tags(&state, &inst.cluster_name)
}
