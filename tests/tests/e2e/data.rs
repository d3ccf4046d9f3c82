//! The data layer seen from outside: every acknowledged write is visible to charts,
//! whatever else happens at the same time.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use tests::TestServer;

/// Publishing charts with ever longer windows reloads the in-memory windows from
/// SQLite. A batch committed while a reload read SQLite used to be dropped from memory
/// (in SQLite, in no chart until a restart); on tmpfs most runs lost hundreds of
/// points. Every acknowledged point must be in `/api/series`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_batches_stay_visible_while_publishes_widen_the_windows() {
    // A fast disk makes the race likely; fall back to the default temp dir.
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("temp dir");
    let server = Arc::new(TestServer::start(tests::config(dir.path())).await);
    let t0 = tests::now_ms() - 600_000;
    const WRITERS: usize = 3;
    const LINES: usize = 20;
    const PUBLISHES: usize = 600;
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (server, acknowledged, done) = (server.clone(), acknowledged.clone(), done.clone());
            tokio::spawn(async move {
                let mut b = 0;
                while !done.load(Ordering::SeqCst) {
                    let body: String = (0..LINES)
                        .map(|i| format!("race,w={w} v={i} {}\n", t0 + (b * LINES + i) as i64))
                        .collect();
                    let response = server.post_body("/write?precision=ms", body).await;
                    assert_eq!(response.status(), 204, "writer {w} batch {b}");
                    acknowledged.fetch_add(LINES, Ordering::SeqCst);
                    b += 1;
                }
            })
        })
        .collect();
    for minutes in 61..61 + PUBLISHES {
        let spec = format!(
            r#"{{"version":1,"width":200,"height":100,"window":"{minutes}m",
            "panels":[{{"series":[{{"metric":"race_v"}}]}}]}}"#
        );
        let response = server.put_chart("widening", &spec).await;
        assert!(response.status().is_success(), "{}", response.status());
    }
    done.store(true, Ordering::SeqCst);
    for writer in writers {
        writer.await.expect("writer");
    }
    let written = acknowledged.load(Ordering::SeqCst);
    let listed: usize = server
        .series()
        .await
        .iter()
        .filter(|s| s["metric"] == "race_v")
        .map(|s| s["points"].as_u64().unwrap_or(0) as usize)
        .sum();
    let data = server
        .get_json(&format!(
            "/api/series/points?metric=race_v&from={t0}&to={}",
            t0 + written as i64
        ))
        .await;
    let queried: usize = data["series"].as_array().map_or(0, |all| {
        all.iter()
            .map(|s| s["points"].as_array().map_or(0, Vec::len))
            .sum()
    });
    assert_eq!(queried, written, "every acknowledged point is stored");
    assert_eq!(
        listed, written,
        "every acknowledged point is visible to charts ({PUBLISHES} publishes ran meanwhile)"
    );
}

/// A write wakes only the charts that draw its metric: a chart of another metric
/// renders nothing new, however much is written, while the chart of the written
/// metric (here a tag-filtered part of it) re-renders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_re_renders_only_the_charts_of_its_series() {
    let server = TestServer::start_fresh(|_| {}).await;
    let stat = |selector: &str| {
        format!(
            r#"{{"version":1,"width":320,"height":200,"fps":30,
            "panels":[{{"kind":"stat","series":[{selector}]}}]}}"#
        )
    };
    server
        .create_chart("quiet", &stat(r#"{"metric":"quiet_v"}"#))
        .await;
    server
        .create_chart("busy", &stat(r#"{"metric":"busy_v","tags":{"host":"a"}}"#))
        .await;
    let mut quiet = server.stream("/charts/quiet.mjpg").await;
    let mut busy = server.stream("/charts/busy.mjpg").await;
    quiet
        .next_part_within(std::time::Duration::from_secs(10))
        .await;
    busy.next_part_within(std::time::Duration::from_secs(10))
        .await;
    let frames = tests::frames_rendered;
    let before = server.metrics().await;
    let t = tests::now_ms();
    for i in 0..20 {
        let body = format!("busy,host=a v={i} {}", t + i);
        let response = server.post_body("/write?precision=ms", body).await;
        assert_eq!(response.status(), 204);
        // Let the render task catch up (fps 30: at most one frame per 33 ms).
        busy.next_part_within(std::time::Duration::from_secs(10))
            .await;
    }
    let after = server.metrics().await;
    assert_eq!(
        frames(&after, "quiet"),
        frames(&before, "quiet"),
        "writes of another metric re-rendered the quiet chart"
    );
    assert!(
        frames(&after, "busy") > frames(&before, "busy"),
        "the busy chart re-renders on its writes"
    );
    drop((quiet, busy));
    server.stop().await;
}

/// `GET /api/series/points` reads rollup buckets as a chart does: the four points that
/// draw each bucket, or with `STEP:values` (a stretch only sums, rates, gauges and bars
/// reach) one real point per bucket, its last; a step that is no positive number of ms
/// is refused with 400 naming it.
#[tokio::test]
async fn points_read_a_tier_as_lines_or_as_values_only() {
    let server = TestServer::start_fresh(|_| {}).await;
    // Two whole minutes of a zig-zag, a point every 5 s.
    let minute = (tests::now_ms() - 600_000) / 60_000 * 60_000;
    let body: String = (0..24)
        .map(|i| format!("zig v={} {}\n", i % 3, minute + i * 5_000))
        .collect();
    let response = server.post_body("/write?precision=ms", body).await;
    assert_eq!(response.status(), 204);
    let path = |step: &str| {
        format!(
            "/api/series/points?metric=zig_v&from={minute}&to={}&step={step}",
            minute + 120_000
        )
    };
    let points = |data: serde_json::Value| data["series"][0]["points"].clone();
    // The 1-minute tier: first, min, max and last of each bucket.
    let lines = points(server.get_json(&path("60000")).await);
    assert_eq!(lines.as_array().map(Vec::len), Some(8), "{lines}");
    let values = points(server.get_json(&path("60000:values")).await);
    let last = |i: i64| serde_json::json!([minute + i * 5_000, (i % 3) as f64]);
    assert_eq!(values, serde_json::json!([last(11), last(23)]));
    for bad in ["0:values", "-5", "60000:lines"] {
        let response = server
            .get(&format!("/api/series/points?metric=zig_v&step={bad}"))
            .await;
        assert_eq!(response.status(), 400, "step={bad}");
        let body: serde_json::Value = response.json().await.expect("json");
        assert!(tests::error_message(&body).contains(bad), "{body}");
    }
    let response = server
        .get(&format!("/api/series/points?metric=zig_v&then={minute}:x"))
        .await;
    assert_eq!(response.status(), 400);
    server.stop().await;
}
