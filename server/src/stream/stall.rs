//! An HTTP/2 viewer's stall check. Over HTTP/1.1 a viewer that takes no data stalls
//! its TCP connection, and the listener's write timeout drops it. Over HTTP/2 a stream
//! that the client gives no flow-control window stalls alone: hyper stops polling its
//! body (so nothing is queued for it beyond one chunk) while the connection and its
//! other streams go on, and no write ever times out. So the body is produced by a task
//! that hands each chunk over a one-chunk channel and gives up, dropping the viewer
//! (its subscription: a viewer slot, counted in `plotcast_viewers_disconnected_total`),
//! when a chunk waits longer than the write timeout.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;

/// `body`, ended when the client takes none of it for `timeout`.
pub fn guarded(
    body: impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static,
    timeout: Duration,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        let mut body = std::pin::pin!(body);
        loop {
            let chunk = tokio::select! {
                chunk = body.next() => chunk,
                () = tx.closed() => return,
            };
            let Some(chunk) = chunk else { return };
            match tokio::time::timeout(timeout, tx.send(chunk)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return,
                Err(_) => {
                    tracing::debug!(
                        ?timeout,
                        "an HTTP/2 viewer took no data for the write timeout; dropped"
                    );
                    return;
                }
            }
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move {
        let chunk = rx.recv().await?;
        Some((chunk, rx))
    })
}
