//! The data a chart is drawn from: series (metric + tags) of `(timestamp, value)` points.
//!
//! The caller (server or editor) hands over every series whose metric a spec names;
//! render-core itself matches the tag filters, so both targets pick the same series.
//! A series of a PromQL query's result carries the source's name and the query as its
//! metric. A source that could not be asked is a [`SourceNote`], drawn on the chart.

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
    /// Metric name; for a series of a PromQL query's result, the query.
    pub metric: String,
    /// The configured source whose query this series answers; `None`: the built-in
    /// store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
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
    /// Sources that did not answer (drawn as a note on the chart).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<SourceNote>,
}

/// A source that failed to answer: the chart keeps drawing what it last got and says
/// since when that is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceNote {
    /// The source's name.
    pub source: String,
    /// What is wrong, e.g. `unreachable`.
    pub problem: String,
    /// Since when, ms since the epoch (written in the chart's time zone).
    pub since_ms: Timestamp,
}

impl Data {
    /// Parses data JSON: `{"series": [{"metric": "m", "tags": {..}, "points": [[t, v], ..]}]}`.
    pub fn from_json(json: &str) -> Result<Data, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The series a query selects: same metric (or same source and PromQL query), and
    /// every filter tag present and equal.
    pub fn matching<'a>(&'a self, query: &'a SeriesSpec) -> impl Iterator<Item = &'a Series> {
        let metric = query.query.as_deref().unwrap_or(&query.metric);
        self.series.iter().filter(move |series| {
            series.metric == metric
                && series.source == query.source
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
