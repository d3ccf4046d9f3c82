//! [`BuiltinSource`]: the built-in store as a [`Source`] — SQLite is the truth, the
//! in-memory windows (raw points and tier buckets) answer reads.
//!
//! **Acknowledged means visible.** Every change of the windows is ordered by one lock:
//! a write holds it from its commit until its points are in memory, and a reload
//! (after a chart asks for a longer window) holds it from reading SQLite until the new
//! windows are swapped in. So a reload can never replace the windows with a read of
//! SQLite taken before a write committed while dropping that write's points (the
//! "acknowledged batch missing from every chart until a restart" bug). Reads take
//! only the windows' short locks.
//!
//! **Reads follow the panels.** A query's stretches (a metric's read plan: each time at
//! the finest panel drawing it) are read one tier at a time ([`parts`]): a 1-hour
//! panel next to a 30-day panel reads raw points for the hour and 30-minute buckets
//! before it, not raw points for 30 days.
//!
//! **Memory follows the charts.** Memory holds raw points for the last hour at least,
//! and of each tier only as far back as a published chart's plan reads it, plus a
//! minute and a bucket (a 30-day chart at 800 px reads the 30-minute tier: 1,440
//! buckets per series), so no render reads SQLite. A read reaching further
//! back than memory (the editor previewing a window no published chart has) gets the
//! older part from SQLite: the same points memory will hold once a chart with that
//! window is published.

use std::cmp::Ordering;
use std::sync::{Arc, Mutex};

use render_core::{Data, ReadStretch, Series, ValidSpec};
use tokio::sync::Notify;

use super::memory::{Horizons, Memory, SeriesInfo};
use super::part::Part;
use super::seam::{Query, Source};
use super::selector::{Selector, Selectors};
use super::spare::Spare;
use crate::clock::Clock;
use crate::ingest::Batch;
use crate::store::{Store, StoreError};
use crate::tiers::{self, TierConfig, TIERS};

/// The least memory keeps of raw points, whatever the charts' windows.
const MIN_RAW_MS: i64 = 3_600_000;

/// How much further back than a chart's data range memory keeps: a render's "now" and
/// the source's differ by a few ms, and a read starting before memory's horizon goes
/// to SQLite.
const SLACK_MS: i64 = 60_000;

/// The built-in source.
pub struct BuiltinSource {
    store: Arc<Store>,
    memory: Memory,
    /// Orders writes (commit + insert into memory) and reloads; see the module docs.
    order: Mutex<()>,
    /// Tier retentions (raw retention included).
    tiers: TierConfig,
    clock: Clock,
}

impl BuiltinSource {
    /// A source over `store` keeping raw points `retention_ms`, holding nothing in
    /// memory yet (see [`BuiltinSource::reach`]).
    pub fn new(store: Arc<Store>, retention_ms: i64, clock: Clock) -> BuiltinSource {
        let defaults = TierConfig::default();
        let mut retention = defaults.retention_ms;
        // A tier is recomputed from raw points while they exist: it never ends sooner.
        for tier in &mut retention {
            *tier = (*tier).max(retention_ms);
        }
        BuiltinSource {
            store,
            memory: Memory::new(Horizons::default()),
            order: Mutex::new(()),
            tiers: TierConfig {
                raw_retention_ms: retention_ms,
                retention_ms: retention,
                ..defaults
            },
            clock,
        }
    }

    /// What memory must hold for `spec`: each stretch of each metric's read plan at
    /// the resolution it is read at (raw points, or the tier that resolution picks,
    /// reaching a bucket further back for a bucket the stretch starts in, and the
    /// older neighbour's step further for the boundary [`parts`] moves back), and an
    /// hour of raw points.
    pub fn needs(spec: &ValidSpec) -> Horizons {
        let mut needs = Horizons {
            raw_ms: MIN_RAW_MS,
            tier_ms: [0; TIERS],
        };
        for metric in spec.metrics() {
            let plan = spec.read_plan(metric, 0);
            let mut older_step = 0;
            for stretch in &plan {
                let tier = tiers::choose(stretch.resolution_ms);
                let span = stretch
                    .from
                    .saturating_neg()
                    .saturating_add(SLACK_MS)
                    .saturating_add(older_step);
                match tier {
                    Some(tier) => {
                        let reach = span.saturating_add(tiers::STEPS_MS[tier]);
                        needs.tier_ms[tier] = needs.tier_ms[tier].max(reach);
                    }
                    None => needs.raw_ms = needs.raw_ms.max(span),
                }
                older_step = tier.map_or(0, |tier| tiers::STEPS_MS[tier]);
            }
        }
        needs
    }

