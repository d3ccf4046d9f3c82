//! A program the tests run beside plotcast (nats-server, Prometheus): its child process
//! over a temporary directory holding its storage and its log, started — and restarted
//! on the same storage — until its readiness URL answers 200, killed when dropped, its
//! log shown when a test fails while it runs.

use std::path::Path;
use std::time::Duration;

use crate::poll;

/// Starts the program over its directory.
type Launch = Box<dyn Fn(&Path) -> tokio::process::Child + Send + Sync>;

/// A running helper program.
pub struct Daemon {
    /// Its name in messages, e.g. `nats-server`.
    name: &'static str,
    /// Its log, a file in `dir`.
    log_file: &'static str,
    /// A URL that answers 200 once it serves.
    ready_url: String,
    launch: Launch,
    child: tokio::process::Child,
    dir: tempfile::TempDir,
}

impl Daemon {
    /// Runs `launch` over `dir` (which holds `log_file`) and waits until `ready_url`
    /// answers 200.
    pub async fn start(
        name: &'static str,
        dir: tempfile::TempDir,
        log_file: &'static str,
        ready_url: String,
        launch: Launch,
    ) -> Daemon {
        let child = launch(dir.path());
        let mut daemon = Daemon {
            name,
            log_file,
            ready_url,
            launch,
            child,
            dir,
        };
        daemon.wait_ready().await;
        daemon
    }

    /// The process id (for its CPU time), unless it was killed.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Kills the program (it stays killed until [`Daemon::restart`]).
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Starts the program again over the same directory, and waits until it is ready.
    pub async fn restart(&mut self) {
        self.child = (self.launch)(self.dir.path());
        self.wait_ready().await;
    }

    /// Its log so far (for failure messages).
    pub fn log(&self) -> String {
        read_log(self.dir.path(), self.log_file)
    }

    /// Waits until the readiness URL answers 200 while the program still runs; its log
    /// is shown if it exits first.
    async fn wait_ready(&mut self) {
        let client = reqwest::Client::new();
        let name = self.name;
        poll(
            Duration::from_secs(30),
            &format!("{name} to be ready"),
            || {
                let exited = self.child.try_wait().ok().flatten();
                let log = || read_log(self.dir.path(), self.log_file);
                assert!(exited.is_none(), "{name} exited ({exited:?}):\n{}", log());
                let request = client.get(&self.ready_url).send();
                async move { request.await.ok().filter(|r| r.status() == 200) }
            },
        )
        .await;
    }
}

impl Drop for Daemon {
    /// After a failed assertion, shows what the program logged.
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}'s log:\n{}", self.name, self.log());
        }
    }
}

/// The file `log_file` in `dir`, or nothing if it cannot be read.
fn read_log(dir: &Path, log_file: &str) -> String {
    std::fs::read_to_string(dir.join(log_file)).unwrap_or_default()
}
