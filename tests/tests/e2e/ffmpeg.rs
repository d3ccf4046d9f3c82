//! ffmpeg, a strict client, reads frames from the stream: with its multipart demuxer
//! (`mpjpeg`, which reads each part by its `Content-Length`) and its raw `mjpeg` one.

use std::process::Stdio;
use std::time::Duration;

use tests::{within, Image, TestServer};

use crate::temp_chart;

async fn ffmpeg_reads_three_frames(format: &str) {
    let server = TestServer::start_fresh(|_| {}).await;
    server
        .create_chart("temp", &temp_chart("timeseries", "10s"))
        .await;
    let out = tempfile::tempdir().expect("temp dir");
    let pattern = out.path().join("frame%d.jpg");
    let child = tokio::process::Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-f", format, "-i"])
        .arg(server.url("/charts/temp.mjpg"))
        .args(["-frames:v", "3"])
        .arg(&pattern)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("ffmpeg runs (install it: apt-get install ffmpeg)");
    let output = within(Duration::from_secs(60), "ffmpeg", child.wait_with_output())
        .await
        .expect("ffmpeg output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "ffmpeg -f {format} failed: {stderr}"
    );
    for i in 1..=3 {
        let bytes = std::fs::read(out.path().join(format!("frame{i}.jpg"))).expect("a frame file");
        let image = Image::from_jpeg(&bytes);
        assert_eq!((image.width, image.height), (400, 300), "frame {i}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ffmpeg_multipart_demuxer_reads_frames() {
    ffmpeg_reads_three_frames("mpjpeg").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ffmpeg_mjpeg_demuxer_reads_frames() {
    ffmpeg_reads_three_frames("mjpeg").await;
}