    /// Rolls the raw points of a store written before tiers existed up into tiers
    /// (blocking; nothing to do once tiers exist).
    pub fn backfill_tiers(&self) -> Result<(), StoreError> {
        let _order = self.order.lock().map_err(|_| StoreError::Poisoned)?;
        let rolled = self
            .store
            .backfill_tiers(&self.tiers, self.clock.now_ms())?;
        if rolled > 0 {
            tracing::info!(points = rolled, "built tiers from the stored raw points");
        }
        Ok(())
    }

    /// Stores a batch (one transaction with its tier buckets; blocking) and, before any
    /// reload can start, makes it visible to every reader.
    pub fn write(&self, batch: &Batch, max_series: usize) -> Result<(), StoreError> {
        let _order = self.order.lock().map_err(|_| StoreError::Poisoned)?;
        let now = self.clock.now_ms();
        let updates = self
            .store
            .write_batch(batch, max_series, &self.tiers, now)?;
        self.memory.insert_batch(batch, &updates, now);
        Ok(())
    }

    /// Makes memory reach as far back as `needs` (capped by the retentions), reloading
    /// it from SQLite if it reaches less (blocking).
    pub fn reach(&self, needs: &Horizons) -> Result<(), StoreError> {
        let _order = self.order.lock().map_err(|_| StoreError::Poisoned)?;
        let current = self.memory.horizons();
        let mut wanted = current.max(needs);
        wanted.raw_ms = wanted
            .raw_ms
            .max(MIN_RAW_MS)
            .min(self.tiers.raw_retention_ms)
            .max(1);
        for (ms, retention) in wanted.tier_ms.iter_mut().zip(self.tiers.retention_ms) {
            *ms = (*ms).min(retention);
        }
        if current.cover(&wanted) {
            return Ok(());
        }
        let now = self.clock.now_ms();
        let series = self.store.load_since(now.saturating_sub(wanted.raw_ms))?;
        let mut loaded = Vec::with_capacity(TIERS);
        for (tier, ms) in wanted.tier_ms.iter().enumerate() {
            loaded.push(match ms {
                0 => Vec::new(),
                ms => self.store.load_tier(tier, now.saturating_sub(*ms))?,
            });
        }
        self.memory.reset(wanted, series, loaded, now);
        Ok(())
    }

    /// Deletes what is past retention (raw points, then each tier's buckets) and drops
    /// what fell out of memory's horizons (blocking). Returns how many raw points.
    pub fn prune(&self) -> Result<usize, StoreError> {
        let pruned = self.store.prune(self.clock.now_ms(), &self.tiers)?;
        self.memory.trim(self.clock.now_ms());
        Ok(pruned)
    }

    /// The series `selectors` match over `part`: from memory, and the part before
    /// memory's horizon from SQLite; into buffers of `spare` first. A read that is
    /// `whole` (of this part alone) and all from memory is marked for the next
    /// (`Memory::read`).
    fn read_part(
        &self,
        selectors: &[Selector],
        part: &Part,
        spare: &mut Spare,
        whole: bool,
    ) -> Data {
        let horizons = self.memory.horizons();
        let tier = tiers::choose(part.resolution_ms);
        let reach = tier.map_or(horizons.raw_ms, |tier| horizons.tier_ms[tier]);
        let cutoff = self.clock.now_ms().saturating_sub(reach);
        let newer = self.memory.read(
            selectors,
            &Part {
                from: part.from.max(cutoff),
                ..*part
            },
            spare,
            whole && part.from >= cutoff,
        );
        if part.from >= cutoff {
            return newer;
        }
        let older = Part {
            to: part.to.min(cutoff - 1),
            ..*part
        };
        let mut data = Data::default();
        if let Err(error) = self.read_older(selectors, &older, spare, &mut data) {
            tracing::warn!(%error, "reading older points failed");
        }
        append(&mut data, newer);
        data
    }

    /// The series `selectors` match over `part`, from SQLite, per selector (tier
    /// points into buffers of `spare` first).
    fn read_older(
        &self,
        selectors: &[Selector],
        part: &Part,
        spare: &mut Spare,
        data: &mut Data,
    ) -> Result<(), StoreError> {
        let (from, to) = (part.from, part.to);
        for selector in selectors {
            let (metric, tags) = (&selector.metric, &selector.tags);
            let older = match tiers::choose(part.resolution_ms) {
                None => self.store.query(Some(metric), tags, from, to)?,
                Some(tier) => self
                    .store
                    .query_tier(metric, tags, tier, from, to)?
                    .into_iter()
                    .map(|((metric, tags), buckets)| {
                        let mut points = spare.take();
                        part.points_of(&buckets, &mut points);
                        Series {
                            metric,
                            tags,
                            points,
                            source: None,
                        }
                    })
                    .collect(),
            };
            data.series.extend(older);
        }
        // Two selectors may match one series: it is kept once.
        data.series.sort_by(by_key);
        data.series.dedup_by(|a, b| by_key(a, b) == Ordering::Equal);
        Ok(())
    }
}

