//! API errors and their HTTP statuses, in one place. The body is always orchestrator's envelope
//! (`{"Code":"ERROR","Message":...}`), but the status tells what went wrong, unlike orchestrator
//! which answered 500 to everything: 400 bad input, 404 unknown instance or cluster, 409 refused
//! by the node's state or a rule (Details names the rule), 502 a managed server did not answer
//! or an operation failed while running (Details is its report), 500 only for the node's own faults.

use crate::discovery::DiscoveryError;
use crate::refactor::RefactorError;
use app::model::ops::OperationReport;
use app::rules::Refusal;
use crate::store::StoreError;
use app::model::{Envelope, KeyError};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unreachable(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// Raft has no leader this node can reach, or could not commit.
    #[error("{0}")]
    Unavailable(String),
    /// A rule refused an operation; `Details` names the rule.
    #[error("{0}")]
    Refused(Refusal),
    /// An operation failed while running; `Details` is its report (steps, rollback).
    #[error("{} failed: {}", .0.plan.operation, .0.error)]
    OperationFailed(Box<OperationReport>),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unreachable(_) => StatusCode::BAD_GATEWAY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Refused(r) if r.rule.is_bad_input() => StatusCode::BAD_REQUEST,
            ApiError::Refused(_) => StatusCode::CONFLICT,
            ApiError::OperationFailed(_) => StatusCode::BAD_GATEWAY,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(reason) = &self {
            tracing::error!(%reason, "request failed on the node's side");
        }
        let mut envelope = Envelope::error(self.to_string());
        envelope.details = match &self {
            ApiError::Refused(r) => serde_json::to_value(r).unwrap_or_default(),
            ApiError::OperationFailed(report) => serde_json::to_value(report).unwrap_or_default(),
            _ => serde_json::Value::Null,
        };
        (self.status(), Json(envelope)).into_response()
    }
}

impl From<KeyError> for ApiError {
    fn from(e: KeyError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<crate::raft::WriteError> for ApiError {
    fn from(e: crate::raft::WriteError) -> Self {
        use crate::raft::WriteError;
        match e {
            WriteError::NotLeader { .. } | WriteError::Raft(_) => ApiError::Unavailable(e.to_string()),
            WriteError::Apply(m) => ApiError::Conflict(m),
            WriteError::Store(s) => s.into(),
        }
    }
}

impl From<DiscoveryError> for ApiError {
    fn from(e: DiscoveryError) -> Self {
        match e {
            DiscoveryError::Unreachable(m) => ApiError::Unreachable(m),
            DiscoveryError::Filtered(_) => ApiError::Conflict(e.to_string()),
            DiscoveryError::ShuttingDown => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<RefactorError> for ApiError {
    fn from(e: RefactorError) -> Self {
        match e {
            RefactorError::Refused(r) => ApiError::Refused(r),
            RefactorError::Busy { .. } => ApiError::Conflict(e.to_string()),
            RefactorError::Failed(report) => ApiError::OperationFailed(report),
            RefactorError::Store(s) => s.into(),
        }
    }
}
