//! Tiers in SQLite: one `tier_buckets` table, written in the transaction that writes
//! the raw points (so tiers and points commit together and survive `kill -9` together),
//! loaded at startup and pruned per tier.
//!
//! A write to a series is *appended* when all its points are later than the series'
//! newest point (found with one indexed lookup: the end of its newest tier-0 bucket):
//! then each tier's first new bucket is upserted, merging into the stored one of the
//! same start, and the later ones (new) go in 32-row inserts: an ingest batch usually
//! fills one bucket per tier, so one lookup and five prepared upserts per series. Otherwise (out of order, or overwriting a stored timestamp, where merging
//! would count a point twice) the buckets the points fall in are recomputed: tier 0 from
//! the raw `points` rows, each coarser tier from the tier below, by the same
//! [`rollup`]/[`coarsen`] as in memory. A bucket is recomputed only from a source that
//! still holds all of its time range — raw rows newer than `now - raw retention`,
//! buckets of the tier below newer than `now - its retention` — so pruned rows are never
//! mistaken for missing ones; an older bucket instead has the new points merged in
//! (a stored timestamp written again then counts twice there).

use rusqlite::{params, Connection, OptionalExtension, Row, Statement, Transaction};

use render_core::{Point, Timestamp};

use super::{coarsen, ladder, merge, rollup, Bucket, Tier, TierConfig, STEPS_MS, TIERS};

/// The table of every tier's buckets; NULL reals are NaN (gaps, or no finite value).
/// Keyed by tier, series and start, so one series' buckets of a tier are one range.
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
    PRIMARY KEY (tier, series_id, start)
) WITHOUT ROWID;
";

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
                 ON CONFLICT (tier, series_id, start) DO UPDATE SET
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

/// The last time of the series' newest tier-0 bucket: its newest point.
const NEWEST: &str =
    "SELECT last_t FROM tier_buckets WHERE tier = 0 AND series_id = ?1 ORDER BY start DESC LIMIT 1";

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
) -> rusqlite::Result<Vec<(Tier, Vec<Bucket>)>> {
    let Some(first) = points.first() else {
        return Ok(Vec::new());
    };
    let newest: Option<Timestamp> = tx
        .prepare_cached(NEWEST)?
        .query_row([series_id], |row| row.get(0))
        .optional()?;
    let fresh = ladder(points);
    if newest.is_none_or(|t| t < first.t) {
        append(tx, series_id, &fresh)
    } else {
        recompute(tx, config, now_ms, series_id, &fresh)
    }
}

/// The appended path: each tier's first new bucket is upserted (it may continue the
/// stored newest one), the later ones are new and go in multi-row inserts.
fn append(
    tx: &Transaction<'_>,
    series_id: i64,
    fresh: &[Vec<Bucket>; TIERS],
) -> rusqlite::Result<Vec<(Tier, Vec<Bucket>)>> {
    let writes = writes();
    let mut upsert = tx.prepare_cached(&writes.upsert)?;
    let mut many = tx.prepare_cached(&writes.insert_many)?;
    let mut one = tx.prepare_cached(&writes.insert_one)?;
    let mut out = Vec::with_capacity(TIERS);
    for (tier, buckets) in fresh.iter().enumerate() {
        let Some((first, later)) = buckets.split_first() else {
            continue;
        };
        bind(&mut upsert, 0, tier, series_id, first)?;
        let merged = match upsert.raw_query().next()? {
            Some(row) => bucket(row, 0)?,
            None => return Err(rusqlite::Error::QueryReturnedNoRows),
        };
        let mut chunks = later.chunks_exact(INSERT_ROWS);
        for chunk in &mut chunks {
            for (row, b) in chunk.iter().enumerate() {
                bind(&mut many, row, tier, series_id, b)?;
            }
            many.raw_execute()?;
        }
        for b in chunks.remainder() {
            bind(&mut one, 0, tier, series_id, b)?;
            one.raw_execute()?;
        }
        let mut written = Vec::with_capacity(buckets.len());
        written.push(merged);
        written.extend_from_slice(later);
        out.push((tier, written));
    }
    Ok(out)
}

