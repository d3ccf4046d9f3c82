//! One tier bucket — what the raw points of one time step keep (first, min, max, last,
//! count, sum, gaps) — and the three ways buckets are made: from points ([`rollup`],
//! [`ladder`]), from two buckets of the same step ([`merge`]) and from finer buckets
//! ([`coarsen`]).

use render_core::{Point, Timestamp};

use super::steps::{STEPS_MS, TIERS};

/// The points of one series in one step `[start, start + step)`.
///
/// Non-finite values (NaN, ±Inf) are gaps: they count in `gaps` and never in `count`,
/// `min`, `max` or `sum`. `first` and `last` are the bucket's first and last points
/// whatever their value (NaN when that point is a gap), so a gap at a bucket's edge
/// stays exactly where it was; a gap strictly inside a bucket shows as
/// `gaps > 0` with finite `first` and `last` (see [`Bucket::inner_gaps`]). A bucket of
/// gaps only has `count == 0`, NaN `min`/`max` and `sum == 0`.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    /// Start of the step, ms (a multiple of the step).
    pub start: Timestamp,
    /// Time of the first point, ms.
    pub first_t: Timestamp,
    /// Value of the first point (NaN for a gap).
    pub first: f64,
    /// Lowest finite value (NaN when `count == 0`).
    pub min: f64,
    /// Highest finite value (NaN when `count == 0`).
    pub max: f64,
    /// Time of the last point, ms.
    pub last_t: Timestamp,
    /// Value of the last point (NaN for a gap).
    pub last: f64,
    /// Finite points.
    pub count: u32,
    /// Sum of the finite values, in time order (exact up to floating-point rounding: a
    /// bucket merged from parts adds the parts' sums).
    pub sum: f64,
    /// Non-finite points.
    pub gaps: u32,
}

impl Bucket {
    /// The bucket of the single point `p`, in the step starting at `start`.
    fn of(start: Timestamp, p: Point) -> Bucket {
        let finite = p.v.is_finite();
        let v = if finite { p.v } else { f64::NAN };
        Bucket {
            start,
            first_t: p.t,
            first: v,
            min: v,
            max: v,
            last_t: p.t,
            last: v,
            count: u32::from(finite),
            sum: if finite { v } else { 0.0 },
            gaps: u32::from(!finite),
        }
    }

    /// The bucket's last point (NaN for a gap).
    pub fn last_point(&self) -> Point {
        Point {
            t: self.last_t,
            v: self.last,
        }
    }

    /// Every point the bucket holds, finite or not.
    pub fn points(&self) -> u64 {
        u64::from(self.count) + u64::from(self.gaps)
    }

    /// Gaps that are neither the first nor the last point: the line breaks somewhere
    /// inside the bucket, where exactly is not known.
    pub fn inner_gaps(&self) -> u32 {
        let first = u32::from(self.first.is_nan());
        let last = u32::from(self.last.is_nan() && self.last_t != self.first_t);
        self.gaps.saturating_sub(first + last)
    }
}

/// Start of the step of width `step` (ms, > 0) that holds `t`.
pub fn start_of(t: Timestamp, step: i64) -> Timestamp {
    t.div_euclid(step).saturating_mul(step)
}

/// Buckets of width `step` (ms, > 0) of `points` (sorted by time, one point per time),
/// in time order; steps without points have no bucket.
pub fn rollup(points: &[Point], step: i64) -> Vec<Bucket> {
    let mut out: Vec<Bucket> = Vec::new();
    for &p in points {
        let one = Bucket::of(start_of(p.t, step), p);
        match out.last_mut() {
            Some(bucket) if bucket.start == one.start => merge(bucket, &one),
            _ => out.push(one),
        }
    }
    out
}

/// Adds `other` — points of the same step that `into` does not hold — to `into`. Made
/// for `other` being later than everything in `into` (appending), but order-agnostic:
/// the earlier first and the later last win. A timestamp both hold counts twice.
pub fn merge(into: &mut Bucket, other: &Bucket) {
    if other.first_t < into.first_t {
        into.first_t = other.first_t;
        into.first = other.first;
    }
    if other.last_t > into.last_t {
        into.last_t = other.last_t;
        into.last = other.last;
    }
    // `f64::min`/`max` ignore a NaN operand: a bucket of gaps only changes nothing.
    into.min = into.min.min(other.min);
    into.max = into.max.max(other.max);
    into.count = into.count.saturating_add(other.count);
    into.sum += other.sum;
    into.gaps = into.gaps.saturating_add(other.gaps);
}

/// Buckets of the coarser width `step` (ms; a multiple of the buckets' width) from
/// `buckets` (sorted by start), in time order.
pub fn coarsen(buckets: &[Bucket], step: i64) -> Vec<Bucket> {
    let mut out: Vec<Bucket> = Vec::new();
    for b in buckets {
        let start = start_of(b.start, step);
        match out.last_mut() {
            Some(coarse) if coarse.start == start => merge(coarse, b),
            _ => out.push(Bucket { start, ..*b }),
        }
    }
    out
}

/// The buckets of `points` (sorted by time, one per time) at every tier: the finest
/// rolled up from the points, each coarser one from the tier below. This is what every
/// tier holds, by definition; memory and SQLite are kept equal to it.
pub fn ladder(points: &[Point]) -> [Vec<Bucket>; TIERS] {
    let mut tiers: [Vec<Bucket>; TIERS] = Default::default();
    tiers[0] = rollup(points, STEPS_MS[0]);
    for tier in 1..TIERS {
        tiers[tier] = coarsen(&tiers[tier - 1], STEPS_MS[tier]);
    }
    tiers
}

