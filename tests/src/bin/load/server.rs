//! The server under test: a release `plotcast serve` started as a child process (it
//! inherits the raised fd limit) on a free loopback port and a temporary data dir, and
//! the few HTTP calls the suite makes to it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::poll::poll;

/// A running `plotcast serve`.
pub struct Server {
    /// The child process, unless attached to a server started elsewhere.
    child: Option<Child>,
    /// The binary it runs (`None`: attached).
    program: Option<PathBuf>,
    /// Its address.
    pub addr: SocketAddr,
    /// Its process id.
    pub pid: u32,
    /// HTTP client (one connection, reused).
    pub http: reqwest::Client,
    /// The flags it was started with.
    pub args: Vec<String>,
    _data: Option<tempfile::TempDir>,
}

/// Limits raised for the load test, if this server has the flag.
const RAISED_LIMITS: &[(&str, &str)] = &[
    ("--max-viewers-per-chart", "20000"),
    ("--max-viewers", "20000"),
    ("--max-connections-per-ip", "20000"),
    ("--max-points", "1000000"),
];

impl Server {
    /// Starts `plotcast` and waits for `/healthz`.
    pub async fn start(plotcast: &Path) -> Result<Server> {
        Server::start_with(plotcast, &[]).await
    }

    /// Starts `plotcast` with `extra` flags after the suite's own and waits for
    /// `/healthz`.
    pub async fn start_with(plotcast: &Path, extra: &[&str]) -> Result<Server> {
        let help = Command::new(plotcast)
            .args(["serve", "--help"])
            .output()
            .with_context(|| format!("running {} serve --help", plotcast.display()))?;
        let help = String::from_utf8_lossy(&help.stdout).into_owned();
        let data = tempfile::tempdir().context("temp data dir")?;
        let addr = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").context("free port")?;
            probe.local_addr()?
        };
        let mut args: Vec<String> = vec![
            "serve".into(),
            "--addr".into(),
            addr.to_string(),
            "--data-dir".into(),
            data.path().display().to_string(),
        ];
        // No demo chart and collector unless `extra` asks for them.
        if !extra.contains(&"--demo") {
            args.extend(["--demo".into(), "false".into()]);
        }
        for (flag, value) in RAISED_LIMITS {
            if help.contains(&format!("{flag} ")) {
                args.extend([(*flag).to_owned(), (*value).to_owned()]);
            }
        }
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(60))
            .build()?;
        let mut server = Server {
            child: None,
            program: Some(plotcast.to_owned()),
            addr,
            pid: 0,
            http,
            args,
            _data: Some(data),
        };
        server.spawn()?;
        server.wait_healthy(Duration::from_secs(20)).await?;
        Ok(server)
    }

    /// Starts the child process (its stderr appended to `server.log` in the data dir).
    fn spawn(&mut self) -> Result<()> {
        let (Some(program), Some(data)) = (&self.program, &self._data) else {
            bail!("a server started elsewhere cannot be started");
        };
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data.path().join("server.log"))
            .context("log file")?;
        let child = Command::new(program)
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        self.pid = child.id();
        self.child = Some(child);
        Ok(())
    }

    /// Waits until `/healthz` answers 200, at most `limit`.
    pub async fn wait_healthy(&self, limit: Duration) -> Result<()> {
        poll(limit, Duration::from_millis(50), || async {
            match self.http.get(self.url("/healthz")).send().await {
                Ok(r) if r.status().is_success() => Ok(()),
                _ => Err(format!(
                    "plotcast did not answer /healthz on {} within {limit:?}",
                    self.addr
                )),
            }
        })
        .await
    }

    /// Kills the server (SIGKILL, as a crash would) and starts it again with the same
    /// flags on the same data directory; returns when the new process was started,
    /// without waiting for it to answer.
    pub fn restart(&mut self) -> Result<Instant> {
        if let Some(mut child) = self.child.take() {
            child.kill().context("killing plotcast")?;
            child.wait().context("waiting for plotcast to exit")?;
        }
        let started = Instant::now();
        self.spawn()?;
        Ok(started)
    }

    /// A server started elsewhere (e.g. under `perf record`) at `addr`, process `pid`.
    pub fn attach(addr: SocketAddr, pid: u32) -> Result<Server> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(Server {
            child: None,
            program: None,
            addr,
            pid,
            http,
            args: Vec::new(),
            _data: None,
        })
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Publishes a chart.
    pub async fn put_chart(&self, id: &str, spec: &str) -> Result<()> {
        let (status, body) = self.put_chart_status(id, spec).await?;
        if !status.is_success() {
            bail!("PUT chart {id}: {status} {body}");
        }
        Ok(())
    }

    /// Publishes a chart; returns the response's status and body, whatever they are.
    pub async fn put_chart_status(
        &self,
        id: &str,
        spec: &str,
    ) -> Result<(reqwest::StatusCode, String)> {
        let response = self
            .http
            .put(self.url(&format!("/api/charts/{id}")))
            .header("content-type", "application/json")
            .body(spec.to_owned())
            .send()
            .await?;
        let status = response.status();
        Ok((status, response.text().await?))
    }

    /// Writes line protocol (`precision=ms`); fails unless acknowledged (204).
    pub async fn write_lines(&self, body: impl Into<reqwest::Body>) -> Result<()> {
        let request = self.http.post(self.url("/write?precision=ms"));
        acknowledged(request.body(body), "POST /write").await
    }

    /// Writes JSON points; fails unless acknowledged.
    pub async fn write_json(&self, body: impl Into<reqwest::Body>) -> Result<()> {
        let request = self.http.post(self.url("/api/points"));
        let request = request.header("content-type", "application/json");
        acknowledged(request.body(body), "POST /api/points").await
    }

    /// The `/metrics` text.
    async fn metrics(&self) -> Result<String> {
        Ok(self
            .http
            .get(self.url("/metrics"))
            .send()
            .await?
            .text()
            .await?)
    }

    /// `plotcast_frames_rendered_total` per chart, from `/metrics`.
    pub async fn frames_rendered(&self) -> Result<BTreeMap<String, u64>> {
        let text = self.metrics().await?;
        let mut out = BTreeMap::new();
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("plotcast_frames_rendered_total{chart=\"") else {
                continue;
            };
            let Some((chart, value)) = rest.split_once("\"}") else {
                continue;
            };
            out.insert(chart.to_owned(), value.trim().parse().unwrap_or(0));
        }
        Ok(out)
    }

    /// The value of the unlabelled series `name` in `/metrics`.
    pub async fn metric(&self, name: &str) -> Result<f64> {
        value_in(&self.metrics().await?, name)
    }

    /// The sum (seconds) and count of the render and the encode time histograms
    /// (`plotcast_render_seconds`, `plotcast_encode_seconds`), from `/metrics`.
    pub async fn frame_times(&self) -> Result<FrameTimes> {
        let text = self.metrics().await?;
        let value = |name: &str| value_in(&text, name);
        Ok(FrameTimes {
            render_secs: value("plotcast_render_seconds_sum")?,
            renders: value("plotcast_render_seconds_count")? as u64,
            encode_secs: value("plotcast_encode_seconds_sum")?,
        })
    }
}

/// Totals of the server's frame time histograms.
#[derive(Debug, Clone, Copy)]
pub struct FrameTimes {
    /// Seconds spent rendering (reading the data included), all frames so far.
    pub render_secs: f64,
    /// Frames rendered so far, all charts.
    pub renders: u64,
    /// Seconds spent JPEG-encoding them.
    pub encode_secs: f64,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The value of the unlabelled series `name` in the `/metrics` text `text`.
fn value_in(text: &str, name: &str) -> Result<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .with_context(|| format!("no {name} in /metrics"))
}

/// Frames rendered between two `/metrics` readings, for `chart`.
pub fn delta(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>, chart: &str) -> u64 {
    after
        .get(chart)
        .copied()
        .unwrap_or(0)
        .saturating_sub(before.get(chart).copied().unwrap_or(0))
}

/// Sends a write; fails, naming `what`, unless it was acknowledged (2xx).
async fn acknowledged(request: reqwest::RequestBuilder, what: &str) -> Result<()> {
    let response = request.send().await?;
    if !response.status().is_success() {
        bail!("{what}: {} {}", response.status(), response.text().await?);
    }
    Ok(())
}
