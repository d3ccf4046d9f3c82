//! `AppState`: what every handler shares (config, store, cache, hub, metrics), how it is
//! opened from the data directory, and the one ingest path all data takes.

use std::ops::Deref;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use render_core::{Renderer, Spec, ValidSpec};

use crate::cache::SeriesCache;
use crate::config::Config;
use crate::error::AppError;
use crate::line_protocol::Sample;
use crate::metrics::Metrics;
use crate::points::Batch;
use crate::store::{Store, StoreError};
use crate::stream::hub::{Hub, ViewerLimits};
use crate::stream::render::{now_ms, RenderContext};

/// The least the cache keeps, whatever the charts' windows.
const MIN_HORIZON_MS: i64 = 3_600_000;

/// Shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The parts of the state.
pub struct Inner {
    /// Configuration.
    pub config: Config,
    /// Durable storage.
    pub store: Arc<Store>,
    /// Recent points for rendering.
    pub cache: Arc<SeriesCache>,
    /// Live chart streams.
    pub hub: Arc<Hub>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Render context (cache, renderer, metrics).
    pub render: RenderContext,
    /// The bytes of the extra fonts (`--font`), in fallback order, for the editor.
    pub fonts: Vec<bytes::Bytes>,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store could not be opened or read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A `--font` file could not be read or is not a font.
    #[error("font {path}: {message}")]
    Font {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A blocking task failed.
    #[error("startup task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

impl AppState {
    /// Opens the store in the data directory, loads charts and recent points.
    pub async fn open(config: Config) -> Result<AppState, StartError> {
        let dir = config.data_dir.clone();
        let store = Arc::new(tokio::task::spawn_blocking(move || Store::open(&dir)).await??);
        let metrics = Arc::new(Metrics::default());
        let cache = Arc::new(SeriesCache::new(MIN_HORIZON_MS));
        let mut renderer = Renderer::default();
        let mut fonts = Vec::new();
        for path in &config.fonts {
            let failed = |message: String| StartError::Font {
                path: path.display().to_string(),
                message,
            };
            let bytes = std::fs::read(path).map_err(|e| failed(e.to_string()))?;
            renderer
                .register_font(bytes.clone())
                .map_err(|e| failed(e.to_string()))?;
            fonts.push(bytes::Bytes::from(bytes));
        }
        let render = RenderContext {
            cache: cache.clone(),
            renderer: Arc::new(renderer),
            metrics: metrics.clone(),
            faults: config.faults.clone(),
        };
        let limits = ViewerLimits {
            per_chart: config.max_viewers_per_chart,
            total: config.max_viewers,
        };
        let hub = Hub::new(render.clone(), limits);
        let state = AppState(Arc::new(Inner {
            config,
            store,
            cache,
            hub,
            metrics,
            render,
            fonts,
        }));
        let store = state.store.clone();
        let charts = tokio::task::spawn_blocking(move || store.list_charts()).await??;
        let mut horizon = MIN_HORIZON_MS;
        for chart in &charts {
            match Spec::from_json(&chart.spec)
                .map_err(|e| e.to_string())
                .and_then(|s| render_core::validate(s).map_err(|e| e.to_string()))
            {
                Ok(spec) => {
                    horizon = horizon.max(spec.longest_window_ms());
                    state.hub.publish(&chart.id, Arc::new(spec), chart.private);
                }
                Err(error) => {
                    tracing::warn!(chart = %chart.id, %error, "stored chart no longer valid; not served")
                }
            }
        }
        state.reload_cache(horizon).await?;
        if state.config.demo && charts.is_empty() {
            crate::demo::publish_chart(&state).await;
        }
        Ok(state)
    }

    /// Refills the cache from the store with a (possibly larger) horizon.
    pub async fn reload_cache(&self, horizon_ms: i64) -> Result<(), StoreError> {
        let horizon = horizon_ms.min(self.config.retention_ms).max(1);
        let since = now_ms().saturating_sub(horizon);
        let store = self.store.clone();
        let series = tokio::task::spawn_blocking(move || store.load_since(since))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))??;
        self.cache.reset(horizon, series, now_ms());
        Ok(())
    }

    /// Runs blocking store work off the async threads.
    pub async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, AppError> {
        let store = self.store.clone();
        let read_only = self.config.faults.read_only_store();
        tokio::task::spawn_blocking(move || {
            store.set_query_only(read_only)?;
            work(&store)
        })
        .await
        .map_err(|e| AppError::Internal(format!("store task: {e}")))?
        .map_err(AppError::from)
    }

    /// Stores samples (one transaction, acknowledged after commit), then makes them
    /// visible to the charts. Returns how many were stored.
    pub async fn ingest(&self, samples: Vec<Sample>) -> Result<usize, AppError> {
        self.ingest_batch(Batch::from_samples(&samples)).await
    }

    /// [`AppState::ingest`] for a batch grouped by series: stores it (one transaction,
    /// acknowledged after commit), then makes it visible to the charts. Returns how many
    /// samples the write carried.
    pub async fn ingest_batch(&self, batch: Batch) -> Result<usize, AppError> {
        if batch.samples == 0 {
            return Ok(0);
        }
        let batch = Arc::new(batch);
        let stored = batch.clone();
        let max_series = self.config.max_series;
        self.blocking(move |store| store.write_batch(&stored, max_series))
            .await?;
        self.cache.insert_batch(&batch, now_ms());
        self.metrics
            .points_ingested
            .fetch_add(batch.samples as u64, Ordering::Relaxed);
        Ok(batch.samples)
    }

    /// Publishes a validated spec: store first, then the live hub. `private` sets the
    /// chart's privacy (`None` keeps it). Returns the version and the privacy.
    pub async fn publish(
        &self,
        id: &str,
        json: String,
        spec: ValidSpec,
        private: Option<bool>,
    ) -> Result<(i64, bool), AppError> {
        let key = id.to_string();
        let (version, private) = self
            .blocking(move |store| store.put_chart(&key, &json, now_ms(), private))
            .await?;
        let window = spec.longest_window_ms();
        if window > self.cache.horizon_ms() && self.cache.horizon_ms() < self.config.retention_ms {
            self.reload_cache(window).await?;
        }
        self.hub.publish(id, Arc::new(spec), private);
        Ok((version, private))
    }
}
