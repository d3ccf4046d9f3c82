//! The pixel surface every chart is drawn on: a `tiny-skia` pixmap plus our own fast
//! anti-aliased polyline rasterizer, crisp pixel-aligned rectangles and coverage blending.
//!
//! All arithmetic is plain IEEE `f32`/integer code (no SIMD, no libm-dependent
//! functions), so a native build and a wasm build produce the same bytes.

use std::cmp::Ordering;
use std::ops::Range;

use tiny_skia::{FillRule, Mask, Paint, PathBuilder, Pixmap, Transform};

use crate::color::Rgba;

mod crossings;
mod region;
mod tiles;

pub(crate) use region::PixelRect;

use crossings::{ceil, floor, Crossings};
use tiles::{blend_row, coverage_alpha, row_sources, transpose_block, transpose_tile, TILE};

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

/// A point in pixels: `(x, y)`.
type Xy = (f32, f32);

/// Every row: [`Canvas::cover_segment`] without a row limit.
const ALL_ROWS: (i32, i32) = (i32::MIN, i32::MAX);

/// The last index of the run of points from `start` that lie in `start`'s pixel column
/// (finite, the same `floor(x)`).
fn column_run_end(points: &[(f32, f32)], start: usize) -> usize {
    // Far outside any canvas points are never in a run (and `floor` stays exact).
    let inside = |p: &(f32, f32)| p.0.abs() < 1e9 && p.1.is_finite();
    let Some(first) = points.get(start).filter(|p| inside(p)) else {
        return start;
    };
    let column = floor(first.0);
    let more = points[start + 1..]
        .iter()
        .take_while(|p| inside(p) && floor(p.0) == column)
        .count();
    start + more
}

/// Whether the segment `a`–`b` between neighbouring pixel columns (left to right) joins
/// the spans of the two columns in [`Canvas::cover_column`]: steep (|dx| ≤ ¼ |dy|) and
/// crossing at least one row's centre, so each of its crossings lies in one of them.
fn folds_into_spans(a: (f32, f32), b: (f32, f32)) -> bool {
    let inside = |p: (f32, f32)| p.0.abs() < 1e9 && p.1.abs() < 1e9;
    if !(inside(a) && inside(b)) || floor(b.0) != floor(a.0) + 1 {
        return false;
    }
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (upper, lower) = (a.1.min(b.1), a.1.max(b.1));
    dx.abs() * 4.0 <= dy.abs() && ceil(upper - 0.5) <= floor(lower - 0.5)
}

/// The drawing surface: opaque RGBA pixels with helpers shared by all panels.
pub struct Canvas {
    pixmap: Pixmap,
    /// Per-pixel coverage of the polyline being drawn (max over its segments), as the
    /// alpha (0..=255) it blends an opaque colour with, in [`TILE`]×[`TILE`] tiles of
    /// one cache line: a steep segment walks down a few lines, not one per row. A tile
    /// holds its pixel columns one after another, each its [`TILE`] rows from the top, so
    /// a column's coverage of a tile's height is one 8-byte word ([`Self::slot`]).
    coverage: Vec<u8>,
    /// Tiles per row of tiles.
    tiles_x: usize,
    /// A bit per tile (bit `i % 64` of word `i / 64` for tile `i`): whether it may hold
    /// coverage.
    touched: Vec<u64>,
    /// Scratch rows of [`Canvas::cover_column`], kept for its next column.
    crossings: Crossings,
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
            touched: vec![0; tiles.div_ceil(64)],
            crossings: Crossings::default(),
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

    /// Runs `draw` with the clip narrowed to the columns `columns`, for polylines only
    /// (the rasterizer of [`Canvas::stroke_polyline`] writes only inside the clip, with
    /// the values it would give without it; tiny-skia's fills keep the wider mask).
    pub(crate) fn in_columns(&mut self, columns: Range<usize>, draw: impl FnOnce(&mut Canvas)) {
        let wide = self.clip;
        self.clip.x0 = wide.x0.max(columns.start as f32);
        self.clip.x1 = wide.x1.min(columns.end as f32).max(self.clip.x0);
        draw(self);
        self.clip = wide;
    }

