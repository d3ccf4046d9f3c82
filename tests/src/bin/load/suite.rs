//! The benchmark suite: against one `plotcast serve` idle renders, 1,000 and 10,000
//! viewers, a static chart with viewers, write-to-frame latency and ingest; then the
//! long-window, bandwidth, promql and scaleout phases against servers of their own.
//! Prints `RESULT\tname\tfigure\ttarget\tverdict` and `DETAIL\ttext` lines.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::sync::{mpsc, watch};

use crate::bandwidth;
use crate::cpu_feed::{collect, prefill, MOVING_10};
use crate::ingest::{self, now_ms};
use crate::long_window;
use crate::mjpeg::{jpeg_identity, StreamParser};
use crate::procfs::{self, CpuMeter};
use crate::promql;
use crate::report::{detail, result};
use crate::scale_out;
use crate::server::{delta, Server};
use crate::viewers::{self, percentile, Plan};

/// The same chart over 5 minutes at 1 fps (its axis moves a pixel every ~0.4 s).
const MOVING_1: &str = r#"{"version":1,"width":800,"height":450,"title":"CPU usage per core (1 fps)",
"window":"5m","fps":1,"panels":[{"kind":"timeseries","series":[{"metric":"cpu_usage"}],
"y_axis":{"format":"percent","min":0,"max":100},"legend":{"position":"bottom","values":["last","max"]}}]}"#;

/// A chart without a time axis: renders only when its data changes.
fn gauge(title: &str, metric: &str) -> String {
    format!(
        r#"{{"version":1,"width":400,"height":300,"title":"{title}",
"panels":[{{"kind":"gauge","series":[{{"metric":"{metric}"}}],"y_axis":{{"min":0,"max":100}}}}]}}"#
    )
}

/// The phases that share one server, in the order they run.
const SHARED_PHASES: [&str; 6] = [
    "idle",
    "viewers1k",
    "viewers10k",
    "static",
    "latency",
    "ingest",
];

/// The phases that start servers of their own, in the order they run.
const OWN_SERVER_PHASES: [&str; 4] = ["longwindow", "bandwidth", "promql", "scaleout"];

/// What the longwindow phase compares.
pub struct LongWindow<'a> {
    /// The plotcast before the data layer, if any.
    pub before: Option<&'a Path>,
    /// The store's size.
    pub size: long_window::Size,
    /// The store's size for `before`.
    pub before_size: long_window::Size,
}

/// Runs the phases in `only` (all if empty): those of [`SHARED_PHASES`] against one
/// server, then `longwindow` against servers of its own (this plotcast's, then
/// `long.before`'s), then `bandwidth` (this plotcast's and `bandwidth_before`'s at
/// once), then `promql` (with a Prometheus), then `scaleout` (1 origin + 2 edges on
/// NATS, then one server alone).
pub async fn run(
    plotcast: &Path,
    only: &[String],
    quick: bool,
    long: &LongWindow<'_>,
    bandwidth_before: Option<&Path>,
) -> Result<()> {
    let wants = |phase: &str| only.is_empty() || only.iter().any(|p| p == phase);
    if let Some(unknown) = only
        .iter()
        .find(|p| !SHARED_PHASES.contains(&p.as_str()) && !OWN_SERVER_PHASES.contains(&p.as_str()))
    {
        bail!("unknown phase {unknown:?}");
    }
    if SHARED_PHASES.iter().any(|p| wants(p)) {
        shared_server_phases(plotcast, &wants, quick).await?;
    }
    if wants("longwindow") {
        long_window::run(plotcast, &long.size, long.before, &long.before_size).await?;
    }
    if wants("bandwidth") {
        let window = Duration::from_secs(if quick { 15 } else { 60 });
        bandwidth::run(plotcast, bandwidth_before, window).await?;
    }
    if wants("promql") {
        promql::run(plotcast, quick).await?;
    }
    if wants("scaleout") {
        scale_out::run(plotcast, quick).await?;
    }
    Ok(())
}

