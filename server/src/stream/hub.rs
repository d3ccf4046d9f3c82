//! The hub: every published chart's live state (spec, latest frame, viewers) and the
//! rule that a chart has exactly one render task while, and only while, it has viewers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use render_core::ValidSpec;
use tokio::sync::{watch, Notify};

use crate::frames::RenderContext;
use crate::metrics::ChartStats;
use crate::stream::chart::{ChartStream, Subscription};
use crate::stream::render;

/// How many viewers the hub admits.
#[derive(Debug, Clone, Copy)]
pub struct ViewerLimits {
    /// Per chart.
    pub per_chart: usize,
    /// In total.
    pub total: usize,
}

/// Why a viewer was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscribeError {
    /// No such chart (or it was deleted).
    #[error("no chart {0:?}")]
    NotFound(String),
    /// The chart has as many viewers as allowed.
    #[error("chart {0:?} has its maximum of {1} viewers (max_viewers_per_chart); retry later")]
    ChartFull(String, usize),
    /// The server has as many viewers as allowed.
    #[error("the server has its maximum of {0} viewers (max_viewers); retry later")]
    ServerFull(usize),
}

/// All charts.
pub struct Hub {
    charts: Mutex<HashMap<String, Arc<ChartStream>>>,
    context: RenderContext,
    limits: ViewerLimits,
    total: Arc<AtomicUsize>,
}

impl Hub {
    /// An empty hub whose render tasks use `context`.
    pub fn new(context: RenderContext, limits: ViewerLimits) -> Arc<Hub> {
        Arc::new(Hub {
            charts: Mutex::new(HashMap::new()),
            context,
            limits,
            total: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Whether no chart is published.
    pub fn is_empty(&self) -> bool {
        self.charts().is_empty()
    }

    /// Viewers of all charts.
    pub fn total_viewers(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }

    fn charts(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<ChartStream>>> {
        self.charts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Publishes (or replaces) a chart's spec and privacy; a running stream picks it up
    /// at once.
    pub fn publish(&self, id: &str, spec: Arc<ValidSpec>, private: bool) {
        let mut charts = self.charts();
        match charts.get(id) {
            Some(chart) => {
                chart.private.store(private, Ordering::Release);
                chart.spec.send_replace(Some(spec));
            }
            None => {
                let chart = ChartStream {
                    id: id.to_string(),
                    spec: watch::channel(Some(spec)).0,
                    frames: watch::channel(None).0,
                    viewers: AtomicUsize::new(0),
                    smooth_viewers: AtomicUsize::new(0),
                    running: AtomicBool::new(false),
                    ended: AtomicBool::new(false),
                    wake: Notify::new(),
                    seq: AtomicU64::new(0),
                    frames_rendered: AtomicU64::new(0),
                    private: AtomicBool::new(private),
                };
                charts.insert(id.to_string(), Arc::new(chart));
            }
        }
    }

    /// Removes a chart; its viewers' streams end.
    pub fn remove(&self, id: &str) {
        if let Some(chart) = self.charts().remove(id) {
            end(&chart);
        }
    }

    /// Ends every stream (server shutdown).
    pub fn shutdown(&self) {
        for chart in self.charts().values() {
            end(chart);
        }
    }

    /// A chart's live state.
    pub fn get(&self, id: &str) -> Option<Arc<ChartStream>> {
        self.charts().get(id).cloned()
    }

    /// Adds a viewer to a chart, starting its render task if it has none; refused
    /// beyond the viewer limits (checked under the hub lock, so they are never exceeded).
    /// A `smooth` viewer makes the chart scroll smoothly while it watches.
    pub fn subscribe(
        self: &Arc<Self>,
        id: &str,
        smooth: bool,
    ) -> Result<Subscription, SubscribeError> {
        let charts = self.charts();
        let missing = || SubscribeError::NotFound(id.to_string());
        let chart = charts.get(id).ok_or_else(missing)?.clone();
        if chart.ended() {
            return Err(missing());
        }
        if chart.viewers.load(Ordering::Acquire) >= self.limits.per_chart {
            return Err(SubscribeError::ChartFull(
                id.to_string(),
                self.limits.per_chart,
            ));
        }
        if self.total.load(Ordering::Acquire) >= self.limits.total {
            return Err(SubscribeError::ServerFull(self.limits.total));
        }
        self.total.fetch_add(1, Ordering::AcqRel);
        chart.viewers.fetch_add(1, Ordering::AcqRel);
        if smooth {
            chart.smooth_viewers.fetch_add(1, Ordering::AcqRel);
            // A running task re-plans its next frame.
            chart.wake.notify_one();
        }
        if !chart.running.swap(true, Ordering::AcqRel) {
            let (hub, chart) = (self.clone(), chart.clone());
            tokio::spawn(async move {
                // The task returns when it sees no viewers; it stops for good only if
                // none arrived since (decided under the hub lock). A task that failed
                // stays "running", so no new one starts over and over.
                while render::run(&chart, &hub.context).await {
                    if hub.try_stop(&chart) {
                        break;
                    }
                }
            });
        }
        let frames = chart.frames.subscribe();
        Ok(Subscription {
            chart,
            frames,
            metrics: self.context.metrics.clone(),
            total: self.total.clone(),
            smooth,
        })
    }

    /// Called when a render task saw no viewers: stops it unless one arrived since
    /// (decided under the hub lock, so a new viewer always finds a running task).
    fn try_stop(&self, chart: &ChartStream) -> bool {
        let _charts = self.charts();
        if chart.viewers.load(Ordering::Acquire) == 0 || chart.ended() {
            chart.running.store(false, Ordering::Release);
            chart.frames.send_replace(None);
            true
        } else {
            false
        }
    }

    /// Per-chart numbers for `/metrics`.
    pub fn stats(&self) -> Vec<ChartStats> {
        let mut stats: Vec<ChartStats> = self
            .charts()
            .values()
            .map(|c| ChartStats {
                id: c.id.clone(),
                viewers: c.viewers.load(Ordering::Relaxed),
                frames: c.frames_rendered.load(Ordering::Relaxed),
            })
            .collect();
        stats.sort_by(|a, b| a.id.cmp(&b.id));
        stats
    }
}

fn end(chart: &ChartStream) {
    chart.ended.store(true, Ordering::Release);
    chart.frames.send_replace(None);
    chart.wake.notify_one();
}
