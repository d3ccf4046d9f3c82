//! Clients that do not de-chunk read the stream: it is close-delimited (no
//! `Transfer-Encoding`, `Connection: close`, the body ends where the server closes the
//! connection), read here by a raw-socket client that knows no transfer codings and by
//! GStreamer (`souphttpsrc ! multipartdemux ! jpegdec`) and OpenCV
//! (`cv2.VideoCapture`), each seeing a data change;
//! other responses keep HTTP/1.1 keep-alive. [`frames_across_a_change`] runs the
//! external clients (ffmpeg's too, in `ffmpeg.rs`).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tests::{
    get_request, metric_value, now_ms, opencv_python, poll, raw_connection, red, within, Image,
    MjpegReader, TestServer,
};

use crate::temp_chart;

const DEADLINE: Duration = Duration::from_secs(30);

/// A server whose chart `bar` (a bar chart of `temp`: no time axis, so frames come on a
/// data change and as keepalive every 500 ms) shows a short bar.
pub async fn short_bar_server() -> TestServer {
    with_short_bar(TestServer::start_fresh(short_keepalive).await).await
}

/// [`short_bar_server`] over HTTPS (a self-signed certificate).
pub async fn short_bar_server_tls() -> TestServer {
    with_short_bar(TestServer::start_fresh_tls(short_keepalive).await).await
}

pub fn short_keepalive(config: &mut server::Config) {
    config.keepalive = Duration::from_millis(500);
}

/// Publishes chart `bar` on `server` with a short bar.
pub async fn with_short_bar(server: TestServer) -> TestServer {
    server.create_chart("bar", &temp_chart("bar", "1m")).await;
    set_temp(&server, 10.0).await;
    server
}

/// Writes `temp = value` now.
pub async fn set_temp(server: &TestServer, value: f64) {
    let point = json!({"points": [{"metric": "temp", "t": now_ms(), "v": value}]});
    assert_eq!(server.post_points(point).await.status(), 200);
}

/// Raises the bar and reads `reader`'s next parts (at most 40, each within the
/// deadline) until one shows it; whether one did.
pub async fn raise_the_bar_and_see_it(server: &TestServer, reader: &mut MjpegReader) -> bool {
    set_temp(server, 90.0).await;
    for _ in 0..40 {
        if tall_bar(&reader.next_part_within(DEADLINE).await.jpeg()) {
            return true;
        }
    }
    false
}

/// Whether `image` (a frame of `bar`) shows the tall bar of `temp = 90`, red high up.
pub fn tall_bar(image: &Image) -> bool {
    image.count(0..400, 0..120, red) > 100
}

/// Once the stream of `bar` has a viewer and its first frame (the short bar) is
/// rendered, raises the bar.
async fn raise_the_bar_for_the_viewer(server: &TestServer, what: &str) {
    server.wait_for_viewers("bar", 1, DEADLINE, what).await;
    let rendered = "plotcast_frames_rendered_total{chart=\"bar\"}";
    poll(DEADLINE, "the first frame rendered", || async {
        (metric_value::<u64>(&server.metrics().await, rendered)? > 0).then_some(())
    })
    .await;
    set_temp(server, 90.0).await;
}

/// Runs `client`, an external program that reads the stream of `bar` on `server`
/// (made by [`short_bar_server`]) and writes `count` frames into `dir` under names in
/// frame order, then exits; raises the bar while it reads. Asserts that every frame,
/// decoded by `decode`, is a whole 400×300 picture, and that the first shows the short
/// bar and the last the tall one.
pub async fn frames_across_a_change(
    server: &TestServer,
    mut client: tokio::process::Command,
    what: &str,
    dir: &Path,
    count: usize,
    decode: fn(&[u8]) -> Image,
) {
    let child = client
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{what} runs: {e}"));
    raise_the_bar_for_the_viewer(server, what).await;
    let output = within(Duration::from_secs(60), what, child.wait_with_output())
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{what} failed: {stderr}");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("the frame directory")
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    files.sort();
    assert_eq!(files.len(), count, "{what} wrote {files:?}");
    let frames: Vec<Image> = files
        .iter()
        .map(|file| decode(&std::fs::read(file).expect("a frame file")))
        .collect();
    for (i, frame) in frames.iter().enumerate() {
        assert_eq!((frame.width, frame.height), (400, 300), "{what}: frame {i}");
    }
    assert!(!tall_bar(&frames[0]), "{what}: the first frame, short bar");
    assert!(
        frames.last().is_some_and(tall_bar),
        "{what}: the last frame shows the data change"
    );
}

