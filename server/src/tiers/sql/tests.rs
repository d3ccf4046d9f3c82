//! Tests of the tiers in SQLite: stored buckets equal the rollup of the raw rows after
//! any writes, pruned raw rows are never recomputed from, and what `apply` costs.

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
            let raw = raw_points(&conn, series_id, i64::MIN, i64::MAX)?;
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

/// A database whose `tier_buckets` is keyed series first (as before the key was time
/// first) is migrated: the same buckets, the new key, `tier_newest` from tier 0, and a
/// later write appends exactly as on a new database.
#[test]
fn a_series_first_table_is_migrated() -> Result<(), Box<dyn std::error::Error>> {
    let (_dir, mut conn) = open()?;
    let config = TierConfig::default();
    let now = 1_700_000_000_000;
    let points = |from: i64, n: i64| -> Vec<Point> {
        (0..n)
            .map(|i| Point {
                t: from + i * 7_000,
                v: (i % 11) as f64,
            })
            .collect()
    };
    for series_id in 1..3 {
        write(
            &mut conn,
            &config,
            now,
            series_id,
            &points(now - 86_400_000, 5_000),
        )?;
    }
    let before: Vec<_> = (1..3)
        .map(|id| stored_tiers(&conn, id))
        .collect::<Result<_, _>>()?;
    let new_key = "PRIMARY KEY (tier, start, series_id)";
    let old_table = SCHEMA
        .split_inclusive("WITHOUT ROWID;")
        .next()
        .ok_or("no tier_buckets in SCHEMA")?
        .replace(new_key, OLD_KEY)
        .replace("tier_buckets", "series_first");
    conn.execute_batch(&format!(
        "{old_table}
         INSERT INTO series_first SELECT * FROM tier_buckets;
         DROP TABLE tier_buckets; DROP TABLE tier_newest;
         ALTER TABLE series_first RENAME TO tier_buckets;"
    ))?;
    migrate(&mut conn)?;
    let sql: String = conn.query_row(
        "SELECT sql FROM sqlite_master WHERE name = 'tier_buckets'",
        [],
        |row| row.get(0),
    )?;
    assert!(sql.contains(new_key), "{sql}");
    let after: Vec<_> = (1..3)
        .map(|id| stored_tiers(&conn, id))
        .collect::<Result<_, _>>()?;
    for (b, a) in before.iter().zip(&after) {
        for tier in 0..TIERS {
            assert_eq!(keys(&b[tier]), keys(&a[tier]), "tier {tier}");
        }
    }
    let newest: i64 = conn.query_row(
        "SELECT last_t FROM tier_newest WHERE series_id = 1",
        [],
        |row| row.get(0),
    )?;
    assert_eq!(newest, now - 86_400_000 + 4_999 * 7_000);
    // Migrating again changes nothing.
    migrate(&mut conn)?;
    write(&mut conn, &config, now, 1, &points(newest + 3_000, 100))?;
    let raw = raw_points(&conn, 1, i64::MIN, i64::MAX)?;
    let (expected, stored) = (ladder(&raw), stored_tiers(&conn, 1)?);
    for tier in 0..TIERS {
        assert_eq!(keys(&stored[tier]), keys(&expected[tier]), "tier {tier}");
    }
    Ok(())
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

/// What `apply_batch` adds to an ingest batch of the benchmarks' shapes: 5,000 points,
/// in 250-row inserts as the store writes them, of 10 series 1 ms apart (the ingest
/// benchmark) and 60 s apart, and of 100 series 60 s apart (the long-window backfill:
/// every series at the next 50 minutes, a bucket per point in the fine tiers). Prints
/// the time per batch without and with tiers, and of `apply_batch` alone (no
/// assertion: timing is not a test).
#[test]
fn apply_cost_for_an_ingest_batch() -> Result<(), Box<dyn std::error::Error>> {
    let rows = vec!["(?, ?, ?)"; 250].join(", ");
    let insert = format!("INSERT OR REPLACE INTO points (series_id, t, v) VALUES {rows}");
    let batches = 40;
    for (series_count, spacing) in [(10, 1), (10, 60_000), (100, 60_000)] {
        let per_series = 5_000 / series_count;
        let (_dir, mut conn) = open()?;
        // [raw only, with tiers, apply_batch alone]
        let mut spent = [std::time::Duration::ZERO; 3];
        let mut t0 = 1_700_000_000_000;
        for round in 0..2 * batches {
            let with_tiers = round % 2 == 1;
            let series: Vec<(i64, Vec<Point>)> = (0..series_count)
                .map(|id| {
                    let points = (0..per_series)
                        .map(|i| Point {
                            t: t0 + i * spacing,
                            v: (i % 97) as f64,
                        })
                        .collect();
                    (id, points)
                })
                .collect();
            t0 += per_series * spacing;
            let started = Instant::now();
            let tx = conn.transaction()?;
            {
                let mut many = tx.prepare_cached(&insert)?;
                let rows: Vec<(i64, &Point)> = series
                    .iter()
                    .flat_map(|(id, points)| points.iter().map(move |p| (*id, p)))
                    .collect();
                for chunk in rows.chunks(250) {
                    for (i, (id, p)) in chunk.iter().enumerate() {
                        many.raw_bind_parameter(i * 3 + 1, id)?;
                        many.raw_bind_parameter(i * 3 + 2, p.t)?;
                        many.raw_bind_parameter(i * 3 + 3, p.v)?;
                    }
                    many.raw_execute()?;
                }
                if with_tiers {
                    let applying = Instant::now();
                    let batch = series.iter().map(|(id, points)| (*id, points.as_slice()));
                    apply_batch(&tx, &TierConfig::default(), t0, batch)?;
                    spent[2] += applying.elapsed();
                }
            }
            tx.commit()?;
            spent[usize::from(with_tiers)] += started.elapsed();
        }
        let [raw, tiers, alone] = spent.map(|d| d.as_secs_f64() * 1e3 / f64::from(batches));
        println!(
            "5,000-point batch of {series_count} series, {spacing} ms apart: {raw:.3} ms raw \
             only ({:.2} M points/s), {tiers:.3} ms with tiers ({:.2} M points/s), \
             apply_batch alone {alone:.3} ms",
            5.0 / raw,
            5.0 / tiers,
        );
    }
    Ok(())
}
