//! What plotcast nodes say to each other over NATS: the subjects and the messages.
//!
//! - `PREFIX.frames.CHART.VARIANT`: each frame (JPEG payload, `Plotcast-Time` header)
//!   of one live variant, published by the origin that renders it; every edge with
//!   viewers of the variant subscribes. VARIANT is the variant's canonical query
//!   (`Params::query`) in unpadded base64url, or `_` for the chart as published, so
//!   any parameters make one subject token. A message with a `Plotcast-End` header
//!   and no payload ends the variant's streams (the chart was deleted).
//! - `PREFIX.interest`: every second, each edge's [`Interest`]: the variants it has
//!   viewers of. Origins render a variant while some edge keeps asking for it.
//! - `PREFIX.admit` (request/reply, queue group `PREFIX-origins`): an edge asks one
//!   origin whether a viewer's request may be answered ([`AdmitRequest`]); the origin
//!   checks it as it checks its own viewers and answers an [`AdmitReply`]: the chart
//!   and a picture for the stream's first frame, the still image, or the error
//!   response to pass on.
//! - KV bucket `PREFIX-leases`: key = chart id, value = the id of the origin that
//!   renders it; entries live `--lease-ttl` unless renewed (see `lease.rs`).

use base64::Engine;
use serde::{Deserialize, Serialize};

/// Header of a frame message: when the frame was drawn, in ms since the epoch.
pub const TIME_HEADER: &str = "Plotcast-Time";
/// Header of the message that ends a variant's streams; its value says why.
pub const END_HEADER: &str = "Plotcast-End";

/// The subjects and bucket names under one prefix.
#[derive(Debug, Clone)]
pub struct Subjects {
    prefix: String,
}

impl Subjects {
    /// Names under `prefix` (checked by the configuration: a subject token).
    pub fn new(prefix: &str) -> Subjects {
        Subjects {
            prefix: prefix.to_string(),
        }
    }

    /// The frames of chart `id`'s variant with canonical query `variant`.
    pub fn frames(&self, id: &str, variant: &str) -> String {
        let token = if variant.is_empty() {
            "_".to_string()
        } else {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(variant)
        };
        format!("{}.frames.{id}.{token}", self.prefix)
    }

    /// The edges' interest heartbeats.
    pub fn interest(&self) -> String {
        format!("{}.interest", self.prefix)
    }

    /// Admission requests.
    pub fn admit(&self) -> String {
        format!("{}.admit", self.prefix)
    }

    /// The queue group origins answer admission requests in (one origin answers each).
    pub fn origins_group(&self) -> String {
        format!("{}-origins", self.prefix)
    }

    /// The key-value bucket of render leases.
    pub fn leases_bucket(&self) -> String {
        format!("{}-leases", self.prefix)
    }
}

/// One live variant an edge has viewers of.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Watched {
    /// Chart id.
    pub chart: String,
    /// The variant's canonical query (empty: the chart as published).
    pub variant: String,
    /// Whether a viewer asked for smooth scrolling (`?scroll=smooth`).
    pub smooth: bool,
}

/// An edge's heartbeat.
#[derive(Debug, Serialize, Deserialize)]
pub struct Interest {
    /// The edge's node id.
    pub node: String,
    /// What it has viewers of.
    pub watching: Vec<Watched>,
}

/// A viewer's request, as an edge received it.
#[derive(Debug, Serialize, Deserialize)]
pub struct AdmitRequest {
    /// `ID.mjpg`, `ID.jpg` or `ID.png`.
    pub file: String,
    /// The query string as sent (with `exp` and `sig` of a signed URL).
    pub query: String,
    /// The `Authorization` header, if any (the token views private charts).
    pub authorization: Option<String>,
    /// For a stream: whether the edge needs a first picture (it has none of the
    /// variant yet), so a viewer joining a live variant costs the origin no render.
    pub picture: bool,
}

/// An origin's answer to an [`AdmitRequest`].
#[derive(Debug, Serialize, Deserialize)]
pub struct AdmitReply {
    /// HTTP status for the viewer (200: admitted).
    pub status: u16,
    /// Content type of `body`.
    pub content_type: String,
    /// `Retry-After` seconds of a refusal.
    pub retry_after: Option<u32>,
    /// The still image (a stream's first frame, if asked for), or the error response's
    /// body; base64.
    pub body: String,
    /// For an admitted stream: the chart's spec as published, JSON.
    pub spec: Option<String>,
    /// For an admitted stream: whether the chart is private.
    pub private: bool,
}

impl AdmitReply {
    /// The body's bytes (empty if it is not base64, which no origin sends).
    pub fn body_bytes(&self) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.body)
            .unwrap_or_default()
    }

    /// `bytes` in base64 for [`AdmitReply::body`].
    pub fn encode_body(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_parameters_make_one_subject_token() {
        let subjects = Subjects::new("plotcast");
        assert_eq!(subjects.frames("cpu", ""), "plotcast.frames.cpu._");
        let subject = subjects.frames("cpu", "var-host=db.2&title=a b*>");
        let tokens: Vec<&str> = subject.split('.').collect();
        assert_eq!(tokens.len(), 4, "{subject}");
        assert!(tokens[3]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(subject, subjects.frames("cpu", "var-host=db.3"));
    }
}
