//! Render leases: which origin renders a chart for the edges, so that each chart is
//! rendered by exactly one live origin at a time. A lease is an entry of the NATS
//! key-value bucket `PREFIX-leases` (key: the chart id, value: the origin's node id)
//! whose bucket keeps entries for `--lease-ttl`: the holder renews it every second with
//! a compare-and-set on its revision; another origin takes it only by creating the key
//! once it is gone — when the holder released it (shutdown, no more interest) or died
//! and its entry expired. An origin that cannot renew (NATS unreachable, or another
//! origin holds the key) stops rendering the chart for the edges.
//!
//! Without JetStream on the NATS server there is no bucket: the origin then renders
//! every watched chart itself (and says so in its log), which is right for one origin.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use async_nats::jetstream::kv::{self, Store};
use async_nats::Client;
use bytes::Bytes;
use tokio::time::timeout;

use crate::cluster::protocol::Subjects;

/// How long one key-value operation may take before the lease counts as not held.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(1);

/// Where leases are kept.
enum Bucket {
    /// Not opened yet (NATS unreachable so far).
    Unopened,
    /// The bucket.
    Open(Box<Store>),
    /// The server has no JetStream: this origin renders everything.
    NoJetStream,
}

/// This origin's leases.
pub struct Leases {
    client: Client,
    bucket_name: String,
    ttl: Duration,
    node: Bytes,
    bucket: Bucket,
    /// Held charts and the revision of their entry.
    held: HashMap<String, u64>,
}

impl Leases {
    /// Leases of origin `node` in the bucket of `subjects`, kept for `ttl`.
    pub fn new(client: Client, subjects: &Subjects, ttl: Duration, node: &str) -> Leases {
        Leases {
            client,
            bucket_name: subjects.leases_bucket(),
            ttl,
            node: Bytes::from(node.to_string()),
            bucket: Bucket::Unopened,
            held: HashMap::new(),
        }
    }

    /// Renews or takes the leases of `wanted` and releases the others; returns the
    /// charts this origin now renders for the edges.
    pub async fn settle(&mut self, wanted: &BTreeSet<String>) -> BTreeSet<String> {
        let store = match self.open().await {
            Some(store) => store,
            None if matches!(self.bucket, Bucket::NoJetStream) => return wanted.clone(),
            None => {
                self.held.clear();
                return BTreeSet::new();
            }
        };
        let released: Vec<String> = self
            .held
            .keys()
            .filter(|chart| !wanted.contains(*chart))
            .cloned()
            .collect();
        for chart in released {
            self.held.remove(&chart);
            let _ = timeout(OPERATION_TIMEOUT, store.delete(&chart)).await;
        }
        for chart in wanted {
            let renewed = match self.held.get(chart) {
                Some(&revision) => self.renew(&store, chart, revision).await,
                None => None,
            };
            let outcome = match renewed {
                Some(revision) => Take::Held(revision),
                None => self.take(&store, chart).await,
            };
            tracing::debug!(%chart, ?outcome, "render lease");
            match outcome {
                Take::Held(revision) => {
                    self.held.insert(chart.clone(), revision);
                }
                Take::Other | Take::Broken => {
                    if self.held.remove(chart).is_some() {
                        tracing::info!(%chart, "lost the render lease; another origin renders it");
                    }
                }
            }
            if matches!(outcome, Take::Broken) {
                // E.g. NATS restarted without the bucket: made again next time.
                self.bucket = Bucket::Unopened;
            }
        }
        self.held.keys().cloned().collect()
    }

    /// Releases every lease (shutdown), so other origins take over at once.
    pub async fn release_all(&mut self) {
        if let Bucket::Open(store) = &self.bucket {
            for chart in self.held.keys() {
                let _ = timeout(OPERATION_TIMEOUT, store.delete(chart)).await;
            }
        }
        self.held.clear();
    }