    /// The whole pixels the clip reaches into (all the pixels drawing can write).
    pub(crate) fn clip_pixels(&self) -> PixelRect {
        let (width, height) = (self.width() as f32, self.height() as f32);
        // Clamped first, so the casts are exact.
        let column = |v: f32| v.clamp(0.0, width) as usize;
        let row = |v: f32| v.clamp(0.0, height) as usize;
        let clip = self.clip;
        let (x0, y0) = (column(clip.x0.floor()), row(clip.y0.floor()));
        let (x1, y1) = (column(clip.x1.ceil()), row(clip.y1.ceil()));
        PixelRect {
            x0,
            y0,
            x1: x1.max(x0),
            y1: y1.max(y0),
        }
    }

    /// Brings `copy` (of `rect`'s pixels, as an earlier call left it) up to date with
    /// the canvas; returns the columns (first to last) where it changed.
    pub(crate) fn refresh_copy(
        &self,
        rect: PixelRect,
        copy: &mut Vec<u8>,
    ) -> Option<(usize, usize)> {
        region::refresh_copy(self.pixmap.data(), self.width() as usize, rect, copy)
    }

    /// Writes `from` (a copy of `rect`'s pixels) back into the canvas, but for the
    /// columns `keep`.
    pub(crate) fn copy_in_except(&mut self, rect: PixelRect, from: &[u8], keep: Range<usize>) {
        let width = self.width() as usize;
        region::copy_in_except(self.pixmap.data_mut(), width, rect, from, keep);
    }

