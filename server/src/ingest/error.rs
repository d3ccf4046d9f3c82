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

/// A problem with one point of a JSON body, at its JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointError {
    /// JSON path, e.g. `points[3].metric`.
    pub path: String,
    /// What is wrong.
    pub message: String,
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
    #[error("{}", lines_message(.0))]
    Lines(Vec<LineError>),
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

fn lines_message(errors: &[LineError]) -> String {
    match errors {
        [one] => format!("invalid line protocol: {one}"),
        [first, ..] => format!(
            "invalid line protocol in {} lines, first: {first}",
            errors.len()
        ),
        [] => "invalid line protocol".to_string(),
    }
}
