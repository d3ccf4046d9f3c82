//! Fuzz target: any bytes as a `POST /api/points` body -> the server's JSON points
//! parsing and validation with small limits. Must never panic, and never return more
//! points than the limit or a name longer than the limit.

#![no_main]

use libfuzzer_sys::fuzz_target;
use server::points::{parse_json_points, IngestLimits};

fuzz_target!(|bytes: &[u8]| {
    let limits = IngestLimits { max_points: 64, max_name: 32 };
    if let Ok(samples) = parse_json_points(bytes, 1_700_000_000_000, limits) {
        assert!(samples.len() <= limits.max_points);
        for sample in &samples {
            assert!(!sample.metric.is_empty());
            assert!(sample.metric.chars().count() <= limits.max_name);
            for (key, value) in &sample.tags {
                assert!(key.chars().count() <= limits.max_name);
                assert!(value.chars().count() <= limits.max_name);
            }
        }
    }
});