    /// Copies the canvas's pixels in the columns `columns` of `rect` into `copy` (of
    /// `rect`'s pixels).
    pub(crate) fn copy_columns_out(
        &self,
        rect: PixelRect,
        columns: Range<usize>,
        copy: &mut Vec<u8>,
    ) {
        let width = self.width() as usize;
        region::copy_columns_out(self.pixmap.data(), width, rect, columns, copy);
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
    /// Lines of 2 px and more are drawn pixel column by pixel column
    /// ([`Self::cover_column`]): in dense data (what M4 keeps of a series: up to four
    /// points per column) each column is one span per row.
    pub fn stroke_polyline(&mut self, points: &[(f32, f32)], width: f32, color: Rgba) {
        if points.is_empty() || width.is_nan() || width <= 0.0 {
            return;
        }
        let radius = width * 0.5;
        if radius >= 1.0 {
            self.cover_columns(points, radius);
        } else {
            // Lines thinner than a pixel are drawn 1 px wide at proportionally lower
            // opacity.
            let (radius, opacity) = if width < 1.0 {
                (0.5, width)
            } else {
                (radius, 1.0)
            };
            if let [point] = points {
                self.cover_segment(*point, *point, radius, ALL_ROWS);
            }
            for pair in points.windows(2) {
                self.cover_segment(pair[0], pair[1], radius, ALL_ROWS);
            }
            self.flush_coverage(color.with_opacity(opacity));
            return;
        }
        self.flush_coverage(color);
    }

    /// Covers the polyline `points` (radius ≥ 1) column group by column group: the
    /// points in one pixel column, with the halves of the steep segments that join them
    /// to the columns beside it ([`folds_into_spans`]); other segments between columns
    /// are covered exactly.
    fn cover_columns(&mut self, points: &[(f32, f32)], radius: f32) {
        let mut start = 0;
        while start < points.len() {
            let end = column_run_end(points, start);
            let before = start
                .checked_sub(1)
                .map(|i| (points[i], points[start]))
                .filter(|&(a, b)| folds_into_spans(a, b));
            let next = points.get(end + 1).map(|&b| (points[end], b));
            if self.beside_clip(&points[start..=end], next.map(|s| s.1), radius) {
                start = end + 1;
                continue;
            }
            let after = next.filter(|&(a, b)| folds_into_spans(a, b));
            self.cover_column(&points[start..=end], before, after, radius);
            let neighbours = (start.checked_sub(1).map(|i| points[i]), next.map(|s| s.1));
            self.cover_joins(&points[start..=end], neighbours, radius);
            if let (Some((a, b)), None) = (next, after) {
                self.cover_segment(a, b, radius, ALL_ROWS);
            }
            start = end + 1;
        }
    }

    /// Whether nothing [`Self::cover_columns`] draws for `group` (and the segment to
    /// `next`) can reach into the clip: its points are all more than the line's reach,
    /// the widest span's pixels beside a column (7) and a pixel of rounding left or
    /// right of it. Then skipping it changes no pixel (drawing writes only inside the
    /// clip), and a plot redrawn in a few columns (`crate::redraw`) skips most groups.
    fn beside_clip(&self, group: &[(f32, f32)], next: Option<Xy>, radius: f32) -> bool {
        let xs = || group.iter().chain(next.iter()).map(|p| p.0);
        let lo = xs().fold(f32::INFINITY, f32::min);
        let hi = xs().fold(f32::NEG_INFINITY, f32::max);
        let margin = radius + 0.5 + 9.0;
        // Comparisons with NaN are false: a group with a NaN x is drawn (and skipped
        // inside, as before).
        xs().all(f32::is_finite) && (hi + margin < self.clip.x0 || lo - margin > self.clip.x1)
    }

    /// Covers `group`, points inside one pixel column (or one point anywhere), and the
    /// parts in this column of the segments `before` (ending at its first point) and
    /// `after` (starting at its last), with a line of `radius` (≥ 1), nearly as
    /// [`Self::cover_segment`] would, visiting each pixel of the rows the steep
    /// segments (|dx| ≤ ¼ |dy|) cross about once instead of once per segment.
    ///
    /// In a row, the line is the span between the leftmost and the rightmost crossing of
    /// a steep segment: crossings lie within the column, so no pixel between them is
    /// more than ½ px from one, fully covered for a radius ≥ 1; beside the span a
    /// pixel's coverage is its distance across the segment crossing nearest on that
    /// side. The round joins and caps are disks at the vertices, in the rows beyond the
    /// spans (inside them a vertex is a crossing, and the span covers its disk but for a
    /// few grey levels at the edge); shallow segments are covered exactly. What differs
    /// from covering segment by segment (a few grey levels at the line's edge, not its
    /// position): beside the span only the nearest crossing's segment is measured, not
    /// every segment in the row; a pixel past a steep segment's end counts its distance
    /// across the segment's line rather than to the end (at most ≈ 0.05 px closer for
    /// |dx| ≤ ¼ |dy|).
    fn cover_column(
        &mut self,
        group: &[(f32, f32)],
        before: Option<(Xy, Xy)>,
        after: Option<(Xy, Xy)>,
        radius: f32,
    ) {
        let reach = radius + 0.5;
        let clip = self.clip;
        let ends = [before.map(|s| s.0), after.map(|s| s.1)];
        let ys = || group.iter().chain(ends.iter().flatten()).map(|p| p.1);
        let top = ys().fold(f32::INFINITY, f32::min);
        let bottom = ys().fold(f32::NEG_INFINITY, f32::max);
        // The rows a span can be in: centres inside the extent, clipped.
        let row0 = (top.clamp(clip.y0, clip.y1)) as i32;
        let row1 = (bottom + 1.0).clamp(clip.y0, clip.y1) as i32;
        let mut crossings = std::mem::take(&mut self.crossings);
        let rows = (row0, row1);
        crossings.reset(rows);
        let mut crossed = false;
        for pair in group.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            let steep = dx.abs() * 4.0 <= dy.abs() && crossings.add(rows, a, b, |_| true);
            if !steep {
                self.cover_segment(a, b, radius, ALL_ROWS);
            }
            crossed |= steep;
        }
        // The joining segments' crossings in this column: the one before enters it from
        // the left, the one after leaves it to the right (complementary tests, so each
        // crossing is in exactly one column's span).
        let column = group.first().map_or(0, |p| floor(p.0));
        if let Some((a, b)) = before {
            let left_edge = column as f32;
            crossed |= crossings.add(rows, a, b, move |x| x >= left_edge);
        }
        if let Some((a, b)) = after {
            let right_edge = (column + 1) as f32;
            crossed |= crossings.add(rows, a, b, move |x| x < right_edge);
        }
        if crossed {
            self.cover_spans(&crossings, column, rows, reach);
        }
        self.crossings = crossings;
    }

