//! `AppError`: every way an HTTP request can fail, turned into a JSON response
//! `{"error": "...", "details": [...]}` with the right status; server-side causes are
//! logged, not shown to the client.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::ingest::IngestError;
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
    /// The body's `Content-Type` or `Content-Encoding` is not one the endpoint reads.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body is larger than the configured limit.
    #[error("request body is larger than the limit of {0} bytes (max_body)")]
    TooLarge(usize),
    /// A configured limit refused the request; the body names it in `limit`.
    #[error("{message}")]
    Limit {
        /// Response status (413, 422, 503, ...).
        status: StatusCode,
        /// The option that sets the limit (`max_points`, `max_viewers`, ...).
        limit: &'static str,
        /// What happened, with the limit's value.
        message: String,
        /// Seconds for a `Retry-After` header.
        retry_after: Option<u32>,
    },
    /// The request may not see this resource (private chart without a valid signature).
    #[error("{0}")]
    Forbidden(String),
    /// The store failed; the client sees a generic message (or, when the data directory
    /// cannot be written, a 503 saying so).
    #[error("{}", store_message(.0))]
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

    /// A refusal by the configured limit `limit`.
    pub fn limit(status: StatusCode, limit: &'static str, message: impl Into<String>) -> AppError {
        AppError::Limit {
            status,
            limit,
            message: message.into(),
            retry_after: None,
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            AppError::Limit { status, .. } => *status,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Store(StoreError::SeriesLimit { .. }) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Store(error) if error.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Store(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

fn store_message(error: &StoreError) -> String {
    match error {
        StoreError::SeriesLimit { .. } => error.to_string(),
        _ if error.is_unavailable() => "storage unavailable: the data directory cannot be written \
             (read-only, full or locked); nothing was stored. Streams keep running; retry later"
            .to_string(),
        _ => "storage error".to_string(),
    }
}

impl From<IngestError> for AppError {
    fn from(error: IngestError) -> AppError {
        let message = error.to_string();
        match error {
            IngestError::Json(_) | IngestError::Snappy(_) | IngestError::Protobuf(_) => {
                AppError::bad_request(message)
            }
            IngestError::Points(points) | IngestError::Series(points) => AppError::BadRequest {
                message,
                details: points
                    .iter()
                    .map(|p| json!({"path": p.path, "message": p.message}))
                    .collect(),
            },
            IngestError::Lines(lines) => {
                let details = lines
                    .iter()
                    .map(|e| json!({"line": e.line, "message": e.message}));
                AppError::BadRequest {
                    message,
                    details: details.collect(),
                }
            }
            IngestError::TooManyPoints { .. } => {
                AppError::limit(StatusCode::PAYLOAD_TOO_LARGE, "max_points", message)
            }
            IngestError::DecodedTooLarge { .. } => {
                AppError::limit(StatusCode::PAYLOAD_TOO_LARGE, "max_body", message)
            }
            IngestError::NameTooLong { .. } => {
                AppError::limit(StatusCode::BAD_REQUEST, "max_name", message)
            }
        }
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
            AppError::Store(StoreError::SeriesLimit { .. }) => {
                tracing::debug!(error = %self, "write refused by max_series")
            }
            AppError::Store(cause) => tracing::error!(error = %cause, "store failure"),
            AppError::Internal(cause) => tracing::error!(error = %cause, "internal failure"),
            _ => tracing::debug!(error = %self, status = status.as_u16(), "request rejected"),
        }
        let details = match self {
            AppError::BadRequest { ref details, .. }
            | AppError::Unprocessable { ref details, .. } => details.clone(),
            _ => Vec::new(),
        };
        let mut body = json!({"error": self.to_string(), "details": details});
        let mut retry = None;
        match &self {
            AppError::Limit {
                limit, retry_after, ..
            } => {
                body["limit"] = json!(limit);
                retry = *retry_after;
            }
            AppError::TooLarge(_) => body["limit"] = json!("max_body"),
            AppError::Store(StoreError::SeriesLimit { .. }) => body["limit"] = json!("max_series"),
            AppError::Store(error) if error.is_unavailable() => retry = Some(5),
            _ => {}
        }
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = retry {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    }
}
