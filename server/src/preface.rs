//! Which HTTP a connection speaks: HTTP/2 if it opens with the HTTP/2 connection
//! preface (RFC 9113 §3.4; over TLS after ALPN `h2`, over plain TCP as h2c with prior
//! knowledge), else HTTP/1.x. The bytes read to tell are given back to the protocol
//! through [`Rewind`].

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

/// What every HTTP/2 client sends first.
const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The protocol a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.0 or HTTP/1.1.
    Http1,
    /// HTTP/2.
    Http2,
}

/// Reads until the first bytes match the preface or cannot (one byte is enough for an
/// HTTP/1.x request line), and returns the protocol and the connection with those
/// bytes put back. A connection that closes first is HTTP/1 (hyper then sees the end).
pub async fn detect<I: AsyncRead + Unpin>(mut io: I) -> io::Result<(Protocol, Rewind<I>)> {
    let mut read = [0u8; PREFACE.len()];
    let mut filled = 0;
    let protocol = loop {
        if read[..filled] != PREFACE[..filled] {
            break Protocol::Http1;
        }
        if filled == PREFACE.len() {
            break Protocol::Http2;
        }
        let n = io.read(&mut read[filled..]).await?;
        if n == 0 {
            break Protocol::Http1;
        }
        filled += n;
    };
    let rewind = Rewind {
        prefix: read[..filled].to_vec(),
        taken: 0,
        error: None,
        inner: io,
    };
    Ok((protocol, rewind))
}

/// A connection whose first reads return `prefix` again.
pub struct Rewind<I> {
    prefix: Vec<u8>,
    taken: usize,
    /// A read error met right after giving back the last of `prefix`.
    error: Option<io::Error>,
    inner: I,
}

impl<I: AsyncRead + Unpin> AsyncRead for Rewind<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(error) = self.error.take() {
            return Poll::Ready(Err(error));
        }
        let rest = &self.prefix[self.taken..];
        if rest.is_empty() {
            return Pin::new(&mut self.inner).poll_read(cx, buf);
        }
        let n = rest.len().min(buf.remaining());
        buf.put_slice(&rest[..n]);
        self.taken += n;
        // And what the connection already has, in the same read: hyper keeps room for
        // a whole read after what it holds, so a first read of only the prefix would
        // double every HTTP/1 connection's read buffer (8 KiB → 16 KiB).
        if self.taken == self.prefix.len() && buf.remaining() > 0 {
            if let Poll::Ready(Err(error)) = Pin::new(&mut self.inner).poll_read(cx, buf) {
                // The prefix is read now; the error is the next read's answer.
                self.error = Some(error);
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Rewind<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    async fn detected(sent: &[u8]) -> (Protocol, Vec<u8>) {
        let (mut client, server) = tokio::io::duplex(64);
        client.write_all(sent).await.expect("the pipe takes it");
        drop(client);
        let (protocol, mut rewind) = detect(server).await.expect("reading a pipe");
        let mut again = Vec::new();
        rewind
            .read_to_end(&mut again)
            .await
            .expect("reading a pipe");
        (protocol, again)
    }

    #[tokio::test]
    async fn the_preface_is_http2_and_every_byte_is_given_back() {
        let sent = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04";
        assert_eq!(detected(sent).await, (Protocol::Http2, sent.to_vec()));
    }

    #[tokio::test]
    async fn the_first_read_gives_the_prefix_and_what_already_followed_it() {
        let get = b"GET /charts/cpu.mjpg HTTP/1.1\r\nhost: plotcast\r\n\r\n";
        let (mut client, server) = tokio::io::duplex(256);
        client.write_all(get).await.expect("the pipe takes it");
        let (protocol, mut rewind) = detect(server).await.expect("reading a pipe");
        assert_eq!(protocol, Protocol::Http1);
        let mut first = vec![0u8; 8192];
        let n = rewind.read(&mut first).await.expect("reading a pipe");
        assert_eq!(&first[..n], get.as_slice());
    }

    #[tokio::test]
    async fn a_request_line_or_a_short_close_is_http1() {
        let get = b"GET / HTTP/1.1\r\n\r\n";
        assert_eq!(detected(get).await, (Protocol::Http1, get.to_vec()));
        assert_eq!(
            detected(b"PRI * HT").await,
            (Protocol::Http1, b"PRI * HT".to_vec())
        );
        assert_eq!(detected(b"PRX").await, (Protocol::Http1, b"PRX".to_vec()));
    }
}