/// The out-of-order path: the buckets `fresh` touches are recomputed, tier by tier.
fn recompute(
    tx: &Transaction<'_>,
    config: &TierConfig,
    now_ms: Timestamp,
    series_id: i64,
    fresh: &[Vec<Bucket>; TIERS],
) -> rusqlite::Result<Vec<(Tier, Vec<Bucket>)>> {
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
                None => {
                    let held = stored(tx, tier, series_id, new.start, new.start + 1)?;
                    let mut merged = held.first().copied().unwrap_or(*new);
                    if !held.is_empty() {
                        merge(&mut merged, new);
                    }
                    merged
                }
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
fn raw_points(
    tx: &Transaction<'_>,
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

/// The stored buckets of a series in a tier that start in `from..end`.
fn stored(
    tx: &Transaction<'_>,
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
/// order: what [`super::SeriesTiers::replace`] takes at startup.
pub fn load(
    conn: &Connection,
    tier: Tier,
    since_ms: Timestamp,
) -> rusqlite::Result<Vec<(i64, Vec<Bucket>)>> {
    let mut select = conn.prepare_cached(&format!(
        "SELECT series_id, {COLUMNS} FROM tier_buckets
         WHERE tier = ?1 AND start > ?2 ORDER BY series_id, start"
    ))?;
    let since = since_ms.saturating_sub(STEPS_MS[tier]);
    let mut rows = select.query(params![tier as i64, since])?;
    let mut out: Vec<(i64, Vec<Bucket>)> = Vec::new();
    while let Some(row) = rows.next()? {
        let (id, b) = (row.get(0)?, bucket(row, 1)?);
        match out.last_mut() {
            Some((last, buckets)) if *last == id => buckets.push(b),
            _ => out.push((id, vec![b])),
        }
    }
    Ok(out)
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
mod tests {
    use std::time::Instant;

    use proptest::prelude::*;

    use super::*;
    use crate::tiers::bucket::tests::{keys, value};
    use crate::tiers::SeriesTiers;

    /// A database like the store's: WAL, `synchronous=FULL`, the `points` table (as in
    /// `store.rs`) and the tiers.
    fn open() -> Result<(tempfile::TempDir, Connection), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let conn = Connection::open(dir.path().join("tiers.db"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE points (
                series_id INTEGER NOT NULL,
                t INTEGER NOT NULL,
                v REAL,
                PRIMARY KEY (series_id, t)
            ) WITHOUT ROWID;",
        )?;
        conn.execute_batch(SCHEMA)?;
        Ok((dir, conn))
    }

    /// Writes a series' points as the store does (a gap as NULL, a stored time replaced),
    /// then its tiers, in one transaction.
    fn write(
        conn: &mut Connection,
        config: &TierConfig,
        now: Timestamp,
        series_id: i64,
        points: &[Point],
    ) -> rusqlite::Result<Vec<(Tier, Vec<Bucket>)>> {
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO points (series_id, t, v) VALUES (?1, ?2, ?3)",
            )?;
            for p in points {
                insert.execute(params![series_id, p.t, p.v.is_finite().then_some(p.v)])?;
            }
        }
        let written = apply(&tx, config, now, series_id, points)?;
        tx.commit()?;
        Ok(written)
    }

    /// Every stored bucket of a series, per tier.
    fn stored_tiers(conn: &Connection, series_id: i64) -> rusqlite::Result<Vec<Vec<Bucket>>> {
        (0..TIERS)
            .map(|tier| {
                Ok(load(conn, tier, i64::MIN)?
                    .into_iter()
                    .find(|(id, _)| *id == series_id)
                    .map(|(_, buckets)| buckets)
                    .unwrap_or_default())
            })
            .collect()
    }

    /// A batch: appended after the series' newest point, or anywhere in what the
    /// series holds (out of order, overwriting stored times).
    fn batch() -> impl Strategy<Value = (i64, bool, Vec<(i64, f64)>)> {
        let offsets = prop_oneof![0i64..30_000, 0i64..20_000_000];
        (
            1i64..3,
            any::<bool>(),
            prop::collection::vec((offsets, value()), 1..40),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// After any sequence of appended and out-of-order batches, every stored bucket
        /// (and every bucket memory holds, from what `apply` returned) equals the
        /// rollup of the raw points rows: what a restart after `kill -9` finds.
        #[test]
        fn stored_tiers_equal_the_rollup_of_the_raw_points(batches in prop::collection::vec(batch(), 1..24)) {
            let (_dir, mut conn) = open().map_err(|e| TestCaseError::fail(e.to_string()))?;
            let config = TierConfig {
                raw_retention_ms: i64::MAX / 4,
                retention_ms: [i64::MAX / 4; TIERS],
                ..TierConfig::default()
            };
            let unbounded = TierConfig { memory_ms: [i64::MAX / 4; TIERS], ..config.clone() };
            let now = 1_800_000_000_000;
            let mut memory = [SeriesTiers::new(&unbounded), SeriesTiers::new(&unbounded)];
            let mut newest = [1_700_000_000_000i64; 2];
            for (series_id, appended, raw) in batches {
                let index = (series_id - 1) as usize;
                let base = if appended { newest[index] + 1 } else { 1_700_000_000_000 };
                let mut points: Vec<Point> = raw.iter().map(|&(dt, v)| Point { t: base + dt, v }).collect();
                points.sort_by_key(|p| p.t);
                // One point per time, the last written kept (as the store's batches).
                points.reverse();
                points.dedup_by_key(|p| p.t);
                points.reverse();
                newest[index] = newest[index].max(points.last().map_or(0, |p| p.t));
                let written = write(&mut conn, &config, now, series_id, &points)?;
                for (tier, buckets) in written {
                    memory[index].replace(tier, &buckets);
                }
            }
            for series_id in 1..3 {
                let raw = raw_points(&conn.transaction()?, series_id, i64::MIN, i64::MAX)?;
                let expected = ladder(&raw);
                let stored = stored_tiers(&conn, series_id)?;
                for tier in 0..TIERS {
                    prop_assert_eq!(keys(&stored[tier]), keys(&expected[tier]), "tier {}", tier);
                    let held = memory[(series_id - 1) as usize].read(tier, i64::MIN, i64::MAX);
                    prop_assert_eq!(keys(held), keys(&expected[tier]), "memory, tier {}", tier);
                }
            }
        }
    }

    /// A write into a bucket whose raw points were partly pruned merges into the bucket
    /// instead of recomputing it from the rows that are left.
    #[test]
    fn recompute_never_reads_pruned_raw_rows() -> Result<(), Box<dyn std::error::Error>> {
        let (_dir, mut conn) = open()?;
        let day = 86_400_000;
        let config = TierConfig {
            raw_retention_ms: day,
            ..TierConfig::default()
        };
        let p = |t, v| Point { t, v };
        // A 10 s bucket from 0 to 10 s, two points each side of the raw cutoff at 5 s.
        let now = day + 5_000;
        write(
            &mut conn,
            &config,
            now,
            1,
            &[p(1_000, 1.0), p(2_000, 2.0), p(7_000, 7.0), p(8_000, 8.0)],
        )?;
        let tx = conn.transaction()?;
        tx.execute(
            "DELETE FROM points WHERE t < ?1",
            [now - config.raw_retention_ms],
        )?;
        assert_eq!(prune(&tx, now, &config)?, 0);
        tx.commit()?;
        // Out of order: 6 s into the bucket.
        let written = write(&mut conn, &config, now, 1, &[p(6_000, 6.0)])?;
        let tier0 = &written[0].1;
        assert_eq!(tier0.len(), 1);
        assert_eq!((tier0[0].count, tier0[0].sum, tier0[0].min), (5, 24.0, 1.0));
        // The coarser tiers are recomputed from tier 0, which holds the whole range.
        for (_, buckets) in &written[1..] {
            assert_eq!((buckets[0].count, buckets[0].sum), (5, 24.0));
        }
        assert_eq!(keys(&stored_tiers(&conn, 1)?[0]), keys(tier0));
        // Past every tier's retention, everything goes.
        let tx = conn.transaction()?;
        assert_eq!(prune(&tx, 1_000 * day, &config)?, TIERS);
        tx.commit()?;
        assert!(stored_tiers(&conn, 1)?.iter().all(Vec::is_empty));
        Ok(())
    }

    /// What `apply` adds to an ingest batch of the benchmark's shape: 5,000 points of
    /// 10 series, in 250-row inserts as the store writes them, 1 ms apart (the ingest
    /// benchmark) and 60 s apart (a backfill: a bucket per point in the fine tiers).
    /// Prints the time per batch without and with tiers, and of `apply` alone (no
    /// assertion: timing is not a test).
    #[test]
    fn apply_cost_for_an_ingest_batch() -> Result<(), Box<dyn std::error::Error>> {
        let rows = vec!["(?, ?, ?)"; 250].join(", ");
        let insert = format!("INSERT OR REPLACE INTO points (series_id, t, v) VALUES {rows}");
        let batches = 40;
        for spacing in [1, 60_000] {
            let (_dir, mut conn) = open()?;
            // [raw only, with tiers, apply alone]
            let mut spent = [std::time::Duration::ZERO; 3];
            let mut t0 = 1_700_000_000_000;
            for round in 0..2 * batches {
                let with_tiers = round % 2 == 1;
                let series: Vec<Vec<Point>> = (0..10)
                    .map(|_| {
                        (0..500)
                            .map(|i| Point {
                                t: t0 + i * spacing,
                                v: (i % 97) as f64,
                            })
                            .collect()
                    })
                    .collect();
                t0 += 500 * spacing;
                let started = Instant::now();
                let tx = conn.transaction()?;
                {
                    let mut many = tx.prepare_cached(&insert)?;
                    for (id, points) in series.iter().enumerate() {
                        for chunk in points.chunks(250) {
                            for (i, p) in chunk.iter().enumerate() {
                                many.raw_bind_parameter(i * 3 + 1, id as i64)?;
                                many.raw_bind_parameter(i * 3 + 2, p.t)?;
                                many.raw_bind_parameter(i * 3 + 3, p.v)?;
                            }
                            many.raw_execute()?;
                        }
                    }
                    if with_tiers {
                        let applying = Instant::now();
                        for (id, points) in series.iter().enumerate() {
                            apply(&tx, &TierConfig::default(), t0, id as i64, points)?;
                        }
                        spent[2] += applying.elapsed();
                    }
                }
                tx.commit()?;
                spent[usize::from(with_tiers)] += started.elapsed();
            }
            let [raw, tiers, alone] = spent.map(|d| d.as_secs_f64() * 1e3 / f64::from(batches));
            println!(
                "5,000-point batch of 10 series, {spacing} ms apart: {raw:.3} ms raw only \
                 ({:.2} M points/s), {tiers:.3} ms with tiers ({:.2} M points/s), \
                 apply alone {alone:.3} ms",
                5.0 / raw,
                5.0 / tiers,
            );
        }
        Ok(())
    }
}
