//! Pacing of render tasks and viewers on tokio's paused time (the state runs on
//! [`Clock::tokio`]): exact frame counts over virtual seconds, independent of how
//! busy the machine is.

use std::time::Duration;

use futures_util::StreamExt;
use render_core::Params;

use crate::clock::Clock;
use crate::config::Config;
use crate::hooks::Hooks;
use crate::ingest::Sample;
use crate::state::AppState;
use crate::stream::chart::Subscription;
use crate::stream::viewer::{self, ViewerOptions};

/// A state on paused time over a new data directory (dropped with the `TempDir`).
async fn fresh() -> (tempfile::TempDir, AppState) {
    let dir = tempfile::tempdir().expect("temp dir");
    let hooks = Hooks {
        clock: Clock::tokio(),
        ..Hooks::default()
    };
    let state = AppState::open(Config::for_data_dir(dir.path()), hooks)
        .await
        .expect("state opens");
    (dir, state)
}

async fn publish(state: &AppState, id: &str, json: &str) {
    let spec = render_core::Spec::from_json(json).expect("spec parses");
    state
        .publish(id, json.to_string(), spec, None)
        .await
        .expect("published");
}

/// One untagged point of `metric`.
fn sample(metric: &str, t: i64, v: f64) -> Sample {
    Sample {
        metric: metric.into(),
        tags: Default::default(),
        t,
        v,
    }
}

/// Ingests `count` points of `m`, one every `every` of virtual time, stamped now, with
/// values going round `0..cycle` so that the data keeps changing.
async fn feed(state: &AppState, count: u32, every: Duration, cycle: u32) {
    for i in 0..count {
        let point = sample("m", state.now_ms(), f64::from(i % cycle));
        state.ingest(vec![point]).await.expect("stored");
        tokio::time::sleep(every).await;
    }
}

/// A viewer of chart `id` with no parameters (`smooth`: one that asks for smooth
/// scrolling); the chart renders while it is kept.
fn watch(state: &AppState, id: &str, smooth: bool) -> Subscription {
    state
        .hub()
        .subscribe(id, &Params::default(), smooth)
        .expect("subscribed")
}

fn frames(state: &AppState, id: &str) -> u64 {
    state
        .hub()
        .stats()
        .iter()
        .find(|chart| chart.id == id)
        .map_or(0, |chart| chart.frames)
}

#[tokio::test(start_paused = true)]
async fn changing_data_renders_at_the_charts_fps_cap() {
    let (_dir, state) = fresh().await;
    publish(
        &state,
        "capped",
        r#"{"version":1,"width":320,"height":200,"fps":5,"window":"10m",
        "panels":[{"series":[{"metric":"m"}]}]}"#,
    )
    .await;
    let _viewer = watch(&state, "capped", false);
    // A new point every 10 ms for 10 virtual seconds: far more changes than frames.
    let start = frames(&state, "capped");
    feed(&state, 1000, Duration::from_millis(10), 50).await;
    let rendered = frames(&state, "capped") - start;
    assert!(
        (49..=51).contains(&rendered),
        "{rendered} frames in 10 s at fps 5"
    );
}

/// A 320 px wide chart (~300 px of time axis) over `window`, with `extra` top-level
/// fields.
fn chart(window: &str, extra: &str) -> String {
    format!(
        r#"{{"version":1,"width":320,"height":200,"fps":30,"window":"{window}",{extra}
        "panels":[{{"series":[{{"metric":"m"}}]}}]}}"#
    )
}

/// How long the time axis of `json` takes to move a pixel, in ms.
fn resolution(json: &str) -> i64 {
    render_core::validate(render_core::Spec::from_json(json).expect("spec"))
        .expect("valid")
        .time_resolution_ms()
        .expect("a time axis")
}

/// Frames the chart `id` renders in the next `secs` virtual seconds without new data.
async fn frames_over(state: &AppState, id: &str, secs: u64) -> i64 {
    tokio::time::sleep(Duration::from_millis(100)).await;
    let start = frames(state, id);
    tokio::time::sleep(Duration::from_secs(secs)).await;
    (frames(state, id) - start) as i64
}

