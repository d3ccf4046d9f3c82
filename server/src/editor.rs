//! Serves the browser editor (`web/dist`, built by trunk) at `/`.
//!
//! The directory is `web/dist` next to this crate, or `PLOTCAST_EDITOR_DIR` when set.
//! Without a built editor `/` keeps the plain page listing every chart's stream.
//! (Release bundles will embed the assets; see `cargo xtask dist`.)

use std::path::PathBuf;

use axum::routing::MethodRouter;
use axum::Router;
use tower_http::services::ServeDir;

use crate::state::AppState;

/// Environment variable naming another editor directory.
pub const DIR_VARIABLE: &str = "PLOTCAST_EDITOR_DIR";

/// Where the built editor is looked for.
pub fn dir() -> PathBuf {
    match std::env::var_os(DIR_VARIABLE) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web/dist"),
    }
}

/// The editor's routes: its files (with `index.html` at `/`) when it is built, else
/// `index` (the chart index page) at `/`.
pub fn router(index: MethodRouter<AppState>) -> Router<AppState> {
    let dir = dir();
    if dir.join("index.html").is_file() {
        tracing::info!(dir = %dir.display(), "serving the editor");
        Router::new().fallback_service(ServeDir::new(dir))
    } else {
        tracing::info!(dir = %dir.display(), "no built editor (trunk build in web/); / lists the charts");
        Router::new().route("/", index)
    }
}
