//! Text: the embedded default font, a runtime font fallback chain, measuring and drawing.
//!
//! Glyphs come from `ab_glyph` (plain `f32` arithmetic, the same natively and in wasm).
//! Each character is drawn with the first registered font that has it; a character no
//! font has is drawn as a visible box. Rasterized glyphs are cached per frame buffer,
//! keyed by quarter-pixel horizontal position, so repeated labels cost a copy.

use std::collections::HashMap;
use std::sync::Arc;

use ab_glyph::{Font, FontArc, GlyphId, PxScale, ScaleFont};

use crate::canvas::Canvas;
use crate::color::Rgba;

/// Bytes of the embedded default font (Noto Sans Regular, SIL Open Font License 1.1,
/// from the `notosans` crate).
pub const DEFAULT_FONT: &[u8] = notosans::REGULAR_TTF;

/// Why a font could not be registered.
#[derive(Debug, thiserror::Error)]
#[error("not a usable TrueType/OpenType font: {0}")]
pub struct FontError(String);

/// The font fallback chain: the embedded default first, then registered fonts in order.
#[derive(Clone)]
pub struct FontBook {
    fonts: Vec<FontArc>,
    /// Changes whenever the chain changes, so cached glyphs of an old chain are not reused.
    generation: u64,
}

impl Default for FontBook {
    fn default() -> Self {
        let default = FontArc::try_from_slice(DEFAULT_FONT)
            .map(|f| vec![f])
            .unwrap_or_default();
        FontBook {
            fonts: default,
            generation: next_generation(),
        }
    }
}

fn next_generation() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl FontBook {
    /// Appends a TTF/OTF font to the fallback chain.
    pub fn register(&mut self, bytes: Vec<u8>) -> Result<(), FontError> {
        let font = FontArc::try_from_vec(bytes).map_err(|e| FontError(e.to_string()))?;
        self.fonts.push(font);
        self.generation = next_generation();
        Ok(())
    }

    /// Number of fonts in the chain.
    pub fn len(&self) -> usize {
        self.fonts.len()
    }

    /// True if not even the default font loaded.
    pub fn is_empty(&self) -> bool {
        self.fonts.is_empty()
    }

    /// The first font that has `c`, with its glyph.
    fn glyph_for(&self, c: char) -> Option<(usize, GlyphId)> {
        self.fonts.iter().enumerate().find_map(|(index, font)| {
            let id = font.glyph_id(c);
            (id.0 != 0).then_some((index, id))
        })
    }

    fn primary(&self) -> Option<&FontArc> {
        self.fonts.first()
    }

    /// Ascent and descent (negative) of the primary font at `size` px.
    pub fn vertical_metrics(&self, size: f32) -> (f32, f32) {
        match self.primary() {
            Some(font) => {
                let scaled = font.as_scaled(PxScale::from(size));
                (scaled.ascent(), scaled.descent())
            }
            None => (size * 0.8, -size * 0.2),
        }
    }

    /// Width in px of `text` at `size` px.
    pub fn text_width(&self, text: &str, size: f32) -> f32 {
        self.layout(text, size).map(|g| g.advance).sum()
    }

    /// `label`, shortened with "…" until it fits `max_width` px at `size`.
    pub fn ellipsize(&self, label: &str, size: f32, max_width: f32) -> String {
        if self.text_width(label, size) <= max_width {
            return label.to_string();
        }
        let mut chars: Vec<char> = label.chars().collect();
        while chars.pop().is_some() {
            let candidate: String = chars.iter().collect::<String>() + "…";
            if self.text_width(&candidate, size) <= max_width {
                return candidate;
            }
        }
        String::new()
    }

    /// Each character with its font and advance, kerned within runs of one font.
    fn layout<'a>(&'a self, text: &'a str, size: f32) -> impl Iterator<Item = PlacedChar> + 'a {
        let scale = PxScale::from(size);
        let mut previous: Option<(usize, GlyphId)> = None;
        text.chars().filter(|c| !c.is_control()).map(move |c| {
            let found = self.glyph_for(c);
            let placed = match found {
                Some((font_index, id)) => {
                    let scaled = self.fonts[font_index].as_scaled(scale);
                    let kern = match previous {
                        Some((prev_font, prev_id)) if prev_font == font_index => {
                            scaled.kern(prev_id, id)
                        }
                        _ => 0.0,
                    };
                    PlacedChar {
                        glyph: Some((font_index, id)),
                        kern,
                        advance: scaled.h_advance(id) + kern,
                    }
                }
                None if c == ' ' => PlacedChar {
                    glyph: None,
                    kern: 0.0,
                    advance: size * 0.26,
                },
                None => PlacedChar {
                    glyph: None,
                    kern: 0.0,
                    advance: size * 0.6,
                },
            };
            previous = found;
            placed
        })
    }
}

