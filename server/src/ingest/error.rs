//! [`IngestError`]: why a write was refused as a whole. The parsers and the limit
//! checks return it; the HTTP layer (`crate::error`) turns it into a status and body.

use std::fmt;

/// A problem on one line of a line-protocol body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number in the body.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// A problem at one path of a structured body: a point of a JSON body
/// (`points[3].metric`) or a series of a remote_write body (`timeseries[3]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointError {
    /// Path in the body, e.g. `points[3].metric`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Why nothing of a write was stored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IngestError {
    /// The JSON body does not parse.
    #[error("invalid points JSON: {0}")]
    Json(String),
    /// Points of a JSON body are invalid.
    #[error("{} invalid points; nothing stored", .0.len())]
    Points(Vec<PointError>),
    /// Lines of a line-protocol body are invalid.
    #[error("{}", first_of("invalid line protocol", "lines", .0))]
    Lines(Vec<LineError>),
    /// A remote_write body is not snappy (block format).
    #[error("snappy: {0}")]
    Snappy(String),
    /// A remote_write body does not decode to a protobuf `WriteRequest`.
    #[error("protobuf: {0}")]
    Protobuf(String),
    /// Series of a remote_write body are invalid.
    #[error("{}", first_of("invalid remote_write", "series", .0))]
    Series(Vec<PointError>),
    /// A compressed body announces more decoded bytes than `max_body` (refused before
    /// decoding).
    #[error(
        "the body decodes to {size} bytes, more than the limit of {max} (max_body); nothing stored"
    )]
    DecodedTooLarge {
        /// Decoded size the body announces.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The request carries more samples than `max_points`.
    #[error("the request carries {count} points, more than the limit of {max} per request (max_points); nothing stored")]
    TooManyPoints {
        /// Samples in the request.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A metric name, tag key or tag value is longer than `max_name`.
    #[error("{name} is longer than {max} characters (max_name); nothing stored")]
    NameTooLong {
        /// Which name, clipped.
        name: String,
        /// The limit.
        max: usize,
    },
}

/// `WHAT: problem`, or for several problems `WHAT in N UNIT, first: problem`.
fn first_of<E: fmt::Display>(what: &str, unit: &str, errors: &[E]) -> String {
    match errors {
        [one] => format!("{what}: {one}"),
        [first, ..] => format!("{what} in {} {unit}, first: {first}", errors.len()),
        [] => what.to_string(),
    }
}
