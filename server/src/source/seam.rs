//! The seam itself: a [`Query`] (selectors, time range, resolution) and the
//! [`Source`] trait every data source implements.

use std::sync::Arc;

use render_core::Data;
use tokio::sync::Notify;

use super::memory::SeriesInfo;
use super::selector::Selectors;

/// What a render (or the preview) asks of a source.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// The series wanted: each selector's matches (a series matched twice comes once),
    /// and each PromQL query's answer.
    pub selectors: &'a Selectors,
    /// First time wanted, ms since the epoch.
    pub from: i64,
    /// Last time wanted.
    pub to: i64,
    /// Time per pixel column of the finest panel drawing these series, in ms (1 when
    /// unknown): a source may answer with fewer points where that is all a column shows.
    pub resolution_ms: i64,
}

/// A source of series data.
pub trait Source: Send + Sync {
    /// The series `query` selects with their points in `from..=to` (a source ignores
    /// the selectors of other kinds).
    fn read(&self, query: &Query<'_>) -> Data;
    /// A number that only grows, whenever data a selector of `selectors` matches changes.
    fn version(&self, selectors: &Selectors) -> u64;
    /// Makes `notify` fire (keeping one permit) when data of `selectors` changes;
    /// changes of other series do not wake it. Dropping every clone of `notify` ends
    /// the registration (and a source polling for it stops).
    fn watch(&self, selectors: &Selectors, notify: &Arc<Notify>);
    /// Every known series with its latest point.
    fn list(&self) -> Vec<SeriesInfo>;
}
