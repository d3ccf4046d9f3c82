//! Tiers in SQLite: one `tier_buckets` table, written in the transaction that writes
//! the raw points (so tiers and points commit together and survive `kill -9` together),
//! loaded at startup and pruned per tier.
//!
//! Buckets are keyed time first (`tier, start, series_id`): a batch holds the same
//! minutes of many series (a backfill, or many hosts reporting), and series-first keys
//! made it dirty a page per series and tier, ≈ 10 KB of WAL per point of sparse
//! series; time-first, a batch's new buckets are a few runs of adjacent rows.
//!
//! A write to a series is *appended* when all its points are later than the series'
//! newest point (`tier_newest`, one row per series, kept in the same transaction):
//! then each tier's first new bucket is upserted, merging into the stored one of the
//! same start (only if it starts at or before that newest point: otherwise there is
//! none), and the later ones (new) go in 32-row inserts: an ingest batch usually
//! fills one bucket per tier, so one lookup and five prepared upserts per series. The
//! new buckets of all of a batch's series are inserted together at its end, sorted by
//! the key: a time-major backfill (every series at the same minutes) then appends rows
//! in key order, filling pages instead of splitting them, rather than interleaving
//! series by series (and a few 32-row inserts replace many one-row ones).
//!
//! Otherwise (out of order, or overwriting a stored timestamp, where merging would
//! count a point twice) the buckets the points fall in are recomputed: tier 0 from
//! the raw `points` rows, each coarser tier from the tier below, by the same
//! [`rollup`]/[`coarsen`] as in memory. A bucket is recomputed only from a source that
//! still holds all of its time range — raw rows newer than `now - raw retention`,
//! buckets of the tier below newer than `now - its retention` — so pruned rows are never
//! mistaken for missing ones; an older bucket instead has the new points merged in
//! (a stored timestamp written again then counts twice there).

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension, Row, Statement, Transaction};

use render_core::{Point, Timestamp};

use super::bucket::{coarsen, ladder, merge, rollup, Bucket};
use super::steps::{Tier, TierConfig, STEPS_MS, TIERS};

/// The table of every tier's buckets; NULL reals are NaN (gaps, or no finite value),
/// keyed by tier, start and series (module docs); and per series the time of its newest
/// point, which decides between the appended and the out-of-order path.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tier_buckets (
    tier INTEGER NOT NULL,
    series_id INTEGER NOT NULL,
    start INTEGER NOT NULL,
    first_t INTEGER NOT NULL,
    first_v REAL,
    min_v REAL,
    max_v REAL,
    last_t INTEGER NOT NULL,
    last_v REAL,
    count INTEGER NOT NULL,
    sum REAL,
    gaps INTEGER NOT NULL,
    PRIMARY KEY (tier, start, series_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tier_newest (
    series_id INTEGER PRIMARY KEY,
    last_t INTEGER NOT NULL
);
";

/// The key of `tier_buckets` before it was time first (data directories written then).
const OLD_KEY: &str = "PRIMARY KEY (tier, series_id, start)";

/// Brings a `tier_buckets` table keyed series first to [`SCHEMA`] (rows copied in one
/// transaction, `tier_newest` filled from tier 0); does nothing to any other database.
/// Runs before [`SCHEMA`] is executed.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let sql: Option<String> = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'tier_buckets'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if !sql.is_some_and(|sql| sql.contains(OLD_KEY)) {
        return Ok(());
    }
    let tx = conn.transaction()?;
    tx.execute_batch("ALTER TABLE tier_buckets RENAME TO tier_buckets_series_first")?;
    tx.execute_batch(SCHEMA)?;
    tx.execute_batch(&format!(
        "INSERT INTO tier_buckets {ROW} SELECT {} FROM tier_buckets_series_first;
         INSERT OR REPLACE INTO tier_newest (series_id, last_t)
            SELECT series_id, max(last_t) FROM tier_buckets_series_first
            WHERE tier = 0 GROUP BY series_id;
         DROP TABLE tier_buckets_series_first;",
        &ROW[1..ROW.len() - 1]
    ))?;
    tx.commit()
}

/// The columns [`bucket`] reads, in its order.
const COLUMNS: &str = "start, first_t, first_v, min_v, max_v, last_t, last_v, count, sum, gaps";

/// The columns of a bucket row, in the order [`bind`] binds them.
const ROW: &str =
    "(tier, series_id, start, first_t, first_v, min_v, max_v, last_t, last_v, count, sum, gaps)";

/// Parameters [`bind`] binds per row.
const ROW_PARAMETERS: usize = 12;

/// Rows per multi-row `INSERT` of new buckets.
const INSERT_ROWS: usize = 32;

