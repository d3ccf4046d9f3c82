//! `GET /api/sources`: the configured data sources a spec's series may query.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::state::AppState;

/// `GET /api/sources`: each configured source's name and kind (never its URL or
/// credentials).
pub async fn list(State(state): State<AppState>) -> Json<Value> {
    let sources: Vec<Value> = state
        .prometheus()
        .configs()
        .map(
            |c| json!({"name": c.name, "kind": c.kind, "refresh_ms": c.refresh.as_millis() as u64}),
        )
        .collect();
    Json(json!({ "sources": sources }))
}
