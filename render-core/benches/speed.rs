//! Render time of the reference chart, natively and in wasm (the editor's preview),
//! printed as `SPEED <target> <frames> frames <ms> ms/frame` for `cargo xtask bench`.
//!
//! A benchmark, not a test (it asserts nothing): `cargo test` does not run it.
//! `cargo xtask bench` builds it with `PLOTCAST_BENCH_FRAMES=N` (read at compile time:
//! wasm has no environment) and runs it in release mode natively (`main`) and under
//! `wasm-bindgen-test-runner` in Node (the runner calls the `wasm_bindgen_test`).

// The bench has no library API to document.
#![allow(missing_docs)]

use render_core::{Data, Frame, Renderer, Spec};

/// Frames to time: `PLOTCAST_BENCH_FRAMES` at build time, else 2.
fn frames() -> u32 {
    option_env!("PLOTCAST_BENCH_FRAMES")
        .and_then(|n| n.parse().ok())
        .unwrap_or(2)
}

/// Milliseconds from some fixed point.
#[cfg(target_arch = "wasm32")]
fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Milliseconds from some fixed point.
#[cfg(not(target_arch = "wasm32"))]
fn now_ms() -> f64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

/// Times the reference chart's render and returns the `SPEED` line.
fn reference_chart_render_time() -> String {
    let spec = Spec::from_json(include_str!("../../examples/reference.json")).expect("spec parses");
    let spec = render_core::validate(spec).expect("valid");
    let data =
        Data::from_json(include_str!("../../examples/reference.data.json")).expect("data parses");
    let now = data.latest_timestamp().unwrap_or_default();
    // Each render at a window end three columns from the one before, so each draws the
    // whole frame, as the editor's preview does after an edit (into the same frame at
    // the same end, a render would redraw nothing).
    let shift = spec.time_resolution_ms().unwrap_or(1) * 3;
    let renderer = Renderer::default();
    let mut frame = Frame::default();
    // Warm-up: fonts, glyph cache, buffers.
    renderer.render(&spec, &data, now + shift, &mut frame);
    let n = frames();
    let start = now_ms();
    for i in 0..n {
        renderer.render(&spec, &data, now + i64::from(i % 2) * shift, &mut frame);
    }
    let per_frame = (now_ms() - start) / f64::from(n);
    let target = if cfg!(target_arch = "wasm32") {
        "wasm32"
    } else {
        "native"
    };
    format!("SPEED {target} {n} frames {per_frame:.3} ms/frame")
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    println!("{}", reference_chart_render_time());
}

/// On wasm32 the runner calls the `wasm_bindgen_test` below instead.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
fn speed() {
    wasm_bindgen_test::console_log!("{}", reference_chart_render_time());
}
