//! Data in: InfluxDB line protocol (`POST /write`, `POST /api/v2/write`, as Telegraf's
//! `influxdb` and `influxdb_v2` outputs send it) and simple JSON (`POST /api/points`).

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::access::Authorized;
use crate::api::body::read_body;
use crate::error::AppError;
use crate::ingest::line_protocol::{self, Precision};
use crate::ingest::{self, json as json_points, IngestLimits};
use crate::state::AppState;

/// Query parameters of both write endpoints (`db`, `org`, `bucket`, `rp`, `u`, `p` are
/// accepted and ignored: plotcast has one namespace).
#[derive(Debug, Deserialize)]
pub struct WriteQuery {
    precision: Option<String>,
}

/// `POST /write` and `POST /api/v2/write`: line protocol; all lines or none are stored.
pub async fn write(
    State(state): State<AppState>,
    _auth: Authorized,
    Query(query): Query<WriteQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, AppError> {
    let precision = match query.precision.as_deref() {
        None | Some("") => Precision::Nanoseconds,
        Some(text) => Precision::parse(text).ok_or_else(|| {
            AppError::bad_request(format!(
                "precision {text:?} is not one of ns, us, ms, s (or n, u, m, h)"
            ))
        })?,
    };
    let bytes = read_body(&headers, body, state.config().max_body).await?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        AppError::bad_request(format!("line {line}: the body is not UTF-8"))
    })?;
    let batch = line_protocol::parse_batch(text, precision, state.now_ms())?;
    ingest::check_batch(&batch, limits(&state))?;
    state.ingest_batch(batch).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/points`: `{"points": [{"metric": "m", "tags": {}, "t": ms, "v": 1.5}]}`.
pub async fn points(
    State(state): State<AppState>,
    _auth: Authorized,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, AppError> {
    let bytes = read_body(&headers, body, state.config().max_body).await?;
    let batch = json_points::parse_json_batch(&bytes, state.now_ms(), limits(&state))?;
    let stored = state.ingest_batch(batch).await?;
    Ok(Json(json!({ "stored": stored })))
}

fn limits(state: &AppState) -> IngestLimits {
    IngestLimits {
        max_points: state.config().max_points,
        max_name: state.config().max_name,
    }
}
