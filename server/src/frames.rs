//! The one render path: the stream task, `.jpg`/`.png` on demand and
//! `POST /api/render` all draw through [`render_into`], with the same data (read
//! through the [`Source`] unless the request brought its own), the same panic handling
//! and the same error frame.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use render_core::{Data, Frame, Renderer, Spec, ValidSpec};

use crate::clock::Clock;
use crate::faults::Faults;
use crate::image_files;
use crate::metrics::Metrics;
use crate::source::{Query, Selectors, Source};

/// JPEG quality of stream frames and `.jpg` snapshots.
pub const JPEG_QUALITY: u8 = 85;

/// What every render shares.
#[derive(Clone)]
pub struct RenderContext {
    /// Data.
    pub source: Arc<dyn Source>,
    /// Fonts and drawing.
    pub renderer: Arc<Renderer>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Fault injection (tests only).
    pub faults: Arc<Faults>,
    /// "Now".
    pub clock: Clock,
}

/// What a chart draws at `now`: everything its selectors match over its data range, at
/// the resolution of its finest time axis (the same query the editor's preview asks).
fn query_of<'a>(spec: &ValidSpec, selectors: &'a Selectors, now: i64) -> Query<'a> {
    let (from, to) = spec.data_range(now);
    Query {
        selectors,
        from,
        to,
        resolution_ms: spec.time_resolution_ms().unwrap_or(1).max(1),
    }
}

/// Renders chart `id` (`spec`) as of `now` into `frame` (blocking), from `data` or,
/// when `None`, from the source. A render that panics is caught: the frame then shows
/// an error message instead, and `false` is returned; nothing else is affected.
pub fn render_into(
    context: &RenderContext,
    id: &str,
    spec: &ValidSpec,
    data: Option<&Data>,
    now: i64,
    frame: &mut Frame,
) -> bool {
    let read;
    let data = match data {
        Some(data) => data,
        None => {
            let selectors = Selectors::of_spec(spec);
            read = context.source.read(&query_of(spec, &selectors, now));
            &read
        }
    };
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        context.faults.maybe_panic(id);
        context.renderer.render(spec, data, now, frame);
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

/// An image file format of a single frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// JPEG at the stream's quality.
    Jpeg,
    /// PNG (lossless).
    Png,
}

/// [`render_into`] a fresh frame, encoded as `format` (blocking).
pub fn render_image(
    context: &RenderContext,
    id: &str,
    spec: &ValidSpec,
    data: Option<&Data>,
    now: i64,
    format: ImageFormat,
) -> Result<Vec<u8>, String> {
    let mut frame = Frame::default();
    render_into(context, id, spec, data, now, &mut frame);
    match format {
        ImageFormat::Jpeg => image_files::jpeg(&frame, JPEG_QUALITY).map_err(|e| e.to_string()),
        ImageFormat::Png => image_files::png(&frame).map_err(|e| e.to_string()),
    }
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
