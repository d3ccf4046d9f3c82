//! A chart's render task: renders on change (data of its series changed, or its time
//! axis scrolled: see [`scroll_interval`]), capped by the chart's fps, encodes the JPEG
//! once and publishes one shared [`Part`] for all viewers. Returns when the chart has
//! no viewers (the hub decides whether it stops for good).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use render_core::{Frame, ValidSpec};
use tokio::time::{sleep_until, Instant};

use crate::frames::{render_into, RenderContext, JPEG_QUALITY};
use crate::image_files;
use crate::source::Kept;
use crate::source::Selectors;
use crate::stream::chart::ChartStream;
use crate::stream::hub::Producer;
use crate::stream::parts::PartMaker;

impl Producer for RenderContext {
    fn produce<'a>(
        &'a self,
        variant: &'a Arc<ChartStream>,
    ) -> Pin<Box<dyn Future<Output = bool> + Send + 'a>> {
        Box::pin(run(variant, self))
    }
}

/// How long it takes the fastest-moving time axis of `spec` to move one pixel, or
/// `None` if no panel has a time axis.
pub fn pixel_interval(spec: &ValidSpec) -> Option<Duration> {
    spec.time_resolution_ms()
        .map(|ms| Duration::from_millis(ms.unsigned_abs()))
}

/// In step mode a frame without new data waits until the time axis moved this many
/// pixels ...
const STEP_PIXELS: u32 = 8;
/// ... or this long after the previous frame, whichever comes first. Longer than the
/// 1 s of a typical collector, so a 1 Hz source costs one frame a second, and shorter
/// than the default 2 s keepalive, so an idle chart's viewers get new frames rather
/// than repeats.
const STEP_IDLE: Duration = Duration::from_millis(1500);

/// How long after a frame the chart renders again without new data, or `None` if no
/// panel has a time axis: one pixel's time when `smooth`, else the step of
/// [`STEP_PIXELS`] or [`STEP_IDLE`], whichever is shorter (never under one pixel's time).
pub fn scroll_interval(spec: &ValidSpec, smooth: bool) -> Option<Duration> {
    let pixel = pixel_interval(spec)?;
    if smooth {
        return Some(pixel);
    }
    Some((pixel * STEP_PIXELS).min(STEP_IDLE).max(pixel))
}

struct Rendered {
    frame: Frame,
    jpeg: Option<Vec<u8>>,
    /// The last frame's read: the next frame continues it.
    data: Kept,
}

/// The task body; see the module docs. Returns `true` when the chart had no viewers
/// (or ended), `false` when rendering failed beyond recovery.
pub async fn run(chart: &Arc<ChartStream>, context: &RenderContext) -> bool {
    let mut spec_changes = chart.spec.subscribe();
    // The selectors the data watch was registered for, and the watch.
    let mut watched: Option<(Selectors, Arc<tokio::sync::Notify>)> = None;
    let mut buffers = Some(Rendered {
        frame: Frame::default(),
        jpeg: None,
        data: Kept::default(),
    });
    let mut last: Option<(Instant, i64, u64, Arc<ValidSpec>)> = None;
    let mut parts = PartMaker::default();
    tracing::debug!(chart = %chart.id, "render task started");
    loop {
        if chart.viewers.load(Ordering::Acquire) == 0 || chart.ended() {
            tracing::debug!(chart = %chart.id, "render task has no viewers");
            return true;
        }
        let Some(spec) = spec_changes.borrow_and_update().clone() else {
            return true;
        };
        let selectors = Selectors::of_spec(&spec);
        let changes = match &watched {
            Some((watching, notify)) if *watching == selectors => notify.clone(),
            _ => {
                let notify = Arc::new(tokio::sync::Notify::new());
                context.source.watch(&selectors, &notify);
                watched = Some((selectors.clone(), notify.clone()));
                notify
            }
        };
        let generation = context.source.version(&selectors);
        let now = Instant::now();
        let min_gap = Duration::from_millis(1000 / u64::from(spec.fps().max(1)));
        let scroll = scroll_interval(&spec, chart.smooth(&spec));
        let due_at = match &last {
            None => Some(now),
            Some((at, now_ms, rendered_generation, rendered_spec)) => {
                let changed =
                    *rendered_generation != generation || !Arc::ptr_eq(rendered_spec, &spec);
                let earliest = *at + min_gap;
                if changed {
                    Some(earliest)
                } else {
                    scroll.map(|p| {
                        let elapsed = Duration::from_millis(
                            (context.clock.now_ms() - now_ms).max(0).unsigned_abs(),
                        );
                        earliest.max(now + p.saturating_sub(elapsed))
                    })
                }
            }
        };
        if due_at.is_some_and(|due| due <= now) {
            let Some(taken) = buffers.take() else {
                return false;
            };
            let render_now = context.clock.now_ms();
            let ctx = context.clone();
            let job_spec = spec.clone();
            let id = chart.id.clone();
            let result = tokio::task::spawn_blocking(move || {
                render_frame(&ctx, &id, &job_spec, render_now, taken)
            })
            .await;
            let Ok(mut rendered) = result else {
                tracing::error!(chart = %chart.id, "render task panicked");
                return false;
            };
            if let Some(jpeg) = rendered.jpeg.take() {
                let part = parts.make(chart, Bytes::from(jpeg), render_now);
                chart.frames.send_replace(Some(Arc::new(part)));
                chart.frames_rendered.fetch_add(1, Ordering::Relaxed);
            }
            buffers = Some(rendered);
            last = Some((now, render_now, generation, spec));
            continue;
        }
        let wake = async {
            match due_at {
                Some(due) => sleep_until(due).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = wake => {}
            _ = changes.notified() => {}
            result = spec_changes.changed() => {
                if result.is_err() { return true; }
            }
            _ = chart.wake.notified() => {}
        }
    }
}

fn render_frame(
    context: &RenderContext,
    id: &str,
    spec: &ValidSpec,
    now: i64,
    mut buffers: Rendered,
) -> Rendered {
    let started = Instant::now();
    render_into(
        context,
        id,
        spec,
        None,
        now,
        &mut buffers.frame,
        &mut buffers.data,
    );
    context.metrics.render_time.observe(started.elapsed());
    let started = Instant::now();
    match image_files::jpeg(&buffers.frame, JPEG_QUALITY) {
        Ok(jpeg) => buffers.jpeg = Some(jpeg),
        Err(error) => tracing::error!(%error, "encoding a frame failed"),
    }
    context.metrics.encode_time.observe(started.elapsed());
    buffers
}
