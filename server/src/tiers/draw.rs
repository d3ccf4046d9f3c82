//! The points a read takes of a run of buckets. To draw: per bucket its first point,
//! its extremes and its last point, so that M4 per pixel column over them keeps what
//! M4 over the raw points keeps (the bound is in the module docs of `tiers`). For
//! values only (an aggregate's or a transform's input, a latest value): its last
//! point, a real value at the time it was written.

use std::borrow::Borrow;

use render_core::{Point, Timestamp};

use super::bucket::Bucket;

/// Appends to `out` the points to draw for `buckets` (sorted by start) in the window
/// `from..=to`, in time order; at most five per bucket.
///
/// Per bucket: the first point; when it held more than two points, its min and max —
/// min first if the bucket rose (first ≤ last), else max first, which draws the shorter
/// line — at one and two thirds of the way from the first to the last point (where they
/// were is not kept; anywhere between keeps the bound); a NaN after them when a gap was
/// strictly inside the bucket, so the line breaks; the last point. Gaps at a bucket's
/// edges are its NaN first or last point. Points outside the window are left out, and
/// the extremes of a bucket the window cuts are moved inside it.
pub fn points_for_drawing(
    buckets: impl IntoIterator<Item = impl Borrow<Bucket>>,
    from: Timestamp,
    to: Timestamp,
    out: &mut Vec<Point>,
) {
    for b in buckets {
        let b = b.borrow();
        let (lo, hi) = (b.first_t.max(from), b.last_t.min(to));
        if lo > hi {
            continue;
        }
        let mut push = |t: Timestamp, v: f64| {
            if (from..=to).contains(&t) {
                out.push(Point { t, v });
            }
        };
        push(b.first_t, b.first);
        if b.points() > 2 {
            let span = b.last_t - b.first_t;
            let (t1, t2) = (b.first_t + span / 3, b.first_t + span - span / 3);
            let fell = b.first > b.last;
            let (v1, v2) = if fell { (b.max, b.min) } else { (b.min, b.max) };
            if b.count > 0 {
                push(t1.clamp(lo, hi), v1);
                push(t2.clamp(lo, hi), v2);
            }
            if b.inner_gaps() > 0 {
                push(t2.clamp(lo, hi), f64::NAN);
            }
        }
        if b.last_t != b.first_t {
            push(b.last_t, b.last);
        }
    }
}

