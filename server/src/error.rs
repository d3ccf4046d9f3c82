//! `AppError`: every way an HTTP request can fail, turned into a JSON response
//! `{"error": "...", "details": [...]}` with the right status; server-side causes are
//! logged, not shown to the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::line_protocol::LineError;
use crate::store::StoreError;

/// A failed request.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed (bad JSON, unknown field, bad line protocol, bad query).
    #[error("{message}")]
    BadRequest {
        /// What is wrong.
        message: String,
        /// Each individual problem (e.g. one per bad line).
        details: Vec<Value>,
    },
    /// The request is well-formed but its content is invalid (a chart spec that fails
    /// validation); `details` holds every problem with its JSON path.
    #[error("{message}")]
    Unprocessable {
        /// Summary.
        message: String,
        /// `{"path": ..., "message": ...}` per problem.
        details: Vec<Value>,
    },
    /// No such chart or resource.
    #[error("{0}")]
    NotFound(String),
    /// Missing or wrong token on a write endpoint.
    #[error("a valid token is required: send `Authorization: Bearer <token>`")]
    Unauthorized,
    /// The body is larger than the configured limit.
    #[error("request body is larger than the limit of {0} bytes")]
    TooLarge(usize),
    /// The store failed; the client sees a generic message.
    #[error("storage error")]
    Store(#[from] StoreError),
    /// Anything else that is our fault.
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    /// A 400 with one message and no details.
    pub fn bad_request(message: impl Into<String>) -> AppError {
        AppError::BadRequest {
            message: message.into(),
            details: Vec::new(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Store(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<Vec<LineError>> for AppError {
    fn from(errors: Vec<LineError>) -> AppError {
        let message = match errors.as_slice() {
            [one] => format!("invalid line protocol: {one}"),
            [first, ..] => format!(
                "invalid line protocol in {} lines, first: {first}",
                errors.len()
            ),
            [] => "invalid line protocol".to_string(),
        };
        let details = errors
            .iter()
            .map(|e| json!({"line": e.line, "message": e.message}))
            .collect();
        AppError::BadRequest { message, details }
    }
}

impl From<render_core::ValidationErrors> for AppError {
    fn from(errors: render_core::ValidationErrors) -> AppError {
        let details = errors
            .0
            .iter()
            .map(|e| json!({"path": e.path, "message": e.message}))
            .collect();
        AppError::Unprocessable {
            message: errors.to_string(),
            details,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            AppError::Store(cause) => tracing::error!(error = %cause, "store failure"),
            AppError::Internal(cause) => tracing::error!(error = %cause, "internal failure"),
            _ => tracing::debug!(error = %self, status = status.as_u16(), "request rejected"),
        }
        let details = match self {
            AppError::BadRequest { ref details, .. }
            | AppError::Unprocessable { ref details, .. } => details.clone(),
            _ => Vec::new(),
        };
        let body = json!({"error": self.to_string(), "details": details});
        (status, Json(body)).into_response()
    }
}