/// The statements that write bucket rows, built once.
struct Writes {
    /// Merges a later bucket into the stored one and returns the result (the SQL of
    /// [`merge`] for a later bucket: SQL's `min`/`max` are NULL when either side is,
    /// `coalesce` takes the other then).
    upsert: String,
    /// Inserts [`INSERT_ROWS`] new buckets.
    insert_many: String,
    /// Inserts one new bucket.
    insert_one: String,
    /// Writes one bucket over the stored one.
    replace: String,
}

/// [`Writes`], built on first use.
fn writes() -> &'static Writes {
    static WRITES: std::sync::OnceLock<Writes> = std::sync::OnceLock::new();
    WRITES.get_or_init(|| {
        let row = format!("({})", ["?"; ROW_PARAMETERS].join(", "));
        let insert = |rows: usize| {
            let rows = vec![row.as_str(); rows].join(", ");
            format!("INSERT INTO tier_buckets {ROW} VALUES {rows}")
        };
        Writes {
            upsert: format!(
                "INSERT INTO tier_buckets {ROW} VALUES {row}
                 ON CONFLICT (tier, start, series_id) DO UPDATE SET
                    min_v = coalesce(min(min_v, excluded.min_v), min_v, excluded.min_v),
                    max_v = coalesce(max(max_v, excluded.max_v), max_v, excluded.max_v),
                    last_t = excluded.last_t,
                    last_v = excluded.last_v,
                    count = count + excluded.count,
                    sum = sum + excluded.sum,
                    gaps = gaps + excluded.gaps
                 RETURNING {COLUMNS}"
            ),
            insert_many: insert(INSERT_ROWS),
            insert_one: insert(1),
            replace: format!("INSERT OR REPLACE INTO tier_buckets {ROW} VALUES {row}"),
        }
    })
}

/// The time of the series' newest point.
const NEWEST: &str = "SELECT last_t FROM tier_newest WHERE series_id = ?1";

/// Records `last_t` as the series' newest point unless it holds a newer one.
const SET_NEWEST: &str = "INSERT INTO tier_newest (series_id, last_t) VALUES (?1, ?2)
     ON CONFLICT (series_id) DO UPDATE SET last_t = max(last_t, excluded.last_t)";

/// Stores the tier buckets of `points`, the series' points just written in `tx` into
/// `points` (sorted by time, one per time, as the store writes them), and returns
/// per tier the buckets that now hold them, in time order — exactly what SQLite holds,
/// for [`super::SeriesTiers::replace`]. `now_ms` and `config` say which sources still
/// hold a bucket's whole range (module docs).
pub fn apply(
    tx: &Transaction<'_>,
    config: &TierConfig,
    now_ms: Timestamp,
    series_id: i64,
    points: &[Point],
) -> rusqlite::Result<Written> {
    Ok(apply_batch(tx, config, now_ms, [(series_id, points)])?
        .pop()
        .unwrap_or_default())
}

/// [`apply`] for each `(series_id, points)` of a batch (each series at most once), in
/// order; the new buckets of all of them are inserted at the end, in key order.
pub fn apply_batch<'p>(
    tx: &Transaction<'_>,
    config: &TierConfig,
    now_ms: Timestamp,
    series: impl IntoIterator<Item = (i64, &'p [Point])>,
) -> rusqlite::Result<Vec<Written>> {
    let mut new = Vec::new();
    let mut out = Vec::new();
    for (series_id, points) in series {
        let Some(first) = points.first() else {
            out.push(Vec::new());
            continue;
        };
        let newest: Option<Timestamp> = tx
            .prepare_cached(NEWEST)?
            .query_row([series_id], |row| row.get(0))
            .optional()?;
        let fresh = ladder(points);
        let last = points.last().map_or(first.t, |p| p.t);
        tx.prepare_cached(SET_NEWEST)?
            .execute(params![series_id, last])?;
        out.push(if newest.is_none_or(|t| t < first.t) {
            append(tx, series_id, newest, &fresh, &mut new)?
        } else {
            recompute(tx, config, now_ms, series_id, &fresh)?
        });
    }
    insert_new(tx, &mut new)?;
    Ok(out)
}

/// A series' buckets that now hold its new points, per tier, in time order.
pub type Written = Vec<(Tier, Vec<Bucket>)>;

/// A bucket no stored row has the key of, to insert: tier, series and the bucket.
type NewRow = (Tier, i64, Bucket);

