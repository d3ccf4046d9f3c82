//! [`Client`]: one configured Prometheus, asked `/api/v1/query_range` with the
//! configured auth, headers and timeout; every query counted in `/metrics`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use render_core::Series;

use super::answer::{Refusal, Reply};
use crate::metrics::Metrics;
use crate::source::config::SourceConfig;

/// Why a query has no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// Prometheus could not be reached, or did not answer as Prometheus does.
    Unreachable(String),
    /// Prometheus refused the query (bad PromQL, a failed execution, its timeout).
    Refused(Refusal),
}

/// One Prometheus source.
pub struct Client {
    /// Its configuration.
    pub config: SourceConfig,
    http: reqwest::Client,
    metrics: Arc<Metrics>,
}

/// Milliseconds as Prometheus' seconds with a fraction.
fn seconds(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

impl Client {
    /// A client of `config`'s source.
    pub fn new(config: SourceConfig, metrics: Arc<Metrics>) -> Result<Client, String> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| format!("source {}: {e}", config.name))?;
        Ok(Client {
            config,
            http,
            metrics,
        })
    }

    /// `query` over `start..=end` at `step` (ms): the series of the answer, each with a
    /// gap where a step has no sample.
    pub async fn range(
        &self,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<Series>, QueryError> {
        let started = Instant::now();
        let result = self.ask(query, (start, end, step)).await;
        self.metrics.source_query_time.observe(started.elapsed());
        self.metrics.source_queries.fetch_add(1, Ordering::Relaxed);
        if result.is_err() {
            self.metrics
                .source_query_errors
                .fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    /// [`Client::range`] without the counting: `range` is `(start, end, step)` in ms.
    async fn ask(&self, query: &str, range: (i64, i64, i64)) -> Result<Vec<Series>, QueryError> {
        let (start, end, step) = range;
        let base = self.config.url.trim_end_matches('/');
        let mut url = reqwest::Url::parse(&format!("{base}/api/v1/query_range"))
            .map_err(|e| QueryError::Unreachable(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("query", query)
            .append_pair("start", &seconds(start))
            .append_pair("end", &seconds(end))
            .append_pair("step", &seconds(step));
        let mut request = self.http.get(url);
        if let Some(token) = &self.config.bearer_token {
            request = request.bearer_auth(token);
        }
        if let Some(user) = &self.config.username {
            request = request.basic_auth(user, self.config.password.as_ref());
        }
        for (name, value) in &self.config.headers {
            request = request.header(name, value);
        }
        let unreachable = |e: reqwest::Error| QueryError::Unreachable(e.without_url().to_string());
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let body = response.bytes().await.map_err(unreachable)?;
        let reply: Reply = serde_json::from_slice(&body).map_err(|_| {
            QueryError::Unreachable(format!("HTTP {status} without a Prometheus answer"))
        })?;
        reply
            .into_series(&self.config.name, query, range)
            .map_err(QueryError::Refused)
    }
}
