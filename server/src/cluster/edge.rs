//! An edge (`--role edge`): no store, no rendering. It serves `/charts/ID.mjpg`, `.jpg`
//! and `.png` from the frames origins publish on NATS, `/healthz` (503 while NATS is
//! unreachable) and `/metrics`; anything else gets `421 Misdirected Request` naming the
//! origin. Each viewer is admitted by an origin over NATS (the same checks as on the
//! origin: chart, signature or token, parameters); the edge's hub then holds one live
//! variant per distinct parameters, fed by one NATS subscription ([`Relay`]) whatever
//! its number of viewers, with the origin's viewer code: first frame at once (the
//! admission carries a picture), keepalive, slow-viewer dropping, viewer limits. Every
//! second the edge tells the origins what it watches ([`Interest`]).

use std::sync::Arc;
use std::time::Duration;

use async_nats::Client;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode, Uri, Version};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use render_core::Spec;
use serde_json::json;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::api::image_params::ImageQuery;
use crate::api::streams::{
    image_response, refused, split_file, stream_response, ImageKind, NO_STORE,
};
use crate::cluster::protocol::{AdmitReply, AdmitRequest, Interest, Subjects, Watched};
use crate::cluster::relay::Relay;
use crate::config::Config;
use crate::error::AppError;
use crate::hooks::Hooks;
use crate::metrics::Metrics;
use crate::stream::hub::{Hub, ViewerLimits};
use crate::stream::parts::PartMaker;

/// How often an edge says what it watches (origins forget a variant after
/// `origin::INTEREST_TTL`).
const HEARTBEAT: Duration = Duration::from_secs(1);
/// How long an edge waits for an origin to admit a viewer.
const ADMIT_TIMEOUT: Duration = Duration::from_secs(5);
/// Seconds a viewer is asked to wait when no origin answers.
const RETRY_AFTER: u32 = 5;

/// What the edge's handlers share; cheap to clone.
#[derive(Clone)]
pub struct EdgeState(Arc<Inner>);

struct Inner {
    config: Config,
    client: Client,
    subjects: Subjects,
    hub: Arc<Hub>,
    metrics: Arc<Metrics>,
    node: String,
    /// Wakes the heartbeat at once (a new variant is watched).
    watched_changed: Notify,
    hooks: Hooks,
}

impl EdgeState {
    /// An edge on `client`, named `node`.
    pub fn new(config: Config, client: Client, node: String, hooks: Hooks) -> EdgeState {
        let subjects = Subjects::new(&config.nats_prefix);
        let metrics = Arc::new(Metrics::default());
        let connected = client.clone();
        if let Ok(mut slot) = metrics.nats_connected.lock() {
            *slot = Some(Box::new(move || is_connected(&connected)));
        }
        let relay = Relay {
            client: client.clone(),
            subjects: subjects.clone(),
            metrics: metrics.clone(),
            clock: hooks.clock,
        };
        let limits = ViewerLimits {
            per_chart: config.max_viewers_per_chart,
            total: config.max_viewers,
            variants_per_chart: config.max_variants_per_chart,
        };
        let hub = Hub::new(Arc::new(relay), metrics.clone(), limits);
        EdgeState(Arc::new(Inner {
            config,
            client,
            subjects,
            hub,
            metrics,
            node,
            watched_changed: Notify::new(),
            hooks,
        }))
    }

    /// The edge's counters.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.0.metrics
    }

    /// The edge's hub (ends every stream at shutdown).
    pub fn hub(&self) -> &Arc<Hub> {
        &self.0.hub
    }

    /// Starts the heartbeat.
    pub fn start_heartbeat(&self) -> JoinHandle<()> {
        let state = self.clone();
        tokio::spawn(async move {
            loop {
                let _ = tokio::time::timeout(HEARTBEAT, state.0.watched_changed.notified()).await;
                let watching: Vec<Watched> = state
                    .0
                    .hub
                    .live_variants()
                    .into_iter()
                    .map(|v| Watched {
                        chart: v.chart,
                        variant: v.query,
                        smooth: v.smooth,
                    })
                    .collect();
                if watching.is_empty() {
                    continue;
                }
                let interest = Interest {
                    node: state.0.node.clone(),
                    watching,
                };
                if let Ok(bytes) = serde_json::to_vec(&interest) {
                    let subject = state.0.subjects.interest();
                    let _ = state.0.client.publish(subject, bytes.into()).await;
                }
            }
        })
    }

    /// Asks an origin to admit a request for `file` with `query`.
    async fn admit(
        &self,
        file: &str,
        query: &str,
        headers: &HeaderMap,
        picture: bool,
    ) -> Result<AdmitReply, AppError> {
        let request = AdmitRequest {
            file: file.to_string(),
            query: query.to_string(),
            picture,
            authorization: headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        };
        let payload = serde_json::to_vec(&request)
            .map_err(|e| AppError::Internal(format!("encoding an admission: {e}")))?;
        let unreachable = |cause: String| {
            AppError::Limit {
            status: StatusCode::SERVICE_UNAVAILABLE,
            limit: "nats",
            message: format!(
                "no origin answered over NATS ({cause}); this edge cannot admit viewers until one does"
            ),
            retry_after: Some(RETRY_AFTER),
        }
        };
        let asked = self
            .0
            .client
            .request(self.0.subjects.admit(), payload.into());
        let message = tokio::time::timeout(ADMIT_TIMEOUT, asked)
            .await
            .map_err(|_| unreachable(format!("no reply within {ADMIT_TIMEOUT:?}")))?
            .map_err(|e| unreachable(e.to_string()))?;
        serde_json::from_slice(&message.payload)
            .map_err(|e| AppError::Internal(format!("an origin's admission reply: {e}")))
    }
}

