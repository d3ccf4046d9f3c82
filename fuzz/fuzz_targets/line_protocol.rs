//! Fuzz target: any bytes as an InfluxDB line protocol body -> the server's parser (every
//! precision) -> the ingest limit checks. Must never panic; errors must name a real line.

#![no_main]

use libfuzzer_sys::fuzz_target;
use server::line_protocol::{parse, Precision};
use server::points::{check_samples, IngestLimits};

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let lines = text.lines().count();
    for precision in ["ns", "us", "ms", "s", "m", "h"] {
        let Some(precision) = Precision::parse(precision) else { return };
        match parse(text, precision, 1_700_000_000_000) {
            Ok(samples) => {
                for sample in &samples {
                    assert!(!sample.metric.is_empty());
                }
                let limits = IngestLimits { max_points: 1000, max_name: 200 };
                let _ = check_samples(&samples, limits);
            }
            Err(errors) => {
                assert!(!errors.is_empty());
                for error in &errors {
                    assert!(error.line >= 1 && error.line <= lines, "line {} of {lines}", error.line);
                }
            }
        }
    }
});
