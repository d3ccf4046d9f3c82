//! The MJPEG stream read by a real HTTP client: strict framing (every part has a
//! correct `Content-Length`), decodable JPEGs, pictures that change where the data
//! changed, advance headers, keepalive, viewer counting, and streams that end.

use std::time::Duration;

use serde_json::json;
use tests::{
    error_message, now_ms, quick_write_timeout, red, stalled_viewer, status_and_json, within,
    Image, MjpegReader, TestServer,
};

use crate::temp_chart;

const DEADLINE: Duration = Duration::from_secs(30);

async fn next_image(reader: &mut MjpegReader) -> Image {
    let part = reader.next_part_within(DEADLINE).await;
    assert_eq!(
        part.headers.get("content-type").map(String::as_str),
        Some("image/jpeg")
    );
    assert!(part.headers.contains_key("x-timestamp"));
    part.jpeg()
}

/// A server with keepalive `keepalive` and chart `bar`, a bar chart of `temp` over 1m:
/// it has no time axis, so frames come only when data changes (or for keepalive).
async fn bar_chart_server(keepalive: Duration) -> TestServer {
    let server = TestServer::start_fresh(|s| s.keepalive = keepalive).await;
    server.create_chart("bar", &temp_chart("bar", "1m")).await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn picture_changes_where_the_data_changed() {
    let server = TestServer::start_fresh(|_| {}).await;
    server
        .create_chart("temp", &temp_chart("timeseries", "1m"))
        .await;
    let now = now_ms();
    let low: Vec<_> = (0..10)
        .map(|i| json!({"metric": "temp", "t": now - 50_000 + i * 5_000, "v": 10}))
        .collect();
    assert_eq!(
        server.post_points(json!({ "points": low })).await.status(),
        200
    );

    let mut reader = server.stream("/charts/temp.mjpg").await;
    let first = next_image(&mut reader).await;
    assert_eq!((first.width, first.height), (400, 300));
    let (top, all) = (0..120, 0..300);
    assert_eq!(
        first.count(0..400, top.clone(), red),
        0,
        "values of 10 draw nothing high up"
    );
    assert!(
        first.count(0..400, all.clone(), red) > 50,
        "the low line is drawn"
    );

    // One high point now: the line must jump up at the right edge, and only there.
    let high = json!({"points": [{"metric": "temp", "t": now_ms(), "v": 95}]});
    assert_eq!(server.post_points(high).await.status(), 200);
    let mut changed = None;
    for _ in 0..200 {
        let image = next_image(&mut reader).await;
        assert_eq!((image.width, image.height), (400, 300));
        if image.count(0..400, top.clone(), red) > 0 {
            changed = Some(image);
            break;
        }
    }
    let changed = changed.expect("a frame showing the new point");
    assert!(
        changed.count(300..400, top.clone(), red) > 10,
        "the jump is at the right edge"
    );
    assert_eq!(
        changed.count(0..300, top, red),
        0,
        "nothing changed high up elsewhere"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_part_header_follows_each_frame_and_padded_frames_decode() {
    let server = bar_chart_server(Duration::from_secs(600)).await;
    let point = |v: f64| json!({"points": [{"metric": "temp", "t": now_ms(), "v": v}]});
    assert_eq!(server.post_points(point(10.0)).await.status(), 200);
    let mut reader = server.stream("/charts/bar.mjpg").await;
    let first = next_image(&mut reader).await;
    assert_eq!(first.count(0..400, 0..120, red), 0);
    assert!(first.count(0..400, 120..300, red) > 100, "a short red bar");

    // With no new frame and keepalive far away, the next header block still arrives.
    let headers = within(DEADLINE, "the advance header block", reader.next_headers())
        .await
        .expect("headers");
    let announced: usize = headers["content-length"].parse().expect("a length");

    assert_eq!(server.post_points(point(90.0)).await.status(), 200);
    let body = within(DEADLINE, "the next frame", reader.body(&headers))
        .await
        .expect("body");
    assert_eq!(body.len(), announced);
    let second = Image::from_jpeg(&body);
    assert!(second.count(0..400, 0..120, red) > 100, "a tall red bar");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unchanged_frame_is_resent_as_keepalive() {
    let server = bar_chart_server(Duration::from_millis(200)).await;
    let mut reader = server.stream("/charts/bar.mjpg").await;
    let first = next_image(&mut reader).await;
    for _ in 0..3 {
        assert_eq!(next_image(&mut reader).await, first);
    }
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("plotcast_frames_rendered_total{chart=\"bar\"} 1\n"),
        "{metrics}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_share_one_render_and_are_counted_out_when_they_leave() {
    let server = bar_chart_server(Duration::from_millis(200)).await;
    let mut a = server.stream("/charts/bar.mjpg").await;
    let mut b = server.stream("/charts/bar.mjpg?fps=2").await;
    let (first_a, first_b) = (next_image(&mut a).await, next_image(&mut b).await);
    assert_eq!(first_a, first_b);
    server
        .wait_for_viewers("bar", 2, DEADLINE, "2 viewers")
        .await;
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("plotcast_frames_rendered_total{chart=\"bar\"} 1\n"),
        "one render for both: {metrics}"
    );
    drop(a);
    drop(b);
    server
        .wait_for_viewers("bar", 0, DEADLINE, "0 viewers")
        .await;
    let bad = server.get("/charts/bar.mjpg?fps=0").await;
    assert_eq!(bad.status(), 400);
    let (status, body) = status_and_json(server.get("/charts/bar.mjpg?scroll=fast").await).await;
    assert_eq!(status, 400, "{body}");
    assert!(error_message(&body).contains("scroll"), "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_chart_ends_its_streams_cleanly() {
    let server = bar_chart_server(Duration::from_secs(600)).await;
    let mut reader = server.stream("/charts/bar.mjpg").await;
    next_image(&mut reader).await;
    let deleted = server.delete("/api/charts/bar").await;
    assert_eq!(deleted.status(), 204);
    // The announced part is completed with the frame already shown, then the body closes.
    let last = next_image(&mut reader).await;
    assert_eq!((last.width, last.height), (400, 300));
    within(DEADLINE, "the end of the stream", reader.expect_end())
        .await
        .expect("a clean end");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_that_stops_reading_is_dropped_after_the_write_timeout() {
    let server = TestServer::start_fresh(quick_write_timeout).await;
    server
        .create_chart("fast", &temp_chart("timeseries", "10s"))
        .await;
    // Smooth scrolling: a frame for every pixel its 10 s axis moves, no data needed.
    let stuck = stalled_viewer(server.addr, "/charts/fast.mjpg?scroll=smooth").await;
    server
        .wait_for_viewers("fast", 1, DEADLINE, "the viewer to connect")
        .await;
    // It never reads: once the socket buffers are full, writes stall and it is dropped.
    server
        .wait_for_viewers(
            "fast",
            0,
            Duration::from_secs(60),
            "the stuck viewer to be dropped",
        )
        .await;
    drop(stuck);
    server.stop().await;
}
