//! The pixel surface every chart is drawn on: a `tiny-skia` pixmap plus our own fast
//! anti-aliased polyline rasterizer, crisp pixel-aligned rectangles and coverage blending.
//!
//! All arithmetic is plain IEEE `f32`/integer code (no SIMD, no libm-dependent
//! functions), so a native build and a wasm build produce the same bytes.

use tiny_skia::{FillRule, Mask, Paint, PathBuilder, Pixmap, Transform};

use crate::color::Rgba;

/// An axis-aligned rectangle in pixels: `x0..x1` × `y0..y1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x0: f32,
    /// Top edge.
    pub y0: f32,
    /// Right edge.
    pub x1: f32,
    /// Bottom edge.
    pub y1: f32,
}

impl Rect {
    /// A rectangle from its edges.
    pub fn new(x0: f32, y0: f32, x1: f32, y1: f32) -> Rect {
        Rect { x0, y0, x1, y1 }
    }

    /// Width (never negative).
    pub fn width(&self) -> f32 {
        (self.x1 - self.x0).max(0.0)
    }

    /// Height (never negative).
    pub fn height(&self) -> f32 {
        (self.y1 - self.y0).max(0.0)
    }

    /// The rectangle shrunk by `left`, `top`, `right`, `bottom`.
    pub fn inset(&self, left: f32, top: f32, right: f32, bottom: f32) -> Rect {
        Rect::new(
            self.x0 + left,
            self.y0 + top,
            self.x1 - right,
            self.y1 - bottom,
        )
    }

    /// True when the rectangle has no area.
    pub fn is_empty(&self) -> bool {
        self.width() < 1.0 || self.height() < 1.0
    }
}

/// Side of a coverage tile in pixels: 8×8 one-byte coverages are one 64-byte cache line.
const TILE: usize = 8;

/// The drawing surface: opaque RGBA pixels with helpers shared by all panels.
pub struct Canvas {
    pixmap: Pixmap,
    /// Per-pixel coverage of the polyline being drawn (max over its segments), as the
    /// alpha (0..=255) it blends an opaque colour with, in [`TILE`]×[`TILE`] tiles of
    /// one cache line: a steep segment walks down a few lines, not one per row.
    coverage: Vec<u8>,
    /// Tiles per row of tiles.
    tiles_x: usize,
    /// Whether each tile holds any coverage.
    tile_touched: Vec<bool>,
    /// The tiles with coverage, in the order first touched.
    touched: Vec<u32>,
    clip: Rect,
    clip_mask: Option<Mask>,
}

impl Canvas {
    /// A canvas of `width`×`height` pixels filled with `background`; `None` if the size
    /// is zero or too large for tiny-skia.
    pub fn new(width: u32, height: u32, background: Rgba) -> Option<Canvas> {
        let mut pixmap = Pixmap::new(width, height)?;
        pixmap.fill(skia_color(background.with_opacity(1.0)));
        let tiles_x = (width as usize).div_ceil(TILE);
        let tiles = tiles_x * (height as usize).div_ceil(TILE);
        Some(Canvas {
            pixmap,
            coverage: vec![0; tiles * TILE * TILE],
            tiles_x,
            tile_touched: vec![false; tiles],
            touched: Vec::new(),
            clip: Rect::new(0.0, 0.0, width as f32, height as f32),
            clip_mask: None,
        })
    }

    /// Clears the whole canvas to `background` for the next render, keeping its buffers.
    pub fn reset(&mut self, background: Rgba) {
        self.unclip();
        self.pixmap.fill(skia_color(background.with_opacity(1.0)));
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.pixmap.width()
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.pixmap.height()
    }

    /// The pixels as opaque RGBA bytes.
    pub fn rgba(&self) -> &[u8] {
        self.pixmap.data()
    }

