//! The JSON view: the spec as text in a textarea, validated on every keystroke. Problems
//! are listed with their JSON paths; the preview keeps showing the last valid spec. A
//! reference of every spec field, from the server's JSON Schema, sits below it.

use serde_json::Value;

use crate::html::escape;
use crate::state::Problem;

/// The problem list: one `<li>` per problem, its path first.
pub fn problems_html(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| {
            let path = if p.path.is_empty() {
                "(document)"
            } else {
                &p.path
            };
            format!(
                "<li><code>{}</code> {}</li>",
                escape(path),
                escape(&p.message)
            )
        })
        .collect()
}

/// A reference table of the spec's fields from its JSON Schema: each object type (the
/// root is `Spec`) with its properties and their descriptions.
pub fn schema_html(schema: &Value) -> String {
    let mut html = String::new();
    let mut section = |name: &str, object: &Value| {
        let Some(properties) = object["properties"].as_object() else {
            return;
        };
        html.push_str(&format!("<h4>{}</h4><dl>", escape(name)));
        for (key, property) in properties {
            let description = property["description"].as_str().unwrap_or("");
            html.push_str(&format!(
                "<dt><code>{}</code></dt><dd>{}</dd>",
                escape(key),
                escape(description)
            ));
        }
        html.push_str("</dl>");
    };
    section(schema["title"].as_str().unwrap_or("Spec"), schema);
    let definitions = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .and_then(Value::as_object);
    for (name, definition) in definitions.into_iter().flatten() {
        section(name, definition);
    }
    html
}

#[cfg(target_arch = "wasm32")]
pub use browser::{show_problems, show_text};

#[cfg(target_arch = "wasm32")]
mod browser {
    //! The textarea and the problem list in the page.

    use super::problems_html;
    use crate::dom;
    use crate::state::EditorState;

    /// Puts the state's text into the textarea (when it differs).
    pub fn show_text(state: &EditorState) {
        if let Some(area) = dom::by_id("spec-json") {
            if dom::value(&area) != state.text() {
                dom::set_value(&area, state.text());
            }
        }
    }

    /// Lists the state's problems; marks the view invalid while there are some.
    pub fn show_problems(state: &EditorState) {
        if let Some(list) = dom::by_id("problems") {
            list.set_inner_html(&problems_html(state.problems()));
        }
        if let Some(view) = dom::by_id("json-view") {
            let _ = view
                .class_list()
                .toggle_with_force("invalid", !state.is_valid());
        }
        dom::set_text(
            "json-status",
            if state.is_valid() {
                "valid"
            } else {
                "invalid: the preview shows the last valid spec"
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn problems_show_their_path() {
        let html = problems_html(&[
            Problem {
                path: "panels[0].series[0].color".into(),
                message: "\"#12\" is not a colour".into(),
            },
            Problem {
                path: String::new(),
                message: "EOF".into(),
            },
        ]);
        assert_eq!(
            html,
            "<li><code>panels[0].series[0].color</code> &quot;#12&quot; is not a colour</li>\
             <li><code>(document)</code> EOF</li>"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_reference_lists_the_schema_fields() {
        let html = schema_html(&render_core::json_schema());
        for text in [
            "<code>width</code>",
            "<h4>Panel</h4>",
            "<code>thresholds</code>",
            "Image width in pixels",
        ] {
            assert!(html.contains(text), "{text}");
        }
    }
}
