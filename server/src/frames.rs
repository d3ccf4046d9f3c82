//! The one render path: the stream task, `.jpg`/`.png` on demand and
//! `POST /api/render` all draw through [`render_into`], with the same data (read
//! through the [`Source`] unless the request brought its own), the same panic handling
//! and the same error frame.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use render_core::{Data, Frame, ReadStretch, Renderer, Spec, ValidSpec};

use crate::clock::Clock;
use crate::faults::Faults;
use crate::image_files;
use crate::metrics::Metrics;
use crate::source::{Kept, Query, Selectors, Source, Spare};

/// JPEG quality of stream frames and `.jpg` snapshots.
pub const JPEG_QUALITY: u8 = 85;

/// What every render shares.
#[derive(Clone)]
pub struct RenderContext {
    /// Data.
    pub source: Arc<dyn Source>,
    /// Fonts and drawing.
    pub renderer: Arc<Renderer>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Fault injection (tests only).
    pub faults: Arc<Faults>,
    /// "Now".
    pub clock: Clock,
}

/// What a chart draws at `now`: per metric, everything its selectors match over the
/// stretches of the metric's read plan (`ValidSpec::read_plan`: each at the resolution
/// of the panels drawing it, so a 30-day panel next to a 1-hour one reads tier points
/// beyond the hour), one query per distinct plan; each PromQL query at its own step.
/// The editor's preview asks the same per metric (`GET /api/series/points` with the
/// plan's stretches). Into buffers of `spare` first.
fn read_spec(source: &dyn Source, spec: &ValidSpec, now: i64, spare: &mut Spare) -> Data {
    let Selectors { series, promql } = Selectors::of_spec(spec);
    let mut by_plan: BTreeMap<Vec<ReadStretch>, Selectors> = BTreeMap::new();
    for selector in series {
        let plan = spec.read_plan(&selector.metric, now);
        by_plan.entry(plan).or_default().series.push(selector);
    }
    let (from, to) = spec.data_range(now);
    let mut data = Data::default();
    for (plan, selectors) in by_plan {
        let query = Query {
            selectors: &selectors,
            stretches: plan,
            to,
        };
        add(&mut data, source.read_reusing(&query, spare));
    }
    // In the order one read of every metric gives: by metric, then tags.
    data.series
        .sort_by(|a, b| (&a.metric, &a.tags).cmp(&(&b.metric, &b.tags)));
    if !promql.is_empty() {
        let selectors = Selectors {
            series: Vec::new(),
            promql,
        };
        let resolution_ms = spec.query_resolution_ms();
        let query = Query::uniform(&selectors, from, to, resolution_ms);
        add(&mut data, source.read_reusing(&query, spare));
    }
    data
}

/// [`read_spec`] into the buffers of `earlier` (the read before, as kept), continuing
/// what it read where nothing changed; kept for the next.
fn read_again(source: &dyn Source, spec: &ValidSpec, now: i64, earlier: Kept) -> Kept {
    let mut spare = Spare::of(earlier);
    let data = read_spec(source, spec, now, &mut spare);
    spare.keep(data)
}

/// Adds the series and notes of `read` to `data`.
fn add(data: &mut Data, read: Data) {
    data.series.extend(read.series);
    data.notes.extend(read.notes);
}

/// Renders chart `id` (`spec`) as of `now` into `frame` (blocking), from `data` or,
/// when `None`, from the source into `read` (continuing the read `read` holds: a
/// render task passes its previous frame's). A render that panics is caught:
/// the frame then shows an error message instead, and `false` is returned; nothing
/// else is affected.
pub fn render_into(
    context: &RenderContext,
    id: &str,
    spec: &ValidSpec,
    data: Option<&Data>,
    now: i64,
    frame: &mut Frame,
    read: &mut Kept,
) -> bool {
    let data = match data {
        Some(data) => data,
        None => {
            let earlier = std::mem::take(read);
            *read = read_again(context.source.as_ref(), spec, now, earlier);
            read.data()
        }
    };
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        context.faults.maybe_panic(id);
        context.renderer.render(spec, data, now, frame);
    }));
    if result.is_ok() {
        return true;
    }
    tracing::error!(chart = %id, "rendering panicked; streaming an error frame");
    context
        .metrics
        .render_panics
        .fetch_add(1, Ordering::Relaxed);
    // The frame may be half-drawn; start from a fresh one.
    *frame = Frame::default();
    if let Some(error_spec) = error_spec(spec.spec().width, spec.spec().height) {
        let drawn = std::panic::catch_unwind(AssertUnwindSafe(|| {
            context
                .renderer
                .render(&error_spec, &Data::default(), now, frame);
        }));
        if drawn.is_err() {
            *frame = Frame::default();
        }
    }
    false
}

