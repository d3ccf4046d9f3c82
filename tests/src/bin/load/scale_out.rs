//! The scaleout phase (issue 14): a real nats-server, one origin (`--nats`) and two
//! edges (`--role edge --nats`) on this machine; the 10 fps chart of the viewers phase,
//! fed by the same 10 Hz collector on the origin. For N per edge on a ladder, N viewers
//! on each edge at once, over one window shared by both edges: every viewer's fps
//! against the chart's, the origin's CPU and the frames it rendered (CPU per frame), the
//! edges' and NATS's CPU; the ladder stops at the first N where some viewer fell below
//! 95 % of the chart's fps. Then one server alone, same chart and collector, with the
//! same total viewers (2N at the highest passing N and at the first failing N), opened
//! the same way (two runs of N at once): its fps and CPU per frame.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use futures_util::future::join_all;
use tests::nats::NatsServer;
use tokio::sync::{watch, Barrier};

use crate::cpu_feed::{collect, prefill, MOVING_10};
use crate::poll::poll;
use crate::procfs::{self, CpuMeter};
use crate::report::{detail, result};
use crate::server::{delta, Server};
use crate::viewers::{self, Plan};

/// The chart (`MOVING_10`) and its `fps`.
const CHART: &str = "moving10";
const CHART_FPS: f64 = 10.0;
/// What every viewer must keep of the chart's fps.
const KEEP: f64 = 0.95;
/// Viewers per edge, in the order tried (the last is the cap: ~5 minutes in all).
const LADDER: [usize; 5] = [100, 250, 500, 1000, 2000];
/// The same with `--quick`.
const QUICK_LADDER: [usize; 2] = [20, 50];
/// Edges (and so concurrent viewer runs of N each, alone as with edges).
const EDGES: usize = 2;

/// One round: N viewers on each of the serving nodes, measured over one window.
struct Round {
    /// Viewers per serving node.
    per_node: usize,
    /// What each serving node's viewers saw (and that node's CPU).
    reports: Vec<viewers::Report>,
    /// The rendering node's (origin's or lone server's) CPU over the window, cores.
    render_cores: f64,
    /// Frames of the chart it rendered in the window.
    rendered: u64,
    /// The window, seconds.
    window_secs: f64,
    /// nats-server's CPU over the window, cores (with edges).
    nats_cores: Option<f64>,
    /// The rendering node's CPU from the first connection to the window, cores, and
    /// that time, seconds: admitting the viewers (with edges: over NATS) and rendering.
    ramp_cores: f64,
    /// The time from the first connection to the window, seconds.
    ramp_secs: f64,
}

impl Round {
    /// The lowest per-viewer fps of all serving nodes.
    fn fps_min(&self) -> f64 {
        self.reports
            .iter()
            .map(|r| r.fps_min)
            .fold(f64::INFINITY, f64::min)
    }

    /// The lower of the serving nodes' 5th percentiles.
    fn fps_p5(&self) -> f64 {
        self.reports
            .iter()
            .map(|r| r.fps_p5)
            .fold(f64::INFINITY, f64::min)
    }

    /// Every viewer connected, without error, and kept ≥ 95 % of the chart's fps.
    fn passed(&self) -> bool {
        self.reports.iter().all(|r| {
            r.receiving == self.per_node && r.errors.is_empty() && r.fps_min >= KEEP * CHART_FPS
        })
    }

    /// Frames rendered per second.
    fn render_fps(&self) -> f64 {
        self.rendered as f64 / self.window_secs
    }

    /// The rendering node's CPU per rendered frame, ms (all of its CPU, whatever for).
    fn cpu_per_frame_ms(&self) -> f64 {
        if self.rendered == 0 {
            return f64::NAN;
        }
        self.render_cores * self.window_secs * 1000.0 / self.rendered as f64
    }

    /// `fps min / p5` as a figure.
    fn fps_figure(&self) -> String {
        format!("{:.2} / {:.2}", self.fps_min(), self.fps_p5())
    }

    /// The rendering node's CPU as a figure.
    fn render_figure(&self) -> String {
        format!(
            "{:.3} cores, {:.1} frames/s rendered = {:.2} ms CPU per frame",
            self.render_cores,
            self.render_fps(),
            self.cpu_per_frame_ms()
        )
    }

