//! Serves the browser editor (built by trunk into `web/dist`) at `/`.
//!
//! Where the files come from, first match wins: the directory named by
//! `PLOTCAST_EDITOR_DIR`; the files compiled into the binary (feature `embed-editor`,
//! which `cargo xtask dist` turns on, so the release binary runs from anywhere);
//! `web/dist` next to this crate (development). On disk the editor is looked for at
//! every request for `/`, so one built while the server runs (`cargo xtask run` serves
//! the demo and the API first) appears once it is there: until then a directory without
//! `index.html` gives a page saying the editor is being built, which reloads itself, and
//! no directory at all keeps the plain page listing every chart's stream.

use std::path::{Path, PathBuf};

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse};
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

/// The editor's routes: the compiled-in editor, else the one on disk (see `on_disk`).
pub fn router(index: MethodRouter<AppState>) -> Router<AppState> {
    let overridden = std::env::var_os(DIR_VARIABLE).is_some_and(|d| !d.is_empty());
    if !overridden {
        if let Some(embedded) = embedded::router() {
            tracing::info!("serving the editor compiled into this binary");
            return embedded;
        }
    }
    let dir = dir();
    tracing::info!(dir = %dir.display(), state = ?Editor::find(&dir), "serving the editor from disk");
    on_disk(dir, index)
}

/// What `/` finds on disk.
#[derive(Debug)]
enum Editor {
    /// `index.html` is there.
    Built,
    /// The directory is there without `index.html` (`cargo xtask run` creates it, then
    /// trunk builds into it).
    Building,
    /// No directory: no editor.
    Absent,
}

impl Editor {
    /// The state of the editor directory `dir`.
    fn find(dir: &Path) -> Editor {
        if dir.join("index.html").is_file() {
            Editor::Built
        } else if dir.is_dir() {
            Editor::Building
        } else {
            Editor::Absent
        }
    }
}

/// The page `/` shows while the editor is being built.
const BUILDING: &str = "<!doctype html><meta charset=utf-8>\
     <meta http-equiv=refresh content=5><title>plotcast: building the editor</title>\
     <style>body{font-family:sans-serif;background:#111;color:#ddd}</style>\
     <h1>plotcast</h1><p>The editor is being built. This page reloads itself every 5 \
     seconds and shows the editor once it is ready.</p><p>The API and the streams work \
     already, e.g. <a href=\"/charts/demo.mjpg\">/charts/demo.mjpg</a>.</p>";

/// The files of `dir`, with `/` decided at each request: the editor's `index.html`,
/// the "being built" page, or `index`.
fn on_disk<S: Clone + Send + Sync + 'static>(dir: PathBuf, index: MethodRouter<S>) -> Router<S> {
    let files = ServeDir::new(&dir);
    let home = middleware::from_fn(move |request: Request, next: Next| {
        let dir = dir.clone();
        async move {
            match Editor::find(&dir) {
                Editor::Built => match ServeDir::new(&dir).try_call(request).await {
                    Ok(response) => response.into_response(),
                    Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
                },
                Editor::Building => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, "5")],
                    Html(BUILDING),
                )
                    .into_response(),
                Editor::Absent => next.run(request).await,
            }
        }
    });
    Router::new()
        .route("/", index.layer(home))
        .fallback_service(files)
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

#[cfg(test)]
mod tests {
    use super::*;

    use std::convert::Infallible;

    use axum::body::Body;
    use axum::routing::get;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    /// `GET path` from the disk router over `dir`: status and body.
    async fn get_page(dir: &Path, path: &str) -> (StatusCode, String) {
        let router = on_disk(dir.to_path_buf(), get(|| async { "the chart list" }));
        let request = Request::get(path).body(Body::empty()).expect("request");
        let response = router
            .oneshot(request)
            .await
            .unwrap_or_else(|e: Infallible| match e {});
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn the_editor_appears_when_it_is_built() {
        let dir = std::env::temp_dir().join(format!("plotcast-editor-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            get_page(&dir, "/").await,
            (StatusCode::OK, "the chart list".to_owned()),
            "no editor directory: the chart list"
        );
        std::fs::create_dir_all(&dir).expect("mkdir");
        let (status, page) = get_page(&dir, "/").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(page.contains("being built"), "{page}");
        assert!(page.contains("http-equiv=refresh"), "{page}");
        std::fs::write(dir.join("index.html"), "the editor").expect("write");
        std::fs::write(dir.join("app.js"), "code").expect("write");
        assert_eq!(
            get_page(&dir, "/").await,
            (StatusCode::OK, "the editor".to_owned())
        );
        assert_eq!(
            get_page(&dir, "/app.js").await,
            (StatusCode::OK, "code".to_owned())
        );
        assert_eq!(get_page(&dir, "/missing.js").await.0, StatusCode::NOT_FOUND);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
