//! Parsing and validating write payloads, with the ingest limits: the JSON points body
//! of `POST /api/points`, the checks every write passes (points per request, name
//! lengths), and [`Batch`] — a write's points grouped by series, the form the store and
//! the cache take. Pure functions, so the fuzz targets call them.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use axum::http::StatusCode;
use render_core::Point;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::{json, Value};

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

/// The points of one series in a write.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesPoints {
    /// Metric name.
    pub metric: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Points; after [`Grouper::finish`] sorted by time with one point per time (the
    /// last one written for that time).
    pub points: Vec<Point>,
}

/// A write's points grouped by series (each series once, in order of first appearance).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// The series and their points.
    pub series: Vec<SeriesPoints>,
    /// Samples in the request, counting points at the same time of a series each time.
    pub samples: usize,
}

impl Batch {
    /// Groups samples by series. Within a series a later sample at the same time
    /// replaces an earlier one, as if the samples were written one after the other.
    pub fn from_samples(samples: &[Sample]) -> Batch {
        let mut grouper = Grouper::default();
        for sample in samples {
            let series = grouper.series_of(&sample.metric, &sample.tags);
            grouper.push(
                series,
                Point {
                    t: sample.t,
                    v: sample.v,
                },
            );
        }
        grouper.finish()
    }

    /// The stored points as samples, series by series.
    pub fn to_samples(&self) -> Vec<Sample> {
        let mut out = Vec::with_capacity(self.samples);
        for series in &self.series {
            for point in &series.points {
                out.push(Sample {
                    metric: series.metric.clone(),
                    tags: series.tags.clone(),
                    t: point.t,
                    v: point.v,
                });
            }
        }
        out
    }
}

/// Builds a [`Batch`]: finds each point's series with one hash lookup of its name and
/// tags (borrowed; only a new series allocates).
#[derive(Default)]
pub struct Grouper {
    /// Series index by [`series_key`].
    index: HashMap<String, usize>,
    series: Vec<SeriesPoints>,
    samples: usize,
    /// Scratch for building keys.
    key: String,
}

/// Appends a length-prefixed string, so keys of different name/tag splits differ.
fn key_part(key: &mut String, part: &str) {
    use std::fmt::Write as _;
    let _ = write!(key, "{}:", part.len());
    key.push_str(part);
}

impl Grouper {
    /// The index of series `metric` + `tags`, added if new.
    pub fn series_of(&mut self, metric: &str, tags: &BTreeMap<String, String>) -> usize {
        let pairs = tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        self.find(metric, pairs)
            .unwrap_or_else(|| self.add(metric.to_owned(), tags.clone()))
    }

    /// [`Grouper::series_of`] for tags as pairs sorted by key, each key once.
    pub fn series_of_pairs(
        &mut self,
        metric: &str,
        tags: &[(Cow<'_, str>, Cow<'_, str>)],
    ) -> usize {
        let pairs = tags.iter().map(|(k, v)| (k.as_ref(), v.as_ref()));
        self.find(metric, pairs).unwrap_or_else(|| {
            let tags = tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            self.add(metric.to_owned(), tags)
        })
    }

    /// Builds the series key of `metric` + `tags` (sorted by key) into the scratch key
    /// and looks it up.
    fn find<'t>(
        &mut self,
        metric: &str,
        tags: impl Iterator<Item = (&'t str, &'t str)>,
    ) -> Option<usize> {
        self.key.clear();
        key_part(&mut self.key, metric);
        for (k, v) in tags {
            key_part(&mut self.key, k);
            key_part(&mut self.key, v);
        }
        self.index.get(self.key.as_str()).copied()
    }

    fn add(&mut self, metric: String, tags: BTreeMap<String, String>) -> usize {
        let at = self.series.len();
        self.index.insert(self.key.clone(), at);
        self.series.push(SeriesPoints {
            metric,
            tags,
            points: Vec::new(),
        });
        at
    }

    /// Adds a point to series `series` (an index from this grouper).
    pub fn push(&mut self, series: usize, point: Point) {
        if let Some(s) = self.series.get_mut(series) {
            s.points.push(point);
            self.samples += 1;
        }
    }

    /// The series, by index.
    pub fn series(&self) -> &[SeriesPoints] {
        &self.series
    }

    /// The batch: each series' points sorted by time, the last written point kept for
    /// each time.
    pub fn finish(self) -> Batch {
        let mut series = self.series;
        for s in &mut series {
            if !s.points.is_sorted_by_key(|p| p.t) {
                // Stable: points at the same time stay in the order written.
                s.points.sort_by_key(|p| p.t);
            }
            s.points.dedup_by(|later, earlier| {
                let same = later.t == earlier.t;
                if same {
                    *earlier = *later;
                }
                same
            });
        }
        Batch {
            series,
            samples: self.samples,
        }
    }
}

