//! render-core's integration tests, one binary: golden images, native == wasm identity,
//! property tests, redrawing and validation. Only `identity` runs in wasm (the others need files
//! or proptest).

mod cases;
#[cfg(not(target_arch = "wasm32"))]
mod golden;
mod identity;
#[cfg(not(target_arch = "wasm32"))]
mod properties;
#[cfg(not(target_arch = "wasm32"))]
mod redraw;
#[cfg(not(target_arch = "wasm32"))]
mod validation;
