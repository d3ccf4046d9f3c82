//! The TCP listener the server accepts on: every connection gets a write timeout, so a
//! viewer that cannot take data for that long is dropped (hyper only notices a gone
//! client on a failed write), and `TCP_NODELAY`, so frames are not held back.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_io_timeout::TimeoutStream;

/// A `TcpListener` whose connections time out on stalled writes.
pub struct TimeoutListener {
    inner: TcpListener,
    write_timeout: Duration,
}

impl TimeoutListener {
    /// Wraps `inner`.
    pub fn new(inner: TcpListener, write_timeout: Duration) -> TimeoutListener {
        TimeoutListener {
            inner,
            write_timeout,
        }
    }
}

impl axum::serve::Listener for TimeoutListener {
    type Io = Pin<Box<TimeoutStream<TcpStream>>>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "setting TCP_NODELAY failed");
        }
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(self.write_timeout));
        (Box::pin(stream), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}
