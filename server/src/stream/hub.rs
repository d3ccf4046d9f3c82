//! The hub: every published chart's live state and the rule that each live **variant**
//! of a chart (one set of URL parameters: variable values and overrides, keyed by
//! their canonical query) has exactly one render task while, and only while, it has
//! viewers. A chart keeps its spec as published, so a republish re-derives every live
//! variant; a variant is dropped with its last viewer, and at most
//! `max_variants_per_chart` are live at once.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use render_core::{Params, Spec, ValidSpec, ValidationErrors};

use crate::metrics::{ChartStats, Metrics};
use crate::stream::chart::{ChartStream, Subscription};

/// What makes a live variant's frames: the render task on a server that renders
/// (`frames::RenderContext`), the relay of frames from NATS on an edge
/// (`cluster::relay`).
pub trait Producer: Send + Sync + 'static {
    /// Produces frames into `variant.frames` until the variant has no viewers or ended
    /// (then `true`; the hub decides whether it stops for good), or fails beyond
    /// recovery (`false`).
    fn produce<'a>(
        &'a self,
        variant: &'a Arc<ChartStream>,
    ) -> Pin<Box<dyn Future<Output = bool> + Send + 'a>>;
}

/// How many viewers and variants the hub admits.
#[derive(Debug, Clone, Copy)]
pub struct ViewerLimits {
    /// Viewers per chart (all its variants).
    pub per_chart: usize,
    /// Viewers in total.
    pub total: usize,
    /// Live variants per chart.
    pub variants_per_chart: usize,
}

/// Why a viewer was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscribeError {
    /// No such chart (or it was deleted).
    #[error("no chart {0:?}")]
    NotFound(String),
    /// The parameters do not fit the chart (a value not allowed, a size too large).
    #[error(transparent)]
    Invalid(ValidationErrors),
    /// The chart has as many viewers as allowed.
    #[error("chart {0:?} has its maximum of {1} viewers (max_viewers_per_chart); retry later")]
    ChartFull(String, usize),
    /// The server has as many viewers as allowed.
    #[error("the server has its maximum of {0} viewers (max_viewers); retry later")]
    ServerFull(usize),
    /// The chart has as many live variants (distinct URL parameters) as allowed.
    #[error(
        "chart {0:?} has its maximum of {1} live variants (max_variants_per_chart): \
         other parameter values are watched; retry later or use one of those"
    )]
    VariantsFull(String, usize),
}

/// A published chart: its spec as published, the spec without parameters, and its
/// live variants by canonical query.
struct Chart {
    spec: Arc<Spec>,
    default: Arc<ValidSpec>,
    private: bool,
    variants: HashMap<String, Arc<ChartStream>>,
    frames_rendered: Arc<AtomicU64>,
}

/// What handlers need of a published chart.
#[derive(Clone)]
pub struct ChartInfo {
    /// The spec as published (variables not substituted).
    pub spec: Arc<Spec>,
    /// The spec without URL parameters (variables at their defaults).
    pub default: Arc<ValidSpec>,
    /// Whether viewers need a signed URL (or the token).
    pub private: bool,
}

impl ChartInfo {
    /// The spec a viewer with `params` sees.
    pub fn resolve(&self, params: &Params) -> Result<Arc<ValidSpec>, ValidationErrors> {
        if params.is_empty() {
            return Ok(self.default.clone());
        }
        render_core::resolve(&self.spec, params).map(Arc::new)
    }
}

/// A variant with viewers ([`Hub::live_variants`]).
#[derive(Debug, Clone)]
pub struct LiveVariant {
    /// Chart id.
    pub chart: String,
    /// The variant's canonical query.
    pub query: String,
    /// Whether a viewer asked for smooth scrolling.
    pub smooth: bool,
}

/// All charts.
pub struct Hub {
    charts: Mutex<HashMap<String, Chart>>,
    producer: Arc<dyn Producer>,
    metrics: Arc<Metrics>,
    limits: ViewerLimits,
    total: Arc<AtomicUsize>,
}

