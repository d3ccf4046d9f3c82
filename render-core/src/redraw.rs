//! Redrawing a plot's lines only where they changed since the frame's last render.
//!
//! A live chart's next frame is mostly its last one: a point was appended, and (the
//! window's end held on the panel's column grid, see `panels::timeseries`) nothing
//! else moved. Each pixel a polyline is drawn over depends only on that pixel before
//! the lines and on the lines' points within reach of it (the rasterizer's coverage is
//! local, and it writes only inside the clip, with the values it gives without one).
//! So where the pixels under the lines are those of the last render and the lines'
//! points near them are the same, the pixels after the lines are those of the last
//! render too. [`draw_lines`] compares both, copies the last render's pixels there,
//! and rasterizes the lines only in the columns between — the same bytes as drawing
//! everything (property test `a_redrawn_frame_equals_a_fresh_one`).

use std::ops::Range;

use crate::canvas::{Canvas, PixelRect};
use crate::color::Rgba;

/// Pixels either side of a changed point the lines may have changed: a point's line
/// reaches `width / 2 + ½` px, a dense column's span the pixels up to 7 beside it, the
/// group of points in the column before one pixel more, and one for rounding.
const SLACK_PX: f32 = 10.0;

/// A polyline series as the plot draws it: pieces between gaps, in pixels.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Line {
    pub color: Rgba,
    pub width: f32,
    pub pieces: Vec<Vec<(f32, f32)>>,
}

/// What a plot's last render left for its next: the pixels under and over its lines
/// and the lines.
#[derive(Default)]
pub(crate) struct PlotMemo {
    /// The pixels the lines were drawn in (the clip's).
    rect: Option<PixelRect>,
    /// Those pixels before the lines and after them, row by row.
    under: Vec<u8>,
    over: Vec<u8>,
    lines: Vec<Line>,
    /// How many pixel columns the last render rasterized lines in.
    redrawn: usize,
}

impl PlotMemo {
    /// Pixel columns the last render rasterized lines in (all of the plot's when it
    /// drew them all, 0 when it copied them).
    pub fn redrawn_columns(&self) -> usize {
        self.redrawn
    }

    /// Keeps nothing (the plot drew no redrawable lines this time, in `redrawn`
    /// columns).
    pub fn forget(&mut self, redrawn: usize) {
        *self = PlotMemo {
            redrawn,
            ..PlotMemo::default()
        };
    }
}

/// Draws `lines` in order inside the canvas's clip, rasterizing only the columns where
/// the pixels under them or their points changed since the render `memo` remembers,
/// and remembers this one.
pub(crate) fn draw_lines(canvas: &mut Canvas, memo: &mut PlotMemo, lines: Vec<Line>) {
    let rect = canvas.clip_pixels();
    let all = rect.x0..rect.x1;
    let comparable = memo.rect == Some(rect) && same_styles(&memo.lines, &lines);
    if !comparable {
        memo.under.clear();
    }
    let under = canvas
        .refresh_copy(rect, &mut memo.under)
        .map(|(lo, hi)| lo..hi + 1);
    let changed = match comparable {
        true => changed_range(rect, under, &memo.lines, &lines),
        false => Some(all.clone()),
    };
    match changed {
        Some(columns) => {
            if columns != all {
                canvas.copy_in_except(rect, &memo.over, columns.clone());
            }
            memo.redrawn = columns.len();
            canvas.in_columns(columns.clone(), |canvas| {
                for line in &lines {
                    for piece in &line.pieces {
                        canvas.stroke_polyline(piece, line.width, line.color);
                    }
                }
            });
            canvas.copy_columns_out(rect, columns, &mut memo.over);
        }
        None => {
            canvas.copy_in_except(rect, &memo.over, 0..0);
            memo.redrawn = 0;
        }
    }
    memo.rect = Some(rect);
    memo.lines = lines;
}

/// Whether the lines are drawn alike (their points aside).
fn same_styles(a: &[Line], b: &[Line]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(a, b)| a.color == b.color && a.width.to_bits() == b.width.to_bits())
}

/// The columns of `rect` to rasterize again: `under` (where the pixels under the lines
/// changed), and from a little before the first point of any line that differs from
/// its `old` self to the right edge; `None` when nothing does.
fn changed_range(
    rect: PixelRect,
    under: Option<Range<usize>>,
    old: &[Line],
    new: &[Line],
) -> Option<Range<usize>> {
    let mut range = under;
    for (old, new) in old.iter().zip(new) {
        let Some(x) = first_change_x(old, new) else {
            continue;
        };
        // Truncation is floor here (clamped to the rect first).
        let from = (x - old.width.max(new.width) * 0.5 - SLACK_PX)
            .clamp(rect.x0 as f32, rect.x1 as f32) as usize;
        range = Some(range.map_or(from..rect.x1, |r| r.start.min(from)..rect.x1));
    }
    range
}

/// The least x of the points of `old` and `new` from the point before the first one
/// that differs (and of the pieces after its piece), or `None` when they are the same.
fn first_change_x(old: &Line, new: &Line) -> Option<f32> {
    let bits = |p: &(f32, f32)| (p.0.to_bits(), p.1.to_bits());
    let least_x = |points: &mut dyn Iterator<Item = &(f32, f32)>| {
        points.map(|p| p.0).fold(f32::INFINITY, f32::min)
    };
    for (k, (a, b)) in old.pieces.iter().zip(&new.pieces).enumerate() {
        let same = a
            .iter()
            .zip(b)
            .take_while(|(p, q)| bits(p) == bits(q))
            .count();
        if same == a.len() && same == b.len() {
            continue;
        }
        // The segment into the first point that differs and the join before it changed.
        let from = same.saturating_sub(1);
        let later = old.pieces[k + 1..]
            .iter()
            .chain(&new.pieces[k + 1..])
            .flatten();
        return Some(least_x(
            &mut a[from..].iter().chain(&b[from..]).chain(later),
        ));
    }
    // Pieces of their own (each is a polyline of its own) after the common ones.
    let common = old.pieces.len().min(new.pieces.len());
    let rest = old.pieces[common..].iter().chain(&new.pieces[common..]);
    (old.pieces.len() != new.pieces.len()).then(|| least_x(&mut rest.flatten()))
}
