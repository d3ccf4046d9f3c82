//! Limits: each refusal is a clear JSON error naming the option that sets the limit —
//! points per request, name length, series cardinality, viewers per chart and in
//! total (503 + Retry-After), connections per client IP (429), and the header read
//! timeout against slowloris.

use std::time::Duration;

use serde_json::{json, Value};
use tests::{config, poll, within, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::temp_chart;

async fn limit_error(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON error body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_limits_name_the_limit_and_existing_series_keep_working() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = config(dir.path());
    settings.max_points = 3;
    settings.max_name = 10;
    settings.max_series = 2;
    let server = TestServer::start(settings).await;
    let now = tests::now_ms();
    let point = |metric: &str| json!({"metric": metric, "t": now, "v": 1});

    let four = json!({"points": [point("a"), point("a"), point("a"), point("a")]});
    let (status, body) = limit_error(server.post_points(four).await).await;
    assert_eq!((status, body["limit"].as_str()), (413, Some("max_points")));
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("limit of 3")),
        "{body}"
    );
    let lines = "a v=1\na v=2\na v=3\na v=4\n";
    let response = server
        .client
        .post(server.url("/write"))
        .body(lines)
        .send()
        .await;
    let (status, body) = limit_error(response.expect("POST")).await;
    assert_eq!((status, body["limit"].as_str()), (413, Some("max_points")));

    let long = json!({"points": [point("a_very_long_metric")]});
    let (status, body) = limit_error(server.post_points(long).await).await;
    assert_eq!(status, 400);
    assert!(
        body["details"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("max_name")),
        "{body}"
    );
    let response = server
        .client
        .post(server.url("/write"))
        .body("m,host=averyveryverylonghost v=1")
        .send()
        .await;
    let (status, body) = limit_error(response.expect("POST")).await;
    assert_eq!((status, body["limit"].as_str()), (400, Some("max_name")));

    // Cardinality: two series fit, a third is refused (the whole batch), the two keep working.
    let two = json!({"points": [point("a"), point("b")]});
    assert_eq!(server.post_points(two).await.status(), 200);
    let three = json!({"points": [point("a"), point("c")]});
    let (status, body) = limit_error(server.post_points(three).await).await;
    assert_eq!((status, body["limit"].as_str()), (422, Some("max_series")));
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("at most 2")),
        "{body}"
    );
    let response = server
        .client
        .post(server.url("/write"))
        .body("c v=1")
        .send()
        .await;
    assert_eq!(response.expect("POST").status(), 422);
    let again = json!({"points": [point("a"), point("b")]});
    assert_eq!(server.post_points(again).await.status(), 200);
    let series: Value = server
        .client
        .get(server.url("/api/series"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    let names: Vec<&str> = series["series"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|s| s["metric"].as_str())
        .collect();
    assert_eq!(names, ["a", "b"]);
    server.stop().await;
}

fn viewers(metrics: &str, chart: &str) -> Option<usize> {
    let prefix = format!("plotcast_viewers{{chart=\"{chart}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix)?.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewer_limits_answer_503_with_retry_after() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = config(dir.path());
    settings.max_viewers_per_chart = 2;
    settings.max_viewers = 3;
    let server = TestServer::start(settings).await;
    for id in ["one", "two"] {
        assert_eq!(
            server
                .put_chart(id, &temp_chart("bar", "1h"))
                .await
                .status(),
            201
        );
    }
    let a = server.stream("/charts/one.mjpg").await;
    let _b = server.stream("/charts/one.mjpg").await;
    let refused = server
        .client
        .get(server.url("/charts/one.mjpg"))
        .send()
        .await
        .expect("GET");
    assert_eq!(
        refused
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("5")
    );
    let (status, body) = limit_error(refused).await;
    assert_eq!(
        (status, body["limit"].as_str()),
        (503, Some("max_viewers_per_chart"))
    );
    let _c = server.stream("/charts/two.mjpg").await;
    let refused = server
        .client
        .get(server.url("/charts/two.mjpg"))
        .send()
        .await
        .expect("GET");
    let (status, body) = limit_error(refused).await;
    assert_eq!((status, body["limit"].as_str()), (503, Some("max_viewers")));
    // A viewer leaves: its place is free again.
    drop(a);
    poll(
        Duration::from_secs(10),
        "the viewer counted out",
        || async { (viewers(&server.metrics().await, "one") == Some(1)).then_some(()) },
    )
    .await;
    let _d = server.stream("/charts/two.mjpg").await;
    server.stop().await;
}

/// Sends a request on a raw connection and returns the response head and body text.
async fn raw_get(stream: &mut TcpStream, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut buffer = vec![0; 4096];
    let n = within(
        Duration::from_secs(10),
        "a response",
        stream.read(&mut buffer),
    )
    .await
    .expect("read");
    String::from_utf8_lossy(&buffer[..n]).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_client_ip_are_capped_with_429() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = config(dir.path());
    settings.max_connections_per_ip = 3;
    let server = TestServer::start(settings).await;
    // The test client's pooled connection may hold one of the three places.
    let mut open = Vec::new();
    let refusal = loop {
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        let response = raw_get(&mut stream, "/healthz").await;
        if response.starts_with("HTTP/1.1 200") {
            open.push(stream);
            assert!(open.len() <= 3, "more than 3 connections admitted");
        } else {
            break response;
        }
    };
    assert!(open.len() >= 2, "{} admitted", open.len());
    assert!(refusal.starts_with("HTTP/1.1 429"), "{refusal}");
    assert!(
        refusal.contains("\"limit\":\"max_connections_per_ip\""),
        "{refusal}"
    );
    // Closing one frees its place.
    drop(open.pop());
    poll(Duration::from_secs(10), "a place freed", || async {
        let mut stream = TcpStream::connect(server.addr).await.ok()?;
        raw_get(&mut stream, "/healthz")
            .await
            .starts_with("HTTP/1.1 200")
            .then_some(())
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_headers_are_cut_off_by_the_header_read_timeout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = config(dir.path());
    settings.header_read_timeout = Duration::from_millis(500);
    let server = TestServer::start(settings).await;
    let stream = TcpStream::connect(server.addr).await.expect("connect");
    let (mut read, mut write) = stream.into_split();
    // Trickle one header byte every 50 ms, forever (never the blank line).
    let trickle = tokio::spawn(async move {
        if write
            .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: ")
            .await
            .is_err()
        {
            return;
        }
        let mut ticker = tokio::time::interval(Duration::from_millis(50));
        loop {
            ticker.tick().await;
            if write.write_all(b"a").await.is_err() {
                return;
            }
        }
    });
    let mut buffer = [0u8; 1024];
    let closed = within(
        Duration::from_secs(10),
        "the server closes the slow connection",
        async {
            loop {
                match read.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        },
    );
    closed.await;
    trickle.abort();
    // A client that sends its headers in time is served.
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    assert!(raw_get(&mut stream, "/healthz")
        .await
        .starts_with("HTTP/1.1 200"));
    server.stop().await;
}
