//! Criterion benchmarks of render-core: the reference chart (800×450, 4 series × 600
//! points, 2 px lines, axes, labels, legend), a 1,000,000-point series (M4), 16 series
//! over 30 days shaped like the server's 30 min tier (issue 11's long window), drawn
//! whole and as a live frame after a write (redrawn where it changed), and a `sum` of
//! 1,000 series over 30 days.
//!
//! Times are this thread's CPU time (`cpu-time`: `CLOCK_THREAD_CPUTIME_ID`), not wall time: the
//! machine the benchmarks run on is shared, and a busy neighbour should not count.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use render_core::{Data, Frame, Point, Renderer, Series, Spec};

fn reference() -> (render_core::ValidSpec, Data) {
    let spec = Spec::from_json(include_str!("../../examples/reference.json")).expect("spec parses");
    let data =
        Data::from_json(include_str!("../../examples/reference.data.json")).expect("data parses");
    (render_core::validate(spec).expect("valid"), data)
}

fn million_points() -> (render_core::ValidSpec, Data) {
    let spec = Spec::from_json(
        r#"{"version":1,"width":800,"height":450,"title":"1,000,000 points","window":"1d",
            "panels":[{"series":[{"metric":"big"}],"legend":{"values":["last","min","max"]}}]}"#,
    )
    .expect("spec parses");
    let start = 1_700_000_000_000i64;
    let points = (0..1_000_000i64)
        .map(|i| {
            let x = i as f64 / 1000.0;
            Point {
                t: start + i * 86,
                v: (x * 0.7).sin() * 50.0 + ((i * 7919) % 1000) as f64 / 100.0,
            }
        })
        .collect();
    let data = Data {
        series: vec![Series {
            metric: "big".into(),
            tags: Default::default(),
            points,
            source: None,
        }],
        notes: Vec::new(),
    };
    (render_core::validate(spec).expect("valid"), data)
}

/// 16 series × 30 days as the server draws them from its 30 min tier: per bucket its
/// first point, its extremes at one and two thirds, its last point (`tiers::draw`), with
/// the load client's long-window values (a sawtooth with noise ≈ 7 % of the range).
fn long_window() -> (render_core::ValidSpec, Data) {
    let spec = Spec::from_json(
        r#"{"version":1,"width":800,"height":450,"title":"30 days, 16 series","window":"30d",
            "panels":[{"series":[{"metric":"lw"}]}]}"#,
    )
    .expect("spec parses");
    let (minute, bucket) = (60_000i64, 30usize);
    let end = 1_700_000_000_000i64;
    let start = end - 30 * 24 * 60 * minute;
    let series = (0..16usize)
        .map(|i| {
            let value = |j: usize| ((j / 30 + i * 7) % 100 + j % 7) as f64;
            let mut points = Vec::new();
            for b in 0..30 * 24 * 60 / bucket {
                let j0 = b * bucket;
                let t0 = start + j0 as i64 * minute;
                let span = (bucket as i64 - 1) * minute;
                let (first, last) = (value(j0), value(j0 + bucket - 1));
                // 30 consecutive minutes see every `j % 7`: the bucket spans base..base+6.
                let min = ((j0 / 30 + i * 7) % 100) as f64;
                let max = min + 6.0;
                let (v1, v2) = if first > last { (max, min) } else { (min, max) };
                points.push(Point { t: t0, v: first });
                points.push(Point {
                    t: t0 + span / 3,
                    v: v1,
                });
                points.push(Point {
                    t: t0 + span - span / 3,
                    v: v2,
                });
                points.push(Point {
                    t: t0 + span,
                    v: last,
                });
            }
            host_series(i, points)
        })
        .collect();
    let data = Data {
        series,
        notes: Vec::new(),
    };
    (render_core::validate(spec).expect("valid"), data)
}

