//! The bandwidth phase: what one viewer costs on the wire. The reference chart
//! (`examples/reference.json`: 800×450, 4 series over 5 minutes) fed one point per
//! series per second, the same chart watched with `?scroll=smooth`, and the demo chart
//! (`--demo true`: the host collector, 1 Hz) — each with one raw-TCP viewer for the
//! window: bytes per viewer-minute, parts and new pictures per second, padding, and the
//! PSNR of frames against a lossless render (`POST /api/render` as PNG at the frame's
//! time, after the feed stopped so both see the same data). With `before`, the
//! same against an older `plotcast`, at the same time with the same data.

use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::io::AsyncReadExt;
use tokio::sync::watch;

use crate::ingest::now_ms;
use crate::mjpeg::{comment_bytes, jpeg_identity, StreamParser};
use crate::report::{detail, result};
use crate::server::Server;
use crate::viewers;

/// The reference chart.
const REFERENCE: &str = include_str!("../../../../examples/reference.json");

/// The streams each server is watched on: (label, chart, path).
const STREAMS: [(&str, &str, &str); 3] = [
    (
        "reference chart, 1 Hz data",
        "reference",
        "/charts/reference.mjpg",
    ),
    (
        "reference chart, 1 Hz data, ?scroll=smooth",
        "smooth",
        "/charts/smooth.mjpg?scroll=smooth",
    ),
    ("demo chart", "demo", "/charts/demo.mjpg"),
];

/// How much the PSNR of one chart's frames varies from picture to picture with the same
/// encoder (37.71–37.75 dB for the reference chart): the two servers' frames are
/// rendered at different times, so they are not the same pictures.
const PSNR_NOISE_DB: f64 = 0.1;

/// How long the streams run before the window.
const WARM_UP: Duration = Duration::from_secs(20);

/// One received part.
struct Received {
    at: Instant,
    timestamp: Option<i64>,
    len: usize,
    padding: usize,
    identity: u64,
    /// The JPEG, kept for parts after the feed stopped (for the PSNR).
    jpeg: Option<Vec<u8>>,
}

/// A viewer's record: bytes read so far and the parts.
#[derive(Default)]
struct Record {
    bytes: u64,
    parts: Vec<Received>,
}

/// What one stream cost over the window.
struct Figures {
    bytes_per_minute: f64,
    parts_per_sec: f64,
    pictures_per_sec: f64,
    /// Padding bytes over part bytes.
    padding: f64,
    /// Mean JPEG size without padding, bytes.
    mean_jpeg: f64,
    /// Parts that repeated the picture before them (fallbacks and keepalives).
    repeats: usize,
    /// PSNR in dB of the frames compared (reference streams only), and how many.
    psnr: Option<(f64, usize)>,
}

