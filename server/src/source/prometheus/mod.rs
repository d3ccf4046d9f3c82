//! [`Prometheus`]: the configured Prometheus sources as a [`Source`] of the PromQL
//! selectors ([`Promql`]). Per distinct (source, query, step) one [`Poller`] task runs
//! while a render task watches it (render tasks watch only while they have viewers),
//! asking `query_range` every max(step, refresh); `read` returns its latest answer
//! without asking again, so every chart and panel of that query at that step shares
//! one result. A read of a query nobody watches (the editor's preview, a `.jpg`) asks
//! once, the same way, and that answer serves the reads of the next max(step, refresh).

mod answer;
mod client;
mod poller;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use render_core::{Data, SourceNote};
use tokio::sync::Notify;

pub use client::QueryError;

use self::client::Client;
use self::poller::{Answer, Key, Poller};
use super::config::SourceConfig;
use super::memory::SeriesInfo;
use super::seam::{Query, Source};
use super::selector::{Promql, Selectors};
use crate::clock::Clock;
use crate::metrics::Metrics;

/// Every configured Prometheus source and the queries being polled.
#[derive(Clone)]
pub struct Prometheus(Arc<Inner>);

struct Inner {
    clients: BTreeMap<String, Arc<Client>>,
    /// Held briefly; a poller leaves it (under this lock) when nobody watches it.
    pollers: Mutex<HashMap<Key, Arc<Poller>>>,
    /// Answers asked by reads of queries nobody watched, with when they were asked.
    asked: Mutex<HashMap<Key, (i64, Arc<Answer>)>>,
    /// Source of answer generations (unique across pollers).
    generations: AtomicU64,
    clock: Clock,
}

impl Prometheus {
    /// The sources of `configs`.
    pub fn new(
        configs: &[SourceConfig],
        metrics: &Arc<Metrics>,
        clock: Clock,
    ) -> Result<Prometheus, String> {
        let mut clients = BTreeMap::new();
        for config in configs {
            let client = Client::new(config.clone(), metrics.clone())?;
            clients.insert(config.name.clone(), Arc::new(client));
        }
        Ok(Prometheus(Arc::new(Inner {
            clients,
            pollers: Mutex::new(HashMap::new()),
            asked: Mutex::new(HashMap::new()),
            generations: AtomicU64::new(1),
            clock,
        })))
    }

    /// The configured sources.
    pub fn configs(&self) -> impl Iterator<Item = &SourceConfig> {
        self.0.clients.values().map(|c| &c.config)
    }

    /// Asks `query` of `source` once (over the last minute), for publishing: `Ok` when
    /// it answers, its refusal, or why it could not be asked. `None`: no such source.
    pub async fn check(&self, source: &str, query: &str) -> Option<Result<(), QueryError>> {
        let client = self.0.clients.get(source)?;
        let now = self.0.clock.now_ms();
        let end = now.div_euclid(1000) * 1000;
        Some(
            client
                .range(query, end - 60_000, end, 60_000)
                .await
                .map(drop),
        )
    }
}

impl Inner {
    fn key(promql: &Promql) -> Key {
        Key {
            source: promql.source.clone(),
            query: promql.query.clone(),
            step_ms: promql.step_ms,
        }
    }

    /// `start..=end` (ms) of an answer reaching `span_ms` back at `step_ms`, aligned to
    /// the step so that every reader of a step asks for the same points.
    fn range(&self, span_ms: i64, step_ms: i64) -> (i64, i64) {
        let end = self.clock.now_ms().div_euclid(step_ms) * step_ms;
        (
            end - span_ms.saturating_add(step_ms - 1) / step_ms * step_ms,
            end,
        )
    }

