//! ffmpeg, a strict client, reads frames from the close-delimited stream and sees a data
//! change: with its multipart demuxer (`mpjpeg`, which reads each part by its
//! `Content-Length`), its raw `mjpeg` one, and with no format given, as OpenCV's
//! `VideoCapture(url)` opens it (its FFmpeg backend lets libavformat probe the format).

use tests::{Image, TestServer};

use crate::strict_clients::{frames_across_a_change, short_bar_server};

/// ffmpeg with `format` (`-f format`, or none: probed) writes 4 frames of the stream of
/// `server` (made by `short_bar_server`), then stops the server.
pub async fn ffmpeg_reads_four_frames(server: TestServer, format: Option<&str>) {
    let out = tempfile::tempdir().expect("temp dir");
    let mut ffmpeg = tokio::process::Command::new("ffmpeg");
    ffmpeg.args(["-nostdin", "-loglevel", "error"]);
    if server.scheme == "https" {
        // The HTTPS tests' certificate is self-signed (0 is also ffmpeg's default).
        ffmpeg.args(["-tls_verify", "0"]);
    }
    if let Some(format) = format {
        ffmpeg.args(["-f", format]);
    }
    ffmpeg
        .arg("-i")
        .arg(server.url("/charts/bar.mjpg"))
        .args(["-frames:v", "4"])
        .arg(out.path().join("frame%03d.jpg"));
    let what = format!("ffmpeg -f {format:?} (install it: apt-get install ffmpeg)");
    frames_across_a_change(&server, ffmpeg, &what, out.path(), 4, Image::from_jpeg).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ffmpeg_multipart_demuxer_reads_frames() {
    ffmpeg_reads_four_frames(short_bar_server().await, Some("mpjpeg")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ffmpeg_mjpeg_demuxer_reads_frames() {
    ffmpeg_reads_four_frames(short_bar_server().await, Some("mjpeg")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ffmpeg_probing_the_format_reads_frames_as_opencv_does() {
    ffmpeg_reads_four_frames(short_bar_server().await, None).await;
}
