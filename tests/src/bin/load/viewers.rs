//! Many MJPEG viewers on loopback: each a raw `TcpStream` with a minimal HTTP/1.1 GET,
//! parsed by [`StreamParser`]. Connections are ramped (a rate and a cap on those still
//! waiting for their response head, so the accept queue is never flooded); frames are
//! counted per viewer over a measurement window that starts once all are connected
//! ([`run_together`]: once all of several runs are, at one instant for all of them).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{watch, Barrier, Semaphore};

use crate::mjpeg::StreamParser;
use crate::procfs::{self, CpuMeter};

/// What to open.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Server address.
    pub addr: SocketAddr,
    /// Request path, e.g. `/charts/x.mjpg`.
    pub path: String,
    /// Number of viewers.
    pub viewers: usize,
    /// New connections per second.
    pub ramp_per_sec: f64,
    /// Most connections still waiting for their response head.
    pub pending_max: usize,
    /// Length of the measurement window.
    pub window: Duration,
    /// Viewers are spread over this many loopback source addresses (127.0.0.2...).
    pub sources: u8,
}

impl Plan {
    /// `viewers` of chart `chart` on `addr`, ramped at 1,000/s with at most 200 waiting,
    /// from 50 source addresses, measured over `window`.
    pub fn of_chart(addr: SocketAddr, chart: &str, viewers: usize, window: Duration) -> Plan {
        Plan {
            addr,
            path: format!("/charts/{chart}.mjpg"),
            viewers,
            ramp_per_sec: 1000.0,
            pending_max: 200,
            window,
            sources: 50,
        }
    }
}

/// What the viewers saw.
#[derive(Debug, Default)]
pub struct Report {
    /// Viewers that received at least one frame.
    pub receiving: usize,
    /// Per-viewer frames/s over the window: minimum, 5th percentile, median.
    pub fps_min: f64,
    /// 5th percentile.
    pub fps_p5: f64,
    /// Median.
    pub fps_median: f64,
    /// First frame after connecting, ms: median and 99th percentile.
    pub first_frame_p50_ms: f64,
    /// 99th percentile.
    pub first_frame_p99_ms: f64,
    /// Errors by kind.
    pub errors: BTreeMap<String, usize>,
    /// Seconds until every viewer had its response head (or failed).
    pub ramp_secs: f64,
    /// Measurement window, seconds.
    pub window_secs: f64,
    /// Frames received in the window, all viewers.
    pub frames: u64,
    /// Server CPU over the window, cores (if a pid was given).
    pub server_cores: f64,
    /// Server VmRSS at the end of the window, MB.
    pub server_rss_mb: f64,
    /// Server VmHWM (peak RSS) at the end of the window, MB.
    pub server_hwm_mb: f64,
    /// This client's CPU over the window, cores.
    pub client_cores: f64,
}

/// One viewer's record.
#[derive(Default)]
struct Seen {
    first_frame: Option<Duration>,
    frames: Vec<Instant>,
    error: Option<String>,
}

thread_local! {
    /// Read buffer shared by all viewers on a worker thread (the parser keeps no
    /// reference to it), so memory does not grow with the number of viewers.
    static BUFFER: RefCell<Vec<u8>> = RefCell::new(vec![0; 256 * 1024]);
}

/// Opens the viewers, measures over the window, closes them.
pub async fn run(plan: &Plan, server_pid: Option<u32>) -> Report {
    run_after(plan, server_pid, None).await
}

/// [`run`], with the window starting when every party of `start` is ready: runs
/// against several servers (and whoever measures those servers meanwhile) share one
/// window, each starting it once all have their viewers connected.
pub async fn run_together(plan: &Plan, server_pid: Option<u32>, start: &Barrier) -> Report {
    run_after(plan, server_pid, Some(start)).await
}

