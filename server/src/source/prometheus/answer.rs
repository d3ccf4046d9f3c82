//! A `query_range` answer: Prometheus' JSON turned into render-core series (labels as
//! tags, the query as the metric), with a gap where a step has no sample, so a series
//! that went stale ends instead of being drawn on as a flat line.

use std::collections::BTreeMap;

use render_core::{Point, Series};
use serde::Deserialize;

/// Prometheus' reply, success or error.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Reply {
    status: String,
    #[serde(default)]
    data: Option<Matrix>,
    #[serde(default)]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Matrix {
    result_type: String,
    result: Vec<RangeSeries>,
}

#[derive(Debug, Deserialize)]
struct RangeSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// What Prometheus said is wrong with a query: its `errorType` and `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// E.g. `bad_data`, `execution`, `timeout`.
    pub kind: String,
    /// Prometheus' message, e.g. `1:4: parse error: unexpected <by>`.
    pub message: String,
}

impl Reply {
    /// The series of a successful answer of `query` of source `source` over
    /// `start..=end` at `step` (all ms), or Prometheus' refusal.
    pub(super) fn into_series(
        self,
        source: &str,
        query: &str,
        (start, end, step): (i64, i64, i64),
    ) -> Result<Vec<Series>, Refusal> {
        if self.status != "success" {
            return Err(Refusal {
                kind: self.error_type.unwrap_or_else(|| "error".into()),
                message: self.error.unwrap_or_else(|| "no message".into()),
            });
        }
        let matrix = self.data.ok_or_else(|| Refusal {
            kind: "bad_response".into(),
            message: "a successful answer without data".into(),
        })?;
        if matrix.result_type != "matrix" {
            return Err(Refusal {
                kind: "bad_response".into(),
                message: format!("a range query answered a {}", matrix.result_type),
            });
        }
        Ok(matrix
            .result
            .into_iter()
            .map(|series| Series {
                metric: query.to_string(),
                source: Some(source.to_string()),
                tags: series.metric,
                points: with_gaps(&series.values, start, end, step),
            })
            .collect())
    }
}

/// The samples as points, with a NaN at the first step of each run of steps without a
/// sample (after the first sample, up to `end`).
fn with_gaps(values: &[(f64, String)], start: i64, end: i64, step: i64) -> Vec<Point> {
    let mut points = Vec::with_capacity(values.len() + 1);
    let mut expected: Option<i64> = None;
    for (seconds, value) in values {
        let t = (seconds * 1000.0).round() as i64;
        if expected.is_some_and(|e| t > e) {
            points.push(Point {
                t: expected.unwrap_or(t),
                v: f64::NAN,
            });
        }
        let v = value.parse::<f64>().unwrap_or(f64::NAN);
        points.push(Point { t, v });
        expected = Some(t.saturating_add(step));
    }
    if let Some(next) = expected.filter(|next| *next <= end && *next > start) {
        points.push(Point {
            t: next,
            v: f64::NAN,
        });
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(json: &str) -> Reply {
        serde_json::from_str(json).expect("a reply")
    }

    #[test]
    fn a_missing_step_is_a_gap_and_a_stale_series_ends() {
        let json = r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"mode":"idle"},"values":[[10,"1"],[11,"2"],[14,"3"],[15,"NaN"]]}]}}"#;
        let series = reply(json)
            .into_series("prom", "q", (10_000, 20_000, 1_000))
            .expect("success");
        assert_eq!(series.len(), 1);
        assert_eq!(series[0].source.as_deref(), Some("prom"));
        assert_eq!(series[0].metric, "q");
        assert_eq!(series[0].tags["mode"], "idle");
        let shown: Vec<(i64, Option<f64>)> = series[0]
            .points
            .iter()
            .map(|p| (p.t, p.v.is_finite().then_some(p.v)))
            .collect();
        assert_eq!(
            shown,
            [
                (10_000, Some(1.0)),
                (11_000, Some(2.0)),
                (12_000, None),
                (14_000, Some(3.0)),
                (15_000, None),
                (16_000, None),
            ]
        );
    }

    #[test]
    fn a_refusal_keeps_prometheus_message() {
        let json = r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected <by>"}"#;
        let refusal = reply(json)
            .into_series("prom", "q", (0, 0, 1))
            .expect_err("refused");
        assert_eq!(refusal.kind, "bad_data");
        assert_eq!(refusal.message, "1:5: parse error: unexpected <by>");
    }
}
