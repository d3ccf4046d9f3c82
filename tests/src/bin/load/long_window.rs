//! The long-window phase (issue 11): a store of 1,000 series written every 60 s for 30
//! days, backfilled through line protocol; the frame time of a 30-day chart of 16 of
//! them and of one `sum` over all, server RSS with both live, restart (kill -9) to the
//! first frame, and the frame time of a 1-hour chart of a 1,000,000-point series —
//! for this plotcast and, measured the same way right after, for the one before.
//!
//! *Frame time* is measured in the server: the mean of its render time histogram
//! (`plotcast_render_seconds`: reading the data and drawing, before the JPEG encode)
//! over the frames rendered while one viewer watches the chart and a point written
//! to each of its series every second makes it render again. Only that chart has a
//! viewer, so only it renders (checked against its `plotcast_frames_rendered_total`).

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use bytes::Bytes;

use crate::ingest::{self, now_ms, BATCH};
use crate::procfs;
use crate::report::{detail, result};
use crate::server::{delta, Server};
use crate::watcher::Watcher;

/// How big the store is.
#[derive(Debug, Clone, PartialEq)]
pub struct Size {
    /// Series of the store.
    pub series: usize,
    /// Days of points, one per series every 60 s.
    pub days: u32,
    /// Points of the 1-hour chart's series.
    pub dense_points: usize,
    /// Seconds each frame time is measured over.
    pub measure_secs: u64,
}

impl Size {
    /// The issue's size: 1,000 series × 30 days (43.2 M points).
    pub const FULL: Size = Size {
        series: 1_000,
        days: 30,
        dense_points: 1_000_000,
        measure_secs: 10,
    };

    /// `SERIESxDAYS` (e.g. `1000x7`): that many series and days, the rest as `base`.
    pub fn parse(text: &str, base: &Size) -> Result<Size> {
        let Some((series, days)) = text.split_once('x') else {
            bail!("{text:?} is not SERIESxDAYS");
        };
        Ok(Size {
            series: series.parse()?,
            days: days.parse()?,
            ..base.clone()
        })
    }

    /// A smoke run of the phase itself.
    pub const QUICK: Size = Size {
        series: 100,
        days: 3,
        dense_points: 100_000,
        measure_secs: 3,
    };

    /// Points of the backfill.
    fn points(&self) -> usize {
        self.series * self.minutes()
    }

    /// Points per series (one a minute).
    fn minutes(&self) -> usize {
        self.days as usize * 1_440
    }

    /// `1,000 series × 30 d (43.2 M points)`.
    fn describe(&self) -> String {
        format!(
            "{} series × {} d ({:.1} M points)",
            thousands(self.series),
            self.days,
            self.points() as f64 / 1e6
        )
    }
}

/// `1000` as `1,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Tag `group` of series `i`: groups of 16, so `group=0` picks 16 series.
const GROUP: usize = 16;

/// The chart of the 16 series of group 0 over the whole store.
fn chart_group(days: u32) -> String {
    format!(
        r#"{{"version":1,"width":800,"height":450,"title":"{days} days, 16 series","window":"{days}d",
"panels":[{{"kind":"timeseries","series":[{{"metric":"lw_value","tags":{{"group":"0"}}}}]}}]}}"#
    )
}

/// The chart of the sum of all series over the whole store.
fn chart_sum(days: u32) -> String {
    format!(
        r#"{{"version":1,"width":800,"height":450,"title":"{days} days, sum of all series","window":"{days}d",
"panels":[{{"kind":"timeseries","series":[{{"metric":"lw_value","aggregate":"sum"}}]}}]}}"#
    )
}

/// The 1-hour chart of the dense series.
const CHART_DENSE: &str = r#"{"version":1,"width":800,"height":450,"title":"1 hour, one dense series","window":"1h",
"panels":[{"kind":"timeseries","series":[{"metric":"dense_value"}]}]}"#;

/// One line of series `i` of the store at minute `j`.
fn store_line(body: &mut String, i: usize, j: usize, t: i64) {
    let value = (j / 30 + i * 7) % 100 + j % 7;
    let _ = writeln!(body, "lw,host=h{i},group={} value={value} {t}", i / GROUP);
}

