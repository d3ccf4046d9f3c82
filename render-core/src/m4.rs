//! M4 downsampling (Jugel et al., VLDB 2014): per pixel column keep the first, minimum,
//! maximum and last point. A line through those is the line through every point, and
//! drawing costs at most four points per column however many points there are.
//!
//! Also splits a series into runs at gaps: non-finite values, and pauses much longer
//! than the series' usual interval.

use crate::data::{Point, Timestamp};

/// A gap is a pause longer than this many times the median interval.
const GAP_FACTOR: i64 = 5;

/// The time-ordered runs of finite points of `points` (sorted) between gaps.
pub fn runs(points: &[Point]) -> Vec<&[Point]> {
    let limit = gap_limit(points);
    let mut runs = Vec::new();
    let mut start: Option<usize> = None;
    for (i, p) in points.iter().enumerate() {
        if !p.v.is_finite() {
            if let Some(s) = start.take() {
                runs.push(&points[s..i]);
            }
            continue;
        }
        match start {
            Some(s) if i > s && p.t - points[i - 1].t > limit => {
                runs.push(&points[s..i]);
                start = Some(i);
            }
            None => start = Some(i),
            Some(_) => {}
        }
    }
    if let Some(s) = start {
        runs.push(&points[s..]);
    }
    runs
}

/// Intervals sampled for the median: enough to be representative, few enough to be
/// cheap for a million points.
const MEDIAN_SAMPLE: usize = 4096;

fn gap_limit(points: &[Point]) -> Timestamp {
    let stride = (points.len() / MEDIAN_SAMPLE).max(1);
    let mut intervals: Vec<Timestamp> = points
        .windows(2)
        .step_by(stride)
        .map(|w| w[1].t - w[0].t)
        .filter(|d| *d > 0)
        .collect();
    if intervals.len() < 4 {
        return Timestamp::MAX;
    }
    let middle = intervals.len() / 2;
    let (_, median, _) = intervals.select_nth_unstable(middle);
    median.saturating_mul(GAP_FACTOR)
}

/// Downsamples one run to at most four points per pixel column; `x_of` maps a time to
/// a pixel x. Returns `(x, value)` pairs in time order.
pub fn downsample(run: &[Point], x_of: impl Fn(Timestamp) -> f32) -> Vec<(f32, f64)> {
    // Pixel column of x; truncation is floor for the non-negative x of a plot.
    let column_of = |t: Timestamp| x_of(t).clamp(-1e9, 1e9) as i64;
    let mut out = Vec::new();
    let mut i = 0;
    while i < run.len() {
        let column = column_of(run[i].t);
        let mut j = i + 1;
        while j < run.len() && column_of(run[j].t) == column {
            j += 1;
        }
        let group = &run[i..j];
        if group.len() <= 4 {
            out.extend(group.iter().map(|p| (x_of(p.t), p.v)));
        } else {
            let (mut lo, mut hi) = (0, 0);
            for (k, p) in group.iter().enumerate() {
                if p.v < group[lo].v {
                    lo = k;
                }
                if p.v > group[hi].v {
                    hi = k;
                }
            }
            let mut keep = [0, lo, hi, group.len() - 1];
            keep.sort_unstable();
            let mut previous = usize::MAX;
            for k in keep {
                if k != previous {
                    out.push((x_of(group[k].t), group[k].v));
                    previous = k;
                }
            }
        }
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(values: &[(i64, f64)]) -> Vec<Point> {
        values.iter().map(|&(t, v)| Point { t, v }).collect()
    }

    #[test]
    fn keeps_extremes_of_each_column() {
        let run: Vec<Point> = (0..1000)
            .map(|i| Point {
                t: i,
                v: ((i * 37) % 101) as f64,
            })
            .collect();
        let reduced = downsample(&run, |t| t as f32 / 100.0);
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
        let reduced_points = downsample(&run, x_of);
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
        let runs = runs(&data);
        let lengths: Vec<usize> = runs.iter().map(|r| r.len()).collect();
        assert_eq!(lengths, vec![2, 4, 1]);
    }
}