    /// Covers the rows `rows.0..rows.1` of pixel column `column` for their `crossings`
    /// with a line reaching `reach` (≥ 1.5): in each row the pixels whose centres lie
    /// between the leftmost and the rightmost crossing fully, those beside them at their
    /// distance across the line of the nearer of the two.
    ///
    /// Crossings lie in the column (give or take a rounding): its own pixel is within
    /// ½ px of them, fully covered; a pixel `j` columns left of it is `j − ½` or more
    /// along the row from the leftmost crossing (so only that crossing's line is nearer
    /// than the reach), and in reach only while `j − ½ < reach × 1.031` (the run per
    /// rise of |dx| ≤ ¼ |dy|); the same on the right. So every row's pixels are the same
    /// few columns, each covered a tile's height at a time with no branch per pixel.
    fn cover_spans(&mut self, crossings: &Crossings, column: i32, rows: (i32, i32), reach: f32) {
        let clip = self.clip;
        // Pixels beside the column on each side (at most 7: a 10 px line's are 6).
        let beside = (floor(reach * 1.031 - 0.5 + 1e-3) + 1).clamp(1, 7);
        let first = column.saturating_sub(beside).max(clip.x0 as i32);
        let end = column.saturating_add(beside + 1).min(clip.x1 as i32);
        if first >= end {
            return;
        }
        self.touch(first..end, rows.0..rows.1);
        let centre = column as f32 + 0.5;
        let tile_heights = crossings
            .lo
            .chunks_exact(TILE)
            .zip(crossings.hi.chunks_exact(TILE))
            .zip(crossings.lo_rise.chunks_exact(TILE))
            .zip(crossings.hi_rise.chunks_exact(TILE));
        for (y, (((lo, hi), lo_rise), hi_rise)) in
            (crossings.base..).step_by(TILE).zip(tile_heights)
        {
            for x in first..end {
                let offset = (x - column).unsigned_abs() as f32;
                let mut alphas = [0u8; TILE];
                match x.cmp(&column) {
                    Ordering::Less => {
                        let edge = centre - offset;
                        for (i, alpha) in alphas.iter_mut().enumerate() {
                            *alpha = coverage_alpha(reach, (lo[i] - edge) * lo_rise[i]);
                        }
                    }
                    Ordering::Equal => {
                        for (i, alpha) in alphas.iter_mut().enumerate() {
                            *alpha = if lo[i] <= hi[i] { 255 } else { 0 };
                        }
                    }
                    Ordering::Greater => {
                        let edge = centre + offset;
                        for (i, alpha) in alphas.iter_mut().enumerate() {
                            *alpha = coverage_alpha(reach, (edge - hi[i]) * hi_rise[i]);
                        }
                    }
                }
                self.raise_column(x, y, alphas);
            }
        }
    }

    /// Raises the coverages of the [`TILE`] pixels of column `x` (inside the canvas)
    /// from row `y` (a multiple of [`TILE`]) down to `alphas` (the first at the top).
    fn raise_column(&mut self, x: i32, y: i32, alphas: [u8; TILE]) {
        let start = self.slot(x, y);
        if let Some(slots) = self.coverage.get_mut(start..start + TILE) {
            for (slot, alpha) in slots.iter_mut().zip(alphas) {
                *slot = (*slot).max(alpha);
            }
        }
    }

    /// Raises the coverages of the [`TILE`] pixels of column `x` (inside the canvas)
    /// from row `y` (≥ 0) down to `alphas` (a byte each, the first at the top; 0 for
    /// those below the canvas): in at most two tiles.
    fn raise_rows(&mut self, x: i32, y: i32, alphas: u64) {
        let offset = 8 * y.rem_euclid(TILE as i32) as u32;
        let tile_top = y - y.rem_euclid(TILE as i32);
        // The bytes in the pixel's tile, and those in the one below.
        let (upper, lower) = (alphas << offset, alphas >> (56 - offset) >> 8);
        for (y, alphas) in [(tile_top, upper), (tile_top + TILE as i32, lower)] {
            if alphas != 0 {
                self.raise_column(x, y, alphas.to_le_bytes());
            }
        }
    }

    /// Covers the round joins (and caps) at the points of `group`, whose polyline
    /// neighbours before and after it are `neighbours`, with disks of `radius` — only
    /// in the rows beyond a vertex where the line turns: above a vertex with no
    /// neighbour above it, below one with no neighbour below. Elsewhere a segment at
    /// the vertex crosses the row, and [`Self::cover_spans`] measures a pixel across its
    /// line, which is never farther than the vertex (where a segment is covered
    /// exactly, its cap is the disk).
    fn cover_joins(
        &mut self,
        group: &[(f32, f32)],
        neighbours: (Option<Xy>, Option<Xy>),
        radius: f32,
    ) {
        for (i, &vertex) in group.iter().enumerate() {
            let before = i.checked_sub(1).map(|j| group[j]).or(neighbours.0);
            let after = group.get(i + 1).copied().or(if i + 1 == group.len() {
                neighbours.1
            } else {
                None
            });
            let ys = [before, after].into_iter().flatten().map(|p| p.1);
            let above = ys.clone().any(|y| y < vertex.1);
            let below = ys.clone().any(|y| y > vertex.1);
            // Rows whose centres are above (`..above_end`) or below (`below_start..`)
            // the vertex.
            let above_end = ceil((vertex.1 - 0.5).clamp(-1e9, 1e9));
            let below_start = floor((vertex.1 - 0.5).clamp(-1e9, 1e9)) + 1;
            let rows = match (above, below) {
                (true, true) => continue,
                (true, false) => (below_start, i32::MAX),
                (false, true) => (i32::MIN, above_end),
                (false, false) => ALL_ROWS,
            };
            self.cover_disk(vertex, radius, rows);
        }
    }

