//! Series discovery and queries: `GET /api/series` (names, tags, last value),
//! `GET /api/series/points?metric=..&tag.KEY=VALUE&from=..&to=..&step=..&then=..` or
//! `?source=..&query=..&from=..&to=..&step=..` (render-core `Data` JSON).

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::Json;
use render_core::{Data, ReadStretch};
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
/// point); each `then=FROM:STEP` (later than `from` and the `then` before it) reads
/// from `FROM` on at `STEP` instead — the stretches of a chart's read plan
/// (`ValidSpec::read_plan`), so the editor's preview asks what the stream reads. A
/// step written `STEP:values` reads values only (`ReadStretch::values_only`: one
/// point per `STEP`-wide column, the last of its rollup buckets' last points). A
/// `source` and a PromQL `query` instead of `metric` ask that source, at the step a
/// chart of that step and range asks (the stream's answer while one is live). Read
/// through the same source as the streams.
pub async fn points(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Data>, AppError> {
    let mut metric = None;
    let (mut source, mut promql) = (None, None);
    let mut tags = BTreeMap::new();
    let now = state.now_ms();
    let (mut from, mut to) = (now - 3_600_000, now);
    let mut step = String::from("1");
    let mut then: Vec<ReadStretch> = Vec::new();
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
            "step" => step = value.into_owned(),
            "then" => {
                let stretch = value.split_once(':').and_then(|(start, step)| {
                    ReadStretch::with_step_param(start.parse().ok()?, step)
                });
                then.push(stretch.ok_or_else(|| {
                    AppError::bad_request(format!(
                        "then={value:?} is not FROM:STEP or FROM:STEP:values (ms since the epoch, positive ms)"
                    ))
                })?);
            }
            other => match other.strip_prefix("tag.") {
                Some(tag) if !tag.is_empty() => {
                    tags.insert(tag.to_string(), value.into_owned());
                }
                _ => {
                    return Err(AppError::bad_request(format!(
                        "unknown query parameter {other:?} (use metric, tag.KEY, source, query, from, to, step, then)"
                    )))
                }
            },
        }
    }
    let first = ReadStretch::with_step_param(from, &step).ok_or_else(|| {
        AppError::bad_request(format!(
            "step={step:?} is not a positive number of ms (optionally with :values)"
        ))
    })?;
    let mut stretches = vec![first];
    for stretch in then {
        if stretches
            .last()
            .is_some_and(|last| stretch.from <= last.from)
        {
            return Err(AppError::bad_request(format!(
                "then={}:{} does not start after the stretch before it",
                stretch.from, stretch.resolution_ms
            )));
        }
        stretches.push(stretch);
    }
    if stretches.last().is_some_and(|last| last.from > to) {
        return Err(AppError::bad_request(format!(
            "from {} is after to {to}",
            stretches.last().map_or(from, |last| last.from)
        )));
    }
    let selectors = match (metric, source, promql) {
        (Some(metric), None, None) => Selectors {
            series: vec![Selector { metric, tags }],
            promql: Vec::new(),
        },
        (None, Some(source), Some(query)) if tags.is_empty() && stretches.len() == 1 => {
            if !state.prometheus().configs().any(|c| c.name == source) {
                return Err(AppError::bad_request(format!(
                    "source={source:?} is not a configured source (GET /api/sources)"
                )));
            }
            Selectors {
                series: Vec::new(),
                promql: vec![Promql::new(
                    &source,
                    &query,
                    first.resolution_ms,
                    to - from,
                    None,
                )],
            }
        }
        _ => {
            return Err(AppError::bad_request(
                "ask for a metric (with tag.KEY filters and then=FROM:STEP stretches) or a source and a query",
            ))
        }
    };
    Ok(Json(state.read(selectors, stretches, to).await?))
}
