//! [`Part`]: one read of the built-in store — a stretch of time at one resolution, from
//! memory or SQLite — and the points it takes of a tier's buckets.

use render_core::Point;

use crate::tiers::{self, Bucket};

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
    pub fn points_of<'a>(
        &self,
        buckets: impl IntoIterator<Item = &'a Bucket>,
        out: &mut Vec<Point>,
    ) {
        match self.values_only {
            true => tiers::last_points(buckets, self.from, self.to, out),
            false => tiers::points_for_drawing(buckets, self.from, self.to, out),
        }
    }
}