/// The phases of [`SHARED_PHASES`] that `wants`, against one server.
async fn shared_server_phases(
    plotcast: &Path,
    wants: &dyn Fn(&str) -> bool,
    quick: bool,
) -> Result<()> {
    let server = Server::start(plotcast).await?;
    detail(format!("server: `plotcast {}`", server.args.join(" ")));
    detail(format!("loadavg at start: {}", procfs::loadavg()));

    server.put_chart("moving10", MOVING_10).await?;
    server.put_chart("moving1", MOVING_1).await?;
    server
        .put_chart("idle", &gauge("idle", "idle_value"))
        .await?;
    server
        .put_chart("probe", &gauge("latency probe", "probe_value"))
        .await?;
    prefill(&server).await?;
    server.write_lines("idle value=42").await?;
    // A 10 Hz collector: four cores, one point each every 100 ms.
    let (stop_tx, stop_rx) = watch::channel(false);
    let server = Arc::new(server);
    let collector = tokio::spawn(collect(server.clone(), stop_rx));

    let secs = |full: u64, short: u64| Duration::from_secs(if quick { short } else { full });
    if wants("idle") {
        idle_without_viewers(&server, secs(10, 3)).await?;
    }
    if wants("viewers1k") {
        let n = if quick { 100 } else { 1000 };
        let report = run_viewers(&server, "moving10", n, secs(30, 5)).await?;
        let every = report.fps_min >= 9.5;
        result(
            &format!("{n} viewers, 10 fps chart: per-viewer fps min / p5 / median"),
            format!(
                "{:.2} / {:.2} / {:.2}",
                report.fps_min, report.fps_p5, report.fps_median
            ),
            "every viewer ≥ 9.5",
            Some(every),
        );
        result(
            &format!("{n} viewers, 10 fps chart: server CPU"),
            format!("{:.2} cores", report.server_cores),
            "≤ 1 core",
            Some(report.server_cores <= 1.0),
        );
        viewer_rows(n, &report);
    }
    if wants("viewers10k") {
        let n = if quick { 500 } else { 10_000 };
        let report = run_viewers(&server, "moving1", n, secs(20, 5)).await?;
        result(
            &format!("{n} viewers, 1 fps chart: server RSS (VmRSS / VmHWM)"),
            format!(
                "{:.0} MB / {:.0} MB",
                report.server_rss_mb, report.server_hwm_mb
            ),
            "≤ 300 MB",
            Some(report.server_hwm_mb <= 300.0),
        );
        result(
            &format!("{n} viewers, 1 fps chart: viewers receiving"),
            format!("{} of {n}", report.receiving),
            "all",
            Some(report.receiving == n && report.errors.is_empty()),
        );
        result(
            &format!("{n} viewers, 1 fps chart: per-viewer fps min / p5 / median"),
            format!(
                "{:.2} / {:.2} / {:.2}",
                report.fps_min, report.fps_p5, report.fps_median
            ),
            "-",
            None,
        );
        result(
            &format!("{n} viewers, 1 fps chart: server CPU"),
            format!("{:.2} cores", report.server_cores),
            "-",
            None,
        );
        viewer_rows(n, &report);
    }
    if wants("static") {
        idle_static(&server, if quick { 5 } else { 20 }, secs(10, 3)).await?;
    }
    if wants("latency") {
        latency(&server, if quick { 30 } else { 200 }).await?;
    }
    let _ = stop_tx.send(true);
    let _ = collector.await;
    if wants("ingest") {
        ingest::run(&server, secs(10, 3)).await?;
    }
    detail(format!("loadavg at end: {}", procfs::loadavg()));
    Ok(())
}

/// Rows common to both viewer runs.
fn viewer_rows(n: usize, report: &viewers::Report) {
    result(
        &format!("{n} viewers: first frame p50 / p99"),
        format!(
            "{:.1} ms / {:.1} ms",
            report.first_frame_p50_ms, report.first_frame_p99_ms
        ),
        "-",
        None,
    );
    let errors: usize = report.errors.values().sum();
    result(
        &format!("{n} viewers: errors"),
        if errors == 0 {
            "0".to_owned()
        } else {
            format!("{errors} ({:?})", report.errors)
        },
        "0",
        Some(errors == 0),
    );
    detail(format!(
        "{n} viewers: ramp {:.1} s, window {:.1} s, {} frames received, {} receiving, \
         server {:.2} cores, VmRSS {:.0} MB, VmHWM {:.0} MB; load client {:.2} cores",
        report.ramp_secs,
        report.window_secs,
        report.frames,
        report.receiving,
        report.server_cores,
        report.server_rss_mb,
        report.server_hwm_mb,
        report.client_cores
    ));
}

async fn run_viewers(
    server: &Server,
    chart: &str,
    n: usize,
    window: Duration,
) -> Result<viewers::Report> {
    let before = server.frames_rendered().await?;
    let plan = Plan::of_chart(server.addr, chart, n, window);
    eprintln!("{n} viewers of {chart} for {window:?}...");
    let started = Instant::now();
    let report = viewers::run(&plan, Some(server.pid)).await;
    let after = server.frames_rendered().await?;
    let rendered = delta(&before, &after, chart);
    detail(format!(
        "{n} viewers of `{chart}`: {rendered} frames rendered in {:.1} s (ramp + window) = {:.1}/s",
        started.elapsed().as_secs_f64(),
        rendered as f64 / started.elapsed().as_secs_f64()
    ));
    // Let the server notice the closed connections before the next phase.
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(report)
}

/// No viewers for `wait` (while the collector writes): no renders.
async fn idle_without_viewers(server: &Server, wait: Duration) -> Result<()> {
    let before = server.frames_rendered().await?;
    let cpu = CpuMeter::start(server.pid);
    tokio::time::sleep(wait).await;
    let cores = cpu.cores();
    let after = server.frames_rendered().await?;
    let total: u64 = ["moving10", "moving1", "idle", "probe"]
        .iter()
        .map(|c| delta(&before, &after, c))
        .sum();
    result(
        &format!(
            "idle: no viewers for {} s (data arriving at 40 points/s): frames rendered",
            wait.as_secs()
        ),
        total.to_string(),
        "0",
        Some(total == 0),
    );
    detail(format!(
        "idle without viewers: frames_rendered_total before {before:?}, after {after:?}; server CPU {cores:.3} cores"
    ));
    Ok(())
}

