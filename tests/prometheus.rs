//! A real Prometheus for the end-to-end tests — `/usr/bin/prometheus` (Debian's
//! package, which `cargo xtask test` installs) on a free loopback port with a temporary
//! storage directory and the config a test gives, killed when dropped — and
//! [`Exporter`], a scrape target serving the text exposition format a test changes; and
//! the points of a plotcast answer and the samples of a Prometheus answer, to compare.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;

use crate::daemon::Daemon;

/// A Prometheus child process.
pub struct Prometheus {
    /// Where its HTTP API listens.
    pub addr: SocketAddr,
    daemon: Daemon,
}

impl Prometheus {
    /// Starts Prometheus with `config` (YAML) and waits until `/-/ready` answers 200.
    pub async fn start(config: &str) -> Prometheus {
        Prometheus::start_at(config, free_port()).await
    }

    /// [`Prometheus::start`] listening on `addr` (e.g. a [`free_port`] that a server's
    /// configuration already names).
    pub async fn start_at(config: &str, addr: SocketAddr) -> Prometheus {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("prometheus.yml"), config).expect("writing prometheus.yml");
        let ready = format!("http://{addr}/-/ready");
        let launch = Box::new(move |dir: &Path| launch(dir, addr));
        let daemon = Daemon::start("Prometheus", dir, LOG, ready, launch).await;
        Prometheus { addr, daemon }
    }

    /// Kills Prometheus (it stays killed until [`Prometheus::restart`]).
    pub async fn kill(&mut self) {
        self.daemon.kill().await;
    }

    /// Starts Prometheus again on the same address with the same storage, and waits
    /// until it is ready.
    pub async fn restart(&mut self) {
        self.daemon.restart().await;
    }

    /// Prometheus' log so far (for failure messages: scrape and remote_write errors
    /// are there).
    pub fn log(&self) -> String {
        self.daemon.log()
    }

    /// Kills Prometheus and waits until it is gone.
    pub async fn stop(mut self) {
        self.daemon.kill().await;
    }
}

/// Prometheus' log, in its directory.
const LOG: &str = "prometheus.log";

/// Runs `prometheus` with the config and storage in `dir`, listening on `addr`, its
/// log appended to `dir/prometheus.log`.
fn launch(dir: &Path, addr: SocketAddr) -> tokio::process::Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(LOG))
        .expect("log file");
    tokio::process::Command::new("prometheus")
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address={addr}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("prometheus starts (Debian package `prometheus`; `cargo xtask test` installs it)")
}

/// A free loopback address (bound and released, for a child that needs a fixed port).
pub fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
    listener.local_addr().expect("local address")
}

/// A scrape target: answers every request with the exposition text last set.
pub struct Exporter {
    /// Where it listens.
    pub addr: SocketAddr,
    text: Arc<Mutex<String>>,
    task: JoinHandle<()>,
}

impl Exporter {
    /// Starts serving `text` (the Prometheus text exposition format) on a free port.
    pub async fn start(text: &str) -> Exporter {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let text = Arc::new(Mutex::new(text.to_string()));
        let served = text.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(answer(socket, served.clone()));
            }
        });
        Exporter { addr, text, task }
    }

    /// Serves `text` from the next scrape on.
    pub fn set(&self, text: &str) {
        if let Ok(mut served) = self.text.lock() {
            *served = text.to_string();
        }
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request head and answers it with the current text.
async fn answer(mut socket: tokio::net::TcpStream, text: Arc<Mutex<String>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let body = text.lock().map(|t| t.clone()).unwrap_or_default();
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = socket.write_all(response.as_bytes()).await;
    let _ = socket.shutdown().await;
}

/// The `(t_ms, value)` points of the first series of a plotcast `Data` answer
/// (`/api/series/points`), gaps left out.
pub fn points_of(data: &serde_json::Value) -> Vec<(i64, f64)> {
    let points = data["series"][0]["points"].as_array();
    points
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p[0].as_i64()?, p[1].as_f64()?)))
        .collect()
}

/// The `(t_ms, value)` samples of the first series of a Prometheus range-vector answer
/// (`values: [[seconds, "value"]]`).
pub fn samples_of(answer: &serde_json::Value) -> Vec<(i64, f64)> {
    let values = answer["data"]["result"][0]["values"].as_array();
    values
        .into_iter()
        .flatten()
        .filter_map(|pair| {
            let t = (pair[0].as_f64()? * 1000.0).round() as i64;
            Some((t, pair[1].as_str()?.parse().ok()?))
        })
        .collect()
}
