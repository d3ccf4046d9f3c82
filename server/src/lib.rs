//! plotcast's server: publish chart specs, ingest live data, stream every chart as
//! MJPEG over HTTP.
//!
//! [`app`] is the HTTP application for a given [`AppState`] (testable in-process);
//! [`run`] serves it on a listener until a shutdown future completes, together with
//! the background jobs (retention, demo collector).

pub mod api;
pub mod cache;
pub mod config;
pub mod demo;
pub mod editor;
pub mod error;
pub mod faults;
pub mod image_files;
pub mod line_protocol;
pub mod listener;
pub mod metrics;
pub mod points;
pub mod serve;
pub mod signing;
pub mod state;
pub mod store;
pub mod stream;
pub mod tiers;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

pub use config::{Config, ServeArgs};
pub use state::{AppState, StartError};

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
    let state = AppState::open(config).await?;
    let mut background = vec![tokio::spawn(prune(state.clone()))];
    if state.config.demo {
        background.push(tokio::spawn(demo::collect(state.clone())));
    }
    let hub = state.hub.clone();
    let config = &state.config;
    let listener = listener::LimitedListener::new(
        listener,
        config.write_timeout,
        config.max_connections_per_ip,
        state.metrics.clone(),
    );
    let header_read_timeout = config.header_read_timeout;
    serve::serve(listener, app(state), header_read_timeout, async move {
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
        let cutoff = stream::render::now_ms().saturating_sub(state.config.retention_ms);
        match state.blocking(move |store| store.prune(cutoff)).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "pruned points past retention"),
            Err(error) => tracing::warn!(%error, "pruning failed"),
        }
        state.cache.trim(stream::render::now_ms());
    }
}
