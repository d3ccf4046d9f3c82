//! Shared helpers of plotcast's end-to-end tests (the tests live in `tests/tests/`):
//! a real server on `127.0.0.1:0` (also over HTTPS, with a self-signed certificate),
//! an MJPEG part reader over a real HTTP response or the raw bytes of a connection,
//! JPEG and pixel helpers, polling with a deadline
//! (never sleeps as synchronisation), HTTP and metrics helpers, the `plotcast` binary
//! as a child process ([`spawn_plotcast`]), a real Prometheus and a scrape target
//! ([`prometheus`]), a real NATS server ([`nats`]), and a WebDriver client for headless Chromium ([`webdriver`]).

mod daemon;
pub mod nats;
pub mod prometheus;
pub mod webdriver;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde_json::Value;
use server::{Config, Hooks, ServeError};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server running in this process.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// `https` when it has a certificate ([`TestServer::start_fresh_tls`]), else `http`.
    pub scheme: &'static str,
    /// An HTTP client.
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ServeError>>>,
    /// The data directory made by [`TestServer::start_fresh`], removed after the server.
    _dir: Option<tempfile::TempDir>,
}

/// Defaults for tests: no demo, the given data directory.
pub fn config(dir: &std::path::Path) -> Config {
    Config::for_data_dir(dir)
}

/// Settings under which a viewer that stops reading is dropped within seconds: a write
/// timeout of 500 ms, and keepalive repeating the frame every 5 ms (about 2 MB/s of
/// frames, without rendering) so the socket buffers fill fast.
pub fn quick_write_timeout(settings: &mut Config) {
    settings.write_timeout = Duration::from_millis(500);
    settings.keepalive = Duration::from_millis(5);
}

/// `PUT {base}/api/charts/{id}` (the server at `base`, e.g. a [`spawn_plotcast`] child),
/// asserting that it created the chart (201).
pub async fn create_chart_at(client: &reqwest::Client, base: &str, id: &str, spec: &str) {
    let response = client
        .put(format!("{base}/api/charts/{id}"))
        .body(spec.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("PUT /api/charts/{id}: {e}"));
    assert_eq!(
        response.status(),
        201,
        "PUT /api/charts/{id} creates the chart"
    );
}

impl TestServer {
    /// Starts a server with `config` on a free loopback port.
    pub async fn start(config: Config) -> TestServer {
        TestServer::start_with(config, Hooks::default()).await
    }

