//! The TCP listener the server accepts on: every connection gets a write timeout, so a
//! viewer that cannot take data for that long is dropped (hyper only notices a gone
//! client on a failed write), and `TCP_NODELAY`, so frames are not held back. It also
//! caps open connections per client IP: a connection beyond the cap is answered with
//! a `429` JSON error naming `max_connections_per_ip` and closed at once (on a TLS port
//! only closed: a TLS client would read the plain answer as garbage, and a handshake
//! per refusal is what a flood wants).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_io_timeout::TimeoutStream;

use crate::metrics::Metrics;

/// Open connections per client IP.
type Table = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// A `TcpListener` whose connections time out on stalled writes and are capped per IP.
pub struct LimitedListener {
    inner: TcpListener,
    write_timeout: Duration,
    max_per_ip: usize,
    /// Refusals are answered with the plain-HTTP 429 (not on a TLS port).
    answer_refusals: bool,
    open: Table,
    metrics: Arc<Metrics>,
}

impl LimitedListener {
    /// Wraps `inner`; `tls`: the port speaks TLS.
    pub fn new(
        inner: TcpListener,
        write_timeout: Duration,
        max_per_ip: usize,
        tls: bool,
        metrics: Arc<Metrics>,
    ) -> LimitedListener {
        LimitedListener {
            inner,
            write_timeout,
            max_per_ip,
            answer_refusals: !tls,
            open: Arc::default(),
            metrics,
        }
    }

    /// The next admitted connection (accept errors such as "too many open files" are
    /// logged and retried after a short pause).
    pub async fn accept(&mut self) -> (Connection, SocketAddr) {
        loop {
            let (stream, addr) = match self.inner.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Some(slot) = self.take_slot(addr.ip()) else {
                self.metrics
                    .connections_refused
                    .fetch_add(1, Ordering::Relaxed);
                tracing::debug!(client = %addr.ip(), "connection refused by max_connections_per_ip");
                if self.answer_refusals {
                    refuse(&stream, self.max_per_ip);
                }
                continue;
            };
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "setting TCP_NODELAY failed");
            }
            let mut stream = TimeoutStream::new(stream);
            stream.set_write_timeout(Some(self.write_timeout));
            let connection = Connection {
                io: Box::pin(stream),
                _slot: slot,
            };
            return (connection, addr);
        }
    }

    /// The counters connections are reported in.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    fn take_slot(&self, ip: IpAddr) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(ip).or_insert(0);
        if *count >= self.max_per_ip {
            return None;
        }
        *count += 1;
        Some(Slot {
            ip,
            table: self.open.clone(),
        })
    }
}

/// Best effort, never blocking: a 429 response, then the connection is dropped.
fn refuse(stream: &TcpStream, limit: usize) {
    let body = format!(
        "{{\"error\":\"too many open connections from your address (at most {limit}, max_connections_per_ip)\",\"details\":[],\"limit\":\"max_connections_per_ip\"}}"
    );
    let response = format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.try_write(response.as_bytes());
}

/// A connection's place in the per-IP count; released on drop.
struct Slot {
    ip: IpAddr,
    table: Table,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// An admitted connection: the TCP stream with its write timeout, holding its slot.
pub struct Connection {
    io: Pin<Box<TimeoutStream<TcpStream>>>,
    _slot: Slot,
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.io.as_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io.as_mut().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io.as_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.as_mut().poll_shutdown(cx)
    }
}
