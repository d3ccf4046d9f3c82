//! M4 downsampling (Jugel et al., VLDB 2014): per pixel column keep the first, minimum,
//! maximum and last point. A line through those is the line through every point, and
//! drawing costs at most four points per column however many points there are.
//!
//! Also splits a series into runs at gaps: non-finite values, and pauses much longer
//! than the series' usual interval. Both happen in one pass over the points, which may
//! be a million.

use crate::data::{Point, Timestamp};

/// A gap is a pause longer than this many times the median interval.
const GAP_FACTOR: i64 = 5;

/// Intervals sampled for the median: enough to be representative, few enough to be
/// cheap for a million points.
const MEDIAN_SAMPLE: usize = 4096;

/// The longest pause that is not a gap: [`GAP_FACTOR`] × the median interval of
/// `points` (sorted), or unlimited with fewer than four intervals.
///
/// Usually most intervals are equal (a series written at a fixed rate, or one point per
/// tier bucket): an interval held by more than half of them is their median, found
/// without collecting or selecting — in one pass when it is the first interval, else by
/// a majority vote and its count.
pub(crate) fn gap_limit(points: &[Point]) -> Timestamp {
    let stride = (points.len() / MEDIAN_SAMPLE).max(1);
    // Over indices: a `windows(2).step_by(..)` iterator costs a call per step.
    let intervals = || {
        (1..points.len())
            .step_by(stride)
            .map(|i| points[i].t - points[i - 1].t)
            .filter(|d| *d > 0)
    };
    // Most often the first interval is the majority: one pass without a dependency
    // from interval to interval counts it.
    let first = intervals().next().unwrap_or(0);
    let (count, first_count) = intervals().fold((0usize, 0usize), |(count, same), d| {
        (count + 1, same + usize::from(d == first))
    });
    if count < 4 {
        return Timestamp::MAX;
    }
    let middle = count / 2;
    // A value held by more than half the sorted intervals spans their middle.
    let median = if first_count > middle {
        first
    } else {
        // A majority vote for another interval, then its count.
        let (mut candidate, mut votes) = (0, 0usize);
        for d in intervals() {
            if votes == 0 {
                candidate = d;
            }
            votes = if d == candidate { votes + 1 } else { votes - 1 };
        }
        match intervals().filter(|d| *d == candidate).count() > middle {
            true => candidate,
            false => {
                let mut intervals: Vec<Timestamp> = intervals().collect();
                *intervals.select_nth_unstable(middle).1
            }
        }
    };
    median.saturating_mul(GAP_FACTOR)
}