    /// [`TestServer::start`] with test hooks (clock, faults to inject).
    pub async fn start_with(config: Config, hooks: Hooks) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let scheme = config.scheme();
        // The tests' certificates are self-signed (`self_signed_certificate`).
        let client = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .build()
            .expect("an HTTP client");
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server::run_with(listener, config, hooks, async move {
            let _ = rx.await;
        }));
        let server = TestServer {
            addr,
            scheme,
            client,
            shutdown: Some(tx),
            task: Some(task),
            _dir: None,
        };
        // The listener is bound, so requests queue until the server accepts them.
        assert_eq!(server.get("/healthz").await.status(), 200);
        server
    }

    /// Starts a server on a new temporary data directory (owned by the server), with the
    /// test [`config`] changed by `configure`.
    pub async fn start_fresh(configure: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = config(dir.path());
        configure(&mut settings);
        let mut server = TestServer::start(settings).await;
        server._dir = Some(dir);
        server
    }

    /// [`TestServer::start_fresh`] with HTTPS: a self-signed certificate for
    /// `127.0.0.1` and `localhost` in the data directory (`tls/cert.pem`, `tls/key.pem`).
    pub async fn start_fresh_tls(configure: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::start_fresh(|config| {
            let (cert, key) = self_signed_certificate(&config.data_dir.join("tls"));
            config.tls_cert = Some(cert);
            config.tls_key = Some(key);
            configure(config);
        })
        .await
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{}", self.scheme, self.addr, path)
    }

    /// Shuts the server down gracefully and waits until it has stopped.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let result = tokio::time::timeout(Duration::from_secs(30), task).await;
            let result = result
                .expect("server stops within 30 s")
                .expect("server task");
            result.expect("server ran without error");
        }
    }

    /// `PUT /api/charts/{id}` with a JSON body.
    pub async fn put_chart(&self, id: &str, spec: &str) -> reqwest::Response {
        self.client
            .put(self.url(&format!("/api/charts/{id}")))
            .body(spec.to_string())
            .send()
            .await
            .expect("PUT chart")
    }

    /// `PUT /api/charts/{id}`, asserting that it created the chart (201).
    pub async fn create_chart(&self, id: &str, spec: &str) {
        create_chart_at(&self.client, &self.url(""), id, spec).await;
    }

    /// Sends `request`, panicking with `what` when it cannot be sent.
    async fn send(&self, request: reqwest::RequestBuilder, what: &str) -> reqwest::Response {
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"))
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        let request = self.client.get(self.url(path));
        self.send(request, &format!("GET {path}")).await
    }

    /// `GET path`, its body (whatever the status).
    pub async fn get_bytes(&self, path: &str) -> Bytes {
        self.get(path)
            .await
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("the body of GET {path}: {e}"))
    }

    /// `GET path`, its body as JSON (whatever the status).
    pub async fn get_json(&self, path: &str) -> Value {
        get_json(&self.client, &self.url(path)).await
    }

    /// `GET path` as JSON, or `None` where the request or the JSON fails (for polling).
    pub async fn try_get_json(&self, path: &str) -> Option<Value> {
        try_get_json(&self.client, &self.url(path)).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> reqwest::Response {
        let request = self.client.delete(self.url(path));
        self.send(request, &format!("DELETE {path}")).await
    }

    /// `POST path` without a body.
    pub async fn post(&self, path: &str) -> reqwest::Response {
        let request = self.client.post(self.url(path));
        self.send(request, &format!("POST {path}")).await
    }

    /// `POST path` with a raw body (line protocol for `/write`).
    pub async fn post_body(&self, path: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        let request = self.client.post(self.url(path)).body(body);
        self.send(request, &format!("POST {path}")).await
    }

    /// The `series` list of `GET /api/series`.
    pub async fn series(&self) -> Vec<Value> {
        let body = self.get_json("/api/series").await;
        body["series"].as_array().expect("series").clone()
    }

    /// The metric of every series `GET /api/series` lists, in its order.
    pub async fn series_metrics(&self) -> Vec<Value> {
        let series = self.series().await;
        series.iter().map(|s| s["metric"].clone()).collect()
    }

    /// Polls `/metrics` until chart `chart` has `count` viewers (panics with `what`
    /// after `deadline`).
    pub async fn wait_for_viewers(
        &self,
        chart: &str,
        count: usize,
        deadline: Duration,
        what: &str,
    ) {
        poll(deadline, what, || async {
            (viewers(&self.metrics().await, chart) == Some(count)).then_some(())
        })
        .await;
    }

    /// Writes `points` (`{"metric", "tags", "t", "v"}` objects) through `POST /api/points`,
    /// asserting they were stored (200).
    pub async fn write_points(&self, points: Vec<serde_json::Value>) {
        let response = self
            .post_points(serde_json::json!({ "points": points }))
            .await;
        assert_eq!(response.status(), 200, "POST /api/points");
    }

    /// `POST /api/points` with a JSON body; returns the status.
    pub async fn post_points(&self, body: serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/points"))
            .json(&body)
            .send()
            .await
            .expect("POST /api/points")
    }

    /// The `/metrics` text.
    pub async fn metrics(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics text")
    }

    /// Opens a chart stream and returns its part reader.
    pub async fn stream(&self, path: &str) -> MjpegReader {
        let response = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("GET stream");
        assert_eq!(response.status(), 200, "GET {path}");
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert_eq!(
            content_type,
            "multipart/x-mixed-replace; boundary=plotcastframe"
        );
        MjpegReader::new(response)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Polls `check` until it returns `Some` or `deadline` passes (then panics with `what`).
pub async fn poll<T, F, Fut>(deadline: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let end = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < end,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One part of a multipart stream.
#[derive(Debug, Clone)]
pub struct Part {
    /// Headers, lower-case names.
    pub headers: BTreeMap<String, String>,
    /// Body.
    pub body: Vec<u8>,
}

/// Reads parts from a `multipart/x-mixed-replace; boundary=plotcastframe` body,
/// checking the framing strictly: every part has a `Content-Length` and exactly that
/// many body bytes, followed by CRLF and the next boundary.
pub struct MjpegReader {
    stream: Pin<Box<dyn Stream<Item = Result<Bytes, String>> + Send>>,
    buffer: Vec<u8>,
    after_body: bool,
    /// Total bytes received.
    pub received: usize,
}

/// The status line and headers (lower-case names) of an HTTP response.
#[derive(Debug)]
pub struct ResponseHead {
    /// E.g. `HTTP/1.0 200 OK`.
    pub status_line: String,
    /// Header values by lower-case name (a repeated header: its last value).
    pub headers: BTreeMap<String, String>,
}

/// Connects to `addr`, sends `request` (a whole HTTP request head) and returns the reader
/// of the raw bytes of the connection, as a client that knows no transfer codings sees
/// them: nothing is de-chunked, the body ends when the server closes the connection.
pub async fn raw_connection(addr: SocketAddr, request: &str) -> MjpegReader {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send the request");
    let bytes = futures_util::stream::unfold(Some(stream), |stream| async move {
        let mut stream = stream?;
        let mut buffer = vec![0; 64 * 1024];
        match stream.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok(Bytes::from(buffer)), Some(stream)))
            }
            Err(e) => Some((Err(e.to_string()), None)),
        }
    });
    MjpegReader::from_stream(bytes)
}

