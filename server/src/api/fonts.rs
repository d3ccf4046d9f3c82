//! The extra fonts of the fallback chain (`--font`), for the editor: its preview must
//! draw with the same fonts as the stream. `GET /api/fonts` lists their URLs in
//! fallback order; `GET /api/fonts/{n}` is the font file.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use crate::error::AppError;
use crate::state::AppState;

/// `GET /api/fonts`: `{"fonts": ["/api/fonts/0", ...]}` (the embedded default font is
/// not listed: the editor has it compiled in).
pub async fn list(State(state): State<AppState>) -> Json<Value> {
    let urls: Vec<String> = (0..state.fonts().len())
        .map(|n| format!("/api/fonts/{n}"))
        .collect();
    Json(json!({ "fonts": urls }))
}

/// `GET /api/fonts/{n}`: the `n`-th extra font's bytes.
pub async fn get(
    State(state): State<AppState>,
    Path(index): Path<String>,
) -> Result<impl IntoResponse, AppError> {
    let font = index
        .parse::<usize>()
        .ok()
        .and_then(|n| state.fonts().get(n))
        .ok_or_else(|| {
            AppError::NotFound(format!("no font {index:?}: GET /api/fonts lists them"))
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, "font/ttf"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        font.clone(),
    ))
}
