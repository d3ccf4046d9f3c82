//! One series' tier buckets in memory: a bounded deque per tier (last points apart:
//! [`SplitBuckets`]) that charts read and writes update, either by appending points or
//! with the buckets SQLite now holds.

use render_core::{Point, Timestamp};

use super::bucket::Bucket;
use super::split::SplitBuckets;
use super::steps::{Tier, TierConfig, STEPS_MS, TIERS};

/// The buckets of one series, per tier, newest last. Tier `k` holds at most
/// `memory_ms[k] / step + 1` buckets (the oldest go first), and [`SeriesTiers::trim`]
/// drops those that ended before the memory horizon.
#[derive(Debug, Clone)]
pub struct SeriesTiers {
    tiers: [SplitBuckets; TIERS],
    memory_ms: [i64; TIERS],
}

impl SeriesTiers {
    /// Empty tiers with the memory horizons of `config`.
    pub fn new(config: &TierConfig) -> SeriesTiers {
        SeriesTiers {
            tiers: Default::default(),
            memory_ms: config.memory_ms,
        }
    }

    /// The most buckets `tier` holds: all that overlap the horizon, none without one.
    fn capacity(&self, tier: Tier) -> usize {
        match self.memory_ms[tier] {
            ..=0 => 0,
            ms => usize::try_from(ms / STEPS_MS[tier] + 1).unwrap_or(usize::MAX),
        }
    }

    /// Adds `points` (sorted by time, one per time) at every tier. The fast path, for
    /// points later than everything held: it touches only the newest buckets. Earlier
    /// points are merged into their buckets too, but a timestamp held before then counts
    /// twice: after out-of-order writes, use [`SeriesTiers::replace`] with the buckets
    /// `sql::apply` returns (as the server does; this path is what the tests compare
    /// `replace` with).
    #[cfg(test)]
    pub fn append(&mut self, points: &[render_core::Point]) {
        for (tier, buckets) in super::bucket::ladder(points).iter().enumerate() {
            for b in buckets {
                self.put(tier, b, super::bucket::merge);
            }
        }
    }

    /// Replaces (or adds) `buckets` of `tier` — recomputed, e.g. by `sql::apply`.
    pub fn replace(&mut self, tier: Tier, buckets: &[Bucket]) {
        for b in buckets {
            self.put(tier, b, |held, b| *held = *b);
        }
    }

    /// Puts `b` into `tier`: `combine`d with the bucket of the same start, else inserted
    /// in order; then the oldest beyond the tier's capacity go.
    fn put(&mut self, tier: Tier, b: &Bucket, combine: impl Fn(&mut Bucket, &Bucket)) {
        let capacity = self.capacity(tier);
        let buckets = &mut self.tiers[tier];
        // Usually the newest bucket, or after it: check there before searching.
        let at = match buckets.newest_start() {
            Some(newest) if newest < b.start => buckets.len(),
            _ => buckets.index_of(b.start),
        };
        match buckets.get(at) {
            Some(mut held) if held.start == b.start => {
                combine(&mut held, b);
                buckets.set(at, &held);
            }
            _ => buckets.insert(at, b),
        }
        while buckets.len() > capacity {
            buckets.pop_front();
        }
    }