/// An image file format of a single frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// JPEG at the stream's quality.
    Jpeg,
    /// PNG (lossless).
    Png,
}

/// [`render_into`] a fresh frame, encoded as `format` (blocking).
pub fn render_image(
    context: &RenderContext,
    id: &str,
    spec: &ValidSpec,
    data: Option<&Data>,
    now: i64,
    format: ImageFormat,
) -> Result<Vec<u8>, String> {
    let mut frame = Frame::default();
    render_into(
        context,
        id,
        spec,
        data,
        now,
        &mut frame,
        &mut Kept::default(),
    );
    match format {
        ImageFormat::Jpeg => image_files::jpeg(&frame, JPEG_QUALITY).map_err(|e| e.to_string()),
        ImageFormat::Png => image_files::png(&frame).map_err(|e| e.to_string()),
    }
}

/// The spec of the error frame (same size as the chart): a text panel saying that the
/// chart could not be drawn.
fn error_spec(width: u32, height: u32) -> Option<ValidSpec> {
    let json = format!(
        r#"{{"version":1,"width":{width},"height":{height},"theme":"dark","title":"render error",
        "panels":[{{"kind":"text","text":"This chart could not be drawn; the server logged why.\nOther charts are not affected.","font_size":14}}]}}"#
    );
    render_core::validate(Spec::from_json(&json).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use render_core::{Point, Series};

    use super::*;
    use crate::ingest::{Batch, Sample};
    use crate::source::BuiltinSource;
    use crate::store::Store;
    use crate::tiers::{ink_missing_nearby, TierConfig, NEARBY};

    const DAY_MS: i64 = 86_400_000;

    /// A 1-hour panel and a 30-day panel of one metric, black lines on white.
    const TWO_WINDOWS: &str = r##"{"version":1,"width":400,"height":160,
        "layout":{"columns":2,"rows":1},
        "colors":{"background":"#ffffff","panel":"#ffffff","grid":"#ffffff"},
        "panels":[
            {"window":"1h","series":[{"metric":"load","color":"#000000"}],"legend":{"position":"none"}},
            {"window":"30d","series":[{"metric":"load","color":"#000000"}],"legend":{"position":"none"}}]}"##;

    /// A point a minute for 31 days up to `now`: a slow wave with a spike every
    /// 97 minutes.
    fn month_of_points(now: i64) -> Vec<Point> {
        (0..31 * 1_440)
            .rev()
            .map(|minutes_ago: i64| {
                let t = now - minutes_ago * 60_000;
                let wave = ((t / 60_000) as f64 / 700.0).sin() * 40.0;
                let spike = if (t / 60_000) % 97 == 0 { 30.0 } else { 0.0 };
                Point {
                    t,
                    v: 50.0 + wave + spike,
                }
            })
            .collect()
    }

    fn rgba(spec: &ValidSpec, data: &Data, now: i64) -> Vec<u8> {
        let mut frame = Frame::default();
        Renderer::default().render(spec, data, now, &mut frame);
        frame.rgba().to_vec()
    }

    /// The samples of series `load{host}` at `points`.
    fn samples(host: &str, points: &[Point]) -> Vec<Sample> {
        points
            .iter()
            .map(|p| Sample {
                metric: "load".into(),
                tags: BTreeMap::from([("host".to_string(), host.to_string())]),
                t: p.t,
                v: p.v,
            })
            .collect()
    }

    /// The hosts of the series of `data`.
    fn hosts(data: &Data) -> Vec<&str> {
        data.series
            .iter()
            .map(|s| s.tags["host"].as_str())
            .collect()
    }

    /// A store as of `now`, its raw points and [`TWO_WINDOWS`].
    type MonthStore = (tempfile::TempDir, BuiltinSource, Vec<Point>, ValidSpec);

    /// A source holding a month of `load{host=a}` (through the source) and of
    /// `load{host=sqlite-only}` (written to SQLite behind memory's back: a read that
    /// goes to SQLite gets it), memory reaching as far back as [`TWO_WINDOWS`] needs.
    fn month_store(now: i64) -> Result<MonthStore, Box<dyn std::error::Error>> {
        let spec = render_core::validate(Spec::from_json(TWO_WINDOWS)?)?;
        let dir = tempfile::tempdir()?;
        let store = Arc::new(Store::open(dir.path())?);
        let source = BuiltinSource::new(store.clone(), 40 * DAY_MS, Clock::System);
        let raw = month_of_points(now);
        source.write(&Batch::from_samples(&samples("a", &raw)), 10)?;
        source.reach(&BuiltinSource::needs(&spec))?;
        let behind_memory = Batch::from_samples(&samples("sqlite-only", &raw));
        store.write_batch(&behind_memory, 10, &TierConfig::default(), now)?;
        Ok((dir, source, raw, spec))
    }

    /// A read into the point buffers of the one before (as a render task reads each
    /// frame) gives what a fresh read gives, with lines and with values only (a `sum`).
    #[test]
    fn a_read_into_the_last_reads_buffers_equals_a_fresh_read(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let now = Clock::System.now_ms();
        let (_dir, source, _raw, lines) = month_store(now)?;
        let sum = TWO_WINDOWS.replace(r##""color":"#000000""##, r#""aggregate":"sum""#);
        let sum = render_core::validate(Spec::from_json(&sum)?)?;
        assert!(sum.read_plan("load", now).iter().all(|s| s.values_only));
        for spec in [&lines, &sum, &lines] {
            let fresh = read_spec(&source, spec, now, &mut Spare::default());
            let earlier = read_again(&source, spec, now - DAY_MS, Kept::default());
            assert_ne!(earlier.data(), &fresh);
            let reused = read_again(&source, spec, now, earlier);
            assert_eq!(reused.data(), &fresh);
        }
        Ok(())
    }

    #[test]
    fn a_month_next_to_an_hour_reads_tier_points_beyond_the_hour(
    ) -> Result<(), Box<dyn std::error::Error>> {
        // The month as drawn starts at a start of the buckets it reads: a bucket the
        // window start cuts draws its extremes inside the window, the one exception to
        // the tiers' bound this frame could meet (see `tiers`). So the month is a whole
        // number of its panel's columns, each a whole number of buckets (≈ 22 days of
        // 3-hour columns), up to a "now" on that grid (at most a column after the wall
        // clock), which the window's end is not moved from.
        let month = render_core::validate(Spec::from_json(TWO_WINDOWS)?)?;
        let wall = Clock::System.now_ms();
        let resolution_ms = month.read_plan("load", wall)[0].resolution_ms;
        let bucket_ms =
            crate::tiers::choose(resolution_ms).map_or(1, |tier| crate::tiers::STEPS_MS[tier]);
        let column_ms = (resolution_ms / bucket_ms).max(1) * bucket_ms;
        let [x0, _, x1, _] = Renderer::default().layout(&month).panels[1].1;
        let window_ms = (x1 - x0 - 20.0) as i64 * column_ms;
        let json =
            TWO_WINDOWS.replace(r#""window":"30d""#, &format!(r#""window":"{window_ms}ms""#));
        let spec = render_core::validate(Spec::from_json(&json)?)?;
        assert_eq!(spec.read_plan("load", wall)[0].resolution_ms, column_ms);
        let now = (wall / column_ms + 1) * column_ms;
        // The store and memory are those of the 30-day chart, which reads further back.
        let (_dir, source, raw, _) = month_store(now)?;

        let data = read_spec(&source, &spec, now, &mut Spare::default());
        assert_eq!(hosts(&data), ["a"], "memory answers");
        let read = &data.series[0].points;
        // The month's panel draws ~180 columns of 4 hours: 30-minute buckets, at most 4
        // points each, where the raw points are 43,200; the hour is every raw point.
        let (from, to) = spec.data_range(now);
        let in_range = raw.iter().filter(|p| (from..=to).contains(&p.t)).count();
        assert!(
            read.len() * 5 < in_range,
            "{} of {in_range} points",
            read.len()
        );
        let hour = now - 3_600_000 - render_core::DATA_MARGIN_MS;
        let raw_hour: Vec<&Point> = raw.iter().filter(|p| p.t >= hour).collect();
        let read_hour: Vec<&Point> = read.iter().filter(|p| p.t >= hour).collect();
        assert_eq!(read_hour, raw_hour);
        assert!(read.windows(2).all(|w| w[0].t <= w[1].t), "in time order");

        // Its frame is the frame of every raw point, within the tiers' bound.
        let every_point = Data {
            series: vec![Series {
                points: raw.iter().filter(|p| p.t >= from).copied().collect(),
                ..data.series[0].clone()
            }],
            notes: Vec::new(),
        };
        let (from_tiers, from_raw) = (rgba(&spec, &data, now), rgba(&spec, &every_point, now));
        let width = spec.spec().width as usize;
        for (a, b) in [(&from_tiers, &from_raw), (&from_raw, &from_tiers)] {
            assert_eq!(ink_missing_nearby(a, b, width, NEARBY), None);
        }
        Ok(())
    }

    #[test]
    fn a_month_only_summed_reads_one_real_point_per_column(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let now = Clock::System.now_ms();
        let (_dir, source, raw, _) = month_store(now)?;
        // The layout of [`TWO_WINDOWS`], its month drawn as a sum.
        let summed = TWO_WINDOWS.replace(
            r#"{"window":"30d","series":[{"metric":"load","#,
            r#"{"window":"30d","series":[{"metric":"load","aggregate":"sum","#,
        );
        let spec = render_core::validate(Spec::from_json(&summed)?)?;
        let plan = spec.read_plan("load", now);
        assert_eq!(
            plan.iter().map(|s| s.values_only).collect::<Vec<_>>(),
            [true, false]
        );
        let bucket_ms = crate::tiers::choose(plan[0].resolution_ms)
            .map_or(1, |tier| crate::tiers::STEPS_MS[tier]);

        let data = read_spec(&source, &spec, now, &mut Spare::default());
        let read = &data.series[0].points;
        // The raw read starts at the bucket the hour's stretch starts in.
        let boundary = crate::tiers::start_of(plan[1].from, bucket_ms);
        let (month, hour) = read.split_at(read.partition_point(|p| p.t < boundary));
        // Per column of the month's resolution, the last of its buckets' last points, as
        // it was written: no made-up extremes, nothing else of the column.
        let mut bucket_lasts: BTreeMap<i64, Point> = BTreeMap::new();
        for p in &raw {
            bucket_lasts.insert(crate::tiers::start_of(p.t, bucket_ms), *p);
        }
        let mut column_lasts: BTreeMap<i64, Point> = BTreeMap::new();
        for p in bucket_lasts.values() {
            if (plan[0].from..boundary).contains(&p.t) {
                column_lasts.insert(p.t.div_euclid(plan[0].resolution_ms), *p);
            }
        }
        let expected: Vec<&Point> = column_lasts.values().collect();
        assert!(expected.len() > 100, "{} columns", expected.len());
        // 4.3 h columns of 3 h buckets: one or two buckets per column.
        assert!(expected.len() < bucket_lasts.len(), "fewer than buckets");
        assert_eq!(month.iter().collect::<Vec<_>>(), expected);
        // The hour drawn as a line is every raw point.
        let raw_hour: Vec<&Point> = raw.iter().filter(|p| p.t >= boundary).collect();
        assert_eq!(hour.iter().collect::<Vec<_>>(), raw_hour);
        Ok(())
    }

    #[test]
    fn renders_a_little_before_or_after_the_source_clock_never_read_sqlite(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let now = Clock::System.now_ms();
        let (_dir, source, _, spec) = month_store(now)?;
        for skew_ms in [-30_000, -5, 0, 5, 30_000] {
            let data = read_spec(&source, &spec, now + skew_ms, &mut Spare::default());
            assert_eq!(
                hosts(&data),
                ["a"],
                "render {skew_ms} ms off the source's clock"
            );
        }
        // A preview of a longer window than any chart's does read SQLite.
        let selectors = Selectors::of_spec(&spec);
        let older = source.read(&Query::uniform(&selectors, now - 35 * DAY_MS, now, 1));
        assert_eq!(older.series.len(), 2);
        Ok(())
    }
}
