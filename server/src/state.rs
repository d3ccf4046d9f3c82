//! `AppState`: what every handler shares, opened from the data directory, and the
//! operations handlers call on it: storing a write, publishing a chart, reading data,
//! running store work off the async threads.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use render_core::{
    Data, Params, ReadStretch, Renderer, Spec, ValidSpec, ValidationError, ValidationErrors,
};

use crate::config::Config;
use crate::error::AppError;
use crate::frames::{render_image, ImageFormat, RenderContext};
use crate::hooks::Hooks;
use crate::ingest::{Batch, Sample};
use crate::metrics::Metrics;
use crate::source::{
    BuiltinSource, Horizons, Prometheus, Query, QueryError, Selectors, SeriesInfo, Source, Sources,
};
use crate::store::{Store, StoreError, StoredChart};
use crate::stream::hub::{Hub, ViewerLimits};
use crate::system_fonts::{fallback_chain, FontFile};

/// Shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    config: Config,
    /// Charts (and, through `source`, points).
    store: Arc<Store>,
    /// The built-in store (writes go here).
    source: Arc<BuiltinSource>,
    /// The configured Prometheus sources.
    prometheus: Prometheus,
    /// Both, as the renders and the previews read them.
    sources: Arc<Sources>,
    hub: Arc<Hub>,
    metrics: Arc<Metrics>,
    render: RenderContext,
    /// The bytes of the extra fonts (`--font`), in fallback order, for the editor.
    fonts: Vec<Bytes>,
    hooks: Hooks,
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
    /// `--tls-cert` / `--tls-key` cannot be used.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// A configured source could not be set up.
    #[error("{0}")]
    Source(String),
    /// NATS cannot be used as configured.
    #[error(transparent)]
    Nats(#[from] crate::cluster::connect::NatsError),
    /// A blocking task failed.
    #[error("startup task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

impl AppState {
    /// Opens the store in the data directory, loads the charts and their recent points;
    /// `hooks` are the clock and the faults (tests only) it runs with.
    pub async fn open(config: Config, hooks: Hooks) -> Result<AppState, StartError> {
        let dir = config.data_dir.clone();
        let store = Arc::new(tokio::task::spawn_blocking(move || Store::open(&dir)).await??);
        let source = Arc::new(BuiltinSource::new(
            store.clone(),
            config.retention_ms(),
            hooks.clock,
        ));
        let metrics = Arc::new(Metrics::default());
        let prometheus =
            Prometheus::new(&config.sources, &metrics, hooks.clock).map_err(StartError::Source)?;
        let sources = Arc::new(Sources::new(vec![
            source.clone(),
            Arc::new(prometheus.clone()),
        ]));
        let (renderer, fonts) = load_fonts(&config)?;
        let render = RenderContext {
            source: sources.clone(),
            renderer: Arc::new(renderer),
            metrics: metrics.clone(),
            faults: hooks.faults.clone(),
            clock: hooks.clock,
        };
        let limits = ViewerLimits {
            per_chart: config.max_viewers_per_chart,
            total: config.max_viewers,
            variants_per_chart: config.max_variants_per_chart,
        };
        let hub = Hub::new(Arc::new(render.clone()), metrics.clone(), limits);
        let state = AppState(Arc::new(Inner {
            config,
            store,
            source,
            prometheus,
            sources,
            hub,
            metrics,
            render,
            fonts,
            hooks,
        }));
        let listing = state.0.store.clone();
        let charts = tokio::task::spawn_blocking(move || listing.list_charts()).await??;
        let mut needs = Horizons::default();
        for chart in &charts {
            let parsed = Spec::from_json(&chart.spec).map_err(|e| e.to_string());
            let resolved = parsed.and_then(|spec| {
                let valid = render_core::resolve(&spec, &Params::default());
                Ok((spec, valid.map_err(|e| e.to_string())?))
            });
            match resolved {
                Ok((spec, valid)) => {
                    needs = needs.max(&BuiltinSource::needs(&valid));
                    state
                        .0
                        .hub
                        .publish(&chart.id, Arc::new(spec), Arc::new(valid), chart.private);
                }
                Err(error) => {
                    tracing::warn!(chart = %chart.id, %error, "stored chart no longer valid; not served")
                }
            }
        }
        let source = state.0.source.clone();
        tokio::task::spawn_blocking(move || {
            source.backfill_tiers()?;
            source.reach(&needs)
        })
        .await??;
        Ok(state)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// Milliseconds since the epoch, now (by the state's clock).
    pub fn now_ms(&self) -> i64 {
        self.0.hooks.clock.now_ms()
    }

    /// Live chart streams.
    pub fn hub(&self) -> &Arc<Hub> {
        &self.0.hub
    }

    /// Counters.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.0.metrics
    }

    /// Renders chart `id` (`spec`) as of `now` from `data` (else from the source) to
    /// an image file, on the blocking threads, through the one render path.
    pub async fn render_image(
        &self,
        id: &str,
        spec: Arc<ValidSpec>,
        data: Option<Data>,
        now: i64,
        format: ImageFormat,
    ) -> Result<Vec<u8>, AppError> {
        let context = self.0.render.clone();
        let id = id.to_string();
        tokio::task::spawn_blocking(move || {
            render_image(&context, &id, &spec, data.as_ref(), now, format)
        })
        .await
        .map_err(|e| AppError::Internal(format!("render task: {e}")))?
        .map_err(AppError::Internal)
    }

    /// The bytes of the extra fonts, in fallback order.
    pub fn fonts(&self) -> &[Bytes] {
        &self.0.fonts
    }

    /// Every known series with its latest point.
    pub fn series(&self) -> Vec<SeriesInfo> {
        self.0.source.list()
    }

    /// The configured Prometheus sources.
    pub fn prometheus(&self) -> &Prometheus {
        &self.0.prometheus
    }

    /// The series `selectors` match, with their points in `stretches` (oldest first,
    /// the last until `to`), read through the same source the streams draw from.
    pub async fn read(
        &self,
        selectors: Selectors,
        stretches: Vec<ReadStretch>,
        to: i64,
    ) -> Result<Data, AppError> {
        let source = self.0.sources.clone();
        tokio::task::spawn_blocking(move || {
            source.read(&Query {
                selectors: &selectors,
                stretches,
                to,
            })
        })
        .await
        .map_err(|e| AppError::Internal(format!("read task: {e}")))
    }

    /// Every stored chart.
    pub async fn charts(&self) -> Result<Vec<StoredChart>, AppError> {
        self.blocking(|store| store.list_charts()).await
    }

    /// A stored chart.
    pub async fn chart(&self, id: &str) -> Result<Option<StoredChart>, AppError> {
        let id = id.to_string();
        self.blocking(move |store| store.get_chart(&id)).await
    }

    /// Deletes a chart from the store and ends its streams; `false` if there was none.
    pub async fn delete_chart(&self, id: &str) -> Result<bool, AppError> {
        let key = id.to_string();
        let deleted = self.blocking(move |store| store.delete_chart(&key)).await?;
        if deleted {
            self.0.hub.remove(id);
        }
        Ok(deleted)
    }

    /// Runs blocking store work off the async threads.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, AppError> {
        let store = self.0.store.clone();
        let read_only = self.0.hooks.faults.read_only_store();
        tokio::task::spawn_blocking(move || {
            store.set_query_only(read_only)?;
            work(&store)
        })
        .await
        .map_err(|e| AppError::Internal(format!("store task: {e}")))?
        .map_err(AppError::from)
    }

    /// Stores samples (see [`AppState::ingest_batch`]).
    pub async fn ingest(&self, samples: Vec<Sample>) -> Result<usize, AppError> {
        self.ingest_batch(Batch::from_samples(&samples)).await
    }

    /// Stores a batch grouped by series (one transaction, acknowledged after commit);
    /// when this returns, every chart sees it. Returns how many samples the write
    /// carried.
    pub async fn ingest_batch(&self, batch: Batch) -> Result<usize, AppError> {
        if batch.samples == 0 {
            return Ok(0);
        }
        let samples = batch.samples;
        let source = self.0.source.clone();
        let max_series = self.0.config.max_series;
        self.blocking(move |_| source.write(&batch, max_series))
            .await?;
        self.0
            .metrics
            .points_ingested
            .fetch_add(samples as u64, Ordering::Relaxed);
        Ok(samples)
    }

    /// Publishes a spec (`json` is its text) if it is valid with its variables at
    /// their defaults: store first, then the live hub. `private` sets the chart's
    /// privacy (`None` keeps it). Returns the version and the privacy.
    pub async fn publish(
        &self,
        id: &str,
        json: String,
        spec: Spec,
        private: Option<bool>,
    ) -> Result<(i64, bool), AppError> {
        let valid = Arc::new(render_core::resolve(&spec, &Params::default())?);
        self.check_queries(&valid).await?;
        let key = id.to_string();
        let now = self.now_ms();
        let (version, private) = self
            .blocking(move |store| store.put_chart(&key, &json, now, private))
            .await?;
        self.reach(&valid).await?;
        self.0.hub.publish(id, Arc::new(spec), valid, private);
        Ok((version, private))
    }

    /// Asks each PromQL query of `spec` once: an unknown source or a query Prometheus
    /// refuses is a 422 at its JSON path, with Prometheus' message. A source that
    /// cannot be reached does not stop the publish (the chart then says so).
    async fn check_queries(&self, spec: &ValidSpec) -> Result<(), AppError> {
        let mut asked: HashMap<(&str, &str), Option<Result<(), QueryError>>> = HashMap::new();
        let mut problems = Vec::new();
        for (i, panel) in spec.spec().panels.iter().enumerate() {
            for (j, series) in panel.series.iter().enumerate() {
                let (Some(source), Some(query)) = (&series.source, &series.query) else {
                    continue;
                };
                let path = format!("panels[{i}].series[{j}]");
                let result = match asked.get(&(source.as_str(), query.as_str())) {
                    Some(result) => result.clone(),
                    None => {
                        let result = self.0.prometheus.check(source, query).await;
                        asked.insert((source, query), result.clone());
                        result
                    }
                };
                match result {
                    None => problems.push(ValidationError {
                        path: format!("{path}.source"),
                        message: format!(
                            "{source:?} is not a configured source (GET /api/sources lists them)"
                        ),
                    }),
                    Some(Err(QueryError::Refused(refusal))) => problems.push(ValidationError {
                        path: format!("{path}.query"),
                        message: format!(
                            "{source} refused it ({}): {}",
                            refusal.kind, refusal.message
                        ),
                    }),
                    Some(Err(QueryError::Unreachable(error))) => {
                        tracing::warn!(%source, %error, "publishing a chart of a source that cannot be reached")
                    }
                    Some(Ok(())) => {}
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(problems).into())
        }
    }

    /// Makes the source hold the history `spec` draws (a variant's `window` may reach
    /// further back than its chart's).
    pub async fn reach(&self, spec: &ValidSpec) -> Result<(), AppError> {
        let needs = BuiltinSource::needs(spec);
        let source = self.0.source.clone();
        self.blocking(move |_| source.reach(&needs)).await
    }

    /// Deletes points past retention and drops them from memory.
    pub async fn prune(&self) -> Result<usize, AppError> {
        let source = self.0.source.clone();
        self.blocking(move |_| source.prune()).await
    }
}

/// The renderer with the fallback chain (`--font`'s files, then the system fonts that
/// add characters), and the chain's bytes for the editor.
fn load_fonts(config: &Config) -> Result<(Renderer, Vec<Bytes>), StartError> {
    let mut configured = Vec::new();
    for path in &config.fonts {
        let bytes = std::fs::read(path).map_err(|e| StartError::Font {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        configured.push(FontFile {
            path: path.clone(),
            bytes,
        });
    }
    let mut renderer = Renderer::default();
    let mut fonts = Vec::new();
    for font in fallback_chain(configured, config.system_fonts) {
        renderer
            .register_font(font.bytes.clone())
            .map_err(|e| StartError::Font {
                path: font.path.display().to_string(),
                message: e.to_string(),
            })?;
        fonts.push(Bytes::from(font.bytes));
    }
    Ok((renderer, fonts))
}
