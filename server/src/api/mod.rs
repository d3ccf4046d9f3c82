//! The HTTP API: the router and what its handlers share (body reading with a size limit
//! and gzip, JSON parsing with clear 400s, the write token check).

mod charts;
mod fonts;
mod influx;
mod ingest;
mod ops;
mod render;
mod series;
mod streams;

use std::io::Read;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use tower_http::trace::TraceLayer;

use crate::error::AppError;
use crate::signing::{self, SignatureError};
use crate::state::AppState;

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::editor::router(get(ops::index)))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/api/schema", get(charts::schema))
        .route("/api/charts", get(charts::list))
        .route(
            "/api/charts/{id}",
            get(charts::get).put(charts::put).delete(charts::delete),
        )
        .route("/api/charts/{id}/sign", post(charts::sign))
        .route("/write", post(ingest::write))
        .route("/api/v2/write", post(ingest::write))
        .route("/ping", get(influx::ping))
        .route("/query", get(influx::query).post(influx::query))
        .route("/api/fonts", get(fonts::list))
        .route("/api/fonts/{index}", get(fonts::get))
        .route("/api/points", post(ingest::points))
        .route("/api/series", get(series::list))
        .route("/api/series/points", get(series::points))
        .route("/api/render", post(render::render))
        .route("/charts/{file}", get(streams::chart_file))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_errors,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn count_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status().is_client_error() || response.status().is_server_error() {
        state.metrics().count_error(response.status().as_u16());
    }
    response
}

/// Reads a whole body, refusing more than `limit` bytes; a gzip `Content-Encoding` is
/// decoded (the limit applies to the decoded size too).
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, AppError> {
    let raw = axum::body::to_bytes(body, limit).await.map_err(|error| {
        let inner = error.into_inner();
        if inner
            .downcast_ref::<http_body_util::LengthLimitError>()
            .is_some()
        {
            AppError::TooLarge(limit)
        } else {
            AppError::bad_request(format!("reading the request body failed: {inner}"))
        }
    })?;
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity");
    match encoding.trim().to_ascii_lowercase().as_str() {
        "" | "identity" => Ok(raw),
        "gzip" | "x-gzip" => {
            let mut decoded = Vec::new();
            let mut reader = flate2::read::MultiGzDecoder::new(&raw[..]).take(limit as u64 + 1);
            reader.read_to_end(&mut decoded).map_err(|e| {
                AppError::bad_request(format!("the gzip body could not be decoded: {e}"))
            })?;
            if decoded.len() > limit {
                return Err(AppError::TooLarge(limit));
            }
            Ok(Bytes::from(decoded))
        }
        other => Err(AppError::bad_request(format!(
            "Content-Encoding {other:?} is not supported (use gzip)"
        ))),
    }
}

/// Parses JSON, turning serde's message (with line and column) into a 400.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, AppError> {
    serde_json::from_slice(bytes).map_err(|e| AppError::bad_request(format!("invalid {what}: {e}")))
}

/// Whether the request carries `token`: `Authorization: Bearer T`, `Authorization:
/// Token T` (InfluxDB 2 clients), HTTP basic auth with password T, or the `p=T` query
/// parameter (InfluxDB 1 clients). Compared in constant time.
pub fn carries_token(parts: &Parts, token: &str) -> bool {
    let header = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (scheme, credential) = header.split_once(' ').unwrap_or(("", ""));
    let from_header = match scheme.to_ascii_lowercase().as_str() {
        "bearer" | "token" => Some(credential.trim().to_string()),
        "basic" => base64::engine::general_purpose::STANDARD
            .decode(credential.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|pair| {
                pair.split_once(':')
                    .map(|(_, password)| password.to_string())
            }),
        _ => None,
    };
    let from_query = query_value(parts, "p");
    let matches = |given: &Option<String>| {
        given
            .as_deref()
            .is_some_and(|g| signing::token_matches(g, token))
    };
    // Both are checked (no early exit), so timing does not tell which one was tried.
    matches(&from_header) | matches(&from_query)
}

/// The first value of query parameter `name`.
pub fn query_value(parts: &Parts, name: &str) -> Option<String> {
    parts.uri.query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    })
}

/// Proof that a write request carries the configured token (or that none is set); see
/// [`carries_token`] for the accepted forms.
pub struct Authorized;

impl FromRequestParts<AppState> for Authorized {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match state.config().token.as_deref() {
            None => Ok(Authorized),
            Some(token) if carries_token(parts, token) => Ok(Authorized),
            Some(_) => Err(AppError::Unauthorized),
        }
    }
}

/// What a viewer presented: the token, or a signed URL's `exp` and `sig`.
pub struct ViewerCredentials {
    token: bool,
    exp: Option<String>,
    sig: Option<String>,
}

impl ViewerCredentials {
    /// Checks that these credentials may view chart `id` (`private` or not).
    pub fn check(&self, state: &AppState, id: &str, private: bool) -> Result<(), AppError> {
        if !private || self.token {
            return Ok(());
        }
        let secret = state.config().signing_secret().ok_or_else(|| {
            AppError::Forbidden(SignatureError::NoSecret(id.to_string()).to_string())
        })?;
        let now = state.now_ms().div_euclid(1000);
        signing::verify(secret, id, self.exp.as_deref(), self.sig.as_deref(), now)
            .map_err(|e| AppError::Forbidden(e.to_string()))
    }
}

impl FromRequestParts<AppState> for ViewerCredentials {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ViewerCredentials {
            token: state
                .config()
                .token
                .as_deref()
                .is_some_and(|token| carries_token(parts, token)),
            exp: query_value(parts, "exp"),
            sig: query_value(parts, "sig"),
        })
    }
}