#[cfg(test)]
pub(crate) mod tests {
    use std::borrow::Borrow;

    use proptest::prelude::*;

    use super::*;

    /// A bucket as comparable bits (NaN equals NaN; -0.0 and 0.0 differ, which the
    /// code never produces differently for the same points).
    pub(crate) type Key = (i64, i64, u64, u64, u64, i64, u64, u32, u64, u32);

    pub(crate) fn key(b: &Bucket) -> Key {
        let bits = |v: f64| {
            if v.is_nan() {
                f64::NAN.to_bits()
            } else {
                v.to_bits()
            }
        };
        (
            b.start,
            b.first_t,
            bits(b.first),
            bits(b.min),
            bits(b.max),
            b.last_t,
            bits(b.last),
            b.count,
            bits(b.sum),
            b.gaps,
        )
    }

    pub(crate) fn keys(buckets: impl IntoIterator<Item = impl Borrow<Bucket>>) -> Vec<Key> {
        buckets.into_iter().map(|b| key(b.borrow())).collect()
    }

    /// A value: mostly multiples of 1/8 below 2^13 in magnitude, whose sums are exact in
    /// any order (so merged and from-scratch sums compare exactly), and gaps.
    pub(crate) fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            8 => (-65_536i32..65_536).prop_map(|k| f64::from(k) / 8.0),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
        ]
    }

    /// Sorted points, one per time, with steps from 1 ms to hours between them (so
    /// buckets of every tier hold one, a few or many points).
    pub(crate) fn points(max: usize) -> impl Strategy<Value = Vec<Point>> {
        let gap = prop_oneof![1i64..50, 1i64..20_000, 1i64..4_000_000];
        prop::collection::vec((gap, value()), 0..max).prop_map(|raw| {
            let mut t = 1_700_000_000_000 - 10_800_000 * 7;
            raw.into_iter()
                .map(|(dt, v)| {
                    t += dt;
                    Point { t, v }
                })
                .collect()
        })
    }

    /// The bucket of a step, computed from its points directly (not with [`merge`]).
    fn by_definition(start: Timestamp, points: &[Point]) -> Bucket {
        let finite: Vec<f64> = points
            .iter()
            .map(|p| p.v)
            .filter(|v| v.is_finite())
            .collect();
        let value = |p: &Point| if p.v.is_finite() { p.v } else { f64::NAN };
        let (first, last) = (points[0], points[points.len() - 1]);
        Bucket {
            start,
            first_t: first.t,
            first: value(&first),
            min: finite.iter().copied().reduce(f64::min).unwrap_or(f64::NAN),
            max: finite.iter().copied().reduce(f64::max).unwrap_or(f64::NAN),
            last_t: last.t,
            last: value(&last),
            count: finite.len() as u32,
            sum: finite.iter().fold(0.0, |sum, v| sum + v),
            gaps: (points.len() - finite.len()) as u32,
        }
    }

    proptest! {
        /// Every tier of the ladder holds, per step, the bucket its points define; so
        /// coarsening finer buckets equals rolling the points up at the coarser step.
        #[test]
        fn ladder_holds_the_buckets_the_points_define(points in points(400)) {
            for (tier, buckets) in ladder(&points).iter().enumerate() {
                let step = STEPS_MS[tier];
                let expected: Vec<Bucket> = points
                    .chunk_by(|a, b| start_of(a.t, step) == start_of(b.t, step))
                    .map(|run| by_definition(start_of(run[0].t, step), run))
                    .collect();
                prop_assert_eq!(keys(buckets), keys(&expected));
                prop_assert_eq!(keys(buckets), keys(rollup(&points, step)));
            }
        }

        /// Merging the rollups of two halves gives the rollup of the whole.
        #[test]
        fn merging_halves_equals_the_rollup_of_all(points in points(300), split in 0.0..1.0f64) {
            let at = (points.len() as f64 * split) as usize;
            for step in STEPS_MS {
                let mut merged = rollup(&points[..at], step);
                for b in rollup(&points[at..], step) {
                    match merged.last_mut() {
                        Some(last) if last.start == b.start => merge(last, &b),
                        _ => merged.push(b),
                    }
                }
                prop_assert_eq!(keys(&merged), keys(rollup(&points, step)));
            }
        }
    }

    #[test]
    fn gaps_are_counted_and_kept_at_the_edges() {
        let p = |t, v| Point { t, v };
        let nan = f64::NAN;
        let buckets = rollup(
            &[
                p(0, nan),
                p(1, 2.0),
                p(2, f64::INFINITY),
                p(3, 1.0),
                p(10_000, nan),
            ],
            10_000,
        );
        assert_eq!(buckets.len(), 2);
        let (a, b) = (buckets[0], buckets[1]);
        assert!(a.first.is_nan() && a.last == 1.0);
        assert_eq!(
            (a.min, a.max, a.count, a.sum, a.gaps),
            (1.0, 2.0, 2, 3.0, 2)
        );
        assert_eq!((a.points(), a.inner_gaps()), (4, 1));
        assert!(b.first.is_nan() && b.last.is_nan() && b.min.is_nan());
        assert_eq!((b.count, b.sum, b.gaps, b.inner_gaps()), (0, 0.0, 1, 0));
        assert_eq!(start_of(-1, 10_000), -10_000);
    }
}
