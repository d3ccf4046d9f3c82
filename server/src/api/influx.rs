//! What InfluxDB 1.x clients ask before they write, so they work unchanged:
//! `GET|HEAD /ping` (health, 204 with the version header) and `/query` with
//! `CREATE DATABASE` (Telegraf's `influxdb` output sends it at start). plotcast has one
//! namespace, so creating a database succeeds and changes nothing; other queries are
//! refused with a message saying so.

use axum::extract::Query;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::api::access::Authorized;
use crate::error::AppError;

/// `GET|HEAD /ping`.
pub async fn ping() -> impl IntoResponse {
    let version = (
        HeaderName::from_static("x-influxdb-version"),
        HeaderValue::from_static("1.8-plotcast"),
    );
    (StatusCode::NO_CONTENT, [version])
}

/// The `q` parameter of `/query`.
#[derive(Debug, Deserialize)]
pub struct QueryParams {
    q: Option<String>,
}

/// `GET|POST /query?q=CREATE DATABASE "name"`.
pub async fn query(
    _auth: Authorized,
    Query(params): Query<QueryParams>,
) -> Result<impl IntoResponse, AppError> {
    let q = params.q.unwrap_or_default();
    let words: Vec<String> = q
        .split_whitespace()
        .take(2)
        .map(str::to_ascii_uppercase)
        .collect();
    if words == ["CREATE", "DATABASE"] {
        Ok(Json(json!({"results": [{"statement_id": 0}]})))
    } else {
        Err(AppError::bad_request(format!(
            "plotcast answers only CREATE DATABASE on /query (it has one namespace; read data with GET /api/series/points), not {:?}",
            q.chars().take(80).collect::<String>()
        )))
    }
}
