//! Small DOM helpers over web-sys: lookups, values, visibility, messages.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, HtmlElement, Window};

/// The window.
pub fn window() -> Option<Window> {
    web_sys::window()
}

/// The document.
pub fn document() -> Option<Document> {
    window()?.document()
}

/// The element with id `id`.
pub fn by_id(id: &str) -> Option<Element> {
    document()?.get_element_by_id(id)
}

/// Whether `element` is a checkbox (its value is `checked`: "true" or "false").
fn is_checkbox(element: &Element) -> bool {
    element.get_attribute("type").as_deref() == Some("checkbox")
}

/// The `value` property of a form control ("" for other elements; "true" or "false"
/// for a checkbox).
pub fn value(element: &Element) -> String {
    if is_checkbox(element) {
        let checked = js_sys::Reflect::get(element, &JsValue::from_str("checked"));
        return checked
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
            .to_string();
    }
    js_sys::Reflect::get(element, &JsValue::from_str("value"))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// Sets the `value` property of a form control (`checked` of a checkbox).
pub fn set_value(element: &Element, value: &str) {
    let (property, value) = if is_checkbox(element) {
        ("checked", JsValue::from_bool(value == "true"))
    } else {
        ("value", JsValue::from_str(value))
    };
    let _ = js_sys::Reflect::set(element, &JsValue::from_str(property), &value);
}

/// The value of the control with id `id`.
pub fn value_of(id: &str) -> String {
    by_id(id).map(|e| value(&e)).unwrap_or_default()
}

/// Shows or hides the element with id `id`.
pub fn set_visible(id: &str, visible: bool) {
    if let Some(element) = by_id(id).and_then(|e| e.dyn_into::<HtmlElement>().ok()) {
        element.set_hidden(!visible);
    }
}

/// Sets the text of the element with id `id`.
pub fn set_text(id: &str, text: &str) {
    if let Some(element) = by_id(id) {
        element.set_text_content(Some(text));
    }
}

/// Shows a message (an error from the server, a failed edit) at the top of the page.
pub fn show_error(message: &str) {
    web_sys::console::warn_1(&JsValue::from_str(message));
    set_text("message", message);
    set_visible("messages", true);
}

/// Hides the message.
pub fn clear_error() {
    set_visible("messages", false);
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// A high-resolution timestamp in ms for measuring.
pub fn perf_now() -> f64 {
    window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// The page origin, e.g. `http://host:8080`.
pub fn origin() -> String {
    window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}
