//! HTTP/2, over TLS (`--tls-cert`/`--tls-key`, ALPN) and as h2c on the plain port.
//! Headless Chromium shows 12 streams of one host on one page, all updating after a
//! data change, over one HTTP/2 connection; over HTTP/1.1 it shows at most 6 (its
//! connections per host; the rest are never requested). ffmpeg and GStreamer play an
//! https stream. h2c serves requests and streams next to HTTP/1.1, with the header cap
//! (431). A stalled HTTP/2 stream is dropped while the other streams of its connection
//! go on. Bad certificate files stop startup naming the file; plain HTTP and silent
//! clients on the TLS port free their connection slots.

use std::path::Path;
use std::time::{Duration, Instant};

use tests::webdriver::{PageLoad, WebDriver};
use tests::{
    metric_value, poll, red, self_signed_certificate, viewers, within, Image, MjpegReader,
    TestServer,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::browser::serve_page;
use crate::ffmpeg::ffmpeg_reads_four_frames;
use crate::strict_clients::{
    gstreamer_reads_four_frames, raise_the_bar_and_see_it, set_temp, short_bar_server,
    short_bar_server_tls, short_keepalive, tall_bar, with_short_bar,
};
use crate::temp_chart;

const DEADLINE: Duration = Duration::from_secs(30);

/// `<img>` streams on the test page, of one host.
const STREAMS: usize = 12;

/// Each image's size on the page: the 400×300 frame at 0.4.
const IMG: (usize, usize) = (160, 120);

const HTTP2_CONNECTIONS: &str = "plotcast_http2_connections_total";

/// What an image on the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shows {
    Nothing,
    ShortBar,
    TallBar,
}

/// Image `i`'s top-left corner on the page (4 columns, 10 px apart).
fn cell(i: usize) -> (usize, usize) {
    ((i % 4) * (IMG.0 + 10), (i / 4) * (IMG.1 + 10))
}

/// What image `i` shows in `shot`: the frame's rows 0..120 are red only with the tall
/// bar, rows 150..300 with either (0..48 and 60..120 at 0.4).
fn shows(shot: &Image, i: usize) -> Shows {
    let (x, y) = cell(i);
    let (w, h) = IMG;
    if shot.count(x..x + w, y..y + 48, red) > 30 {
        Shows::TallBar
    } else if shot.count(x..x + w, y + 60..y + h, red) > 30 {
        Shows::ShortBar
    } else {
        Shows::Nothing
    }
}

/// What every image shows in a screenshot, or `None` while there is none.
async fn shown(browser: &WebDriver) -> Option<Vec<Shows>> {
    let shot = Image::from_png(&browser.try_screenshot().await?);
    let (_, bottom) = cell(STREAMS - 1);
    assert!(
        shot.height >= bottom + IMG.1,
        "the window shows every image"
    );
    Some((0..STREAMS).map(|i| shows(&shot, i)).collect())
}

fn count(shown: &[Shows], what: Shows) -> usize {
    shown.iter().filter(|s| **s == what).count()
}

