//! The origin's side of scale-out: it answers edges' admission requests (checking a
//! viewer's request exactly as for its own viewers), follows the edges' interest
//! heartbeats, and for every variant some edge watches — of a chart whose render lease
//! it holds — keeps one subscription to the variant's frames (a viewer like any other,
//! so the hub renders it once, whatever the number of edges and viewers) and publishes
//! each new frame on the variant's subject. A variant no edge asked for within
//! [`INTEREST_TTL`] is dropped, and its rendering stops with its last viewer.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_nats::{Client, HeaderMap};
use axum::extract::FromRequestParts;
use axum::http::{header, Request};
use axum::response::IntoResponse;
use futures_util::StreamExt;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::api::access::ViewerCredentials;
use crate::api::image_params::ImageQuery;
use crate::api::streams::{admit, split_file, still, ImageKind};
use crate::cluster::lease::Leases;
use crate::cluster::protocol::{
    AdmitReply, AdmitRequest, Interest, Subjects, Watched, END_HEADER, TIME_HEADER,
};
use crate::error::AppError;
use crate::frames::ImageFormat;
use crate::state::AppState;

/// How long a variant stays watched after the last heartbeat that named it (edges send
/// one a second).
pub const INTEREST_TTL: Duration = Duration::from_secs(3);
/// How often leases are renewed and expired interest dropped.
const TICK: Duration = Duration::from_secs(1);
/// Largest error body passed on to an edge.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// The origin's scale-out tasks; [`Origin::stop`] ends them and releases the leases.
pub struct Origin {
    tasks: Vec<JoinHandle<()>>,
    leases: Arc<Mutex<Leases>>,
}

impl Origin {
    /// Starts answering admissions and following interest on `client`.
    pub fn start(state: AppState, client: Client, subjects: Subjects, node: &str) -> Origin {
        let connected = client.clone();
        if let Ok(mut slot) = state.metrics().nats_connected.lock() {
            *slot = Some(Box::new(move || {
                connected.connection_state() == async_nats::connection::State::Connected
            }));
        }
        let leases = Leases::new(client.clone(), &subjects, state.config().lease_ttl, node);
        let leases = Arc::new(Mutex::new(leases));
        let tasks = vec![
            tokio::spawn(admissions(state.clone(), client.clone(), subjects.clone())),
            tokio::spawn(follow_interest(state, client, subjects, leases.clone())),
        ];
        Origin { tasks, leases }
    }

    /// Stops publishing and releases the leases, so another origin takes over at once.
    pub async fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        self.leases.lock().await.release_all().await;
    }
}

/// Answers `PREFIX.admit` requests (one origin of the queue group answers each).
async fn admissions(state: AppState, client: Client, subjects: Subjects) {
    let mut requests = loop {
        match client
            .queue_subscribe(subjects.admit(), subjects.origins_group())
            .await
        {
            Ok(requests) => break requests,
            Err(error) => {
                tracing::warn!(%error, "subscribing to admission requests failed; retrying");
                tokio::time::sleep(TICK).await;
            }
        }
    };
    while let Some(message) = requests.next().await {
        let Some(reply_to) = message.reply.clone() else {
            continue;
        };
        let (state, client) = (state.clone(), client.clone());
        tokio::spawn(async move {
            let reply = answer(&state, &message.payload).await;
            match serde_json::to_vec(&reply) {
                Ok(bytes) => {
                    if let Err(error) = client.publish(reply_to, bytes.into()).await {
                        tracing::debug!(%error, "answering an admission failed");
                    }
                }
                Err(error) => tracing::error!(%error, "encoding an admission reply failed"),
            }
        });
    }
}

/// The answer to one admission request.
async fn answer(state: &AppState, payload: &[u8]) -> AdmitReply {
    match admit_request(state, payload).await {
        Ok(reply) => reply,
        Err(error) => error_reply(error).await,
    }
}

async fn admit_request(state: &AppState, payload: &[u8]) -> Result<AdmitReply, AppError> {
    let request: AdmitRequest = serde_json::from_slice(payload)
        .map_err(|e| AppError::bad_request(format!("admission request: {e}")))?;
    let (id, kind) = split_file(&request.file)?;
    let uri = format!("/charts/{}?{}", request.file, request.query);
    let mut builder = Request::get(uri.as_str());
    if let Some(authorization) = &request.authorization {
        builder = builder.header(header::AUTHORIZATION, authorization.as_str());
    }
    let (mut parts, ()) = builder
        .body(())
        .map_err(|e| AppError::bad_request(format!("{uri:?}: {e}")))?
        .into_parts();
    let query = ImageQuery::from_request_parts(&mut parts, state).await?;
    let credentials = ViewerCredentials::from_request_parts(&mut parts, state).await?;
    let admitted = admit(state, id, &query, &credentials).await?;
    let (spec, private) = match kind {
        ImageKind::Stream => {
            let spec = serde_json::to_string(&*admitted.chart.spec)
                .map_err(|e| AppError::Internal(format!("encoding the spec: {e}")))?;
            (Some(spec), admitted.chart.private)
        }
        ImageKind::Jpeg | ImageKind::Png => (None, false),
    };
    let (format, content_type) = match kind {
        ImageKind::Png => (ImageFormat::Png, "image/png"),
        ImageKind::Stream | ImageKind::Jpeg => (ImageFormat::Jpeg, "image/jpeg"),
    };
    let image = if kind == ImageKind::Stream && !request.picture {
        bytes::Bytes::new()
    } else {
        still(state, id, &query, admitted, format).await?
    };
    Ok(AdmitReply {
        status: 200,
        content_type: content_type.to_string(),
        retry_after: None,
        body: AdmitReply::encode_body(&image),
        spec,
        private,
    })
}