/// `POST /api/points` body (strings borrowed from the request where unescaped).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PointsBody<'a> {
    #[serde(borrow)]
    points: Vec<JsonPoint<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonPoint<'a> {
    #[serde(borrow)]
    metric: Cow<'a, str>,
    #[serde(default, borrow)]
    tags: Tags<'a>,
    /// ms since the epoch; default now.
    t: Option<i64>,
    /// `null` records a gap.
    v: Option<f64>,
}

/// A JSON tag object as pairs sorted by key, the last value of a repeated key kept (as
/// a map would).
#[derive(Debug, Default)]
struct Tags<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Tags<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TagsVisitor;
        impl<'de> Visitor<'de> for TagsVisitor {
            type Value = Tags<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Tags<'de>, M::Error> {
                let mut pairs: Vec<(Cow<'de, str>, Cow<'de, str>)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<BorrowedStr<'de>, BorrowedStr<'de>>()? {
                    pairs.push((k.0, v.0));
                }
                Ok(Tags(sorted_pairs(pairs)))
            }
        }
        deserializer.deserialize_map(TagsVisitor)
    }
}

/// Sorts pairs by key (stable) and keeps the last pair of each key.
pub fn sorted_pairs<'a>(
    mut pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
) -> Vec<(Cow<'a, str>, Cow<'a, str>)> {
    if !pairs.is_sorted_by(|a, b| a.0 < b.0) {
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                std::mem::swap(later, earlier);
            }
            same
        });
    }
    pairs
}

/// A string borrowed from the input unless it has escapes.
struct BorrowedStr<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for BorrowedStr<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = BorrowedStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(StrVisitor)
    }
}

/// Parses `{"points": [{"metric": "m", "tags": {}, "t": ms, "v": 1.5}]}` into a batch
/// (missing `t` is `now_ms`, `null` `v` a gap) and checks it against `limits`. Every
/// invalid point is reported with its JSON path; nothing is returned unless all pass.
pub fn parse_json_batch(
    bytes: &[u8],
    now_ms: i64,
    limits: IngestLimits,
) -> Result<Batch, AppError> {
    let body: PointsBody<'_> = serde_json::from_slice(bytes)
        .map_err(|e| AppError::bad_request(format!("invalid points JSON: {e}")))?;
    check_count(body.points.len(), limits)?;
    let mut details: Vec<Value> = Vec::new();
    let mut grouper = Grouper::default();
    // Per series index: `Some(problem)` once checked.
    let mut checked: Vec<Option<Option<String>>> = Vec::new();
    for (i, point) in body.points.iter().enumerate() {
        if point.metric.is_empty() {
            details.push(json!({"path": format!("points[{i}].metric"), "message": "is empty"}));
            continue;
        }
        let series = grouper.series_of_pairs(&point.metric, &point.tags.0);
        if checked.len() <= series {
            checked.resize(series + 1, None);
        }
        let problem = checked[series].get_or_insert_with(|| {
            let s = &grouper.series()[series];
            too_long(&s.metric, &s.tags, limits.max_name)
        });
        if problem.is_some() {
            details.push(json!({"path": format!("points[{i}]"), "message": format!("{} is longer than {} characters (max_name)", problem.as_deref().unwrap_or_default(), limits.max_name)}));
        }
        grouper.push(
            series,
            Point {
                t: point.t.unwrap_or(now_ms),
                v: point.v.unwrap_or(f64::NAN),
            },
        );
    }
    if !details.is_empty() {
        return Err(AppError::BadRequest {
            message: format!("{} invalid points; nothing stored", details.len()),
            details,
        });
    }
    Ok(grouper.finish())
}

