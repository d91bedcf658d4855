//! `/api/sql/:host/:port?q=<statement>` (GET or POST; a POST may send the statement as its body
//! instead): runs one read-only statement on a known instance as the topology user and answers
//! `{Instance, Statement, Columns, Rows, Truncated, ElapsedMillis}`. A statement that could
//! write is refused with 400 and the reason, before anything is sent to the server.

use super::api::key_of;
use super::error::ApiError;
use super::AppState;
use crate::sql::classify::classify;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/sql/{host}/{port}", get(sql).post(sql))
}

#[derive(Deserialize)]
struct SqlQuery {
    q: Option<String>,
}

async fn sql(State(state): State<AppState>, Path((host, port)): Path<(String, String)>, Query(query): Query<SqlQuery>, body: String) -> Result<Response, ApiError> {
    let key = key_of(&host, &port)?;
    let text = query.q.filter(|q| !q.trim().is_empty()).unwrap_or(body);
    if text.trim().is_empty() {
        return Err(ApiError::BadRequest("missing statement: give ?q=<SELECT|SHOW|EXPLAIN|DESCRIBE ...>".into()));
    }
    let statement = classify(&text).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    // Only servers this node manages: the node is not a proxy to anything its credentials open.
    let key = state.discovery.resolve_known(&key).ok_or_else(|| ApiError::NotFound(format!("unknown instance {key}")))?;
    match state.sql.run(&key, &statement).await {
        Ok(answer) => Ok(Json(answer).into_response()),
        Err(e) if e.is_unreachable() => Err(ApiError::Unreachable(e.to_string())),
        Err(e) => Err(ApiError::BadRequest(e.to_string())),
    }
}
