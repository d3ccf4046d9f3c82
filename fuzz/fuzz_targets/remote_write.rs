//! Fuzz target: any bytes as a `POST /api/v1/write` body -> the server's remote_write
//! decoding (snappy, protobuf, series) and limits, exactly as the handler runs them;
//! the same bytes snappy-compressed reach the protobuf decoder too. Must never panic,
//! never return more points than the limit or a name longer than the limit, and name
//! every bad series by its index.

#![no_main]

use libfuzzer_sys::fuzz_target;
use server::ingest::remote_write::parse_remote_write;
use server::ingest::{IngestError, IngestLimits};

const LIMITS: IngestLimits = IngestLimits { max_points: 256, max_name: 32 };

fn check(body: &[u8]) {
    match parse_remote_write(body, 64 * 1024, LIMITS) {
        Ok(write) => {
            assert!(write.batch.samples <= LIMITS.max_points);
            for series in &write.batch.series {
                assert!(!series.metric.is_empty());
                assert!(series.metric.chars().count() <= LIMITS.max_name);
                assert!(series.points.is_sorted_by(|a, b| a.t < b.t), "one point per time, sorted");
                for (key, value) in &series.tags {
                    assert!(!key.is_empty() && !value.is_empty());
                    assert!(key.chars().count() <= LIMITS.max_name);
                    assert!(value.chars().count() <= LIMITS.max_name);
                }
            }
        }
        Err(IngestError::Series(problems)) => {
            assert!(!problems.is_empty());
            assert!(problems.iter().all(|p| p.path.starts_with("timeseries[")));
        }
        Err(_) => {}
    }
}

fuzz_target!(|bytes: &[u8]| {
    check(bytes);
    if let Ok(compressed) = snap::raw::Encoder::new().compress_vec(bytes) {
        check(&compressed);
    }
});
