//! [`Part`]: one read of the built-in store — a stretch of time at one resolution, from
//! memory or SQLite — and the points it takes of a tier's buckets.

use render_core::Point;

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
    /// one real point per bucket (its last) for values only, else the points that
    /// draw each bucket's first point, extremes and last point.
    pub fn points_of(&self, buckets: &[Bucket], out: &mut Vec<Point>) {
        out.reserve(buckets.len());
        match self.values_only {
            true => tiers::last_points(
                buckets.iter().map(Bucket::last_point),
                self.from,
                self.to,
                out,
            ),
            false => tiers::points_for_drawing(buckets, self.from, self.to, out),
        }
    }

    /// [`Part::points_of`] the buckets of `tier` memory holds in `held`; for values
    /// only without touching more of a bucket than its last point.
    pub fn points_of_held(&self, held: &SeriesTiers, tier: Tier, out: &mut Vec<Point>) {
        let (from, to) = (self.from, self.to);
        match self.values_only {
            true => {
                let lasts = held.lasts(tier, from, to);
                out.reserve(lasts.len());
                tiers::last_points(lasts, from, to, out);
            }
            false => {
                let buckets = held.read(tier, from, to);
                out.reserve(buckets.len());
                tiers::points_for_drawing(buckets, from, to, out);
            }
        }
    }
}