/// Runs the phase for `plotcast` and, at the same time, `before`; prints the rows.
pub async fn run(plotcast: &Path, before: Option<&Path>, window: Duration) -> Result<()> {
    let now = Server::start_with(plotcast, &["--demo", "true"]).await?;
    let old = match before {
        Some(path) => Some(Server::start_with(path, &["--demo", "true"]).await?),
        None => None,
    };
    let servers: Vec<&Server> = std::iter::once(&now).chain(old.as_ref()).collect();
    for server in &servers {
        server.put_chart("reference", REFERENCE).await?;
        server.put_chart("smooth", REFERENCE).await?;
        prefill(server).await?;
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut readers = Vec::new();
    for server in &servers {
        for (_, _, path) in STREAMS {
            let record = Arc::new(Mutex::new(Record::default()));
            let keep_after = Arc::new(Mutex::new(None::<i64>));
            let stream = viewers::connect(server.addr, IpAddr::from([127, 0, 0, 1]), path)
                .await
                .map_err(anyhow::Error::msg)?;
            let task = tokio::spawn(read(
                stream,
                record.clone(),
                keep_after.clone(),
                stop_rx.clone(),
            ));
            readers.push((record, keep_after, task));
        }
    }
    eprintln!("bandwidth: warming up, then {window:?}...");
    let feeding = Feeder::start(&servers);
    // Past the first 16 frames of the demo chart, whose collector started with the
    // server (its first frames grow fast and widen the length budget).
    tokio::time::sleep(WARM_UP).await;
    let start = Instant::now();
    let bytes_at_start: Vec<u64> = readers.iter().map(|(r, _, _)| lock(r).bytes).collect();
    tokio::time::sleep(window).await;
    let end = Instant::now();
    let bytes_at_end: Vec<u64> = readers.iter().map(|(r, _, _)| lock(r).bytes).collect();
    let last_point = feeding.stop().await?;
    for (_, keep_after, _) in &readers {
        *keep_after
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(last_point);
    }
    // Long enough for a few step-mode frames (1.5 s apart without data).
    tokio::time::sleep(Duration::from_secs(8)).await;
    let _ = stop_tx.send(true);
    let mut figures = Vec::new();
    for (i, (record, _, task)) in readers.into_iter().enumerate() {
        if let Err(error) = task.await? {
            bail!("bandwidth viewer {}: {error}", STREAMS[i % STREAMS.len()].2);
        }
        let server = servers[i / STREAMS.len()];
        let (_, chart, _) = STREAMS[i % STREAMS.len()];
        let record = std::mem::take(&mut *lock(&record));
        let bytes = bytes_at_end[i] - bytes_at_start[i];
        let psnr = if chart == "demo" {
            None
        } else {
            Some(quality(server, &record.parts).await?)
        };
        figures.push(summarise(&record.parts, bytes, start, end, psnr));
    }
    rows(&figures, old.is_some(), window);
    Ok(())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Five minutes of history for the four `cpu` series of the reference chart, 1 Hz.
async fn prefill(server: &Server) -> Result<()> {
    let now = now_ms();
    let points: Vec<serde_json::Value> = (0..300i64)
        .flat_map(|i| cpu_points(now - 300_000 + i * 1000))
        .collect();
    server
        .write_json(serde_json::json!({ "points": points }).to_string())
        .await
}

/// One point per core at `t` (JSON points: the chart reads metric `cpu`).
fn cpu_points(t: i64) -> Vec<serde_json::Value> {
    (0..4)
        .map(|core| {
            let x = t as f64 / 7000.0 + f64::from(core) * 1.7;
            let v = 50.0 + 30.0 * x.sin() + 10.0 * (x * 3.1).cos();
            serde_json::json!({"metric": "cpu", "tags": {"core": core.to_string()}, "t": t, "v": v})
        })
        .collect()
}

/// Writes the reference chart's four series once a second to every server.
struct Feeder {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<i64>>,
}

impl Feeder {
    fn start(servers: &[&Server]) -> Feeder {
        let targets: Vec<(reqwest::Client, String)> = servers
            .iter()
            .map(|s| (s.http.clone(), s.url("/api/points")))
            .collect();
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => return Ok(now_ms()),
                }
                let body = serde_json::json!({ "points": cpu_points(now_ms()) });
                for (http, url) in &targets {
                    let response = http.post(url).json(&body).send().await?;
                    if !response.status().is_success() {
                        bail!("write: {}", response.status());
                    }
                }
            }
        });
        Feeder { stop, task }
    }

    /// Stops writing; returns a time after the last acknowledged write.
    async fn stop(self) -> Result<i64> {
        let _ = self.stop.send(true);
        self.task.await?
    }
}

/// Reads one stream into `record` until `stop`; keeps the JPEGs of parts stamped after
/// `keep_after`.
async fn read(
    mut stream: tokio::net::TcpStream,
    record: Arc<Mutex<Record>>,
    keep_after: Arc<Mutex<Option<i64>>>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), String> {
    let mut parser = StreamParser::new(true);
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let n = tokio::select! {
            read = stream.read(&mut buffer) => read.map_err(|e| format!("read: {}", e.kind()))?,
            _ = stop.changed() => return Ok(()),
        };
        if n == 0 {
            return Err("closed by the server".into());
        }
        let mut bodies = Vec::new();
        parser.feed(&buffer[..n], &mut |jpeg: &[u8]| bodies.push(jpeg.to_vec()))?;
        let at = Instant::now();
        let keep_after = *lock(&keep_after);
        let mut record = lock(&record);
        record.bytes += n as u64;
        for (jpeg, timestamp) in bodies.into_iter().zip(parser.take_timestamps()) {
            let keep = matches!((keep_after, timestamp), (Some(after), Some(t)) if t > after);
            record.parts.push(Received {
                at,
                timestamp,
                len: jpeg.len(),
                padding: comment_bytes(&jpeg),
                identity: jpeg_identity(&jpeg),
                jpeg: keep.then_some(jpeg),
            });
        }
    }
}

/// PSNR of the (at most 3 last) new pictures kept, against the server's PNG of the
/// same spec at the frame's time. A padded part is announced before its frame exists,
/// so its `X-Timestamp` is the time of the frame before; its own time is in the header
/// sent after it. Of those two times the one whose render matches counts.
async fn quality(server: &Server, parts: &[Received]) -> Result<(f64, usize)> {
    let spec: serde_json::Value = serde_json::from_str(REFERENCE)?;
    let mut kept: Vec<(Vec<i64>, &[u8])> = Vec::new();
    let mut last = None;
    for (i, part) in parts.iter().enumerate() {
        // The last part's own time has not arrived yet: it is left out.
        let next = parts.get(i + 1).and_then(|p| p.timestamp);
        if let (Some(jpeg), Some(t), Some(next)) = (&part.jpeg, part.timestamp, next) {
            if last != Some(part.identity) {
                kept.push((vec![t, next], jpeg));
            }
        }
        last = Some(part.identity);
    }
    let kept = &kept[kept.len().saturating_sub(3)..];
    if kept.is_empty() {
        bail!("no frame arrived after the feed stopped");
    }
    let mut total = 0.0;
    for (times, jpeg) in kept {
        let received = tests::Image::from_jpeg(jpeg);
        let mut best = f64::NEG_INFINITY;
        for now in times {
            let body = serde_json::json!({ "spec": spec, "now": now });
            let response = server
                .http
                .post(server.url("/api/render"))
                .json(&body)
                .send()
                .await?;
            if !response.status().is_success() {
                bail!("POST /api/render: {}", response.status());
            }
            let lossless = tests::Image::from_png(&response.bytes().await?);
            let db = psnr(&lossless, &received).context("frame and render differ in size")?;
            best = best.max(db);
        }
        total += best;
    }
    Ok((total / kept.len() as f64, kept.len()))
}

