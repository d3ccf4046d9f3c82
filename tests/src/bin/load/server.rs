//! The server under test: a release `plotcast serve` started as a child process (it
//! inherits the raised fd limit) on a free loopback port and a temporary data dir, and
//! the few HTTP calls the suite makes to it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// A running `plotcast serve`.
pub struct Server {
    /// The child process, unless attached to a server started elsewhere.
    child: Option<Child>,
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
            "--demo".into(),
            "false".into(),
        ];
        for (flag, value) in RAISED_LIMITS {
            if help.contains(&format!("{flag} ")) {
                args.extend([(*flag).to_owned(), (*value).to_owned()]);
            }
        }
        let log = std::fs::File::create(data.path().join("server.log")).context("log file")?;
        let child = Command::new(plotcast)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", plotcast.display()))?;
        let pid = child.id();
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(60))
            .build()?;
        let server = Server {
            child: Some(child),
            addr,
            pid,
            http,
            args,
            _data: Some(data),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = server.http.get(server.url("/healthz")).send().await {
                if r.status().is_success() {
                    return Ok(server);
                }
            }
            if Instant::now() > deadline {
                bail!("plotcast did not answer /healthz on {addr} within 20 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A server started elsewhere (e.g. under `perf record`) at `addr`, process `pid`.
    pub fn attach(addr: SocketAddr, pid: u32) -> Result<Server> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(Server {
            child: None,
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
        let response = self
            .http
            .put(self.url(&format!("/api/charts/{id}")))
            .header("content-type", "application/json")
            .body(spec.to_owned())
            .send()
            .await?;
        if !response.status().is_success() {
            bail!(
                "PUT chart {id}: {} {}",
                response.status(),
                response.text().await?
            );
        }
        Ok(())
    }

    /// Writes line protocol (`precision=ms`); fails unless acknowledged (204).
    pub async fn write_lines(&self, body: impl Into<reqwest::Body>) -> Result<()> {
        let response = self
            .http
            .post(self.url("/write?precision=ms"))
            .body(body)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!(
                "POST /write: {} {}",
                response.status(),
                response.text().await?
            );
        }
        Ok(())
    }

    /// Writes JSON points; fails unless acknowledged.
    pub async fn write_json(&self, body: impl Into<reqwest::Body>) -> Result<()> {
        let response = self
            .http
            .post(self.url("/api/points"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!(
                "POST /api/points: {} {}",
                response.status(),
                response.text().await?
            );
        }
        Ok(())
    }

    /// `plotcast_frames_rendered_total` per chart, from `/metrics`.
    pub async fn frames_rendered(&self) -> Result<BTreeMap<String, u64>> {
        let text = self
            .http
            .get(self.url("/metrics"))
            .send()
            .await?
            .text()
            .await?;
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
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Frames rendered between two `/metrics` readings, for `chart`.
pub fn delta(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>, chart: &str) -> u64 {
    after
        .get(chart)
        .copied()
        .unwrap_or(0)
        .saturating_sub(before.get(chart).copied().unwrap_or(0))
}