/// `error` as the response the edge passes on.
async fn error_reply(error: AppError) -> AdmitReply {
    let (head, body) = error.into_response().into_parts();
    let text = |name| {
        head.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = text(header::CONTENT_TYPE).unwrap_or_else(|| "application/json".into());
    let retry_after = text(header::RETRY_AFTER).and_then(|v| v.parse().ok());
    let status = head.status.as_u16();
    let body = axum::body::to_bytes(body, MAX_ERROR_BODY)
        .await
        .unwrap_or_default();
    AdmitReply {
        status,
        content_type,
        retry_after,
        body: AdmitReply::encode_body(&body),
        spec: None,
        private: false,
    }
}

/// Follows the edges' heartbeats: keeps the watched variants of leased charts
/// published, drops the rest.
async fn follow_interest(
    state: AppState,
    client: Client,
    subjects: Subjects,
    leases: Arc<Mutex<Leases>>,
) {
    let mut heartbeats = loop {
        match client.subscribe(subjects.interest()).await {
            Ok(heartbeats) => break heartbeats,
            Err(error) => {
                tracing::warn!(%error, "subscribing to interest failed; retrying");
                tokio::time::sleep(TICK).await;
            }
        }
    };
    let mut watched: HashMap<Watched, Instant> = HashMap::new();
    let mut publishers: HashMap<Watched, Publisher> = HashMap::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            message = heartbeats.next() => {
                let Some(message) = message else { return };
                let Ok(interest) = serde_json::from_slice::<Interest>(&message.payload) else {
                    tracing::debug!("ignoring a malformed interest message");
                    continue;
                };
                let until = Instant::now() + INTEREST_TTL;
                let mut new = false;
                for variant in interest.watching {
                    new |= watched.insert(variant, until).is_none();
                }
                if !new {
                    continue;
                }
            }
            _ = tick.tick() => {}
        }
        let now = Instant::now();
        watched.retain(|_, until| *until > now);
        // Only charts published here: an origin without the chart must not hold its
        // lease (it could not render it).
        let charts: BTreeSet<String> = watched
            .keys()
            .map(|w| w.chart.clone())
            .filter(|chart| state.hub().get(chart).is_some())
            .collect();
        let held = leases.lock().await.settle(&charts).await;
        publishers.retain(|w, _| watched.contains_key(w) && held.contains(&w.chart));
        for variant in watched.keys() {
            if held.contains(&variant.chart) && !publishers.contains_key(variant) {
                match Publisher::start(&state, &client, &subjects, variant) {
                    Ok(publisher) => {
                        publishers.insert(variant.clone(), publisher);
                    }
                    Err(error) => {
                        tracing::info!(chart = %variant.chart, %error, "not publishing a watched variant")
                    }
                }
            }
        }
        state
            .metrics()
            .nats_published_variants
            .store(publishers.len() as u64, Ordering::Relaxed);
    }
}

/// Publishes one variant's frames while it is kept (dropping it stops the task, and
/// with it the variant's one viewer on this origin).
struct Publisher(JoinHandle<()>);

impl Drop for Publisher {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Publisher {
    fn start(
        state: &AppState,
        client: &Client,
        subjects: &Subjects,
        variant: &Watched,
    ) -> Result<Publisher, String> {
        let params = ImageQuery::parse(&variant.variant)
            .map_err(|e| e.to_string())?
            .params;
        let mut subscription = state
            .hub()
            .subscribe(&variant.chart, &params, variant.smooth)
            .map_err(|e| e.to_string())?;
        let subject = subjects.frames(&variant.chart, &variant.variant);
        let (state, client, id) = (state.clone(), client.clone(), variant.chart.clone());
        Ok(Publisher(tokio::spawn(async move {
            loop {
                let part = subscription.frames.borrow_and_update().clone();
                match part {
                    Some(part) => {
                        let mut headers = HeaderMap::new();
                        headers.insert(TIME_HEADER, part.time_ms.to_string().as_str());
                        let sent = client
                            .publish_with_headers(subject.clone(), headers, part.jpeg.clone())
                            .await;
                        if sent.is_ok() {
                            let published = &state.metrics().nats_frames_published;
                            published.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    None if subscription.chart.ended() => {
                        // Deleted (not a shutdown: the chart would still be here).
                        let gone = state
                            .hub()
                            .get(&id)
                            .is_none_or(|chart| chart.resolve(&params).is_err());
                        if gone {
                            let mut headers = HeaderMap::new();
                            headers.insert(END_HEADER, "deleted");
                            let end = client.publish_with_headers(
                                subject.clone(),
                                headers,
                                bytes::Bytes::new(),
                            );
                            let _ = end.await;
                        }
                        return;
                    }
                    None => {}
                }
                if subscription.frames.changed().await.is_err() {
                    return;
                }
            }
        })))
    }
}
