//! Fuzz target: any bytes as a `POST /api/points` body -> the server's JSON points
//! parsing and validation with small limits. Must never panic, and never return more
//! points than the limit or a name longer than the limit.

#![no_main]

use libfuzzer_sys::fuzz_target;
use server::ingest::json::parse_json_batch;
use server::ingest::IngestLimits;

fuzz_target!(|bytes: &[u8]| {
    let limits = IngestLimits { max_points: 64, max_name: 32 };
    if let Ok(batch) = parse_json_batch(bytes, 1_700_000_000_000, limits) {
        assert!(batch.samples <= limits.max_points);
        for series in &batch.series {
            assert!(!series.metric.is_empty());
            assert!(series.metric.chars().count() <= limits.max_name);
            assert!(series.points.is_sorted_by(|a, b| a.t < b.t), "one point per time, sorted");
            for (key, value) in &series.tags {
                assert!(key.chars().count() <= limits.max_name);
                assert!(value.chars().count() <= limits.max_name);
            }
        }
    }
});
