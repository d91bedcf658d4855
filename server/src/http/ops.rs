//! Topology operations over HTTP: orchestrator's paths (`/api/relocate/:host/:port/:belowHost/
//! :belowPort`, `/api/move-up/:host/:port`, ...), GET or POST. `?dry_run=true` answers the plan
//! (every statement per server) and changes nothing. A run answers orchestrator's envelope with
//! the moved instance in `Details`, plus `Operation`: what ran, step by step.

use super::api::key_of;
use super::error::ApiError;
use super::AppState;
use app::model::ops::Operation;
use app::model::{Envelope, InstanceJson, InstanceKey};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

type ApiResult = Result<Response, ApiError>;

type WithTarget = fn(InstanceKey, InstanceKey, &RouteQuery) -> Operation;
type Single = fn(InstanceKey, &RouteQuery) -> Operation;

/// Operations on an instance and a destination, under every name orchestrator serves them.
const WITH_TARGET: &[(&[&str], WithTarget)] = &[
    (&["relocate", "relocate-below"], |i, t, _| Operation::Relocate { instance: i, target: t }),
    (&["relocate-replicas", "relocate-slaves"], |i, t, q| Operation::RelocateReplicas { instance: i, target: t, pattern: q.pattern.clone() }),
    (&["move-below"], |i, t, _| Operation::MoveBelow { instance: i, target: t }),
    (&["move-below-gtid", "move-gtid"], |i, t, _| Operation::MoveGtid { instance: i, target: t }),
    (&["move-replicas-gtid", "move-slaves-gtid"], |i, t, _| Operation::MoveReplicasGtid { instance: i, target: t }),
    (&["repoint"], |i, t, _| Operation::Repoint { instance: i, target: Some(t) }),
];

/// Operations on one instance.
const SINGLE: &[(&[&str], Single)] = &[
    (&["move-up"], |i, _| Operation::MoveUp { instance: i }),
    (&["move-up-replicas", "move-up-slaves"], |i, _| Operation::MoveUpReplicas { instance: i }),
    (&["repoint"], |i, _| Operation::Repoint { instance: i, target: None }),
    (&["repoint-replicas", "repoint-slaves"], |i, _| Operation::RepointReplicas { instance: i }),
    (&["take-siblings", "enslave-siblings"], |i, _| Operation::TakeSiblings { instance: i }),
    (&["take-master", "enslave-master"], |i, _| Operation::TakeMaster { instance: i }),
    (&["make-co-master"], |i, _| Operation::MakeCoMaster { instance: i }),
    (&["regroup-replicas", "regroup-slaves"], |i, _| Operation::RegroupReplicas { instance: i }),
    (&["stop-replica", "stop-slave"], |i, _| Operation::StopReplica { instance: i }),
    (&["start-replica", "start-slave"], |i, _| Operation::StartReplica { instance: i }),
    (&["restart-replica", "restart-slave"], |i, _| Operation::RestartReplica { instance: i }),
    (&["stop-replica-nice", "stop-slave-nice"], |i, _| Operation::StopReplicaNice { instance: i }),
    (&["reset-replica", "reset-slave"], |i, _| Operation::ResetReplica { instance: i }),
    (
        &["detach-replica-master-host", "detach-slave-master-host", "detach-replica", "detach-slave"],
        |i, _| Operation::DetachReplicaMasterHost { instance: i },
    ),
    (
        &["reattach-replica-master-host", "reattach-slave-master-host", "reattach-replica", "reattach-slave"],
        |i, _| Operation::ReattachReplicaMasterHost { instance: i },
    ),
    (&["skip-query"], |i, _| Operation::SkipQuery { instance: i }),
    (&["set-read-only"], |i, _| Operation::SetReadOnly { instance: i }),
    (&["set-writeable"], |i, _| Operation::SetWriteable { instance: i }),
    (&["enable-semi-sync-master"], |i, _| Operation::EnableSemiSyncMaster { instance: i }),
    (&["disable-semi-sync-master"], |i, _| Operation::DisableSemiSyncMaster { instance: i }),
    (&["enable-semi-sync-replica"], |i, _| Operation::EnableSemiSyncReplica { instance: i }),
    (&["disable-semi-sync-replica"], |i, _| Operation::DisableSemiSyncReplica { instance: i }),
    (&["flush-binary-logs"], |i, _| Operation::FlushBinaryLogs { instance: i }),
    (&["gtid-errant-inject-empty"], |i, _| Operation::GtidErrantInjectEmpty { instance: i }),
];

pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for (names, build) in WITH_TARGET {
        let build = *build;
        let handler = move |state: State<AppState>, Path((h, p, th, tp)): Path<(String, String, String, String)>, Query(q): Query<RouteQuery>| async move {
            let op = build(key_of(&h, &p)?, key_of(&th, &tp)?, &q);
            operate(state, op, q).await
        };
        for name in *names {
            router = router.route(&format!("/{name}/{{host}}/{{port}}/{{thost}}/{{tport}}"), get(handler).post(handler));
        }
    }
    for (names, build) in SINGLE {
        let build = *build;
        let handler = move |state: State<AppState>, Path((h, p)): Path<(String, String)>, Query(q): Query<RouteQuery>| async move {
            let op = build(key_of(&h, &p)?, &q);
            operate(state, op, q).await
        };
        for name in *names {
            router = router.route(&format!("/{name}/{{host}}/{{port}}"), get(handler).post(handler));
        }
    }
    let delay = |state: State<AppState>, Path((h, p, secs)): Path<(String, String, String)>, Query(q): Query<RouteQuery>| async move {
        let seconds: u32 = secs.parse().map_err(|_| ApiError::BadRequest(format!("invalid delay {secs:?} (seconds, 0 or more)")))?;
        operate(state, Operation::DelayReplication { instance: key_of(&h, &p)?, seconds }, q).await
    };
    router
        .route("/delay-replication/{host}/{port}/{seconds}", get(delay).post(delay))
        .route("/can-replicate-from/{host}/{port}/{thost}/{tport}", get(can_replicate_from))
        .route("/can-replicate-from-gtid/{host}/{port}/{thost}/{tport}", get(can_replicate_from_gtid))
        .route("/get-candidate-replica/{host}/{port}", get(candidate_replica))
}

/// The replica regroup-replicas would promote; changes nothing.
async fn candidate_replica(State(state): State<AppState>, Path((h, p)): Path<(String, String)>) -> ApiResult {
    let key = key_of(&h, &p)?;
    let view = state.discovery.instances();
    if !view.contains_key(&key) {
        return Err(ApiError::NotFound(format!("unknown instance {key}")));
    }
    let family = app::rules::tree::Family::new(view.values());
    let chosen = crate::refactor::planner::replicas::candidate(&family, &key, state.refactor.rule_settings()).map_err(ApiError::Refused)?;
    let details = view.get(&chosen).map(|i| serde_json::to_value(InstanceJson::from(i)).unwrap_or_default()).unwrap_or_default();
    Ok(Json(Envelope::ok(format!("{chosen} is the best replica of {key} to promote"), details)).into_response())
}

async fn can_replicate_from(state: State<AppState>, path: Path<(String, String, String, String)>) -> ApiResult {
    replication_check(state, path, false)
}

async fn can_replicate_from_gtid(state: State<AppState>, path: Path<(String, String, String, String)>) -> ApiResult {
    replication_check(state, path, true)
}

