//! Preview with variables: the values chosen in the editor for a spec's variables, the
//! spec the preview draws with them (as a stream with those `var-NAME` parameters
//! draws it), their picker, and the URL query the embed snippet and links carry.

use std::collections::BTreeMap;

use render_core::spec::Allowed;
use render_core::{Params, Spec, ValidSpec};

use crate::html::escape;

/// Chosen values by variable name.
pub type Chosen = BTreeMap<String, String>;

/// The URL parameters of `chosen`: the declared variables whose chosen value differs
/// from the default. Empty when the values do not fit the spec (say, after its
/// `allowed` list was edited), so the preview falls back to the defaults.
pub fn params(spec: &Spec, chosen: &Chosen) -> Params {
    let mut params = Params::default();
    for (name, variable) in &spec.variables {
        if let Some(value) = chosen.get(name).filter(|v| **v != variable.default) {
            if params.var(name, value).is_err() {
                return Params::default();
            }
        }
    }
    match render_core::resolve(spec, &params) {
        Ok(_) => params,
        Err(_) => Params::default(),
    }
}

/// What the preview draws: `valid` (the spec as written) with the chosen values, or
/// the defaults, substituted.
pub fn shown(valid: &ValidSpec, chosen: &Chosen) -> ValidSpec {
    render_core::resolve(valid.spec(), &params(valid.spec(), chosen))
        .unwrap_or_else(|_| valid.clone())
}

/// `?var-NAME=VALUE&…` for the URLs of the chosen values, or "" when all are defaults.
pub fn query(spec: &Spec, chosen: &Chosen) -> String {
    match params(spec, chosen).query() {
        query if query.is_empty() => query,
        query => format!("?{query}"),
    }
}

/// The picker: per variable a `<select>` of its allowed values, or a text input when
/// any value (or a pattern's) is allowed; `data-var` names the variable. Empty for a
/// spec without variables.
pub fn picker_html(spec: &Spec, chosen: &Chosen) -> String {
    if spec.variables.is_empty() {
        return String::new();
    }
    let mut html = String::from("<fieldset><legend>Preview with variables</legend>");
    for (name, variable) in &spec.variables {
        let current = chosen.get(name).unwrap_or(&variable.default);
        let attr = escape(name);
        html.push_str(&format!("<label>{attr} "));
        match &variable.allowed {
            Some(Allowed::List(values)) => {
                html.push_str(&format!("<select data-var=\"{attr}\">"));
                for value in values {
                    let selected = if value == current { " selected" } else { "" };
                    let value = escape(value);
                    html.push_str(&format!(
                        "<option value=\"{value}\"{selected}>{value}</option>"
                    ));
                }
                html.push_str("</select>");
            }
            _ => html.push_str(&format!(
                "<input data-var=\"{attr}\" value=\"{}\" spellcheck=\"false\">",
                escape(current)
            )),
        }
        html.push_str("</label>");
    }
    html.push_str("</fieldset>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    fn spec() -> ValidSpec {
        let json = r#"{"version":1,"width":320,"height":200,"title":"CPU of $host",
            "variables":{"host":{"default":"db1","allowed":["db1","db2"]},"dc":{"default":"fra"}},
            "panels":[{"series":[{"metric":"cpu","tags":{"host":"$host"}}]}]}"#;
        render_core::validate(Spec::from_json(json).expect("parses")).expect("valid")
    }

    fn chosen(pairs: &[(&str, &str)]) -> Chosen {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_preview_draws_the_chosen_values_and_the_urls_carry_them() {
        let valid = spec();
        let title = |c: &Chosen| shown(&valid, c).spec().title.clone();
        assert_eq!(title(&Chosen::new()).as_deref(), Some("CPU of db1"));
        let db2 = chosen(&[("host", "db2"), ("dc", "fra")]);
        assert_eq!(title(&db2).as_deref(), Some("CPU of db2"));
        assert_eq!(
            shown(&valid, &db2).spec().panels[0].series[0].tags["host"],
            "db2"
        );
        assert_eq!(query(valid.spec(), &db2), "?var-host=db2");
        let both = chosen(&[("host", "db2"), ("dc", "a b")]);
        assert_eq!(query(valid.spec(), &both), "?var-dc=a%20b&var-host=db2");
        // Values that do not fit fall back to the defaults.
        let bad = chosen(&[("host", "db9")]);
        assert_eq!(title(&bad).as_deref(), Some("CPU of db1"));
        assert_eq!(query(valid.spec(), &bad), "");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_picker_offers_the_allowed_values() {
        let valid = spec();
        let html = picker_html(valid.spec(), &chosen(&[("host", "db2")]));
        assert!(html.contains("<select data-var=\"host\">"), "{html}");
        assert!(
            html.contains("<option value=\"db2\" selected>db2</option>"),
            "{html}"
        );
        assert!(
            html.contains("<option value=\"db1\">db1</option>"),
            "{html}"
        );
        assert!(
            html.contains("<input data-var=\"dc\" value=\"fra\""),
            "{html}"
        );
        let mut plain = valid.spec().clone();
        plain.variables.clear();
        assert_eq!(picker_html(&plain, &Chosen::new()), "");
    }
}