/// Backfill batch `b`: every series at the next `BATCH / series` minutes (time-major,
/// as a collector that wrote every series each minute would have), the last minute
/// at `end`; `None` past the end.
fn backfill_batch(size: &Size, end: i64, b: usize) -> Option<(Bytes, usize)> {
    let per_batch = (BATCH / size.series).max(1);
    let minutes = size.minutes();
    let first = b * per_batch;
    if first >= minutes {
        return None;
    }
    let last = (first + per_batch).min(minutes);
    let mut body = String::with_capacity((last - first) * size.series * 48);
    for j in first..last {
        let t = end - (minutes - 1 - j) as i64 * 60_000;
        for i in 0..size.series {
            store_line(&mut body, i, j, t);
        }
    }
    Some((Bytes::from(body), (last - first) * size.series))
}

/// Dense batch `b`: `points` points over the 3,500 s before `end` (3.5 ms apart for a
/// million), `BATCH` a batch.
fn dense_batch(points: usize, end: i64, b: usize) -> Option<(Bytes, usize)> {
    let first = b * BATCH;
    if first >= points {
        return None;
    }
    let last = (first + BATCH).min(points);
    let mut body = String::with_capacity((last - first) * 32);
    for k in first..last {
        let t = end - 3_500_000 + (k as i64 * 3_500_000) / points as i64;
        let x = k as f64 / 5_000.0;
        let value = 500.0 + 400.0 * x.sin() + (k * 7_919 % 100) as f64;
        let _ = writeln!(body, "dense value={value:.1} {t}");
    }
    Some((Bytes::from(body), last - first))
}

/// Frame time of one chart.
#[derive(Debug, Clone, Copy)]
struct FrameTime {
    /// Mean render time (read + draw), ms.
    render_ms: f64,
    /// Mean JPEG encode time, ms.
    encode_ms: f64,
    /// Frames it is the mean of.
    renders: u64,
}

/// What one server measured.
#[derive(Debug)]
struct Figures {
    /// Backfill: points, seconds, server cores.
    backfill: (usize, f64, f64),
    /// The 16-series chart.
    group: FrameTime,
    /// The sum chart (`None`: refused by the server).
    sum: Option<FrameTime>,
    /// The 1-hour chart of the dense series.
    dense: FrameTime,
    /// VmRSS and VmHWM with both long charts live, MB.
    rss_mb: (f64, f64),
    /// Restart to the first frame of the 16-series chart, s.
    restart_secs: f64,
}

/// Runs the phase against `plotcast` at `size`, then against `before` at
/// `before_size`, and prints the rows (with the figures before in brackets).
pub async fn run(
    plotcast: &Path,
    size: &Size,
    before: Option<&Path>,
    before_size: &Size,
) -> Result<()> {
    let now = measure(plotcast, size, "").await?;
    let old = match before {
        Some(before) => Some(measure(before, before_size, "before: ").await?),
        None => None,
    };
    rows(size, &now, old.as_ref().map(|old| (before_size, old)));
    Ok(())
}

