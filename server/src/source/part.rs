//! [`Part`]: one read of the built-in store — a stretch of time at one resolution, from
//! memory or SQLite — and the points it takes of a tier's buckets, whole or, for
//! values only, continuing an earlier read of them.

use render_core::{Point, Timestamp};

use crate::tiers::{self, Bucket, SeriesTiers, Tier};

/// `from..=to` at `resolution_ms` per pixel column, values only or not
/// (render-core's `ReadStretch::values_only`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub from: i64,
    pub to: i64,
    pub resolution_ms: i64,
    pub values_only: bool,
}

impl Part {
    /// Appends to `out` the points of `buckets` (sorted by start) this part reads:
    /// for values only one real point per pixel column of its resolution (the last
    /// bucket's last point there), else the points that draw each bucket's first
    /// point, extremes and last point.
    pub fn points_of(&self, buckets: &[Bucket], out: &mut Vec<Point>) {
        self.points(
            || buckets.iter().map(Bucket::last_point),
            || buckets.iter(),
            out,
        );
    }

    /// [`Part::points_of`] the buckets of `tier` memory holds in `held`; for values
    /// only without touching more of a bucket than its last point.
    pub fn points_of_held(&self, held: &SeriesTiers, tier: Tier, out: &mut Vec<Point>) {
        let (from, to) = (self.from, self.to);
        self.points(
            || held.lasts(tier, from, to),
            || held.read(tier, from, to),
            out,
        );
    }

    /// Makes `points`, the values-only points `earlier` read of the buckets of `tier`
    /// in `held` before anything from `changed_from` on changed there, what this part
    /// reads of them now: the columns `earlier` read whole that start before the
    /// bucket of `changed_from` are kept (those before this part's `from` dropped),
    /// the rest read. Columns count from the epoch, so each kept one is what a read
    /// of its own gives. Returns `false`, with `points` untouched, where this part does
    /// not continue `earlier` (another resolution, or a window that did not move on).
    pub fn continue_values(
        &self,
        earlier: &Part,
        changed_from: Timestamp,
        held: &SeriesTiers,
        tier: Tier,
        points: &mut Vec<Point>,
    ) -> bool {
        let continues = self.values_only
            && earlier.values_only
            && self.resolution_ms == earlier.resolution_ms
            && self.from >= earlier.from
            && self.to >= earlier.to;
        if !continues {
            return false;
        }
        let column_ms = self.resolution_ms.max(1);
        let changed = tiers::start_of(changed_from, tiers::STEPS_MS[tier]);
        // The column `earlier` ended in may have had points after its `to`.
        let redo = tiers::start_of(changed.min(earlier.to.saturating_add(1)), column_ms);
        // Scans from the ends, not binary searches: what changed is usually the last
        // point or two, what the window left the first or none, and a search would
        // miss the cache a probe (a read of 1,000 series a frame).
        let redone = points.iter().rev().take_while(|p| p.t >= redo).count();
        points.truncate(points.len() - redone);
        points.drain(..points.iter().take_while(|p| p.t < self.from).count());
        let from = self.from.max(redo);
        tiers::last_points(
            held.lasts(tier, from, self.to),
            from,
            self.to,
            column_ms,
            points,
        );
        true
    }

    /// The choice of both: `lasts` for values only, else `buckets` (each asked only
    /// when taken).
    fn points<L, B>(
        &self,
        lasts: impl FnOnce() -> L,
        buckets: impl FnOnce() -> B,
        out: &mut Vec<Point>,
    ) where
        L: ExactSizeIterator<Item = Point>,
        B: ExactSizeIterator<Item: std::borrow::Borrow<Bucket>>,
    {
        let (from, to) = (self.from, self.to);
        if self.values_only {
            tiers::last_points(lasts(), from, to, self.resolution_ms, out);
        } else {
            let buckets = buckets();
            out.reserve(buckets.len());
            tiers::points_for_drawing(buckets, from, to, out);
        }
    }
}