/// The appended path: each tier's first new bucket is upserted when it may continue
/// the stored newest one (it starts at or before the series' `newest` point: no
/// bucket is stored without a point in it); every other bucket is new and is added to
/// `new`, for [`insert_new`].
fn append(
    tx: &Transaction<'_>,
    series_id: i64,
    newest: Option<Timestamp>,
    fresh: &[Vec<Bucket>; TIERS],
    new: &mut Vec<NewRow>,
) -> rusqlite::Result<Written> {
    let mut upsert = tx.prepare_cached(&writes().upsert)?;
    let mut out = Vec::with_capacity(TIERS);
    for (tier, buckets) in fresh.iter().enumerate() {
        let Some((first, later)) = buckets.split_first() else {
            continue;
        };
        let merged = if newest.is_some_and(|t| t >= first.start) {
            bind(&mut upsert, 0, tier, series_id, first)?;
            match upsert.raw_query().next()? {
                Some(row) => bucket(row, 0)?,
                None => return Err(rusqlite::Error::QueryReturnedNoRows),
            }
        } else {
            new.push((tier, series_id, *first));
            *first
        };
        new.extend(later.iter().map(|b| (tier, series_id, *b)));
        let mut written = Vec::with_capacity(buckets.len());
        written.push(merged);
        written.extend_from_slice(later);
        out.push((tier, written));
    }
    Ok(out)
}

/// Inserts `new` sorted by the table's key (tier, start, series), in multi-row inserts.
fn insert_new(tx: &Transaction<'_>, new: &mut [NewRow]) -> rusqlite::Result<()> {
    new.sort_unstable_by_key(|&(tier, series_id, b)| (tier, b.start, series_id));
    let writes = writes();
    let mut many = tx.prepare_cached(&writes.insert_many)?;
    let mut chunks = new.chunks_exact(INSERT_ROWS);
    for chunk in &mut chunks {
        for (row, (tier, series_id, b)) in chunk.iter().enumerate() {
            bind(&mut many, row, *tier, *series_id, b)?;
        }
        many.raw_execute()?;
    }
    let mut one = tx.prepare_cached(&writes.insert_one)?;
    for (tier, series_id, b) in chunks.remainder() {
        bind(&mut one, 0, *tier, *series_id, b)?;
        one.raw_execute()?;
    }
    Ok(())
}

/// The out-of-order path: the buckets `fresh` touches are recomputed, tier by tier.
fn recompute(
    tx: &Transaction<'_>,
    config: &TierConfig,
    now_ms: Timestamp,
    series_id: i64,
    fresh: &[Vec<Bucket>; TIERS],
) -> rusqlite::Result<Written> {
    let mut replace = tx.prepare_cached(&writes().replace)?;
    let mut out = Vec::with_capacity(TIERS);
    for (tier, buckets) in fresh.iter().enumerate() {
        let step = STEPS_MS[tier];
        let source_retention = match tier {
            0 => config.raw_retention_ms,
            _ => config.retention_ms[tier - 1],
        };
        let cutoff = now_ms.saturating_sub(source_retention);
        let mut written = Vec::with_capacity(buckets.len());
        for new in buckets {
            let end = new.start.saturating_add(step);
            let recomputed = if new.start < cutoff {
                None
            } else if tier == 0 {
                rollup(&raw_points(tx, series_id, new.start, end)?, step).pop()
            } else {
                coarsen(&stored(tx, tier - 1, series_id, new.start, end)?, step).pop()
            };
            let b = match recomputed {
                Some(b) => b,
                None => match stored(tx, tier, series_id, new.start, new.start + 1)?.pop() {
                    Some(mut held) => {
                        merge(&mut held, new);
                        held
                    }
                    None => *new,
                },
            };
            bind(&mut replace, 0, tier, series_id, &b)?;
            replace.raw_execute()?;
            written.push(b);
        }
        out.push((tier, written));
    }
    Ok(out)
}

/// The raw points of a series in `from..end`.
pub fn raw_points(
    tx: &Connection,
    series_id: i64,
    from: Timestamp,
    end: Timestamp,
) -> rusqlite::Result<Vec<Point>> {
    let mut select = tx.prepare_cached(
        "SELECT t, v FROM points WHERE series_id = ?1 AND t >= ?2 AND t < ?3 ORDER BY t",
    )?;
    let rows = select.query_map(params![series_id, from, end], |row| {
        Ok(Point {
            t: row.get(0)?,
            v: real(row, 1)?,
        })
    })?;
    rows.collect()
}

/// The stored buckets of a series in a tier that cover any time in `from..=to`: a scan
/// of every series' buckets in that time (the key is time first), which only reads
/// older than memory holds need.
pub fn range(
    conn: &Connection,
    tier: Tier,
    series_id: i64,
    from: Timestamp,
    to: Timestamp,
) -> rusqlite::Result<Vec<Bucket>> {
    let start = from.saturating_sub(STEPS_MS[tier] - 1);
    stored(conn, tier, series_id, start, to.saturating_add(1))
}

