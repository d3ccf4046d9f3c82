//! Series discovery and queries: `GET /api/series` (names, tags, last value),
//! `GET /api/series/points?metric=..&tag.KEY=VALUE&from=..&to=..` or
//! `?source=..&query=..&from=..&to=..&step=..` (render-core `Data` JSON).

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::Json;
use render_core::Data;
use serde_json::{json, Value};

use crate::error::AppError;
use crate::source::{Promql, Selector, Selectors};
use crate::state::AppState;

/// `GET /api/series`.
pub async fn list(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "series": state.series() }))
}

/// `GET /api/series/points`: `from`/`to` are ms since the epoch (default: the last
/// hour), `step` the time per pixel column the chart draws at (default 1 ms: every
/// point). A `source` and a PromQL `query` instead of `metric` ask that source, at the
/// step a chart of that step and range asks (the stream's answer while one is live).
/// Read through the same source as the streams.
pub async fn points(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Data>, AppError> {
    let mut metric = None;
    let (mut source, mut promql) = (None, None);
    let mut tags = BTreeMap::new();
    let now = state.now_ms();
    let (mut from, mut to) = (now - 3_600_000, now);
    let mut step = 1;
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let time = |v: &str| {
            v.parse::<i64>().map_err(|_| {
                AppError::bad_request(format!("{key}={v:?} is not ms since the epoch"))
            })
        };
        match key.as_ref() {
            "metric" => metric = Some(value.into_owned()),
            "source" => source = Some(value.into_owned()),
            "query" => promql = Some(value.into_owned()),
            "from" => from = time(&value)?,
            "to" => to = time(&value)?,
            "step" => {
                step = value
                    .parse::<i64>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| {
                        AppError::bad_request(format!(
                            "step={value:?} is not a positive number of ms"
                        ))
                    })?
            }
            other => match other.strip_prefix("tag.") {
                Some(tag) if !tag.is_empty() => {
                    tags.insert(tag.to_string(), value.into_owned());
                }
                _ => {
                    return Err(AppError::bad_request(format!(
                        "unknown query parameter {other:?} (use metric, tag.KEY, source, query, from, to, step)"
                    )))
                }
            },
        }
    }
    if from > to {
        return Err(AppError::bad_request(format!(
            "from {from} is after to {to}"
        )));
    }
    let selectors = match (metric, source, promql) {
        (Some(metric), None, None) => Selectors {
            series: vec![Selector { metric, tags }],
            promql: Vec::new(),
        },
        (None, Some(source), Some(query)) if tags.is_empty() => {
            if !state.prometheus().configs().any(|c| c.name == source) {
                return Err(AppError::bad_request(format!(
                    "source={source:?} is not a configured source (GET /api/sources)"
                )));
            }
            Selectors {
                series: Vec::new(),
                promql: vec![Promql::new(&source, &query, step, to - from, None)],
            }
        }
        _ => {
            return Err(AppError::bad_request(
                "ask for a metric (with tag.KEY filters) or a source and a query",
            ))
        }
    };
    Ok(Json(state.read(selectors, from, to, step).await?))
}
