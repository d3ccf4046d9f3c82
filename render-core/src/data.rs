//! The data a chart is drawn from: series (metric + tags) of `(timestamp, value)` points.
//!
//! The caller (server or editor) hands over every series whose metric a spec names;
//! render-core itself matches the tag filters, so both targets pick the same series.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::spec::SeriesSpec;

/// Milliseconds since the Unix epoch, UTC.
pub type Timestamp = i64;

/// One sample. `v` may be NaN or ±Inf: it is drawn as a gap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Time in ms since the epoch.
    pub t: Timestamp,
    /// Value.
    pub v: f64,
}

/// One series: a metric name, its tags and its points (any order; sorted when drawn).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Series {
    /// Metric name.
    pub metric: String,
    /// Tags that identify this series among others of the same metric.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Points as `[t_ms, value]` pairs; `null` values are gaps.
    #[serde(with = "point_pairs")]
    pub points: Vec<Point>,
}

/// All the series a render may use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Data {
    /// The series.
    #[serde(default)]
    pub series: Vec<Series>,
}

impl Data {
    /// Parses data JSON: `{"series": [{"metric": "m", "tags": {..}, "points": [[t, v], ..]}]}`.
    pub fn from_json(json: &str) -> Result<Data, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The series a query selects: same metric, and every filter tag present and equal.
    pub fn matching<'a>(&'a self, query: &'a SeriesSpec) -> impl Iterator<Item = &'a Series> {
        self.series.iter().filter(move |series| {
            series.metric == query.metric
                && query
                    .tags
                    .iter()
                    .all(|(key, value)| series.tags.get(key) == Some(value))
        })
    }

    /// The latest timestamp of any point, if there is one.
    pub fn latest_timestamp(&self) -> Option<Timestamp> {
        self.series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.t))
            .max()
    }
}

impl Series {
    /// The latest point by timestamp whose value is finite.
    pub fn latest(&self) -> Option<Point> {
        self.points
            .iter()
            .copied()
            .filter(|p| p.v.is_finite())
            .max_by_key(|p| p.t)
    }
}

mod point_pairs {
    //! `Vec<Point>` as JSON `[[t, v], ...]`, with `null` standing for a missing value.

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Point;

    pub fn serialize<S: Serializer>(points: &[Point], serializer: S) -> Result<S::Ok, S::Error> {
        let pairs: Vec<(i64, Option<f64>)> = points
            .iter()
            .map(|p| (p.t, p.v.is_finite().then_some(p.v)))
            .collect();
        pairs.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Point>, D::Error> {
        let pairs = Vec::<(i64, Option<f64>)>::deserialize(deserializer)?;
        Ok(pairs
            .into_iter()
            .map(|(t, v)| Point {
                t,
                v: v.unwrap_or(f64::NAN),
            })
            .collect())
    }
}
