//! The durable store: SQLite (WAL, `synchronous=FULL`) in the data directory.
//!
//! Tables: `charts` (current spec and version of each chart), `chart_versions` (every
//! published spec), `series` (metric + canonical tags JSON) and `points` (series, t ms,
//! value) within the retention period. Every call is blocking and returns only after
//! its transaction committed: callers run it on `spawn_blocking`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;

use render_core::{Point, Series};
use rusqlite::{params, Connection, OptionalExtension};

use crate::ingest::Batch;
use crate::tiers::{self, Bucket, Tier, TierConfig};

/// Per series of a batch (in batch order), the tier buckets that now hold its points,
/// exactly as SQLite holds them.
pub type TierUpdates = Vec<Vec<(Tier, Vec<Bucket>)>>;

/// One stored series' identity.
pub type SeriesKey = (String, BTreeMap<String, String>);

/// A failure of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The data directory could not be created.
    #[error("creating data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A stored tags column is not valid JSON.
    #[error("corrupt tags in series {0}")]
    CorruptTags(i64),
    /// The blocking task running a store call failed.
    #[error("store task failed: {0}")]
    Task(String),
    /// The connection mutex was poisoned by a panic.
    #[error("store lock poisoned")]
    Poisoned,
    /// The write would create series beyond the configured cap.
    #[error("the write would create {new} new series; the store holds {existing} of at most {limit} (max_series)")]
    SeriesLimit {
        /// New series in the refused write.
        new: usize,
        /// Series stored.
        existing: usize,
        /// The cap.
        limit: usize,
    },
}

impl StoreError {
    /// Whether the store cannot write right now for a reason outside the request: the
    /// database or its directory is read-only, the disk is full, I/O failed, or the
    /// database is locked. Such writes get 503; reads and streams go on.
    pub fn is_unavailable(&self) -> bool {
        use rusqlite::ErrorCode;
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(error, _)) => matches!(
                error.code,
                ErrorCode::ReadOnly
                    | ErrorCode::DiskFull
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::CannotOpen
                    | ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
            ),
            StoreError::DataDir { .. } => true,
            _ => false,
        }
    }
}

/// A stored chart.
#[derive(Debug, Clone)]
pub struct StoredChart {
    /// Chart id (slug).
    pub id: String,
    /// Spec JSON as published.
    pub spec: String,
    /// Version, 1 for the first publication, +1 for each replacement.
    pub version: i64,
    /// When this version was published, ms since the epoch.
    pub updated_ms: i64,
    /// Viewers need a signed URL (or the token).
    pub private: bool,
}

/// The SQLite store.
pub struct Store {
    inner: Mutex<Inner>,
}

struct Inner {
    conn: Connection,
    /// Series id by (metric, canonical tags JSON).
    series_ids: HashMap<(String, String), i64>,
    /// Whether `PRAGMA query_only` is on (fault injection).
    query_only: bool,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS charts (
    id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS chart_versions (
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    spec TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    metric TEXT NOT NULL,
    tags TEXT NOT NULL,
    UNIQUE (metric, tags)
);
CREATE TABLE IF NOT EXISTS points (
    series_id INTEGER NOT NULL,
    t INTEGER NOT NULL,
    v REAL,
    PRIMARY KEY (series_id, t)
) WITHOUT ROWID;
";

/// Columns added after the first release, with their definitions.
const ADDED_COLUMNS: [(&str, &str, &str); 1] =
    [("charts", "private", "INTEGER NOT NULL DEFAULT 0")];

/// Rows per multi-row `INSERT` of points.
pub const INSERT_ROWS: usize = 250;

/// `INSERT OR REPLACE INTO points ... VALUES (?, ?, ?), ...` with [`INSERT_ROWS`] rows.
/// Rows go in order, so a later row replaces an earlier one with the same key.
fn insert_rows_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let rows = vec!["(?, ?, ?)"; INSERT_ROWS].join(", ");
        format!("INSERT OR REPLACE INTO points (series_id, t, v) VALUES {rows}")
    })
}

