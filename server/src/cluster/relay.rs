//! An edge's frames: the [`Producer`] that, while a variant has viewers on this edge,
//! holds one NATS subscription to the variant's subject and turns each frame message
//! into a wire part for all its viewers — the same [`PartMaker`] framing as a render
//! task's, so an edge's viewers get exactly what an origin's get. While NATS is away,
//! nothing arrives and viewers keep the last frame (keepalive repeats it); the
//! client resubscribes by itself once NATS is back.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_nats::Client;
use futures_util::StreamExt;

use crate::clock::Clock;
use crate::cluster::protocol::{Subjects, END_HEADER, TIME_HEADER};
use crate::metrics::Metrics;
use crate::stream::chart::ChartStream;
use crate::stream::hub::Producer;
use crate::stream::parts::PartMaker;

/// Wait before subscribing again after a failed subscribe.
const RETRY: Duration = Duration::from_secs(1);

/// Relays frames from NATS into an edge's hub.
pub struct Relay {
    /// The NATS connection.
    pub client: Client,
    /// Subject names.
    pub subjects: Subjects,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// "Now", for a frame that carries no time.
    pub clock: Clock,
}

impl Producer for Relay {
    fn produce<'a>(
        &'a self,
        variant: &'a Arc<ChartStream>,
    ) -> Pin<Box<dyn Future<Output = bool> + Send + 'a>> {
        Box::pin(self.run(variant))
    }
}

impl Relay {
    async fn run(&self, variant: &Arc<ChartStream>) -> bool {
        let subject = self.subjects.frames(&variant.id, &variant.params.query());
        let mut frames = match self.client.subscribe(subject).await {
            Ok(frames) => frames,
            Err(error) => {
                tracing::warn!(chart = %variant.id, %error, "subscribing to frames failed; retrying");
                // The hub runs this again while the variant has viewers.
                let _ = tokio::time::timeout(RETRY, variant.wake.notified()).await;
                return true;
            }
        };
        let mut parts = PartMaker::default();
        loop {
            if variant.viewers.load(Ordering::Acquire) == 0 || variant.ended() {
                let _ = frames.unsubscribe().await;
                return true;
            }
            tokio::select! {
                message = frames.next() => {
                    let Some(message) = message else { return true };
                    let headers = message.headers.as_ref();
                    if headers.is_some_and(|h| h.get(END_HEADER).is_some()) {
                        tracing::info!(chart = %variant.id, "the origin ended the chart's streams");
                        variant.end();
                        continue;
                    }
                    let time = headers
                        .and_then(|h| h.get(TIME_HEADER))
                        .and_then(|v| v.as_str().parse().ok())
                        .unwrap_or_else(|| self.clock.now_ms());
                    let part = parts.make(variant, message.payload, time);
                    variant.frames.send_replace(Some(Arc::new(part)));
                    self.metrics.nats_frames_received.fetch_add(1, Ordering::Relaxed);
                }
                _ = variant.wake.notified() => {}
            }
        }
    }
}
