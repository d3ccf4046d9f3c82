//! The in-memory series cache the render tasks draw from: per series, the points of the
//! last `horizon` ms, plus a change counter per metric so a chart knows when its data
//! changed. The store is the truth; the cache is filled from it at start and after
//! every committed write.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::RwLock;

use render_core::{Data, Point, Series};
use tokio::sync::watch;

use crate::line_protocol::Sample;
use crate::points::Batch;

/// A series' identity.
pub type SeriesKey = (String, BTreeMap<String, String>);

/// The cache.
pub struct SeriesCache {
    inner: RwLock<Inner>,
    /// Bumped (to the new generation) after every change.
    changed: watch::Sender<u64>,
}

#[derive(Default)]
struct Inner {
    series: BTreeMap<SeriesKey, VecDeque<Point>>,
    horizon_ms: i64,
    generation: u64,
    /// Generation of the last change of each metric.
    metric_generation: HashMap<String, u64>,
}

/// One series in a listing.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SeriesInfo {
    /// Metric name.
    pub metric: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Latest point `[t, v]`, if any is cached.
    pub last: Option<(i64, Option<f64>)>,
    /// Number of cached points.
    pub points: usize,
}

impl SeriesCache {
    /// An empty cache keeping `horizon_ms` of points per series.
    pub fn new(horizon_ms: i64) -> SeriesCache {
        let (changed, _) = watch::channel(0);
        SeriesCache {
            inner: RwLock::new(Inner {
                horizon_ms,
                ..Inner::default()
            }),
            changed,
        }
    }

    /// How far back the cache keeps points, in ms.
    pub fn horizon_ms(&self) -> i64 {
        self.inner.read().map_or(0, |inner| inner.horizon_ms)
    }

    /// Replaces the horizon and the whole content (after loading from the store).
    pub fn reset(&self, horizon_ms: i64, series: Vec<Series>, now_ms: i64) {
        if let Ok(mut inner) = self.inner.write() {
            inner.horizon_ms = horizon_ms;
            inner.series.clear();
            let cutoff = now_ms.saturating_sub(horizon_ms);
            let next = inner.generation + 1;
            for s in series {
                let mut points: Vec<Point> =
                    s.points.into_iter().filter(|p| p.t >= cutoff).collect();
                points.sort_by_key(|p| p.t);
                inner.metric_generation.insert(s.metric.clone(), next);
                inner.series.insert((s.metric, s.tags), points.into());
            }
            inner.generation += 1;
            let generation = inner.generation;
            drop(inner);
            self.changed.send_replace(generation);
        }
    }

    /// Adds committed samples (a later sample at the same time replaces the earlier).
    pub fn insert(&self, samples: &[Sample], now_ms: i64) {
        self.insert_batch(&Batch::from_samples(samples), now_ms);
    }

    /// Adds a committed batch: per series one lookup, then its run of points (sorted,
    /// one per time) appended, or merged where it overlaps what the cache holds.
    pub fn insert_batch(&self, batch: &Batch, now_ms: i64) {
        let Ok(mut guard) = self.inner.write() else {
            return;
        };
        let inner = &mut *guard;
        inner.generation += 1;
        let generation = inner.generation;
        let cutoff = now_ms.saturating_sub(inner.horizon_ms);
        for series in &batch.series {
            match inner.metric_generation.get_mut(&series.metric) {
                Some(g) => *g = generation,
                None => {
                    inner
                        .metric_generation
                        .insert(series.metric.clone(), generation);
                }
            }
            let key = (series.metric.clone(), series.tags.clone());
            let points = inner.series.entry(key).or_default();
            let run = &series.points[series.points.partition_point(|p| p.t < cutoff)..];
            merge(points, run);
            while points.front().is_some_and(|p| p.t < cutoff) {
                points.pop_front();
            }
        }
        drop(guard);
        self.changed.send_replace(generation);
    }

    /// A receiver that wakes on every change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// The generation of the latest change to any of `metrics`.
    pub fn generation_of(&self, metrics: &[&str]) -> u64 {
        let Ok(inner) = self.inner.read() else {
            return 0;
        };
        metrics
            .iter()
            .filter_map(|m| inner.metric_generation.get(*m))
            .copied()
            .max()
            .unwrap_or(0)
    }

