//! The crossings of a dense pixel column's steep segments with its rows' centres: per
//! row the leftmost and rightmost, kept in arrays a tile's height at a time so the
//! compiler makes vector code of them; and the float `floor`/`ceil` they are bounded
//! with. Used by the canvas only; uses nothing of it.

use super::tiles::TILE;

/// `v.floor()` for |v| < 2³¹ without a libm call (x86-64 has no SSE4.1 `roundss` by
/// default, so `f32::floor` is a function call).
pub(super) fn floor(v: f32) -> i32 {
    let t = v as i32;
    t - i32::from(t as f32 > v)
}

/// `v.ceil()` for |v| < 2³¹, as [`floor`].
pub(super) fn ceil(v: f32) -> i32 {
    let t = v as i32;
    t + i32::from((t as f32) < v)
}

/// Per row of a pixel column (`Canvas::cover_column`): the leftmost and rightmost
/// crossing of its steep segments with the row's centre line, and for each, the
/// segment's `|dy| / length` (a distance along a row as a distance across the line).
/// One array per field, so adding a segment's crossings is one loop the compiler
/// turns into vector code, without a branch per row. The rows are whole tile heights
/// from `base` (a multiple of [`TILE`]), so `Canvas::cover_spans` reads them a tile's
/// column at a time.
#[derive(Debug, Default)]
pub(super) struct Crossings {
    pub(super) base: i32,
    pub(super) lo: Vec<f32>,
    pub(super) hi: Vec<f32>,
    pub(super) lo_rise: Vec<f32>,
    pub(super) hi_rise: Vec<f32>,
}

impl Crossings {
    /// The tile heights holding the rows `rows.0..rows.1` (`rows.0` ≥ 0), without
    /// crossings (`lo > hi`; a rise of 1, so the distance beside an empty row is
    /// infinite and its coverage 0).
    pub(super) fn reset(&mut self, rows: (i32, i32)) {
        let tile = TILE as i32;
        self.base = rows.0 - rows.0.rem_euclid(tile);
        let count = if rows.0 < rows.1 {
            (rows.1 - self.base + tile - 1) / tile * tile
        } else {
            0
        };
        for (values, empty) in [
            (&mut self.lo, f32::INFINITY),
            (&mut self.hi, f32::NEG_INFINITY),
            (&mut self.lo_rise, 1.0),
            (&mut self.hi_rise, 1.0),
        ] {
            values.clear();
            values.resize(count as usize, empty);
        }
    }

    /// Adds the crossings of the steep segment `a`–`b` with the centres of the rows
    /// `rows.0..rows.1` (inside those of the last [`Self::reset`]) that `keep` accepts;
    /// false if it crosses none of those rows (then nothing is added).
    pub(super) fn add(
        &mut self,
        rows: (i32, i32),
        a: (f32, f32),
        b: (f32, f32),
        keep: impl Fn(f32) -> bool,
    ) -> bool {
        let (row0, row1) = rows;
        // Rows whose centres are inside the segment's vertical extent.
        let (upper, lower) = (a.1.min(b.1), a.1.max(b.1));
        let clamp = |v: f32| v.clamp(row0 as f32 - 1.0, row1 as f32);
        let first = ceil(clamp(upper - 0.5)).clamp(row0, row1);
        let last = (floor(clamp(lower - 0.5)) + 1).clamp(row0, row1);
        if first >= last {
            return false;
        }
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let slope = dx / dy;
        let rise = dy.abs() / (dx * dx + dy * dy).sqrt();
        // A tile's height of rows at a time, those outside first..last masked: whole
        // vectors, no remainder loop.
        let tile = TILE as i32;
        let heights = (first - self.base) / tile..(last - self.base + tile - 1) / tile;
        for height in heights {
            let start = height as usize * TILE;
            fn tile_height(values: &mut [f32], start: usize) -> Option<&mut [f32; TILE]> {
                values
                    .get_mut(start..start + TILE)
                    .and_then(|rows| <&mut [f32; TILE]>::try_from(rows).ok())
            }
            let extremes = (
                tile_height(&mut self.lo, start),
                tile_height(&mut self.hi, start),
                tile_height(&mut self.lo_rise, start),
                tile_height(&mut self.hi_rise, start),
            );
            let (Some(lo), Some(hi), Some(lo_rise), Some(hi_rise)) = extremes else {
                continue;
            };
            let segment = CrossingLine {
                x: a.0,
                y: a.1,
                slope,
                rise,
                rows: (first, last),
            };
            let y = self.base + height * tile;
            keep_extremes(y, segment, &keep, (lo, hi), (lo_rise, hi_rise));
        }
        true
    }
}

/// A steep segment as [`keep_extremes`] needs it: where its line crosses row `y`'s
/// centre, `x + (y + ½ − self.y) × slope`, in the rows `rows.0..rows.1`; its `|dy| /
/// length`.
#[derive(Clone, Copy)]
struct CrossingLine {
    x: f32,
    y: f32,
    slope: f32,
    rise: f32,
    rows: (i32, i32),
}

/// For the tile's height of rows from `y`: where `line` crosses a row of its own and
/// `keep` accepts the crossing, lowers the row's `lo` and raises its `hi` to it (each
/// with the line's rise). Its own function taking arrays, so the compiler knows they do
/// not overlap and makes it vector code.
fn keep_extremes(
    y: i32,
    line: CrossingLine,
    keep: &impl Fn(f32) -> bool,
    (lo, hi): (&mut [f32; TILE], &mut [f32; TILE]),
    (lo_rise, hi_rise): (&mut [f32; TILE], &mut [f32; TILE]),
) {
    // Choices as bit masks: with `if`, the compiler branches per row.
    let mask = |choose: bool| u32::from(choose).wrapping_neg();
    let select = |mask: u32, chosen: f32, other: f32| {
        f32::from_bits((chosen.to_bits() & mask) | (other.to_bits() & !mask))
    };
    for i in 0..TILE {
        let row = y + i as i32;
        let cross = line.x + (row as f32 + 0.5 - line.y) * line.slope;
        let kept = keep(cross) & (line.rows.0 <= row) & (row < line.rows.1);
        let left = mask(kept & (cross < lo[i]));
        let right = mask(kept & (cross > hi[i]));
        lo[i] = select(left, cross, lo[i]);
        lo_rise[i] = select(left, line.rise, lo_rise[i]);
        hi[i] = select(right, cross, hi[i]);
        hi_rise[i] = select(right, line.rise, hi_rise[i]);
    }
}
