//! The limits every write passes: samples per request (`max_points`) and the length of
//! metric names, tag keys and tag values (`max_name`).

use std::collections::BTreeMap;

use super::batch::Batch;
use super::error::IngestError;

/// Limits applied to every write.
#[derive(Debug, Clone, Copy)]
pub struct IngestLimits {
    /// Most samples per request (`max_points`).
    pub max_points: usize,
    /// Longest metric name, tag key or tag value in characters (`max_name`).
    pub max_name: usize,
}

/// Checks a parsed batch against `limits`: the samples it carried, and the names of
/// each series (the first too long one is reported).
pub fn check_batch(batch: &Batch, limits: IngestLimits) -> Result<(), IngestError> {
    check_count(batch.samples, limits)?;
    match batch
        .series
        .iter()
        .find_map(|s| too_long(&s.metric, &s.tags, limits.max_name))
    {
        Some(name) => Err(IngestError::NameTooLong {
            name,
            max: limits.max_name,
        }),
        None => Ok(()),
    }
}

/// Refuses more than `max_points` samples.
pub(super) fn check_count(count: usize, limits: IngestLimits) -> Result<(), IngestError> {
    if count > limits.max_points {
        return Err(IngestError::TooManyPoints {
            count,
            max: limits.max_points,
        });
    }
    Ok(())
}

/// Describes the first name longer than `max` characters, if any.
pub(super) fn too_long(
    metric: &str,
    tags: &BTreeMap<String, String>,
    max: usize,
) -> Option<String> {
    let long = |s: &str| s.chars().count() > max;
    let clip = |s: &str| s.chars().take(40).collect::<String>();
    if long(metric) {
        return Some(format!("metric name {:?}…", clip(metric)));
    }
    tags.iter().find_map(|(k, v)| {
        if long(k) {
            Some(format!("tag key {:?}…", clip(k)))
        } else if long(v) {
            Some(format!("value of tag {:?}", clip(k)))
        } else {
            None
        }
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::batch::Sample;
    use super::*;

    /// Small limits for tests of the parsers.
    pub const LIMITS: IngestLimits = IngestLimits {
        max_points: 2,
        max_name: 5,
    };

    #[test]
    fn a_batch_counts_every_sample_and_checks_names_per_series() {
        let sample = |metric: &str, t: i64| Sample {
            metric: metric.into(),
            tags: BTreeMap::new(),
            t,
            v: t as f64,
        };
        let batch = Batch::from_samples(&[sample("a", 2), sample("a", 2), sample("a", 1)]);
        assert_eq!(batch.samples, 3);
        assert!(check_batch(&batch, LIMITS).is_err_and(|e| e.to_string().contains("max_points")));
        let points: Vec<(i64, f64)> = batch.series[0].points.iter().map(|p| (p.t, p.v)).collect();
        assert_eq!(points, [(1, 1.0), (2, 2.0)]);
        let long = Batch::from_samples(&[sample("a", 1), sample("metric", 1)]);
        assert!(check_batch(&long, LIMITS).is_err_and(|e| e.to_string().contains("max_name")));
    }
}
