//! Fuzz target: any bytes as an InfluxDB line protocol body -> the server's parser (every
//! precision) -> the ingest limit checks, exactly as `POST /write` runs them. Must never
//! panic; errors must name a real line.

#![no_main]

use libfuzzer_sys::fuzz_target;
use server::ingest::line_protocol::{parse_batch, Precision};
use server::ingest::{check_batch, IngestError, IngestLimits};

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let lines = text.lines().count();
    for precision in ["ns", "us", "ms", "s", "m", "h"] {
        let Some(precision) = Precision::parse(precision) else { return };
        match parse_batch(text, precision, 1_700_000_000_000) {
            Ok(batch) => {
                for series in &batch.series {
                    assert!(!series.metric.is_empty());
                    assert!(series.points.is_sorted_by(|a, b| a.t < b.t), "one point per time, sorted");
                }
                let limits = IngestLimits { max_points: 1000, max_name: 200 };
                let _ = check_batch(&batch, limits);
            }
            Err(IngestError::Lines(errors)) => {
                assert!(!errors.is_empty());
                for error in &errors {
                    assert!(error.line >= 1 && error.line <= lines, "line {} of {lines}", error.line);
                }
            }
            Err(other) => panic!("a parse error that names no line: {other}"),
        }
    }
});
