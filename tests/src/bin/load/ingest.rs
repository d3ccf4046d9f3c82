//! Ingest through the HTTP API: line protocol and JSON batches sent back to back on one
//! connection (the suite's ingest phase), and the batch sender the long-window backfill
//! uses too.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use bytes::Bytes;
use tokio::sync::mpsc;

use crate::procfs::CpuMeter;
use crate::report::{detail, result};
use crate::server::Server;

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Points per ingest request.
pub const BATCH: usize = 5_000;

/// Line protocol batch `b`: 10 series, timestamps from `base` on, 1 ms apart per series.
fn line_batch(b: usize, base: i64) -> Bytes {
    let mut body = String::with_capacity(BATCH * 40);
    for j in 0..BATCH {
        let i = (b * BATCH + j) as i64;
        let _ = writeln!(
            body,
            "ingest,host=h{} value={}.5 {}",
            i % 10,
            i % 1000,
            base + i / 10
        );
    }
    Bytes::from(body)
}

/// JSON batch `b`, like [`line_batch`].
fn json_batch(b: usize, base: i64) -> Bytes {
    let mut body = String::with_capacity(BATCH * 70);
    body.push_str("{\"points\":[");
    for j in 0..BATCH {
        let i = (b * BATCH + j) as i64;
        if j > 0 {
            body.push(',');
        }
        let _ = write!(
            body,
            r#"{{"metric":"ingestj","tags":{{"host":"h{}"}},"t":{},"v":{}.5}}"#,
            i % 10,
            base + i / 10,
            i % 1000
        );
    }
    body.push_str("]}");
    Bytes::from(body)
}

/// Line protocol and JSON ingest on one connection, large batches back to back, each
/// for `duration`.
pub async fn run(server: &Server, duration: Duration) -> Result<()> {
    let base = now_ms() - 3_600_000;
    let lines = move |b| Some((line_batch(b, base), BATCH));
    let (points, secs, cores) =
        send_batches(server.pid, lines, duration, |body| server.write_lines(body)).await?;
    let rate = points as f64 / secs;
    result(
        "ingest: line protocol, one connection, 5,000-line batches",
        format!("{rate:.0} points/s"),
        "≥ 1,000,000 points/s",
        Some(rate >= 1_000_000.0),
    );
    detail(format!(
        "line protocol ingest: {points} points acknowledged (committed) in {secs:.2} s; server {cores:.2} cores"
    ));
    let json = move |b| Some((json_batch(b, base), BATCH));
    let (points, secs, cores) =
        send_batches(server.pid, json, duration, |body| server.write_json(body)).await?;
    let rate = points as f64 / secs;
    result(
        "ingest: JSON /api/points, one connection, 5,000-point batches",
        format!("{rate:.0} points/s"),
        "-",
        None,
    );
    detail(format!(
        "JSON ingest: {points} points acknowledged in {secs:.2} s; server {cores:.2} cores"
    ));
    Ok(())
}

/// Sends batches made by `make` (on another thread, a few ahead) one after the other
/// until `make` runs out (`None`) or `limit` has passed; `make(b)` is batch `b` and its
/// number of points. The first batch warms the connection and the series and is not
/// counted. Returns (points acknowledged, seconds, server cores).
pub async fn send_batches<M, F, Fut>(
    pid: u32,
    mut make: M,
    limit: Duration,
    send: F,
) -> Result<(usize, f64, f64)>
where
    M: FnMut(usize) -> Option<(Bytes, usize)> + Send + 'static,
    F: Fn(Bytes) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let (tx, mut rx) = mpsc::channel::<(Bytes, usize)>(4);
    let producer = std::thread::spawn(move || {
        let mut b = 0;
        while let Some(batch) = make(b) {
            if tx.blocking_send(batch).is_err() {
                break;
            }
            b += 1;
        }
    });
    let Some((first, _)) = rx.recv().await else {
        bail!("no batches");
    };
    send(first).await?;
    let cpu = CpuMeter::start(pid);
    let started = Instant::now();
    let mut points = 0;
    while started.elapsed() < limit {
        let Some((batch, n)) = rx.recv().await else {
            break;
        };
        send(batch).await?;
        points += n;
    }
    let secs = started.elapsed().as_secs_f64();
    let cores = cpu.cores();
    drop(rx);
    let _ = producer.join();
    Ok((points, secs, cores))
}
