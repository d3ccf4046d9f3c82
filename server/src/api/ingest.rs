//! Data in: InfluxDB line protocol (`POST /write`, `POST /api/v2/write`, as Telegraf's
//! `influxdb` and `influxdb_v2` outputs send it), simple JSON (`POST /api/points`) and
//! Prometheus remote_write 1.0 (`POST /api/v1/write`).

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::access::Authorized;
use crate::api::body::{read_body, read_raw};
use crate::error::AppError;
use crate::ingest::line_protocol::{self, Precision};
use crate::ingest::remote_write::parse_remote_write;
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

/// `POST /api/v1/write`: Prometheus remote_write 1.0 (snappy-compressed protobuf
/// `WriteRequest`); all series or none are stored, and the answer (200) comes after the
/// commit: `{"stored": samples, "skipped": {"histograms": n, "exemplars": n}}`.
/// `max_body` limits the body as sent and as decoded.
pub async fn remote_write(
    State(state): State<AppState>,
    _auth: Authorized,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, AppError> {
    check_remote_write_headers(&headers)?;
    let max_body = state.config().max_body;
    let bytes = read_raw(body, max_body).await?;
    let write = parse_remote_write(&bytes, max_body, limits(&state))?;
    let stored = state.ingest_batch(write.batch).await?;
    Ok(Json(json!({
        "stored": stored,
        "skipped": {"histograms": write.histograms, "exemplars": write.exemplars},
    })))
}

/// Refuses (415) a body that is not snappy, or is typed as anything but remote_write
/// 1.0's protobuf (`application/x-protobuf`, `proto=prometheus.WriteRequest` if named):
/// a remote_write 2.0 sender is told to send 1.0.
fn check_remote_write_headers(headers: &HeaderMap) -> Result<(), AppError> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    match text(header::CONTENT_ENCODING) {
        Some(encoding) if encoding.eq_ignore_ascii_case("snappy") => {}
        other => {
            return Err(AppError::UnsupportedMediaType(format!(
                "remote_write bodies are snappy-compressed (block format): send \
                 Content-Encoding: snappy, not {:?}",
                other.unwrap_or("")
            )))
        }
    }
    let Some(content_type) = text(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let mut parts = content_type.split(';').map(str::trim);
    let media = parts.next().unwrap_or("");
    let proto = parts.find_map(|p| p.strip_prefix("proto="));
    let is_v1 = media.eq_ignore_ascii_case("application/x-protobuf")
        && proto.is_none_or(|p| p == "prometheus.WriteRequest");
    if is_v1 {
        Ok(())
    } else {
        Err(AppError::UnsupportedMediaType(format!(
            "Content-Type {content_type:?} is not remote_write 1.0: plotcast reads \
             application/x-protobuf (prometheus.WriteRequest); set the sender to remote_write \
             1.0 (Prometheus: protobuf_message: prometheus.WriteRequest)"
        )))
    }
}

fn limits(state: &AppState) -> IngestLimits {
    IngestLimits {
        max_points: state.config().max_points,
        max_name: state.config().max_name,
    }
}
