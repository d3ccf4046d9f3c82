//! Durability: charts (with versions) and points survive a restart on the same data
//! directory, and the restarted server renders the stored points.

use std::time::Duration;

use serde_json::{json, Value};
use tests::{config, now_ms, red, Image, TestServer};

use crate::temp_chart;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_charts_and_points() {
    let dir = tempfile::tempdir().expect("temp dir");
    let t = now_ms() - 10_000;
    {
        let server = TestServer::start(config(dir.path())).await;
        assert_eq!(
            server
                .put_chart("temp", &temp_chart("bar", "1h"))
                .await
                .status(),
            201
        );
        let points = json!({"points": [{"metric": "temp", "t": t, "v": 90}]});
        assert_eq!(server.post_points(points).await.status(), 200);
        let line = format!("other v=5 {}", t * 1_000_000);
        let response = server
            .client
            .post(server.url("/write"))
            .body(line)
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), 204);
        server.stop().await;
    }
    let server = TestServer::start(config(dir.path())).await;
    let chart: Value = server
        .client
        .get(server.url("/api/charts/temp"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(chart["version"], 1);
    assert_eq!(chart["spec"]["panels"][0]["kind"], "bar");
    for (metric, value) in [("temp", 90.0), ("other_v", 5.0)] {
        let query = format!(
            "/api/series/points?metric={metric}&from={}&to={}",
            t - 1,
            t + 1
        );
        let data: Value = server
            .client
            .get(server.url(&query))
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("json");
        assert_eq!(data["series"][0]["points"], json!([[t, value]]), "{metric}");
    }
    // The cache was filled from the store: the frame shows the stored value.
    let jpg = server
        .client
        .get(server.url("/charts/temp.jpg"))
        .send()
        .await
        .expect("GET jpg");
    let image = Image::from_jpeg(&jpg.bytes().await.expect("bytes"));
    assert!(
        image.count(0..400, 0..120, red) > 100,
        "a tall bar from the stored point"
    );
    assert_eq!(
        server
            .put_chart("temp", &temp_chart("bar", "2h"))
            .await
            .status(),
        200
    );
    let chart: Value = server
        .client
        .get(server.url("/api/charts/temp"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(chart["version"], 2);
    server.stop().await;
}

/// The `plotcast` binary of this build profile, built if needed.
pub fn plotcast_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile dir>/deps/e2e-HASH -> target/<profile dir>/plotcast
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target profile directory");
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev".to_string(),
        Some(other) => other.to_string(),
    };
    let status = std::process::Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--package",
            "server",
            "--bin",
            "plotcast",
            "--profile",
            &profile,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo build runs");
    assert!(status.success(), "building plotcast failed");
    profile_dir.join("plotcast")
}

/// Starts `plotcast serve` on a free port; returns the child and its base URL.
async fn spawn_plotcast(
    binary: &std::path::Path,
    dir: &std::path::Path,
) -> (tokio::process::Child, String) {
    spawn_plotcast_with(binary, dir, &[], &[]).await
}

/// Starts `plotcast serve` on a free port with extra flags and environment.
pub async fn spawn_plotcast_with(
    binary: &std::path::Path,
    dir: &std::path::Path,
    args: &[&str],
    envs: &[(&str, &str)],
) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(binary)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--demo",
            "false",
            "--data-dir",
        ])
        .arg(dir)
        .args(args)
        .envs(envs.iter().copied())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("plotcast starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let first = tests::within(
        std::time::Duration::from_secs(30),
        "the serving line",
        lines.next_line(),
    )
    .await;
    let first = first.expect("reading stdout").expect("a first line");
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .map(|u| u.trim_end_matches('/').to_string())
        .unwrap_or_else(|| panic!("no URL in {first:?}"));
    // Keep reading stdout so the server never writes into a closed pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9() {
    let binary = tokio::task::spawn_blocking(plotcast_binary)
        .await
        .expect("build task");
    let dir = tempfile::tempdir().expect("temp dir");
    let client = reqwest::Client::new();
    let t0 = now_ms() - 60_000;
    let (mut child, url) = spawn_plotcast(&binary, dir.path()).await;
    let put = client
        .put(format!("{url}/api/charts/k9"))
        .body(temp_chart("timeseries", "1h"))
        .send()
        .await;
    assert_eq!(put.expect("PUT").status(), 201);
    for i in 0..20 {
        let line = format!("k9 v={i} {}", (t0 + i * 1000) * 1_000_000);
        let response = client
            .post(format!("{url}/write"))
            .body(line)
            .send()
            .await
            .expect("POST /write");
        assert_eq!(response.status(), 204);
    }
    child.kill().await.expect("SIGKILL");

    let (mut child, url) = spawn_plotcast(&binary, dir.path()).await;
    let chart = client
        .get(format!("{url}/api/charts/k9"))
        .send()
        .await
        .expect("GET chart");
    assert_eq!(chart.status(), 200);
    let query = format!(
        "{url}/api/series/points?metric=k9_v&from={t0}&to={}",
        t0 + 60_000
    );
    let data: Value = client
        .get(query)
        .send()
        .await
        .expect("GET points")
        .json()
        .await
        .expect("json");
    let values: Vec<f64> = data["series"][0]["points"]
        .as_array()
        .expect("points")
        .iter()
        .filter_map(|p| p[1].as_f64())
        .collect();
    assert_eq!(values, (0..20).map(f64::from).collect::<Vec<_>>());
    child.kill().await.expect("SIGKILL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_during_heavy_ingest() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    const WRITERS: usize = 4;
    const BATCH: i64 = 200;
    let binary = tokio::task::spawn_blocking(plotcast_binary)
        .await
        .expect("build task");
    let dir = tempfile::tempdir().expect("temp dir");
    let client = reqwest::Client::new();
    let t0 = now_ms() - 600_000;
    let (mut child, url) = spawn_plotcast(&binary, dir.path()).await;
    let batches = Arc::new(AtomicUsize::new(0));
    // Per writer: every value whose batch was acknowledged with 204.
    let acknowledged: Arc<Mutex<Vec<Vec<i64>>>> = Arc::new(Mutex::new(vec![Vec::new(); WRITERS]));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (client, url) = (client.clone(), url.clone());
        let (batches, acknowledged) = (batches.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let values: Vec<i64> = (i * BATCH..(i + 1) * BATCH).collect();
                let body: String = values
                    .iter()
                    .map(|v| format!("heavy{w} v={v} {}\n", (t0 + v) * 1_000_000))
                    .collect();
                match client.post(format!("{url}/write")).body(body).send().await {
                    Ok(response) if response.status() == 204 => {
                        acknowledged.lock().expect("lock")[w].extend(values);
                        batches.fetch_add(1, Ordering::SeqCst);
                    }
                    // The server is gone (killed): this batch is not acknowledged.
                    _ => return,
                }
            }
        }));
    }
    tests::poll(Duration::from_secs(60), "40 acknowledged batches", || {
        let done = batches.load(Ordering::SeqCst) >= 40;
        async move { done.then_some(()) }
    })
    .await;
    child
        .kill()
        .await
        .expect("SIGKILL in the middle of the ingest");
    for writer in writers {
        tests::within(Duration::from_secs(30), "writers stop", writer)
            .await
            .expect("writer task");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();

    let (mut child, url) = spawn_plotcast(&binary, dir.path()).await;
    for (w, values) in acknowledged.iter().enumerate() {
        assert!(!values.is_empty(), "writer {w} got acknowledgements");
        let query = format!(
            "{url}/api/series/points?metric=heavy{w}_v&from={t0}&to={}",
            t0 + 10_000_000
        );
        let data: Value = client
            .get(query)
            .send()
            .await
            .expect("GET points")
            .json()
            .await
            .expect("json");
        let stored: std::collections::HashSet<i64> = data["series"][0]["points"]
            .as_array()
            .expect("points")
            .iter()
            .filter_map(|p| p[1].as_f64())
            .map(|v| v as i64)
            .collect();
        let missing: Vec<&i64> = values.iter().filter(|v| !stored.contains(v)).collect();
        assert!(
            missing.is_empty(),
            "writer {w}: {} of {} acknowledged points lost, first {:?}",
            missing.len(),
            values.len(),
            missing.first()
        );
    }
    child.kill().await.expect("SIGKILL");
    child.wait().await.expect("reaped");
    // The store opens cleanly and passes SQLite's own consistency check.
    let db = rusqlite::Connection::open(dir.path().join("plotcast.db")).expect("open db");
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity_check");
    assert_eq!(check, "ok");
}
