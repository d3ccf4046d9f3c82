//! The live state of one variant of a chart ([`ChartStream`]: its URL parameters,
//! spec, latest frame, viewers) and a viewer's hold on it ([`Subscription`]). The hub
//! creates them; the render task and the viewers' bodies use them.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use render_core::{Params, ValidSpec};
use tokio::sync::{watch, Notify};

use crate::metrics::Metrics;
use crate::stream::mjpeg::Part;

/// A chart variant's live state.
pub struct ChartStream {
    /// Chart id.
    pub id: String,
    /// The URL parameters of this variant (empty: the chart as published).
    pub params: Params,
    pub(crate) spec: watch::Sender<Option<Arc<ValidSpec>>>,
    pub(crate) frames: watch::Sender<Option<Arc<Part>>>,
    pub(crate) viewers: AtomicUsize,
    /// Viewers that asked for smooth scrolling (`?scroll=smooth`): while there is one,
    /// the chart renders every pixel its time axis moves, for all its viewers.
    pub(crate) smooth_viewers: AtomicUsize,
    pub(crate) running: AtomicBool,
    pub(crate) ended: AtomicBool,
    pub(crate) wake: Notify,
    pub(crate) seq: AtomicU64,
    /// Frames rendered by all variants of the chart.
    pub(crate) frames_rendered: Arc<AtomicU64>,
}

impl ChartStream {
    /// A variant with no viewers and no frame yet.
    pub(crate) fn new(
        id: &str,
        params: Params,
        spec: Arc<ValidSpec>,
        frames_rendered: Arc<AtomicU64>,
    ) -> ChartStream {
        ChartStream {
            id: id.to_string(),
            params,
            spec: watch::channel(Some(spec)).0,
            frames: watch::channel(None).0,
            viewers: AtomicUsize::new(0),
            smooth_viewers: AtomicUsize::new(0),
            running: AtomicBool::new(false),
            ended: AtomicBool::new(false),
            wake: Notify::new(),
            seq: AtomicU64::new(0),
            frames_rendered,
        }
    }

    /// The variant's current spec (`None` once deleted).
    pub fn spec(&self) -> Option<Arc<ValidSpec>> {
        self.spec.borrow().clone()
    }

    /// Whether the chart renders every pixel its time axis moves: its spec says
    /// `"scroll": "smooth"` or a viewer asked for it.
    pub fn smooth(&self, spec: &ValidSpec) -> bool {
        spec.scroll() == render_core::Scroll::Smooth
            || self.smooth_viewers.load(Ordering::Acquire) > 0
    }

    /// Ends the variant's streams (the chart was deleted, the server shuts down).
    pub fn end(&self) {
        self.ended.store(true, Ordering::Release);
        self.frames.send_replace(None);
        self.wake.notify_one();
    }

    /// Whether the chart was deleted or the server is shutting down.
    pub fn ended(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }
}

/// A viewer's hold on a chart stream; dropping it counts the viewer out.
pub struct Subscription {
    /// The chart.
    pub chart: Arc<ChartStream>,
    /// Latest frames.
    pub frames: watch::Receiver<Option<Arc<Part>>>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) total: Arc<AtomicUsize>,
    /// Whether this viewer counts in [`ChartStream::smooth_viewers`].
    pub(crate) smooth: bool,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.chart.viewers.fetch_sub(1, Ordering::AcqRel);
        if self.smooth {
            self.chart.smooth_viewers.fetch_sub(1, Ordering::AcqRel);
        }
        self.total.fetch_sub(1, Ordering::AcqRel);
        self.chart.wake.notify_one();
        self.metrics
            .viewers_disconnected
            .fetch_add(1, Ordering::Relaxed);
    }
}
