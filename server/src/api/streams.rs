//! The chart images: `GET /charts/{id}.mjpg` (the live stream, `?fps=` may lower the
//! rate), `GET /charts/{id}.jpg` and `.png` (the latest frame, at once).

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use render_core::Frame;
use serde::Deserialize;

use crate::api::charts::check_id;
use crate::error::AppError;
use crate::image_files;
use crate::state::AppState;
use crate::stream::mjpeg;
use crate::stream::render::{now_ms, render_into, JPEG_QUALITY};
use crate::stream::viewer::{self, ViewerOptions};

/// Stream query parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    fps: Option<f64>,
}

/// `GET /charts/{file}` where file is `ID.mjpg`, `ID.jpg` or `ID.png`.
pub async fn chart_file(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(query): Query<StreamQuery>,
) -> Result<Response, AppError> {
    let Some((id, extension)) = file.rsplit_once('.') else {
        return Err(AppError::NotFound(format!(
            "{file:?}: use /charts/ID.mjpg, ID.jpg or ID.png"
        )));
    };
    check_id(id)?;
    let missing = || AppError::NotFound(format!("no chart {id:?}"));
    let no_store = (header::CACHE_CONTROL, "no-store, no-cache, must-revalidate");
    match extension {
        "mjpg" | "mjpeg" => {
            let subscription = state.hub.subscribe(id).ok_or_else(missing)?;
            let spec_fps = subscription.chart.spec().map_or(10, |s| s.fps());
            let fps = match query.fps {
                None => f64::from(spec_fps),
                Some(f) if f.is_finite() && f > 0.0 => f.min(f64::from(spec_fps)),
                Some(f) => {
                    return Err(AppError::bad_request(format!(
                        "fps={f} must be a number above 0"
                    )))
                }
            };
            let options = ViewerOptions {
                keepalive: state.config.keepalive,
                min_interval: Duration::from_secs_f64(1.0 / fps),
            };
            let body = viewer::body(subscription, options, state.metrics.clone());
            Ok((
                [
                    (header::CONTENT_TYPE, mjpeg::content_type()),
                    (no_store.0, no_store.1.to_string()),
                ],
                Body::from_stream(body),
            )
                .into_response())
        }
        "jpg" | "jpeg" => {
            let chart = state.hub.get(id).ok_or_else(missing)?;
            let latest = chart.frames.borrow().as_ref().map(|part| part.jpeg.clone());
            let jpeg = match latest {
                Some(jpeg) => jpeg,
                None => {
                    let spec = chart.spec().ok_or_else(missing)?;
                    let context = state.render.clone();
                    let bytes = tokio::task::spawn_blocking(move || {
                        let mut frame = Frame::default();
                        render_into(&context, &spec, now_ms(), &mut frame);
                        image_files::jpeg(&frame, JPEG_QUALITY)
                    })
                    .await
                    .map_err(|e| AppError::Internal(e.to_string()))?
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                    Bytes::from(bytes)
                }
            };
            Ok(([(header::CONTENT_TYPE, "image/jpeg"), no_store], jpeg).into_response())
        }
        "png" => {
            let chart = state.hub.get(id).ok_or_else(missing)?;
            let spec = chart.spec().ok_or_else(missing)?;
            let context = state.render.clone();
            let png = tokio::task::spawn_blocking(move || {
                let mut frame = Frame::default();
                render_into(&context, &spec, now_ms(), &mut frame);
                image_files::png(&frame)
            })
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|e| AppError::Internal(e.to_string()))?;
            Ok(([(header::CONTENT_TYPE, "image/png"), no_store], png).into_response())
        }
        _ => Err(AppError::NotFound(format!(
            "{file:?}: use /charts/{id}.mjpg, {id}.jpg or {id}.png"
        ))),
    }
}
