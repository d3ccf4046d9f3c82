//! Prometheus remote_write 1.0 (`POST /api/v1/write`): a protobuf
//! `prometheus.WriteRequest` compressed in snappy's block format, decoded into a
//! [`Batch`]. `__name__` is the metric, every other label a tag; a label with an empty
//! value is absent (as in Prometheus). Samples are `(ms, value)`; NaN, and so
//! Prometheus' stale marker, is a gap. Native histograms, exemplars and metadata are
//! skipped (plotcast stores floats): histograms and exemplars are counted, so the
//! answer says what was not stored.

use std::borrow::Cow;

use prost::Message;
use render_core::Point;

use super::batch::{Batch, Grouper};
use super::error::{IngestError, PointError};
use super::limits::{check_batch, IngestLimits};

/// The bits of Prometheus' stale marker, a NaN it writes when a series disappears
/// (stored as a gap like every NaN).
pub const STALE_MARKER: u64 = 0x7ff0_0000_0000_0002;

/// `prometheus.WriteRequest` (prompb/remote.proto); `metadata` (field 3) is skipped.
#[derive(Clone, PartialEq, Message)]
struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    timeseries: Vec<TimeSeries>,
}

/// `prometheus.TimeSeries` (prompb/types.proto).
#[derive(Clone, PartialEq, Message)]
struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    samples: Vec<Sample>,
    #[prost(message, repeated, tag = "3")]
    exemplars: Vec<Skipped>,
    #[prost(message, repeated, tag = "4")]
    histograms: Vec<Skipped>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, Message)]
struct Label {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, PartialEq, Message)]
struct Sample {
    #[prost(double, tag = "1")]
    value: f64,
    #[prost(int64, tag = "2")]
    timestamp: i64,
}

/// A message only counted (an exemplar, a native histogram): its fields are skipped.
#[derive(Clone, PartialEq, Message)]
struct Skipped {}

/// A decoded remote_write request.
#[derive(Debug)]
pub struct RemoteWrite {
    /// The float samples, grouped by series and checked against the limits.
    pub batch: Batch,
    /// Native histogram samples skipped.
    pub histograms: usize,
    /// Exemplars skipped.
    pub exemplars: usize,
}

/// Decodes a remote_write body: snappy (refused before decoding when its header says it
/// decodes to more than `max_decoded` bytes), then the protobuf, then each series.
/// Every series without a `__name__` (or with a label twice) is reported with its index
/// (`timeseries[3]`); nothing is returned unless all pass and the batch passes `limits`.
pub fn parse_remote_write(
    body: &[u8],
    max_decoded: usize,
    limits: IngestLimits,
) -> Result<RemoteWrite, IngestError> {
    let protobuf = decompress(body, max_decoded)?;
    let request = WriteRequest::decode(protobuf.as_slice())
        .map_err(|e| IngestError::Protobuf(e.to_string()))?;
    let mut grouper = Grouper::default();
    let mut problems = Vec::new();
    let (mut histograms, mut exemplars) = (0, 0);
    let mut tags = Vec::new();
    for (i, series) in request.timeseries.iter().enumerate() {
        histograms += series.histograms.len();
        exemplars += series.exemplars.len();
        let metric = match split_labels(&series.labels, &mut tags) {
            Ok(metric) => metric,
            Err(message) => {
                problems.push(PointError {
                    path: format!("timeseries[{i}]"),
                    message,
                });
                continue;
            }
        };
        // A series of histograms only adds no series to the store.
        if series.samples.is_empty() {
            continue;
        }
        let at = grouper.series_of_pairs(metric, &tags);
        for sample in &series.samples {
            let v = if sample.value.is_nan() {
                f64::NAN
            } else {
                sample.value
            };
            grouper.push(
                at,
                Point {
                    t: sample.timestamp,
                    v,
                },
            );
        }
    }
    if !problems.is_empty() {
        return Err(IngestError::Series(problems));
    }
    let batch = grouper.finish();
    check_batch(&batch, limits)?;
    Ok(RemoteWrite {
        batch,
        histograms,
        exemplars,
    })
}

