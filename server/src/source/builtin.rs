//! [`BuiltinSource`]: the built-in store as a [`Source`] — SQLite is the truth, the
//! in-memory windows answer reads.
//!
//! **Acknowledged means visible.** Every change of the windows is ordered by one lock:
//! a write holds it from its commit until its points are in memory, and a reload
//! (after a chart asks for a longer window) holds it from reading SQLite until the new
//! windows are swapped in. So a reload can never replace the windows with a read of
//! SQLite taken before a write committed while dropping that write's points (the
//! "acknowledged batch missing from every chart until a restart" bug). Reads take
//! only the windows' short locks.
//!
//! A read reaching further back than the windows (the editor previewing a longer
//! window than any published chart) gets the older part from SQLite: the same points
//! the windows will hold once a chart with that window is published.

use std::sync::{Arc, Mutex};

use render_core::{Data, Series};
use tokio::sync::Notify;

use super::memory::{Memory, SeriesInfo};
use super::seam::{Query, Source};
use super::selector::Selector;
use crate::clock::Clock;
use crate::ingest::Batch;
use crate::store::{Store, StoreError};

/// The built-in source.
pub struct BuiltinSource {
    store: Arc<Store>,
    memory: Memory,
    /// Orders writes (commit + insert into memory) and reloads; see the module docs.
    order: Mutex<()>,
    /// The windows never reach further back than the point retention.
    retention_ms: i64,
    clock: Clock,
}

impl BuiltinSource {
    /// A source over `store` holding nothing in memory yet (see [`BuiltinSource::reach`]).
    pub fn new(store: Arc<Store>, retention_ms: i64, clock: Clock) -> BuiltinSource {
        BuiltinSource {
            store,
            memory: Memory::new(0),
            order: Mutex::new(()),
            retention_ms,
            clock,
        }
    }

    /// Stores a batch (one transaction; blocking) and, before any reload can start,
    /// makes it visible to every reader.
    pub fn write(&self, batch: &Batch, max_series: usize) -> Result<(), StoreError> {
        let _order = self.order.lock().map_err(|_| StoreError::Poisoned)?;
        self.store.write_batch(batch, max_series)?;
        self.memory.insert_batch(batch, self.clock.now_ms());
        Ok(())
    }

    /// Makes the windows reach `horizon_ms` back (at most the retention), reloading
    /// them from SQLite if they reach less (blocking).
    pub fn reach(&self, horizon_ms: i64) -> Result<(), StoreError> {
        let horizon = horizon_ms.min(self.retention_ms).max(1);
        let _order = self.order.lock().map_err(|_| StoreError::Poisoned)?;
        if horizon <= self.memory.horizon_ms() {
            return Ok(());
        }
        let now = self.clock.now_ms();
        let series = self.store.load_since(now.saturating_sub(horizon))?;
        self.memory.reset(horizon, series, now);
        Ok(())
    }

    /// Drops points that fell out of the windows.
    pub fn trim(&self) {
        self.memory.trim(self.clock.now_ms());
    }
}

impl Source for BuiltinSource {
    fn read(&self, query: &Query<'_>) -> Data {
        let cutoff = self.clock.now_ms().saturating_sub(self.memory.horizon_ms());
        let mut data = self
            .memory
            .read(query.selectors, query.from.max(cutoff), query.to);
        if query.from < cutoff {
            let to = query.to.min(cutoff - 1);
            for selector in query.selectors {
                match self
                    .store
                    .query(Some(&selector.metric), &selector.tags, query.from, to)
                {
                    Ok(older) => prepend(&mut data, older),
                    Err(error) => tracing::warn!(%error, "reading older points failed"),
                }
            }
        }
        data
    }

    fn version(&self, selectors: &[Selector]) -> u64 {
        self.memory.generation_of(selectors)
    }

    fn watch(&self, selectors: &[Selector]) -> Arc<Notify> {
        self.memory.watch(selectors)
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
