//! [`Poller`]: one query of one source at one step, shared by every chart and panel
//! that asks it; asked again every refresh while anyone watches it. It keeps the latest
//! answer (a failed query keeps the series of the last good one, with a note saying
//! since when the source fails) and wakes its watchers when a new one arrives.

use std::sync::{Arc, Mutex, Weak};

use render_core::{Series, SourceNote};
use tokio::sync::{watch, Notify};

use super::client::QueryError;

/// What a poller is: the same key is the same query result.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Key {
    pub source: String,
    pub query: String,
    pub step_ms: i64,
}

/// The latest answer of a query.
#[derive(Debug, Clone, Default)]
pub(super) struct Answer {
    /// The series of the latest successful query.
    pub series: Vec<Series>,
    /// Since when, and why, the source fails (`None`: the latest query succeeded).
    pub note: Option<SourceNote>,
    /// A number unique to this answer among all pollers' answers.
    pub generation: u64,
}

impl Answer {
    /// The answer `result` gives after `previous` (whose series a failure keeps), at
    /// `now`.
    pub fn after(
        previous: Option<&Answer>,
        source: &str,
        result: Result<Vec<Series>, QueryError>,
        now: i64,
        generation: u64,
    ) -> Answer {
        match result {
            Ok(series) => Answer {
                series,
                note: None,
                generation,
            },
            Err(error) => {
                let problem = match error {
                    QueryError::Unreachable(_) => "unreachable".to_string(),
                    QueryError::Refused(refusal) => {
                        let message: String = refusal.message.chars().take(80).collect();
                        format!("refused the query ({message})")
                    }
                };
                let since_ms = previous
                    .and_then(|p| p.note.as_ref())
                    .filter(|note| note.problem == problem)
                    .map_or(now, |note| note.since_ms);
                Answer {
                    series: previous.map(|p| p.series.clone()).unwrap_or_default(),
                    note: Some(SourceNote {
                        source: source.to_string(),
                        problem,
                        since_ms,
                    }),
                    generation,
                }
            }
        }
    }
}

/// One registration: a render task's notification, how far back it draws and how
/// often it wants the query asked.
struct Watcher {
    notify: Weak<Notify>,
    span_ms: i64,
    refresh_ms: i64,
}

/// One shared query.
pub(super) struct Poller {
    pub key: Key,
    watchers: Mutex<Vec<Watcher>>,
    answer: watch::Sender<Option<Arc<Answer>>>,
}

impl Poller {
    pub fn new(key: Key) -> Poller {
        Poller {
            key,
            watchers: Mutex::new(Vec::new()),
            answer: watch::Sender::new(None),
        }
    }

    /// Registers `notify` for an answer reaching `span_ms` back, asked every
    /// `refresh_ms`.
    pub fn register(&self, notify: &Arc<Notify>, span_ms: i64, refresh_ms: i64) {
        if let Ok(mut watchers) = self.watchers.lock() {
            watchers.retain(|w| w.notify.strong_count() > 0);
            watchers.push(Watcher {
                notify: Arc::downgrade(notify),
                span_ms,
                refresh_ms,
            });
        }
    }

    /// What the live watchers need: the longest span and the shortest refresh, or
    /// `None` when nobody watches any more.
    pub fn demand(&self) -> Option<(i64, i64)> {
        let mut watchers = self.watchers.lock().ok()?;
        watchers.retain(|w| w.notify.strong_count() > 0);
        let span = watchers.iter().map(|w| w.span_ms).max()?;
        let refresh = watchers.iter().map(|w| w.refresh_ms).min()?;
        Some((span, refresh))
    }

    /// Keeps `answer` as the latest and wakes every watcher.
    pub fn publish(&self, answer: Answer) {
        self.answer.send_replace(Some(Arc::new(answer)));
        if let Ok(watchers) = self.watchers.lock() {
            for notify in watchers.iter().filter_map(|w| w.notify.upgrade()) {
                notify.notify_one();
            }
        }
    }

    /// The latest answer, if there is one yet.
    pub fn latest(&self) -> Option<Arc<Answer>> {
        self.answer.borrow().clone()
    }

    /// Receives every new answer.
    pub fn answers(&self) -> watch::Receiver<Option<Arc<Answer>>> {
        self.answer.subscribe()
    }
}
