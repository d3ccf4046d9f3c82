//! The HTTP API: the router. What its handlers share is in [`body`] (reading with a
//! size limit and gzip, JSON with clear 400s) and [`access`] (the write token, viewer
//! credentials).

pub(crate) mod access;
mod body;
mod charts;
mod fonts;
pub(crate) mod image_params;
mod influx;
mod ingest;
pub(crate) mod ops;
mod render;
mod series;
mod sources;
pub(crate) mod streams;
mod templates;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::editor::router(get(ops::index)))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/api/schema", get(charts::schema))
        .route("/api/charts", get(charts::list))
        .route(
            "/api/charts/{id}",
            get(charts::get).put(charts::put).delete(charts::delete),
        )
        .route("/api/charts/{id}/sign", post(charts::sign))
        .route("/write", post(ingest::write))
        .route("/api/v2/write", post(ingest::write))
        .route("/api/v1/write", post(ingest::remote_write))
        .route("/ping", get(influx::ping))
        .route("/query", get(influx::query).post(influx::query))
        .route("/api/fonts", get(fonts::list))
        .route("/api/fonts/{index}", get(fonts::get))
        .route("/api/points", post(ingest::points))
        .route("/api/series", get(series::list))
        .route("/api/templates", get(templates::list))
        .route("/api/series/points", get(series::points))
        .route("/api/sources", get(sources::list))
        .route("/api/render", post(render::render))
        .route("/charts/{file}", get(streams::chart_file))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_errors,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn count_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status().is_client_error() || response.status().is_server_error() {
        state.metrics().count_error(response.status().as_u16());
    }
    response
}
