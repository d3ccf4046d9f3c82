//! What a viewer chooses in the URL: variable values (`var-NAME=VALUE`, Grafana's
//! convention) and presentation overrides (`theme`, `width`, `height`, `window`,
//! `title`). [`Params::query`] is their canonical query string: the key of a live
//! stream variant and what a signed URL covers. [`resolve`] applies them to a spec
//! and validates the result.

use std::collections::BTreeMap;

use crate::spec::{Spec, ThemeName};
use crate::valid::ValidSpec;
use crate::validate::{validate, ValidationError, ValidationErrors, MAX_NAME};
use crate::variables::{for_each_text, substitute, Matcher};

/// The prefix of a variable's query parameter.
pub const VAR_PREFIX: &str = "var-";

/// Variable values and overrides chosen in a URL; empty means "as published".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    vars: BTreeMap<String, String>,
    theme: Option<ThemeName>,
    width: Option<u32>,
    height: Option<u32>,
    window: Option<String>,
    title: Option<String>,
}

impl Params {
    /// Takes one query parameter `key=value`. `Ok(false)`: `key` is not a picture
    /// parameter (the caller decides what it is). Errors name the parameter.
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool, ValidationError> {
        let fail = |message: String| ValidationError {
            path: key.to_string(),
            message,
        };
        let twice = || fail("is given twice".into());
        if value.chars().count() > MAX_NAME {
            return Err(fail(format!("is longer than {MAX_NAME} characters")));
        }
        let number = |slot: &mut Option<u32>| -> Result<bool, ValidationError> {
            let parsed = value
                .parse()
                .map_err(|_| fail(format!("{value:?} is not a whole number of pixels")))?;
            slot.replace(parsed).map_or(Ok(true), |_| Err(twice()))
        };
        match key {
            "width" => number(&mut self.width),
            "height" => number(&mut self.height),
            "theme" => {
                let theme = ThemeName::ALL
                    .into_iter()
                    .find(|t| t.name() == value)
                    .ok_or_else(|| fail(format!("{value:?} is not a theme (light or dark)")))?;
                self.theme.replace(theme).map_or(Ok(true), |_| Err(twice()))
            }
            "window" => replace(&mut self.window, value).map_err(|()| twice()),
            "title" => replace(&mut self.title, value).map_err(|()| twice()),
            _ => match key.strip_prefix(VAR_PREFIX) {
                Some(name) => self.var(name, value).map(|()| true),
                None => Ok(false),
            },
        }
    }

    /// Chooses `value` for variable `name`.
    pub fn var(&mut self, name: &str, value: &str) -> Result<(), ValidationError> {
        match self.vars.insert(name.to_string(), value.to_string()) {
            None => Ok(()),
            Some(_) => Err(ValidationError {
                path: format!("{VAR_PREFIX}{name}"),
                message: "is given twice".into(),
            }),
        }
    }

    /// Whether nothing was chosen.
    pub fn is_empty(&self) -> bool {
        *self == Params::default()
    }