impl MjpegReader {
    /// Wraps a streaming response.
    pub fn new(response: reqwest::Response) -> MjpegReader {
        MjpegReader::from_stream(
            response
                .bytes_stream()
                .map(|r| r.map_err(|e| e.to_string())),
        )
    }

    /// Reads the multipart body from `stream`.
    pub fn from_stream(
        stream: impl Stream<Item = Result<Bytes, String>> + Send + 'static,
    ) -> MjpegReader {
        MjpegReader {
            stream: Box::pin(stream),
            buffer: Vec::new(),
            after_body: false,
            received: 0,
        }
    }

    async fn fill(&mut self) -> Result<(), String> {
        match self.stream.next().await {
            Some(Ok(chunk)) => {
                self.received += chunk.len();
                self.buffer.extend_from_slice(&chunk);
                Ok(())
            }
            Some(Err(e)) => Err(format!("stream error: {e}")),
            None => Err("stream ended".into()),
        }
    }

    /// Reads exactly `n` bytes (e.g. a body of a known length on a [`raw_connection`]).
    pub async fn take_exact(&mut self, n: usize) -> Result<Vec<u8>, String> {
        while self.buffer.len() < n {
            self.fill().await?;
        }
        Ok(self.buffer.drain(..n).collect())
    }

    async fn take_line(&mut self) -> Result<String, String> {
        loop {
            if let Some(at) = self.buffer.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buffer.drain(..at + 2).collect();
                return String::from_utf8(line[..at].to_vec()).map_err(|e| e.to_string());
            }
            if self.buffer.len() > 64 * 1024 {
                return Err("no line end in 64 KiB".into());
            }
            self.fill().await?;
        }
    }

    /// Reads the boundary and header block of the next part (not its body).
    pub async fn next_headers(&mut self) -> Result<BTreeMap<String, String>, String> {
        if self.after_body {
            let crlf = self.take_exact(2).await?;
            if crlf != b"\r\n" {
                return Err(format!("expected CRLF after a part body, got {crlf:?}"));
            }
        }
        let boundary = self.take_line().await?;
        if boundary != "--plotcastframe" {
            return Err(format!("expected the boundary, got {boundary:?}"));
        }
        let headers = self.header_block().await?;
        self.after_body = false;
        Ok(headers)
    }

    /// Reads header lines up to the blank line that ends them.
    async fn header_block(&mut self) -> Result<BTreeMap<String, String>, String> {
        let mut headers = BTreeMap::new();
        loop {
            let line = self.take_line().await?;
            if line.is_empty() {
                return Ok(headers);
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| format!("bad header line {line:?}"))?;
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }

    /// Reads the head of the HTTP response on a [`raw_connection`]; the multipart body
    /// follows.
    pub async fn response_head(&mut self) -> Result<ResponseHead, String> {
        let status_line = self.take_line().await?;
        let headers = self.header_block().await?;
        Ok(ResponseHead {
            status_line,
            headers,
        })
    }

    /// Reads the body of a part whose headers were read.
    pub async fn body(&mut self, headers: &BTreeMap<String, String>) -> Result<Vec<u8>, String> {
        let length: usize = headers
            .get("content-length")
            .ok_or("part without Content-Length")?
            .parse()
            .map_err(|e| format!("Content-Length: {e}"))?;
        let body = self.take_exact(length).await?;
        self.after_body = true;
        Ok(body)
    }

    /// Reads the end of a body that closes: CRLF, the closing boundary, then EOF.
    pub async fn expect_end(&mut self) -> Result<(), String> {
        let tail = self.take_exact(21).await?;
        if tail != b"\r\n--plotcastframe--\r\n" {
            return Err(format!(
                "expected the closing boundary, got {:?}",
                String::from_utf8_lossy(&tail)
            ));
        }
        match self.fill().await {
            Err(e) if e == "stream ended" => Ok(()),
            Err(e) => Err(e),
            Ok(()) => Err(format!(
                "data after the closing boundary: {} bytes",
                self.buffer.len()
            )),
        }
    }

    /// Reads one whole part.
    pub async fn next_part(&mut self) -> Result<Part, String> {
        let headers = self.next_headers().await?;
        let body = self.body(&headers).await?;
        Ok(Part { headers, body })
    }

    /// Reads one whole part, panicking when it is malformed or `deadline` passes first.
    pub async fn next_part_within(&mut self, deadline: Duration) -> Part {
        within(deadline, "next part", self.next_part())
            .await
            .expect("a well-formed part")
    }
}