    /// The buckets of `tier` that overlap `from..=to`, in time order.
    pub fn read(
        &self,
        tier: Tier,
        from: Timestamp,
        to: Timestamp,
    ) -> impl ExactSizeIterator<Item = Bucket> + '_ {
        let buckets = &self.tiers[tier];
        buckets.buckets(buckets.overlapping(STEPS_MS[tier], from, to))
    }

    /// The last points of the buckets [`SeriesTiers::read`] reads, without the rest
    /// of the buckets.
    pub fn lasts(
        &self,
        tier: Tier,
        from: Timestamp,
        to: Timestamp,
    ) -> impl ExactSizeIterator<Item = Point> + '_ {
        let buckets = &self.tiers[tier];
        buckets.lasts(buckets.overlapping(STEPS_MS[tier], from, to))
    }

    /// Drops the buckets of each tier that ended before `now` minus its memory horizon.
    pub fn trim(&mut self, now: Timestamp) {
        for (tier, buckets) in self.tiers.iter_mut().enumerate() {
            let horizon = now.saturating_sub(self.memory_ms[tier]);
            while buckets
                .oldest_start()
                .is_some_and(|start| start.saturating_add(STEPS_MS[tier]) <= horizon)
            {
                buckets.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use render_core::Point;

    use super::*;
    use crate::tiers::bucket::ladder;
    use crate::tiers::bucket::tests::{keys, points};

    fn unbounded() -> TierConfig {
        TierConfig {
            memory_ms: [i64::MAX / 2; TIERS],
            ..TierConfig::default()
        }
    }

    proptest! {
        /// Appending the points batch by batch holds the rollup of all of them, at
        /// every tier.
        #[test]
        fn appending_batches_equals_the_rollup_of_all_points(
            points in points(400),
            cuts in prop::collection::vec(0.0..1.0f64, 0..6),
        ) {
            let mut at: Vec<usize> = cuts.iter().map(|c| (c * points.len() as f64) as usize).collect();
            at.extend([0, points.len()]);
            at.sort_unstable();
            let mut tiers = SeriesTiers::new(&unbounded());
            for w in at.windows(2) {
                tiers.append(&points[w[0]..w[1]]);
            }
            for (tier, expected) in ladder(&points).iter().enumerate() {
                prop_assert_eq!(keys(tiers.read(tier, i64::MIN, i64::MAX)), keys(expected));
            }
        }

        /// The last points a values-only read takes (kept apart from the rest of the
        /// buckets) are the last points of the buckets a full read gives, in any window.
        #[test]
        fn last_points_alone_are_those_of_the_buckets_read(
            points in points(300),
            from in 0i64..200_000_000,
            span in 0i64..200_000_000,
        ) {
            let mut tiers = SeriesTiers::new(&unbounded());
            tiers.append(&points);
            let from = 1_700_000_000_000 - 10_800_000 * 7 + from;
            for tier in 0..TIERS {
                let lasts: Vec<Point> = tiers.lasts(tier, from, from + span).collect();
                let of_buckets: Vec<Point> =
                    tiers.read(tier, from, from + span).map(|b| b.last_point()).collect();
                prop_assert_eq!(lasts.len(), of_buckets.len());
                for (a, b) in lasts.iter().zip(&of_buckets) {
                    prop_assert!(a.t == b.t && a.v.to_bits() == b.v.to_bits(), "{:?} {:?}", a, b);
                }
            }
        }

        /// Replacing buckets in any order gives the same tiers as appending them.
        #[test]
        fn replacing_in_any_order_equals_appending(points in points(300), seed in any::<u64>()) {
            let mut appended = SeriesTiers::new(&unbounded());
            appended.append(&points);
            let mut replaced = SeriesTiers::new(&unbounded());
            for (tier, buckets) in ladder(&points).iter().enumerate() {
                let mut shuffled = buckets.clone();
                let n = shuffled.len().max(1) as u64;
                for i in 0..shuffled.len() {
                    shuffled.swap(i, (seed.wrapping_mul(i as u64 + 1) % n) as usize);
                }
                replaced.replace(tier, &shuffled);
            }
            for tier in 0..TIERS {
                let all = |t: &SeriesTiers| keys(t.read(tier, i64::MIN, i64::MAX));
                prop_assert_eq!(all(&replaced), all(&appended));
            }
        }
    }

    #[test]
    fn memory_is_bounded_per_tier_and_trimmed_to_the_horizon() {
        let config = TierConfig::default();
        let mut tiers = SeriesTiers::new(&config);
        // Three days of one point every 5 s.
        let points: Vec<Point> = (0..3 * 17_280)
            .map(|i| Point {
                t: i * 5_000,
                v: i as f64,
            })
            .collect();
        for chunk in points.chunks(1_000) {
            tiers.append(chunk);
        }
        let held = |t: &SeriesTiers, tier| t.read(tier, i64::MIN, i64::MAX).count();
        assert_eq!(held(&tiers, 0), tiers.capacity(0));
        assert_eq!(tiers.capacity(0), 6_001);
        // The size the memory bound in the module docs is computed with.
        assert_eq!(std::mem::size_of::<Bucket>(), 72);
        assert_eq!(held(&tiers, 2), 3 * 288);
        let mut none = SeriesTiers::new(&TierConfig {
            memory_ms: [0; TIERS],
            ..config.clone()
        });
        none.append(&points);
        assert!((0..TIERS).all(|tier| held(&none, tier) == 0));
        let now = 3 * 86_400_000;
        tiers.trim(now);
        assert_eq!(held(&tiers, 0), 6_000);
        let oldest = tiers.read(0, i64::MIN, i64::MAX).next().map(|b| b.start);
        assert_eq!(oldest, Some(now - config.memory_ms[0]));
        // Reading a window returns the buckets that overlap it.
        let window: Vec<i64> = tiers.read(2, 299_999, 600_000).map(|b| b.start).collect();
        assert_eq!(window, [0, 300_000, 600_000]);
    }
}
