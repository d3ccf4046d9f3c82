//! Headless Chromium (through chromedriver's WebDriver API) shows each frame as soon
//! as it is sent: Chromium otherwise shows part N only when part N+1 begins
//! (crbug 527446). After one data change and nothing else — no time axis, keepalive
//! ten minutes away — a screenshot must show the new frame.

use std::time::{Duration, Instant};

use serde_json::json;
use tests::webdriver::{PageLoad, WebDriver};
use tests::{now_ms, poll, red, Image, TestServer};

use crate::temp_chart;

/// A screenshot of the browser window, or `None` while there is none (for polling).
async fn screenshot(browser: &WebDriver) -> Option<Image> {
    let png = browser.try_screenshot().await?;
    Some(Image::from_png(&png))
}

/// Serves `html` at a loopback URL. (A `data:` page may not load loopback images:
/// Chromium's local network access rules block it.)
pub async fn serve_page(html: String) -> (String, tokio::task::JoinHandle<()>) {
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
    let server = TestServer::start_fresh(|s| s.keepalive = Duration::from_secs(600)).await;
    server.create_chart("bar", &temp_chart("bar", "1h")).await;
    let point = |v: f64| json!({"points": [{"metric": "temp", "t": now_ms(), "v": v}]});
    assert_eq!(server.post_points(point(10.0)).await.status(), 200);

    // `PageLoad::None`: the page shows an endless stream, so it never finishes loading.
    let browser = WebDriver::start(500, 400, PageLoad::None).await;
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
            let shot = screenshot(&browser).await?;
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
            let shot = screenshot(&browser).await?;
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