/// Canonical JSON of a tag set (keys sorted, as a `BTreeMap` serializes).
pub fn canonical_tags(tags: &BTreeMap<String, String>) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "{}".to_string())
}

impl Store {
    /// Opens (creating if needed) `plotcast.db` in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
            path: dir.display().to_string(),
            source,
        })?;
        let mut conn = Connection::open(dir.join("plotcast.db"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Ingest speed, durability unchanged (every commit still syncs the WAL): a
        // 32 MiB page cache (default 2 MiB) keeps the points B-tree's upper levels and
        // recent leaves in memory, and checkpoints every 8,000 WAL pages (≈ 32 MB;
        // default 1,000) copy a page rewritten by many commits once.
        conn.pragma_update(None, "cache_size", -32_768)?;
        conn.pragma_update(None, "wal_autocheckpoint", 8_000)?;
        // Statement journals (each multi-row insert and upsert of a batch keeps one, to
        // undo just that statement) in memory, not in a temporary file: they were a
        // fifth of a sparse backfill's time in `pwrite`. Crash safety is the WAL's,
        // which they are not part of.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.execute_batch(SCHEMA)?;
        tiers::sql::migrate(&mut conn)?;
        conn.execute_batch(tiers::sql::SCHEMA)?;
        for (table, column, definition) in ADDED_COLUMNS {
            let exists: bool = conn.query_row(
                &format!("SELECT COUNT(*) > 0 FROM pragma_table_info('{table}') WHERE name = ?1"),
                [column],
                |row| row.get(0),
            )?;
            if !exists {
                conn.execute_batch(&format!(
                    "ALTER TABLE {table} ADD COLUMN {column} {definition}"
                ))?;
            }
        }
        let mut series_ids = HashMap::new();
        {
            let mut statement = conn.prepare("SELECT id, metric, tags FROM series")?;
            let rows = statement.query_map([], |row| {
                Ok((row.get::<_, i64>(0)?, row.get(1)?, row.get(2)?))
            })?;
            for row in rows {
                let (id, metric, tags) = row?;
                series_ids.insert((metric, tags), id);
            }
        }
        Ok(Store {
            inner: Mutex::new(Inner {
                conn,
                series_ids,
                query_only: false,
            }),
        })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, StoreError> {
        self.inner.lock().map_err(|_| StoreError::Poisoned)
    }

    /// Fault injection: turns SQLite's `query_only` on or off, so every write fails
    /// inside SQLite with `SQLITE_READONLY` while reads go on.
    pub fn set_query_only(&self, on: bool) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        if inner.query_only != on {
            inner.conn.pragma_update(None, "query_only", on)?;
            inner.query_only = on;
        }
        Ok(())
    }

    /// Creates or replaces a chart; `private` sets its privacy (`None` keeps it, new
    /// charts are public). Returns the new version and the privacy.
    pub fn put_chart(
        &self,
        id: &str,
        spec: &str,
        now_ms: i64,
        private: Option<bool>,
    ) -> Result<(i64, bool), StoreError> {
        let mut inner = self.lock()?;
        let tx = inner.conn.transaction()?;
        let current: Option<(i64, bool)> = tx
            .query_row(
                "SELECT version, private FROM charts WHERE id = ?1",
                [id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let version = current.map_or(0, |c| c.0) + 1;
        let private = private.unwrap_or(current.is_some_and(|c| c.1));
        tx.execute(
            "INSERT INTO charts (id, spec, version, updated_ms, private) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET spec = ?2, version = ?3, updated_ms = ?4, private = ?5",
            params![id, spec, version, now_ms, private],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO chart_versions (id, version, spec, created_ms) VALUES (?1, ?2, ?3, ?4)",
            params![id, version, spec, now_ms],
        )?;
        tx.commit()?;
        Ok((version, private))
    }

    /// One chart, if it exists.
    pub fn get_chart(&self, id: &str) -> Result<Option<StoredChart>, StoreError> {
        let inner = self.lock()?;
        Ok(inner
            .conn
            .query_row(
                "SELECT id, spec, version, updated_ms, private FROM charts WHERE id = ?1",
                [id],
                chart_row,
            )
            .optional()?)
    }

    /// Every chart, by id.
    pub fn list_charts(&self) -> Result<Vec<StoredChart>, StoreError> {
        let inner = self.lock()?;
        let mut statement = inner
            .conn
            .prepare("SELECT id, spec, version, updated_ms, private FROM charts ORDER BY id")?;
        let charts = statement
            .query_map([], chart_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(charts)
    }

    /// Deletes a chart (its version history stays); `false` if there was none.
    pub fn delete_chart(&self, id: &str) -> Result<bool, StoreError> {
        let inner = self.lock()?;
        Ok(inner
            .conn
            .execute("DELETE FROM charts WHERE id = ?1", [id])?
            > 0)
    }

    /// Stores a batch in one transaction: all or nothing. A write that would make the
    /// store hold more than `max_series` series is refused as a whole; writes to
    /// existing series always pass that check. Each series is resolved once; points go
    /// in [`INSERT_ROWS`] rows per statement, and their tier buckets (`tiers`, as of
    /// `now_ms`) in the same transaction, so tiers and raw points commit together.
    pub fn write_batch(
        &self,
        batch: &Batch,
        max_series: usize,
        tiers: &TierConfig,
        now_ms: i64,
    ) -> Result<TierUpdates, StoreError> {
        let mut guard = self.lock()?;
        let inner = &mut *guard;
        let keys: Vec<(String, String)> = batch
            .series
            .iter()
            .map(|s| (s.metric.clone(), canonical_tags(&s.tags)))
            .collect();
        let mut ids: Vec<Option<i64>> = keys
            .iter()
            .map(|key| inner.series_ids.get(key).copied())
            .collect();
        // A batch holds each series once, so every unknown key is a distinct new series.
        let fresh = ids.iter().filter(|id| id.is_none()).count();
        let existing = inner.series_ids.len();
        if existing + fresh > max_series {
            return Err(StoreError::SeriesLimit {
                new: fresh,
                existing,
                limit: max_series,
            });
        }
        let tx = inner.conn.transaction()?;
        let mut new_ids = Vec::new();
        {
            let mut find = tx.prepare_cached(
                "INSERT INTO series (metric, tags) VALUES (?1, ?2)
                 ON CONFLICT (metric, tags) DO UPDATE SET metric = metric RETURNING id",
            )?;
            for (key, id) in keys.into_iter().zip(&mut ids) {
                if id.is_none() {
                    let found: i64 = find.query_row(params![key.0, key.1], |row| row.get(0))?;
                    *id = Some(found);
                    new_ids.push((key, found));
                }
            }
            let mut many = tx.prepare_cached(insert_rows_sql())?;
            let mut one = tx.prepare_cached(
                "INSERT OR REPLACE INTO points (series_id, t, v) VALUES (?1, ?2, ?3)",
            )?;
            let mut rows: Vec<(i64, i64, Option<f64>)> = Vec::with_capacity(batch.samples);
            for (series, id) in batch.series.iter().zip(&ids) {
                let id = id.unwrap_or_default();
                rows.extend(
                    series
                        .points
                        .iter()
                        .map(|p| (id, p.t, p.v.is_finite().then_some(p.v))),
                );
            }
            let mut chunks = rows.chunks_exact(INSERT_ROWS);
            for chunk in &mut chunks {
                for (i, (id, t, v)) in chunk.iter().enumerate() {
                    many.raw_bind_parameter(i * 3 + 1, id)?;
                    many.raw_bind_parameter(i * 3 + 2, t)?;
                    many.raw_bind_parameter(i * 3 + 3, v)?;
                }
                many.raw_execute()?;
            }
            for (id, t, v) in chunks.remainder() {
                one.execute(params![id, t, v])?;
            }
        }
        let updates = tiers::sql::apply_batch(
            &tx,
            tiers,
            now_ms,
            batch
                .series
                .iter()
                .zip(&ids)
                .map(|(series, id)| (id.unwrap_or_default(), series.points.as_slice())),
        )?;
        tx.commit()?;
        inner.series_ids.extend(new_ids);
        Ok(updates)
    }

    /// Builds the tiers from the raw points when the store has raw points but no tier
    /// buckets at all (a data directory written before tiers existed), series by
    /// series, one transaction each; returns how many raw points it rolled up.
    pub fn backfill_tiers(&self, tiers: &TierConfig, now_ms: i64) -> Result<usize, StoreError> {
        /// Time span of raw points read and rolled up at a time.
        const SPAN_MS: i64 = 86_400_000;
        let mut inner = self.lock()?;
        let has_tiers: bool =
            inner
                .conn
                .query_row("SELECT EXISTS (SELECT 1 FROM tier_buckets)", [], |row| {
                    row.get(0)
                })?;
        if has_tiers {
            return Ok(0);
        }
        let ids: Vec<i64> = inner.series_ids.values().copied().collect();
        let mut rolled = 0;
        for id in ids {
            let tx = inner.conn.transaction()?;
            let range: (Option<i64>, Option<i64>) = tx.query_row(
                "SELECT MIN(t), MAX(t) FROM points WHERE series_id = ?1",
                [id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            if let (Some(first), Some(last)) = range {
                let mut from = first;
                while from <= last {
                    let end = from.saturating_add(SPAN_MS);
                    let points = tiers::sql::raw_points(&tx, id, from, end)?;
                    rolled += points.len();
                    tiers::sql::apply(&tx, tiers, now_ms, id, &points)?;
                    from = end;
                }
            }
            tx.commit()?;
        }
        Ok(rolled)
    }

    /// Every series with its points at or after `since_ms`.
    pub fn load_since(&self, since_ms: i64) -> Result<Vec<Series>, StoreError> {
        self.query(None, &BTreeMap::new(), since_ms, i64::MAX)
    }

    /// Every stored series of `metric` (or all, for `None`) whose tags include `tags`:
    /// id, metric and tags, ordered by metric and tags.
    fn matching(
        conn: &Connection,
        metric: Option<&str>,
        tags: &BTreeMap<String, String>,
    ) -> Result<Vec<(i64, SeriesKey)>, StoreError> {
        let mut list =
            conn.prepare_cached("SELECT id, metric, tags FROM series ORDER BY metric, tags")?;
        let rows = list
            .query_map([], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::new();
        for (id, name, tag_json) in rows {
            if metric.is_some_and(|m| m != name) {
                continue;
            }
            let series_tags: BTreeMap<String, String> =
                serde_json::from_str(&tag_json).map_err(|_| StoreError::CorruptTags(id))?;
            if tags.iter().all(|(k, v)| series_tags.get(k) == Some(v)) {
                out.push((id, (name, series_tags)));
            }
        }
        Ok(out)
    }

    /// The buckets of `tier` of every series of `metric` whose tags include `tags`,
    /// covering `from..=to`.
    pub fn query_tier(
        &self,
        metric: &str,
        tags: &BTreeMap<String, String>,
        tier: Tier,
        from: i64,
        to: i64,
    ) -> Result<Vec<(SeriesKey, Vec<Bucket>)>, StoreError> {
        let inner = self.lock()?;
        let mut out = Vec::new();
        for (id, key) in Store::matching(&inner.conn, Some(metric), tags)? {
            out.push((key, tiers::sql::range(&inner.conn, tier, id, from, to)?));
        }
        Ok(out)
    }

    /// Every series' buckets of `tier` that end after `since_ms`.
    pub fn load_tier(
        &self,
        tier: Tier,
        since_ms: i64,
    ) -> Result<Vec<(SeriesKey, Vec<Bucket>)>, StoreError> {
        let inner = self.lock()?;
        let keys: HashMap<i64, SeriesKey> = Store::matching(&inner.conn, None, &BTreeMap::new())?
            .into_iter()
            .collect();
        let loaded = tiers::sql::load(&inner.conn, tier, since_ms)?;
        Ok(loaded
            .into_iter()
            .filter_map(|(id, buckets)| Some((keys.get(&id)?.clone(), buckets)))
            .collect())
    }

    /// Series of `metric` (or all, for `None`) whose tags include `tags`, with their
    /// points in `from..=to`.
    pub fn query(
        &self,
        metric: Option<&str>,
        tags: &BTreeMap<String, String>,
        from: i64,
        to: i64,
    ) -> Result<Vec<Series>, StoreError> {
        let inner = self.lock()?;
        let mut points = inner.conn.prepare_cached(
            "SELECT t, v FROM points WHERE series_id = ?1 AND t >= ?2 AND t <= ?3 ORDER BY t",
        )?;
        let mut out = Vec::new();
        for (id, (name, series_tags)) in Store::matching(&inner.conn, metric, tags)? {
            let pts = points
                .query_map(params![id, from, to], |row| {
                    Ok(Point {
                        t: row.get(0)?,
                        v: row.get::<_, Option<f64>>(1)?.unwrap_or(f64::NAN),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            if !pts.is_empty() || metric.is_some() {
                out.push(Series {
                    metric: name,
                    tags: series_tags,
                    points: pts,
                    source: None,
                });
            }
        }
        Ok(out)
    }

    /// Deletes raw points past the raw retention and tier buckets past their tier's
    /// retention, as of `now_ms` (one transaction); returns how many raw points.
    pub fn prune(&self, now_ms: i64, tiers: &TierConfig) -> Result<usize, StoreError> {
        let mut inner = self.lock()?;
        let tx = inner.conn.transaction()?;
        let before = now_ms.saturating_sub(tiers.raw_retention_ms);
        let pruned = tx.execute("DELETE FROM points WHERE t < ?1", [before])?;
        tiers::sql::prune(&tx, now_ms, tiers)?;
        tx.commit()?;
        Ok(pruned)
    }
}

fn chart_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredChart> {
    Ok(StoredChart {
        id: row.get(0)?,
        spec: row.get(1)?,
        version: row.get(2)?,
        updated_ms: row.get(3)?,
        private: row.get(4)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::Sample;

    #[test]
    fn points_and_charts_survive_reopening() -> Result<(), StoreError> {
        let dir = std::env::temp_dir().join(format!("plotcast-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let store = Store::open(&dir)?;
            assert_eq!(store.put_chart("a", "{}", 1, None)?, (1, false));
            assert_eq!(store.put_chart("a", "{\"x\":1}", 2, Some(true))?, (2, true));
            let tags = BTreeMap::from([("core".to_string(), "0".to_string())]);
            let sample = |metric: &str, tags: &BTreeMap<String, String>| Sample {
                metric: metric.into(),
                tags: tags.clone(),
                t: 10,
                v: 1.5,
            };
            store.write_batch(
                &Batch::from_samples(&[sample("cpu", &tags)]),
                1,
                &TierConfig::default(),
                0,
            )?;
            // The cap refuses a new series but not the existing one.
            assert!(matches!(
                store.write_batch(
                    &Batch::from_samples(&[sample("cpu", &tags), sample("mem", &tags)]),
                    1,
                    &TierConfig::default(),
                    0
                ),
                Err(StoreError::SeriesLimit {
                    new: 1,
                    existing: 1,
                    limit: 1
                })
            ));
            store.write_batch(
                &Batch::from_samples(&[sample("cpu", &tags)]),
                1,
                &TierConfig::default(),
                0,
            )?;
            store.set_query_only(true)?;
            assert!(store
                .write_batch(
                    &Batch::from_samples(&[sample("cpu", &tags)]),
                    1,
                    &TierConfig::default(),
                    0
                )
                .is_err_and(|e| e.is_unavailable()));
            store.set_query_only(false)?;
        }
        let store = Store::open(&dir)?;
        let chart = store.get_chart("a")?;
        assert_eq!(
            chart.map(|c| (c.version, c.spec, c.private)),
            Some((2, "{\"x\":1}".to_string(), true))
        );
        assert_eq!(store.put_chart("a", "{}", 3, None)?, (3, true));
        let series = store.load_since(0)?;
        assert_eq!(series.len(), 1);
        assert_eq!(series[0].points, [Point { t: 10, v: 1.5 }]);
        assert_eq!(
            store.prune(
                11 + TierConfig::default().raw_retention_ms,
                &TierConfig::default()
            )?,
            1
        );
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    #[test]
    fn a_batch_larger_than_one_insert_statement_is_stored_whole() -> Result<(), StoreError> {
        let dir = std::env::temp_dir().join(format!("plotcast-store-rows-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir)?;
        let sample = |metric: &str, t: i64, v: f64| Sample {
            metric: metric.into(),
            tags: BTreeMap::new(),
            t,
            v,
        };
        let n = INSERT_ROWS as i64 * 2 + 7;
        let mut samples: Vec<Sample> = (0..n).map(|t| sample("a", t, t as f64)).collect();
        samples.push(sample("b", 5, f64::NAN));
        store.write_batch(
            &Batch::from_samples(&samples),
            10,
            &TierConfig::default(),
            0,
        )?;
        // Rewriting some times replaces their values, across statement boundaries.
        let again: Vec<Sample> = (0..n).step_by(3).map(|t| sample("a", t, -1.0)).collect();
        store.write_batch(&Batch::from_samples(&again), 10, &TierConfig::default(), 0)?;
        let series = store.load_since(0)?;
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].points.len(), n as usize);
        for p in &series[0].points {
            assert_eq!(p.v, if p.t % 3 == 0 { -1.0 } else { p.t as f64 });
        }
        assert!(series[1].points[0].v.is_nan());
        // A refused batch leaves nothing behind.
        assert!(store
            .write_batch(
                &Batch::from_samples(&[sample("c", 1, 1.0)]),
                2,
                &TierConfig::default(),
                0
            )
            .is_err());
        assert_eq!(store.load_since(0)?.len(), 2);
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    #[test]
    fn a_store_without_tiers_gets_them_built_from_its_raw_points() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Task(e.to_string()))?;
        let store = Store::open(dir.path())?;
        let config = TierConfig::default();
        // Two series, a point every 7 s for a day, with a gap now and then.
        let samples: Vec<Sample> = (0..2 * 12_343)
            .map(|i| Sample {
                metric: "m".into(),
                tags: BTreeMap::from([("s".to_string(), (i % 2).to_string())]),
                t: 1_700_000_000_000 + (i / 2) * 7_000,
                v: if i % 97 == 0 {
                    f64::NAN
                } else {
                    (i % 13) as f64
                },
            })
            .collect();
        let now = 1_700_000_000_000 + 86_400_000;
        store.write_batch(&Batch::from_samples(&samples), 10, &config, now)?;
        let written: Vec<_> = (0..tiers::TIERS)
            .map(|tier| store.load_tier(tier, 0))
            .collect::<Result<_, _>>()?;
        assert!(
            written.iter().all(|t| t.len() == 2),
            "both series in every tier"
        );
        // As a data directory written before tiers existed.
        store
            .lock()?
            .conn
            .execute_batch("DELETE FROM tier_buckets; DELETE FROM tier_newest;")?;
        assert_eq!(store.backfill_tiers(&config, now)?, samples.len());
        let rebuilt: Vec<_> = (0..tiers::TIERS)
            .map(|tier| store.load_tier(tier, 0))
            .collect::<Result<_, _>>()?;
        assert_eq!(
            format!("{rebuilt:?}"),
            format!("{written:?}"),
            "NaN-aware equality"
        );
        assert_eq!(
            store.backfill_tiers(&config, now)?,
            0,
            "once tiers exist, nothing to do"
        );
        Ok(())
    }
}
