//! One MJPEG viewer kept open in the background: when each frame arrived, for the
//! phases that watch a single chart (frame times, restart to first frame).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::mjpeg::StreamParser;
use crate::viewers;

/// An open stream and its reader task.
pub struct Watcher {
    frames: mpsc::UnboundedReceiver<Instant>,
    stop: watch::Sender<bool>,
    reader: JoinHandle<Result<(), String>>,
}

impl Watcher {
    /// Connects to `path` on `addr` (from 127.0.0.1) and starts reading.
    pub async fn open(addr: SocketAddr, path: &str) -> Result<Watcher> {
        let stream = viewers::connect(addr, IpAddr::V4(Ipv4Addr::LOCALHOST), path)
            .await
            .map_err(|e| anyhow!("{path}: {e}"))?;
        let (stop, stop_rx) = watch::channel(false);
        let (tx, frames) = mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            let mut parser = StreamParser::new(false);
            let mut on_frame = |_: &[u8]| {
                let _ = tx.send(Instant::now());
            };
            viewers::read_stream(&stream, &mut parser, stop_rx, &mut on_frame).await
        });
        Ok(Watcher {
            frames,
            stop,
            reader,
        })
    }

    /// When the next frame arrived; fails if the stream ended or `limit` passed first.
    pub async fn next_frame(&mut self, limit: Duration) -> Result<Instant> {
        match tokio::time::timeout(limit, self.frames.recv()).await {
            Ok(Some(at)) => Ok(at),
            Ok(None) => bail!("the stream ended (`close` tells why)"),
            Err(_) => bail!("no frame within {limit:?}"),
        }
    }

    /// Frames that arrived and were not taken yet.
    pub fn drain(&mut self) -> usize {
        let mut n = 0;
        while self.frames.try_recv().is_ok() {
            n += 1;
        }
        n
    }

    /// Closes the stream.
    pub async fn close(self) -> Result<()> {
        let _ = self.stop.send(true);
        match self.reader.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => bail!("viewer: {error}"),
            Err(error) => bail!("viewer task: {error}"),
        }
    }
}