/// The rows; `old` is the server before and its size.
fn rows(size: &Size, now: &Figures, old: Option<(&Size, &Figures)>) {
    let scale = match old {
        Some((old_size, _)) if old_size != size => format!(", at {}", old_size.describe()),
        _ => String::new(),
    };
    let before = |f: &dyn Fn(&Figures) -> String| match old {
        Some((_, old)) => format!(" (before{scale}: {})", f(old)),
        None => String::new(),
    };
    let rate = |f: &Figures| f.backfill.0 as f64 / f.backfill.1;
    result(
        &format!(
            "long window: backfill {} every 60 s, line protocol, one connection, 5,000-line batches",
            size.describe()
        ),
        format!(
            "{:.0} points/s{}",
            rate(now),
            before(&|f| format!("{:.0} points/s", rate(f)))
        ),
        "- (report)",
        None,
    );
    let ms = |t: &FrameTime| format!("{:.1} ms", t.render_ms);
    result(
        &format!(
            "long window: {}-day chart of 16 of {} series 800×450: frame time (server, read + draw)",
            size.days,
            thousands(size.series)
        ),
        format!("{}{}", ms(&now.group), before(&|f| ms(&f.group))),
        "≤ 10 ms",
        Some(now.group.render_ms <= 10.0),
    );
    let sum = |f: &Figures| f.sum.as_ref().map_or("not supported".to_owned(), ms);
    result(
        &format!(
            "long window: {}-day chart of `sum` over all {} series 800×450: frame time (server, read + draw)",
            size.days,
            thousands(size.series)
        ),
        format!("{}{}", sum(now), before(&sum)),
        "≤ 10 ms",
        now.sum.map(|t| t.render_ms <= 10.0),
    );
    let mb = |(rss, hwm): (f64, f64)| format!("{rss:.0} MB / {hwm:.0} MB");
    result(
        "long window: server RSS with both long charts live (VmRSS / VmHWM)",
        format!("{}{}", mb(now.rss_mb), before(&|f| mb(f.rss_mb))),
        "≤ 300 MB",
        Some(now.rss_mb.0 <= 300.0),
    );
    result(
        "long window: restart (kill -9) to the first frame of the 16-series chart",
        format!(
            "{:.2} s{}",
            now.restart_secs,
            before(&|f| format!("{:.2} s", f.restart_secs))
        ),
        "≤ 10 s",
        Some(now.restart_secs <= 10.0),
    );
    let dense_points = thousands(size.dense_points);
    result(
        &format!(
            "long window: 1-hour chart of a {dense_points}-point series 800×450: frame time (server, read + draw)"
        ),
        format!("{}{}", ms(&now.dense), before(&|f| ms(&f.dense))),
        "≤ before",
        old.map(|(_, old)| now.dense.render_ms <= old.dense.render_ms),
    );
}

