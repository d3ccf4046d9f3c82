//! A real NATS server for the scale-out tests — `/usr/sbin/nats-server` (Debian's
//! package, which `cargo xtask test` installs) with JetStream, on free loopback ports
//! (client and monitoring), killed when dropped — and what its monitoring endpoint says
//! about each client connection.

use std::net::SocketAddr;
use std::process::Stdio;

use serde_json::Value;

use crate::prometheus::free_port;

/// A nats-server child process.
pub struct NatsServer {
    /// Where clients connect.
    pub addr: SocketAddr,
    /// Its HTTP monitoring endpoint (`/healthz`, `/connz`).
    pub monitor: SocketAddr,
    child: tokio::process::Child,
    dir: tempfile::TempDir,
}

impl NatsServer {
    /// Starts nats-server with JetStream and waits until `/healthz` answers 200.
    pub async fn start() -> NatsServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let (addr, monitor) = (free_port(), free_port());
        let child = launch(dir.path(), addr, monitor);
        let mut nats = NatsServer {
            addr,
            monitor,
            child,
            dir,
        };
        nats.wait_ready().await;
        nats
    }

    /// The URL plotcast's `--nats` takes.
    pub fn url(&self) -> String {
        format!("nats://{}", self.addr)
    }

    /// The process id (for its CPU time), unless it was killed.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Kills nats-server (it stays killed until [`NatsServer::restart`]).
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Starts nats-server again on the same ports and storage, and waits until ready.
    pub async fn restart(&mut self) {
        self.child = launch(self.dir.path(), self.addr, self.monitor);
        self.wait_ready().await;
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

    async fn wait_ready(&mut self) {
        let healthz = format!("http://{}/healthz", self.monitor);
        let dir = self.dir.path().to_path_buf();
        let log = || read_log(&dir);
        crate::wait_until_serving(&mut self.child, &healthz, "nats-server", log).await;
    }

    /// nats-server's log so far (for failure messages).
    pub fn log(&self) -> String {
        read_log(self.dir.path())
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("nats-server's log:\n{}", self.log());
        }
    }
}

fn read_log(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join("nats.log")).unwrap_or_default()
}

/// Runs `nats-server` with JetStream storage in `dir`, its log in `dir/nats.log`.
fn launch(dir: &std::path::Path, addr: SocketAddr, monitor: SocketAddr) -> tokio::process::Child {
    tokio::process::Command::new("nats-server")
        .args(["-a", "127.0.0.1", "-p", &addr.port().to_string()])
        .args(["-m", &monitor.port().to_string(), "-js", "-sd"])
        .arg(dir.join("jetstream"))
        .arg("-l")
        .arg(dir.join("nats.log"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("nats-server starts (Debian package `nats-server`; `cargo xtask test` installs it)")
}