/// orchestrator's checks: `Message` "true" or why not; `Details.CanReplicate`, and the rule.
fn replication_check(State(state): State<AppState>, Path((h, p, th, tp)): Path<(String, String, String, String)>, gtid: bool) -> ApiResult {
    let (i, t) = (key_of(&h, &p)?, key_of(&th, &tp)?);
    let view = state.discovery.instances();
    let get = |k: &InstanceKey| view.get(k).ok_or_else(|| ApiError::NotFound(format!("unknown instance {k}")));
    let (inst, target) = (get(&i)?, get(&t)?);
    let rules = state.refactor.rule_settings();
    let verdict = if gtid { app::rules::can_replicate_from_gtid(inst, target, rules) } else { app::rules::can_replicate_from(inst, target, rules) };
    let (message, details) = match verdict {
        Ok(()) => ("true".to_string(), serde_json::json!({ "CanReplicate": true })),
        Err(r) => (r.to_string(), serde_json::json!({ "CanReplicate": false, "Rule": r.rule, "Reason": r.message })),
    };
    Ok(Json(Envelope::ok(message, details)).into_response())
}

/// `?dry_run=true|1` (also `noop`, the CLI flag's name); `?pattern=` for relocate-replicas.
#[derive(Deserialize, Default)]
pub struct RouteQuery {
    dry_run: Option<String>,
    noop: Option<String>,
    pattern: Option<String>,
}

impl RouteQuery {
    fn dry_run(&self) -> Result<bool, ApiError> {
        match self.dry_run.as_deref().or(self.noop.as_deref()) {
            None => Ok(false),
            Some("" | "1" | "true" | "yes") => Ok(true),
            Some("0" | "false" | "no") => Ok(false),
            Some(other) => Err(ApiError::BadRequest(format!("invalid dry_run value {other:?} (use true or false)"))),
        }
    }
}

/// Plans `op`; runs it unless it is a dry run.
pub async fn operate(State(state): State<AppState>, op: Operation, q: RouteQuery) -> ApiResult {
    let dry_run = q.dry_run()?;
    if !dry_run && state.settings.read_only {
        return Err(ApiError::Conflict("this node is configured read-only (ReadOnly: true)".into()));
    }
    for key in [Some(op.instance()), op.target()].into_iter().flatten() {
        if state.discovery.instance(key).is_none() {
            return Err(ApiError::NotFound(format!("unknown instance {key}")));
        }
    }
    let outcome = state.refactor.run(op.clone(), dry_run, "api").await?;
    let plan = &outcome.report.plan;
    let how = if plan.mechanism.is_empty() { String::new() } else { format!(" using {}", plan.mechanism) };
    if dry_run {
        let message = format!("Plan for {} of {}{how}: {} steps (dry run; nothing was changed)", plan.operation, op.instance(), plan.steps.len());
        return Ok(Json(Envelope::ok(message, serde_json::to_value(plan).unwrap_or_default())).into_response());
    }
    let message = match (&op, op.target()) {
        (Operation::GtidErrantInjectEmpty { .. }, _) => {
            let on = outcome.report.steps.first().map(|s| s.server.to_string()).unwrap_or_default();
            format!("gtid-errant-inject-empty: {} empty transactions injected on {on} for {}", outcome.report.steps.len(), op.instance())
        }
        (Operation::RelocateReplicas { .. } | Operation::MoveReplicasGtid { .. }, Some(t)) => {
            format!("{}: {} replicas of {} now replicate from {t}{how}", plan.operation, outcome.report.moved.len(), op.instance())
        }
        (_, Some(t)) => format!("{}: {} now replicates from {t}{how}", plan.operation, op.instance()),
        (_, None) if !outcome.report.moved.is_empty() => {
            let moved: Vec<String> = outcome.report.moved.iter().map(|m| format!("{}<{}", m.instance, m.source)).collect();
            format!("{} of {}{how}: {}", plan.operation, op.instance(), moved.join(", "))
        }
        (_, None) => format!("{} done on {}{how}", plan.operation, op.instance()),
    };
    let details = outcome.instance.as_ref().map(|i| serde_json::to_value(InstanceJson::from(i)).unwrap_or_default()).unwrap_or_default();
    let mut body = serde_json::to_value(Envelope::ok(message, details)).unwrap_or_default();
    body["Operation"] = serde_json::to_value(&outcome.report).unwrap_or_default();
    Ok(Json(body).into_response())
}
