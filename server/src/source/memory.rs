//! The in-memory windows the built-in source answers from: per series, the points of
//! the last `horizon` ms, a generation per metric (so a chart knows whether its data
//! changed) and per-metric watchers (so a write wakes only the charts that draw it).
//!
//! Locking: the map of series is behind one `RwLock` taken briefly (to find series,
//! or to swap in a whole new map after a reload); each series has its own `RwLock`,
//! so a render copying one series' window blocks only writers of that series.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock, Weak};

use render_core::{Data, Point, Series};
use tokio::sync::Notify;

use super::selector::Selector;
use crate::ingest::Batch;

/// A series' identity.
type SeriesKey = (String, BTreeMap<String, String>);
/// One series' points, sorted by time, one per time.
type Window = Arc<RwLock<VecDeque<Point>>>;

/// The windows.
pub struct Memory {
    series: RwLock<Windows>,
    /// Generation of the last change of each metric, and the latest generation.
    generations: Mutex<(HashMap<String, u64>, u64)>,
    /// Who to wake when a metric changes.
    watchers: Mutex<HashMap<String, Vec<Weak<Notify>>>>,
}

struct Windows {
    by_key: BTreeMap<SeriesKey, Window>,
    horizon_ms: i64,
}

/// One series in a listing.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SeriesInfo {
    /// Metric name.
    pub metric: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Latest point `[t, v]`, if any is held.
    pub last: Option<(i64, Option<f64>)>,
    /// Number of points held.
    pub points: usize,
}

impl Memory {
    /// Empty windows of `horizon_ms`.
    pub fn new(horizon_ms: i64) -> Memory {
        Memory {
            series: RwLock::new(Windows {
                by_key: BTreeMap::new(),
                horizon_ms,
            }),
            generations: Mutex::new((HashMap::new(), 0)),
            watchers: Mutex::new(HashMap::new()),
        }
    }

    /// How far back the windows reach, in ms.
    pub fn horizon_ms(&self) -> i64 {
        self.series.read().map_or(0, |s| s.horizon_ms)
    }

    /// Replaces the horizon and every window with `series` (loaded from the store),
    /// in one swap. The caller orders this with writes (see `BuiltinSource`).
    pub fn reset(&self, horizon_ms: i64, series: Vec<Series>, now_ms: i64) {
        let cutoff = now_ms.saturating_sub(horizon_ms);
        let mut by_key = BTreeMap::new();
        let mut metrics = Vec::new();
        for s in series {
            let mut points: Vec<Point> = s.points.into_iter().filter(|p| p.t >= cutoff).collect();
            points.sort_by_key(|p| p.t);
            metrics.push(s.metric.clone());
            by_key.insert((s.metric, s.tags), Arc::new(RwLock::new(points.into())));
        }
        if let Ok(mut windows) = self.series.write() {
            *windows = Windows { by_key, horizon_ms };
        }
        metrics.dedup();
        self.changed(metrics.iter().map(String::as_str));
    }

    /// Adds a committed batch: per series its run of points (sorted, one per time)
    /// appended, or merged where it overlaps what the window holds.
    pub fn insert_batch(&self, batch: &Batch, now_ms: i64) {
        let horizon_ms = self.horizon_ms();
        let cutoff = now_ms.saturating_sub(horizon_ms);
        for series in &batch.series {
            let Some(window) = self.window(&series.metric, &series.tags) else {
                continue;
            };
            let Ok(mut points) = window.write() else {
                continue;
            };
            let run = &series.points[series.points.partition_point(|p| p.t < cutoff)..];
            merge(&mut points, run);
            while points.front().is_some_and(|p| p.t < cutoff) {
                points.pop_front();
            }
        }
        self.changed(batch.series.iter().map(|s| s.metric.as_str()));
    }

    /// The window of a series, created if new.
    fn window(&self, metric: &str, tags: &BTreeMap<String, String>) -> Option<Window> {
        let key = (metric.to_string(), tags.clone());
        if let Some(window) = self.series.read().ok()?.by_key.get(&key) {
            return Some(window.clone());
        }
        let mut windows = self.series.write().ok()?;
        Some(windows.by_key.entry(key).or_default().clone())
    }