impl Part {
    /// The body decoded as a JPEG.
    pub fn jpeg(&self) -> Image {
        Image::from_jpeg(&self.body)
    }
}

/// Runs `future` with a deadline, panicking with `what` when it passes.
pub async fn within<T>(deadline: Duration, what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(deadline, future)
        .await
        .unwrap_or_else(|_| panic!("timed out after {deadline:?}: {what}"))
}

/// A decoded RGB image.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// Width.
    pub width: usize,
    /// Height.
    pub height: usize,
    /// RGB bytes.
    pub rgb: Vec<u8>,
}

impl Image {
    /// Decodes a JPEG.
    pub fn from_jpeg(bytes: &[u8]) -> Image {
        let mut decoder = jpeg_decoder::Decoder::new(bytes);
        let pixels = decoder.decode().expect("a decodable JPEG");
        let info = decoder.info().expect("JPEG info");
        assert_eq!(info.pixel_format, jpeg_decoder::PixelFormat::RGB24);
        Image {
            width: usize::from(info.width),
            height: usize::from(info.height),
            rgb: pixels,
        }
    }

    /// Decodes a PNG (RGB or RGBA).
    pub fn from_png(bytes: &[u8]) -> Image {
        let decoder = png::Decoder::new(bytes);
        let mut reader = decoder.read_info().expect("PNG header");
        let mut buffer = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buffer).expect("PNG frame");
        let channels = info.color_type.samples();
        let rgb = buffer[..info.buffer_size()]
            .chunks_exact(channels)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        Image {
            width: info.width as usize,
            height: info.height as usize,
            rgb,
        }
    }

    /// Pixels in columns `x` and rows `y` matching `pred`.
    pub fn count(
        &self,
        x: std::ops::Range<usize>,
        y: std::ops::Range<usize>,
        pred: impl Fn([u8; 3]) -> bool,
    ) -> usize {
        self.rgb
            .chunks_exact(3)
            .enumerate()
            .filter(|(i, p)| {
                x.contains(&(i % self.width))
                    && y.contains(&(i / self.width))
                    && pred([p[0], p[1], p[2]])
            })
            .count()
    }
}