/// Decodes snappy's block format, refusing a body whose header announces more than
/// `max` decoded bytes before allocating them.
fn decompress(body: &[u8], max: usize) -> Result<Vec<u8>, IngestError> {
    let snappy = |e: snap::Error| IngestError::Snappy(e.to_string());
    let size = snap::raw::decompress_len(body).map_err(snappy)?;
    if size > max {
        return Err(IngestError::DecodedTooLarge { size, max });
    }
    snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(snappy)
}

/// Splits a series' labels into its metric (`__name__`) and its tags (into `tags`,
/// sorted by key); labels with an empty value are absent.
fn split_labels<'a>(
    labels: &'a [Label],
    tags: &mut Vec<(Cow<'a, str>, Cow<'a, str>)>,
) -> Result<&'a str, String> {
    tags.clear();
    let mut metric = None;
    for label in labels.iter().filter(|l| !l.value.is_empty()) {
        match label.name.as_str() {
            "" => return Err(format!("a label without a name (value {:?})", label.value)),
            "__name__" if metric.is_some() => return Err(twice("__name__")),
            "__name__" => metric = Some(label.value.as_str()),
            name => tags.push((Cow::Borrowed(name), Cow::Borrowed(label.value.as_str()))),
        }
    }
    // Prometheus sends labels sorted; anything else is sorted here.
    if !tags.is_sorted_by(|a, b| a.0 < b.0) {
        tags.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(pair) = tags.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(twice(&pair[0].0));
        }
    }
    metric.ok_or_else(|| "no __name__ label".to_string())
}