    /// Records a change of `metrics` and wakes their watchers.
    fn changed<'a>(&self, metrics: impl Iterator<Item = &'a str> + Clone) {
        if let Ok(mut generations) = self.generations.lock() {
            let (by_metric, latest) = &mut *generations;
            *latest += 1;
            for metric in metrics.clone() {
                by_metric.insert(metric.to_string(), *latest);
            }
        }
        if let Ok(mut watchers) = self.watchers.lock() {
            for metric in metrics {
                if let Some(list) = watchers.get_mut(metric) {
                    list.retain(|weak| match weak.upgrade() {
                        Some(notify) => {
                            notify.notify_one();
                            true
                        }
                        None => false,
                    });
                }
            }
        }
    }

    /// The generation of the latest change to any series `selectors` can match.
    pub fn generation_of(&self, selectors: &[Selector]) -> u64 {
        let Ok(generations) = self.generations.lock() else {
            return 0;
        };
        selectors
            .iter()
            .filter_map(|s| generations.0.get(&s.metric))
            .copied()
            .max()
            .unwrap_or(0)
    }

    /// A notification woken by every change of a metric of `selectors`.
    pub fn watch(&self, selectors: &[Selector]) -> Arc<Notify> {
        let notify = Arc::new(Notify::new());
        if let Ok(mut watchers) = self.watchers.lock() {
            for selector in selectors {
                let list = watchers.entry(selector.metric.clone()).or_default();
                list.retain(|weak| weak.strong_count() > 0);
                list.push(Arc::downgrade(&notify));
            }
        }
        notify
    }

    /// Every series a selector matches, with its points in `from..=to` (each series
    /// once, however many selectors match it).
    pub fn read(&self, selectors: &[Selector], from: i64, to: i64) -> Data {
        let mut found: Vec<(SeriesKey, Window)> = Vec::new();
        if let Ok(windows) = self.series.read() {
            for selector in selectors {
                let start = (selector.metric.clone(), BTreeMap::new());
                for ((metric, tags), window) in windows.by_key.range(start..) {
                    if *metric != selector.metric {
                        break;
                    }
                    if selector.matches(metric, tags)
                        && !found.iter().any(|(k, _)| k.1 == *tags && k.0 == *metric)
                    {
                        found.push(((metric.clone(), tags.clone()), window.clone()));
                    }
                }
            }
        }
        let series = found
            .into_iter()
            .map(|((metric, tags), window)| {
                let points = match window.read() {
                    Ok(points) => {
                        let begin = points.partition_point(|p| p.t < from);
                        let end = points.partition_point(|p| p.t <= to).max(begin);
                        points.range(begin..end).copied().collect()
                    }
                    Err(_) => Vec::new(),
                };
                Series {
                    metric,
                    tags,
                    points,
                }
            })
            .collect();
        Data { series }
    }

    /// Every known series with its latest point.
    pub fn list(&self) -> Vec<SeriesInfo> {
        let Ok(windows) = self.series.read() else {
            return Vec::new();
        };
        windows
            .by_key
            .iter()
            .map(|((metric, tags), window)| {
                let (last, points) = window.read().map_or((None, 0), |points| {
                    let last = points.back().map(|p| (p.t, p.v.is_finite().then_some(p.v)));
                    (last, points.len())
                });
                SeriesInfo {
                    metric: metric.clone(),
                    tags: tags.clone(),
                    last,
                    points,
                }
            })
            .collect()
    }

    /// Drops points older than `now_ms - horizon`.
    pub fn trim(&self, now_ms: i64) {
        let Ok(windows) = self.series.read() else {
            return;
        };
        let cutoff = now_ms.saturating_sub(windows.horizon_ms);
        for window in windows.by_key.values() {
            if let Ok(mut points) = window.write() {
                while points.front().is_some_and(|p| p.t < cutoff) {
                    points.pop_front();
                }
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
    use futures_util::FutureExt;

    use super::*;
    use crate::ingest::{Sample, SeriesPoints};

    fn all(metric: &str) -> Vec<Selector> {
        vec![Selector {
            metric: metric.into(),
            tags: BTreeMap::new(),
        }]
    }

    fn batch(metric: &str, points: &[(i64, f64)]) -> Batch {
        let samples: Vec<Sample> = points
            .iter()
            .map(|&(t, v)| Sample {
                metric: metric.into(),
                tags: BTreeMap::new(),
                t,
                v,
            })
            .collect();
        Batch::from_samples(&samples)
    }

    #[test]
    fn out_of_order_points_are_sorted_and_generations_are_per_metric() {
        let memory = Memory::new(1000);
        memory.insert_batch(&batch("a", &[(500, 1.0), (400, 2.0), (500, 3.0)]), 1000);
        let g_a = memory.generation_of(&all("a"));
        memory.insert_batch(&batch("b", &[(900, 1.0)]), 1000);
        assert_eq!(memory.generation_of(&all("a")), g_a);
        let both = [all("a"), all("b")].concat();
        assert!(memory.generation_of(&both) > g_a);
        let data = memory.read(&all("a"), 0, 2000);
        assert_eq!(
            data.series[0].points,
            [Point { t: 400, v: 2.0 }, Point { t: 500, v: 3.0 }]
        );
        memory.insert_batch(&batch("a", &[(1700, 4.0)]), 1700);
        assert_eq!(
            memory.read(&all("a"), 0, 2000).series[0].points,
            [Point { t: 1700, v: 4.0 }]
        );
    }

    #[test]
    fn a_run_is_appended_or_merged_where_it_overlaps() {
        let memory = Memory::new(1000);
        let points =
            |ts: &[(i64, f64)]| ts.iter().map(|&(t, v)| Point { t, v }).collect::<Vec<_>>();
        let run = |ts: &[(i64, f64)]| Batch {
            series: vec![SeriesPoints {
                metric: "a".into(),
                tags: BTreeMap::new(),
                points: points(ts),
            }],
            samples: ts.len(),
        };
        memory.insert_batch(&run(&[(100, 1.0), (300, 1.0)]), 1000);
        memory.insert_batch(&run(&[(400, 2.0), (500, 2.0)]), 1000);
        memory.insert_batch(&run(&[(200, 3.0), (300, 3.0), (600, 3.0)]), 1000);
        // Points before the horizon are not added.
        memory.insert_batch(&run(&[(-5, 4.0)]), 1000);
        let got = memory.read(&all("a"), i64::MIN, i64::MAX).series[0]
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

    #[test]
    fn tag_filters_select_series_and_a_write_wakes_only_its_watchers() {
        let memory = Memory::new(1000);
        let tagged = |host: &str| Batch {
            series: vec![SeriesPoints {
                metric: "cpu".into(),
                tags: BTreeMap::from([("host".to_string(), host.to_string())]),
                points: vec![Point { t: 10, v: 1.0 }],
            }],
            samples: 1,
        };
        memory.insert_batch(&tagged("a"), 100);
        memory.insert_batch(&tagged("b"), 100);
        let only_a = [Selector {
            metric: "cpu".into(),
            tags: BTreeMap::from([("host".to_string(), "a".to_string())]),
        }];
        let data = memory.read(&only_a, 0, 100);
        assert_eq!(data.series.len(), 1);
        assert_eq!(data.series[0].tags["host"], "a");
        // Two selectors matching one series give it once.
        assert_eq!(
            memory
                .read(&[only_a[0].clone(), all("cpu")[0].clone()], 0, 100)
                .series
                .len(),
            2
        );

        let cpu = memory.watch(&all("cpu"));
        let mem = memory.watch(&all("mem"));
        memory.insert_batch(&tagged("a"), 100);
        // A stored permit completes `notified()` at its first poll.
        let woke = |n: &Notify| n.notified().now_or_never().is_some();
        assert!(woke(&cpu), "a write of cpu wakes a cpu chart");
        assert!(!woke(&mem), "a write of cpu does not wake a mem chart");
    }
}
