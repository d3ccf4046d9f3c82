//! The in-memory windows the built-in source answers from: per series, the raw points
//! of the last `horizon` ms and the tier buckets (`crate::tiers`) of each tier's own
//! horizon, a generation per metric (so a chart knows whether its data changed) and
//! per-metric watchers (so a write wakes only the charts that draw it).
//!
//! A read at a resolution of `r` ms per pixel column takes the coarsest tier whose step
//! is at most `r` (raw points below 10 s), so what it copies is bounded by pixels ×
//! series, never by the points in the window.
//!
//! Locking: the map of series is behind one `RwLock` taken briefly (to find series,
//! or to swap in a whole new map after a reload); each series has its own `RwLock`,
//! so a render copying one series' window blocks only writers of that series.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock, Weak};

use render_core::{Data, Point, Series};
use tokio::sync::Notify;

use super::edits::Edits;
use super::part::Part;
use super::selector::Selector;
use super::spare::{Mark, Spare};
use crate::ingest::Batch;
use crate::store::{SeriesKey, TierUpdates};
use crate::tiers::{self, Bucket, SeriesTiers, TierConfig, TIERS};

/// What memory holds of one series.
struct Held {
    /// The series' metric and tags.
    key: SeriesKey,
    /// Raw points, sorted by time, one per time.
    raw: VecDeque<Point>,
    /// Tier buckets, each tier within its horizon.
    tiers: SeriesTiers,
    /// Its changes, for readers that read only what changed.
    edits: Edits,
}
type Window = Arc<RwLock<Held>>;

/// How far back memory holds raw points and each tier, ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Horizons {
    /// Raw points.
    pub raw_ms: i64,
    /// Each tier's buckets (0: none in memory).
    pub tier_ms: [i64; TIERS],
}

impl Horizons {
    /// Whether these reach at least as far back as `other` everywhere.
    pub fn cover(&self, other: &Horizons) -> bool {
        self.raw_ms >= other.raw_ms && self.tier_ms.iter().zip(other.tier_ms).all(|(a, b)| *a >= b)
    }

    /// The furthest of both, everywhere.
    pub fn max(&self, other: &Horizons) -> Horizons {
        let mut tier_ms = self.tier_ms;
        for (a, b) in tier_ms.iter_mut().zip(other.tier_ms) {
            *a = (*a).max(b);
        }
        Horizons {
            raw_ms: self.raw_ms.max(other.raw_ms),
            tier_ms,
        }
    }
}

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
    horizons: Horizons,
}

impl Held {
    /// Nothing yet of series `key`, its tiers held as far back as `horizons` say.
    fn new(key: SeriesKey, horizons: &Horizons) -> Held {
        let config = TierConfig {
            memory_ms: horizons.tier_ms,
            ..TierConfig::default()
        };
        Held {
            key,
            raw: VecDeque::new(),
            tiers: SeriesTiers::new(&config),
            edits: Edits::default(),
        }
    }
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
    /// Empty windows of `horizons`.
    pub fn new(horizons: Horizons) -> Memory {
        Memory {
            series: RwLock::new(Windows {
                by_key: BTreeMap::new(),
                horizons,
            }),
            generations: Mutex::new((HashMap::new(), 0)),
            watchers: Mutex::new(HashMap::new()),
        }
    }

    /// How far back the windows reach.
    pub fn horizons(&self) -> Horizons {
        self.series.read().map(|s| s.horizons).unwrap_or_default()
    }

    /// Replaces the horizons and every window with `series` (raw points) and `tiers`
    /// (per tier, every series' buckets) loaded from the store, in one swap. The
    /// caller orders this with writes (see `BuiltinSource`).
    pub fn reset(
        &self,
        horizons: Horizons,
        series: Vec<Series>,
        tiers: Vec<Vec<(SeriesKey, Vec<Bucket>)>>,
        now_ms: i64,
    ) {
        let cutoff = now_ms.saturating_sub(horizons.raw_ms);
        let mut windows = Windows {
            by_key: BTreeMap::new(),
            horizons,
        };
        let mut metrics = Vec::new();
        for s in series {
            let key = (s.metric, s.tags);
            let mut held = Held::new(key.clone(), &horizons);
            held.raw = s.points.into_iter().filter(|p| p.t >= cutoff).collect();
            held.raw.make_contiguous().sort_by_key(|p| p.t);
            metrics.push(key.0.clone());
            windows.by_key.insert(key, Arc::new(RwLock::new(held)));
        }
        for (tier, loaded) in tiers.into_iter().enumerate() {
            for (key, buckets) in loaded {
                metrics.push(key.0.clone());
                let window = windows.by_key.entry(key).or_insert_with_key(|key| {
                    Arc::new(RwLock::new(Held::new(key.clone(), &horizons)))
                });
                if let Ok(mut held) = window.write() {
                    held.tiers.replace(tier, &buckets);
                }
            }
        }
        if let Ok(mut current) = self.series.write() {
            *current = windows;
        }
        metrics.sort_unstable();
        metrics.dedup();
        self.changed(metrics.iter().map(String::as_str));
    }