struct PlacedChar {
    /// `None`: no font has the character (a box is drawn, or nothing for a space).
    glyph: Option<(usize, GlyphId)>,
    kern: f32,
    advance: f32,
}

/// Horizontal anchor of a text position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HAlign {
    /// Text starts at x.
    Left,
    /// Text is centred on x.
    Center,
    /// Text ends at x.
    Right,
}

/// Vertical anchor of a text position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VAlign {
    /// y is the top of the line box.
    Top,
    /// y is the middle of the line box.
    Middle,
    /// y is the bottom of the line box.
    Bottom,
}

/// How to draw one piece of text.
#[derive(Debug, Clone, Copy)]
pub struct TextStyle {
    /// Size in px.
    pub size: f32,
    /// Colour.
    pub color: Rgba,
    /// Horizontal anchor.
    pub h_align: HAlign,
    /// Vertical anchor.
    pub v_align: VAlign,
}

impl TextStyle {
    /// Left/top-anchored horizontal text.
    pub fn new(size: f32, color: Rgba) -> TextStyle {
        TextStyle {
            size,
            color,
            h_align: HAlign::Left,
            v_align: VAlign::Top,
        }
    }

    /// The same style with other anchors.
    pub fn anchored(self, h_align: HAlign, v_align: VAlign) -> TextStyle {
        TextStyle {
            h_align,
            v_align,
            ..self
        }
    }
}

/// A rasterized glyph: coverage bytes relative to the pen position.
struct GlyphBitmap {
    left: i32,
    top: i32,
    width: u32,
    coverage: Vec<u8>,
}

#[derive(Hash, PartialEq, Eq)]
struct GlyphKey {
    generation: u64,
    font: usize,
    glyph: u16,
    size_bits: u32,
    quarter_px: u8,
}

/// Rasterized glyphs, kept by a [`crate::Frame`] between renders.
#[derive(Default)]
pub struct GlyphCache {
    glyphs: HashMap<GlyphKey, Arc<GlyphBitmap>>,
}

const MAX_CACHED_GLYPHS: usize = 4096;

impl GlyphCache {
    fn get(
        &mut self,
        fonts: &FontBook,
        font: usize,
        glyph: GlyphId,
        size: f32,
        quarter_px: u8,
    ) -> Arc<GlyphBitmap> {
        let key = GlyphKey {
            generation: fonts.generation,
            font,
            glyph: glyph.0,
            size_bits: size.to_bits(),
            quarter_px,
        };
        if let Some(hit) = self.glyphs.get(&key) {
            return Arc::clone(hit);
        }
        if self.glyphs.len() >= MAX_CACHED_GLYPHS {
            self.glyphs.clear();
        }
        let bitmap = Arc::new(rasterize(&fonts.fonts[font], glyph, size, quarter_px));
        self.glyphs.insert(key, Arc::clone(&bitmap));
        bitmap
    }
}

