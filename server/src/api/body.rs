//! Reading request bodies: a size limit (also after gzip; or raw, for remote_write's
//! snappy, which its parser decodes and limits) and JSON parsing whose errors are
//! clear 400s.

use std::io::Read;

use axum::body::Body;
use axum::http::{header, HeaderMap};
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// Reads a whole body, refusing more than `limit` bytes; a gzip `Content-Encoding` is
/// decoded (the limit applies to the decoded size too).
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, AppError> {
    let raw = read_raw(body, limit).await?;
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity");
    match encoding.trim().to_ascii_lowercase().as_str() {
        "" | "identity" => Ok(raw),
        "gzip" | "x-gzip" => {
            let mut decoded = Vec::new();
            let mut reader = flate2::read::MultiGzDecoder::new(&raw[..]).take(limit as u64 + 1);
            reader.read_to_end(&mut decoded).map_err(|e| {
                AppError::bad_request(format!("the gzip body could not be decoded: {e}"))
            })?;
            if decoded.len() > limit {
                return Err(AppError::TooLarge(limit));
            }
            Ok(Bytes::from(decoded))
        }
        other => Err(AppError::bad_request(format!(
            "Content-Encoding {other:?} is not supported (use gzip)"
        ))),
    }
}

/// Reads a whole body as sent (no `Content-Encoding` decoded), refusing more than
/// `limit` bytes.
pub async fn read_raw(body: Body, limit: usize) -> Result<Bytes, AppError> {
    axum::body::to_bytes(body, limit).await.map_err(|error| {
        let inner = error.into_inner();
        if inner
            .downcast_ref::<http_body_util::LengthLimitError>()
            .is_some()
        {
            AppError::TooLarge(limit)
        } else {
            AppError::bad_request(format!("reading the request body failed: {inner}"))
        }
    })
}

/// Parses JSON, turning serde's message (with line and column) into a 400.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, AppError> {
    serde_json::from_slice(bytes).map_err(|e| AppError::bad_request(format!("invalid {what}: {e}")))
}
