//! plotcast's JSON points body, `POST /api/points`:
//! `{"points": [{"metric": "m", "tags": {..}, "t": ms, "v": 1.5}]}`, parsed with names
//! borrowed from the body straight into a [`Batch`].

use std::borrow::Cow;
use std::fmt;

use render_core::Point;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::batch::{Batch, Grouper};
use super::error::{IngestError, PointError};
use super::limits::{check_count, too_long, IngestLimits};

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
) -> Result<Batch, IngestError> {
    let body: PointsBody<'_> =
        serde_json::from_slice(bytes).map_err(|e| IngestError::Json(e.to_string()))?;
    check_count(body.points.len(), limits)?;
    let mut details: Vec<PointError> = Vec::new();
    let mut grouper = Grouper::default();
    // Per series index: `Some(problem)` once checked.
    let mut checked: Vec<Option<Option<String>>> = Vec::new();
    for (i, point) in body.points.iter().enumerate() {
        if point.metric.is_empty() {
            details.push(PointError {
                path: format!("points[{i}].metric"),
                message: "is empty".into(),
            });
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
            details.push(PointError {
                path: format!("points[{i}]"),
                message: format!(
                    "{} is longer than {} characters (max_name)",
                    problem.as_deref().unwrap_or_default(),
                    limits.max_name
                ),
            });
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
        return Err(IngestError::Points(details));
    }
    Ok(grouper.finish())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::ingest::limits::tests::LIMITS;

    #[test]
    fn json_points_are_parsed_and_limited() {
        let ok = parse_json_batch(
            br#"{"points":[{"metric":"m","v":1},{"metric":"n","t":5,"v":null}]}"#,
            9,
            LIMITS,
        );
        let ok = ok.map(|b| {
            b.series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| (p.t, p.v.is_nan())))
                .collect::<Vec<_>>()
        });
        assert_eq!(ok.ok(), Some(vec![(9, false), (5, true)]));
        let three = br#"{"points":[{"metric":"m"},{"metric":"m"},{"metric":"m"}]}"#;
        assert!(
            parse_json_batch(three, 0, LIMITS).is_err_and(|e| e.to_string().contains("max_points"))
        );
        let long = br#"{"points":[{"metric":"m","tags":{"k":"toolong"}}]}"#;
        assert!(parse_json_batch(long, 0, LIMITS).is_err());
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
        let Err(IngestError::Points(details)) = parse_json_batch(body, 0, limits) else {
            panic!("long names pass");
        };
        let paths: Vec<&str> = details.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, ["points[0]", "points[2]", "points[3].metric"]);
    }
}
