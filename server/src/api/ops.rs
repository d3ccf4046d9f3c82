//! Operations: `GET /healthz`, `GET /metrics` (Prometheus text) and the `/` index page.

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};

use crate::error::AppError;
use crate::state::AppState;

/// `GET /healthz`: 200 while the store answers.
pub async fn healthz(State(state): State<AppState>) -> Result<&'static str, AppError> {
    state.charts().await?;
    Ok("ok\n")
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let text = state.metrics().render(&state.hub().stats());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}

/// `GET /`: a page with every chart's live stream (until the editor is served here).
pub async fn index(State(state): State<AppState>) -> Result<Html<String>, AppError> {
    let charts = state.charts().await?;
    let mut page = String::from(
        "<!doctype html><meta charset=utf-8><title>plotcast</title>\
         <style>body{font-family:sans-serif;background:#111;color:#ddd}img{max-width:100%}</style>\
         <h1>plotcast</h1>",
    );
    if charts.is_empty() {
        page.push_str("<p>No charts yet: <code>PUT /api/charts/ID</code> publishes one.</p>");
    }
    for chart in charts.iter().filter(|c| !c.private) {
        // Ids are slugs ([a-z0-9_-]), safe in HTML and URLs as they are.
        page.push_str(&format!(
            "<h2>{0}</h2><img alt=\"{0}\" src=\"/charts/{0}.mjpg\">",
            chart.id
        ));
    }
    Ok(Html(page))
}
