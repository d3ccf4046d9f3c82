//! `POST /api/render`: a spec plus optional data (else the server's) -> PNG, for
//! previews and checks.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use render_core::{Data, Params, Spec};
use serde::Deserialize;

use crate::api::body::{parse_json, read_body};
use crate::error::AppError;
use crate::frames::ImageFormat;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RenderRequest {
    spec: Spec,
    data: Option<Data>,
    now: Option<i64>,
}

/// Renders the request's spec to PNG.
pub async fn render(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, AppError> {
    let bytes = read_body(&headers, body, state.config().max_body).await?;
    let request: RenderRequest = parse_json(&bytes, "render request")?;
    let spec = render_core::resolve(&request.spec, &Params::default())?;
    let now = request.now.unwrap_or_else(|| state.now_ms());
    let png = state
        .render_image("", Arc::new(spec), request.data, now, ImageFormat::Png)
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        png,
    ))
}