    /// Restricts drawing to `rect` (intersected with the canvas) until [`Self::unclip`].
    pub fn clip_to(&mut self, rect: Rect) {
        let full = self.full_rect();
        let clip = Rect::new(
            rect.x0.max(full.x0),
            rect.y0.max(full.y0),
            rect.x1.min(full.x1),
            rect.y1.min(full.y1),
        );
        self.clip = clip;
        self.clip_mask = Mask::new(self.width(), self.height()).and_then(|mut mask| {
            let path = tiny_skia::Rect::from_ltrb(clip.x0, clip.y0, clip.x1, clip.y1)
                .map(PathBuilder::from_rect)?;
            mask.fill_path(&path, FillRule::Winding, false, Transform::identity());
            Some(mask)
        });
    }

    /// Removes the clip.
    pub fn unclip(&mut self) {
        self.clip = self.full_rect();
        self.clip_mask = None;
    }

    fn full_rect(&self) -> Rect {
        Rect::new(0.0, 0.0, self.width() as f32, self.height() as f32)
    }

    /// Blends `color` at `coverage` (0..=1) into pixel `(x, y)`, inside the clip.
    pub fn blend(&mut self, x: i32, y: i32, color: Rgba, coverage: f32) {
        if x < self.clip.x0 as i32
            || y < self.clip.y0 as i32
            || (x as f32) >= self.clip.x1
            || (y as f32) >= self.clip.y1
            || x < 0
            || y < 0
        {
            return;
        }
        let pixel = y as usize * self.width() as usize + x as usize;
        self.blend_pixel(pixel, color, coverage);
    }

    /// Blends `color` at `coverage` into the pixel at `pixel` (row-major index), which
    /// the caller has already clipped.
    fn blend_pixel(&mut self, pixel: usize, color: Rgba, coverage: f32) {
        let alpha = (coverage.clamp(0.0, 1.0) * color.a as f32 + 0.5) as u32;
        self.blend_alpha(pixel, color, alpha);
    }

    /// Blends `color` at `alpha` (0..=255, the colour's own alpha included) into the
    /// pixel at `pixel` (row-major index), which the caller has already clipped.
    fn blend_alpha(&mut self, pixel: usize, color: Rgba, alpha: u32) {
        if alpha == 0 {
            return;
        }
        let index = pixel * 4;
        let Some(rgba) = self.pixmap.data_mut().get_mut(index..index + 4) else {
            return;
        };
        if alpha == 255 {
            rgba.copy_from_slice(&[color.r, color.g, color.b, 255]);
            return;
        }
        let mix = |dst: u8, src: u8| -> u8 {
            ((src as u32 * alpha + dst as u32 * (255 - alpha) + 127) / 255) as u8
        };
        rgba[0] = mix(rgba[0], color.r);
        rgba[1] = mix(rgba[1], color.g);
        rgba[2] = mix(rgba[2], color.b);
        rgba[3] = 255;
    }

    /// Fills whole pixels `x0..x1` × `y0..y1` (rounded to the pixel grid): crisp edges.
    pub fn fill_rect_crisp(&mut self, rect: Rect, color: Rgba) {
        let x0 = rect.x0.round() as i32;
        let x1 = rect.x1.round() as i32;
        let y0 = rect.y0.round() as i32;
        let y1 = rect.y1.round() as i32;
        for y in y0..y1 {
            for x in x0..x1 {
                self.blend(x, y, color, 1.0);
            }
        }
    }

    /// A crisp 1 px horizontal line on pixel row `y` from `x0` to `x1`.
    pub fn hline(&mut self, x0: f32, x1: f32, y: f32, color: Rgba) {
        let row = y.floor();
        self.fill_rect_crisp(Rect::new(x0, row, x1, row + 1.0), color);
    }

    /// A crisp 1 px vertical line on pixel column `x` from `y0` to `y1`.
    pub fn vline(&mut self, x: f32, y0: f32, y1: f32, color: Rgba) {
        let col = x.floor();
        self.fill_rect_crisp(Rect::new(col, y0, col + 1.0, y1), color);
    }

    /// Fills a closed polygon, anti-aliased, inside the clip.
    pub fn fill_polygon(&mut self, points: &[(f32, f32)], color: Rgba) {
        let Some(path) = polygon_path(points) else {
            return;
        };
        let paint = solid_paint(color);
        self.pixmap.fill_path(
            &path,
            &paint,
            FillRule::Winding,
            Transform::identity(),
            self.clip_mask.as_ref(),
        );
    }