fn rasterize(font: &FontArc, id: GlyphId, size: f32, quarter_px: u8) -> GlyphBitmap {
    let offset = quarter_px as f32 * 0.25;
    let glyph = id.with_scale_and_position(PxScale::from(size), ab_glyph::point(offset, 0.0));
    let Some(outlined) = font.outline_glyph(glyph) else {
        return GlyphBitmap {
            left: 0,
            top: 0,
            width: 0,
            coverage: Vec::new(),
        };
    };
    let bounds = outlined.px_bounds();
    let width = bounds.width() as u32;
    let height = bounds.height() as u32;
    let mut coverage = vec![0u8; (width * height) as usize];
    outlined.draw(|x, y, c| {
        if let Some(slot) = coverage.get_mut((y * width + x) as usize) {
            *slot = (c.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
        }
    });
    GlyphBitmap {
        left: bounds.min.x as i32,
        top: bounds.min.y as i32,
        width,
        coverage,
    }
}

/// Draws `text` anchored at `(x, y)` with glyphs from `glyphs`; returns its width.
pub fn draw_text(
    canvas: &mut Canvas,
    glyphs: &mut GlyphCache,
    fonts: &FontBook,
    text: &str,
    x: f32,
    y: f32,
    style: TextStyle,
) -> f32 {
    let size = style.size;
    let width = fonts.text_width(text, size);
    let (ascent, descent) = fonts.vertical_metrics(size);
    let dx = match style.h_align {
        HAlign::Left => 0.0,
        HAlign::Center => -width * 0.5,
        HAlign::Right => -width,
    };
    let dy = match style.v_align {
        VAlign::Top => ascent,
        VAlign::Middle => (ascent + descent) * 0.5,
        VAlign::Bottom => descent,
    };
    // Pen offsets from the anchor: along the line (`pen_x`) and down to the baseline.
    let baseline = dy.round();
    let mut pen_x = dx;
    let box_height = (ascent * 0.72).round();
    for placed in fonts.layout(text, size) {
        match placed.glyph {
            Some((font, id)) => {
                let pen = pen_x + placed.kern;
                let whole = pen.floor();
                let quarter = ((pen - whole) * 4.0) as u8 & 3;
                let bitmap = glyphs.get(fonts, font, id, size, quarter);
                blit_glyph(
                    canvas,
                    &bitmap,
                    (x, y),
                    whole as i32,
                    baseline as i32,
                    style,
                );
            }
            None if placed.advance > size * 0.3 => {
                let pen = pen_x.round() as i32;
                let w = (placed.advance - size * 0.15).round() as i32;
                let top = baseline as i32 - box_height as i32;
                for i in 0..w {
                    for j in 0..box_height as i32 {
                        let edge = i == 0 || i == w - 1 || j == 0 || j == box_height as i32 - 1;
                        if edge {
                            plot(canvas, (x, y), pen + 1 + i, top + j, style, 1.0);
                        }
                    }
                }
            }
            None => {}
        }
        pen_x += placed.advance;
    }
    width
}

fn blit_glyph(
    canvas: &mut Canvas,
    bitmap: &GlyphBitmap,
    origin: (f32, f32),
    pen: i32,
    baseline: i32,
    style: TextStyle,
) {
    if bitmap.width == 0 {
        return;
    }
    for (row, line) in bitmap.coverage.chunks(bitmap.width as usize).enumerate() {
        for (column, &c) in line.iter().enumerate() {
            if c > 0 {
                let dx = pen + bitmap.left + column as i32;
                let dy = baseline + bitmap.top + row as i32;
                plot(canvas, origin, dx, dy, style, c as f32 / 255.0);
            }
        }
    }
}

/// Blends one text pixel at `(dx, dy)` from `origin`.
fn plot(
    canvas: &mut Canvas,
    origin: (f32, f32),
    dx: i32,
    dy: i32,
    style: TextStyle,
    coverage: f32,
) {
    let (ox, oy) = (origin.0.round() as i32, origin.1.round() as i32);
    canvas.blend(ox + dx, oy + dy, style.color, coverage);
}
