//! The connection loop (instead of `axum::serve`, which gives hyper no timer and so no
//! header read timeout): accepts from a [`LimitedListener`], does the TLS handshake
//! when the server has a certificate, tells HTTP/2 from HTTP/1.x by the connection
//! preface ([`preface`](crate::preface)), serves HTTP/1.1 with hyper's
//! `header_read_timeout` (a client that does not finish a request's headers in time is
//! disconnected: slowloris) and HTTP/2 with keep-alive pings and the same timeout for
//! a connection without a request in flight ([`h2_idle`](crate::h2_idle)), both with a
//! cap on the size of a request's headers, and shuts down gracefully.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio::time::{timeout_at, Instant};
use tokio_rustls::TlsAcceptor;

use crate::h2_idle;
use crate::listener::{Connection, LimitedListener};
use crate::metrics::Metrics;
use crate::preface::{self, Protocol};

/// What the loop enforces on each connection and request.
#[derive(Clone, Copy)]
pub struct RequestLimits {
    /// A client must send a request's headers within this time; the TLS handshake and
    /// the first bytes (that tell the protocol) must come within it too. HTTP/1.1: per
    /// request (hyper), so also between the requests of a kept-alive connection;
    /// HTTP/2: a connection without a request in flight for this long is closed.
    pub header_read_timeout: Duration,
    /// Bytes a request's start line and headers may take in all. hyper answers a
    /// request beyond it with `431 Request Header Fields Too Large` (HTTP/1.1: and
    /// closes the connection; HTTP/2: `max_header_list_size`, the stream only); so a
    /// connection holds little more than this of unfinished headers (without it,
    /// hyper's ~400 KiB read buffer let 800 connections take 300 MiB).
    pub max_header_bytes: usize,
    /// An HTTP/2 connection is pinged after this long without traffic and closed when
    /// the ping is not answered within it (the per-stream stall check is the viewer's:
    /// `stream/stall.rs`).
    pub ping_interval: Duration,
}

/// One connection's surroundings.
#[derive(Clone)]
struct Context {
    app: Router,
    limits: RequestLimits,
    tls: Option<TlsAcceptor>,
    metrics: Arc<Metrics>,
}

/// Serves `app` on `listener` (over TLS if `tls` is set) until `shutdown` completes;
/// then stops accepting, lets every connection finish its current response, and
/// returns once all are closed.
pub async fn serve(
    mut listener: LimitedListener,
    app: Router,
    limits: RequestLimits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    let context = Context {
        app,
        limits,
        tls,
        metrics: listener.metrics().clone(),
    };
    // Connections watch `stop` (closed = shut down) and hold `open` until they end.
    let (stop_tx, stop_rx) = watch::channel(());
    let (open_tx, _) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (io, addr) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let context = context.clone();
        let stop = stop_rx.clone();
        let open = open_tx.subscribe();
        tokio::spawn(async move {
            if let Err(error) = connection(io, context, stop).await {
                tracing::trace!(client = %addr, %error, "connection ended with an error");
            }
            drop(open);
        });
    }
    drop(listener);
    drop(stop_tx);
    drop(stop_rx);
    open_tx.closed().await;
}

/// Serves one admitted connection: TLS (if any), then HTTP/1.x or HTTP/2. Dropping the
/// connection (on any error) frees its slot in the per-IP count.
async fn connection(
    io: Connection,
    context: Context,
    stop: watch::Receiver<()>,
) -> Result<(), String> {
    let deadline = Instant::now() + context.limits.header_read_timeout;
    match &context.tls {
        None => speak(io, deadline, &context, stop).await,
        // Boxed, as is HTTP/2 in `speak`: a task is as large as its largest state, and
        // the TLS and HTTP/2 states would make every plain HTTP/1 viewer's task ~8 KB.
        Some(acceptor) => {
            Box::pin(async {
                let tls = timeout_at(deadline, acceptor.accept(io))
                    .await
                    .map_err(|_| "no TLS handshake within header_read_timeout".to_string())?
                    .map_err(|e| format!("TLS handshake: {e}"))?;
                speak(tls, deadline, &context, stop).await
            })
            .await
        }
    }
}

async fn speak<I>(
    io: I,
    deadline: Instant,
    context: &Context,
    stop: watch::Receiver<()>,
) -> Result<(), String>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (protocol, io) = timeout_at(deadline, preface::detect(io))
        .await
        .map_err(|_| "no request within header_read_timeout".to_string())?
        .map_err(|e| format!("reading the first bytes: {e}"))?;
    let io = TokioIo::new(io);
    let service = TowerToHyperService::new(context.app.clone());
    let limits = context.limits;
    match protocol {
        Protocol::Http1 => {
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .max_header_size(limits.max_header_bytes);
            let connection = builder.serve_connection(io, service);
            let never_idle = std::future::pending();
            until_stopped(
                connection,
                http1::Connection::graceful_shutdown,
                stop,
                never_idle,
            )
            .await
        }
        Protocol::Http2 => {
            context
                .metrics
                .http2_connections
                .fetch_add(1, Ordering::Relaxed);
            let mut builder = http2::Builder::new(TokioExecutor::new());
            builder
                .timer(TokioTimer::new())
                .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
                .keep_alive_interval(limits.ping_interval)
                .keep_alive_timeout(limits.ping_interval);
            let (service, activity) = h2_idle::counted(service);
            let connection = builder.serve_connection(io, service);
            let idle = activity.idle_for(limits.header_read_timeout);
            Box::pin(until_stopped(
                connection,
                http2::Connection::graceful_shutdown,
                stop,
                idle,
            ))
            .await
        }
    }
}

/// Runs `connection` to its end; on shutdown, or once `idle` completes, asks it to
/// finish gracefully first (HTTP/2: GOAWAY, then closed once its streams are done; a
/// client that does not answer the GOAWAY's PING is closed by the keep-alive timeout).
async fn until_stopped<C>(
    connection: C,
    graceful_shutdown: fn(Pin<&mut C>),
    mut stop: watch::Receiver<()>,
    idle: impl Future<Output = ()>,
) -> Result<(), String>
where
    C: Future<Output = Result<(), hyper::Error>>,
{
    let mut connection = std::pin::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        _ = stop.changed() => {
            graceful_shutdown(connection.as_mut());
            connection.await
        }
        () = idle => {
            tracing::trace!("closing a connection without requests in flight");
            graceful_shutdown(connection.as_mut());
            connection.await
        }
    };
    result.map_err(|e| e.to_string())
}
