//! Data in: InfluxDB line protocol (`POST /write`, `POST /api/v2/write`, as Telegraf's
//! `influxdb` and `influxdb_v2` outputs send it) and simple JSON (`POST /api/points`).

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::{parse_json, read_body, Authorized};
use crate::error::AppError;
use crate::line_protocol::{self, Precision, Sample};
use crate::state::AppState;
use crate::stream::render::now_ms;

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
    let bytes = read_body(&headers, body, state.config.max_body).await?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        AppError::bad_request(format!("line {line}: the body is not UTF-8"))
    })?;
    let samples = line_protocol::parse(text, precision, now_ms())?;
    state.ingest(samples).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/points` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PointsBody {
    points: Vec<JsonPoint>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonPoint {
    metric: String,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    /// ms since the epoch; default now.
    t: Option<i64>,
    /// `null` records a gap.
    v: Option<f64>,
}

/// Longest metric name, tag key or tag value.
const MAX_NAME: usize = 200;

/// `POST /api/points`: `{"points": [{"metric": "m", "tags": {}, "t": ms, "v": 1.5}]}`.
pub async fn points(
    State(state): State<AppState>,
    _auth: Authorized,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, AppError> {
    let bytes = read_body(&headers, body, state.config.max_body).await?;
    let body: PointsBody = parse_json(&bytes, "points JSON")?;
    let now = now_ms();
    let mut details = Vec::new();
    let mut samples = Vec::with_capacity(body.points.len());
    for (i, point) in body.points.into_iter().enumerate() {
        let too_long = std::iter::once(&point.metric)
            .chain(point.tags.keys())
            .chain(point.tags.values())
            .any(|s| s.chars().count() > MAX_NAME);
        if point.metric.is_empty() {
            details.push(json!({"path": format!("points[{i}].metric"), "message": "is empty"}));
        } else if too_long {
            details.push(json!({"path": format!("points[{i}]"), "message": format!("a name is longer than {MAX_NAME} characters")}));
        }
        samples.push(Sample {
            metric: point.metric,
            tags: point.tags,
            t: point.t.unwrap_or(now),
            v: point.v.unwrap_or(f64::NAN),
        });
    }
    if !details.is_empty() {
        return Err(AppError::BadRequest {
            message: format!("{} invalid points; nothing stored", details.len()),
            details,
        });
    }
    let stored = state.ingest(samples).await?;
    Ok(Json(json!({ "stored": stored })))
}