    /// Raises the coverage of the pixels within `radius` (+ ½ px of anti-aliasing) of
    /// `centre`, in the rows `rows.0..rows.1`: the pixels and coverages of
    /// [`Self::cover_segment`] from `centre` to itself, a pixel column's rows at a time.
    fn cover_disk(&mut self, centre: Xy, radius: f32, rows: (i32, i32)) {
        let (cx, cy) = centre;
        if !(cx.is_finite() && cy.is_finite()) {
            return;
        }
        let reach = radius + 0.5;
        let clip = self.clip;
        let bound = |v: f32, lo: f32, hi: f32| v.clamp(lo, hi) as i32;
        let y_start = bound(cy - reach, clip.y0, clip.y1).max(rows.0);
        let y_end = bound(cy + reach + 1.0, clip.y0, clip.y1).min(rows.1);
        let x_lo = bound(cx - reach, clip.x0, clip.x1);
        let x_hi = bound(cx + reach + 1.0, clip.x0, clip.x1);
        if y_start >= y_end || x_lo >= x_hi {
            return;
        }
        self.touch(x_lo..x_hi, y_start..y_end);
        // A disk has few rows and columns (4 × 4 for a 2 px line, 2 rows beyond a
        // vertex): blocks of four by four pixels, each pixel a lane.
        const SIDE: usize = 4;
        for y in (y_start..y_end).step_by(SIDE) {
            for x in (x_lo..x_hi).step_by(SIDE) {
                // Row by row (byte `column` of `rows[row]`), as the lanes come.
                let mut block = [0u8; SIDE * SIDE];
                for (i, alpha) in block.iter_mut().enumerate() {
                    let (pixel_x, pixel_y) = (x + (i % SIDE) as i32, y + (i / SIDE) as i32);
                    let ex = pixel_x as f32 + 0.5 - cx;
                    let ey = pixel_y as f32 + 0.5 - cy;
                    let distance = (ex * ex + ey * ey).sqrt();
                    let inside = (pixel_x < x_hi) & (pixel_y < y_end);
                    *alpha = if inside {
                        coverage_alpha(reach, distance)
                    } else {
                        0
                    };
                }
                let rows: [u32; SIDE] = std::array::from_fn(|row| {
                    let start = row * SIDE;
                    u32::from_le_bytes([
                        block[start],
                        block[start + 1],
                        block[start + 2],
                        block[start + 3],
                    ])
                });
                for (pixel_x, alphas) in (x..x_hi).zip(transpose_block(rows)) {
                    self.raise_rows(pixel_x, y, u64::from(alphas));
                }
            }
        }
    }