    /// Adds a committed batch: per series its run of points (sorted, one per time)
    /// appended, or merged where it overlaps what the window holds, and the tier
    /// buckets the store returned for it (`updates`, in batch order).
    pub fn insert_batch(&self, batch: &Batch, updates: &TierUpdates, now_ms: i64) {
        let cutoff = now_ms.saturating_sub(self.horizons().raw_ms);
        for (i, series) in batch.series.iter().enumerate() {
            let Some(window) = self.window(&series.metric, &series.tags) else {
                continue;
            };
            let Ok(mut held) = window.write() else {
                continue;
            };
            let run = &series.points[series.points.partition_point(|p| p.t < cutoff)..];
            merge(&mut held.raw, run);
            while held.raw.front().is_some_and(|p| p.t < cutoff) {
                held.raw.pop_front();
            }
            for (tier, buckets) in updates.get(i).into_iter().flatten() {
                held.tiers.replace(*tier, buckets);
            }
            if let Some(first) = series.points.first() {
                held.edits.record(first.t);
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
        let horizons = windows.horizons;
        Some(
            windows
                .by_key
                .entry(key)
                .or_insert_with_key(|key| Arc::new(RwLock::new(Held::new(key.clone(), &horizons))))
                .clone(),
        )
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

    /// Makes every change of a metric of `selectors` wake `notify`.
    pub fn watch(&self, selectors: &[Selector], notify: &Arc<Notify>) {
        if let Ok(mut watchers) = self.watchers.lock() {
            for selector in selectors {
                let list = watchers.entry(selector.metric.clone()).or_default();
                list.retain(|weak| weak.strong_count() > 0);
                list.push(Arc::downgrade(notify));
            }
        }
    }

    /// Every series a selector matches, with its points of `part` (each series once,
    /// however many selectors match it): raw points, or the points `part` reads of the
    /// buckets of the tier its resolution picks; into buffers of `spare` first.
    ///
    /// With `marked` (the whole read is this part, from memory alone), each series
    /// read values only is marked in `spare`; one the earlier read marked keeps the
    /// points it was read as before its earliest change since ([`Part::continue_values`]).
    pub fn read(
        &self,
        selectors: &[Selector],
        part: &Part,
        spare: &mut Spare,
        marked: bool,
    ) -> Data {
        let tier = tiers::choose(part.resolution_ms);
        let mut found: Vec<Window> = Vec::new();
        if let Ok(windows) = self.series.read() {
            let mut matched: Vec<(&SeriesKey, &Window)> = Vec::new();
            for selector in selectors {
                let start = (selector.metric.clone(), BTreeMap::new());
                let same_metric = windows
                    .by_key
                    .range(start..)
                    .take_while(|((metric, _), _)| *metric == selector.metric);
                matched.extend(same_metric.filter(|((m, tags), _)| selector.matches(m, tags)));
            }
            // In key order, a series two selectors match taken once (one selector's
            // matches already are).
            if selectors.len() > 1 {
                matched.sort_by(|a, b| a.0.cmp(b.0));
                matched.dedup_by(|a, b| a.0 == b.0);
            }
            found.extend(matched.into_iter().map(|(_, window)| window.clone()));
        }
        let marked = marked && part.values_only && tier.is_some();
        let series = found
            .iter()
            .filter_map(|window| {
                let held = window.read().ok()?;
                let earlier = match marked {
                    true => spare.take_marked(&held.key, &held.edits.mark()),
                    false => None,
                };
                let series = read_held(part, &held, tier, earlier, spare);
                if marked {
                    let mark = Mark {
                        part: *part,
                        edits: held.edits.mark(),
                    };
                    spare.mark(&series.points, mark);
                }
                Some(series)
            })
            .collect();
        Data {
            series,
            notes: Vec::new(),
        }
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
                let (last, points) = window.read().map_or((None, 0), |held| {
                    let last = held
                        .raw
                        .back()
                        .map(|p| (p.t, p.v.is_finite().then_some(p.v)));
                    (last, held.raw.len())
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

    /// Drops raw points and buckets that fell out of their horizons.
    pub fn trim(&self, now_ms: i64) {
        let Ok(windows) = self.series.read() else {
            return;
        };
        let cutoff = now_ms.saturating_sub(windows.horizons.raw_ms);
        for window in windows.by_key.values() {
            if let Ok(mut held) = window.write() {
                while held.raw.front().is_some_and(|p| p.t < cutoff) {
                    held.raw.pop_front();
                }
                held.tiers.trim(now_ms);
            }
        }
    }
}

/// The series `held` as `part` reads it: raw points (`tier` `None`) or of the
/// buckets of `tier`; `earlier` (the series as the earlier read gave it, and its mark)
/// continued where it can be, else read again into its buffer, or one of `spare`.
fn read_held(
    part: &Part,
    held: &Held,
    tier: Option<tiers::Tier>,
    earlier: Option<(Series, Mark)>,
    spare: &mut Spare,
) -> Series {
    let mut series = match earlier {
        Some((mut series, mark)) => {
            if let (Some(tier), Some(changed_from)) = (tier, held.edits.changed_since(&mark.edits))
            {
                let points = &mut series.points;
                if part.continue_values(&mark.part, changed_from, &held.tiers, tier, points) {
                    return series;
                }
            }
            series.points.clear();
            series
        }
        None => Series {
            metric: held.key.0.clone(),
            tags: held.key.1.clone(),
            points: spare.take(),
            source: None,
        },
    };
    let points = &mut series.points;
    match tier {
        Some(tier) => part.points_of_held(&held.tiers, tier, points),
        None => {
            let raw = &held.raw;
            let begin = raw.partition_point(|p| p.t < part.from);
            let end = raw.partition_point(|p| p.t <= part.to).max(begin);
            points.extend(raw.range(begin..end));
        }
    }
    series
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
    use crate::tiers::STEPS_MS;

    fn raw(ms: i64) -> Horizons {
        Horizons {
            raw_ms: ms,
            tier_ms: [0; TIERS],
        }
    }

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

    /// A tier-0 bucket of one point, `v` at 5 s into bucket `i`.
    fn bucket(i: i64, v: f64) -> Bucket {
        let t = i * STEPS_MS[0] + 5_000;
        Bucket {
            start: i * STEPS_MS[0],
            first_t: t,
            first: v,
            min: v,
            max: v,
            last_t: t,
            last: v,
            count: 1,
            sum: v,
            gaps: 0,
        }
    }

    /// A read that continues the one before keeps what it read before the earliest
    /// change its series' log records: a bucket changed behind the log's back (which
    /// no write does) shows only in a fresh read.
    #[test]
    fn a_marked_read_continues_from_the_earliest_change() {
        let memory = Memory::new(Horizons {
            raw_ms: 1000,
            tier_ms: [86_400_000; TIERS],
        });
        let write = |buckets: Vec<Bucket>| {
            let points: Vec<(i64, f64)> = buckets.iter().map(|b| (b.last_t, b.last)).collect();
            memory.insert_batch(&batch("a", &points), &vec![vec![(0, buckets)]], 0);
        };
        write((0..100).map(|i| bucket(i, i as f64)).collect());
        // Columns of two buckets.
        let part = |buckets: i64| Part {
            from: 0,
            to: buckets * STEPS_MS[0] - 1,
            resolution_ms: 2 * STEPS_MS[0],
            values_only: true,
        };
        let mut spare = Spare::default();
        let first = memory.read(&all("a"), &part(100), &mut spare, true);
        assert_eq!(first.series[0].points.len(), 50);
        let kept = spare.keep(first);
        let key: SeriesKey = ("a".into(), BTreeMap::new());
        let window = memory.window(&key.0, &key.1).expect("held");
        window
            .write()
            .expect("lock")
            .tiers
            .replace(0, &[bucket(11, -1.0)]);
        write(vec![bucket(100, 100.0)]);
        let mut spare = Spare::of(kept);
        let continued = memory.read(&all("a"), &part(101), &mut spare, true);
        let fresh = memory.read(&all("a"), &part(101), &mut Spare::default(), false);
        let (continued, fresh) = (&continued.series[0].points, &fresh.series[0].points);
        assert_eq!(continued.len(), 51);
        assert_eq!(
            continued[50],
            Point {
                t: 1_005_000,
                v: 100.0
            }
        );
        assert_eq!(
            continued[5],
            Point {
                t: 115_000,
                v: 11.0
            }
        );
        assert_eq!(
            fresh[5],
            Point {
                t: 115_000,
                v: -1.0
            }
        );
        assert_eq!(continued[..5], fresh[..5]);
        assert_eq!(continued[6..], fresh[6..]);
    }

    /// A read of every raw point in `from..=to`.
    fn every_point(from: i64, to: i64) -> Part {
        Part {
            from,
            to,
            resolution_ms: 1,
            values_only: false,
        }
    }

    #[test]
    fn out_of_order_points_are_sorted_and_generations_are_per_metric() {
        let memory = Memory::new(raw(1000));
        memory.insert_batch(
            &batch("a", &[(500, 1.0), (400, 2.0), (500, 3.0)]),
            &Vec::new(),
            1000,
        );
        let g_a = memory.generation_of(&all("a"));
        memory.insert_batch(&batch("b", &[(900, 1.0)]), &Vec::new(), 1000);
        assert_eq!(memory.generation_of(&all("a")), g_a);
        let both = [all("a"), all("b")].concat();
        assert!(memory.generation_of(&both) > g_a);
        let data = memory.read(
            &all("a"),
            &every_point(0, 2000),
            &mut Spare::default(),
            false,
        );
        assert_eq!(
            data.series[0].points,
            [Point { t: 400, v: 2.0 }, Point { t: 500, v: 3.0 }]
        );
        memory.insert_batch(&batch("a", &[(1700, 4.0)]), &Vec::new(), 1700);
        assert_eq!(
            memory
                .read(
                    &all("a"),
                    &every_point(0, 2000),
                    &mut Spare::default(),
                    false
                )
                .series[0]
                .points,
            [Point { t: 1700, v: 4.0 }]
        );
    }

    #[test]
    fn a_run_is_appended_or_merged_where_it_overlaps() {
        let memory = Memory::new(raw(1000));
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
        memory.insert_batch(&run(&[(100, 1.0), (300, 1.0)]), &Vec::new(), 1000);
        memory.insert_batch(&run(&[(400, 2.0), (500, 2.0)]), &Vec::new(), 1000);
        memory.insert_batch(
            &run(&[(200, 3.0), (300, 3.0), (600, 3.0)]),
            &Vec::new(),
            1000,
        );
        // Points before the horizon are not added.
        memory.insert_batch(&run(&[(-5, 4.0)]), &Vec::new(), 1000);
        let got = memory
            .read(
                &all("a"),
                &every_point(i64::MIN, i64::MAX),
                &mut Spare::default(),
                false,
            )
            .series[0]
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
        let memory = Memory::new(raw(1000));
        let tagged = |host: &str| Batch {
            series: vec![SeriesPoints {
                metric: "cpu".into(),
                tags: BTreeMap::from([("host".to_string(), host.to_string())]),
                points: vec![Point { t: 10, v: 1.0 }],
            }],
            samples: 1,
        };
        memory.insert_batch(&tagged("a"), &Vec::new(), 100);
        memory.insert_batch(&tagged("b"), &Vec::new(), 100);
        let only_a = [Selector {
            metric: "cpu".into(),
            tags: BTreeMap::from([("host".to_string(), "a".to_string())]),
        }];
        let data = memory.read(&only_a, &every_point(0, 100), &mut Spare::default(), false);
        assert_eq!(data.series.len(), 1);
        assert_eq!(data.series[0].tags["host"], "a");
        // Two selectors matching one series give it once.
        assert_eq!(
            memory
                .read(
                    &[only_a[0].clone(), all("cpu")[0].clone()],
                    &every_point(0, 100),
                    &mut Spare::default(),
                    false
                )
                .series
                .len(),
            2
        );

        let (cpu, mem) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        memory.watch(&all("cpu"), &cpu);
        memory.watch(&all("mem"), &mem);
        memory.insert_batch(&tagged("a"), &Vec::new(), 100);
        // A stored permit completes `notified()` at its first poll.
        let woke = |n: &Notify| n.notified().now_or_never().is_some();
        assert!(woke(&cpu), "a write of cpu wakes a cpu chart");
        assert!(!woke(&mem), "a write of cpu does not wake a mem chart");
    }
}
