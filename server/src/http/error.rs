//! API errors and their HTTP statuses, in one place. The body is always orchestrator's envelope
//! (`{"Code":"ERROR","Message":...}`), but the status tells what went wrong, unlike orchestrator
//! which answered 500 to everything: 400 bad input, 404 unknown instance or cluster, 409 refused
//! by the node's state, 502 a managed server did not answer, 500 only for the node's own faults.

use crate::discovery::DiscoveryError;
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
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unreachable(_) => StatusCode::BAD_GATEWAY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(reason) = &self {
            tracing::error!(%reason, "request failed on the node's side");
        }
        (self.status(), Json(Envelope::error(self.to_string()))).into_response()
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

impl From<DiscoveryError> for ApiError {
    fn from(e: DiscoveryError) -> Self {
        match e {
            DiscoveryError::Unreachable(m) => ApiError::Unreachable(m),
            DiscoveryError::Filtered(_) => ApiError::Conflict(e.to_string()),
            DiscoveryError::ShuttingDown => ApiError::Internal(e.to_string()),
        }
    }
}
