//! Publishing: the chart id rules, `PUT /api/charts/{id}`, and what the page shows
//! afterwards — the embed snippet (with a copy button), the snapshot URL and the real
//! stream playing beside the preview.

use render_core::Spec;

use crate::html::escape;

pub use render_core::valid_chart_id as valid_id;

/// An id made from a title: lower-case letters and digits, other runs become `-`.
pub fn suggest_id(title: &str) -> String {
    let mut id = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            id.push(c);
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
    }
    let id: String = id.trim_end_matches('-').chars().take(64).collect();
    if id.is_empty() {
        "chart".into()
    } else {
        id
    }
}

/// The stream URL of chart `id`; `query` is "" or `?var-NAME=VALUE&…`.
pub fn stream_url(origin: &str, id: &str, query: &str) -> String {
    format!("{origin}/charts/{id}.mjpg{query}")
}

/// The snapshot (latest frame) URL of chart `id` (`query` as for [`stream_url`]).
pub fn snapshot_url(origin: &str, id: &str, query: &str) -> String {
    format!("{origin}/charts/{id}.jpg{query}")
}

/// The `<img>` that embeds the live chart; `spec` is what it shows (variables
/// substituted), `query` its parameters as for [`stream_url`].
pub fn embed_snippet(origin: &str, id: &str, spec: &Spec, query: &str) -> String {
    let alt = spec.title.clone().unwrap_or_else(|| id.to_string());
    format!(
        "<img src=\"{}\" width=\"{}\" height=\"{}\" alt=\"{}\">",
        escape(&stream_url(origin, id, query)),
        spec.width,
        spec.height,
        escape(&alt)
    )
}

#[cfg(target_arch = "wasm32")]
pub use browser::{copy_snippet, show_published};

#[cfg(target_arch = "wasm32")]
mod browser {
    //! The publish result in the page.

    use render_core::Spec;
    use wasm_bindgen::{JsCast, JsValue};
    use web_sys::HtmlImageElement;

    use super::{embed_snippet, snapshot_url, stream_url};
    use crate::dom;

    /// Shows the snippet, the snapshot URL and the stream of the published chart with
    /// the URL parameters `query` ("" or `?var-…`; `spec` is what they show). The
    /// stream `<img>` keeps its connection when the same chart is republished: the
    /// server switches the running stream to the new design.
    pub fn show_published(id: &str, version: u64, spec: &Spec, query: &str) {
        let origin = dom::origin();
        if let Some(snippet) = dom::by_id("embed-snippet") {
            dom::set_value(&snippet, &embed_snippet(&origin, id, spec, query));
        }
        let snapshot = snapshot_url(&origin, id, query);
        if let Some(link) = dom::by_id("snapshot-url") {
            let _ = link.set_attribute("href", &snapshot);
            link.set_text_content(Some(&snapshot));
        }
        dom::set_text(
            "publish-status",
            &format!("Published {id}, version {version}"),
        );
        if let Some(image) =
            dom::by_id("stream").and_then(|e| e.dyn_into::<HtmlImageElement>().ok())
        {
            let url = stream_url(&origin, id, query);
            if image.src() != url {
                image.set_src(&url);
            }
            image.set_width(spec.width);
            image.set_height(spec.height);
        }
        dom::set_visible("published", true);
    }

    /// Copies the embed snippet to the clipboard (selecting it as a fallback).
    pub fn copy_snippet() {
        let Some(area) = dom::by_id("embed-snippet") else {
            return;
        };
        let text = dom::value(&area);
        let clipboard = dom::window()
            .map(|w| w.navigator())
            .and_then(|n| js_sys::Reflect::get(&n, &JsValue::from_str("clipboard")).ok())
            .filter(|c| !c.is_undefined());
        let written = clipboard.and_then(|clipboard| {
            let write = js_sys::Reflect::get(&clipboard, &JsValue::from_str("writeText")).ok()?;
            let write: js_sys::Function = write.dyn_into().ok()?;
            write.call1(&clipboard, &JsValue::from_str(&text)).ok()
        });
        if let Ok(area) = area.dyn_into::<web_sys::HtmlTextAreaElement>() {
            area.select();
        }
        dom::set_text(
            "copy-status",
            if written.is_some() {
                "Copied"
            } else {
                "Selected: press Ctrl+C"
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
    fn suggested_ids_follow_the_server_rules() {
        assert_eq!(suggest_id("Room temperature (°C)!"), "room-temperature-c");
        assert_eq!(suggest_id("ÄÖ"), "chart");
        assert!(valid_id(&suggest_id(&"Long title ".repeat(20))));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_snippet_embeds_the_stream() {
        let mut spec = Spec::from_json(crate::state::NEW_CHART).expect("spec");
        spec.title = Some("Temp \"A\" & B".into());
        assert_eq!(
            embed_snippet("http://h:8080", "temp", &spec, ""),
            "<img src=\"http://h:8080/charts/temp.mjpg\" width=\"640\" height=\"360\" alt=\"Temp &quot;A&quot; &amp; B\">"
        );
        assert_eq!(
            embed_snippet("http://h:8080", "temp", &spec, "?var-host=db2&var-dc=a%20b"),
            "<img src=\"http://h:8080/charts/temp.mjpg?var-host=db2&amp;var-dc=a%20b\" width=\"640\" height=\"360\" alt=\"Temp &quot;A&quot; &amp; B\">"
        );
        assert_eq!(
            snapshot_url("http://h:8080", "temp", ""),
            "http://h:8080/charts/temp.jpg"
        );
    }
}
