//! plotcast's server: publish chart specs, ingest live data, stream every chart as
//! MJPEG over HTTP.
//!
//! [`app`] is the HTTP application for a given [`AppState`] (testable in-process);
//! [`run`] serves it on a listener until a shutdown future completes, together with
//! the background jobs (retention, demo collector); [`run_with`] does the same with
//! test [`Hooks`] (clock, faults).

mod api;
mod clock;
pub mod config;
mod demo;
mod editor;
mod error;
mod faults;
mod frames;
mod h2_idle;
mod hooks;
pub mod image_files;
pub mod ingest;
mod listener;
mod metrics;
mod preface;
mod serve;
pub mod signing;
mod source;
mod state;
mod store;
mod stream;
pub mod system_fonts;
mod tiers;
mod tls;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

pub use clock::Clock;
pub use config::{Config, ServeArgs};
pub use faults::Faults;
pub use hooks::Hooks;
pub use state::{AppState, StartError};
pub use tls::TlsError;

/// The HTTP application.
pub fn app(state: AppState) -> Router {
    api::router(state)
}

/// Serves plotcast on `listener` until `shutdown` completes, then ends every stream
/// and waits for open requests to finish.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    run_with(listener, config, Hooks::default(), shutdown).await
}

/// [`run`] with test hooks: a clock ([`Clock::tokio`] to run on paused time) and
/// faults to inject.
pub async fn run_with(
    listener: TcpListener,
    config: Config,
    hooks: Hooks,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let tls = tls::acceptor(config.tls_cert.as_deref(), config.tls_key.as_deref())
        .map_err(StartError::Tls)?;
    let state = AppState::open(config, hooks).await?;
    let mut background = vec![tokio::spawn(prune(state.clone()))];
    if state.config().demo {
        if state.hub().is_empty() {
            demo::publish_chart(&state).await;
        }
        background.push(tokio::spawn(demo::collect(state.clone())));
    }
    let hub = state.hub().clone();
    let config = state.config();
    let listener = listener::LimitedListener::new(
        listener,
        config.write_timeout,
        config.max_connections_per_ip,
        tls.is_some(),
        state.metrics().clone(),
    );
    let limits = serve::RequestLimits {
        header_read_timeout: config.header_read_timeout,
        max_header_bytes: config.max_header_bytes,
        ping_interval: config.write_timeout,
    };
    serve::serve(listener, app(state.clone()), limits, tls, async move {
        shutdown.await;
        tracing::info!("shutting down");
        hub.shutdown();
    })
    .await;
    for task in background {
        task.abort();
        let _ = task.await;
    }
    Ok(())
}

/// Why serving stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Startup failed.
    #[error(transparent)]
    Start(#[from] StartError),
    /// The listener failed.
    #[error("serving: {0}")]
    Io(std::io::Error),
}

/// Deletes points past retention, at start and every hour.
async fn prune(state: AppState) {
    let mut ticker = tokio::time::interval(Duration::from_secs(3600));
    loop {
        ticker.tick().await;
        match state.prune().await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "pruned points past retention"),
            Err(error) => tracing::warn!(%error, "pruning failed"),
        }
    }
}