/// [`parse_json_batch`] as samples (series by series, one point per series and time).
pub fn parse_json_points(
    bytes: &[u8],
    now_ms: i64,
    limits: IngestLimits,
) -> Result<Vec<Sample>, AppError> {
    parse_json_batch(bytes, now_ms, limits).map(|batch| batch.to_samples())
}

/// Checks parsed samples (from line protocol) against `limits`.
pub fn check_samples(samples: &[Sample], limits: IngestLimits) -> Result<(), AppError> {
    check_count(samples.len(), limits)?;
    let first = samples
        .iter()
        .find_map(|s| too_long(&s.metric, &s.tags, limits.max_name));
    name_result(first, limits)
}

/// Checks a parsed batch (from line protocol) against `limits`: the samples it
/// carried, and the names of each series (the first too long one is reported).
pub fn check_batch(batch: &Batch, limits: IngestLimits) -> Result<(), AppError> {
    check_count(batch.samples, limits)?;
    let first = batch
        .series
        .iter()
        .find_map(|s| too_long(&s.metric, &s.tags, limits.max_name));
    name_result(first, limits)
}

fn name_result(first: Option<String>, limits: IngestLimits) -> Result<(), AppError> {
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

    #[test]
    fn json_points_are_grouped_by_series_whatever_the_tag_order() {
        let body = br#"{"points":[
            {"metric":"m","tags":{"b":"2","a":"1"},"t":3,"v":1},
            {"metric":"m","tags":{"a":"1","b":"2"},"t":1,"v":2},
            {"metric":"m","tags":{"a":"0","a":"1","b":"\u0032"},"t":3,"v":3},
            {"metric":"m","t":2,"v":null}]}"#;
        let limits = IngestLimits {
            max_points: 10,
            max_name: 5,
        };
        let batch = parse_json_batch(body, 0, limits).unwrap_or_default();
        assert_eq!(batch.samples, 4);
        assert_eq!(batch.series.len(), 2);
        let tags = BTreeMap::from([("a".into(), "1".into()), ("b".into(), "2".into())]);
        assert_eq!(batch.series[0].tags, tags);
        // Sorted by time; the last point written at t=3 wins.
        let points: Vec<(i64, f64)> = batch.series[0].points.iter().map(|p| (p.t, p.v)).collect();
        assert_eq!(points, [(1, 2.0), (3, 3.0)]);
        assert!(batch.series[1].tags.is_empty() && batch.series[1].points[0].v.is_nan());
    }

    #[test]
    fn every_point_of_a_series_with_a_long_name_is_reported() {
        let body = br#"{"points":[{"metric":"long_name"},{"metric":"m"},{"metric":"long_name"},{"metric":""}]}"#;
        let limits = IngestLimits {
            max_points: 10,
            max_name: 5,
        };
        let Err(AppError::BadRequest { details, .. }) = parse_json_batch(body, 0, limits) else {
            panic!("long names pass");
        };
        let paths: Vec<&str> = details.iter().filter_map(|d| d["path"].as_str()).collect();
        assert_eq!(paths, ["points[0]", "points[2]", "points[3].metric"]);
    }

    #[test]
    fn a_batch_counts_every_sample_and_checks_names_per_series() {
        let sample = |metric: &str, t: i64| Sample {
            metric: metric.into(),
            tags: BTreeMap::new(),
            t,
            v: t as f64,
        };
        let batch = Batch::from_samples(&[sample("a", 2), sample("a", 2), sample("a", 1)]);
        assert_eq!(batch.samples, 3);
        assert!(check_batch(&batch, LIMITS).is_err_and(|e| e.to_string().contains("max_points")));
        let points: Vec<(i64, f64)> = batch.series[0].points.iter().map(|p| (p.t, p.v)).collect();
        assert_eq!(points, [(1, 1.0), (2, 2.0)]);
        let long = Batch::from_samples(&[sample("a", 1), sample("metric", 1)]);
        assert!(check_batch(&long, LIMITS).is_err_and(|e| e.to_string().contains("max_name")));
    }
}
