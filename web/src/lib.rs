//! plotcast's browser editor (wasm). The editor itself is not built yet; this crate
//! only links render-core so the workspace checks it compiles for the browser build.

pub use render_core::Renderer;
