//! Durability: charts (with versions) and points survive a restart on the same data
//! directory, and the restarted server renders the stored points.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use tests::{
    built_plotcast, config, create_chart_at, get_json, now_ms, red, send_ok, spawn_plotcast, Image,
    TestServer,
};

use crate::temp_chart;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_charts_and_points() {
    let dir = tempfile::tempdir().expect("temp dir");
    let t = now_ms() - 10_000;
    {
        let server = TestServer::start(config(dir.path())).await;
        server.create_chart("temp", &temp_chart("bar", "1h")).await;
        let points = json!({"points": [{"metric": "temp", "t": t, "v": 90}]});
        assert_eq!(server.post_points(points).await.status(), 200);
        let line = format!("other v=5 {}", t * 1_000_000);
        let response = server.post_body("/write", line).await;
        assert_eq!(response.status(), 204);
        server.stop().await;
    }
    let server = TestServer::start(config(dir.path())).await;
    let chart = server.get_json("/api/charts/temp").await;
    assert_eq!(chart["version"], 1);
    assert_eq!(chart["spec"]["panels"][0]["kind"], "bar");
    for (metric, value) in [("temp", 90.0), ("other_v", 5.0)] {
        let query = format!(
            "/api/series/points?metric={metric}&from={}&to={}",
            t - 1,
            t + 1
        );
        let data = server.get_json(&query).await;
        assert_eq!(data["series"][0]["points"], json!([[t, value]]), "{metric}");
    }
    // The cache was filled from the store: the frame shows the stored value.
    let image = Image::from_jpeg(&server.get_bytes("/charts/temp.jpg").await);
    assert!(
        image.count(0..400, 0..120, red) > 100,
        "a tall bar from the stored point"
    );
    let replaced = server.put_chart("temp", &temp_chart("bar", "2h")).await;
    assert_eq!(replaced.status(), 200);
    let chart = server.get_json("/api/charts/temp").await;
    assert_eq!(chart["version"], 2);
    server.stop().await;
}

/// Starts `plotcast serve` on `dir`, with no extra flags; returns the child and its URL.
async fn serve(binary: &Path, dir: &Path) -> (tokio::process::Child, String) {
    spawn_plotcast(binary, dir, &[], &[]).await
}

/// The values of the first series of a `/api/series/points` answer.
fn values_of(data: &Value) -> impl Iterator<Item = f64> + '_ {
    data["series"][0]["points"]
        .as_array()
        .expect("points")
        .iter()
        .filter_map(|p| p[1].as_f64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9() {
    let binary = built_plotcast().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let client = reqwest::Client::new();
    let t0 = now_ms() - 60_000;
    let (mut child, url) = serve(&binary, dir.path()).await;
    create_chart_at(&client, &url, "k9", &temp_chart("timeseries", "1h")).await;
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

    let (mut child, url) = serve(&binary, dir.path()).await;
    send_ok(client.get(format!("{url}/api/charts/k9")), "GET chart").await;
    let query = format!(
        "{url}/api/series/points?metric=k9_v&from={t0}&to={}",
        t0 + 60_000
    );
    let values: Vec<f64> = values_of(&get_json(&client, &query).await).collect();
    assert_eq!(values, (0..20).map(f64::from).collect::<Vec<_>>());
    child.kill().await.expect("SIGKILL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_during_heavy_ingest() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    const WRITERS: usize = 4;
    const BATCH: i64 = 200;
    let binary = built_plotcast().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let client = reqwest::Client::new();
    let t0 = now_ms() - 600_000;
    let (mut child, url) = serve(&binary, dir.path()).await;
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

    let (mut child, url) = serve(&binary, dir.path()).await;
    for (w, values) in acknowledged.iter().enumerate() {
        assert!(!values.is_empty(), "writer {w} got acknowledgements");
        let query = format!(
            "{url}/api/series/points?metric=heavy{w}_v&from={t0}&to={}",
            t0 + 10_000_000
        );
        let data = get_json(&client, &query).await;
        let stored: std::collections::HashSet<i64> = values_of(&data).map(|v| v as i64).collect();
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
    // Every tier bucket equals what the raw points of its range give: the tiers were
    // committed with the raw points, in the same transactions.
    let steps: [i64; 5] = [10_000, 60_000, 300_000, 1_800_000, 10_800_000];
    for (tier, step) in steps.iter().enumerate() {
        let disagreeing: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM (
                    SELECT series_id, (t / ?2) * ?2 AS start, MIN(v) AS lo, MAX(v) AS hi,
                           COUNT(v) AS n, SUM(v) AS total, MIN(t) AS first_t, MAX(t) AS last_t
                    FROM points GROUP BY series_id, t / ?2
                 ) AS raw
                 FULL OUTER JOIN (SELECT * FROM tier_buckets WHERE tier = ?1) AS b
                   ON b.series_id = raw.series_id AND b.start = raw.start
                 WHERE b.start IS NULL OR raw.start IS NULL OR b.min_v != raw.lo
                    OR b.max_v != raw.hi OR b.count != raw.n OR b.sum != raw.total
                    OR b.first_t != raw.first_t OR b.last_t != raw.last_t",
                rusqlite::params![tier as i64, step],
                |row| row.get(0),
            )
            .expect("comparing tiers with raw points");
        assert_eq!(
            disagreeing, 0,
            "tier {tier} ({step} ms): buckets that disagree with the raw points"
        );
    }
}