/// Peak signal-to-noise ratio of `b` against `a` over RGB, in dB (capped at 99 for
/// identical images).
fn psnr(a: &tests::Image, b: &tests::Image) -> Option<f64> {
    if (a.width, a.height) != (b.width, b.height) {
        return None;
    }
    let squared: f64 = a
        .rgb
        .iter()
        .zip(&b.rgb)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    let mse = squared / a.rgb.len() as f64;
    Some(if mse == 0.0 {
        99.0
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    })
}

fn summarise(
    parts: &[Received],
    bytes: u64,
    start: Instant,
    end: Instant,
    psnr: Option<(f64, usize)>,
) -> Figures {
    let secs = (end - start).as_secs_f64();
    let mut previous = parts
        .iter()
        .rev()
        .find(|p| p.at < start)
        .map(|p| p.identity);
    let (mut count, mut pictures, mut repeats, mut len, mut padding) = (0, 0, 0, 0, 0);
    for part in parts.iter().filter(|p| p.at >= start && p.at < end) {
        count += 1;
        len += part.len;
        padding += part.padding;
        if previous == Some(part.identity) {
            repeats += 1;
        } else {
            pictures += 1;
        }
        previous = Some(part.identity);
    }
    Figures {
        bytes_per_minute: bytes as f64 / secs * 60.0,
        parts_per_sec: f64::from(count) / secs,
        pictures_per_sec: f64::from(pictures) / secs,
        padding: padding as f64 / len.max(1) as f64,
        mean_jpeg: (len - padding) as f64 / f64::from(count.max(1)),
        repeats,
        psnr,
    }
}

/// The rows: per stream this plotcast's figures, and with `with_before` the older
/// one's (`figures` holds this plotcast's streams, then the older one's).
fn rows(figures: &[Figures], with_before: bool, window: Duration) {
    let mb = |f: &Figures| format!("{:.2} MB", f.bytes_per_minute / 1e6);
    for (i, (label, _, _)) in STREAMS.iter().enumerate() {
        let now = &figures[i];
        let old = with_before.then(|| &figures[STREAMS.len() + i]);
        let (figure, target, reached) = match old {
            Some(old) => {
                let ratio = now.bytes_per_minute / old.bytes_per_minute;
                let figure = format!("{} (before: {}; {:.0} %)", mb(now), mb(old), ratio * 100.0);
                if *label == STREAMS[1].0 {
                    (figure, "- (smooth as before)", None)
                } else {
                    (figure, "≤ 1/3 of before", Some(ratio <= 1.0 / 3.0))
                }
            }
            None => (mb(now), "-", None),
        };
        result(
            &format!("bandwidth: {label}: bytes per viewer-minute"),
            figure,
            target,
            reached,
        );
        let describe = |f: &Figures| {
            format!(
                "{:.2} parts/s ({:.2} new pictures/s, {} repeats) of {:.1} KB, padding {:.1} %",
                f.parts_per_sec,
                f.pictures_per_sec,
                f.repeats,
                f.mean_jpeg / 1e3,
                f.padding * 100.0
            )
        };
        result(
            &format!("bandwidth: {label}: parts per second, padding"),
            match old {
                Some(old) => format!("{} (before: {})", describe(now), describe(old)),
                None => describe(now),
            },
            "padding ≤ 3 %",
            Some(now.padding <= 0.03),
        );
        if let Some((db, n)) = now.psnr {
            let old_db = old.and_then(|o| o.psnr);
            result(
                &format!("bandwidth: {label}: PSNR against a lossless render"),
                match old_db {
                    Some((before, m)) => {
                        format!("{db:.2} dB ({n} frames; before: {before:.2} dB, {m} frames)")
                    }
                    None => format!("{db:.2} dB ({n} frames)"),
                },
                "not below before (± 0.1 dB: not the same pictures)",
                old_db.map(|(before, _)| db >= before - PSNR_NOISE_DB),
            );
        }
    }
    detail(format!(
        "bandwidth: one viewer per stream for {} s after {} s of warm-up, both servers at \
         the same time with the same reference data; bytes are everything read from the \
         socket; PSNR over RGB of the last new pictures rendered after the feed stopped",
        window.as_secs(),
        WARM_UP.as_secs()
    ));
}