    /// Raises the coverage of the pixels within `radius` (+ ½ px of anti-aliasing) of
    /// the segment `a`–`b`, in the rows `rows.0..rows.1`, to their coverage by it.
    ///
    /// Row by row, only the pixels whose centres are inside the band around the line
    /// are visited. Beside the segment a pixel's distance is its distance across the
    /// line (a multiply-add); only the round caps past its ends need a square root.
    fn cover_segment(&mut self, a: (f32, f32), b: (f32, f32), radius: f32, rows: (i32, i32)) {
        if !(a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite()) {
            return;
        }
        let reach = radius + 0.5;
        let clip = self.clip;
        // Integer pixel bounds (clamped first, so the casts cannot overflow).
        let bound = |v: f32, lo: f32, hi: f32| v.clamp(lo, hi) as i32;
        let y_start = bound(a.1.min(b.1) - reach, clip.y0, clip.y1).max(rows.0);
        let y_end = bound(a.1.max(b.1) + reach + 1.0, clip.y0, clip.y1).min(rows.1);
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
            let along = |x: i32| (x as f32 + 0.5 - a.0) * ux + along_y;
            // `along` is monotonic in x (each float operation is), so when both ends of
            // the row are beside the segment, every pixel between is.
            let beside = |x: i32| (0.0..=length).contains(&along(x));
            self.touch(row_lo..row_hi, y..y + 1);
            if length > 0.0 && beside(row_lo) && beside(row_hi - 1) {
                for x in row_lo..row_hi {
                    let ex = x as f32 + 0.5 - a.0;
                    let distance = (ex * uy - across_y).abs();
                    self.raise(x, y, coverage_alpha(reach, distance));
                }
                continue;
            }
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
                self.raise(x, y, coverage_alpha(reach, distance));
            }
        }
    }

    /// Marks the tiles of the pixels `columns` × `rows` (inside the canvas) as holding
    /// coverage, before [`Self::raise`] writes it.
    fn touch(&mut self, columns: std::ops::Range<i32>, rows: std::ops::Range<i32>) {
        if columns.is_empty() || rows.is_empty() {
            return;
        }
        // Half-open ranges: an inclusive range's iterator costs a check per step.
        let tile_columns = columns.start as usize / TILE..(columns.end - 1) as usize / TILE + 1;
        for tile_row in rows.start as usize / TILE..(rows.end - 1) as usize / TILE + 1 {
            for tile in tile_columns
                .clone()
                .map(|column| tile_row * self.tiles_x + column)
            {
                if let Some(word) = self.touched.get_mut(tile / 64) {
                    *word |= 1 << (tile % 64);
                }
            }
        }
    }

    /// Raises the coverage of pixel `(x, y)` (inside the canvas, its tile touched) to
    /// `alpha`.
    fn raise(&mut self, x: i32, y: i32, alpha: u8) {
        let slot = self.slot(x, y);
        if let Some(slot) = self.coverage.get_mut(slot) {
            *slot = (*slot).max(alpha);
        }
    }

    /// Where the coverage of pixel `(x, y)` (inside the canvas) is: in its tile, a
    /// column of [`TILE`] rows after another ([`Canvas::coverage`]).
    fn slot(&self, x: i32, y: i32) -> usize {
        let (x, y) = (x as usize, y as usize);
        let tile = y / TILE * self.tiles_x + x / TILE;
        (tile * TILE + x % TILE) * TILE + y % TILE
    }

    /// Blends `color` into every pixel with coverage, at its coverage, and clears it.
    fn flush_coverage(&mut self, color: Rgba) {
        let width = self.width() as usize;
        let mut touched = std::mem::take(&mut self.touched);
        let sources = row_sources(color);
        // An opaque colour blends at the coverage itself, as `blend_pixel` would.
        let alpha_of =
            |coverage: u8| ((u32::from(coverage) * u32::from(color.a) + 127) / 255) as u8;
        // In pixel order: a tile's rows continue the rows of the tile before it, which
        // the cache prefetches.
        let tiles = touched.iter_mut().enumerate().flat_map(|(i, word)| {
            let mut bits = std::mem::take(word);
            std::iter::from_fn(move || {
                let bit = bits.trailing_zeros() as usize;
                bits &= bits.wrapping_sub(1);
                (bit < 64).then_some(i * 64 + bit)
            })
        });
        for tile in tiles {
            let (x0, y0) = (tile % self.tiles_x * TILE, tile / self.tiles_x * TILE);
            let start = tile * TILE * TILE;
            let Some(coverages) = self.coverage.get_mut(start..start + TILE * TILE) else {
                continue;
            };
            let mut columns = [0u64; TILE];
            for (column, bytes) in columns.iter_mut().zip(coverages.chunks_exact(TILE)) {
                let mut word = [0u8; TILE];
                word.copy_from_slice(bytes);
                *column = u64::from_le_bytes(word);
            }
            coverages.fill(0);
            for (row, alphas) in transpose_tile(columns).into_iter().enumerate() {
                // Eight coverages at once: most rows of a touched tile are empty.
                if alphas == 0 {
                    continue;
                }
                let pixel = (y0 + row) * width + x0;
                let mut alphas = alphas.to_le_bytes();
                if color.a < 255 {
                    alphas = alphas.map(alpha_of);
                }
                let pixels = self
                    .pixmap
                    .data_mut()
                    .get_mut(pixel * 4..(pixel + TILE) * 4);
                match pixels.and_then(|pixels| <&mut [u8; TILE * 4]>::try_from(pixels).ok()) {
                    Some(pixels) => blend_row(pixels, &alphas, &sources),
                    // The last tile of the last row, past the canvas's width.
                    None => {
                        for (i, alpha) in alphas.into_iter().enumerate() {
                            self.blend_alpha(pixel + i, color, u32::from(alpha));
                        }
                    }
                }
            }
        }
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
