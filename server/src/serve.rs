//! The HTTP/1.1 connection loop (instead of `axum::serve`, which gives hyper no timer
//! and so no header read timeout): accepts from a [`LimitedListener`], serves each
//! connection with hyper's `header_read_timeout` (a client that does not finish a
//! request's headers in time is disconnected: slowloris) and a cap on the size of a
//! request's headers, and shuts down gracefully.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::watch;

use crate::listener::LimitedListener;

/// What hyper enforces on each request of a connection.
#[derive(Clone, Copy)]
pub struct RequestLimits {
    /// A client must send a request's headers within this time.
    pub header_read_timeout: Duration,
    /// Bytes a request's start line and headers may take in all. hyper answers a
    /// request beyond it with `431 Request Header Fields Too Large` and closes the
    /// connection; so a connection holds little more than this of unfinished headers
    /// (without it, hyper's ~400 KiB read buffer let 800 connections take 300 MiB).
    pub max_header_bytes: usize,
}

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting, lets
/// every connection finish its current response, and returns once all are closed.
pub async fn serve(
    mut listener: LimitedListener,
    app: Router,
    limits: RequestLimits,
    shutdown: impl Future<Output = ()>,
) {
    // Connections watch `stop` (closed = shut down) and hold `open` until they end.
    let (stop_tx, stop_rx) = watch::channel(());
    let (open_tx, _) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (io, addr) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let mut stop = stop_rx.clone();
        let open = open_tx.subscribe();
        tokio::spawn(async move {
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .max_header_size(limits.max_header_bytes);
            let connection = builder.serve_connection(TokioIo::new(io), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::trace!(client = %addr, %error, "connection ended with an error");
                    }
                }
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(open);
        });
    }
    drop(listener);
    drop(stop_tx);
    drop(stop_rx);
    open_tx.closed().await;
}
