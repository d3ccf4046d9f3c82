//! `load`: the load client of plotcast's benchmarks (`cargo xtask bench` runs it).
//!
//! - `load suite --plotcast target/release/plotcast` starts the server and measures
//!   viewers, idle renders, ingest and write-to-frame latency; prints `RESULT` and
//!   `DETAIL` lines (tab-separated) that `cargo xtask bench` puts into `BENCHMARKS.md`.
//! - `load viewers --addr 127.0.0.1:8080 --path /charts/x.mjpg -n 1000` opens viewers
//!   against a running server (e.g. one under `perf record`).
//! - `load ingest --addr 127.0.0.1:8080 --pid PID` runs the suite's ingest phase (line
//!   protocol, then JSON) against a running server started with `--max-points` ≥ 5000.
//! - `load suite --plotcast P --only longwindow --before OLD` runs only the long-window
//!   phase (1,000 series × 30 days, charts over all of it, restart), for `P` and `OLD`.
//! - `load suite --plotcast P --only bandwidth --bandwidth-before OLD` runs only the
//!   bandwidth phase (bytes per viewer-minute, padding, PSNR), for `P` and `OLD` at once.
//! - `load suite --plotcast P --only promql` runs only the Prometheus-source phase (100
//!   charts of 10 PromQL queries of a real Prometheus, one viewer each).
//! - `load suite --plotcast P --only scaleout` runs only the scale-out phase (a
//!   nats-server, 1 origin + 2 edges, N viewers per edge on a ladder; then one server
//!   alone with the same total viewers).

mod bandwidth;
mod cpu_feed;
mod ingest;
mod long_window;
mod mjpeg;
mod poll;
mod procfs;
mod promql;
mod report;
mod scale_out;
mod server;
mod suite;
mod viewers;
mod watcher;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Command line.
#[derive(Parser)]
#[command(name = "load", about = "plotcast load client")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

/// Subcommands.
#[derive(Subcommand)]
enum Cmd {
    /// Start `plotcast` and run the benchmark suite.
    Suite {
        /// The `plotcast` binary (a release build).
        #[arg(long)]
        plotcast: PathBuf,
        /// Only these phases (comma-separated): idle, viewers1k, viewers10k, static,
        /// latency, ingest, longwindow, bandwidth, promql, scaleout.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Smaller numbers everywhere (a smoke test of the suite itself).
        #[arg(long)]
        quick: bool,
        /// The `plotcast` to compare with in the longwindow phase (the build before
        /// the data layer), measured the same way right after.
        #[arg(long)]
        before: Option<PathBuf>,
        /// Size of the longwindow store, `SERIESxDAYS` [default: 1000x30; 100x3 with
        /// --quick].
        #[arg(long)]
        long_size: Option<String>,
        /// Size of the longwindow store for `--before`, `SERIESxDAYS` [default: the
        /// same as --long-size].
        #[arg(long)]
        before_size: Option<String>,
        /// The `plotcast` to compare with in the bandwidth phase (e.g. main before a
        /// streaming change), measured at the same time.
        #[arg(long)]
        bandwidth_before: Option<PathBuf>,
    },
    /// Open viewers against a running server and report.
    Viewers {
        /// Server address.
        #[arg(long)]
        addr: SocketAddr,
        /// Stream path.
        #[arg(long)]
        path: String,
        /// Number of viewers.
        #[arg(short = 'n', long, default_value_t = 100)]
        viewers: usize,
        /// Measurement window in seconds (after all are connected).
        #[arg(long, default_value_t = 30.0)]
        secs: f64,
        /// Server pid, for CPU and memory from /proc.
        #[arg(long)]
        pid: Option<u32>,
        /// New connections per second.
        #[arg(long, default_value_t = 1000.0)]
        ramp: f64,
        /// Loopback source addresses to spread the viewers over.
        #[arg(long, default_value_t = 50)]
        sources: u8,
    },
    /// Run the ingest phase (line protocol, then JSON) against a running server.
    Ingest {
        /// Server address.
        #[arg(long)]
        addr: SocketAddr,
        /// Server pid, for CPU from /proc.
        #[arg(long)]
        pid: u32,
        /// Seconds per format.
        #[arg(long, default_value_t = 10.0)]
        secs: f64,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    // 10,000 viewers need 10,000 descriptors here and in the server (a child inherits).
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => eprintln!("open files limit: {limit}"),
        Err(error) => eprintln!("raising the open files limit failed: {error}"),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Cmd::Suite {
                plotcast,
                only,
                quick,
                before,
                long_size,
                before_size,
                bandwidth_before,
            } => {
                let base = if quick {
                    long_window::Size::QUICK
                } else {
                    long_window::Size::FULL
                };
                let size = match long_size {
                    Some(text) => long_window::Size::parse(&text, &base)?,
                    None => base,
                };
                let before_size = match before_size {
                    Some(text) => long_window::Size::parse(&text, &size)?,
                    None => size.clone(),
                };
                let long = suite::LongWindow {
                    before: before.as_deref(),
                    size,
                    before_size,
                };
                suite::run(&plotcast, &only, quick, &long, bandwidth_before.as_deref()).await
            }
            Cmd::Ingest { addr, pid, secs } => {
                let server = server::Server::attach(addr, pid)?;
                ingest::run(&server, Duration::from_secs_f64(secs)).await
            }
            Cmd::Viewers {
                addr,
                path,
                viewers,
                secs,
                pid,
                ramp,
                sources,
            } => {
                let plan = viewers::Plan {
                    addr,
                    path,
                    viewers,
                    ramp_per_sec: ramp,
                    pending_max: 200,
                    window: Duration::from_secs_f64(secs),
                    sources,
                };
                let report = viewers::run(&plan, pid).await;
                println!("{report:#?}");
                Ok(())
            }
        }
    })
}
