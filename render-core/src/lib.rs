//! render-core: plotcast's chart spec, its validation, and pixel-exact rendering of a
//! spec plus data into an RGB frame.
//!
//! Pure and buffer-in: no I/O, no clock, no async runtime, no web APIs. The same spec,
//! data, time and size give byte-identical pixels natively and in wasm32.
//!
//! ```
//! use render_core::{Data, Frame, Renderer, Spec};
//! let spec = Spec::from_json(r#"{"version":1,"width":320,"height":200,
//!     "panels":[{"series":[{"metric":"cpu"}]}]}"#).unwrap();
//! let spec = render_core::validate(spec).unwrap();
//! let mut frame = Frame::default();
//! Renderer::default().render(&spec, &Data::default(), 0, &mut frame);
//! assert_eq!(frame.rgb().len(), 320 * 200 * 3);
//! ```

mod canvas;
mod chart;
pub mod color;
mod data;
mod format;
mod frame;
mod layout;
mod legend;
mod m4;
mod notes;
mod panels;
mod params;
mod redraw;
pub mod spec;
mod stats;
mod text;
mod ticks;
mod transform;
mod valid;
mod validate;
mod variables;

pub use data::{Data, Point, Series, SourceNote, Timestamp};
pub use frame::Frame;
pub use layout::PanelLayout;
pub use params::{apply, percent_encode, resolve, Params, VAR_PREFIX};
pub use spec::{json_schema, Scroll, Spec};
pub use text::{FontBook, FontError, DEFAULT_FONT};
pub use valid::{ReadStretch, ValidSpec, DATA_MARGIN_MS};
pub use validate::{
    parse_duration_ms, valid_chart_id, valid_source_name, validate, ValidationError,
    ValidationErrors,
};

/// Draws specs; holds the font fallback chain.
#[derive(Clone, Default)]
pub struct Renderer {
    fonts: FontBook,
}

impl Renderer {
    /// A renderer with the embedded default font and `extra` fonts after it, in order.
    pub fn with_fonts(extra: impl IntoIterator<Item = Vec<u8>>) -> Result<Renderer, FontError> {
        let mut renderer = Renderer::default();
        for bytes in extra {
            renderer.fonts.register(bytes)?;
        }
        Ok(renderer)
    }

    /// Appends a TTF/OTF font to the fallback chain.
    pub fn register_font(&mut self, bytes: Vec<u8>) -> Result<(), FontError> {
        self.fonts.register(bytes)
    }

    /// Where the grid and each panel of `spec` lie in the image it draws.
    pub fn layout(&self, spec: &ValidSpec) -> PanelLayout {
        chart::layout(&self.fonts, spec)
    }

    /// Draws `spec` with `data` as of `now` (ms since the epoch) into `frame`, resizing
    /// it to the spec's size. Never panics for a valid spec, whatever the data.
    pub fn render(&self, spec: &ValidSpec, data: &Data, now: Timestamp, frame: &mut Frame) {
        let s = spec.spec();
        let panels = s.panels.len();
        let Some((canvas, glyphs, plots)) =
            frame.canvas_for(s.width, s.height, spec.theme.background, panels)
        else {
            return;
        };
        chart::draw(canvas, glyphs, plots, &self.fonts, spec, data, now);
    }
}