async fn run_after(plan: &Plan, server_pid: Option<u32>, start: Option<&Barrier>) -> Report {
    let pending = Arc::new(Semaphore::new(plan.pending_max));
    let (stop_tx, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(plan.viewers);
    for i in 0..plan.viewers {
        let due = started + Duration::from_secs_f64(i as f64 / plan.ramp_per_sec);
        tokio::time::sleep_until(due.into()).await;
        let Ok(permit) = pending.clone().acquire_owned().await else {
            break;
        };
        let source = IpAddr::V4(Ipv4Addr::new(
            127,
            0,
            0,
            2 + (i % usize::from(plan.sources.max(1))) as u8,
        ));
        let plan = plan.clone();
        let stop = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            let mut seen = Seen::default();
            let mut permit = Some(permit);
            if let Err(error) = viewer(&plan, source, stop, &mut permit, &mut seen).await {
                seen.error = Some(error);
            }
            seen
        }));
    }
    // Every viewer has its response head (or failed) once all permits are back.
    // (Bounded: a server that never sends a frame must not hang the client.)
    let _all = tokio::time::timeout(
        Duration::from_secs(60),
        pending.acquire_many(plan.pending_max as u32),
    )
    .await;
    let ramp_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    if let Some(start) = start {
        start.wait().await;
    }

    let window_start = Instant::now();
    let server_cpu = server_pid.map(CpuMeter::start);
    let client_cpu = CpuMeter::start(std::process::id());
    tokio::time::sleep(plan.window).await;
    let window_end = Instant::now();
    let mut report = Report {
        ramp_secs,
        window_secs: (window_end - window_start).as_secs_f64(),
        client_cores: client_cpu.cores(),
        ..Report::default()
    };
    if let (Some(meter), Some(pid)) = (server_cpu, server_pid) {
        report.server_cores = meter.cores();
        report.server_rss_mb = procfs::status_mb(pid, "VmRSS").unwrap_or(0.0);
        report.server_hwm_mb = procfs::status_mb(pid, "VmHWM").unwrap_or(0.0);
    }
    let _ = stop_tx.send(true);

    let mut fps = Vec::new();
    let mut first = Vec::new();
    for task in tasks {
        let seen = match task.await {
            Ok(seen) => seen,
            Err(error) => Seen {
                error: Some(format!("task: {error}")),
                ..Seen::default()
            },
        };
        if let Some(error) = seen.error {
            *report.errors.entry(error).or_default() += 1;
        }
        if let Some(latency) = seen.first_frame {
            report.receiving += 1;
            first.push(latency.as_secs_f64() * 1000.0);
        }
        let in_window = seen
            .frames
            .iter()
            .filter(|t| **t >= window_start && **t < window_end)
            .count();
        report.frames += in_window as u64;
        fps.push(in_window as f64 / report.window_secs);
    }
    fps.sort_by(f64::total_cmp);
    first.sort_by(f64::total_cmp);
    report.fps_min = fps.first().copied().unwrap_or(0.0);
    report.fps_p5 = percentile(&fps, 0.05);
    report.fps_median = percentile(&fps, 0.5);
    report.first_frame_p50_ms = percentile(&first, 0.5);
    report.first_frame_p99_ms = percentile(&first, 0.99);
    report
}

/// The value below which a fraction `q` of the sorted `values` lie.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Connects from `source` and sends the GET.
pub async fn connect(addr: SocketAddr, source: IpAddr, path: &str) -> Result<TcpStream, String> {
    let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    if addr.ip().is_loopback() {
        socket
            .bind(SocketAddr::new(source, 0))
            .map_err(|e| format!("bind: {e}"))?;
    }
    let mut stream = socket
        .connect(addr)
        .await
        .map_err(|e| format!("connect: {}", e.kind()))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: */*\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("send: {}", e.kind()))?;
    Ok(stream)
}

/// Reads `stream` into `parser` until `stop`; `on_frame` gets each part's body.
pub async fn read_stream(
    stream: &TcpStream,
    parser: &mut StreamParser,
    mut stop: watch::Receiver<bool>,
    on_frame: &mut (dyn FnMut(&[u8]) + Send),
) -> Result<(), String> {
    loop {
        tokio::select! {
            ready = stream.readable() => ready.map_err(|e| format!("read: {}", e.kind()))?,
            _ = stop.changed() => return Ok(()),
        }
        let result = BUFFER.with(|buffer| {
            let mut buffer = buffer.borrow_mut();
            match stream.try_read(&mut buffer) {
                Ok(0) => Err("closed by the server".to_owned()),
                Ok(n) => parser.feed(&buffer[..n], on_frame),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(()),
                Err(e) => Err(format!("read: {}", e.kind())),
            }
        });
        result?;
        if parser.ended {
            return Err("stream ended".into());
        }
    }
}

async fn viewer(
    plan: &Plan,
    source: IpAddr,
    stop: watch::Receiver<bool>,
    permit: &mut Option<tokio::sync::OwnedSemaphorePermit>,
    seen: &mut Seen,
) -> Result<(), String> {
    let started = Instant::now();
    let stream = connect(plan.addr, source, &plan.path).await;
    let stream = match stream {
        Ok(stream) => stream,
        Err(error) => {
            permit.take();
            return Err(error);
        }
    };
    let mut parser = StreamParser::new(false);
    let mut on_frame = |_: &[u8]| {
        let now = Instant::now();
        permit.take();
        if seen.first_frame.is_none() {
            seen.first_frame = Some(now - started);
        }
        seen.frames.push(now);
    };
    let result = read_stream(&stream, &mut parser, stop, &mut on_frame).await;
    permit.take();
    result
}