    /// Every series of `metrics` with its points in `from..=to`.
    pub fn snapshot(&self, metrics: &[&str], from: i64, to: i64) -> Data {
        let Ok(inner) = self.inner.read() else {
            return Data::default();
        };
        let mut data = Data::default();
        for metric in metrics {
            let start = (metric.to_string(), BTreeMap::new());
            for ((name, tags), points) in inner.series.range(start..) {
                if name != metric {
                    break;
                }
                let begin = points.partition_point(|p| p.t < from);
                let end = points.partition_point(|p| p.t <= to);
                let points = points.range(begin..end.max(begin)).copied().collect();
                data.series.push(Series {
                    metric: name.clone(),
                    tags: tags.clone(),
                    points,
                });
            }
        }
        data
    }

    /// Every known series with its latest point.
    pub fn list(&self) -> Vec<SeriesInfo> {
        let Ok(inner) = self.inner.read() else {
            return Vec::new();
        };
        inner
            .series
            .iter()
            .map(|((metric, tags), points)| SeriesInfo {
                metric: metric.clone(),
                tags: tags.clone(),
                last: points.back().map(|p| (p.t, p.v.is_finite().then_some(p.v))),
                points: points.len(),
            })
            .collect()
    }

    /// Drops points older than `now_ms - horizon`.
    pub fn trim(&self, now_ms: i64) {
        let Ok(mut inner) = self.inner.write() else {
            return;
        };
        let cutoff = now_ms.saturating_sub(inner.horizon_ms);
        for points in inner.series.values_mut() {
            while points.front().is_some_and(|p| p.t < cutoff) {
                points.pop_front();
            }
        }
    }
}

/// Adds `run` (sorted by time, one point per time) to `points` (the same), a point of
/// `run` replacing one at the same time.
fn merge(points: &mut VecDeque<Point>, run: &[Point]) {
    match (points.back(), run.first()) {
        (Some(last), Some(first)) if last.t >= first.t => {
            for point in run {
                match points.back() {
                    Some(last) if last.t < point.t => points.push_back(*point),
                    _ => match points.binary_search_by_key(&point.t, |p| p.t) {
                        Ok(at) => points[at] = *point,
                        Err(at) => points.insert(at, *point),
                    },
                }
            }
        }
        _ => points.extend(run.iter().copied()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(metric: &str, t: i64, v: f64) -> Sample {
        Sample {
            metric: metric.into(),
            tags: BTreeMap::new(),
            t,
            v,
        }
    }

    #[test]
    fn out_of_order_points_are_sorted_and_generations_are_per_metric() {
        let cache = SeriesCache::new(1000);
        cache.insert(
            &[
                sample("a", 500, 1.0),
                sample("a", 400, 2.0),
                sample("a", 500, 3.0),
            ],
            1000,
        );
        let g_a = cache.generation_of(&["a"]);
        cache.insert(&[sample("b", 900, 1.0)], 1000);
        assert_eq!(cache.generation_of(&["a"]), g_a);
        assert!(cache.generation_of(&["a", "b"]) > g_a);
        let data = cache.snapshot(&["a"], 0, 2000);
        assert_eq!(
            data.series[0].points,
            [Point { t: 400, v: 2.0 }, Point { t: 500, v: 3.0 }]
        );
        cache.insert(&[sample("a", 1700, 4.0)], 1700);
        assert_eq!(
            cache.snapshot(&["a"], 0, 2000).series[0].points,
            [Point { t: 1700, v: 4.0 }]
        );
    }

    #[test]
    fn a_run_is_appended_or_merged_where_it_overlaps() {
        let cache = SeriesCache::new(1000);
        let points =
            |ts: &[(i64, f64)]| ts.iter().map(|&(t, v)| Point { t, v }).collect::<Vec<_>>();
        let batch = |ts: &[(i64, f64)]| Batch {
            series: vec![crate::points::SeriesPoints {
                metric: "a".into(),
                tags: BTreeMap::new(),
                points: points(ts),
            }],
            samples: ts.len(),
        };
        cache.insert_batch(&batch(&[(100, 1.0), (300, 1.0)]), 1000);
        cache.insert_batch(&batch(&[(400, 2.0), (500, 2.0)]), 1000);
        cache.insert_batch(&batch(&[(200, 3.0), (300, 3.0), (600, 3.0)]), 1000);
        // Points before the horizon are not added.
        cache.insert_batch(&batch(&[(-5, 4.0)]), 1000);
        let got = cache.snapshot(&["a"], i64::MIN, i64::MAX).series[0]
            .points
            .clone();
        let want = points(&[
            (100, 1.0),
            (200, 3.0),
            (300, 3.0),
            (400, 2.0),
            (500, 2.0),
            (600, 3.0),
        ]);
        assert_eq!(got, want);
    }
}