    /// A detail line on what the viewers of each serving node saw.
    fn detail(&self, what: &str) {
        let nodes: Vec<String> = self
            .reports
            .iter()
            .map(|r| {
                format!(
                    "{} receiving, fps min {:.2} / p5 {:.2} / median {:.2}, first frame p50 {:.1} ms \
                     / p99 {:.1} ms, ramp {:.1} s, CPU {:.3} cores, VmHWM {:.0} MB, errors {:?}, \
                     load client {:.2} cores",
                    r.receiving,
                    r.fps_min,
                    r.fps_p5,
                    r.fps_median,
                    r.first_frame_p50_ms,
                    r.first_frame_p99_ms,
                    r.ramp_secs,
                    r.server_cores,
                    r.server_hwm_mb,
                    r.errors,
                    r.client_cores
                )
            })
            .collect();
        detail(format!(
            "{what}, {} per node: {} frames rendered in {:.1} s; rendering node {:.3} cores \
             over the {:.1} s from the first connection to the window; {}",
            self.per_node,
            self.rendered,
            self.window_secs,
            self.ramp_cores,
            self.ramp_secs,
            nodes.join("; ")
        ));
    }
}

/// Runs the phase.
pub async fn run(plotcast: &Path, quick: bool) -> Result<()> {
    let (ladder, window): (&[usize], _) = if quick {
        (&QUICK_LADDER, Duration::from_secs(5))
    } else {
        (&LADDER, Duration::from_secs(20))
    };
    detail(format!("scaleout: loadavg at start {}", procfs::loadavg()));
    let rounds = cluster_rounds(plotcast, ladder, window).await?;
    let passing = rounds.iter().take_while(|r| r.passed()).last();
    let failing = rounds.iter().find(|r| !r.passed());
    result(
        &format!(
            "scale-out, 1 origin + {EDGES} edges: most viewers per edge with every viewer ≥ {:.0} % \
             of the chart's {CHART_FPS} fps (ladder {ladder:?})",
            KEEP * 100.0
        ),
        passing.map_or_else(
            || "none".to_owned(),
            |r| format!("{} ({} in all)", r.per_node, r.per_node * EDGES),
        ),
        "-",
        None,
    );
    let per_frame: Vec<String> = rounds
        .iter()
        .map(|r| format!("{:.2} ms ({})", r.cpu_per_frame_ms(), r.per_node))
        .collect();
    result(
        "scale-out: origin CPU per frame over the ladder (viewers per edge)",
        per_frame.join(", "),
        "-",
        None,
    );
    let alone = alone_rounds(plotcast, [passing, failing], window).await?;
    for (cluster, lone) in [passing, failing].into_iter().flatten().zip(&alone) {
        let ratio = cluster.cpu_per_frame_ms() / lone.cpu_per_frame_ms();
        result(
            &format!(
                "scale-out vs alone, {} viewers in all: origin / lone server CPU per frame",
                cluster.per_node * EDGES
            ),
            format!(
                "{:.2} ms / {:.2} ms = {ratio:.2}×",
                cluster.cpu_per_frame_ms(),
                lone.cpu_per_frame_ms()
            ),
            "origin ≤ alone",
            Some(ratio <= 1.0),
        );
    }
    detail(format!("scaleout: loadavg at end {}", procfs::loadavg()));
    Ok(())
}

/// The ladder on 1 origin + 2 edges, up to its first failing round.
async fn cluster_rounds(plotcast: &Path, ladder: &[usize], window: Duration) -> Result<Vec<Round>> {
    let nats = NatsServer::start().await;
    let origin = Server::start_with(plotcast, &["--nats", &nats.url()]).await?;
    let mut edges = Vec::new();
    for _ in 0..EDGES {
        edges.push(Server::start_with(plotcast, &["--role", "edge", "--nats", &nats.url()]).await?);
    }
    detail(format!(
        "scaleout: nats-server {}; origin `plotcast {}`",
        nats.url(),
        origin.args.join(" ")
    ));
    let (origin, stop) = with_collector(origin).await?;
    let serving: Vec<&Server> = edges.iter().collect();
    let mut rounds = Vec::new();
    for &n in ladder {
        eprintln!("scaleout: {n} viewers on each of {EDGES} edges for {window:?}...");
        let round = round(&origin, &serving, n, window, nats.pid()).await?;
        round.detail("scale-out (edges)");
        result(
            &format!(
                "scale-out, 1 origin + {EDGES} edges, {n} viewers per edge: per-viewer fps min / p5"
            ),
            round.fps_figure(),
            &format!("every viewer ≥ {:.1}", KEEP * CHART_FPS),
            Some(round.passed()),
        );
        let edge_cores: Vec<String> = round
            .reports
            .iter()
            .map(|r| format!("{:.3}", r.server_cores))
            .collect();
        result(
            &format!("scale-out, {n} viewers per edge: origin CPU; edges' CPU; NATS CPU"),
            format!(
                "{}; {} cores; {:.3} cores",
                round.render_figure(),
                edge_cores.join(" / "),
                round.nats_cores.unwrap_or(f64::NAN)
            ),
            "-",
            None,
        );
        let passed = round.passed();
        rounds.push(round);
        if !passed {
            break;
        }
    }
    let _ = stop.send(true);
    Ok(rounds)
}