    /// The parameters as `(key, value)` pairs, sorted by key.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self
            .vars
            .iter()
            .map(|(name, value)| (format!("{VAR_PREFIX}{name}"), value.clone()))
            .collect();
        let number = |n: Option<u32>| n.map(|n| n.to_string());
        for (key, value) in [
            ("height", number(self.height)),
            ("theme", self.theme.map(|t| t.name().to_string())),
            ("title", self.title.clone()),
            ("width", number(self.width)),
            ("window", self.window.clone()),
        ] {
            if let Some(value) = value {
                pairs.push((key.to_string(), value));
            }
        }
        pairs.sort();
        pairs
    }

    /// The canonical query string (sorted, percent-encoded, `&`-joined; empty when
    /// nothing was chosen): equal parameters give equal strings.
    pub fn query(&self) -> String {
        self.pairs()
            .iter()
            .map(|(key, value)| format!("{}={}", percent_encode(key), percent_encode(value)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn replace(slot: &mut Option<String>, value: &str) -> Result<bool, ()> {
    match slot.replace(value.to_string()) {
        None => Ok(true),
        Some(_) => Err(()),
    }
}

/// `text` with every byte but the URL-unreserved ones (`A-Z a-z 0-9 - . _ ~`)
/// written `%XX`.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `spec` with `params` applied: each variable's value (chosen, else its default)
/// substituted, the overrides set (`window` sets the chart's window, which every
/// panel then shows: panels' own windows are dropped). Checks that chosen variables are declared and their values allowed;
/// errors name the parameter (`var-host`).
pub fn apply(spec: &Spec, params: &Params) -> Result<Spec, ValidationErrors> {
    let mut errors = Vec::new();
    let mut values: BTreeMap<String, String> = spec
        .variables
        .iter()
        .map(|(name, variable)| (name.clone(), variable.default.clone()))
        .collect();
    for (name, value) in &params.vars {
        let path = format!("{VAR_PREFIX}{name}");
        let Some(variable) = spec.variables.get(name) else {
            let declared: Vec<&str> = spec.variables.keys().map(String::as_str).collect();
            let message = match declared.is_empty() {
                true => "the chart declares no variables".to_string(),
                false => format!(
                    "the chart declares no variable {name:?} (it has {})",
                    declared.join(", ")
                ),
            };
            errors.push(ValidationError { path, message });
            continue;
        };
        // A pattern that does not compile fails the spec's own validation below.
        if let Ok(matcher) = Matcher::new(variable.allowed.as_ref()) {
            if !matcher.allows(value) {
                errors.push(ValidationError {
                    path,
                    message: format!("{value:?} is not an allowed value"),
                });
                continue;
            }
        }
        values.insert(name.clone(), value.clone());
    }
    if !errors.is_empty() {
        return Err(ValidationErrors(errors));
    }
    let mut spec = spec.clone();
    if let Some(title) = &params.title {
        spec.title = Some(title.clone());
    }
    for_each_text(&mut spec, |text| *text = substitute(text, &values));
    if let Some(theme) = params.theme {
        spec.theme = theme;
    }
    if let Some(width) = params.width {
        spec.width = width;
    }
    if let Some(height) = params.height {
        spec.height = height;
    }
    if let Some(window) = &params.window {
        spec.window = Some(window.clone());
        for panel in &mut spec.panels {
            panel.window = None;
        }
    }
    Ok(spec)
}

/// [`apply`] then [`validate`]: the spec a viewer with `params` sees. With empty
/// params this is the published chart (defaults substituted). Overrides out of range
/// fail at their own names (`width: 5000 is outside 1..=4096`).
pub fn resolve(spec: &Spec, params: &Params) -> Result<ValidSpec, ValidationErrors> {
    validate(apply(spec, params)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        Spec::from_json(
            r#"{"version":1,"width":320,"height":200,"title":"CPU of $host in ${dc}, cost in $",
            "variables":{"host":{"default":"db1","allowed":["db1","db2"]},
                         "dc":{"default":"fra","allowed":"[a-z]{3}"}},
            "panels":[{"title":"$host","window":"15m","series":[{"metric":"cpu","tags":{"host":"$host"},"label":"$host/$other"}]},
                      {"kind":"text","text":"in $dc"}]}"#,
        )
        .expect("parses")
    }

    fn params(pairs: &[(&str, &str)]) -> Result<Params, ValidationError> {
        let mut params = Params::default();
        for (key, value) in pairs {
            assert!(params.set(key, value)?, "{key} is a picture parameter");
        }
        Ok(params)
    }

    #[test]
    fn defaults_and_chosen_values_are_substituted() {
        let resolved = resolve(&spec(), &Params::default()).expect("valid");
        let s = resolved.spec();
        assert_eq!(s.title.as_deref(), Some("CPU of db1 in fra, cost in $"));
        assert_eq!(s.panels[0].series[0].tags["host"], "db1");
        assert_eq!(s.panels[0].series[0].label.as_deref(), Some("db1/$other"));
        assert_eq!(s.panels[1].text.as_deref(), Some("in fra"));
        let chosen = params(&[("var-host", "db2"), ("var-dc", "ams")]).expect("parses");
        let s = apply(&spec(), &chosen).expect("allowed");
        assert_eq!(s.panels[0].title.as_deref(), Some("db2"));
        assert_eq!(s.panels[0].series[0].tags["host"], "db2");
        assert_eq!(s.title.as_deref(), Some("CPU of db2 in ams, cost in $"));
    }

    #[test]
    fn values_outside_allowed_and_undeclared_variables_name_the_parameter() {
        let chosen =
            params(&[("var-host", "db3"), ("var-dc", "FRA"), ("var-nope", "x")]).expect("parses");
        let errors = apply(&spec(), &chosen).expect_err("refused").0;
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["var-dc", "var-host", "var-nope"]);
        assert!(
            errors[2].message.contains("dc, host"),
            "{}",
            errors[2].message
        );
    }

    #[test]
    fn overrides_apply_and_are_checked_at_their_names() {
        let chosen = params(&[
            ("theme", "dark"),
            ("width", "640"),
            ("height", "100"),
            ("window", "1h"),
            ("title", "Load on $host"),
        ])
        .expect("parses");
        let s = apply(&spec(), &chosen).expect("applies");
        assert_eq!((s.width, s.height, s.theme), (640, 100, ThemeName::Dark));
        assert_eq!(s.window.as_deref(), Some("1h"));
        assert_eq!(s.panels[0].window, None);
        assert_eq!(s.title.as_deref(), Some("Load on db1"));
        let errors = resolve(
            &spec(),
            &params(&[("width", "5000"), ("window", "1x")]).expect("parses"),
        )
        .expect_err("out of range")
        .0;
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["width", "window"]);
        assert_eq!(params(&[("theme", "blue")]).expect_err("bad").path, "theme");
        assert_eq!(params(&[("width", "-1")]).expect_err("bad").path, "width");
        assert_eq!(
            params(&[("var-host", "a"), ("var-host", "b")])
                .expect_err("twice")
                .path,
            "var-host"
        );
        assert_eq!(Params::default().set("fps", "2"), Ok(false));
    }

    #[test]
    fn the_query_is_canonical() {
        let a =
            params(&[("width", "640"), ("var-host", "db 2&x"), ("theme", "dark")]).expect("parses");
        let b =
            params(&[("theme", "dark"), ("var-host", "db 2&x"), ("width", "640")]).expect("parses");
        assert_eq!(a.query(), b.query());
        assert_eq!(a.query(), "theme=dark&var-host=db%202%26x&width=640");
        assert_eq!(Params::default().query(), "");
        assert!(Params::default().is_empty() && !a.is_empty());
    }
}
