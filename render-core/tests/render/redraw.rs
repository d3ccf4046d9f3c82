//! Frames rendered again into the same [`Frame`] (which redraws lines only where they
//! changed) are the bytes of a fresh render, and a live chart with a point appended is
//! redrawn in a few columns only.

use std::collections::BTreeMap;

use proptest::prelude::*;
use render_core::{Data, Frame, Point, Renderer, Series, Spec, ValidSpec};

/// A chart of line or step panels (the styles drawn by redrawing), one per row, with
/// `series` per panel of the given widths, and thresholds on the first.
fn lines_spec(width: u32, height: u32, window: &str, panels: &[(bool, Vec<f32>)]) -> ValidSpec {
    let panels: Vec<String> = panels
        .iter()
        .enumerate()
        .map(|(row, (steps, widths))| {
            let series: Vec<String> = widths
                .iter()
                .enumerate()
                .map(|(i, w)| format!(r#"{{"metric":"m","tags":{{"k":"{i}"}},"width":{w}}}"#))
                .collect();
            let style = if *steps { "step" } else { "line" };
            let thresholds = if row == 0 {
                r##","thresholds":[{"value":0.5,"color":"#c00"}]"##
            } else {
                ""
            };
            format!(
                r#"{{"kind":"timeseries","style":"{style}","cell":{{"col":0,"row":{row}}},"series":[{}]{thresholds}}}"#,
                series.join(",")
            )
        })
        .collect();
    let json = format!(
        r#"{{"version":1,"width":{width},"height":{height},"window":"{window}","layout":{{"columns":1,"rows":{}}},"panels":[{}]}}"#,
        panels.len(),
        panels.join(",")
    );
    render_core::validate(Spec::from_json(&json).expect("spec parses")).expect("spec is valid")
}

/// Series `m{k=i}` with `points[i]`.
fn data_of(points: &[Vec<Point>]) -> Data {
    Data {
        series: points
            .iter()
            .enumerate()
            .map(|(i, points)| Series {
                metric: "m".into(),
                tags: BTreeMap::from([("k".to_string(), i.to_string())]),
                points: points.clone(),
                source: None,
            })
            .collect(),
        notes: Vec::new(),
    }
}

/// A fresh render's bytes.
fn fresh(renderer: &Renderer, spec: &ValidSpec, data: &Data, now: i64) -> Vec<u8> {
    let mut frame = Frame::default();
    renderer.render(spec, data, now, &mut frame);
    frame.rgba().to_vec()
}

/// Noisy values, now and then a gap (NaN), one every `every` ms up to `now`.
fn noisy(seed: u64, count: usize, every: i64, now: i64) -> Vec<Point> {
    let mut state = seed | 1;
    (0..count)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = if state.is_multiple_of(97) {
                f64::NAN
            } else {
                (i as f64 / 40.0).sin() + (state % 1000) as f64 / 2000.0
            };
            Point {
                t: now - (count - 1 - i) as i64 * every,
                v,
            }
        })
        .collect()
}

/// What happens to the data between two frames.
#[derive(Debug, Clone)]
enum Change {
    /// Points appended to series `i` (wrapped), at the next frame's time and before it.
    Append(usize, Vec<f64>),
    /// The last point of series `i` gets another value (an open tier bucket).
    Rewrite(usize, f64),
    /// Nothing new.
    Same,
}

/// A value inside the series' range, now and then beyond it (the axis rescales) or a
/// gap.
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![8 => -1.0..1.5f64, 1 => -2.0..3.0f64, 1 => Just(f64::NAN)]
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        3 => (0..4usize, prop::collection::vec(value(), 1..4)).prop_map(|(i, v)| Change::Append(i, v)),
        2 => (0..4usize, value()).prop_map(|(i, v)| Change::Rewrite(i, v)),
        1 => Just(Change::Same),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever changes between renders — points appended or rewritten, time moving on
    /// within a column or past several, the axis rescaling — the frame rendered into
    /// the same `Frame` has the bytes of a fresh render.
    #[test]
    fn a_redrawn_frame_equals_a_fresh_one(
        width in 60..700u32,
        height in 60..320u32,
        window in prop::sample::select(vec!["10s", "5m", "1h"]),
        panels in prop::collection::vec((any::<bool>(), prop::collection::vec(0.5..6f32, 1..4)), 1..3),
        counts in prop::collection::vec(0..2_500usize, 4),
        steps in prop::collection::vec((0..3_000i64, change()), 1..5),
    ) {
        let spec = lines_spec(width, height, window, &panels);
        let renderer = Renderer::default();
        let mut now = 1_700_000_000_000i64;
        let window_ms = spec.longest_window_ms();
        let mut points: Vec<Vec<Point>> = counts
            .iter()
            .enumerate()
            .map(|(i, &n)| noisy(i as u64 + 7, n, (window_ms / 2_000).max(1), now))
            .collect();
        let mut frame = Frame::default();
        renderer.render(&spec, &data_of(&points), now, &mut frame);
        for (advance, change) in steps {
            now += advance;
            match change {
                Change::Append(i, values) => {
                    let series = &mut points[i % 4];
                    let n = values.len() as i64;
                    for (j, v) in values.into_iter().enumerate() {
                        series.push(Point { t: now - (n - 1 - j as i64) * 7, v });
                    }
                    series.sort_by_key(|p| p.t);
                }
                Change::Rewrite(i, v) => {
                    if let Some(last) = points[i % 4].last_mut() {
                        last.v = v;
                    }
                }
                Change::Same => {}
            }
            let data = data_of(&points);
            renderer.render(&spec, &data, now, &mut frame);
            prop_assert!(frame.rgba() == fresh(&renderer, &spec, &data, now).as_slice());
        }
    }
}

/// A month of 16 dense series at 800×450 (the long-window chart): a point appended at
/// a time in the same column redraws a few columns, not the plot, and gives the bytes
/// of a fresh render.
#[test]
fn a_point_appended_to_a_live_chart_redraws_a_few_columns() {
    let spec = lines_spec(800, 450, "30d", &[(false, vec![1.5; 16])]);
    let renderer = Renderer::default();
    let now = 1_700_000_000_000i64;
    let mut points: Vec<Vec<Point>> = (0..16)
        .map(|i| noisy(i + 1, 43_200, 60_000, now - 60_000))
        .collect();
    let mut frame = Frame::default();
    renderer.render(&spec, &data_of(&points), now, &mut frame);
    let full = frame.redrawn_columns();
    assert!(full > 700, "the first render draws the whole plot: {full}");
    for (i, series) in points.iter_mut().enumerate() {
        series.push(Point {
            t: now + 1_000,
            v: 0.2 + i as f64 / 100.0,
        });
    }
    let data = data_of(&points);
    // A second later: the same column of a 30-day chart (≈ 55 min wide).
    renderer.render(&spec, &data, now + 1_000, &mut frame);
    let redrawn = frame.redrawn_columns();
    assert!(
        (1..40).contains(&redrawn),
        "a point appended redraws a few columns: {redrawn} of {full}"
    );
    assert!(frame.rgba() == fresh(&renderer, &spec, &data, now + 1_000).as_slice());
    // Nothing new: nothing redrawn, the same frame.
    renderer.render(&spec, &data, now + 2_000, &mut frame);
    assert_eq!(frame.redrawn_columns(), 0);
    assert!(frame.rgba() == fresh(&renderer, &spec, &data, now + 2_000).as_slice());
}
