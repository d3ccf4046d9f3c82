//! The frame a chart is rendered into: reusable pixel storage plus its glyph cache.

use crate::canvas::Canvas;
use crate::color::Rgba;
use crate::text::GlyphCache;

/// A rendered image. Keep one per chart and render into it again: buffers and glyph
/// caches are reused.
#[derive(Default)]
pub struct Frame {
    canvas: Option<Canvas>,
    /// Rasterized glyphs, reused across renders into this frame.
    glyphs: GlyphCache,
}

impl Frame {
    /// Width in pixels (0 before the first render).
    pub fn width(&self) -> u32 {
        self.canvas.as_ref().map_or(0, Canvas::width)
    }

    /// Height in pixels (0 before the first render).
    pub fn height(&self) -> u32 {
        self.canvas.as_ref().map_or(0, Canvas::height)
    }

    /// The pixels as RGBA bytes, row by row (alpha is always 255): for a browser canvas.
    pub fn rgba(&self) -> &[u8] {
        self.canvas.as_ref().map_or(&[], Canvas::rgba)
    }

    /// The pixels as RGB bytes, row by row.
    pub fn rgb(&self) -> Vec<u8> {
        self.rgba()
            .chunks_exact(4)
            .flat_map(|pixel| [pixel[0], pixel[1], pixel[2]])
            .collect()
    }

    /// The canvas for a render of this size, cleared to `background`, and the glyph cache.
    pub(crate) fn canvas_for(
        &mut self,
        width: u32,
        height: u32,
        background: Rgba,
    ) -> Option<(&mut Canvas, &mut GlyphCache)> {
        let reusable = self
            .canvas
            .as_ref()
            .is_some_and(|c| c.width() == width && c.height() == height);
        if reusable {
            if let Some(canvas) = self.canvas.as_mut() {
                canvas.reset(background);
            }
        } else {
            self.canvas = Canvas::new(width, height, background);
        }
        Some((self.canvas.as_mut()?, &mut self.glyphs))
    }
}
