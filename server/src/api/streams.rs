//! The chart images: `GET /charts/{id}.mjpg` (the live stream, `?fps=` may lower the
//! rate, `?scroll=smooth` makes its time axes scroll every pixel; over HTTP/1.x sent close-delimited, over HTTP/2 as a normal stream body with a
//! stall check), `GET /charts/{id}.jpg` and `.png` (the latest frame, at once). Each
//! takes the picture parameters of [`ImageQuery`] (variables and overrides): every
//! distinct set is its own live variant of the chart.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Version};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::api::access::ViewerCredentials;
use crate::api::charts::check_id;
use crate::api::image_params::{bad_params, ImageQuery};
use crate::error::AppError;
use crate::frames::ImageFormat;
use crate::state::AppState;
use crate::stream::hub::SubscribeError;
use crate::stream::viewer::{self, ViewerOptions};
use crate::stream::{mjpeg, stall};

/// Seconds a viewer refused by a viewer limit is asked to wait.
const VIEWER_RETRY_AFTER: u32 = 5;

/// Makes the stream's body end where the connection ends, with no transfer coding, as
/// mjpg-streamer, ustreamer and IP cameras send it: NVRs and camera apps that do not
/// de-chunk (Synology Surveillance Station) read it, and so does every HTTP client.
///
/// hyper (`proto/h1/role.rs`, `Server::encode_headers`) chunks a body of unknown length
/// in every HTTP/1.1 response, `Connection: close` or not (that header only ends the
/// connection after the body); it sends the body unframed, ended by closing the
/// connection, only in an HTTP/1.0 response. So the stream is answered `HTTP/1.0 200 OK`
/// with `Connection: close`, the status line ustreamer and mjpg-streamer send to every
/// client; HTTP/1.1 clients read HTTP/1.0 responses. Other responses keep HTTP/1.1
/// and keep-alive.
fn close_delimited(mut response: Response) -> Response {
    *response.version_mut() = Version::HTTP_10;
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// `GET /charts/{file}` where file is `ID.mjpg`, `ID.jpg` or `ID.png`.
pub async fn chart_file(
    State(state): State<AppState>,
    version: Version,
    Path(file): Path<String>,
    query: ImageQuery,
    credentials: ViewerCredentials,
) -> Result<Response, AppError> {
    let Some((id, extension)) = file.rsplit_once('.') else {
        return Err(AppError::NotFound(format!(
            "{file:?}: use /charts/ID.mjpg, ID.jpg or ID.png"
        )));
    };
    check_id(id)?;
    let missing = || AppError::NotFound(format!("no chart {id:?}"));
    let chart = state.hub().get(id).ok_or_else(missing)?;
    let params = &query.params;
    credentials.check(&state, id, chart.private, params)?;
    let spec = chart.resolve(params).map_err(bad_params)?;
    if !params.is_empty() {
        state.reach(&spec).await?;
    }
    let no_store = (header::CACHE_CONTROL, "no-store, no-cache, must-revalidate");
    match extension {
        "mjpg" | "mjpeg" => {
            let subscription =
                state
                    .hub()
                    .subscribe(id, params, query.smooth)
                    .map_err(|error| {
                        let limit = match &error {
                            SubscribeError::NotFound(_) => return missing(),
                            SubscribeError::Invalid(errors) => return bad_params(errors.clone()),
                            SubscribeError::ChartFull(..) => "max_viewers_per_chart",
                            SubscribeError::ServerFull(_) => "max_viewers",
                            SubscribeError::VariantsFull(..) => "max_variants_per_chart",
                        };
                        AppError::Limit {
                            status: axum::http::StatusCode::SERVICE_UNAVAILABLE,
                            limit,
                            message: error.to_string(),
                            retry_after: Some(VIEWER_RETRY_AFTER),
                        }
                    })?;
            let spec_fps = f64::from(subscription.chart.spec().map_or(10, |s| s.fps()));
            let fps = query.fps.map_or(spec_fps, |f| f.min(spec_fps));
            let options = ViewerOptions {
                keepalive: state.config().keepalive,
                min_interval: Duration::from_secs_f64(1.0 / fps),
            };
            let body = viewer::body(subscription, options, state.metrics().clone());
            let headers = [
                (header::CONTENT_TYPE, mjpeg::content_type()),
                (no_store.0, no_store.1.to_string()),
            ];
            // HTTP/2 has no Connection header and frames every body itself.
            if version >= Version::HTTP_2 {
                let body = stall::guarded(body, state.config().write_timeout);
                return Ok((headers, Body::from_stream(body)).into_response());
            }
            Ok(close_delimited(
                (headers, Body::from_stream(body)).into_response(),
            ))
        }
        "jpg" | "jpeg" => {
            let jpeg = match state.hub().latest_jpeg(id, params) {
                Some(jpeg) => jpeg,
                None => {
                    let now = state.now_ms();
                    let jpeg = state.render_image(id, spec, None, now, ImageFormat::Jpeg);
                    Bytes::from(jpeg.await?)
                }
            };
            Ok(([(header::CONTENT_TYPE, "image/jpeg"), no_store], jpeg).into_response())
        }
        "png" => {
            let now = state.now_ms();
            let png = state
                .render_image(id, spec, None, now, ImageFormat::Png)
                .await?;
            Ok(([(header::CONTENT_TYPE, "image/png"), no_store], png).into_response())
        }
        _ => Err(AppError::NotFound(format!(
            "{file:?}: use /charts/{id}.mjpg, {id}.jpg or {id}.png"
        ))),
    }
}
