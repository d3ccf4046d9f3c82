//! Criterion benchmarks of render-core: the reference chart (800×450, 4 series × 600
//! points, 2 px lines, axes, labels, legend) and a 1,000,000-point series (M4).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
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

fn frames(c: &mut Criterion) {
    let renderer = Renderer::default();
    let (spec, data) = reference();
    let now = data.latest_timestamp().unwrap_or_default();
    let mut frame = Frame::default();
    c.bench_function("render reference chart 800x450 (4x600 points)", |b| {
        b.iter(|| renderer.render(&spec, &data, now, &mut frame))
    });
    let (spec, data) = million_points();
    let now = data.latest_timestamp().unwrap_or_default();
    c.bench_function("render 1,000,000-point series 800x450", |b| {
        b.iter(|| renderer.render(&spec, &data, now, &mut frame))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = frames
}
criterion_main!(benches);