/// Splits `points` (sorted by time) into runs between gaps and downsamples each to at
/// most four points per pixel column; `x_of` maps a time to a pixel x (non-decreasing
/// in time). Returns the runs as `(x, value)` pairs in time order.
///
/// One pass over the values; the end of each pixel column is found by a galloping search
/// on time, so `x_of` runs only a few times per column, not once per point.
pub fn downsample_runs(points: &[Point], x_of: impl Fn(Timestamp) -> f32) -> Vec<Vec<(f32, f64)>> {
    let limit = gap_limit(points);
    // Pixel column of x; truncation is floor for the non-negative x of a plot.
    let column_of = |t: Timestamp| x_of(t).clamp(-1e9, 1e9) as i64;
    let mut runs = Vec::new();
    let mut run: Vec<(f32, f64)> = Vec::new();
    let mut previous_t: Option<Timestamp> = None;
    let mut i = 0;
    while i < points.len() {
        let start = points[i];
        let gap = !start.v.is_finite() || previous_t.is_some_and(|t| start.t - t > limit);
        if gap && !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
        if !start.v.is_finite() {
            previous_t = None;
            i += 1;
            continue;
        }
        let column = column_of(start.t);
        // Galloping search for the column's end: probes stay near `i` (cache-friendly).
        let (mut inside, mut step) = (i, 1);
        let outside = loop {
            let probe = inside + step;
            if probe >= points.len() {
                break points.len();
            }
            if column_of(points[probe].t) != column {
                break probe;
            }
            inside = probe;
            step *= 2;
        };
        let column_end =
            inside + 1 + points[inside + 1..outside].partition_point(|p| column_of(p.t) == column);
        let mut group = Group::new(i, start.v);
        let mut last_t = start.t;
        let mut k = i + 1;
        while k < column_end {
            let p = points[k];
            if !p.v.is_finite() || p.t - last_t > limit {
                break;
            }
            group.add(k, p.v);
            last_t = p.t;
            k += 1;
        }
        group.emit(points, &x_of, &mut run);
        previous_t = Some(last_t);
        i = k;
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// The points of one pixel column, by index: first, lowest, highest and last.
struct Group {
    first: usize,
    low: (usize, f64),
    high: (usize, f64),
    last: usize,
}

impl Group {
    fn new(index: usize, v: f64) -> Group {
        Group {
            first: index,
            low: (index, v),
            high: (index, v),
            last: index,
        }
    }

    fn add(&mut self, index: usize, v: f64) {
        if v < self.low.1 {
            self.low = (index, v);
        }
        if v > self.high.1 {
            self.high = (index, v);
        }
        self.last = index;
    }

    /// Appends the group's points in time order: all of them when there are at most
    /// four, else first, lowest, highest and last.
    fn emit(&self, points: &[Point], x_of: &impl Fn(Timestamp) -> f32, out: &mut Vec<(f32, f64)>) {
        let mut push = |index: usize| out.push((x_of(points[index].t), points[index].v));
        if self.last - self.first < 4 {
            (self.first..=self.last).for_each(push);
            return;
        }
        let mut keep = [self.first, self.low.0, self.high.0, self.last];
        keep.sort_unstable();
        let mut previous = usize::MAX;
        for index in keep {
            if index != previous {
                push(index);
                previous = index;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(values: &[(i64, f64)]) -> Vec<Point> {
        values.iter().map(|&(t, v)| Point { t, v }).collect()
    }

    /// The majority shortcut gives what sorting every interval gives, whether one
    /// interval is the majority, just short of it, or nowhere near (and 0-ms intervals
    /// of duplicate times are left out either way).
    #[test]
    fn gap_limit_is_five_median_intervals() {
        let by_sorting = |points: &[Point]| {
            let mut intervals: Vec<i64> = points
                .windows(2)
                .map(|w| w[1].t - w[0].t)
                .filter(|d| *d > 0)
                .collect();
            intervals.sort_unstable();
            match intervals.len() {
                ..=3 => Timestamp::MAX,
                n => intervals[n / 2] * GAP_FACTOR,
            }
        };
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut majority, mut minority) = (0, 0);
        for case in 0..2_000u64 {
            let regular_percent = case % 101;
            let mut t = 0;
            let points: Vec<Point> = (0..2 + case % 37)
                .map(|_| {
                    let r = next();
                    t += match r % 100 < regular_percent {
                        true => 60,
                        false => (r >> 8) % 90,
                    } as i64;
                    Point { t, v: 0.0 }
                })
                .collect();
            let want = by_sorting(&points);
            assert_eq!(gap_limit(&points), want, "case {case}: {points:?}");
            match want == 300 {
                true => majority += 1,
                false => minority += 1,
            }
        }
        assert!(majority > 100 && minority > 100, "{majority} {minority}");
    }

    #[test]
    fn keeps_extremes_of_each_column() {
        let run: Vec<Point> = (0..1000)
            .map(|i| Point {
                t: i,
                v: ((i * 37) % 101) as f64,
            })
            .collect();
        let mut runs = downsample_runs(&run, |t| t as f32 / 100.0);
        assert_eq!(runs.len(), 1);
        let reduced = runs.remove(0);
        assert!(reduced.len() <= 40, "{}", reduced.len());
        let max_all = run.iter().map(|p| p.v).fold(f64::MIN, f64::max);
        let max_kept = reduced.iter().map(|p| p.1).fold(f64::MIN, f64::max);
        assert_eq!(max_all, max_kept);
        assert_eq!(reduced.first().map(|p| p.1), Some(run[0].v));
        assert_eq!(reduced.last().map(|p| p.1), Some(run[999].v));
    }

    /// The M4 line and the line through every point look the same: in every pixel
    /// column the line reaches the same top and bottom rows (±1 px for a 1 px line; ±3 px
    /// for a 2 px line, whose round caps reach into the neighbouring columns), and at most
    /// 1 % as many pixels as the line inks are clearly inked in one and blank in the other.
    #[test]
    fn downsampled_line_draws_like_the_full_line() {
        use crate::canvas::Canvas;
        use crate::color::Rgba;
        let run: Vec<Point> = (0..200_000)
            .map(|i| Point {
                t: i,
                v: ((i as f64) / 5000.0).sin() * 60.0 + ((i * 7919) % 1000) as f64 / 40.0,
            })
            .collect();
        let x_of = |t: Timestamp| 10.0 + t as f32 / 200_000.0 * 380.0;
        let y_of = |v: f64| 100.0 - v as f32;
        let reduced_points = downsample_runs(&run, x_of).concat();
        assert!(reduced_points.len() <= 4 * 381, "{}", reduced_points.len());
        for (width, tolerance) in [(1.0, 1), (2.0, 3)] {
            let draw = |points: Vec<(f32, f32)>| {
                let mut canvas = Canvas::new(400, 200, Rgba::rgb(255, 255, 255)).expect("canvas");
                canvas.stroke_polyline(&points, width, Rgba::rgb(0, 0, 0));
                canvas.rgba().to_vec()
            };
            let full = draw(run.iter().map(|p| (x_of(p.t), y_of(p.v))).collect());
            let reduced = draw(reduced_points.iter().map(|&(x, v)| (x, y_of(v))).collect());
            let extent = |pixels: &[u8], x: usize| {
                let inked: Vec<usize> = (0..200)
                    .filter(|y| pixels[(y * 400 + x) * 4] < 128)
                    .collect();
                (inked.first().copied(), inked.last().copied())
            };
            // Columns at the ends of the line also hold the round caps of the first and last
            // column's points, which depend on where in the column the extremes are.
            for x in 12..388 {
                let (full_top, full_bottom) = extent(&full, x);
                let (top, bottom) = extent(&reduced, x);
                let near = |a: Option<usize>, b: Option<usize>| match (a, b) {
                    (Some(a), Some(b)) => a.abs_diff(b) <= tolerance,
                    (a, b) => a == b,
                };
                assert!(near(full_top, top) && near(full_bottom, bottom), "width {width}, column {x}: {full_top:?}..{full_bottom:?} vs {top:?}..{bottom:?}");
            }
            // Pixels clearly inked in one drawing and clearly blank in the other.
            let inked = full.chunks(4).filter(|p| p[0] < 128).count();
            let contradicting = full
                .chunks(4)
                .zip(reduced.chunks(4))
                .filter(|(a, b)| a[0].abs_diff(b[0]) > 160)
                .count();
            assert!(
                contradicting * 100 <= inked,
                "width {width}: {contradicting} of {inked} inked pixels contradict"
            );
        }
    }

    #[test]
    fn splits_at_non_finite_values_and_long_pauses() {
        let data = points(&[
            (0, 1.0),
            (10, 2.0),
            (20, f64::NAN),
            (30, 3.0),
            (40, 4.0),
            (50, 5.0),
            (60, 1.0),
            (1000, 2.0),
        ]);
        let runs = downsample_runs(&data, |t| t as f32);
        let lengths: Vec<usize> = runs.iter().map(|r| r.len()).collect();
        assert_eq!(lengths, vec![2, 4, 1]);
    }
}
