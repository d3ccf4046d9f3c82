//! Headless Chromium (through chromedriver's WebDriver API) shows each frame as soon
//! as it is sent: Chromium otherwise shows part N only when part N+1 begins
//! (crbug 527446). After one data change and nothing else — no time axis, keepalive
//! ten minutes away — a screenshot must show the new frame.

use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};
use tests::{config, now_ms, poll, red, Image, TestServer};

use crate::temp_chart;

/// A chromedriver process with one headless Chromium session.
struct Browser {
    driver: tokio::process::Child,
    _profile: tempfile::TempDir,
    client: reqwest::Client,
    session: String,
}

impl Browser {
    async fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = tokio::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            // Its own process group, with Chromium in it: see `Drop`.
            .process_group(0)
            .spawn()
            .expect("chromedriver runs (install it: apt-get install chromium chromium-driver)");
        let client = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        poll(
            Duration::from_secs(30),
            "chromedriver to be ready",
            || async {
                let status: Value = client
                    .get(format!("{base}/status"))
                    .send()
                    .await
                    .ok()?
                    .json()
                    .await
                    .ok()?;
                (status["value"]["ready"] == true).then_some(())
            },
        )
        .await;
        let profile = tempfile::tempdir().expect("temp dir");
        let args = json!([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=500,400",
            format!("--user-data-dir={}", profile.path().display()),
        ]);
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "none",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}
        }}});
        let response: Value = client
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session json");
        let session = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {response}"));
        let session = format!("{base}/session/{session}");
        Browser {
            driver,
            _profile: profile,
            client,
            session,
        }
    }

    async fn open(&self, url: &str) {
        let response = self
            .client
            .post(format!("{}/url", self.session))
            .json(&json!({"url": url}))
            .send()
            .await;
        assert_eq!(response.expect("navigate").status(), 200);
    }

    async fn screenshot(&self) -> Option<Image> {
        let response: Value = self
            .client
            .get(format!("{}/screenshot", self.session))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(response["value"].as_str()?)
            .ok()?;
        Some(Image::from_png(&png))
    }

    async fn close(self) {
        let _ = self.client.delete(&self.session).send().await;
    }
}

impl Drop for Browser {
    /// After a failed assertion the session is never closed and Chromium would outlive
    /// chromedriver: end chromedriver's process group (by its id), Chromium included.
    fn drop(&mut self) {
        if let Some(pid) = self.driver.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
    }
}

/// Serves `html` at a loopback URL. (A `data:` page may not load loopback images:
/// Chromium's local network access rules block it.)
async fn serve_page(html: String) -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("address"));
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = vec![0; 4096];
            let _ = socket.read(&mut request).await;
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{html}",
                html.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    (url, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_shows_a_new_frame_without_waiting_for_the_next_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = config(dir.path());
    settings.keepalive = Duration::from_secs(600);
    let server = TestServer::start(settings).await;
    assert_eq!(
        server
            .put_chart("bar", &temp_chart("bar", "1h"))
            .await
            .status(),
        201
    );
    let point = |v: f64| json!({"points": [{"metric": "temp", "t": now_ms(), "v": v}]});
    assert_eq!(server.post_points(point(10.0)).await.status(), 200);

    let browser = Browser::start().await;
    let html = format!(
        "<body style='margin:0'><img src='{}'></body>",
        server.url("/charts/bar.mjpg")
    );
    let (page, _page_server) = serve_page(html).await;
    browser.open(&page).await;
    // The first frame (a short bar) is shown although no second part follows it.
    poll(
        Duration::from_secs(30),
        "the first frame in Chromium",
        || async {
            let shot = browser.screenshot().await?;
            (shot.count(0..400, 150..300, red) > 100 && shot.count(0..400, 0..120, red) == 0)
                .then_some(())
        },
    )
    .await;

    // One change, then silence: the tall bar must appear.
    let written = Instant::now();
    assert_eq!(server.post_points(point(90.0)).await.status(), 200);
    poll(
        Duration::from_secs(10),
        "the new frame in Chromium",
        || async {
            let shot = browser.screenshot().await?;
            (shot.count(0..400, 0..120, red) > 100).then_some(())
        },
    )
    .await;
    eprintln!(
        "Chromium showed the new frame {:?} after the write",
        written.elapsed()
    );
    browser.close().await;
    server.stop().await;
}