impl Hub {
    /// An empty hub whose variants get their frames from `producer`.
    pub fn new(
        producer: Arc<dyn Producer>,
        metrics: Arc<Metrics>,
        limits: ViewerLimits,
    ) -> Arc<Hub> {
        Arc::new(Hub {
            charts: Mutex::new(HashMap::new()),
            producer,
            metrics,
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

    fn charts(&self) -> std::sync::MutexGuard<'_, HashMap<String, Chart>> {
        self.charts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Publishes (or replaces) a chart's spec (`default`: it resolved without
    /// parameters) and privacy. Every live variant is re-derived from the new spec and
    /// picks it up at once; a variant whose parameters no longer fit ends.
    pub fn publish(&self, id: &str, spec: Arc<Spec>, default: Arc<ValidSpec>, private: bool) {
        let mut charts = self.charts();
        let Some(chart) = charts.get_mut(id) else {
            let chart = Chart {
                spec,
                default,
                private,
                variants: HashMap::new(),
                frames_rendered: Arc::new(AtomicU64::new(0)),
            };
            charts.insert(id.to_string(), chart);
            return;
        };
        chart.spec = spec;
        chart.default = default;
        chart.private = private;
        let info = chart.info();
        chart.variants.retain(|_, variant| match info.resolve(&variant.params) {
            Ok(spec) => {
                variant.spec.send_replace(Some(spec));
                true
            }
            Err(errors) => {
                tracing::info!(chart = %id, params = %variant.params.query(), %errors, "variant no longer fits the chart; its streams end");
                variant.end();
                false
            }
        });
    }

    /// Removes a chart; its viewers' streams end.
    pub fn remove(&self, id: &str) {
        if let Some(chart) = self.charts().remove(id) {
            chart.variants.values().for_each(|v| v.end());
        }
    }

    /// Ends every stream (server shutdown).
    pub fn shutdown(&self) {
        for chart in self.charts().values() {
            chart.variants.values().for_each(|v| v.end());
        }
    }

    /// A chart's spec and privacy.
    pub fn get(&self, id: &str) -> Option<ChartInfo> {
        self.charts().get(id).map(Chart::info)
    }

    /// The latest frame (JPEG) of chart `id`'s live variant for `params`, if one is live.
    pub fn latest_jpeg(&self, id: &str, params: &Params) -> Option<bytes::Bytes> {
        let charts = self.charts();
        let variant = charts.get(id)?.variants.get(&params.query())?;
        let jpeg = variant
            .frames
            .borrow()
            .as_ref()
            .map(|part| part.jpeg.clone());
        jpeg
    }

    /// Adds a viewer to chart `id`'s variant for `params`, creating the variant and
    /// starting its render task if it has none; refused beyond the viewer and variant
    /// limits (checked under the hub lock, so they are never exceeded). A `smooth`
    /// viewer makes its variant scroll smoothly while it watches.
    pub fn subscribe(
        self: &Arc<Self>,
        id: &str,
        params: &Params,
        smooth: bool,
    ) -> Result<Subscription, SubscribeError> {
        let mut charts = self.charts();
        let chart = charts
            .get_mut(id)
            .ok_or_else(|| SubscribeError::NotFound(id.to_string()))?;
        let key = params.query();
        let live = chart.variants.get(&key).filter(|v| !v.ended()).cloned();
        let variant = match live {
            Some(variant) => variant,
            None => {
                let spec = chart
                    .info()
                    .resolve(params)
                    .map_err(SubscribeError::Invalid)?;
                if chart.variants.len() >= self.limits.variants_per_chart {
                    return Err(SubscribeError::VariantsFull(
                        id.to_string(),
                        self.limits.variants_per_chart,
                    ));
                }
                Arc::new(ChartStream::new(
                    id,
                    params.clone(),
                    spec,
                    chart.frames_rendered.clone(),
                ))
            }
        };
        let viewers: usize = chart
            .variants
            .values()
            .map(|v| v.viewers.load(Ordering::Acquire))
            .sum();
        if viewers >= self.limits.per_chart {
            return Err(SubscribeError::ChartFull(
                id.to_string(),
                self.limits.per_chart,
            ));
        }
        if self.total.load(Ordering::Acquire) >= self.limits.total {
            return Err(SubscribeError::ServerFull(self.limits.total));
        }
        chart.variants.insert(key, variant.clone());
        self.total.fetch_add(1, Ordering::AcqRel);
        variant.viewers.fetch_add(1, Ordering::AcqRel);
        if smooth {
            variant.smooth_viewers.fetch_add(1, Ordering::AcqRel);
            // A running task re-plans its next frame.
            variant.wake.notify_one();
        }
        if !variant.running.swap(true, Ordering::AcqRel) {
            let (hub, variant) = (self.clone(), variant.clone());
            tokio::spawn(async move {
                // The task returns when it sees no viewers; it stops for good only if
                // none arrived since (decided under the hub lock). A task that failed
                // stays "running", so no new one starts over and over.
                while hub.producer.produce(&variant).await {
                    if hub.try_stop(&variant) {
                        break;
                    }
                }
            });
        }
        let frames = variant.frames.subscribe();
        Ok(Subscription {
            chart: variant,
            frames,
            metrics: self.metrics.clone(),
            total: self.total.clone(),
            smooth,
        })
    }

    /// Called when a render task saw no viewers: stops it and drops the variant unless
    /// a viewer arrived since (decided under the hub lock, so a new viewer always finds
    /// a running task or no variant).
    fn try_stop(&self, variant: &Arc<ChartStream>) -> bool {
        let mut charts = self.charts();
        if variant.viewers.load(Ordering::Acquire) > 0 && !variant.ended() {
            return false;
        }
        variant.running.store(false, Ordering::Release);
        variant.frames.send_replace(None);
        if let Some(chart) = charts.get_mut(&variant.id) {
            let key = variant.params.query();
            if chart
                .variants
                .get(&key)
                .is_some_and(|v| Arc::ptr_eq(v, variant))
            {
                chart.variants.remove(&key);
            }
        }
        true
    }

    /// The variants that have viewers now.
    pub fn live_variants(&self) -> Vec<LiveVariant> {
        let charts = self.charts();
        let mut live = Vec::new();
        for (id, chart) in charts.iter() {
            for (query, variant) in &chart.variants {
                if variant.viewers.load(Ordering::Acquire) > 0 && !variant.ended() {
                    live.push(LiveVariant {
                        chart: id.clone(),
                        query: query.clone(),
                        smooth: variant.smooth_viewers.load(Ordering::Acquire) > 0,
                    });
                }
            }
        }
        live
    }

    /// Per-chart numbers for `/metrics`.
    pub fn stats(&self) -> Vec<ChartStats> {
        let mut stats: Vec<ChartStats> = self
            .charts()
            .iter()
            .map(|(id, c)| ChartStats {
                id: id.clone(),
                viewers: c
                    .variants
                    .values()
                    .map(|v| v.viewers.load(Ordering::Relaxed))
                    .sum(),
                variants: c.variants.len(),
                frames: c.frames_rendered.load(Ordering::Relaxed),
            })
            .collect();
        stats.sort_by(|a, b| a.id.cmp(&b.id));
        stats
    }
}

impl Chart {
    fn info(&self) -> ChartInfo {
        ChartInfo {
            spec: self.spec.clone(),
            default: self.default.clone(),
            private: self.private,
        }
    }
}