/// Strongly red pixels (the test series colour `#ff0000`, allowing for JPEG).
pub fn red(p: [u8; 3]) -> bool {
    p[0] > 180 && p[1] < 90 && p[2] < 90
}

/// `GET url`, its body as JSON (whatever the status).
pub async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    client
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("JSON from {url}: {e}"))
}

/// Sends `request` (`what` names it in failures) and checks that it is answered 200.
pub async fn send_ok(request: reqwest::RequestBuilder, what: &str) -> reqwest::Response {
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(response.status(), 200, "{what}");
    response
}

/// `GET url` as JSON, or `None` where the request or the JSON fails (for polling).
pub async fn try_get_json(client: &reqwest::Client, url: &str) -> Option<Value> {
    client.get(url).send().await.ok()?.json().await.ok()
}

/// The status of `response` and its body, which must be JSON (an error body).
pub async fn status_and_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON error body"))
}

/// The `error` message of a JSON error body (`""` where it has none).
pub fn error_message(body: &Value) -> &str {
    body["error"].as_str().unwrap_or_default()
}

/// Checks that `response` refuses a viewer over a limit: a 503 to retry in 5 s whose
/// body names `limit`, the option that sets it.
pub async fn assert_over_limit(response: reqwest::Response, limit: &str) {
    assert_eq!(header(&response, "retry-after"), Some("5"));
    let (status, body) = status_and_json(response).await;
    assert_eq!(
        (status, body["limit"].as_str()),
        (503, Some(limit)),
        "{body}"
    );
}

/// The value of header `name` of `response`, if it is there and is text.
pub fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The value of the series `series` (name and labels, e.g.
/// `plotcast_viewers{chart="a"}`) in a `/metrics` text.
pub fn metric_value<T: FromStr>(metrics: &str, series: &str) -> Option<T> {
    metrics.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

/// The `plotcast_frames_rendered_total` counter of chart `chart` in a `/metrics` text
/// (0 if absent).
pub fn frames_rendered(metrics: &str, chart: &str) -> u64 {
    let series = format!("plotcast_frames_rendered_total{{chart=\"{chart}\"}}");
    metric_value(metrics, &series).unwrap_or(0)
}

/// A viewer that reads its stream as fast as it can in a task of its own, counting the
/// parts it receives and the distinct pictures among them (one per fresh frame,
/// whatever the keepalive repeats); stopped when dropped.
pub struct CountingViewer {
    parts: Arc<AtomicUsize>,
    pictures: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl CountingViewer {
    /// Starts reading `reader`.
    pub fn start(mut reader: MjpegReader) -> CountingViewer {
        let (parts, pictures) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (part_count, picture_count) = (parts.clone(), pictures.clone());
        let task = tokio::spawn(async move {
            let mut last: Option<Image> = None;
            while let Ok(part) = reader.next_part().await {
                part_count.fetch_add(1, Ordering::AcqRel);
                let picture = part.jpeg();
                if last.as_ref() != Some(&picture) {
                    picture_count.fetch_add(1, Ordering::AcqRel);
                    last = Some(picture);
                }
            }
        });
        CountingViewer {
            parts,
            pictures,
            task,
        }
    }

    /// Parts received so far (fresh frames and repeats).
    pub fn parts(&self) -> usize {
        self.parts.load(Ordering::Acquire)
    }

    /// Distinct pictures seen so far.
    pub fn pictures(&self) -> usize {
        self.pictures.load(Ordering::Acquire)
    }

    /// Whether the stream is still open.
    pub fn connected(&self) -> bool {
        !self.task.is_finished()
    }
}

impl Drop for CountingViewer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The `plotcast_viewers` gauge of chart `chart` in a `/metrics` text.
pub fn viewers(metrics: &str, chart: &str) -> Option<usize> {
    metric_value(metrics, &format!("plotcast_viewers{{chart=\"{chart}\"}}"))
}

/// Writes a new self-signed certificate for `127.0.0.1` and `localhost` and its key
/// (made with rcgen) as PEM files `cert.pem` and `key.pem` into `dir` (created);
/// returns their paths.
pub fn self_signed_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let names = vec!["127.0.0.1".to_string(), "localhost".to_string()];
    let certified = rcgen::generate_simple_self_signed(names).expect("a self-signed certificate");
    std::fs::create_dir_all(dir).expect("the certificate directory");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).expect("writing cert.pem");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("writing key.pem");
    (cert, key)
}

/// The head of a minimal HTTP/1.1 `GET path` request, for raw connections.
pub fn get_request(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n")
}

/// Connects a viewer of `path` with a 4 KiB receive buffer that sends its request and
/// then is never read from: once the socket buffers fill, the server's writes stall.
pub async fn stalled_viewer(addr: SocketAddr, path: &str) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .set_recv_buffer_size(4096)
        .expect("small receive buffer");
    let mut stream = socket.connect(addr).await.expect("connect");
    let request = get_request(path);
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send request");
    stream
}

