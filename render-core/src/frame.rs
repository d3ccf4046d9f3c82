//! The frame a chart is rendered into: reusable pixel storage plus its glyph cache.

use crate::canvas::Canvas;
use crate::color::Rgba;
use crate::redraw::PlotMemo;
use crate::text::GlyphCache;

/// A rendered image. Keep one per chart and render into it again: buffers and glyph
/// caches are reused.
#[derive(Default)]
pub struct Frame {
    canvas: Option<Canvas>,
    /// Rasterized glyphs, reused across renders into this frame.
    glyphs: GlyphCache,
    /// Per panel, what its plot's lines were the last time, so the next render redraws
    /// them only where they changed (`crate::redraw`).
    plots: Vec<PlotMemo>,
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

    /// Pixel columns in which the last render rasterized lines, over all its plots:
    /// the others were copied from the render before, which drew the same there.
    pub fn redrawn_columns(&self) -> usize {
        self.plots.iter().map(PlotMemo::redrawn_columns).sum()
    }

    /// The canvas for a render of this size, cleared to `background`, the glyph cache
    /// and the plots' memos (one per panel of `panels`).
    pub(crate) fn canvas_for(
        &mut self,
        width: u32,
        height: u32,
        background: Rgba,
        panels: usize,
    ) -> Option<(&mut Canvas, &mut GlyphCache, &mut [PlotMemo])> {
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
        self.plots.resize_with(panels, PlotMemo::default);
        Some((self.canvas.as_mut()?, &mut self.glyphs, &mut self.plots))
    }
}