/// `sum` over 1,000 series × 30 days as the server hands an aggregate its 30 min tier:
/// per column of the read plan's resolution the last of its buckets' last points
/// (`tiers::last_points`), with the load client's values.
fn long_window_sum() -> (render_core::ValidSpec, Data) {
    let spec = Spec::from_json(
        r#"{"version":1,"width":800,"height":450,"title":"30 days, sum of all series","window":"30d",
            "panels":[{"series":[{"metric":"lw","aggregate":"sum"}]}]}"#,
    )
    .expect("spec parses");
    let spec = render_core::validate(spec).expect("valid");
    let (minute, bucket) = (60_000i64, 30usize);
    let end = 1_700_000_000_000i64;
    let start = end - 30 * 24 * 60 * minute;
    let column_ms = spec.read_plan("lw", end)[0].resolution_ms;
    let series = (0..1_000usize)
        .map(|i| {
            let mut points: Vec<Point> = Vec::new();
            for b in 0..30 * 24 * 60 / bucket {
                let j = b * bucket + bucket - 1;
                let t = start + j as i64 * minute;
                let v = ((j / 30 + i * 7) % 100 + j % 7) as f64;
                match points.last_mut() {
                    Some(last) if last.t.div_euclid(column_ms) == t.div_euclid(column_ms) => {
                        *last = Point { t, v }
                    }
                    _ => points.push(Point { t, v }),
                }
            }
            host_series(i, points)
        })
        .collect();
    let data = Data {
        series,
        notes: Vec::new(),
    };
    (spec, data)
}

/// Series `i` of the long-window benches: metric `lw`, tag `host=h{i}`.
fn host_series(i: usize, points: Vec<Point>) -> Series {
    Series {
        metric: "lw".into(),
        tags: [("host".to_string(), format!("h{i}"))]
            .into_iter()
            .collect(),
        points,
        source: None,
    }
}

/// CPU time of the calling thread, in nanoseconds.
struct ThreadCpuTime;

impl ThreadCpuTime {
    fn now() -> cpu_time::ThreadTime {
        cpu_time::ThreadTime::now()
    }
}

impl Measurement for ThreadCpuTime {
    type Intermediate = cpu_time::ThreadTime;
    type Value = u64;

    fn start(&self) -> cpu_time::ThreadTime {
        ThreadCpuTime::now()
    }

    fn end(&self, start: cpu_time::ThreadTime) -> u64 {
        start.elapsed().as_nanos() as u64
    }

    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }

    fn zero(&self) -> u64 {
        0
    }

    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &Nanoseconds
    }
}

/// Shows nanoseconds as ms (the frames take milliseconds).
struct Nanoseconds;

impl ValueFormatter for Nanoseconds {
    fn scale_values(&self, _typical: f64, values: &mut [f64]) -> &'static str {
        values.iter_mut().for_each(|v| *v /= 1e6);
        "ms (CPU)"
    }

    fn scale_throughputs(&self, _typical: f64, _: &Throughput, values: &mut [f64]) -> &'static str {
        self.scale_values(0.0, values)
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

/// Renders `spec` into one frame again and again, each time at a window end a few
/// columns from the last (`now` and `now + 3 columns` in turn), so every render
/// draws the whole frame (an unchanged frame would redraw nothing).
fn whole_frames(
    c: &mut Criterion<ThreadCpuTime>,
    name: &str,
    (spec, data): (render_core::ValidSpec, Data),
) {
    let renderer = Renderer::default();
    let now = data.latest_timestamp().unwrap_or_default();
    let shift = spec.time_resolution_ms().unwrap_or(1) * 3;
    let mut frame = Frame::default();
    let mut later = false;
    c.bench_function(name, |b| {
        b.iter(|| {
            later = !later;
            renderer.render(&spec, &data, now + i64::from(later) * shift, &mut frame)
        })
    });
}

fn frames(c: &mut Criterion<ThreadCpuTime>) {
    whole_frames(
        c,
        "render reference chart 800x450 (4x600 points)",
        reference(),
    );
    whole_frames(
        c,
        "render 16 series x 30 days of 30 min buckets 800x450",
        long_window(),
    );
    live_frames(c);
    whole_frames(
        c,
        "render sum of 1,000 series x 30 days of 30 min bucket lasts 800x450",
        long_window_sum(),
    );
    whole_frames(c, "render 1,000,000-point series 800x450", million_points());
}

/// The 16-series chart as a live stream renders it: into the frame of the render
/// before, whose data differed in the last point of each series (the open bucket a
/// write changed), at the same window end.
fn live_frames(c: &mut Criterion<ThreadCpuTime>) {
    let renderer = Renderer::default();
    let (spec, before) = long_window();
    let now = before.latest_timestamp().unwrap_or_default();
    let mut after = before.clone();
    for series in &mut after.series {
        if let Some(last) = series.points.last_mut() {
            last.v += 1.0;
        }
    }
    let mut frame = Frame::default();
    let mut second = false;
    c.bench_function(
        "render 16 series x 30 days again with each last point changed 800x450",
        |b| {
            b.iter(|| {
                second = !second;
                let data = if second { &after } else { &before };
                renderer.render(&spec, data, now, &mut frame)
            })
        },
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime).sample_size(30);
    targets = frames
}
criterion_main!(benches);