/// A client that speaks HTTP/1.1 but knows no transfer codings reads the stream from
/// the raw bytes of its connection, on a connection where an earlier response was kept
/// alive; the body ends with the closing boundary when the server closes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_dechunk_reads_the_stream() {
    let server = short_bar_server().await;
    let pipelined = get_request("/healthz") + &get_request("/charts/bar.mjpg");
    let mut reader = raw_connection(server.addr, &pipelined).await;

    let health = within(DEADLINE, "the /healthz head", reader.response_head())
        .await
        .expect("a response head");
    assert_eq!(health.status_line, "HTTP/1.1 200 OK");
    assert_eq!(health.headers.get("connection"), None, "{health:?}");
    let length = health.headers["content-length"].parse().expect("a length");
    within(DEADLINE, "the /healthz body", reader.take_exact(length))
        .await
        .expect("the body");

    let head = within(DEADLINE, "the stream head", reader.response_head())
        .await
        .expect("a response head");
    assert_eq!(head.status_line, "HTTP/1.0 200 OK", "{head:?}");
    assert_eq!(head.headers.get("transfer-encoding"), None, "{head:?}");
    assert_eq!(head.headers.get("content-length"), None, "{head:?}");
    assert_eq!(
        head.headers.get("connection").map(String::as_str),
        Some("close")
    );
    assert_eq!(
        head.headers.get("content-type").map(String::as_str),
        Some("multipart/x-mixed-replace; boundary=plotcastframe")
    );

    let first = reader.next_part_within(DEADLINE).await.jpeg();
    assert_eq!((first.width, first.height), (400, 300));
    assert!(!tall_bar(&first), "the first frame shows the short bar");
    assert!(
        raise_the_bar_and_see_it(&server, &mut reader).await,
        "a frame shows the data change"
    );

    // Shutdown ends the stream: the rest of the padded part, the closing boundary, then
    // the server closes the connection (the end of a close-delimited body).
    let headers = within(DEADLINE, "the advance header", reader.next_headers())
        .await
        .expect("headers");
    let stop = tokio::spawn(server.stop());
    within(DEADLINE, "the last part", reader.body(&headers))
        .await
        .expect("the last part");
    within(DEADLINE, "the end", reader.expect_end())
        .await
        .expect("the closing boundary, then the connection closed");
    stop.await.expect("the server stopped");
}

/// GStreamer's `souphttpsrc ! multipartdemux ! jpegdec` on `server`'s stream of `bar`
/// (certificate not checked: `ssl-strict=false`), writing 4 frames as PNG into `dir`.
fn gstreamer_decoder(server: &TestServer, dir: &Path) -> tokio::process::Command {
    let location = format!("location={}", server.url("/charts/bar.mjpg"));
    let frames = format!("location={}", dir.join("frame%03d.png").display());
    let mut gst = tokio::process::Command::new("gst-launch-1.0");
    gst.arg("-q")
        .args([
            "souphttpsrc",
            &location,
            "ssl-strict=false",
            "!",
            "multipartdemux",
            "!",
            "jpegdec",
        ])
        // identity ends the stream in place of buffer 5 (after 4 frames).
        .args(["!", "identity", "eos-after=5", "!", "videoconvert"])
        .args(["!", "video/x-raw,format=RGB", "!", "pngenc"])
        .args(["!", "multifilesink", &frames]);
    gst
}

/// What a missing GStreamer needs.
const GSTREAMER: &str =
    "gst-launch-1.0 (apt-get install gstreamer1.0-tools gstreamer1.0-plugins-good)";

/// GStreamer writes 4 frames of the stream of `server` (made by `short_bar_server`),
/// then the server stops.
pub async fn gstreamer_reads_four_frames(server: TestServer) {
    let out = tempfile::tempdir().expect("temp dir");
    let gst = gstreamer_decoder(&server, out.path());
    frames_across_a_change(&server, gst, GSTREAMER, out.path(), 4, Image::from_png).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gstreamer_decodes_frames() {
    gstreamer_reads_four_frames(short_bar_server().await).await;
}

/// Reads `argv[3]` frames of the stream at `argv[1]` with OpenCV and writes them as
/// `frame000.png`, ... into `argv[2]`.
const OPENCV_READER: &str = r#"
import sys, cv2
url, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG)
if not capture.isOpened():
    sys.exit("cannot open " + url)
for i in range(count):
    ok, frame = capture.read()
    if not ok:
        sys.exit(f"frame {i}: read failed")
    cv2.imwrite(f"{out}/frame{i:03}.png", frame)
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opencv_decodes_frames() {
    let server = short_bar_server().await;
    let out = tempfile::tempdir().expect("temp dir");
    let mut opencv = tokio::process::Command::new(opencv_python());
    opencv
        .args(["-c", OPENCV_READER, &server.url("/charts/bar.mjpg")])
        .arg(out.path())
        .arg("4");
    let what = "OpenCV (cargo xtask test installs it into target/tools/opencv)";
    frames_across_a_change(&server, opencv, what, out.path(), 4, Image::from_png).await;
    server.stop().await;
}
