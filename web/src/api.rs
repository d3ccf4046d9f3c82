//! Fetch wrappers for the server's API. Errors carry the server's message (and its
//! per-path details) so the page can show them; a 401 means the API token is needed.

use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

/// A failed request.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status; 0 when the request did not reach the server.
    pub status: u16,
    /// What went wrong, from the server's `{"error", "details"}` body when there is one.
    pub message: String,
}

impl ApiError {
    fn network(what: &str, error: JsValue) -> ApiError {
        ApiError {
            status: 0,
            message: format!("{what}: {}", js_text(&error)),
        }
    }

    /// Whether the server asked for the API token.
    pub fn unauthorized(&self) -> bool {
        self.status == 401
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.status == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "HTTP {}: {}", self.status, self.message)
        }
    }
}

fn js_text(value: &JsValue) -> String {
    value
        .as_string()
        .or_else(|| {
            value
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{value:?}"))
}

/// The server's error body as one line: `error (path: message; ...)`.
fn error_message(body: &str) -> String {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return body.trim().chars().take(300).collect();
    };
    let mut message = value["error"].as_str().unwrap_or(body).to_string();
    if let Some(details) = value["details"].as_array() {
        let parts: Vec<String> = details
            .iter()
            .filter_map(|d| {
                let text = d["message"].as_str()?;
                Some(match (d["path"].as_str(), d["line"].as_u64()) {
                    (Some(path), _) => format!("{path}: {text}"),
                    (None, Some(line)) => format!("line {line}: {text}"),
                    _ => text.to_string(),
                })
            })
            .collect();
        if !parts.is_empty() && !message.contains(&parts[0]) {
            message = format!("{message} ({})", parts.join("; "));
        }
    }
    message
}

/// Sends a request and returns the response body as text on a 2xx status.
pub async fn send(
    method: &str,
    path: &str,
    body: Option<&str>,
    token: Option<&str>,
) -> Result<String, ApiError> {
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    let request = Request::new_with_str_and_init(path, &init)
        .map_err(|e| ApiError::network("building the request", e))?;
    let headers = request.headers();
    if body.is_some() {
        let _ = headers.set("Content-Type", "application/json");
    }
    if let Some(token) = token {
        let _ = headers.set("Authorization", &format!("Bearer {token}"));
    }
    let window = crate::dom::window().ok_or_else(|| ApiError {
        status: 0,
        message: "no window".into(),
    })?;
    let response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|e| ApiError::network(&format!("{method} {path}"), e))?;
    let response: Response = response
        .dyn_into()
        .map_err(|e| ApiError::network("fetch", e))?;
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    if response.ok() {
        Ok(text)
    } else {
        Err(ApiError {
            status: response.status(),
            message: format!("{method} {path}: {}", error_message(&text)),
        })
    }
}

/// `GET path`, parsed as JSON.
pub async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let text = send("GET", path, None, None).await?;
    serde_json::from_str(&text).map_err(|e| ApiError {
        status: 0,
        message: format!("GET {path}: unexpected answer: {e}"),
    })
}

/// `GET path` as bytes (images, fonts).
pub async fn get_bytes(path: &str) -> Result<Vec<u8>, ApiError> {
    let window = crate::dom::window().ok_or_else(|| ApiError {
        status: 0,
        message: "no window".into(),
    })?;
    let response = JsFuture::from(window.fetch_with_str(path))
        .await
        .map_err(|e| ApiError::network(&format!("GET {path}"), e))?;
    let response: Response = response
        .dyn_into()
        .map_err(|e| ApiError::network("fetch", e))?;
    if !response.ok() {
        return Err(ApiError {
            status: response.status(),
            message: format!("GET {path}"),
        });
    }
    let buffer = response
        .array_buffer()
        .map_err(|e| ApiError::network("reading the body", e))?;
    let buffer = JsFuture::from(buffer)
        .await
        .map_err(|e| ApiError::network("reading the body", e))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}
