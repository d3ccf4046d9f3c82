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
//! **Memory follows the charts.** Memory holds raw points for the last hour at least,
//! and of each tier only as far back as a published chart reads it (a 30-day chart at
//! 800 px reads the 30-minute tier: 1,440 buckets per series). A read reaching further
//! back than memory (the editor previewing a window no published chart has) gets the
//! older part from SQLite: the same points memory will hold once a chart with that
//! window is published.

use std::sync::{Arc, Mutex};

use render_core::{Data, Series, ValidSpec};
use tokio::sync::Notify;

use super::memory::{Horizons, Memory, SeriesInfo};
use super::seam::{Query, Source};
use super::selector::Selectors;
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

    /// What memory must hold for `spec`: its data range at the resolution it draws
    /// at (raw points, or the tier that resolution picks), and an hour of raw points.
    pub fn needs(spec: &ValidSpec) -> Horizons {
        let (from, _) = spec.data_range(0);
        let span = from.saturating_neg().saturating_add(SLACK_MS);
        let mut needs = Horizons {
            raw_ms: MIN_RAW_MS,
            tier_ms: [0; TIERS],
        };
        match tiers::choose(spec.time_resolution_ms().unwrap_or(1)) {
            Some(tier) => needs.tier_ms[tier] = span.saturating_add(tiers::STEPS_MS[tier]),
            None => needs.raw_ms = needs.raw_ms.max(span),
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

    /// The part of `query` before memory's horizon, from SQLite, per selector.
    fn read_older(&self, query: &Query<'_>, to: i64, data: &mut Data) -> Result<(), StoreError> {
        let tier = tiers::choose(query.resolution_ms);
        for selector in &query.selectors.series {
            let (metric, tags) = (&selector.metric, &selector.tags);
            let older = match tier {
                None => self.store.query(Some(metric), tags, query.from, to)?,
                Some(tier) => self
                    .store
                    .query_tier(metric, tags, tier, query.from, to)?
                    .into_iter()
                    .map(|((metric, tags), buckets)| {
                        let mut points = Vec::new();
                        tiers::points_for_drawing(&buckets, query.from, to, &mut points);
                        Series {
                            metric,
                            tags,
                            points,
                            source: None,
                        }
                    })
                    .collect(),
            };
            prepend(data, older);
        }
        Ok(())
    }
}

impl Source for BuiltinSource {
    fn read(&self, query: &Query<'_>) -> Data {
        let horizons = self.memory.horizons();
        let reach = match tiers::choose(query.resolution_ms) {
            Some(tier) => horizons.tier_ms[tier],
            None => horizons.raw_ms,
        };
        let cutoff = self.clock.now_ms().saturating_sub(reach);
        let mut data = self.memory.read(
            &query.selectors.series,
            query.from.max(cutoff),
            query.to,
            query.resolution_ms,
        );
        if query.from < cutoff {
            let to = query.to.min(cutoff - 1);
            if let Err(error) = self.read_older(query, to, &mut data) {
                tracing::warn!(%error, "reading older points failed");
            }
        }
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

/// Puts the points of `older` series (all before any point of `data`) in front of the
/// same series of `data`, adding series `data` lacks.
fn prepend(data: &mut Data, older: Vec<Series>) {
    for series in older {
        let same = data
            .series
            .iter_mut()
            .find(|s| s.metric == series.metric && s.tags == series.tags);
        match same {
            Some(newer) => {
                let mut points = series.points;
                points.append(&mut newer.points);
                newer.points = points;
            }
            None => data.series.push(series),
        }
    }
}
