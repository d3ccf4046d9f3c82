//! The chart images: `GET /charts/{id}.mjpg` (the live stream, `?fps=` may lower the
//! rate, `?scroll=smooth` makes its time axes scroll every pixel; over HTTP/1.x sent close-delimited, over HTTP/2 as a normal stream body with a
//! stall check), `GET /charts/{id}.jpg` and `.png` (the latest frame, at once). Each
//! takes the picture parameters of [`ImageQuery`] (variables and overrides): every
//! distinct set is its own live variant of the chart.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Version};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use render_core::ValidSpec;

use crate::api::access::ViewerCredentials;
use crate::api::charts::check_id;
use crate::api::image_params::{bad_params, ImageQuery};
use crate::config::Config;
use crate::error::AppError;
use crate::frames::ImageFormat;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::stream::chart::Subscription;
use crate::stream::hub::{ChartInfo, SubscribeError};
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

/// Which image of a chart a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// `.mjpg` / `.mjpeg`: the live stream.
    Stream,
    /// `.jpg` / `.jpeg`: the latest frame.
    Jpeg,
    /// `.png`: a frame drawn now, lossless.
    Png,
}

/// `ID.mjpg`, `ID.jpg` or `ID.png`: the chart id (checked) and the kind.
pub fn split_file(file: &str) -> Result<(&str, ImageKind), AppError> {
    let usage = || AppError::NotFound(format!("{file:?}: use /charts/ID.mjpg, ID.jpg or ID.png"));
    let (id, extension) = file.rsplit_once('.').ok_or_else(usage)?;
    check_id(id)?;
    let kind = match extension {
        "mjpg" | "mjpeg" => ImageKind::Stream,
        "jpg" | "jpeg" => ImageKind::Jpeg,
        "png" => ImageKind::Png,
        _ => return Err(usage()),
    };
    Ok((id, kind))
}

/// A chart image request that may be answered: the chart exists, the credentials may
/// view it with these parameters, and the parameters fit it.
pub struct Admitted {
    /// The chart as published.
    pub chart: ChartInfo,
    /// The spec the viewer sees.
    pub spec: Arc<ValidSpec>,
}

/// Checks a request for chart `id`'s image with `query` and `credentials` (what
/// `/charts/…` and an edge's admission over NATS both do).
pub async fn admit(
    state: &AppState,
    id: &str,
    query: &ImageQuery,
    credentials: &ViewerCredentials,
) -> Result<Admitted, AppError> {
    let chart = state.hub().get(id).ok_or_else(|| missing(id))?;
    let params = &query.params;
    credentials.check(state, id, chart.private, params)?;
    let spec = chart.resolve(params).map_err(bad_params)?;
    if !params.is_empty() {
        state.reach(&spec).await?;
    }
    Ok(Admitted { chart, spec })
}

fn missing(id: &str) -> AppError {
    AppError::NotFound(format!("no chart {id:?}"))
}

/// A still image of an admitted request: the variant's latest frame if it is live (a
/// JPEG), else one drawn now.
pub async fn still(
    state: &AppState,
    id: &str,
    query: &ImageQuery,
    admitted: Admitted,
    format: ImageFormat,
) -> Result<Bytes, AppError> {
    if format == ImageFormat::Jpeg {
        if let Some(jpeg) = state.hub().latest_jpeg(id, &query.params) {
            return Ok(jpeg);
        }
    }
    let now = state.now_ms();
    let image = state.render_image(id, admitted.spec, None, now, format);
    Ok(Bytes::from(image.await?))
}

/// The answer to a viewer refused by the hub.
pub fn refused(id: &str, error: SubscribeError) -> AppError {
    let limit = match &error {
        SubscribeError::NotFound(_) => return missing(id),
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
}

/// The response carrying a viewer's stream (`fps`: the viewer's `?fps=`), framed for
/// its HTTP `version`.
pub fn stream_response(
    subscription: Subscription,
    fps: Option<f64>,
    version: Version,
    config: &Config,
    metrics: &Arc<Metrics>,
) -> Response {
    let spec_fps = f64::from(subscription.chart.spec().map_or(10, |s| s.fps()));
    let fps = fps.map_or(spec_fps, |f| f.min(spec_fps));
    let options = ViewerOptions {
        keepalive: config.keepalive,
        min_interval: Duration::from_secs_f64(1.0 / fps),
    };
    let body = viewer::body(subscription, options, metrics.clone());
    let headers = [
        (header::CONTENT_TYPE, mjpeg::content_type()),
        (header::CACHE_CONTROL, NO_STORE.to_string()),
    ];
    // HTTP/2 has no Connection header and frames every body itself.
    if version >= Version::HTTP_2 {
        let body = stall::guarded(body, config.write_timeout);
        return (headers, Body::from_stream(body)).into_response();
    }
    close_delimited((headers, Body::from_stream(body)).into_response())
}

/// The response carrying a still image.
pub fn image_response(content_type: &'static str, image: Bytes) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, NO_STORE),
        ],
        image,
    )
        .into_response()
}

/// Images are live: nothing may cache them.
pub const NO_STORE: &str = "no-store, no-cache, must-revalidate";

/// `GET /charts/{file}` where file is `ID.mjpg`, `ID.jpg` or `ID.png`.
pub async fn chart_file(
    State(state): State<AppState>,
    version: Version,
    Path(file): Path<String>,
    query: ImageQuery,
    credentials: ViewerCredentials,
) -> Result<Response, AppError> {
    let (id, kind) = split_file(&file)?;
    let admitted = admit(&state, id, &query, &credentials).await?;
    Ok(match kind {
        ImageKind::Stream => {
            let subscription = state
                .hub()
                .subscribe(id, &query.params, query.smooth)
                .map_err(|error| refused(id, error))?;
            stream_response(
                subscription,
                query.fps,
                version,
                state.config(),
                state.metrics(),
            )
        }
        ImageKind::Jpeg => {
            let jpeg = still(&state, id, &query, admitted, ImageFormat::Jpeg).await?;
            image_response("image/jpeg", jpeg)
        }
        ImageKind::Png => {
            let png = still(&state, id, &query, admitted, ImageFormat::Png).await?;
            image_response("image/png", png)
        }
    })
}
