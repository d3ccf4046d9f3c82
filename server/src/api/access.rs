//! Who may do what: the write token (`Authorized`) and a viewer's credentials for
//! private charts (the token or a signed URL: `ViewerCredentials`).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;
use render_core::Params;

use crate::error::AppError;
use crate::signing::{self, SignatureError};
use crate::state::AppState;

/// Whether the request carries `token`: `Authorization: Bearer T`, `Authorization:
/// Token T` (InfluxDB 2 clients), HTTP basic auth with password T, or the `p=T` query
/// parameter (InfluxDB 1 clients). Compared in constant time.
pub fn carries_token(parts: &Parts, token: &str) -> bool {
    let header = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (scheme, credential) = header.split_once(' ').unwrap_or(("", ""));
    let from_header = match scheme.to_ascii_lowercase().as_str() {
        "bearer" | "token" => Some(credential.trim().to_string()),
        "basic" => base64::engine::general_purpose::STANDARD
            .decode(credential.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|pair| {
                pair.split_once(':')
                    .map(|(_, password)| password.to_string())
            }),
        _ => None,
    };
    let from_query = query_value(parts, "p");
    let matches = |given: &Option<String>| {
        given
            .as_deref()
            .is_some_and(|g| signing::token_matches(g, token))
    };
    // Both are checked (no early exit), so timing does not tell which one was tried.
    matches(&from_header) | matches(&from_query)
}

/// The first value of query parameter `name`.
pub fn query_value(parts: &Parts, name: &str) -> Option<String> {
    parts.uri.query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    })
}

/// Proof that a write request carries the configured token (or that none is set); see
/// [`carries_token`] for the accepted forms.
pub struct Authorized;

impl FromRequestParts<AppState> for Authorized {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match state.config().token.as_deref() {
            None => Ok(Authorized),
            Some(token) if carries_token(parts, token) => Ok(Authorized),
            Some(_) => Err(AppError::Unauthorized),
        }
    }
}

/// What a viewer presented: the token, or a signed URL's `exp` and `sig`.
pub struct ViewerCredentials {
    token: bool,
    exp: Option<String>,
    sig: Option<String>,
}

impl ViewerCredentials {
    /// Checks that these credentials may view chart `id` (`private` or not) with the
    /// picture parameters `params` (a signed URL covers them).
    pub fn check(
        &self,
        state: &AppState,
        id: &str,
        private: bool,
        params: &Params,
    ) -> Result<(), AppError> {
        if !private || self.token {
            return Ok(());
        }
        let secret = state.config().signing_secret().ok_or_else(|| {
            AppError::Forbidden(SignatureError::NoSecret(id.to_string()).to_string())
        })?;
        let now = state.now_ms().div_euclid(1000);
        let params = params.query();
        let (exp, sig) = (self.exp.as_deref(), self.sig.as_deref());
        signing::verify(secret, id, &params, exp, sig, now)
            .map_err(|e| AppError::Forbidden(e.to_string()))
    }
}

impl FromRequestParts<AppState> for ViewerCredentials {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ViewerCredentials {
            token: state
                .config()
                .token
                .as_deref()
                .is_some_and(|token| carries_token(parts, token)),
            exp: query_value(parts, "exp"),
            sig: query_value(parts, "sig"),
        })
    }
}
