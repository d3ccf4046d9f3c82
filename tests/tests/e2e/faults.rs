//! Faults: a render that panics costs only that chart a picture (it streams an error
//! frame, every other chart goes on); a store that cannot write answers writes with 503
//! while streams keep running. Faults are injected through the server's `Hooks`, which
//! no flag, variable or config key reaches (see `server/src/hooks.rs`).

use std::time::Duration;

use serde_json::json;
use server::Hooks;
use tests::{
    config, error_message, header, metric_value, now_ms, red, Image, MjpegReader, TestServer,
};

use crate::temp_chart;

const DEADLINE: Duration = Duration::from_secs(30);

async fn next_image(reader: &mut MjpegReader) -> Image {
    reader.next_part_within(DEADLINE).await.jpeg()
}

/// Reads frames until one satisfies `check` (at most 200 frames).
async fn until_frame(reader: &mut MjpegReader, what: &str, check: impl Fn(&Image) -> bool) {
    for _ in 0..200 {
        if check(&next_image(reader).await) {
            return;
        }
    }
    panic!("no frame {what} in 200 frames");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_render_that_panics_streams_an_error_frame_and_others_keep_going() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hooks = Hooks::default();
    let faults = hooks.faults.clone();
    faults.set_panic_chart(Some("boom"));
    let server = TestServer::start_with(config(dir.path()), hooks).await;
    for id in ["boom", "fine"] {
        server.create_chart(id, &temp_chart("bar", "1h")).await;
    }
    let mut boom = server.stream("/charts/boom.mjpg").await;
    let mut fine = server.stream("/charts/fine.mjpg").await;
    // The panicking chart streams a picture: the error frame (dark theme, no bar).
    let error_frame = next_image(&mut boom).await;
    assert_eq!((error_frame.width, error_frame.height), (400, 300));
    let dark = error_frame.count(0..400, 0..300, |p| p.iter().all(|c| *c < 60));
    assert!(dark > 400 * 300 / 2, "mostly dark: {dark}");
    assert_eq!(error_frame.count(0..400, 0..300, red), 0);
    let png = server.get("/charts/boom.png").await;
    assert_eq!(
        png.status(),
        200,
        "a one-off render panics into the error frame too"
    );
    // The other chart goes on: it draws new data.
    let t = now_ms();
    let points = json!({"points": [{"metric": "temp", "t": t, "v": 90}]});
    assert_eq!(server.post_points(points).await.status(), 200);
    until_frame(&mut fine, "with the red bar", |i| {
        i.count(0..400, 0..300, red) > 100
    })
    .await;
    let metrics = server.metrics().await;
    assert!(
        metric_value::<u64>(&metrics, "plotcast_render_panics_total").is_some_and(|n| n >= 1),
        "{metrics}"
    );
    // The panicking chart's stream is still alive: once renders succeed it shows data.
    faults.set_panic_chart(None);
    let points = json!({"points": [{"metric": "temp", "t": t + 1, "v": 80}]});
    assert_eq!(server.post_points(points).await.status(), 200);
    until_frame(&mut boom, "with the red bar", |i| {
        i.count(0..400, 0..300, red) > 100
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_cannot_write_gives_503_and_streams_keep_running() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = config(dir.path());
    settings.keepalive = Duration::from_millis(100);
    let hooks = Hooks::default();
    let faults = hooks.faults.clone();
    let server = TestServer::start_with(settings, hooks).await;
    server.create_chart("live", &temp_chart("bar", "1h")).await;
    let mut reader = server.stream("/charts/live.mjpg").await;
    next_image(&mut reader).await;

    faults.set_read_only_store(true);
    let points = json!({"points": [{"metric": "temp", "t": now_ms(), "v": 90}]});
    let response = server.post_points(points).await;
    assert_eq!(response.status(), 503);
    assert_eq!(header(&response, "retry-after"), Some("5"));
    let body: serde_json::Value = response.json().await.expect("json");
    let error = error_message(&body);
    assert!(
        error.contains("storage unavailable") && error.contains("read-only"),
        "{error}"
    );
    let line = server.post_body("/write", "temp v=1").await;
    assert_eq!(line.status(), 503);
    let put = server.put_chart("new", &temp_chart("bar", "1h")).await;
    assert_eq!(put.status(), 503);
    // Nothing half-stored: the refused point is not drawn; reads and streams go on.
    let list = server.get("/api/charts").await;
    assert_eq!(list.status(), 200);
    for _ in 0..5 {
        let image = next_image(&mut reader).await;
        assert_eq!(
            image.count(0..400, 0..300, red),
            0,
            "the refused point is not drawn"
        );
    }
    // Writable again: writes are accepted and drawn.
    faults.set_read_only_store(false);
    let points = json!({"points": [{"metric": "temp", "t": now_ms(), "v": 90}]});
    assert_eq!(server.post_points(points).await.status(), 200);
    until_frame(&mut reader, "with the red bar", |i| {
        i.count(0..400, 0..300, red) > 100
    })
    .await;
    server.stop().await;
}