/// The stored buckets of a series in a tier that start in `from..end`.
fn stored(
    tx: &Connection,
    tier: Tier,
    series_id: i64,
    from: Timestamp,
    end: Timestamp,
) -> rusqlite::Result<Vec<Bucket>> {
    let mut select = tx.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM tier_buckets
         WHERE tier = ?1 AND series_id = ?2 AND start >= ?3 AND start < ?4 ORDER BY start"
    ))?;
    let rows = select.query_map(params![tier as i64, series_id, from, end], |row| {
        bucket(row, 0)
    })?;
    rows.collect()
}

/// Every series' buckets of `tier` that end after `since_ms`, by series id, in time
/// order: what [`super::SeriesTiers::replace`] takes at startup. One scan in key order
/// (time first), grouped per series as it goes.
pub fn load(
    conn: &Connection,
    tier: Tier,
    since_ms: Timestamp,
) -> rusqlite::Result<Vec<(i64, Vec<Bucket>)>> {
    let mut select = conn.prepare_cached(&format!(
        "SELECT series_id, {COLUMNS} FROM tier_buckets
         WHERE tier = ?1 AND start > ?2 ORDER BY start, series_id"
    ))?;
    let since = since_ms.saturating_sub(STEPS_MS[tier]);
    let mut rows = select.query(params![tier as i64, since])?;
    let mut out: BTreeMap<i64, Vec<Bucket>> = BTreeMap::new();
    while let Some(row) = rows.next()? {
        out.entry(row.get(0)?).or_default().push(bucket(row, 1)?);
    }
    Ok(out.into_iter().collect())
}

/// Deletes the buckets of each tier that ended before `now_ms` minus the tier's
/// retention; returns how many. (Raw points are pruned by the store.)
pub fn prune(
    tx: &Transaction<'_>,
    now_ms: Timestamp,
    config: &TierConfig,
) -> rusqlite::Result<usize> {
    let mut delete =
        tx.prepare_cached("DELETE FROM tier_buckets WHERE tier = ?1 AND start <= ?2")?;
    let mut deleted = 0;
    for (tier, (retention, step)) in config.retention_ms.iter().zip(STEPS_MS).enumerate() {
        let cutoff = now_ms.saturating_sub(*retention);
        deleted += delete.execute(params![tier as i64, cutoff.saturating_sub(step)])?;
    }
    Ok(deleted)
}

/// Binds bucket `b` of `tier` as row `row` (from 0) of a statement's [`ROW`]s; a NaN
/// is bound as NULL.
fn bind(
    statement: &mut Statement<'_>,
    row: usize,
    tier: Tier,
    series_id: i64,
    b: &Bucket,
) -> rusqlite::Result<()> {
    let real = |v: f64| (!v.is_nan()).then_some(v);
    let at = row * ROW_PARAMETERS;
    statement.raw_bind_parameter(at + 1, tier as i64)?;
    statement.raw_bind_parameter(at + 2, series_id)?;
    statement.raw_bind_parameter(at + 3, b.start)?;
    statement.raw_bind_parameter(at + 4, b.first_t)?;
    statement.raw_bind_parameter(at + 5, real(b.first))?;
    statement.raw_bind_parameter(at + 6, real(b.min))?;
    statement.raw_bind_parameter(at + 7, real(b.max))?;
    statement.raw_bind_parameter(at + 8, b.last_t)?;
    statement.raw_bind_parameter(at + 9, real(b.last))?;
    statement.raw_bind_parameter(at + 10, b.count)?;
    statement.raw_bind_parameter(at + 11, real(b.sum))?;
    statement.raw_bind_parameter(at + 12, b.gaps)
}

/// A bucket from [`COLUMNS`] starting at column `at`.
fn bucket(row: &Row<'_>, at: usize) -> rusqlite::Result<Bucket> {
    Ok(Bucket {
        start: row.get(at)?,
        first_t: row.get(at + 1)?,
        first: real(row, at + 2)?,
        min: real(row, at + 3)?,
        max: real(row, at + 4)?,
        last_t: row.get(at + 5)?,
        last: real(row, at + 6)?,
        count: row.get(at + 7)?,
        sum: real(row, at + 8)?,
        gaps: row.get(at + 9)?,
    })
}

/// A REAL column, NULL as NaN.
fn real(row: &Row<'_>, at: usize) -> rusqlite::Result<f64> {
    Ok(row.get::<_, Option<f64>>(at)?.unwrap_or(f64::NAN))
}

#[cfg(test)]
mod tests;
