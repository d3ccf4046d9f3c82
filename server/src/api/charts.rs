//! Chart publishing: `PUT/GET/DELETE /api/charts/{id}`, `GET /api/charts`,
//! `GET /api/schema`.

use axum::body::Body;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use render_core::{Params, Spec};
use serde_json::{json, Value};

use crate::api::access::{Authorized, ViewerCredentials};
use crate::api::body::read_body;
use crate::api::image_params::{bad_params, parse_with};
use crate::error::AppError;
use crate::state::AppState;

use render_core::valid_chart_id as valid_id;

/// Checks an id from a path.
pub fn check_id(id: &str) -> Result<(), AppError> {
    if valid_id(id) {
        Ok(())
    } else {
        Err(AppError::bad_request(format!(
            "chart id {:?} is invalid: use 1 to 64 of a-z, 0-9, '_' and '-', starting with a letter or digit",
            id.chars().take(80).collect::<String>()
        )))
    }
}

/// `GET /api/schema`: the spec's JSON Schema.
pub async fn schema() -> Json<Value> {
    Json(render_core::json_schema())
}

/// `GET /api/charts`: every chart's id and version.
pub async fn list(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    let charts = state.charts().await?;
    let list: Vec<Value> = charts
        .iter()
        .map(|c| json!({"id": c.id, "version": c.version, "updated_ms": c.updated_ms, "private": c.private, "stream": format!("/charts/{}.mjpg", c.id)}))
        .collect();
    Ok(Json(json!({ "charts": list })))
}

/// `GET /api/charts/{id}`: the spec with its version (private charts: with the token
/// or a signed URL).
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    credentials: ViewerCredentials,
) -> Result<Json<Value>, AppError> {
    check_id(&id)?;
    let chart = state.chart(&id).await?;
    let chart = chart.ok_or_else(|| AppError::NotFound(format!("no chart {id:?}")))?;
    credentials.check(&state, &id, chart.private, &Params::default())?;
    let spec: Value =
        serde_json::from_str(&chart.spec).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Json(
        json!({"id": chart.id, "version": chart.version, "updated_ms": chart.updated_ms, "private": chart.private, "spec": spec}),
    ))
}

/// `PUT /api/charts/{id}` query: `private=true|false` (absent: unchanged; new charts
/// are public).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutQuery {
    private: Option<bool>,
}

/// `PUT /api/charts/{id}`: publish a spec (create or replace).
pub async fn put(
    State(state): State<AppState>,
    _auth: Authorized,
    Path(id): Path<String>,
    Query(query): Query<PutQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), AppError> {
    check_id(&id)?;
    if query.private == Some(true) && state.config().signing_secret().is_none() {
        return Err(AppError::bad_request(
            "a private chart needs signed URLs, and this server has no secret to sign \
             them with: start it with --token or --signing-key",
        ));
    }
    let bytes = read_body(&headers, body, state.config().max_body).await?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| AppError::bad_request("the chart spec is not UTF-8"))?;
    let spec = Spec::from_json(text)
        .map_err(|e| AppError::bad_request(format!("invalid chart spec JSON: {e}")))?;
    let json = serde_json::to_string(&spec).map_err(|e| AppError::Internal(e.to_string()))?;
    let (version, private) = state.publish(&id, json, spec, query.private).await?;
    let status = if version == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(
            json!({"id": id, "version": version, "private": private, "stream": format!("/charts/{id}.mjpg")}),
        ),
    ))
}

/// `POST /api/charts/{id}/sign?ttl=1h&var-host=db2`: a signed URL for viewing chart
/// `id` (`ttl` a duration, default 1h) with the picture parameters given (variables,
/// overrides), which the signature covers.
pub async fn sign(
    State(state): State<AppState>,
    _auth: Authorized,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, AppError> {
    check_id(&id)?;
    let mut ttl = None;
    let params = parse_with(
        raw.as_deref().unwrap_or(""),
        "POST /api/charts/ID/sign takes",
        "ttl",
        |key, value| Ok(key == "ttl" && ttl.replace(value.to_string()).is_none()),
    )?;
    let secret = state.config().signing_secret().ok_or_else(|| {
        AppError::bad_request(
            "this server has no secret to sign URLs with: start it with --token or --signing-key",
        )
    })?;
    let chart = state
        .hub()
        .get(&id)
        .ok_or_else(|| AppError::NotFound(format!("no chart {id:?}")))?;
    chart.resolve(&params).map_err(bad_params)?;
    let ttl = ttl.as_deref().unwrap_or("1h");
    let ttl_ms = render_core::parse_duration_ms(ttl)
        .filter(|ms| *ms > 0)
        .ok_or_else(|| {
            AppError::bad_request(format!("ttl={ttl:?} is not a duration such as 10m or 1h"))
        })?;
    let exp = state.now_ms().saturating_add(ttl_ms).div_euclid(1000);
    let (query, sig) = crate::signing::signed_query(secret, &id, exp, &params);
    Ok(Json(json!({
        "id": id,
        "exp": exp,
        "sig": sig,
        "query": query,
        "stream": format!("/charts/{id}.mjpg?{query}"),
        "jpg": format!("/charts/{id}.jpg?{query}"),
        "png": format!("/charts/{id}.png?{query}"),
    })))
}

/// `DELETE /api/charts/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    _auth: Authorized,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    check_id(&id)?;
    if !state.delete_chart(&id).await? {
        return Err(AppError::NotFound(format!("no chart {id:?}")));
    }
    Ok(StatusCode::NO_CONTENT)
}
