//! A write's points grouped by series — [`Batch`], the one form every write takes into
//! the store and the charts — and [`Grouper`], which builds it while a parser runs
//! (names borrowed from the body, one hash lookup per point).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use render_core::Point;

/// One parsed sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Series metric name (`measurement_field`).
    pub metric: String,
    /// Tags of the line.
    pub tags: BTreeMap<String, String>,
    /// Time in ms since the epoch.
    pub t: i64,
    /// Value.
    pub v: f64,
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

/// A batch's series as plain rows, for tests to compare: metric, tags, `(t, v)` points.
#[cfg(test)]
pub type Row = (String, BTreeMap<String, String>, Vec<(i64, f64)>);

#[cfg(test)]
impl Batch {
    /// The series as [`Row`]s, in batch order.
    pub fn rows(&self) -> Vec<Row> {
        let row = |s: &SeriesPoints| {
            let points = s.points.iter().map(|p| (p.t, p.v)).collect();
            (s.metric.clone(), s.tags.clone(), points)
        };
        self.series.iter().map(row).collect()
    }
}
