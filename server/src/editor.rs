//! Serves the browser editor (built by trunk into `web/dist`) at `/`.
//!
//! Where the files come from, first match wins: the directory named by
//! `PLOTCAST_EDITOR_DIR`; the files compiled into the binary (feature `embed-editor`,
//! which `cargo xtask dist` turns on, so the release binary runs from anywhere);
//! `web/dist` next to this crate (development). Without any of them `/` keeps the plain
//! page listing every chart's stream.

use std::path::PathBuf;

use axum::routing::MethodRouter;
use axum::Router;
use tower_http::services::ServeDir;

use crate::state::AppState;

/// Environment variable naming another editor directory.
pub const DIR_VARIABLE: &str = "PLOTCAST_EDITOR_DIR";

/// Where the built editor is looked for on disk.
pub fn dir() -> PathBuf {
    match std::env::var_os(DIR_VARIABLE) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web/dist"),
    }
}

/// The editor's routes: its files (with `index.html` at `/`) when it is available, else
/// `index` (the chart index page) at `/`.
pub fn router(index: MethodRouter<AppState>) -> Router<AppState> {
    let dir = dir();
    let overridden = std::env::var_os(DIR_VARIABLE).is_some_and(|d| !d.is_empty());
    if !overridden {
        if let Some(embedded) = embedded::router() {
            tracing::info!("serving the editor compiled into this binary");
            return embedded;
        }
    }
    if dir.join("index.html").is_file() {
        tracing::info!(dir = %dir.display(), "serving the editor");
        Router::new().fallback_service(ServeDir::new(dir))
    } else {
        tracing::info!(dir = %dir.display(), "no built editor (trunk build in web/); / lists the charts");
        Router::new().route("/", index)
    }
}

#[cfg(feature = "embed-editor")]
mod embedded {
    //! The editor files compiled into the binary, looked up by exact path (so no path
    //! can reach outside them).

    use axum::http::{header, StatusCode, Uri};
    use axum::response::{IntoResponse, Response};
    use axum::Router;
    use include_dir::{include_dir, Dir};

    use crate::state::AppState;

    static EDITOR: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../web/dist");

    pub fn router() -> Option<Router<AppState>> {
        EDITOR.get_file("index.html")?;
        Some(Router::new().fallback(serve))
    }

    async fn serve(uri: Uri) -> Response {
        let path = uri.path().trim_start_matches('/');
        let path = if path.is_empty() { "index.html" } else { path };
        match EDITOR.get_file(path) {
            Some(file) => (
                [(header::CONTENT_TYPE, content_type(path))],
                file.contents(),
            )
                .into_response(),
            None => (StatusCode::NOT_FOUND, "not found").into_response(),
        }
    }

    fn content_type(path: &str) -> &'static str {
        match path.rsplit('.').next() {
            Some("html") => "text/html; charset=utf-8",
            Some("js") => "text/javascript",
            Some("wasm") => "application/wasm",
            Some("css") => "text/css",
            Some("json") => "application/json",
            Some("svg") => "image/svg+xml",
            Some("png") => "image/png",
            Some("ico") => "image/x-icon",
            _ => "application/octet-stream",
        }
    }
}

#[cfg(not(feature = "embed-editor"))]
mod embedded {
    //! This build has no editor compiled in.

    use axum::Router;

    use crate::state::AppState;

    pub fn router() -> Option<Router<AppState>> {
        None
    }
}
