//! Clients: slow viewers do not slow the others down; thousands of connects and
//! disconnects leave no viewer counted and no memory behind; a client that half-closes
//! and stops reading is dropped.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tests::{
    built_plotcast, create_chart_at, metric_value, now_ms, poll, quick_write_timeout, raw_get,
    spawn_plotcast, stalled_viewer, viewers, MjpegReader, TestServer,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::temp_chart;

fn frames_rendered(metrics: &str, chart: &str) -> u64 {
    metric_value(
        metrics,
        &format!("plotcast_frames_rendered_total{{chart=\"{chart}\"}}"),
    )
    .unwrap_or(0)
}

/// Arrival times of the parts a fast viewer reads (it reads as fast as it can).
fn fast_viewer(mut reader: MjpegReader) -> (Arc<Mutex<Vec<Instant>>>, tokio::task::JoinHandle<()>) {
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let log = arrivals.clone();
    let task = tokio::spawn(async move {
        while reader.next_part().await.is_ok() {
            log.lock().expect("lock").push(Instant::now());
        }
    });
    (arrivals, task)
}

/// A window of 30 rendered frames: (its start, its end, frames rendered in it).
async fn window(server: &TestServer) -> (Instant, Instant, u64) {
    let start = Instant::now();
    let before = frames_rendered(&server.metrics().await, "busy");
    let after = poll(Duration::from_secs(60), "30 frames rendered", || async {
        let now = frames_rendered(&server.metrics().await, "busy");
        (now >= before + 30).then_some(now)
    })
    .await;
    (start, Instant::now(), after - before)
}

fn parts_in(arrivals: &Mutex<Vec<Instant>>, from: Instant, to: Instant) -> u64 {
    let arrivals = arrivals.lock().expect("lock");
    arrivals.iter().filter(|t| **t > from && **t <= to).count() as u64
}

/// A viewer that reads at about 1 KB/s (1 KiB, then a pause of a second: pacing, not
/// synchronisation).
async fn slow_viewer(addr: std::net::SocketAddr) {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return;
    };
    let request = "GET /charts/busy.mjpg HTTP/1.1\r\nhost: x\r\n\r\n";
    if stream.write_all(request.as_bytes()).await.is_err() {
        return;
    }
    let mut buffer = [0u8; 1024];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(_) => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_slow_viewers_do_not_lower_the_fps_of_the_others() {
    // Slow viewers stay connected (they are slow, not stuck) for the whole test.
    let server = TestServer::start_fresh(|s| s.write_timeout = Duration::from_secs(300)).await;
    let spec = temp_chart("timeseries", "1m").replace("\"fps\":30", "\"fps\":10");
    server.create_chart("busy", &spec).await;
    // New data every 20 ms: the chart renders at its cap of 10 fps.
    let (client, url) = (server.client.clone(), server.url("/api/points"));
    let writer = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_millis(20));
        for i in 0u64.. {
            ticker.tick().await;
            let body =
                json!({"points": [{"metric": "temp", "t": now_ms(), "v": (i % 100) as f64}]});
            let _ = client.post(&url).json(&body).send().await;
        }
    });
    let fast = [
        fast_viewer(server.stream("/charts/busy.mjpg").await),
        fast_viewer(server.stream("/charts/busy.mjpg").await),
    ];
    window(&server).await; // warm-up
    let (start, end, rendered_alone) = window(&server).await;
    let fps_alone = rendered_alone as f64 / (end - start).as_secs_f64();
    for (arrivals, _) in &fast {
        let parts = parts_in(arrivals, start, end);
        assert!(
            parts + 3 >= rendered_alone,
            "baseline: {parts} parts for {rendered_alone} frames"
        );
    }
    let slow: Vec<_> = (0..100)
        .map(|_| tokio::spawn(slow_viewer(server.addr)))
        .collect();
    server
        .wait_for_viewers(
            "busy",
            102,
            Duration::from_secs(60),
            "100 slow viewers connected",
        )
        .await;
    let (start, end, rendered) = window(&server).await;
    let fps = rendered as f64 / (end - start).as_secs_f64();
    // The chart kept its frame rate, measured the same way as without slow viewers...
    assert!(
        fps >= fps_alone * 0.66,
        "{fps:.1} fps with 100 slow viewers, {fps_alone:.1} fps without"
    );
    // ...and each fast viewer got every rendered frame (give or take the window edges).
    for (arrivals, _) in &fast {
        let parts = parts_in(arrivals, start, end);
        assert!(
            parts + 3 >= rendered,
            "{parts} parts for {rendered} rendered frames"
        );
    }
    let still = viewers(&server.metrics().await, "busy");
    assert_eq!(
        still,
        Some(102),
        "the slow viewers are still connected (slow, not dropped)"
    );
    writer.abort();
    for (_, task) in fast {
        task.abort();
    }
    for task in slow {
        task.abort();
    }
    server.stop().await;
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Connects, reads the start of the stream, disconnects; `count` times on `tasks` tasks.
async fn churn(addr: std::net::SocketAddr, count: usize, tasks: usize) {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            tokio::spawn(async move {
                for _ in 0..count / tasks {
                    let mut stream = TcpStream::connect(addr).await.expect("connect");
                    let start =
                        raw_get(&mut stream, "/charts/churn.mjpg", Duration::from_secs(30)).await;
                    assert!(start.starts_with("HTTP/1.0 200"), "{start:?}");
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.expect("churn task");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_connects_leave_no_viewers_and_no_memory_behind() {
    let binary = built_plotcast().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (child, url) = spawn_plotcast(&binary, dir.path(), &[], &[]).await;
    let pid = child.id().expect("pid");
    let client = reqwest::Client::new();
    create_chart_at(&client, &url, "churn", &temp_chart("bar", "1h")).await;
    let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().expect("address");
    let gauge = || async {
        let text = client.get(format!("{url}/metrics")).send().await.ok()?;
        viewers(&text.text().await.ok()?, "churn")
    };
    // Warm up (allocator arenas, caches), then the baseline.
    churn(addr, 500, 20).await;
    poll(Duration::from_secs(30), "viewers back to 0", || async {
        (gauge().await == Some(0)).then_some(())
    })
    .await;
    let baseline = rss_kib(pid);
    churn(addr, 10_000, 20).await;
    poll(Duration::from_secs(60), "viewers back to 0", || async {
        (gauge().await == Some(0)).then_some(())
    })
    .await;
    let after = rss_kib(pid);
    assert!(
        after <= baseline * 2 + 8 * 1024,
        "RSS {baseline} KiB before 10,000 connections, {after} KiB after"
    );
    drop(child);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_closed_client_that_stops_reading_is_dropped() {
    let server = TestServer::start_fresh(quick_write_timeout).await;
    server.create_chart("gone", &temp_chart("bar", "1h")).await;
    let mut stream = stalled_viewer(server.addr, "/charts/gone.mjpg").await;
    server
        .wait_for_viewers("gone", 1, Duration::from_secs(30), "the viewer counted in")
        .await;
    // The client half-closes (FIN) and never reads again, like a peer that vanished.
    stream.shutdown().await.expect("half-close");
    poll(
        Duration::from_secs(60),
        "the half-open viewer counted in and dropped",
        || async {
            let metrics = server.metrics().await;
            (viewers(&metrics, "gone") == Some(0)
                && metrics.contains("plotcast_viewers_disconnected_total 1\n"))
            .then_some(())
        },
    )
    .await;
    drop(stream);
    server.stop().await;
}
