//! Clients: slow viewers do not slow the others down; thousands of connects and
//! disconnects leave no viewer counted and no memory behind; a client that half-closes
//! and stops reading is dropped.

use std::time::Duration;

use serde_json::json;
use tests::{
    built_plotcast, create_chart_at, frames_rendered, now_ms, poll, quick_write_timeout, raw_get,
    spawn_plotcast, stalled_viewer, viewers, CountingViewer, TestServer,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::temp_chart;

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

/// Counted, not timed (the frame rate itself is pinned on paused time in the server's
/// `stream/pacing_tests.rs`): with 100 slow viewers connected, each of 30 writes still
/// becomes exactly one rendered frame, and both fast viewers receive every one of them.
/// A chart held back by its slowest viewer would render and deliver none of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_slow_viewers_do_not_hold_back_the_frames_of_the_others() {
    // Slow viewers stay connected (they are slow, not stuck) for the whole test.
    let server = TestServer::start_fresh(|s| s.write_timeout = Duration::from_secs(300)).await;
    // A bar panel has no time axis: it renders on data changes only.
    server
        .create_chart(
            "busy",
            &temp_chart("bar", "1m").replace("\"fps\":30", "\"fps\":10"),
        )
        .await;
    let write = |value: f64| {
        server.post_points(json!({"points": [{"metric": "temp", "t": now_ms(), "v": value}]}))
    };
    assert_eq!(write(0.0).await.status(), 200);
    let fast = [
        CountingViewer::start(server.stream("/charts/busy.mjpg").await),
        CountingViewer::start(server.stream("/charts/busy.mjpg").await),
    ];
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
    let rendered_before = frames_rendered(&server.metrics().await, "busy");
    let seen_before: Vec<usize> = fast.iter().map(CountingViewer::pictures).collect();
    for i in 1..=30u64 {
        assert_eq!(write(i as f64).await.status(), 200);
        let expected = i;
        poll(
            Duration::from_secs(30),
            "the write's frame at both fast viewers",
            || async {
                let rendered = frames_rendered(&server.metrics().await, "busy") - rendered_before;
                let delivered = fast
                    .iter()
                    .zip(&seen_before)
                    .all(|(f, before)| f.pictures() - before >= expected as usize);
                (rendered >= expected && delivered).then_some(())
            },
        )
        .await;
    }
    let rendered = frames_rendered(&server.metrics().await, "busy") - rendered_before;
    assert_eq!(rendered, 30, "one frame per write, no more");
    let still = viewers(&server.metrics().await, "busy");
    assert_eq!(
        still,
        Some(102),
        "the slow viewers are still connected (slow, not dropped)"
    );
    drop(fast);
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
