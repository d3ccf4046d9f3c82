//! The query parameters of the chart images (`/charts/ID.mjpg`, `.jpg`, `.png`) and of
//! `POST /api/charts/{id}/sign`, read in one place. Picture parameters (`var-NAME`,
//! `theme`, `width`, `height`, `window`, `title`) become [`Params`]; a stream's `fps`
//! (lowers this viewer's rate), its `scroll` (`smooth`: the time axes move every pixel
//! while this viewer watches; `step`, the default, asks nothing) and the credentials (`exp`, `sig`, `p`, read by
//! `ViewerCredentials`) are known too. Cache-busters are ignored: every name starting
//! with `_` and the usual names in [`CACHE_BUSTERS`]. Anything else is a 400 naming it,
//! so a mistyped `?widht=` does not silently show the default.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use render_core::{Params, ValidationErrors};
use serde_json::json;

use crate::error::AppError;
use crate::state::AppState;

/// Credentials of signed URLs and the token, read by `ViewerCredentials`.
const CREDENTIALS: [&str; 3] = ["exp", "sig", "p"];

/// Parameter names dashboards and pages use to defeat caches (besides `_…`); ignored.
pub const CACHE_BUSTERS: [&str; 10] = [
    "t",
    "ts",
    "time",
    "timestamp",
    "cb",
    "cachebust",
    "nocache",
    "rand",
    "random",
    "r",
];

/// What the picture parameters are called, for error messages.
const PICTURE: &str = "var-NAME, theme, width, height, window, title";

/// The query of a chart image request.
#[derive(Debug, Default)]
pub struct ImageQuery {
    /// Variable values and overrides: which variant of the chart.
    pub params: Params,
    /// `fps`: this viewer's rate (at most the chart's).
    pub fps: Option<f64>,
    /// `scroll=smooth`: this viewer wants the time axes to move every pixel.
    pub smooth: bool,
}

impl ImageQuery {
    /// Reads a request's query string.
    pub fn parse(query: &str) -> Result<ImageQuery, AppError> {
        let (mut fps, mut smooth) = (None, false);
        let params = parse_with(
            query,
            "the chart images take",
            "fps, scroll",
            |key, value| {
                if key == "scroll" {
                    smooth = match value {
                        "step" => false,
                        "smooth" => true,
                        _ => {
                            return Err(bad_param(
                                "scroll",
                                format!("{value:?} must be \"step\" or \"smooth\""),
                            ))
                        }
                    };
                    return Ok(true);
                }
                if key == "fps" {
                    let f: f64 = value.parse().unwrap_or(f64::NAN);
                    if !(f.is_finite() && f > 0.0) {
                        return Err(bad_param(
                            "fps",
                            format!("{value:?} must be a number above 0"),
                        ));
                    }
                    if fps.replace(f).is_some() {
                        return Err(bad_param("fps", "is given twice".into()));
                    }
                    return Ok(true);
                }
                Ok(CREDENTIALS.contains(&key)
                    || key.starts_with('_')
                    || CACHE_BUSTERS.contains(&key))
            },
        )?;
        Ok(ImageQuery {
            params,
            fps,
            smooth,
        })
    }
}

impl FromRequestParts<AppState> for ImageQuery {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        ImageQuery::parse(parts.uri.query().unwrap_or(""))
    }
}

/// The picture parameters of `query`; `other(key, value)` takes the rest (`Ok(false)`:
/// not known, a 400 saying that `what` takes the picture parameters and `others`).
pub fn parse_with(
    query: &str,
    what: &str,
    others: &str,
    mut other: impl FnMut(&str, &str) -> Result<bool, AppError>,
) -> Result<Params, AppError> {
    let mut params = Params::default();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let known = params
            .set(&key, &value)
            .map_err(|e| bad_param(&e.path, e.message))?;
        if !known && !other(&key, &value)? {
            return Err(bad_param(
                &key,
                format!(
                    "is not a parameter: {what} {PICTURE}, {others}; \
                     cache-busters start with '_'"
                ),
            ));
        }
    }
    Ok(params)
}

/// A 400 for one parameter.
fn bad_param(name: &str, message: String) -> AppError {
    let name: String = name.chars().take(80).collect();
    AppError::BadRequest {
        message: format!("parameter {name}: {message}"),
        details: vec![json!({"parameter": name, "message": message})],
    }
}

/// A 400 for parameters that do not fit the chart (a value not allowed, a size too
/// large), naming each.
pub fn bad_params(errors: ValidationErrors) -> AppError {
    AppError::BadRequest {
        message: format!(
            "the parameters do not fit the chart: {}",
            errors
                .0
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        details: errors
            .0
            .iter()
            .map(|e| json!({"parameter": e.path, "message": e.message}))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(query: &str) -> String {
        match ImageQuery::parse(query) {
            Ok(_) => String::new(),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn known_parameters_parse_and_unknown_ones_are_named() {
        let query = ImageQuery::parse("var-host=db2&width=640&fps=2&exp=1&sig=x&_=123&t=9")
            .expect("parses");
        assert_eq!(query.fps, Some(2.0));
        assert_eq!(query.params.query(), "var-host=db2&width=640");
        assert!(message("widht=640").starts_with("parameter widht: is not a parameter"));
        assert!(message("fps=0").starts_with("parameter fps:"));
        assert!(message("fps=1&fps=2").starts_with("parameter fps: is given twice"));
        assert!(message("theme=blue").starts_with("parameter theme:"));
        assert!(message("var-host=a&var-host=b").starts_with("parameter var-host:"));
        assert_eq!(message("_cache=1&nocache&cb=3"), "");
    }
}