impl Source for BuiltinSource {
    fn read(&self, query: &Query<'_>) -> Data {
        self.read_reusing(query, &mut Spare::default())
    }

    fn read_reusing(&self, query: &Query<'_>, spare: &mut Spare) -> Data {
        let mut data = Data::default();
        let parts = parts(&query.stretches, query.to);
        for part in &parts {
            append(
                &mut data,
                self.read_part(&query.selectors.series, part, spare, parts.len() == 1),
            );
        }
        data.series.sort_by(by_key);
        data
    }

    fn version(&self, selectors: &Selectors) -> u64 {
        self.memory.generation_of(&selectors.series)
    }

    fn watch(&self, selectors: &Selectors, notify: &Arc<Notify>) {
        self.memory.watch(&selectors.series, notify);
    }

    fn list(&self) -> Vec<SeriesInfo> {
        self.memory.list()
    }
}

/// The reads of `stretches` (oldest first, the last until `to`): adjacent stretches
/// that read the same tier (or raw points) as one, at the finer resolution (a
/// values-only read keeps a point per column of it), and each boundary after a tier's
/// stretch moved back to a start of that tier's buckets, so no bucket is cut between
/// two reads (it would draw its extremes at the cut; the finer read reads up to one
/// step more instead). A plan's resolutions fall from old to new, so the read after
/// a boundary is the finer one.
fn parts(stretches: &[ReadStretch], to: i64) -> Vec<Part> {
    let mut parts: Vec<Part> = Vec::new();
    for (i, stretch) in stretches.iter().enumerate() {
        let end = stretches
            .get(i + 1)
            .map_or(to, |next| next.from.saturating_sub(1))
            .min(to);
        let tier = tiers::choose(stretch.resolution_ms);
        let mut from = stretch.from;
        if let Some(previous) = parts.last_mut() {
            let previous_tier = tiers::choose(previous.resolution_ms);
            if previous_tier == tier {
                // One read of the tier: lines where either stretch needs them, values
                // at the finer stretch's columns.
                previous.to = previous.to.max(end);
                previous.values_only &= stretch.values_only;
                previous.resolution_ms = previous.resolution_ms.min(stretch.resolution_ms);
                continue;
            }
            if let Some(previous_tier) = previous_tier {
                from = tiers::start_of(from, tiers::STEPS_MS[previous_tier]).max(previous.from);
                previous.to = from - 1;
            }
            if previous.to < previous.from {
                parts.pop();
            }
        }
        if from <= end {
            parts.push(Part {
                from,
                to: end,
                resolution_ms: stretch.resolution_ms,
                values_only: stretch.values_only,
            });
        }
    }
    parts
}

/// Adds the points of `newer` series (all after any point of the same series in
/// `data`) after those of the same series of `data`, adding series `data` lacks; the
/// series end up sorted by metric and tags (a merge: the 1,000 series of a `sum` chart
/// cost no more than sorting them).
fn append(data: &mut Data, newer: Data) {
    let mut newer = newer.series;
    if data.series.is_empty() {
        data.series = newer;
        return;
    }
    data.series.sort_by(by_key);
    newer.sort_by(by_key);
    let older = std::mem::take(&mut data.series);
    let mut merged = Vec::with_capacity(older.len() + newer.len());
    let mut newer = newer.into_iter().peekable();
    for mut series in older {
        while let Some(before) = newer.next_if(|n| by_key(n, &series) == Ordering::Less) {
            merged.push(before);
        }
        if let Some(same) = newer.next_if(|n| by_key(n, &series) == Ordering::Equal) {
            series.points.extend(same.points);
        }
        merged.push(series);
    }
    merged.extend(newer);
    data.series = merged;
}