    async fn open(&mut self) -> Option<Store> {
        if let Bucket::Open(store) = &self.bucket {
            return Some(Store::clone(store));
        }
        if matches!(self.bucket, Bucket::NoJetStream)
            || self.client.connection_state() != async_nats::connection::State::Connected
        {
            return None;
        }
        match timeout(OPERATION_TIMEOUT * 5, self.create_bucket()).await {
            Ok(Ok(store)) => {
                self.bucket = Bucket::Open(Box::new(store.clone()));
                Some(store)
            }
            Ok(Err(Unusable::NoJetStream)) => {
                tracing::warn!("NATS has no JetStream, so no render leases: this origin renders every chart edges watch (run only one origin, or start nats-server with -js)");
                self.bucket = Bucket::NoJetStream;
                None
            }
            Ok(Err(Unusable::Failed(error))) => {
                tracing::warn!(%error, "opening the render lease bucket failed; retrying");
                None
            }
            Err(_) => None,
        }
    }

    /// The bucket, made if missing. Made as the stream a key-value bucket is (what
    /// `create_key_value` sends), not with `create_key_value` itself: that first asks
    /// the account's API level, which NATS 2.9 (Debian's) answers in a form the client
    /// does not read.
    async fn create_bucket(&self) -> Result<Store, Unusable> {
        use async_nats::jetstream::context::CreateStreamErrorKind;
        use async_nats::jetstream::stream::{Config, DiscardPolicy, StorageType};
        let jetstream = async_nats::jetstream::new(self.client.clone());
        let config = Config {
            name: format!("KV_{}", self.bucket_name),
            description: Some("plotcast render leases: chart id -> origin".to_string()),
            subjects: vec![format!("$KV.{}.>", self.bucket_name)],
            max_messages_per_subject: 1,
            max_age: self.ttl,
            storage: StorageType::Memory,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: DiscardPolicy::New,
            num_replicas: 1,
            ..Config::default()
        };
        match jetstream.get_or_create_stream(config).await {
            Ok(_) => {}
            Err(error) if error.kind() == CreateStreamErrorKind::JetStreamUnavailable => {
                return Err(Unusable::NoJetStream)
            }
            Err(error) => return Err(Unusable::Failed(error.to_string())),
        }
        jetstream
            .get_key_value(&self.bucket_name)
            .await
            .map_err(|error| Unusable::Failed(error.to_string()))
    }

    async fn renew(&self, store: &Store, chart: &str, revision: u64) -> Option<u64> {
        let update = store.update(chart, self.node.clone(), revision);
        timeout(OPERATION_TIMEOUT, update).await.ok()?.ok()
    }

    async fn take(&self, store: &Store, chart: &str) -> Take {
        match timeout(OPERATION_TIMEOUT, store.create(chart, self.node.clone())).await {
            Ok(Ok(revision)) => Take::Held(revision),
            // Ours from before an outage, not expired yet: carry on with it.
            Ok(Err(error)) => match timeout(OPERATION_TIMEOUT, store.entry(chart)).await {
                Ok(Ok(Some(entry)))
                    if entry.operation == kv::Operation::Put && entry.value == self.node =>
                {
                    match self.renew(store, chart, entry.revision).await {
                        Some(revision) => Take::Held(revision),
                        None => Take::Other,
                    }
                }
                Ok(Ok(_)) => Take::Other,
                Ok(Err(entry_error)) => {
                    tracing::debug!(%chart, %error, %entry_error, "render lease bucket unusable");
                    Take::Broken
                }
                Err(_) => Take::Other,
            },
            // E.g. NATS restarted without the bucket: a write to it gets no answer.
            Err(_) => {
                tracing::debug!(%chart, "taking the render lease timed out");
                Take::Broken
            }
        }
    }
}

/// Why the bucket could not be opened.
enum Unusable {
    NoJetStream,
    Failed(String),
}

/// What trying to take a lease came to.
#[derive(Debug, Clone, Copy)]
enum Take {
    /// Held, at this revision.
    Held(u64),
    /// Another origin holds it (or NATS did not answer in time).
    Other,
    /// The bucket did not answer as a bucket does (gone, e.g. NATS restarted).
    Broken,
}