/// Checks that chart `id` renders a frame every `step_ms` over the next 60 virtual
/// seconds without new data, give or take one (`why`: what sets that step).
async fn assert_renders_every(state: &AppState, id: &str, step_ms: i64, why: &str) {
    let rendered = frames_over(state, id, 60).await;
    let expected = 60_000 / step_ms;
    assert!(
        (rendered - expected).abs() <= 1,
        "{rendered} frames in 60 s, one per {step_ms} ms ({why}) expected {expected}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_smooth_chart_renders_whenever_its_time_axis_moves_a_pixel() {
    let (_dir, state) = fresh().await;
    let json = chart("10m", r#""scroll":"smooth","#);
    publish(&state, "smooth", &json).await;
    let _viewer = watch(&state, "smooth", false);
    assert_renders_every(&state, "smooth", resolution(&json), "a pixel").await;
}

#[tokio::test(start_paused = true)]
async fn an_idle_chart_scrolls_in_steps_of_eight_pixels_or_one_and_a_half_seconds() {
    let (_dir, state) = fresh().await;
    // 5 minutes over ~300 px: a pixel takes ~1 s, 8 px ~8 s, so the 1.5 s step applies.
    publish(&state, "idle", &chart("5m", "")).await;
    let _viewer = watch(&state, "idle", false);
    let rendered = frames_over(&state, "idle", 60).await;
    assert!((39..=41).contains(&rendered), "{rendered} frames in 60 s");
    // 20 s over ~300 px: 8 px take ~0.5 s.
    let json = chart("20s", "");
    publish(&state, "idle", &json).await;
    assert_renders_every(&state, "idle", 8 * resolution(&json), "8 px").await;
}

#[tokio::test(start_paused = true)]
async fn a_one_hertz_source_costs_one_frame_a_second() {
    let (_dir, state) = fresh().await;
    // The reference chart's shape: 800 px over 5 minutes, a pixel every ~400 ms.
    let json = r#"{"version":1,"width":800,"height":450,"window":"5m",
        "panels":[{"series":[{"metric":"m"}]}]}"#;
    publish(&state, "ref", json).await;
    assert!(
        resolution(json) < 500,
        "the axis moves more than 2 px a second"
    );
    let _viewer = watch(&state, "ref", false);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let start = frames(&state, "ref");
    feed(&state, 60, Duration::from_secs(1), 7).await;
    let rendered = frames(&state, "ref") - start;
    assert!((59..=61).contains(&rendered), "{rendered} frames in 60 s");
}

#[tokio::test(start_paused = true)]
async fn a_smooth_viewer_makes_its_chart_scroll_smoothly_while_it_watches() {
    let (_dir, state) = fresh().await;
    let json = chart("5m", "");
    publish(&state, "mixed", &json).await;
    let _step = watch(&state, "mixed", false);
    let smooth = watch(&state, "mixed", true);
    let pixel = resolution(&json);
    assert_renders_every(&state, "mixed", pixel, "a pixel, for the smooth viewer").await;
    drop(smooth);
    let rendered = frames_over(&state, "mixed", 60).await;
    assert!(
        (39..=41).contains(&rendered),
        "{rendered} frames in 60 s once the smooth viewer left"
    );
}

#[tokio::test(start_paused = true)]
async fn an_unchanged_frame_is_resent_every_keepalive_and_a_chart_without_viewers_stops() {
    let (_dir, state) = fresh().await;
    // No time axis and no data changes: one frame, then only keepalive repeats.
    publish(
        &state,
        "note",
        r#"{"version":1,"width":320,"height":200,"panels":[{"kind":"text","text":"hi"}]}"#,
    )
    .await;
    let subscription = watch(&state, "note", false);
    let options = ViewerOptions {
        keepalive: Duration::from_secs(2),
        min_interval: Duration::from_millis(100),
    };
    let mut body = Box::pin(viewer::body(subscription, options, state.metrics().clone()));
    let mut chunks = 0;
    let until = tokio::time::Instant::now() + Duration::from_secs(21);
    while let Ok(Some(chunk)) = tokio::time::timeout_at(until, body.next()).await {
        chunk.expect("infallible");
        chunks += 1;
    }
    assert_eq!(frames(&state, "note"), 1, "rendered once");
    // The first frame: boundary, header, JPEG, boundary, advance header. Each repeat
    // at 2, 4, .. 20 s: the padded JPEG, boundary, advance header.
    assert_eq!(chunks, 5 + 10 * 3, "chunks in 21 s with a 2 s keepalive");
    drop(body);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stats = state.hub().stats();
    assert_eq!(
        (stats[0].id.as_str(), stats[0].variants),
        ("note", 0),
        "the render task stopped with its last viewer and its variant was dropped"
    );
}

#[tokio::test(start_paused = true)]
async fn points_past_retention_are_pruned_from_the_store_and_from_memory() {
    let (_dir, state) = fresh().await;
    let old = || vec![sample("old", state.now_ms(), 1.0)];
    state.ingest(old()).await.expect("stored");
    tokio::time::sleep(Duration::from_secs(6 * 86_400)).await;
    state.ingest(old()).await.expect("stored");
    assert_eq!(state.prune().await.expect("pruned"), 0, "both within 7 d");
    tokio::time::sleep(Duration::from_secs(2 * 86_400)).await;
    assert_eq!(
        state.prune().await.expect("pruned"),
        1,
        "the first is 8 d old"
    );
    let selectors = crate::source::Selectors {
        series: vec![crate::source::Selector {
            metric: "old".into(),
            tags: Default::default(),
        }],
        promql: Vec::new(),
    };
    let everything = vec![render_core::ReadStretch {
        from: 0,
        resolution_ms: 1,
        values_only: false,
    }];
    let data = state
        .read(selectors, everything, state.now_ms())
        .await
        .expect("read");
    let points: usize = data.series.iter().map(|s| s.points.len()).sum();
    assert_eq!(points, 1, "only the point within retention is left");
}
