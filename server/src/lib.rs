//! plotcast's server: publish chart specs, ingest live data, stream every chart as
//! MJPEG over HTTP.
//!
//! [`app`] is the HTTP application for a given [`AppState`] (testable in-process);
//! [`run`] serves it on a listener until a shutdown future completes, together with
//! the background jobs (retention, demo collector); [`run_with`] does the same with
//! test [`Hooks`] (clock, faults).

mod api;
mod clock;
mod cluster;
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
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

pub use clock::Clock;
use cluster::connect::NatsError;
use cluster::edge::EdgeState;
use cluster::origin::Origin;
pub use config::{Config, Role, ServeArgs};
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
    let addr = listener.local_addr().map_err(ServeError::Io)?;
    let role = match config.role {
        Role::Origin => "origin",
        Role::Edge => "edge",
    };
    let node = cluster::node_name(role, addr);
    let nats = match &config.nats {
        Some(url) => Some(
            cluster::connect::connect(&config, url, &node)
                .await
                .map_err(StartError::Nats)?,
        ),
        None => None,
    };
    if config.role == Role::Edge {
        let client = nats.ok_or(StartError::Nats(NatsError::Missing))?;
        let edge = EdgeState::new(config.clone(), client, node, hooks);
        let heartbeat = edge.start_heartbeat();
        let app = cluster::edge::router(edge.clone());
        serve_app(
            listener,
            &config,
            edge.metrics(),
            tls,
            app,
            edge.hub(),
            shutdown,
        )
        .await;
        heartbeat.abort();
        return Ok(());
    }
    let state = AppState::open(config, hooks).await?;
    let mut background = vec![tokio::spawn(prune(state.clone()))];
    if state.config().demo {
        if state.hub().is_empty() {
            demo::publish_chart(&state).await;
        }
        background.push(tokio::spawn(demo::collect(state.clone())));
    }
    let subjects = cluster::protocol::Subjects::new(&state.config().nats_prefix);
    let origin = nats.map(|client| Origin::start(state.clone(), client, subjects, &node));
    let app = app(state.clone());
    let config = state.config();
    serve_app(
        listener,
        config,
        state.metrics(),
        tls,
        app,
        state.hub(),
        shutdown,
    )
    .await;
    if let Some(origin) = origin {
        origin.stop().await;
    }
    for task in background {
        task.abort();
        let _ = task.await;
    }
    Ok(())
}

/// Serves `app` with the configured connection and request limits until `shutdown`
/// completes; then ends every stream of `hub` and waits for open requests to finish.
async fn serve_app(
    listener: TcpListener,
    config: &Config,
    metrics: &Arc<metrics::Metrics>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    app: Router,
    hub: &Arc<stream::hub::Hub>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let listener = listener::LimitedListener::new(
        listener,
        config.write_timeout,
        config.max_connections_per_ip,
        tls.is_some(),
        metrics.clone(),
    );
    let limits = serve::RequestLimits {
        header_read_timeout: config.header_read_timeout,
        max_header_bytes: config.max_header_bytes,
        ping_interval: config.write_timeout,
    };
    let hub = hub.clone();
    serve::serve(listener, app, limits, tls, async move {
        shutdown.await;
        tracing::info!("shutting down");
        hub.shutdown();
    })
    .await;
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
