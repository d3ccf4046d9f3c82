//! A chart's render task: renders on change (data of its metrics changed, or its time
//! axis moved a pixel), capped by the chart's fps, encodes the JPEG once and publishes
//! one shared [`Part`] for all viewers. Runs only while the chart has viewers.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use render_core::{Data, Frame, Renderer, Spec, ValidSpec};
use tokio::time::sleep_until;

use crate::cache::SeriesCache;
use crate::faults::Faults;
use crate::image_files;
use crate::metrics::Metrics;
use crate::stream::hub::{ChartStream, Hub, Part};
use crate::stream::mjpeg;

/// JPEG quality of stream frames.
pub const JPEG_QUALITY: u8 = 85;

/// What render tasks share.
#[derive(Clone)]
pub struct RenderContext {
    /// Data.
    pub cache: Arc<SeriesCache>,
    /// Fonts and drawing.
    pub renderer: Arc<Renderer>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Fault injection (tests only).
    pub faults: Arc<Faults>,
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// How long it takes the fastest-moving time axis of `spec` to move one pixel, or
/// `None` if no panel has a time axis.
pub fn pixel_interval(spec: &ValidSpec) -> Option<Duration> {
    spec.time_resolution_ms()
        .map(|ms| Duration::from_millis(ms.unsigned_abs()))
}

/// Renders chart `id` (`spec`) with the cache's data as of `now` into `frame`
/// (blocking). A render that panics is caught: the frame then shows an error message
/// instead, and `false` is returned; nothing else is affected.
pub fn render_into(
    context: &RenderContext,
    id: &str,
    spec: &ValidSpec,
    now: i64,
    frame: &mut Frame,
) -> bool {
    let metrics = spec.metrics();
    let data = context.cache.snapshot(
        &metrics,
        now.saturating_sub(spec.longest_window_ms()),
        i64::MAX,
    );
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        context.faults.maybe_panic(id);
        context.renderer.render(spec, &data, now, frame);
    }));
    if result.is_ok() {
        return true;
    }
    tracing::error!(chart = %id, "rendering panicked; streaming an error frame");
    context
        .metrics
        .render_panics
        .fetch_add(1, Ordering::Relaxed);
    // The frame may be half-drawn; start from a fresh one.
    *frame = Frame::default();
    if let Some(error_spec) = error_spec(spec.spec().width, spec.spec().height) {
        let drawn = std::panic::catch_unwind(AssertUnwindSafe(|| {
            context
                .renderer
                .render(&error_spec, &Data::default(), now, frame);
        }));
        if drawn.is_err() {
            *frame = Frame::default();
        }
    }
    false
}

/// The spec of the error frame (same size as the chart): a text panel saying that the
/// chart could not be drawn.
fn error_spec(width: u32, height: u32) -> Option<ValidSpec> {
    let json = format!(
        r#"{{"version":1,"width":{width},"height":{height},"theme":"dark","title":"render error",
        "panels":[{{"kind":"text","text":"This chart could not be drawn; the server logged why.\nOther charts are not affected.","font_size":14}}]}}"#
    );
    render_core::validate(Spec::from_json(&json).ok()?).ok()
}

struct Rendered {
    frame: Frame,
    jpeg: Option<Vec<u8>>,
}

/// The task body; see the module docs.
pub async fn run(chart: Arc<ChartStream>, hub: Arc<Hub>) {
    let context = hub.context().clone();
    let mut data_changes = context.cache.subscribe();
    let mut spec_changes = chart.spec.subscribe();
    let mut buffers = Some(Rendered {
        frame: Frame::default(),
        jpeg: None,
    });
    let mut last: Option<(Instant, i64, u64, Arc<ValidSpec>)> = None;
    let mut budget: Option<usize> = None;
    tracing::debug!(chart = %chart.id, "render task started");
    loop {
        if (chart.viewers.load(Ordering::Acquire) == 0 || chart.ended()) && hub.try_stop(&chart) {
            tracing::debug!(chart = %chart.id, "render task stopped");
            return;
        }
        let Some(spec) = spec_changes.borrow_and_update().clone() else {
            return;
        };
        let metric_names = spec.metrics();
        let generation = context.cache.generation_of(&metric_names);
        let now = Instant::now();
        let min_gap = Duration::from_millis(1000 / u64::from(spec.fps().max(1)));
        let pixel = pixel_interval(&spec);
        let due_at = match &last {
            None => Some(now),
            Some((at, now_ms, rendered_generation, rendered_spec)) => {
                let changed =
                    *rendered_generation != generation || !Arc::ptr_eq(rendered_spec, &spec);
                let earliest = *at + min_gap;
                if changed {
                    Some(earliest)
                } else {
                    pixel.map(|p| {
                        let elapsed =
                            Duration::from_millis((self::now_ms() - now_ms).max(0).unsigned_abs());
                        earliest.max(now + p.saturating_sub(elapsed))
                    })
                }
            }
        };
        if due_at.is_some_and(|due| due <= now) {
            let Some(taken) = buffers.take() else { return };
            let render_now = now_ms();
            let ctx = context.clone();
            let job_spec = spec.clone();
            let id = chart.id.clone();
            let result = tokio::task::spawn_blocking(move || {
                render_frame(&ctx, &id, &job_spec, render_now, taken)
            })
            .await;
            let Ok(mut rendered) = result else {
                tracing::error!(chart = %chart.id, "render task panicked");
                return;
            };
            if let Some(jpeg) = rendered.jpeg.take() {
                let part = make_part(&chart, jpeg, budget, render_now);
                budget = Some(part.budget);
                chart.frames.send_replace(Some(Arc::new(part)));
                chart.frames_rendered.fetch_add(1, Ordering::Relaxed);
            }
            buffers = Some(rendered);
            last = Some((now, render_now, generation, spec));
            continue;
        }
        let wake = async {
            match due_at {
                Some(due) => sleep_until(due.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = wake => {}
            result = data_changes.changed() => {
                if result.is_err() { return; }
            }
            result = spec_changes.changed() => {
                if result.is_err() { return; }
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
    render_into(context, id, spec, now, &mut buffers.frame);
    context.metrics.render_time.observe(started.elapsed());
    let started = Instant::now();
    match image_files::jpeg(&buffers.frame, JPEG_QUALITY) {
        Ok(jpeg) => buffers.jpeg = Some(jpeg),
        Err(error) => tracing::error!(%error, "encoding a frame failed"),
    }
    context.metrics.encode_time.observe(started.elapsed());
    buffers
}

fn make_part(chart: &ChartStream, jpeg: Vec<u8>, previous_budget: Option<usize>, now: i64) -> Part {
    let seq = chart.seq.fetch_add(1, Ordering::AcqRel) + 1;
    let budget = mjpeg::budget_after(jpeg.len());
    let cont = previous_budget
        .and_then(|b| mjpeg::pad_jpeg(&jpeg, b))
        .map(Bytes::from);
    // `budget` is always at least 512 bytes more than the JPEG, so this pads.
    let repeat = Bytes::from(mjpeg::pad_jpeg(&jpeg, budget).unwrap_or_else(|| jpeg.clone()));
    let budget = repeat.len();
    Part {
        seq,
        header: mjpeg::part_header(jpeg.len(), now),
        advance: mjpeg::part_header(budget, now),
        jpeg: Bytes::from(jpeg),
        cont,
        repeat,
        budget,
    }
}