/// Appends to `out` the last of `lasts` — the last points of buckets sorted by start
/// ([`Bucket::last_point`]) — in each column of `column_ms` (counted from the epoch, as
/// render-core's aggregation columns are) among those in `from..=to`, in time order:
/// a real value at the time it was written, NaN for a column whose last bucket ended
/// in a gap. At the read plan's resolution that is all an aggregate takes of a series
/// (render-core's `transform` module docs); its lookback, 5 × the median spacing of
/// the points it gets (one per column at most), is then at least 5 columns: a member
/// that stopped writing drops out of an aggregate 5 columns later or more.
pub fn last_points(
    lasts: impl ExactSizeIterator<Item = Point>,
    from: Timestamp,
    to: Timestamp,
    column_ms: i64,
    out: &mut Vec<Point>,
) {
    let column_ms = column_ms.max(1);
    // Reserved, not filled: a buffer handed back by the frame before keeps its capacity.
    out.reserve(lasts.len());
    let mut column_end = Timestamp::MIN;
    for p in lasts.skip_while(|p| p.t < from).take_while(|p| p.t <= to) {
        // Without a branch on which points start a column: 2 or 3 points to a column
        // is a pattern the branch predictor cannot guess.
        let starts = p.t >= column_end;
        column_end = column_end.saturating_add(if starts { column_ms } else { 0 });
        if p.t >= column_end {
            // The first point, or one after a pause of more than a column.
            column_end = (p.t.div_euclid(column_ms) + 1).saturating_mul(column_ms);
        }
        // A later point of the column replaces the one before it (there is one: the
        // first point starts a column).
        out.truncate(out.len() - usize::from(!starts));
        out.push(p);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;
    use render_core::{Data, Frame, Renderer, Series, Spec, ValidSpec};

    use super::*;
    use crate::tiers::bucket::ladder;
    use crate::tiers::bucket::start_of;
    use crate::tiers::steps::choose;
    use crate::tiers::steps::STEPS_MS;

    const WIDTH: usize = 200;
    const HEIGHT: usize = 120;

    /// One time series panel of `window_ms`, black on white.
    fn spec(window_ms: i64) -> ValidSpec {
        let json = format!(
            r##"{{"version":1,"width":{WIDTH},"height":{HEIGHT},"window":"{window_ms}ms",
            "colors":{{"background":"#ffffff","panel":"#ffffff","grid":"#ffffff"}},
            "panels":[{{"series":[{{"metric":"m","color":"#000000"}}],
                "legend":{{"position":"none"}}}}]}}"##
        );
        render_core::validate(Spec::from_json(&json).expect("spec")).expect("valid")
    }

    /// The pixel columns a panel's window is divided into (its aggregation columns,
    /// whose grid the window's end is moved up to): its area inside the padding.
    fn panel_columns() -> i64 {
        let layout = Renderer::default().layout(&spec(86_400_000));
        let [x0, _, x1, _] = layout.panels[0].1;
        (x1 - x0 - 20.0) as i64
    }

    /// [`spec`] of `points`, `window_ms` up to `now`, as RGBA.
    fn render(points: Vec<Point>, now: Timestamp, window_ms: i64) -> Vec<u8> {
        let spec = spec(window_ms);
        let data = Data {
            series: vec![Series {
                metric: "m".into(),
                tags: Default::default(),
                points,
                source: None,
            }],
            notes: Vec::new(),
        };
        let mut frame = Frame::default();
        Renderer::default().render(&spec, &data, now, &mut frame);
        frame.rgba().to_vec()
    }

    /// The first pixel (and its grey level) of `a` that is darker by more than `levels`
    /// than every pixel of `b` within `dx` columns and `dy` rows around it: ink in `a`
    /// that `b` has nowhere near. (Black on white: a pixel's darkness is its ink; both
    /// RGBA frames `width` pixels wide.)
    pub(crate) fn ink_missing_nearby(
        a: &[u8],
        b: &[u8],
        width: usize,
        (dx, dy, levels): (usize, usize, u8),
    ) -> Option<(usize, usize, u8, u8)> {
        let height = a.len() / 4 / width.max(1);
        for y in 0..height {
            for x in 0..width {
                let mut darkest = u8::MAX;
                for ny in y.saturating_sub(dy)..=(y + dy).min(height - 1) {
                    for nx in x.saturating_sub(dx)..=(x + dx).min(width - 1) {
                        darkest = darkest.min(b[(ny * width + nx) * 4]);
                    }
                }
                let grey = a[(y * width + x) * 4];
                if grey.saturating_add(levels) < darkest {
                    return Some((x, y, grey, darkest));
                }
            }
        }
        None
    }

    /// Writes the raw and the tier frame side by side, 4× enlarged, to a temporary
    /// file; returns its path.
    fn save_strip(raw: &[u8], tiers: &[u8]) -> String {
        let zoom = 4;
        let mut strip = Vec::with_capacity(raw.len() * 2 * zoom * zoom);
        for y in 0..HEIGHT * zoom {
            for frame in [raw, tiers] {
                for x in 0..WIDTH * zoom {
                    let at = ((y / zoom) * WIDTH + x / zoom) * 4;
                    strip.extend_from_slice(&frame[at..at + 4]);
                }
            }
        }
        let path = std::env::temp_dir().join("plotcast-tiers-frame.png");
        let size = ((2 * WIDTH * zoom) as u32, (HEIGHT * zoom) as u32);
        std::fs::File::create(&path)
            .map_err(png::EncodingError::from)
            .and_then(|file| {
                let mut encoder = png::Encoder::new(file, size.0, size.1);
                encoder.set_color(png::ColorType::Rgba);
                encoder.write_header()?.write_image_data(&strip)
            })
            .map_or_else(
                |e| format!("(not saved: {e})"),
                |()| path.display().to_string(),
            )
    }

    /// SplitMix64: the test data of a case from one seed.
    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        /// Uniform in `0.0..1.0`.
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }

        fn below(&mut self, n: i64) -> i64 {
            (self.next() % n.max(1) as u64) as i64
        }
    }

    /// A case: points (a random walk with spikes and jumps, jittered spacing, rare
    /// outages of ≥ 10 steps, runs of gaps covering whole buckets of the chart's tier)
    /// from a little before the window to its end.
    fn case(seed: u64, window_ms: i64, spacing: i64, step: i64, from: Timestamp) -> Vec<Point> {
        let mut random = Random(seed);
        let now = from + window_ms;
        let outage = 10 * step.max(2 * spacing);
        let gap_buckets: Vec<i64> = (0..random.below(4))
            .map(|_| start_of(from + random.below(window_ms), step))
            .collect();
        let mut points = Vec::new();
        let outages: Vec<Timestamp> = (0..random.below(3))
            .map(|_| from + random.below(window_ms))
            .collect();
        let mut t = from - random.below(window_ms / 8);
        let mut v = 0.0;
        while t <= now {
            v += random.unit() - 0.5;
            let mut drawn = v;
            match random.below(100) {
                0 => v += (random.unit() - 0.5) * 40.0,
                1 | 2 => drawn += (random.unit() - 0.5) * 30.0,
                _ => {}
            }
            if gap_buckets.contains(&start_of(t, step)) {
                drawn = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY][random.below(3) as usize];
            }
            points.push(Point { t, v: drawn });
            let next = t + spacing + random.below(spacing / 2 + 1);
            t = match outages.iter().find(|&&o| (t..next).contains(&o)) {
                Some(_) => next + outage + random.below(outage),
                None => next,
            };
        }
        points
    }

    /// How far apart the same ink may be in the two frames: columns, rows, grey levels
    /// (the bound and why, in the module docs of `tiers`).
    pub(crate) const NEARBY: (usize, usize, u8) = (2, 1, 2);

    /// Checks one case of the property: a chart drawn from the tier `choose` picks for
    /// its window looks like the chart drawn from every raw point — the same value
    /// axis, and no ink in either frame that the other lacks nearby ([`NEARBY`]).
    /// `window` and `density` in `0.0..1.0` pick the window (2,000 s to 366 days) and
    /// the points per image column (0.05 to 200, both log-uniform); the window starts
    /// `start` panel columns after a boundary of them.
    fn check_case(seed: u64, window: f64, density: f64, start: i64) -> Result<(), String> {
        let wanted_ms = (2.0e6 * (366.0 * 86_400_000.0 / 2.0e6f64).powf(window)) as i64;
        // The tier the read plan's resolution (the window over the panel's columns)
        // picks; the window starts at a bucket boundary (see the module docs for a cut
        // bucket) as drawn: a whole number of columns, each a whole number of steps, up
        // to a time on the column grid, which the window's end is moved up to.
        let columns = panel_columns();
        let tier = choose(wanted_ms / columns).ok_or("no tier")?;
        let step = STEPS_MS[tier];
        let panel_column_ms = (wanted_ms / columns / step).max(1) * step;
        let window_ms = columns * panel_column_ms;
        // Time per image column: at most the plot's (narrower) time per column.
        let column_ms = window_ms / WIDTH as i64;
        let per_column = 0.05 * 4_000.0f64.powf(density);
        let spacing = ((column_ms as f64 / per_column) as i64).max(1);
        let from = start_of(1_700_000_000_000, panel_column_ms) + start * panel_column_ms;
        let now = from + window_ms;
        let raw = case(seed, window_ms, spacing, step, from);
        let buckets = &ladder(&raw)[tier];
        let mut drawn = Vec::new();
        points_for_drawing(buckets, from, now, &mut drawn);

        // The value axis comes from the in-window min and max: equal, so are the axes.
        let range = |points: &[Point]| {
            points
                .iter()
                .filter(|p| p.t >= from && p.t <= now && p.v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                    (lo.min(p.v), hi.max(p.v))
                })
        };
        if range(&drawn) != range(&raw) {
            return Err(format!(
                "value ranges differ: {:?} vs {:?}",
                range(&drawn),
                range(&raw)
            ));
        }
        if drawn.len() > 5 * buckets.len() {
            return Err(format!(
                "{} points for {} buckets",
                drawn.len(),
                buckets.len()
            ));
        }

        let from_raw = render(raw, now, window_ms);
        let from_tiers = render(drawn, now, window_ms);
        for (a, b, which) in [
            (&from_tiers, &from_raw, "tiers"),
            (&from_raw, &from_tiers, "raw"),
        ] {
            if let Some((x, y, grey, nearest)) = ink_missing_nearby(a, b, WIDTH, NEARBY) {
                let strip = save_strip(&from_raw, &from_tiers);
                return Err(format!(
                    "pixel ({x}, {y}) of the {which} frame has grey {grey}, the other frame \
                     {nearest} at best nearby (tier {tier}, window {window_ms} ms, spacing \
                     {spacing} ms; raw | tiers in {strip})"
                ));
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// [`check_case`] over random data and windows.
        #[test]
        fn frame_from_tiers_matches_frame_from_raw_points(
            seed in any::<u64>(),
            window in 0.0..1.0f64,
            density in 0.0..1.0f64,
            start in 0i64..1_000,
        ) {
            check_case(seed, window, density, start).map_err(TestCaseError::fail)?;
        }

        /// A values-only read keeps, of the last points in its window, the last in each
        /// column (counted from the epoch), after what `out` already held.
        #[test]
        fn last_points_keep_the_last_of_each_column(
            advances in proptest::collection::vec(0i64..400, 0..200),
            from in -500i64..5_000,
            span in 0i64..40_000,
            column_ms in 1i64..2_000,
        ) {
            let mut t = -1_000;
            let lasts: Vec<Point> = advances
                .iter()
                .enumerate()
                .map(|(i, advance)| {
                    // Mostly short steps, now and then a pause of many columns.
                    t += if advance % 37 == 0 { advance * 40 } else { *advance };
                    Point { t, v: i as f64 }
                })
                .collect();
            let to = from + span;
            let mut expected: std::collections::BTreeMap<i64, Point> = Default::default();
            for p in lasts.iter().filter(|p| (from..=to).contains(&p.t)) {
                expected.insert(p.t.div_euclid(column_ms), *p);
            }
            let before = Point { t: -5_000, v: -1.0 };
            let mut out = vec![before];
            last_points(lasts.iter().copied(), from, to, column_ms, &mut out);
            prop_assert_eq!(out[0], before);
            prop_assert_eq!(&out[1..], expected.values().copied().collect::<Vec<_>>());
        }
    }

    /// Regression: two spikes in one column of the raw frame, where M4 keeps only the
    /// deeper one and draws the other's value on the column's min-to-max line, while the
    /// tier frame draws that spike as its bucket's min in the next column: the lines
    /// are 1.1 px apart, so the edge of one reaches a column further than the other's
    /// (the frame failed the ±1 column check with a pixel of grey 137 against 178 nearby;
    /// the second case is one proptest found the same way, 237 against 248).
    #[test]
    fn spike_moved_into_the_next_column_stays_within_the_bound() {
        for (seed, window, density) in [
            (8_272_820_221_439_826_186, 0.004, 0.7765),
            (
                16_597_964_229_401_836_482,
                0.011_711_235_162_728_75,
                0.754_680_253_004_346_2,
            ),
        ] {
            assert_eq!(check_case(seed, window, density, 0), Ok(()));
        }
    }

    #[test]
    fn emits_first_extremes_last_and_breaks_at_inner_gaps() {
        let p = |t, v| Point { t, v };
        let nan = f64::NAN;
        let raw = [p(0, 5.0), p(1, 9.0), p(2, nan), p(3, 1.0), p(9, 2.0)];
        let buckets = crate::tiers::bucket::rollup(&raw, 10);
        let mut out = Vec::new();
        points_for_drawing(&buckets, 0, 100, &mut out);
        let got: Vec<(i64, Option<f64>)> = out
            .iter()
            .map(|p| (p.t, p.v.is_finite().then_some(p.v)))
            .collect();
        // Fell from 5 to 2: max first.
        assert_eq!(
            got,
            [
                (0, Some(5.0)),
                (3, Some(9.0)),
                (6, Some(1.0)),
                (6, None),
                (9, Some(2.0))
            ]
        );
        // A window that cuts the bucket keeps its extremes inside the window.
        out.clear();
        points_for_drawing(&buckets, 7, 100, &mut out);
        let times: Vec<i64> = out.iter().map(|p| p.t).collect();
        assert_eq!(times, [7, 7, 7, 9]);
        // Two points are drawn as they are.
        out.clear();
        points_for_drawing(
            crate::tiers::bucket::rollup(&raw[..2], 10),
            0,
            100,
            &mut out,
        );
        assert_eq!(out, raw[..2]);
    }
}
