//! Shared helpers of plotcast's end-to-end tests (the tests live in `tests/tests/`):
//! a real server on `127.0.0.1:0`, an MJPEG part reader over a real HTTP response, JPEG
//! and pixel helpers, and polling with a deadline (never sleeps as synchronisation).

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use server::{Config, ServeError};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server running in this process.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// An HTTP client.
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ServeError>>>,
}

/// Defaults for tests: no demo, the given data directory.
pub fn config(dir: &std::path::Path) -> Config {
    Config::for_data_dir(dir)
}

impl TestServer {
    /// Starts a server with `config` on a free loopback port.
    pub async fn start(config: Config) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server::run(listener, config, async move {
            let _ = rx.await;
        }));
        let server = TestServer {
            addr,
            client: reqwest::Client::new(),
            shutdown: Some(tx),
            task: Some(task),
        };
        // The listener is bound, so requests queue until the server accepts them.
        let health = server
            .client
            .get(server.url("/healthz"))
            .send()
            .await
            .expect("GET /healthz");
        assert_eq!(health.status(), 200);
        server
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
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
    stream: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    buffer: Vec<u8>,
    after_body: bool,
    /// Total bytes received.
    pub received: usize,
}

impl MjpegReader {
    /// Wraps a streaming response.
    pub fn new(response: reqwest::Response) -> MjpegReader {
        MjpegReader {
            stream: Box::pin(response.bytes_stream()),
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

    async fn take_exact(&mut self, n: usize) -> Result<Vec<u8>, String> {
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
        let mut headers = BTreeMap::new();
        loop {
            let line = self.take_line().await?;
            if line.is_empty() {
                break;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| format!("bad header line {line:?}"))?;
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
        self.after_body = false;
        Ok(headers)
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