fn twice(name: &str) -> String {
    format!("label {name:?} appears twice")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    const LIMITS: IngestLimits = IngestLimits {
        max_points: 100,
        max_name: 50,
    };

    fn series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> TimeSeries {
        TimeSeries {
            labels: labels
                .iter()
                .map(|(name, value)| Label {
                    name: name.to_string(),
                    value: value.to_string(),
                })
                .collect(),
            samples: samples
                .iter()
                .map(|&(timestamp, value)| Sample { value, timestamp })
                .collect(),
            ..TimeSeries::default()
        }
    }

    /// The body a remote_write sender posts: the protobuf, snappy-compressed.
    fn body(timeseries: Vec<TimeSeries>) -> Vec<u8> {
        let protobuf = WriteRequest { timeseries }.encode_to_vec();
        compress(&protobuf)
    }

    fn compress(bytes: &[u8]) -> Vec<u8> {
        snap::raw::Encoder::new()
            .compress_vec(bytes)
            .expect("snappy compresses")
    }

    fn parse(body: &[u8]) -> Result<RemoteWrite, IngestError> {
        parse_remote_write(body, 1 << 20, LIMITS)
    }

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_write_request_becomes_a_batch_by_series() {
        let up = [("__name__", "up"), ("instance", "h:9100"), ("job", "node")];
        let body = body(vec![
            series(&up, &[(2000, 1.0), (1000, 0.0)]),
            // Unsorted labels, an empty one: the same series.
            series(
                &[
                    ("job", "node"),
                    ("x", ""),
                    ("instance", "h:9100"),
                    ("__name__", "up"),
                ],
                &[(3000, 1.0)],
            ),
            series(&[("__name__", "temp")], &[(1000, 21.5)]),
        ]);
        let write = parse(&body).expect("valid request");
        assert_eq!(write.batch.samples, 4);
        assert_eq!(
            write.batch.rows(),
            [
                (
                    "up".to_string(),
                    tags(&[("instance", "h:9100"), ("job", "node")]),
                    vec![(1000, 0.0), (2000, 1.0), (3000, 1.0)]
                ),
                ("temp".to_string(), tags(&[]), vec![(1000, 21.5)]),
            ]
        );
    }

    #[test]
    fn a_stale_marker_is_stored_as_a_gap() {
        let stale = f64::from_bits(STALE_MARKER);
        assert!(stale.is_nan());
        let body = body(vec![series(&[("__name__", "m")], &[(1, 5.0), (2, stale)])]);
        let points = &parse(&body).expect("valid").batch.series[0].points;
        assert_eq!(points[0].v, 5.0);
        assert!(points[1].v.is_nan() && points[1].v.to_bits() != STALE_MARKER);
    }

    #[test]
    fn a_series_without_a_name_is_refused_by_its_index() {
        let body = body(vec![
            series(&[("__name__", "ok")], &[(1, 1.0)]),
            series(&[("job", "j")], &[(1, 1.0)]),
            series(&[("__name__", "a"), ("k", "1"), ("k", "2")], &[(1, 1.0)]),
        ]);
        let error = parse(&body).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "invalid remote_write in 2 series, first: timeseries[1]: no __name__ label"
        );
        let IngestError::Series(problems) = error else {
            panic!("not a series error: {error}");
        };
        assert_eq!(problems[1].path, "timeseries[2]");
        assert_eq!(problems[1].message, "label \"k\" appears twice");
    }

    #[test]
    fn histograms_and_exemplars_are_counted_not_stored() {
        let mut histogram_only = series(&[("__name__", "latency")], &[]);
        histogram_only.histograms = vec![Skipped {}, Skipped {}];
        let mut with_exemplar = series(&[("__name__", "m")], &[(1, 1.0)]);
        with_exemplar.exemplars = vec![Skipped {}];
        let write = parse(&body(vec![histogram_only, with_exemplar])).expect("valid");
        assert_eq!((write.histograms, write.exemplars), (2, 1));
        let metrics: Vec<&str> = write
            .batch
            .series
            .iter()
            .map(|s| s.metric.as_str())
            .collect();
        assert_eq!(metrics, ["m"]);
    }

    #[test]
    fn corrupt_snappy_and_protobuf_are_refused_by_layer() {
        let snappy = parse(b"\xff\xff\xff\xff\xff\xff").expect_err("not snappy");
        assert!(snappy.to_string().starts_with("snappy: "), "{snappy}");
        // A valid snappy header, then a copy from before the start.
        let truncated = parse(&[0x05, 0x01, 0x00]).expect_err("broken snappy");
        assert!(truncated.to_string().starts_with("snappy: "), "{truncated}");
        // Field 1 (timeseries) announcing 100 bytes, with 2.
        let protobuf = parse(&compress(&[0x0a, 100, 1, 2])).expect_err("not protobuf");
        assert!(protobuf.to_string().starts_with("protobuf: "), "{protobuf}");
        let empty = parse(b"").expect_err("empty body");
        assert!(empty.to_string().starts_with("snappy: "), "{empty}");
    }

    #[test]
    fn a_body_announcing_more_than_the_limit_is_refused_before_decoding() {
        // The header alone claims 1 GiB (varint 0x80 0x80 0x80 0x80 0x04); no data
        // follows, so only a check of the header can refuse it with this error.
        let claim = [0x80, 0x80, 0x80, 0x80, 0x04];
        let error = parse_remote_write(&claim, 1 << 20, LIMITS).expect_err("too large");
        assert_eq!(
            error,
            IngestError::DecodedTooLarge {
                size: 1 << 30,
                max: 1 << 20
            }
        );
        let fits = body(vec![series(&[("__name__", "m")], &[(1, 1.0)])]);
        let decoded = snap::raw::decompress_len(&fits).expect("header");
        assert!(parse_remote_write(&fits, decoded, LIMITS).is_ok());
        assert!(matches!(
            parse_remote_write(&fits, decoded - 1, LIMITS),
            Err(IngestError::DecodedTooLarge { .. })
        ));
    }

    #[test]
    fn the_ingest_limits_apply() {
        let many: Vec<(i64, f64)> = (0..101).map(|t| (t, 1.0)).collect();
        let error = parse(&body(vec![series(&[("__name__", "m")], &many)])).expect_err("limit");
        assert!(matches!(
            error,
            IngestError::TooManyPoints { count: 101, .. }
        ));
        let long = "x".repeat(51);
        let error = parse(&body(vec![series(
            &[("__name__", "m"), ("k", &long)],
            &[(1, 1.0)],
        )]))
        .expect_err("limit");
        assert!(matches!(error, IngestError::NameTooLong { .. }));
    }
}
