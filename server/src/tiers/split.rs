//! [`SplitBuckets`]: the buckets of one tier of one series in memory, as two deques of
//! the same length and order — each bucket's last point apart from the rest of it.
//! A values-only read (one real point per bucket, its last: what a `sum` over 1,000
//! series reads) then streams 16 of each bucket's 72 bytes, not every cache line of
//! every bucket; a read that draws lines joins both halves again.

use std::collections::VecDeque;
use std::ops::Range;

use render_core::{Point, Timestamp};

use super::bucket::Bucket;

/// A [`Bucket`] without its last point.
#[derive(Debug, Clone, Copy)]
struct Head {
    start: Timestamp,
    first_t: Timestamp,
    first: f64,
    min: f64,
    max: f64,
    count: u32,
    sum: f64,
    gaps: u32,
}

impl Head {
    fn of(b: &Bucket) -> Head {
        Head {
            start: b.start,
            first_t: b.first_t,
            first: b.first,
            min: b.min,
            max: b.max,
            count: b.count,
            sum: b.sum,
            gaps: b.gaps,
        }
    }

    fn with_last(&self, last: Point) -> Bucket {
        Bucket {
            start: self.start,
            first_t: self.first_t,
            first: self.first,
            min: self.min,
            max: self.max,
            last_t: last.t,
            last: last.v,
            count: self.count,
            sum: self.sum,
            gaps: self.gaps,
        }
    }
}

/// Buckets sorted by start, one per start.
#[derive(Debug, Clone, Default)]
pub struct SplitBuckets {
    heads: VecDeque<Head>,
    /// `heads[i]`'s last point, for every `i`.
    lasts: VecDeque<Point>,
}

impl SplitBuckets {
    pub fn len(&self) -> usize {
        self.heads.len()
    }

    /// The start of the newest bucket.
    pub fn newest_start(&self) -> Option<Timestamp> {
        self.heads.back().map(|h| h.start)
    }

    /// The start of the oldest bucket.
    pub fn oldest_start(&self) -> Option<Timestamp> {
        self.heads.front().map(|h| h.start)
    }

    /// The index of the first bucket whose start is not before `start`.
    pub fn index_of(&self, start: Timestamp) -> usize {
        self.heads.partition_point(|h| h.start < start)
    }

    /// The bucket at `at`.
    pub fn get(&self, at: usize) -> Option<Bucket> {
        Some(self.heads.get(at)?.with_last(*self.lasts.get(at)?))
    }

    /// Overwrites the bucket at `at` (an index below [`SplitBuckets::len`]).
    pub fn set(&mut self, at: usize, b: &Bucket) {
        if let (Some(head), Some(last)) = (self.heads.get_mut(at), self.lasts.get_mut(at)) {
            *head = Head::of(b);
            *last = b.last_point();
        }
    }

    /// Inserts `b` before the bucket at `at`.
    pub fn insert(&mut self, at: usize, b: &Bucket) {
        self.heads.insert(at, Head::of(b));
        self.lasts.insert(at, b.last_point());
    }

    /// Drops the oldest bucket.
    pub fn pop_front(&mut self) {
        self.heads.pop_front();
        self.lasts.pop_front();
    }

    /// The indices of the buckets of width `step` that overlap `from..=to`.
    pub fn overlapping(&self, step: i64, from: Timestamp, to: Timestamp) -> Range<usize> {
        let first = self.first_from(from.saturating_sub(step).saturating_add(1), step);
        let end = self.first_from(to.saturating_add(1), step).max(first);
        first..end
    }

    /// The index of the first bucket whose start is not before `start`, for buckets of
    /// width `step`: starts are `step`s apart or more, so bucket `i` starts at least
    /// `i` steps after the oldest and at least `len − 1 − i` before the newest. Between
    /// those bounds — one or two buckets when none is missing — a binary search, not
    /// one over every bucket (a cache miss a probe, 1,000 series a frame).
    fn first_from(&self, start: Timestamp, step: i64) -> usize {
        let (Some(oldest), Some(newest)) = (self.oldest_start(), self.newest_start()) else {
            return 0;
        };
        if newest < start {
            return self.heads.len();
        }
        let step = step.max(1);
        let steps = |span: Timestamp| usize::try_from(span / step).unwrap_or(0);
        // Bucket `i` starts at or after `start` from `ceil((start − oldest) / step)` on.
        let gap = start.saturating_sub(oldest).max(0);
        let hi = self
            .heads
            .len()
            .min(steps(gap) + usize::from(gap % step != 0));
        // Those more than `(newest − start) / step` buckets before the newest start
        // before `start`.
        let mut lo = self
            .heads
            .len()
            .saturating_sub(1 + steps(newest.saturating_sub(start)));
        let mut hi = hi.max(lo);
        while lo < hi {
            let middle = lo + (hi - lo) / 2;
            match self.heads.get(middle).is_some_and(|h| h.start < start) {
                true => lo = middle + 1,
                false => hi = middle,
            }
        }
        lo
    }

    /// The buckets at `range`, in order.
    pub fn buckets(&self, range: Range<usize>) -> impl ExactSizeIterator<Item = Bucket> + '_ {
        let lasts = self.lasts.range(range.clone());
        self.heads
            .range(range)
            .zip(lasts)
            .map(|(head, last)| head.with_last(*last))
    }

    /// The last points of the buckets at `range`, in order.
    pub fn lasts(&self, range: Range<usize>) -> impl ExactSizeIterator<Item = Point> + '_ {
        self.lasts.range(range).copied()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The bounded search finds what a search over every bucket finds, with
        /// buckets missing here and there.
        #[test]
        fn first_from_is_the_partition_point(
            holes in proptest::collection::vec(0i64..4, 0..60),
            start in -50i64..400,
            step in 1i64..8,
        ) {
            let mut at = 0;
            let points: Vec<Point> = holes
                .into_iter()
                .map(|hole| {
                    // Now and then a run of missing buckets.
                    at += step * (1 + if hole == 3 { 5 } else { hole / 2 });
                    Point { t: at, v: 1.0 }
                })
                .collect();
            let mut buckets = SplitBuckets::default();
            for b in crate::tiers::bucket::rollup(&points, step) {
                buckets.insert(buckets.len(), &b);
            }
            let expected = buckets.heads.partition_point(|h| h.start < start);
            prop_assert_eq!(buckets.first_from(start, step), expected);
        }
    }
}
