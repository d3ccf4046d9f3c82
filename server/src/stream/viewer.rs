//! One viewer's response body: a stream of shared `Bytes` chunks taken from the chart's
//! latest [`Part`] (never a queue of frames), with keepalive repeats and the "advance
//! header" framing described in `docs/STREAMING.md`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::time::{sleep_until, Instant};

use crate::metrics::Metrics;
use crate::stream::chart::Subscription;
use crate::stream::mjpeg::{Part, CLOSING_BOUNDARY, FIRST_BOUNDARY, NEXT_BOUNDARY};

/// How a viewer's stream behaves.
#[derive(Debug, Clone, Copy)]
pub struct ViewerOptions {
    /// Re-send the unchanged frame after this long.
    pub keepalive: Duration,
    /// At most one new frame per this interval (from `?fps=`).
    pub min_interval: Duration,
}

struct Viewer {
    subscription: Subscription,
    options: ViewerOptions,
    metrics: Arc<Metrics>,
    queue: VecDeque<Bytes>,
    /// The frame the viewer shows; its `advance` header was the last thing queued.
    shown: Option<Arc<Part>>,
    next_keepalive: Instant,
    next_frame: Instant,
    done: bool,
}

enum Event {
    Frame,
    Keepalive,
    Closed,
}

/// The body stream of one viewer.
pub fn body(
    subscription: Subscription,
    options: ViewerOptions,
    metrics: Arc<Metrics>,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
    let now = Instant::now();
    let mut viewer = Viewer {
        subscription,
        options,
        metrics,
        queue: VecDeque::new(),
        shown: None,
        next_keepalive: now + options.keepalive,
        next_frame: now,
        done: false,
    };
    // First frame at once, if the chart already has one.
    let latest = viewer.subscription.frames.borrow_and_update().clone();
    if let Some(part) = latest {
        viewer.show(part);
    }
    futures_util::stream::unfold(viewer, |mut viewer| async move {
        loop {
            if let Some(chunk) = viewer.queue.pop_front() {
                viewer
                    .metrics
                    .bytes_sent
                    .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                return Some((Ok(chunk), viewer));
            }
            if viewer.done {
                return None;
            }
            viewer.step().await;
        }
    })
}

impl Viewer {
    async fn step(&mut self) {
        let frames = &mut self.subscription.frames;
        let next_frame = self.next_frame;
        let frame = async move {
            sleep_until(next_frame).await;
            frames.changed().await
        };
        let keepalive = sleep_until(self.next_keepalive);
        let event = tokio::select! {
            result = frame => if result.is_ok() { Event::Frame } else { Event::Closed },
            _ = keepalive, if self.shown.is_some() => Event::Keepalive,
        };
        match event {
            Event::Frame => {
                let latest = self.subscription.frames.borrow_and_update().clone();
                match latest {
                    Some(part) => self.show(part),
                    None if self.subscription.chart.ended() => self.finish(),
                    None => {}
                }
            }
            Event::Keepalive => {
                if let Some(shown) = &self.shown {
                    self.queue.extend([
                        shown.repeat.clone(),
                        Bytes::from_static(NEXT_BOUNDARY),
                        shown.advance.clone(),
                    ]);
                }
                self.next_keepalive = Instant::now() + self.options.keepalive;
            }
            Event::Closed => self.finish(),
        }
    }

    /// Queues what makes the viewer show `part` now.
    fn show(&mut self, part: Arc<Part>) {
        match self.shown.take() {
            None => {
                self.queue.extend([
                    Bytes::from_static(FIRST_BOUNDARY),
                    part.header.clone(),
                    part.jpeg.clone(),
                ]);
            }
            Some(shown) if shown.seq == part.seq => {
                self.shown = Some(shown);
                return;
            }
            Some(shown) => match &part.cont {
                // The announced part becomes this frame, padded to the announced length.
                Some(cont) if part.seq == shown.seq + 1 => self.queue.push_back(cont.clone()),
                // Fill the announced part with the frame already shown, then a fresh part.
                _ => {
                    let skipped = part.seq.saturating_sub(shown.seq + 1);
                    self.metrics
                        .frames_skipped
                        .fetch_add(skipped, Ordering::Relaxed);
                    self.queue.extend([
                        shown.repeat.clone(),
                        Bytes::from_static(NEXT_BOUNDARY),
                        part.header.clone(),
                        part.jpeg.clone(),
                    ]);
                }
            },
        }
        // Advance header: the next part's header block right after the frame, so a
        // browser shows this frame now rather than when the next one begins.
        self.queue
            .extend([Bytes::from_static(NEXT_BOUNDARY), part.advance.clone()]);
        let now = Instant::now();
        self.next_keepalive = now + self.options.keepalive;
        self.next_frame = now + self.options.min_interval;
        self.shown = Some(part);
    }

    /// Completes the announced part and closes the multipart body.
    fn finish(&mut self) {
        if let Some(shown) = self.shown.take() {
            self.queue
                .extend([shown.repeat.clone(), Bytes::from_static(CLOSING_BOUNDARY)]);
        }
        self.done = true;
    }
}