/// Opens a page of [`STREAMS`] images of chart `bar` on `server` (made by
/// `short_bar_server`; each URL with its own cache-buster, so Chromium loads each)
/// in Chromium, waits until `updating` of them show the short bar and the server has
/// that many viewers, raises the bar, waits until `updating` images show the tall bar,
/// and returns what each image shows then and the server's `/metrics` at that time.
async fn streams_in_chromium(server: &TestServer, updating: usize) -> (Vec<Shows>, String) {
    let images: String = (0..STREAMS)
        .map(|i| {
            let (x, y) = cell(i);
            let url = server.url(&format!("/charts/bar.mjpg?_={i}"));
            format!(
                "<img src='{url}' width={} height={} style='position:absolute;left:{x}px;top:{y}px'>",
                IMG.0, IMG.1
            )
        })
        .collect();
    let (page, _page_server) = serve_page(format!("<body style='margin:0'>{images}</body>")).await;
    // The page never finishes loading (endless streams): `PageLoad::None`.
    let browser =
        WebDriver::start_with(720, 640, PageLoad::None, &["--ignore-certificate-errors"]).await;
    browser.open(&page).await;
    poll(DEADLINE, "the short bar in the streams", || async {
        let shown = shown(&browser).await?;
        (count(&shown, Shows::ShortBar) >= updating).then_some(())
    })
    .await;
    server
        .wait_for_viewers("bar", updating, DEADLINE, "the streams' viewers")
        .await;
    let written = Instant::now();
    set_temp(server, 90.0).await;
    let shown = poll(DEADLINE, "the tall bar in the streams", || async {
        let shown = shown(&browser).await?;
        (count(&shown, Shows::TallBar) >= updating).then_some(shown)
    })
    .await;
    eprintln!(
        "Chromium ({}) showed the new frame in {updating} images {:?} after the write",
        server.scheme,
        written.elapsed()
    );
    let metrics = server.metrics().await;
    browser.close().await;
    (shown, metrics)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_shows_twelve_streams_of_one_host_over_http2() {
    // The test's own client speaks HTTP/2 over TLS too, on one kept connection: idle
    // while Chromium starts, it would be closed after the header read timeout (and its
    // next connection counted), so the timeout outlasts the test.
    let server = with_short_bar(
        TestServer::start_fresh_tls(|config| {
            short_keepalive(config);
            config.header_read_timeout = Duration::from_secs(600);
        })
        .await,
    )
    .await;
    let before = metric_value::<u64>(&server.metrics().await, HTTP2_CONNECTIONS);
    let (shown, metrics) = streams_in_chromium(&server, STREAMS).await;
    assert_eq!(shown, vec![Shows::TallBar; STREAMS]);
    assert_eq!(viewers(&metrics, "bar"), Some(STREAMS));
    // Chromium really spoke HTTP/2: the 12 streams share one connection.
    let after = metric_value::<u64>(&metrics, HTTP2_CONNECTIONS);
    assert_eq!(after, before.map(|n| n + 1));
    server.stop().await;
}

/// Why a page needs HTTP/2: over HTTP/1.1 Chromium opens at most 6 connections per
/// host, and a stream never ends, so images 7 to 12 are never even requested.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_over_http1_shows_at_most_six_streams_of_one_host() {
    let server = short_bar_server().await;
    let (shown, metrics) = streams_in_chromium(&server, 6).await;
    assert_eq!(count(&shown, Shows::TallBar), 6, "{shown:?}");
    assert_eq!(count(&shown, Shows::Nothing), STREAMS - 6, "{shown:?}");
    assert_eq!(
        viewers(&metrics, "bar"),
        Some(6),
        "the server saw 6 requests"
    );
    assert_eq!(metric_value::<u64>(&metrics, HTTP2_CONNECTIONS), Some(0));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ffmpeg_plays_an_https_stream() {
    ffmpeg_reads_four_frames(short_bar_server_tls().await, Some("mpjpeg")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gstreamer_plays_an_https_stream() {
    gstreamer_reads_four_frames(short_bar_server_tls().await).await;
}

/// A client that speaks HTTP/2 without TLS (prior knowledge), as reverse proxies can.
fn h2c_client(stream_window: Option<u32>) -> reqwest::Client {
    reqwest::Client::builder()
        .http2_prior_knowledge()
        .http2_adaptive_window(false)
        .http2_initial_stream_window_size(stream_window)
        .build()
        .expect("an h2c client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_serves_requests_and_streams_next_to_http1_on_the_plain_port() {
    let server = short_bar_server().await;
    let h2c = h2c_client(None);
    let healthz = |header: usize| {
        h2c.get(server.url("/healthz"))
            .header("x-big", "a".repeat(header))
            .send()
    };
    let response = healthz(1).await.expect("GET /healthz over h2c");
    assert_eq!(
        (response.version(), response.status().as_u16()),
        (reqwest::Version::HTTP_2, 200)
    );
    let http1 = server.get("/healthz").await;
    assert_eq!(
        (http1.version(), http1.status().as_u16()),
        (reqwest::Version::HTTP_11, 200)
    );

    // The stream is a normal HTTP/2 body (no `Connection: close`, no HTTP/1.0).
    let response = h2c
        .get(server.url("/charts/bar.mjpg"))
        .send()
        .await
        .expect("GET the stream over h2c");
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("connection").is_none());
    let mut reader = MjpegReader::new(response);
    assert!(!tall_bar(&reader.next_part_within(DEADLINE).await.jpeg()));
    assert!(
        raise_the_bar_and_see_it(&server, &mut reader).await,
        "a frame over h2c shows the data change"
    );

    // Request headers are capped at 16 KiB (max_header_bytes) over HTTP/2 as well (the
    // h2 crate answers 431 up to 4 times the cap, and ends the connection beyond).
    let within_cap = healthz(15 * 1024).await.expect("15 KiB of headers");
    assert_eq!(within_cap.status(), 200);
    let beyond = healthz(20 * 1024).await.expect("20 KiB of headers");
    assert_eq!(beyond.status(), 431);
    assert_eq!(healthz(1).await.expect("after the 431").status(), 200);

    let metrics = server.metrics().await;
    assert_eq!(metric_value::<u64>(&metrics, HTTP2_CONNECTIONS), Some(1));
    drop(reader);
    server.stop().await;
}

/// A viewer whose HTTP/2 stream gets no flow-control window stalls no TCP write, so the
/// write timeout alone would never drop it: its stream is ended after `write_timeout`
/// without progress, and the other stream of the same connection goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_http2_stream_is_dropped_while_its_connection_streams_on() {
    let server = TestServer::start_fresh(tests::quick_write_timeout).await;
    server.create_chart("bar", &temp_chart("bar", "1m")).await;
    set_temp(&server, 10.0).await;
    // A 64 KiB window per stream, given back only as the body is read.
    let h2c = h2c_client(Some(65_535));
    let url = server.url("/charts/bar.mjpg");
    let read = h2c.get(&url).send().await.expect("the read stream");
    let (parts_tx, parts) = tokio::sync::watch::channel(0usize);
    let reading = tokio::spawn(async move {
        let mut reader = MjpegReader::new(read);
        while reader.next_part().await.is_ok() {
            parts_tx.send_modify(|n| *n += 1);
        }
    });
    let stalled = h2c.get(&url).send().await.expect("the stalled stream");
    assert_eq!(stalled.version(), reqwest::Version::HTTP_2);
    let metrics = server.metrics().await;
    assert_eq!(viewers(&metrics, "bar"), Some(2));
    assert_eq!(metric_value::<u64>(&metrics, HTTP2_CONNECTIONS), Some(1));

    server
        .wait_for_viewers("bar", 1, DEADLINE, "the stalled stream dropped")
        .await;
    let seen = *parts.borrow();
    poll(DEADLINE, "more parts on the read stream", || async {
        (*parts.borrow() > seen + 5).then_some(())
    })
    .await;
    let metrics = server.metrics().await;
    assert_eq!(viewers(&metrics, "bar"), Some(1), "the read stream stays");
    // The server ended the stalled stream: read now, it ends (what it had sent, then
    // END_STREAM).
    within(DEADLINE, "the stalled stream's end", stalled.bytes())
        .await
        .expect("the stalled stream ends cleanly");
    reading.abort();
    server.stop().await;
}

/// Starts a server with `tls_cert` and `tls_key` set to `cert` and `key` and returns
/// why it did not start.
async fn tls_start_error(dir: &Path, cert: Option<&Path>, key: Option<&Path>) -> String {
    let mut config = tests::config(&dir.join("data"));
    config.tls_cert = cert.map(Path::to_path_buf);
    config.tls_key = key.map(Path::to_path_buf);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding 127.0.0.1:0");
    let run = server::run(listener, config, std::future::pending());
    let result = within(DEADLINE, "startup to fail", run).await;
    result.expect_err("startup fails").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_certificate_files_stop_startup_naming_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert, key) = self_signed_certificate(&dir.path().join("a"));
    let (_, other_key) = self_signed_certificate(&dir.path().join("b"));
    let missing = dir.path().join("missing.pem");
    let (missing_name, cert_name, key_name, other_name) = (
        missing.display().to_string(),
        cert.display().to_string(),
        key.display().to_string(),
        other_key.display().to_string(),
    );
    let cases: [(Option<&Path>, Option<&Path>, Vec<&str>); 6] = [
        (
            Some(&missing),
            Some(&key),
            vec!["TLS certificate file", &missing_name, "No such file"],
        ),
        (
            Some(&cert),
            Some(&missing),
            vec!["TLS key file", &missing_name],
        ),
        (
            Some(&key),
            Some(&key),
            vec!["TLS certificate file", &key_name, "no PEM certificate"],
        ),
        (
            Some(&cert),
            Some(&cert),
            vec!["TLS key file", &cert_name, "no PEM private key"],
        ),
        (Some(&cert), Some(&other_key), vec![&cert_name, &other_name]),
        (
            Some(&cert),
            None,
            vec!["--tls-cert and --tls-key go together"],
        ),
    ];
    for (cert, key, expected) in cases {
        let error = tls_start_error(dir.path(), cert, key).await;
        for part in expected {
            assert!(
                error.contains(part),
                "{cert:?} {key:?}: {error:?} lacks {part:?}"
            );
        }
    }
}

/// Sends `bytes` (maybe none) on a new connection to `server` and returns what it
/// answers until it closes the connection.
async fn answer_to(server: &TestServer, bytes: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    let mut answer = Vec::new();
    within(DEADLINE, "the server closes the connection", async {
        let mut buffer = [0u8; 4096];
        while let Ok(n @ 1..) = stream.read(&mut buffer).await {
            answer.extend_from_slice(&buffer[..n]);
        }
    })
    .await;
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_and_silent_clients_on_the_tls_port_free_their_slots() {
    // The test server's own client keeps one connection: 2 are left.
    let server = TestServer::start_fresh_tls(|config| {
        config.max_connections_per_ip = 3;
        config.header_read_timeout = Duration::from_millis(300);
    })
    .await;
    for _ in 0..4 {
        let answer = answer_to(&server, b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n").await;
        assert!(
            !answer.starts_with(b"HTTP/"),
            "the TLS port speaks only TLS"
        );
    }
    for _ in 0..3 {
        // No handshake within header_read_timeout: closed.
        answer_to(&server, b"").await;
    }
    // No slot leaked: two new connections are admitted and served at once.
    let client = || {
        reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .build()
            .expect("a client")
    };
    let (a, b) = (client(), client());
    let url = server.url("/healthz");
    poll(DEADLINE, "two new HTTPS connections served", || async {
        let first = a.get(&url).send().await.ok()?;
        let second = b.get(&url).send().await.ok()?;
        (first.status() == 200 && second.status() == 200).then_some(())
    })
    .await;
    // A connection beyond the cap is closed without the plain-HTTP 429 (a TLS client
    // would read it as garbage).
    let refused = "plotcast_connections_refused_total";
    let before = metric_value::<u64>(&server.metrics().await, refused);
    assert_eq!(answer_to(&server, b"").await, b"");
    let after = metric_value::<u64>(&server.metrics().await, refused);
    assert_eq!(after, before.map(|n| n + 1));
    server.stop().await;
}
