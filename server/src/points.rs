//! Parsing and validating write payloads into samples, with the ingest limits:
//! the JSON points body of `POST /api/points`, and the checks every write passes
//! (points per request, name lengths). Pure functions, so the fuzz targets call them.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::error::AppError;
use crate::line_protocol::Sample;

/// Limits applied to every write.
#[derive(Debug, Clone, Copy)]
pub struct IngestLimits {
    /// Most samples per request (`max_points`).
    pub max_points: usize,
    /// Longest metric name, tag key or tag value in characters (`max_name`).
    pub max_name: usize,
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

/// Parses `{"points": [{"metric": "m", "tags": {}, "t": ms, "v": 1.5}]}` into samples
/// (missing `t` is `now_ms`, `null` `v` a gap) and checks them against `limits`. Every
/// invalid point is reported with its JSON path; nothing is returned unless all pass.
pub fn parse_json_points(
    bytes: &[u8],
    now_ms: i64,
    limits: IngestLimits,
) -> Result<Vec<Sample>, AppError> {
    let body: PointsBody = crate::api::parse_json(bytes, "points JSON")?;
    check_count(body.points.len(), limits)?;
    let mut details = Vec::new();
    let mut samples = Vec::with_capacity(body.points.len());
    for (i, point) in body.points.into_iter().enumerate() {
        if point.metric.is_empty() {
            details.push(json!({"path": format!("points[{i}].metric"), "message": "is empty"}));
        } else if let Some(name) = too_long(&point.metric, &point.tags, limits.max_name) {
            details.push(json!({"path": format!("points[{i}]"), "message": format!("{name} is longer than {} characters (max_name)", limits.max_name)}));
        }
        samples.push(Sample {
            metric: point.metric,
            tags: point.tags,
            t: point.t.unwrap_or(now_ms),
            v: point.v.unwrap_or(f64::NAN),
        });
    }
    if !details.is_empty() {
        return Err(AppError::BadRequest {
            message: format!("{} invalid points; nothing stored", details.len()),
            details,
        });
    }
    Ok(samples)
}

/// Checks parsed samples (from line protocol) against `limits`.
pub fn check_samples(samples: &[Sample], limits: IngestLimits) -> Result<(), AppError> {
    check_count(samples.len(), limits)?;
    let first = samples
        .iter()
        .find_map(|s| too_long(&s.metric, &s.tags, limits.max_name));
    match first {
        Some(name) => Err(AppError::limit(
            StatusCode::BAD_REQUEST,
            "max_name",
            format!(
                "{name} is longer than {} characters (max_name); nothing stored",
                limits.max_name
            ),
        )),
        None => Ok(()),
    }
}

fn check_count(count: usize, limits: IngestLimits) -> Result<(), AppError> {
    if count > limits.max_points {
        return Err(AppError::limit(
            StatusCode::PAYLOAD_TOO_LARGE,
            "max_points",
            format!(
                "the request carries {count} points, more than the limit of {} per request (max_points); nothing stored",
                limits.max_points
            ),
        ));
    }
    Ok(())
}

/// Describes the first name longer than `max` characters, if any.
fn too_long(metric: &str, tags: &BTreeMap<String, String>, max: usize) -> Option<String> {
    let long = |s: &str| s.chars().count() > max;
    let clip = |s: &str| s.chars().take(40).collect::<String>();
    if long(metric) {
        return Some(format!("metric name {:?}…", clip(metric)));
    }
    tags.iter().find_map(|(k, v)| {
        if long(k) {
            Some(format!("tag key {:?}…", clip(k)))
        } else if long(v) {
            Some(format!("value of tag {:?}", clip(k)))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: IngestLimits = IngestLimits {
        max_points: 2,
        max_name: 5,
    };

    #[test]
    fn json_points_are_parsed_and_limited() {
        let ok = parse_json_points(
            br#"{"points":[{"metric":"m","v":1},{"metric":"n","t":5,"v":null}]}"#,
            9,
            LIMITS,
        );
        let ok = ok.map(|s| s.iter().map(|s| (s.t, s.v.is_nan())).collect::<Vec<_>>());
        assert_eq!(ok.ok(), Some(vec![(9, false), (5, true)]));
        let three = br#"{"points":[{"metric":"m"},{"metric":"m"},{"metric":"m"}]}"#;
        assert!(parse_json_points(three, 0, LIMITS)
            .is_err_and(|e| e.to_string().contains("max_points")));
        let long = br#"{"points":[{"metric":"m","tags":{"k":"toolong"}}]}"#;
        assert!(parse_json_points(long, 0, LIMITS).is_err());
        let sample = Sample {
            metric: "metric".into(),
            tags: BTreeMap::new(),
            t: 0,
            v: 0.0,
        };
        assert!(check_samples(&[sample], LIMITS).is_err_and(|e| e.to_string().contains("max_name")));
    }
}