/// The order of series by metric, then tags.
fn by_key(a: &Series, b: &Series) -> Ordering {
    (&a.metric, &a.tags).cmp(&(&b.metric, &b.tags))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::ingest::Sample;
    use crate::source::Kept;

    const MINUTE: i64 = 60_000;

    /// `v` at `t` of `load{host}`.
    fn sample(host: usize, t: i64, v: f64) -> Sample {
        Sample {
            metric: "load".into(),
            tags: BTreeMap::from([("host".to_string(), host.to_string())]),
            t,
            v,
        }
    }

    /// Writes `samples` through `source`.
    fn write(source: &BuiltinSource, samples: &[Sample]) -> Result<(), TestCaseError> {
        source
            .write(&Batch::from_samples(samples), 10)
            .map_err(|e| TestCaseError::fail(e.to_string()))
    }

    /// Where two reads first differ: series, index and both points.
    fn first_difference(a: &Data, b: &Data) -> Option<String> {
        if a.series.len() != b.series.len() {
            return Some(format!("{} series, {}", a.series.len(), b.series.len()));
        }
        a.series.iter().zip(&b.series).find_map(|(a, b)| {
            let at = (0..a.points.len().max(b.points.len())).find(|&i| {
                a.points.get(i).map(|p| (p.t, p.v.to_bits()))
                    != b.points.get(i).map(|p| (p.t, p.v.to_bits()))
            })?;
            Some(format!(
                "{:?} at {at} of {} and {}: {:?} vs {:?}",
                a.tags,
                a.points.len(),
                b.points.len(),
                a.points.get(at),
                b.points.get(at)
            ))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        /// A values-only read that continues the one before (as a render task reads
        /// each frame: what was read before the earliest change kept, the rest read)
        /// gives what a fresh read gives, through points appended, older points
        /// rewritten, gaps, writes to some series only, the window moving on by part of
        /// a column or by several, and the resolution changing.
        #[test]
        fn a_continued_read_equals_a_fresh_one(
            steps in proptest::collection::vec(
                (0usize..3, 0u8..5, -40i64..0, 0i64..300_000),
                1..30,
            ),
        ) {
            let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
            let store = Arc::new(Store::open(dir.path()).map_err(|e| TestCaseError::fail(e.to_string()))?);
            let source = BuiltinSource::new(store, 40 * 86_400_000, Clock::System);
            let start = Clock::System.now_ms() / MINUTE * MINUTE;
            let history: Vec<Sample> = (0..360)
                .flat_map(|minute| (0..3).map(move |host| (minute, host)))
                .map(|(minute, host)| {
                    let t = start - minute * MINUTE + 7_000 * host as i64;
                    sample(host, t, (minute % 17) as f64 * (host + 1) as f64)
                })
                .collect();
            write(&source, &history)?;
            source
                .reach(&Horizons { raw_ms: MIN_RAW_MS, tier_ms: [86_400_000; TIERS] })
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let selectors = Selectors {
                series: vec![Selector { metric: "load".into(), tags: BTreeMap::new() }],
                promql: Vec::new(),
            };
            let (mut now, mut resolution_ms) = (start, 120_000);
            let mut kept = Kept::default();
            for (host, kind, minutes, advance_ms) in steps {
                match kind {
                    0 => write(&source, &[sample(host, now, now as f64 / 1e9)])?,
                    1 => write(&source, &[sample(host, now + minutes * MINUTE + 1, -(minutes as f64))])?,
                    2 => write(&source, &[sample(host, now, f64::NAN)])?,
                    3 => resolution_ms = if resolution_ms == 120_000 { 180_000 } else { 120_000 },
                    _ => {}
                }
                now += advance_ms;
                let query = Query {
                    selectors: &selectors,
                    stretches: vec![ReadStretch {
                        from: now - 6 * 60 * MINUTE,
                        resolution_ms,
                        values_only: true,
                    }],
                    to: now,
                };
                let mut spare = Spare::of(kept);
                let data = source.read_reusing(&query, &mut spare);
                kept = spare.keep(data);
                let fresh = source.read(&query);
                prop_assert!(fresh.series.iter().all(|s| s.points.len() > 50));
                prop_assert_eq!(first_difference(kept.data(), &fresh), None);
            }
        }
    }

    #[test]
    fn parts_merge_stretches_of_one_tier_and_cut_no_bucket() {
        let stretch = |from, resolution_ms| ReadStretch {
            from,
            resolution_ms,
            values_only: false,
        };
        let part = |from, to, resolution_ms| Part {
            from,
            to,
            resolution_ms,
            values_only: false,
        };
        let half_hour = tiers::STEPS_MS[3];
        let (start, hour_ago, to) = (0, 100 * half_hour + 1_234, 200 * half_hour);
        // 1 h per column (30 min buckets), then 3 and 2 s per column (both raw points,
        // read as one at the finer): the raw read starts at the bucket the hour's
        // stretch starts in.
        assert_eq!(
            parts(
                &[
                    stretch(start, 3_600_000),
                    stretch(hour_ago, 3_000),
                    stretch(hour_ago + 60_000, 2_000)
                ],
                to
            ),
            [
                part(start, 100 * half_hour - 1, 3_600_000),
                part(100 * half_hour, to, 2_000)
            ]
        );
        // A finer stretch starting inside the coarse one's first bucket replaces it.
        assert_eq!(
            parts(&[stretch(10, 3_600_000), stretch(20, 1)], to),
            [part(10, to, 1)]
        );
        assert_eq!(parts(&[], to), []);
    }
}