fn is_connected(client: &Client) -> bool {
    client.connection_state() == async_nats::connection::State::Connected
}

/// The edge's HTTP application.
pub fn router(state: EdgeState) -> Router {
    Router::new()
        .route("/charts/{file}", get(chart_file))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback(misdirected)
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// `GET /charts/{file}` on an edge.
async fn chart_file(
    State(state): State<EdgeState>,
    version: Version,
    Path(file): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (id, kind) = split_file(&file)?;
    let raw_query = uri.query().unwrap_or("");
    let query = ImageQuery::parse(raw_query)?;
    let hub = &state.0.hub;
    // A public chart's live frame needs no origin.
    if kind == ImageKind::Jpeg && hub.get(id).is_some_and(|chart| !chart.private) {
        if let Some(jpeg) = hub.latest_jpeg(id, &query.params) {
            return Ok(image_response("image/jpeg", jpeg));
        }
    }
    let picture = kind != ImageKind::Stream || hub.latest_jpeg(id, &query.params).is_none();
    let reply = state.admit(&file, raw_query, &headers, picture).await?;
    if reply.status != 200 {
        return Ok(passed_on(&reply));
    }
    let (Some(spec), ImageKind::Stream) = (&reply.spec, kind) else {
        return Ok(passed_on(&reply));
    };
    let spec = Spec::from_json(spec)
        .map_err(|e| AppError::Internal(format!("an origin's spec of {id:?}: {e}")))?;
    let changed = hub
        .get(id)
        .is_none_or(|chart| *chart.spec != spec || chart.private != reply.private);
    if changed {
        let default = render_core::resolve(&spec, &render_core::Params::default())
            .map_err(|e| AppError::Internal(format!("an origin's spec of {id:?}: {e}")))?;
        hub.publish(id, Arc::new(spec), Arc::new(default), reply.private);
    }
    let subscription = hub
        .subscribe(id, &query.params, query.smooth)
        .map_err(|error| refused(id, error))?;
    // The admission's picture is the first frame, unless frames already came.
    let first = Bytes::from(reply.body_bytes());
    let now = state.0.hooks.clock.now_ms();
    let chart = subscription.chart.clone();
    chart.frames.send_if_modified(|latest| {
        if latest.is_some() || first.is_empty() {
            return false;
        }
        *latest = Some(Arc::new(PartMaker::default().make(&chart, first, now)));
        true
    });
    state.0.watched_changed.notify_one();
    Ok(stream_response(
        subscription,
        query.fps,
        version,
        &state.0.config,
        &state.0.metrics,
    ))
}

/// An origin's answer, as the response to the viewer.
fn passed_on(reply: &AdmitReply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = (status, reply.body_bytes()).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = reply.content_type.parse() {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Some(seconds) = reply.retry_after {
        headers.insert(header::RETRY_AFTER, seconds.into());
    }
    if status.is_success() {
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static(NO_STORE),
        );
    }
    response
}

/// `GET /healthz`: 200 while NATS is connected.
async fn healthz(State(state): State<EdgeState>) -> Response {
    if is_connected(&state.0.client) {
        return "ok\n".into_response();
    }
    let message = format!(
        "NATS is unreachable ({}): this edge gets no new frames",
        state.0.config.nats.as_deref().unwrap_or("")
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "error": message })),
    )
        .into_response()
}

/// `GET /metrics`.
async fn metrics(State(state): State<EdgeState>) -> Response {
    let text = state.0.metrics.render(&state.0.hub.stats());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Everything but the images and the operations: that is the origin's.
async fn misdirected(State(state): State<EdgeState>, uri: Uri) -> Response {
    let origin = state.0.config.origin_url.as_deref().map_or_else(
        || "on the origin".to_string(),
        |url| format!("on the origin, {url}"),
    );
    let message = format!(
        "{} is not served here: this plotcast is an edge (--role edge), which serves only \
         /charts/ID.mjpg, .jpg and .png, /healthz and /metrics; writes, publishing and the \
         editor are {origin}",
        uri.path()
    );
    let mut body = json!({ "error": message });
    if let Some(url) = &state.0.config.origin_url {
        body["origin"] = json!(url);
    }
    (StatusCode::MISDIRECTED_REQUEST, Json(body)).into_response()
}
