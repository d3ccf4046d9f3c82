//! The seam itself: a [`Query`] (selectors, stretches of time, each at a resolution)
//! and the [`Source`] trait every data source implements.

use std::sync::Arc;

use render_core::{Data, ReadStretch};
use tokio::sync::Notify;

use super::memory::SeriesInfo;
use super::selector::Selectors;
use super::spare::Spare;

/// What a render (or the preview) asks of a source.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    /// The series wanted: each selector's matches (a series matched twice comes once),
    /// and each PromQL query's answer.
    pub selectors: &'a Selectors,
    /// The times wanted, oldest first, each at the time per pixel column of the finest
    /// panel drawing it (render-core's `ValidSpec::read_plan`): a stretch lasts from its
    /// `from` until the next one starts, the last until `to`. A source may answer a
    /// stretch with fewer points where that is all a column shows. (A PromQL query
    /// carries its own step and span.)
    pub stretches: Vec<ReadStretch>,
    /// Last time wanted, ms since the epoch.
    pub to: i64,
}

impl<'a> Query<'a> {
    /// `selectors` over `from..=to` at `resolution_ms` per pixel column.
    pub fn uniform(selectors: &'a Selectors, from: i64, to: i64, resolution_ms: i64) -> Self {
        Query {
            selectors,
            stretches: vec![ReadStretch {
                from,
                resolution_ms,
                values_only: false,
            }],
            to,
        }
    }
}

/// A source of series data.
pub trait Source: Send + Sync {
    /// The series `query` selects with their points in its stretches (a source ignores
    /// the selectors of other kinds).
    fn read(&self, query: &Query<'_>) -> Data;
    /// [`Source::read`] into the point buffers of `spare` (an earlier read's, emptied)
    /// before new ones; a source without buffers of its own to fill just reads.
    fn read_reusing(&self, query: &Query<'_>, spare: &mut Spare) -> Data {
        let _ = spare;
        self.read(query)
    }
    /// A number that only grows, whenever data a selector of `selectors` matches changes.
    fn version(&self, selectors: &Selectors) -> u64;
    /// Makes `notify` fire (keeping one permit) when data of `selectors` changes;
    /// changes of other series do not wake it. Dropping every clone of `notify` ends
    /// the registration (and a source polling for it stops).
    fn watch(&self, selectors: &Selectors, notify: &Arc<Notify>);
    /// Every known series with its latest point.
    fn list(&self) -> Vec<SeriesInfo>;
}