    /// The latest answer of `promql`: its poller's (waiting for the first one up to
    /// the source's timeout), else one asked now (blocking).
    fn answer(&self, promql: &Promql) -> Arc<Answer> {
        let now = self.clock.now_ms();
        let Some(client) = self.clients.get(&promql.source) else {
            // A stored chart of a source the configuration no longer has.
            return Arc::new(Answer {
                note: Some(SourceNote {
                    source: promql.source.clone(),
                    problem: "is not configured".into(),
                    since_ms: now,
                }),
                ..Answer::default()
            });
        };
        let poller = self
            .pollers
            .lock()
            .ok()
            .and_then(|pollers| pollers.get(&Inner::key(promql)).cloned());
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Arc::new(Answer::default());
        };
        if let Some(poller) = poller {
            if let Some(answer) = poller.latest() {
                return answer;
            }
            let mut answers = poller.answers();
            let first = runtime.block_on(async {
                let wait = answers.wait_for(Option::is_some);
                tokio::time::timeout(client.config.timeout, wait)
                    .await
                    .ok()
                    .and_then(|answer| answer.ok().and_then(|a| a.clone()))
            });
            if let Some(answer) = first {
                return answer;
            }
        }
        let step = promql.step_ms;
        let fresh_ms = step.max(refresh_ms(client, promql));
        let key = Inner::key(promql);
        let recent = self.asked.lock().ok().and_then(|asked| {
            let (at, answer) = asked.get(&key)?;
            (now - at < fresh_ms).then(|| answer.clone())
        });
        if let Some(answer) = recent {
            return answer;
        }
        let (start, end) = self.range(promql.span_ms, step);
        let result = runtime.block_on(client.range(&promql.query, start, end, step));
        let generation = self.generations.fetch_add(1, Ordering::Relaxed);
        let answer = Arc::new(Answer::after(None, &promql.source, result, now, generation));
        if let Ok(mut asked) = self.asked.lock() {
            // What is past its time is of no use to anyone: the map holds only what
            // was read within the last refresh or so.
            asked.retain(|_, (at, _)| now - *at < fresh_ms);
            asked.insert(key, (now, answer.clone()));
        }
        answer
    }

    /// Registers `notify` with the poller of `promql` (started if there is none),
    /// under the map's lock so the poller cannot end before it counts the watcher.
    fn watch(self: &Arc<Inner>, promql: &Promql, notify: &Arc<Notify>) {
        let Some(client) = self.clients.get(&promql.source) else {
            return;
        };
        let refresh = refresh_ms(client, promql);
        let Ok(mut pollers) = self.pollers.lock() else {
            return;
        };
        let key = Inner::key(promql);
        let poller = match pollers.get(&key) {
            Some(poller) => poller.clone(),
            None => {
                let poller = Arc::new(Poller::new(key.clone()));
                pollers.insert(key, poller.clone());
                tokio::spawn(poll(self.clone(), poller.clone(), client.clone()));
                poller
            }
        };
        poller.register(notify, promql.span_ms, refresh);
    }

    /// What `poller`'s watchers need, or `None` after taking it out of the map when
    /// nobody watches it any more (under the map's lock, so a new watch either finds
    /// it still running or starts a new one).
    fn demand(&self, poller: &Arc<Poller>) -> Option<(i64, i64)> {
        let mut pollers = self.pollers.lock().ok()?;
        let demand = poller.demand();
        if demand.is_none()
            && pollers
                .get(&poller.key)
                .is_some_and(|p| Arc::ptr_eq(p, poller))
        {
            pollers.remove(&poller.key);
        }
        demand
    }
}

/// How often `promql` is asked again: the spec's refresh, else its source's.
fn refresh_ms(client: &Client, promql: &Promql) -> i64 {
    promql
        .refresh_ms
        .unwrap_or_else(|| i64::try_from(client.config.refresh.as_millis()).unwrap_or(i64::MAX))
}

/// A poller's task: ask, publish, sleep max(step, refresh); end when nobody watches.
async fn poll(inner: Arc<Inner>, poller: Arc<Poller>, client: Arc<Client>) {
    let step = poller.key.step_ms;
    tracing::debug!(source = %poller.key.source, query = %poller.key.query, step, "polling");
    while let Some((span, refresh)) = inner.demand(&poller) {
        let (start, end) = inner.range(span, step);
        let result = client.range(&poller.key.query, start, end, step).await;
        if let Err(error) = &result {
            tracing::warn!(source = %poller.key.source, query = %poller.key.query, ?error, "query failed");
        }
        let previous = poller.latest();
        let generation = inner.generations.fetch_add(1, Ordering::Relaxed);
        let now = inner.clock.now_ms();
        poller.publish(Answer::after(
            previous.as_deref(),
            &poller.key.source,
            result,
            now,
            generation,
        ));
        let pause = step.max(refresh).max(1);
        tokio::time::sleep(Duration::from_millis(pause.unsigned_abs())).await;
    }
    tracing::debug!(source = %poller.key.source, query = %poller.key.query, "nobody watches; polling ends");
}