/// One server alone, with the total viewers of each given cluster round.
async fn alone_rounds(
    plotcast: &Path,
    like: [Option<&Round>; 2],
    window: Duration,
) -> Result<Vec<Round>> {
    let lone = Server::start(plotcast).await?;
    let (lone, stop) = with_collector(lone).await?;
    let mut rounds = Vec::new();
    for cluster in like.into_iter().flatten() {
        let n = cluster.per_node;
        eprintln!(
            "scaleout: {} viewers on one server alone for {window:?}...",
            n * EDGES
        );
        let serving = [&*lone; EDGES];
        let round = round(&lone, &serving, n, window, None).await?;
        round.detail("one server alone");
        let total = n * EDGES;
        result(
            &format!("one server alone, {total} viewers: per-viewer fps min / p5"),
            round.fps_figure(),
            &format!("every viewer ≥ {:.1}", KEEP * CHART_FPS),
            Some(round.passed()),
        );
        result(
            &format!("one server alone, {total} viewers: server CPU"),
            round.render_figure(),
            "-",
            None,
        );
        rounds.push(round);
    }
    let _ = stop.send(true);
    Ok(rounds)
}

/// Publishes the chart on `server` with five minutes of history and starts the 10 Hz
/// collector writing to it until the returned sender says stop.
async fn with_collector(server: Server) -> Result<(Arc<Server>, watch::Sender<bool>)> {
    server.put_chart(CHART, MOVING_10).await?;
    prefill(&server).await?;
    let server = Arc::new(server);
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(collect(server.clone(), stopped));
    Ok((server, stop))
}

/// `n` viewers of the chart on each of `serving` at once, over one window, while
/// `renderer`'s CPU and rendered frames (and nats-server's CPU) are measured over it.
async fn round(
    renderer: &Server,
    serving: &[&Server],
    n: usize,
    window: Duration,
    nats_pid: Option<u32>,
) -> Result<Round> {
    let start = Barrier::new(serving.len() + 1);
    let runs = serving.iter().map(|node| {
        let plan = Plan::of_chart(node.addr, CHART, n, window);
        let start = &start;
        async move { viewers::run_together(&plan, Some(node.pid), start).await }
    });
    let ramp = CpuMeter::start(renderer.pid);
    let ramp_started = Instant::now();
    let measured = async {
        start.wait().await;
        let (ramp_cores, ramp_secs) = (ramp.cores(), ramp_started.elapsed().as_secs_f64());
        let before = renderer.frames_rendered().await?;
        let started = Instant::now();
        let cpu = CpuMeter::start(renderer.pid);
        let nats = nats_pid.map(CpuMeter::start);
        tokio::time::sleep(window).await;
        let render_cores = cpu.cores();
        let nats_cores = nats.map(|meter| meter.cores());
        let window_secs = started.elapsed().as_secs_f64();
        let after = renderer.frames_rendered().await?;
        anyhow::Ok(Round {
            per_node: n,
            reports: Vec::new(),
            render_cores,
            rendered: delta(&before, &after, CHART),
            window_secs,
            nats_cores,
            ramp_cores,
            ramp_secs,
        })
    };
    let (reports, measured) = tokio::join!(join_all(runs), measured);
    let round = Round {
        reports,
        ..measured?
    };
    for node in serving {
        closed(node).await?;
    }
    Ok(round)
}

/// Waits until `node` has no viewers of the chart left (the round's are closed).
async fn closed(node: &Server) -> Result<()> {
    let gauge = format!("plotcast_viewers{{chart=\"{CHART}\"}}");
    let (limit, every) = (Duration::from_secs(30), Duration::from_millis(100));
    poll(limit, every, || async {
        // No line: the chart has no live variant here any more.
        let left = node.metric(&gauge).await.unwrap_or(0.0);
        if left == 0.0 {
            return Ok(());
        }
        Err(format!(
            "{} still has {left} viewers of {CHART} 30 s after the round",
            node.addr
        ))
    })
    .await
}
