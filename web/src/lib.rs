//! plotcast's browser editor: design a chart against the server's live data with a
//! preview drawn by render-core in wasm (the same bytes the stream sends), edit it in a
//! form or as JSON, publish it and embed its stream.
//!
//! The pure parts (editor state, form model, HTML snippets) build and are tested on
//! every target; everything that touches the DOM is behind `cfg(target_arch = "wasm32")`.

pub mod actions;
pub mod fields;
pub mod form;
pub mod html;
pub mod json_view;
pub mod list;
pub mod manipulate;
pub mod overrides;
pub mod path;
pub mod picker;
pub mod preview;
pub mod publish;
pub mod rules;
pub mod schema;
pub mod state;
pub mod templates;
pub mod variables;

#[cfg(test)]
mod test_specs;

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod dom;

/// Starts the editor when the page loads the module.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    app::start();
}