    /// Fills a circle, anti-aliased, inside the clip.
    pub fn fill_circle(&mut self, cx: f32, cy: f32, radius: f32, color: Rgba) {
        let Some(path) = PathBuilder::from_circle(cx, cy, radius) else {
            return;
        };
        self.pixmap.fill_path(
            &path,
            &solid_paint(color),
            FillRule::Winding,
            Transform::identity(),
            self.clip_mask.as_ref(),
        );
    }

    /// Strokes a polyline of `width` px with round joins and caps, anti-aliased.
    ///
    /// Each pixel's coverage is the largest over all segments, so joints are not drawn
    /// twice; cost grows with the pixels the line touches, not with a general stroker.
    pub fn stroke_polyline(&mut self, points: &[(f32, f32)], width: f32, color: Rgba) {
        if points.is_empty() || width.is_nan() || width <= 0.0 {
            return;
        }
        let radius = width * 0.5;
        // Lines thinner than a pixel are drawn 1 px wide at proportionally lower opacity.
        let (radius, opacity) = if width < 1.0 {
            (0.5, width)
        } else {
            (radius, 1.0)
        };
        if points.len() == 1 {
            self.cover_segment(points[0], points[0], radius);
        }
        for pair in points.windows(2) {
            self.cover_segment(pair[0], pair[1], radius);
        }
        self.flush_coverage(color.with_opacity(opacity));
    }

    /// Raises the coverage of the pixels within `radius` (+ ½ px of anti-aliasing) of
    /// the segment `a`–`b` to their coverage by it.
    ///
    /// Row by row, only the pixels whose centres are inside the band around the line
    /// are visited. Beside the segment a pixel's distance is its distance across the
    /// line (a multiply-add); only the round caps past its ends need a square root.
    fn cover_segment(&mut self, a: (f32, f32), b: (f32, f32), radius: f32) {
        if !(a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite()) {
            return;
        }
        let reach = radius + 0.5;
        let clip = self.clip;
        // Integer pixel bounds (clamped first, so the casts cannot overflow).
        let bound = |v: f32, lo: f32, hi: f32| v.clamp(lo, hi) as i32;
        let y_start = bound(a.1.min(b.1) - reach, clip.y0, clip.y1);
        let y_end = bound(a.1.max(b.1) + reach + 1.0, clip.y0, clip.y1);
        let x_lo = bound(a.0.min(b.0) - reach, clip.x0, clip.x1);
        let x_hi = bound(a.0.max(b.0) + reach + 1.0, clip.x0, clip.x1);
        if y_start >= y_end || x_lo >= x_hi {
            return;
        }
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let length = (dx * dx + dy * dy).sqrt();
        // Unit direction; a point (zero length) is all cap.
        let (ux, uy) = if length > 0.0 {
            (dx / length, dy / length)
        } else {
            (0.0, 0.0)
        };
        let steep = dy.abs() > 1e-3;
        // Half the width of the band |across| < reach along a row, plus a margin that
        // only admits pixels too faint to show (coverage < 1/512).
        let (slope, half) = if steep {
            (dx / dy, (reach + 2e-3) * length / dy.abs())
        } else {
            (0.0, 0.0)
        };
        for y in y_start..y_end {
            let cy = y as f32 + 0.5;
            let (mut row_lo, mut row_hi) = (x_lo, x_hi);
            if steep {
                // Centres x + ½ within `half` of where the centre line crosses the row.
                let cross = a.0 + (cy - a.1) * slope - 0.5;
                // `bound` truncates: the floor of the (non-negative) clamped value.
                let lo = (cross - half).clamp(clip.x0, clip.x1);
                row_lo = row_lo.max(lo as i32 + i32::from((lo as i32 as f32) < lo));
                row_hi = row_hi.min(bound(cross + half, clip.x0, clip.x1) + 1);
            }
            if row_lo >= row_hi {
                continue;
            }
            let ey = cy - a.1;
            // Across the line, the row's part is constant: per pixel a multiply-add.
            let (along_y, across_y) = (ey * uy, ey * ux);
            // The row's slots: tile row, then the row inside the tile.
            let (tile_row, in_tile) = (y as usize / TILE * self.tiles_x, y as usize % TILE * TILE);
            for x in row_lo..row_hi {
                let ex = x as f32 + 0.5 - a.0;
                let along = ex * ux + along_y;
                let distance = if along < 0.0 || length == 0.0 {
                    (ex * ex + ey * ey).sqrt()
                } else if along > length {
                    let (px, py) = (x as f32 + 0.5 - b.0, cy - b.1);
                    (px * px + py * py).sqrt()
                } else {
                    (ex * uy - across_y).abs()
                };
                // The alpha `blend_pixel` gives an opaque colour at this coverage (`as`
                // saturates: 0 outside the reach).
                let alpha = ((reach - distance).min(1.0) * 255.0 + 0.5) as u8;
                if alpha == 0 {
                    continue;
                }
                let tile = tile_row + x as usize / TILE;
                if !self.tile_touched[tile] {
                    self.tile_touched[tile] = true;
                    self.touched.push(tile as u32);
                }
                let slot = &mut self.coverage[tile * TILE * TILE + in_tile + x as usize % TILE];
                *slot = (*slot).max(alpha);
            }
        }
    }