impl Source for Prometheus {
    fn read(&self, query: &Query<'_>) -> Data {
        let mut data = Data::default();
        let mut notes: Vec<SourceNote> = Vec::new();
        for promql in &query.selectors.promql {
            let answer = self.0.answer(promql);
            data.series.extend(answer.series.iter().cloned());
            if let Some(note) = &answer.note {
                match notes
                    .iter_mut()
                    .find(|n| n.source == note.source && n.problem == note.problem)
                {
                    Some(same) => same.since_ms = same.since_ms.min(note.since_ms),
                    None => notes.push(note.clone()),
                }
            }
        }
        data.notes = notes;
        data
    }

    fn version(&self, selectors: &Selectors) -> u64 {
        let Ok(pollers) = self.0.pollers.lock() else {
            return 0;
        };
        selectors
            .promql
            .iter()
            .filter_map(|p| pollers.get(&Inner::key(p)))
            .filter_map(|p| p.latest().map(|a| a.generation))
            .max()
            .unwrap_or(0)
    }

    fn watch(&self, selectors: &Selectors, notify: &Arc<Notify>) {
        for promql in &selectors.promql {
            self.0.watch(promql, notify);
        }
    }

    fn list(&self) -> Vec<SeriesInfo> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::config::SourceConfig;

    #[tokio::test]
    async fn charts_of_one_query_at_one_step_share_a_poller_that_ends_without_watchers() {
        // Nothing listens there: every query fails fast, which is all this test needs.
        let config = SourceConfig::parse_flag("prom=http://127.0.0.1:9;refresh=1s;timeout=1s")
            .expect("a source");
        let metrics = Arc::new(Metrics::default());
        let prometheus = Prometheus::new(&[config], &metrics, Clock::default()).expect("sources");
        let selectors = |resolution| Selectors {
            series: Vec::new(),
            promql: vec![Promql::new("prom", "up", resolution, 420_000, None)],
        };
        let pollers = || prometheus.0.pollers.lock().map(|p| p.len()).unwrap_or(0);
        let (a, b, c) = (
            Arc::new(Notify::new()),
            Arc::new(Notify::new()),
            Arc::new(Notify::new()),
        );
        prometheus.watch(&selectors(400), &a);
        prometheus.watch(&selectors(900), &b);
        assert_eq!(pollers(), 1, "both ask `up` at a 1 s step");
        prometheus.watch(&selectors(1_500), &c);
        assert_eq!(pollers(), 2, "a 2 s step is another answer");
        // Each watcher is woken by the (failing) answer, which notes the source.
        a.notified().await;
        let data = prometheus.read(&Query::uniform(&selectors(400), 0, 0, 400));
        assert_eq!(data.notes.len(), 1, "{data:?}");
        assert_eq!(data.notes[0].problem, "unreachable");
        drop((a, b, c));
        let ended = tokio::time::timeout(Duration::from_secs(30), async {
            while pollers() > 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        assert!(ended.await.is_ok(), "pollers end once nobody watches");
        assert!(metrics.source_query_errors.load(Ordering::Relaxed) >= 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_of_an_unwatched_query_within_its_refresh_share_one_answer() {
        let config = SourceConfig::parse_flag("prom=http://127.0.0.1:9;refresh=1h;timeout=1s")
            .expect("a source");
        let metrics = Arc::new(Metrics::default());
        let prometheus = Prometheus::new(&[config], &metrics, Clock::default()).expect("sources");
        let read = move |query: &'static str| {
            let selectors = Selectors {
                series: Vec::new(),
                promql: vec![Promql::new("prom", query, 1_000, 420_000, None)],
            };
            prometheus.read(&Query::uniform(&selectors, 0, 0, 1_000))
        };
        let notes = tokio::task::spawn_blocking(move || {
            [read("up"), read("up"), read("down")].map(|data| data.notes.len())
        })
        .await
        .expect("reads");
        assert_eq!(notes, [1, 1, 1], "each read notes the unreachable source");
        let asked = metrics.source_queries.load(Ordering::Relaxed);
        assert_eq!(asked, 2, "`up` was asked once, `down` once");
    }
}
