//! Series discovery and queries: `GET /api/series` (names, tags, last value) and
//! `GET /api/series/points?metric=..&tag.KEY=VALUE&from=..&to=..` (render-core `Data` JSON).

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::Json;
use render_core::Data;
use serde_json::{json, Value};

use crate::error::AppError;
use crate::state::AppState;
use crate::stream::render::now_ms;

/// `GET /api/series`.
pub async fn list(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "series": state.cache.list() }))
}

/// `GET /api/series/points`: `from`/`to` are ms since the epoch (default: the last hour).
pub async fn points(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Data>, AppError> {
    let mut metric = None;
    let mut tags = BTreeMap::new();
    let now = now_ms();
    let (mut from, mut to) = (now - 3_600_000, now);
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let time = |v: &str| {
            v.parse::<i64>().map_err(|_| {
                AppError::bad_request(format!("{key}={v:?} is not ms since the epoch"))
            })
        };
        match key.as_ref() {
            "metric" => metric = Some(value.into_owned()),
            "from" => from = time(&value)?,
            "to" => to = time(&value)?,
            other => match other.strip_prefix("tag.") {
                Some(tag) if !tag.is_empty() => {
                    tags.insert(tag.to_string(), value.into_owned());
                }
                _ => {
                    return Err(AppError::bad_request(format!(
                        "unknown query parameter {other:?} (use metric, tag.KEY, from, to)"
                    )))
                }
            },
        }
    }
    let metric =
        metric.ok_or_else(|| AppError::bad_request("the metric query parameter is required"))?;
    if from > to {
        return Err(AppError::bad_request(format!(
            "from {from} is after to {to}"
        )));
    }
    let series = state
        .blocking(move |store| store.query(Some(&metric), &tags, from, to))
        .await?;
    Ok(Json(Data { series }))
}
