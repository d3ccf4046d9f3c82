//! Limits: each refusal is a clear JSON error naming the option that sets the limit —
//! points per request, name length, series cardinality, viewers per chart and in
//! total (503 + Retry-After), connections per client IP (429), the header read
//! timeout against slowloris, and the size of a request's headers (431).

use std::time::Duration;

use serde_json::{json, Value};
use tests::{assert_over_limit, error_message, poll, raw_get, status_and_json, within, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::temp_chart;

/// The `error` message of a JSON error body contains `text`.
fn error_says(body: &Value, text: &str) -> bool {
    error_message(body).contains(text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_limits_name_the_limit_and_existing_series_keep_working() {
    let server = TestServer::start_fresh(|s| {
        s.max_points = 3;
        s.max_name = 10;
        s.max_series = 2;
    })
    .await;
    let now = tests::now_ms();
    let point = |metric: &str| json!({"metric": metric, "t": now, "v": 1});

    let four = json!({"points": [point("a"), point("a"), point("a"), point("a")]});
    let (status, body) = status_and_json(server.post_points(four).await).await;
    assert_eq!((status, body["limit"].as_str()), (413, Some("max_points")));
    assert!(error_says(&body, "limit of 3"), "{body}");
    let lines = "a v=1\na v=2\na v=3\na v=4\n";
    let response = server.post_body("/write", lines).await;
    let (status, body) = status_and_json(response).await;
    assert_eq!((status, body["limit"].as_str()), (413, Some("max_points")));

    let long = json!({"points": [point("a_very_long_metric")]});
    let (status, body) = status_and_json(server.post_points(long).await).await;
    assert_eq!(status, 400);
    assert!(
        body["details"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("max_name")),
        "{body}"
    );
    let response = server
        .post_body("/write", "m,host=averyveryverylonghost v=1")
        .await;
    let (status, body) = status_and_json(response).await;
    assert_eq!((status, body["limit"].as_str()), (400, Some("max_name")));

    // Cardinality: two series fit, a third is refused (the whole batch), the two keep working.
    let two = json!({"points": [point("a"), point("b")]});
    assert_eq!(server.post_points(two).await.status(), 200);
    let three = json!({"points": [point("a"), point("c")]});
    let (status, body) = status_and_json(server.post_points(three).await).await;
    assert_eq!((status, body["limit"].as_str()), (422, Some("max_series")));
    assert!(error_says(&body, "at most 2"), "{body}");
    let response = server.post_body("/write", "c v=1").await;
    assert_eq!(response.status(), 422);
    let again = json!({"points": [point("a"), point("b")]});
    assert_eq!(server.post_points(again).await.status(), 200);
    let series = server.series().await;
    let names: Vec<&str> = series.iter().filter_map(|s| s["metric"].as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewer_limits_answer_503_with_retry_after() {
    let server = TestServer::start_fresh(|s| {
        s.max_viewers_per_chart = 2;
        s.max_viewers = 3;
    })
    .await;
    for id in ["one", "two"] {
        server.create_chart(id, &temp_chart("bar", "1h")).await;
    }
    let a = server.stream("/charts/one.mjpg").await;
    let _b = server.stream("/charts/one.mjpg").await;
    let refused = server.get("/charts/one.mjpg").await;
    assert_over_limit(refused, "max_viewers_per_chart").await;
    let _c = server.stream("/charts/two.mjpg").await;
    assert_over_limit(server.get("/charts/two.mjpg").await, "max_viewers").await;
    // A viewer leaves: its place is free again.
    drop(a);
    server
        .wait_for_viewers("one", 1, Duration::from_secs(10), "the viewer counted out")
        .await;
    let _d = server.stream("/charts/two.mjpg").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_client_ip_are_capped_with_429() {
    let server = TestServer::start_fresh(|s| s.max_connections_per_ip = 3).await;
    // The test client's pooled connection may hold one of the three places.
    let mut open = Vec::new();
    let refusal = loop {
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        let response = raw_get(&mut stream, "/healthz", Duration::from_secs(10)).await;
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
        raw_get(&mut stream, "/healthz", Duration::from_secs(10))
            .await
            .starts_with("HTTP/1.1 200")
            .then_some(())
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_headers_are_cut_off_by_the_header_read_timeout() {
    let server =
        TestServer::start_fresh(|s| s.header_read_timeout = Duration::from_millis(500)).await;
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
    assert!(raw_get(&mut stream, "/healthz", Duration::from_secs(10))
        .await
        .starts_with("HTTP/1.1 200"));
    server.stop().await;
}

/// Sends `GET /healthz` with a header `x-big` of `size` bytes on a new connection and
/// returns what the server answers until it closes the connection, as text.
async fn healthz_with_a_header_of(server: &TestServer, size: usize) -> String {
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    // Borrowed halves: the write side stays open (hyper drops a request on EOF).
    let (mut read, mut write) = stream.split();
    let big = "a".repeat(size);
    let request =
        format!("GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\nx-big: {big}\r\n\r\n");
    // The server may answer and close before it read everything: writing then fails.
    let send = async {
        let _ = write.write_all(request.as_bytes()).await;
    };
    let receive = async {
        let mut answer = Vec::new();
        let mut buffer = [0u8; 4096];
        while let Ok(n @ 1..) = read.read(&mut buffer).await {
            answer.extend_from_slice(&buffer[..n]);
        }
        answer
    };
    let ((), answer) = within(Duration::from_secs(10), "the answer", async {
        tokio::join!(send, receive)
    })
    .await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_headers_beyond_16_kib_get_431() {
    let server = TestServer::start_fresh(|_| {}).await;
    let within_cap = healthz_with_a_header_of(&server, 15 * 1024).await;
    assert!(
        within_cap.starts_with("HTTP/1.1 200 OK\r\n"),
        "{within_cap}"
    );
    let beyond = healthz_with_a_header_of(&server, 100_000).await;
    assert!(
        beyond.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
        "{beyond:?}"
    );
    assert_eq!(server.get("/healthz").await.status(), 200);
    server.stop().await;
}