/// Viewers on a chart without a time axis whose data does not change: no renders
/// after the first frame (keepalives repeat it).
async fn idle_static(server: &Server, n: usize, wait: Duration) -> Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let mut tasks = Vec::new();
    for i in 0..n {
        let stream = viewers::connect(
            server.addr,
            std::net::IpAddr::from([127, 0, 0, 2 + (i % 50) as u8]),
            "/charts/idle.mjpg",
        )
        .await
        .map_err(anyhow::Error::msg)?;
        let stop = stop_rx.clone();
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            let mut parser = StreamParser::new(false);
            let mut frames = 0u64;
            let mut on_frame = |_: &[u8]| {
                frames += 1;
                let _ = tx.send(());
            };
            let result = viewers::read_stream(&stream, &mut parser, stop, &mut on_frame).await;
            (frames, result)
        }));
    }
    for _ in 0..n {
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .context("first frame of the idle chart")?;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = server.frames_rendered().await?;
    tokio::time::sleep(wait).await;
    let after = server.frames_rendered().await?;
    let _ = stop_tx.send(true);
    let mut received = 0;
    for task in tasks {
        let (frames, outcome) = task.await?;
        received += frames;
        if let Err(error) = outcome {
            detail(format!("idle chart viewer: {error}"));
        }
    }
    let rendered = delta(&before, &after, "idle");
    result(
        &format!(
            "idle: {n} viewers of a gauge chart, no data change for {} s: frames rendered",
            wait.as_secs()
        ),
        rendered.to_string(),
        "0",
        Some(rendered == 0),
    );
    detail(format!(
        "idle chart: frames_rendered_total{{chart=\"idle\"}} {} -> {}; the viewers received {received} parts (first frames and keepalive repeats)",
        before.get("idle").copied().unwrap_or(0),
        after.get("idle").copied().unwrap_or(0)
    ));
    Ok(())
}

/// Write one point to the `probe` gauge, time until the changed frame has arrived on an
/// open stream; `n` times.
async fn latency(server: &Server, n: usize) -> Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, u64)>();
    let stream = viewers::connect(
        server.addr,
        std::net::IpAddr::from([127, 0, 0, 1]),
        "/charts/probe.mjpg",
    )
    .await
    .map_err(anyhow::Error::msg)?;
    let reader = tokio::spawn(async move {
        let mut parser = StreamParser::new(true);
        let mut on_frame = |jpeg: &[u8]| {
            let _ = tx.send((Instant::now(), jpeg_identity(jpeg)));
        };
        viewers::read_stream(&stream, &mut parser, stop_rx, &mut on_frame).await
    });
    server
        .write_lines(format!("probe value=1 {}", now_ms()))
        .await?;
    let mut last = 0;
    // The first frame, then the one with value 1.
    while let Ok(Some((_, hash))) =
        tokio::time::timeout(Duration::from_millis(500), rx.recv()).await
    {
        last = hash;
    }
    let mut frame_ms = Vec::new();
    let mut ack_ms = Vec::new();
    let mut missed = 0;
    for i in 0..n {
        // Longer than the chart's frame interval (fps 10), so the write is not held
        // back by the fps cap; varied so writes do not fall in step with anything.
        tokio::time::sleep(Duration::from_millis(120 + (i as u64 * 7) % 40)).await;
        while let Ok((_, hash)) = rx.try_recv() {
            last = hash;
        }
        let value = 5 + (i * 37) % 90;
        let started = Instant::now();
        server
            .write_lines(format!("probe value={value} {}", now_ms()))
            .await?;
        ack_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        // The first frame that differs from the last one (keepalives repeat it).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        loop {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some((at, hash))) if hash != last => {
                    frame_ms.push((at - started).as_secs_f64() * 1000.0);
                    last = hash;
                    break;
                }
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => {
                    missed += 1;
                    break;
                }
            }
        }
    }
    let _ = stop_tx.send(true);
    let _ = reader.await;
    frame_ms.sort_by(f64::total_cmp);
    ack_ms.sort_by(f64::total_cmp);
    let p50 = percentile(&frame_ms, 0.5);
    result(
        &format!("latency: write -> changed frame on the wire, p50 / p99 ({n} writes)"),
        format!("{p50:.1} ms / {:.1} ms", percentile(&frame_ms, 0.99)),
        "p50 ≤ 20 ms",
        Some(p50 <= 20.0 && missed == 0),
    );
    detail(format!(
        "latency: write acknowledged (committed) p50 {:.1} ms, p99 {:.1} ms; frames missed {missed}",
        percentile(&ack_ms, 0.5),
        percentile(&ack_ms, 0.99)
    ));
    Ok(())
}