    /// Blends `color` into every pixel with coverage, at its coverage, and clears it.
    fn flush_coverage(&mut self, color: Rgba) {
        let width = self.width() as usize;
        let mut touched = std::mem::take(&mut self.touched);
        for &tile in &touched {
            let tile = tile as usize;
            self.tile_touched[tile] = false;
            let (x0, y0) = (tile % self.tiles_x * TILE, tile / self.tiles_x * TILE);
            let start = tile * TILE * TILE;
            for i in 0..TILE * TILE {
                let coverage = std::mem::replace(&mut self.coverage[start + i], 0);
                if coverage == 0 {
                    continue;
                }
                // An opaque colour blends at the coverage itself, as `blend_pixel` would.
                let alpha = match color.a {
                    255 => u32::from(coverage),
                    a => (u32::from(coverage) * u32::from(a) + 127) / 255,
                };
                let pixel = (y0 + i / TILE) * width + x0 + i % TILE;
                self.blend_alpha(pixel, color, alpha);
            }
        }
        touched.clear();
        self.touched = touched;
    }

    /// Strokes an arc (angles in radians, clockwise from 3 o'clock) with butt caps.
    pub fn stroke_arc(
        &mut self,
        center: (f32, f32),
        radius: f32,
        from: f32,
        to: f32,
        width: f32,
        color: Rgba,
    ) {
        let steps = (((to - from).abs() * radius / 2.0).ceil() as usize).clamp(8, 720);
        let (inner, outer) = (radius - width * 0.5, radius + width * 0.5);
        let mut ring = Vec::with_capacity(steps * 2 + 2);
        for i in 0..=steps {
            let angle = from + (to - from) * (i as f32 / steps as f32);
            ring.push((
                center.0 + outer * libm::cosf(angle),
                center.1 + outer * libm::sinf(angle),
            ));
        }
        for i in (0..=steps).rev() {
            let angle = from + (to - from) * (i as f32 / steps as f32);
            ring.push((
                center.0 + inner * libm::cosf(angle),
                center.1 + inner * libm::sinf(angle),
            ));
        }
        self.fill_polygon(&ring, color);
    }
}

fn polygon_path(points: &[(f32, f32)]) -> Option<tiny_skia::Path> {
    let mut finite = points.iter().filter(|p| p.0.is_finite() && p.1.is_finite());
    let first = finite.next()?;
    let mut builder = PathBuilder::new();
    builder.move_to(first.0, first.1);
    for p in finite {
        builder.line_to(p.0, p.1);
    }
    builder.close();
    builder.finish()
}

fn solid_paint(color: Rgba) -> Paint<'static> {
    let mut paint = Paint::default();
    paint.set_color(skia_color(color));
    paint.anti_alias = true;
    paint
}

fn skia_color(color: Rgba) -> tiny_skia::Color {
    tiny_skia::Color::from_rgba8(color.r, color.g, color.b, color.a)
}