/// The phase against one server; `label` starts its detail lines.
async fn measure(plotcast: &Path, size: &Size, label: &str) -> Result<Figures> {
    // Raw points are kept as long as the store reaches back, so the server before
    // (raw points only) has the whole window too.
    let retention = format!("{}d", size.days + 1);
    let mut server = Server::start_with(plotcast, &["--retention", &retention]).await?;
    detail(format!(
        "long window, {label}server: `{} {}`; loadavg {}",
        plotcast.display(),
        server.args.join(" "),
        procfs::loadavg()
    ));
    server
        .put_chart("lw_group", &chart_group(size.days))
        .await?;
    let (status, body) = server
        .put_chart_status("lw_sum", &chart_sum(size.days))
        .await?;
    let sum_supported = status.is_success();
    if !sum_supported {
        // Refused as an unknown field (400) or an invalid spec (422).
        if !status.is_client_error() {
            bail!("PUT chart lw_sum: {status} {body}");
        }
        detail(format!(
            "long window, {label}the sum chart is refused: {status} {body}"
        ));
    }
    server.put_chart("lw_dense", CHART_DENSE).await?;

    eprintln!("long window ({label}{}): backfill...", size.describe());
    let end = now_ms() / 60_000 * 60_000;
    let store = size.clone();
    let backfill = ingest::send_batches(
        server.pid,
        move |b| backfill_batch(&store, end, b),
        Duration::MAX,
        |body| server.write_lines(body),
    )
    .await?;
    // The first batch warms up and is not counted.
    let (counted, secs, cores) = backfill;
    detail(format!(
        "long window, {label}backfill: {counted} points acknowledged in {secs:.1} s after a first batch of {} = {:.0} points/s; server {cores:.2} cores; VmHWM {:.0} MB",
        (BATCH / size.series).max(1) * size.series,
        counted as f64 / secs,
        procfs::status_mb(server.pid, "VmHWM").unwrap_or(0.0)
    ));
    let dense_points = size.dense_points;
    let dense_end = now_ms();
    ingest::send_batches(
        server.pid,
        move |b| dense_batch(dense_points, dense_end, b),
        Duration::MAX,
        |body| server.write_lines(body),
    )
    .await?;

    let dense = frame_time(&server, "lw_dense", size, label, |body, t| {
        let _ = writeln!(body, "dense value=500 {t}");
    })
    .await?;
    let series = size.series;
    let store_now = move |body: &mut String, t: i64| {
        for i in 0..series {
            store_line(body, i, 0, t);
        }
    };
    let group = frame_time(&server, "lw_group", size, label, store_now).await?;
    let sum = match sum_supported {
        true => Some(frame_time(&server, "lw_sum", size, label, store_now).await?),
        false => None,
    };

    let mut live = vec![Watcher::open(server.addr, "/charts/lw_group.mjpg").await?];
    if sum_supported {
        live.push(Watcher::open(server.addr, "/charts/lw_sum.mjpg").await?);
    }
    for watcher in &mut live {
        watcher.next_frame(Duration::from_secs(120)).await?;
    }
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut body = String::new();
        store_now(&mut body, now_ms());
        server.write_lines(body).await?;
    }
    let rss_mb = vm(server.pid);
    for watcher in live {
        watcher.close().await?;
    }

    let started = server.restart()?;
    let deadline = started + Duration::from_secs(600);
    let (first, mut watcher) = loop {
        if Instant::now() > deadline {
            bail!("no frame within 600 s of the restart");
        }
        // Refused until the new process listens; a stream may end while it starts.
        if let Ok(mut watcher) = Watcher::open(server.addr, "/charts/lw_group.mjpg").await {
            match watcher.next_frame(Duration::from_secs(600)).await {
                Ok(at) => break (at, watcher),
                Err(_) => {
                    let _ = watcher.close().await;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let restart_secs = (first - started).as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    watcher.drain();
    let restart_rss_mb = vm(server.pid);
    watcher.close().await?;
    detail(format!(
        "long window, {label}restart: kill -9, start on the same data dir: first frame of the 16-series chart after {restart_secs:.2} s; then VmRSS {:.0} MB, VmHWM {:.0} MB (no backfill in this process)",
        restart_rss_mb.0, restart_rss_mb.1
    ));
    Ok(Figures {
        backfill,
        group,
        sum,
        dense,
        rss_mb,
        restart_secs,
    })
}

/// VmRSS and VmHWM of `pid`, MB.
fn vm(pid: u32) -> (f64, f64) {
    (
        procfs::status_mb(pid, "VmRSS").unwrap_or(0.0),
        procfs::status_mb(pid, "VmHWM").unwrap_or(0.0),
    )
}

/// Mean frame time of `chart` while one viewer watches it and `write` (a body of lines
/// at time `t`) is sent every second for `size.measure_secs`.
async fn frame_time(
    server: &Server,
    chart: &str,
    size: &Size,
    label: &str,
    write: impl Fn(&mut String, i64),
) -> Result<FrameTime> {
    let mut watcher = Watcher::open(server.addr, &format!("/charts/{chart}.mjpg")).await?;
    watcher.next_frame(Duration::from_secs(120)).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let times = server.frame_times().await?;
    let frames = server.frames_rendered().await?;
    for _ in 0..size.measure_secs {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut body = String::new();
        write(&mut body, now_ms());
        server.write_lines(body).await?;
    }
    // Let the render of the last write finish.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let times_after = server.frame_times().await?;
    let frames_after = server.frames_rendered().await?;
    watcher.close().await?;
    let renders = times_after.renders.saturating_sub(times.renders);
    let of_chart = delta(&frames, &frames_after, chart);
    if renders == 0 {
        bail!("{chart}: no frames rendered while measuring");
    }
    let mean = |after: f64, before: f64| (after - before) * 1000.0 / renders as f64;
    let figure = FrameTime {
        render_ms: mean(times_after.render_secs, times.render_secs),
        encode_ms: mean(times_after.encode_secs, times.encode_secs),
        renders,
    };
    detail(format!(
        "long window, {label}`{chart}`: {} frames rendered in {} s ({of_chart} of them this chart's), render {:.2} ms, JPEG encode {:.2} ms per frame",
        figure.renders,
        size.measure_secs + 2,
        figure.render_ms,
        figure.encode_ms
    ));
    // Let the render task notice the viewer left.
    tokio::time::sleep(Duration::from_secs(1)).await;
    Ok(figure)
}