/// Sends `GET path` on the raw connection `stream` and returns what one read gets within
/// `deadline` (the response head and maybe the start of the body), as text.
pub async fn raw_get(stream: &mut tokio::net::TcpStream, path: &str, deadline: Duration) -> String {
    let request = get_request(path);
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut buffer = vec![0; 4096];
    let n = within(deadline, "a response", stream.read(&mut buffer))
        .await
        .expect("read");
    String::from_utf8_lossy(&buffer[..n]).into_owned()
}

/// The directory of this build profile (`target/debug`): the test binary is
/// `target/<profile dir>/deps/e2e-HASH`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target profile directory")
        .to_path_buf()
}

/// The Python of the OpenCV environment `cargo xtask test` installs
/// (`target/tools/opencv`, see `xtask/src/opencv.rs`).
pub fn opencv_python() -> PathBuf {
    let target = profile_dir()
        .parent()
        .expect("target directory")
        .to_path_buf();
    target
        .join("tools")
        .join("opencv")
        .join("bin")
        .join("python")
}

/// The `plotcast` binary of this build profile, built if needed (blocking: see
/// [`built_plotcast`]).
pub fn plotcast_binary() -> PathBuf {
    let profile_dir = profile_dir();
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev".to_string(),
        Some(other) => other.to_string(),
    };
    let status = std::process::Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--package",
            "server",
            "--bin",
            "plotcast",
            "--profile",
            &profile,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo build runs");
    assert!(status.success(), "building plotcast failed");
    profile_dir.join("plotcast")
}

/// [`plotcast_binary`] on a blocking thread.
pub async fn built_plotcast() -> PathBuf {
    tokio::task::spawn_blocking(plotcast_binary)
        .await
        .expect("build task")
}

/// Starts `plotcast serve` on a free port with data directory `dir`, extra flags `args`
/// and environment `envs`; returns the child (killed on drop) and its base URL.
pub async fn spawn_plotcast(
    binary: &Path,
    dir: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(binary)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--demo",
            "false",
            "--data-dir",
        ])
        .arg(dir)
        .args(args)
        .envs(envs.iter().copied())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("plotcast starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let first = within(
        Duration::from_secs(30),
        "the serving line",
        lines.next_line(),
    )
    .await;
    let first = first.expect("reading stdout").expect("a first line");
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .map(|u| u.trim_end_matches('/').to_string())
        .unwrap_or_else(|| panic!("no URL in {first:?}"));
    // Keep reading stdout so the server never writes into a closed pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

/// The URL `plotcast sign ARGS` prints with `token` as the secret (no server needed),
/// for the image `extension` (`jpg`, `png`) instead of the stream.
pub async fn cli_signed_url(args: &[&str], token: &str, extension: &str) -> String {
    let output = tokio::process::Command::new(built_plotcast().await)
        .arg("sign")
        .args(args)
        .env("PLOTCAST_TOKEN", token)
        .output()
        .await
        .expect("plotcast sign runs");
    assert!(output.status.success(), "{output:?}");
    let url = String::from_utf8(output.stdout).expect("utf-8");
    url.trim().replace(".mjpg?", &format!(".{extension}?"))
}
