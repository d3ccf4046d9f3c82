//! The layout grid: where each panel's cell lies in the image, and the padding a panel
//! keeps inside its cell; [`PanelLayout`], the same geometry for hit-testing (the
//! editor's direct manipulation).

use crate::canvas::Rect;
use crate::spec::Cell;

/// Padding inside each panel's cell, in px.
pub(crate) const PADDING: f32 = 10.0;

/// The grid panels sit on, resolved by validation: its size, the gap and each panel's
/// cell.
#[derive(Debug, Clone)]
pub(crate) struct Grid {
    pub columns: u32,
    pub rows: u32,
    /// Gap between cells and around the grid, in px.
    pub gap: f32,
    /// Each panel's cell, in panel order.
    pub cells: Vec<Cell>,
}

impl Grid {
    /// The area the grid covers in a `width`×`height` image: all of it but the outer gap.
    pub fn area(&self, width: u32, height: u32) -> Rect {
        let gap = self.gap;
        Rect::new(gap, gap, width as f32 - gap, height as f32 - gap)
    }

    /// The outer rectangle of each panel's cell when the grid covers `area`, in panel
    /// order.
    pub fn cell_rects(&self, area: Rect) -> Vec<Rect> {
        self.cells
            .iter()
            .map(|cell| cell_rect(area, self.columns, self.rows, self.gap, cell))
            .collect()
    }
}

/// The outer rectangle of `cell` on a grid of `columns`×`rows` with `gap` covering
/// `area`, on whole pixels.
fn cell_rect(area: Rect, columns: u32, rows: u32, gap: f32, cell: &Cell) -> Rect {
    let (columns, rows) = (columns as f32, rows as f32);
    let cell_w = (area.width() - gap * (columns - 1.0)) / columns;
    let cell_h = (area.height() - gap * (rows - 1.0)) / rows;
    let x0 = (area.x0 + cell.col as f32 * (cell_w + gap)).round();
    let y0 = (area.y0 + cell.row as f32 * (cell_h + gap)).round();
    let x1 = (x0 + cell_w * cell.col_span as f32 + gap * (cell.col_span as f32 - 1.0)).round();
    let y1 = (y0 + cell_h * cell.row_span as f32 + gap * (cell.row_span as f32 - 1.0)).round();
    Rect::new(x0, y0, x1, y1)
}

/// Where the grid and each panel lie in a rendered image (from
/// [`crate::Renderer::layout`]), in image pixels: what the editor hit-tests clicks and
/// drags against.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PanelLayout {
    /// Grid columns.
    pub columns: u32,
    /// Grid rows.
    pub rows: u32,
    /// The area the grid covers, `[x0, y0, x1, y1]` (the image but its outer gap and
    /// the chart title).
    pub area: [f32; 4],
    /// Gap between cells, in px.
    pub gap: f32,
    /// Each panel's cell (as placed, also when the spec gives none) and rectangle
    /// `[x0, y0, x1, y1]`, in panel order.
    pub panels: Vec<(Cell, [f32; 4])>,
}

impl PanelLayout {
    /// The panel whose rectangle holds `(x, y)`.
    pub fn panel_at(&self, x: f32, y: f32) -> Option<usize> {
        self.panels
            .iter()
            .position(|(_, [x0, y0, x1, y1])| (*x0..*x1).contains(&x) && (*y0..*y1).contains(&y))
    }

    /// The grid cell `(col, row)` under `(x, y)`, clamped to the grid.
    pub fn cell_at(&self, x: f32, y: f32) -> (u32, u32) {
        let [x0, y0, x1, y1] = self.area;
        let along = |pos: f32, start: f32, end: f32, count: u32| {
            let step = (end - start + self.gap) / count.max(1) as f32;
            let index = ((pos - start) / step).floor();
            if index.is_nan() || index < 0.0 {
                0
            } else {
                (index as u32).min(count.saturating_sub(1))
            }
        };
        (along(x, x0, x1, self.columns), along(y, y0, y1, self.rows))
    }

    /// The rectangle `[x0, y0, x1, y1]` a panel placed at `cell` would get (the editor
    /// outlines a drag's target with it).
    pub fn cell_rect(&self, cell: &Cell) -> [f32; 4] {
        let [x0, y0, x1, y1] = self.area;
        let area = Rect::new(x0, y0, x1, y1);
        let r = cell_rect(area, self.columns, self.rows, self.gap, cell);
        [r.x0, r.y0, r.x1, r.y1]
    }
}
