//! A real NATS server for the scale-out tests — `/usr/sbin/nats-server` (Debian's
//! package, which `cargo xtask test` installs) with JetStream, on free loopback ports
//! (client and monitoring), killed when dropped — and what its monitoring endpoint says
//! about each client connection.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;

use serde_json::Value;

use crate::daemon::Daemon;
use crate::prometheus::free_port;

/// A nats-server child process.
pub struct NatsServer {
    /// Where clients connect.
    pub addr: SocketAddr,
    /// Its HTTP monitoring endpoint (`/healthz`, `/connz`).
    pub monitor: SocketAddr,
    daemon: Daemon,
}

impl NatsServer {
    /// Starts nats-server with JetStream and waits until `/healthz` answers 200.
    pub async fn start() -> NatsServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let (addr, monitor) = (free_port(), free_port());
        let healthz = format!("http://{monitor}/healthz");
        let launch = Box::new(move |dir: &Path| launch(dir, addr, monitor));
        let daemon = Daemon::start("nats-server", dir, LOG, healthz, launch).await;
        NatsServer {
            addr,
            monitor,
            daemon,
        }
    }

    /// The URL plotcast's `--nats` takes.
    pub fn url(&self) -> String {
        format!("nats://{}", self.addr)
    }

    /// The process id (for its CPU time), unless it was killed.
    pub fn pid(&self) -> Option<u32> {
        self.daemon.pid()
    }

    /// Kills nats-server (it stays killed until [`NatsServer::restart`]).
    pub async fn kill(&mut self) {
        self.daemon.kill().await;
    }

    /// Starts nats-server again on the same ports and storage, and waits until ready.
    pub async fn restart(&mut self) {
        self.daemon.restart().await;
    }

    /// The client connections (`/connz`), each with its `name` and `out_msgs`.
    pub async fn connections(&self) -> Vec<Value> {
        let url = format!("http://{}/connz", self.monitor);
        let connz = crate::get_json(&reqwest::Client::new(), &url).await;
        connz["connections"].as_array().cloned().unwrap_or_default()
    }

    /// Messages NATS delivered to the connection whose client name contains `name`.
    pub async fn messages_to(&self, name: &str) -> u64 {
        let connections = self.connections().await;
        let connection = connections
            .iter()
            .find(|c| c["name"].as_str().is_some_and(|n| n.contains(name)))
            .unwrap_or_else(|| panic!("no NATS connection named like {name:?}: {connections:?}"));
        connection["out_msgs"].as_u64().unwrap_or(0)
    }

    /// nats-server's log so far (for failure messages).
    pub fn log(&self) -> String {
        self.daemon.log()
    }
}

/// nats-server's log, in its directory.
const LOG: &str = "nats.log";

/// Runs `nats-server` with JetStream storage in `dir`, its log in `dir/nats.log`.
fn launch(dir: &Path, addr: SocketAddr, monitor: SocketAddr) -> tokio::process::Child {
    tokio::process::Command::new("nats-server")
        .args(["-a", "127.0.0.1", "-p", &addr.port().to_string()])
        .args(["-m", &monitor.port().to_string(), "-js", "-sd"])
        .arg(dir.join("jetstream"))
        .arg("-l")
        .arg(dir.join(LOG))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("nats-server starts (Debian package `nats-server`; `cargo xtask test` installs it)")
}
