//! Direct manipulation on the preview: a press on a panel selects it; dragging it moves
//! it to the grid cell under the pointer, dragging its bottom-right corner resizes it
//! (its spans), and while it is dragged the target cells are outlined, marked when the
//! drop would be refused ([`Gesture::drop_at`]); arrow keys move the selected panel a cell, Shift+arrows resize it; the
//! grid gains or loses columns and rows. Each gesture is one edit of the spec (one undo
//! step), computed here from the rendered geometry ([`PanelLayout`]) without touching
//! the DOM.

use render_core::spec::{Cell, Layout};
use render_core::{PanelLayout, Spec};

/// How close (in image px) to a panel's bottom-right corner a press starts a resize.
pub const CORNER_PX: f32 = 14.0;

/// A drag in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gesture {
    /// Moving a panel.
    Move {
        /// Which.
        panel: usize,
        /// Where it is held: cells right of and below its top-left cell.
        grab: (u32, u32),
    },
    /// Resizing a panel from its bottom-right corner.
    Resize {
        /// Which.
        panel: usize,
    },
}

impl Gesture {
    /// The gesture a press at `(x, y)` (image px) starts, if it is on a panel.
    pub fn start(layout: &PanelLayout, x: f32, y: f32) -> Option<Gesture> {
        let panel = layout.panel_at(x, y)?;
        let (cell, [_, _, x1, y1]) = layout.panels[panel];
        if x1 - x <= CORNER_PX && y1 - y <= CORNER_PX {
            return Some(Gesture::Resize { panel });
        }
        let (col, row) = layout.cell_at(x, y);
        let grab = (col.saturating_sub(cell.col), row.saturating_sub(cell.row));
        Some(Gesture::Move { panel, grab })
    }

    /// The panel it acts on.
    pub fn panel(&self) -> usize {
        match *self {
            Gesture::Move { panel, .. } | Gesture::Resize { panel } => panel,
        }
    }

    /// The panel's cell if the pointer were released at `(x, y)`, kept inside the grid.
    pub fn target(&self, layout: &PanelLayout, x: f32, y: f32) -> Option<Cell> {
        let (cell, _) = *layout.panels.get(self.panel())?;
        let (col, row) = layout.cell_at(x, y);
        Some(match *self {
            Gesture::Move { grab, .. } => Cell {
                col: col
                    .saturating_sub(grab.0)
                    .min(layout.columns.saturating_sub(cell.col_span)),
                row: row
                    .saturating_sub(grab.1)
                    .min(layout.rows.saturating_sub(cell.row_span)),
                ..cell
            },
            Gesture::Resize { .. } => Cell {
                col_span: col.max(cell.col) - cell.col + 1,
                row_span: row.max(cell.row) - cell.row + 1,
                ..cell
            },
        })
    }
}

/// Where releasing a drag would put its panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Drop {
    /// The panel's cell after the drop.
    pub cell: Cell,
    /// The rectangle it would get, `[x0, y0, x1, y1]` in image pixels.
    pub rect: [f32; 4],
    /// Why the drop would be refused, if it would.
    pub refused: Option<String>,
}

impl Gesture {
    /// Where releasing at `(x, y)` would put the panel of `spec`, drawn as `layout`,
    /// and whether [`place`] would take it.
    pub fn drop_at(&self, spec: &Spec, layout: &PanelLayout, x: f32, y: f32) -> Option<Drop> {
        let cell = self.target(layout, x, y)?;
        let refused = place(&mut spec.clone(), layout, self.panel(), cell).err();
        Some(Drop {
            cell,
            rect: layout.cell_rect(&cell),
            refused,
        })
    }
}

/// A key on the focused preview: which way, and whether it resizes (Shift).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nudge {
    /// Columns right (negative: left).
    pub cols: i32,
    /// Rows down (negative: up).
    pub rows: i32,
    /// Change the spans instead of the position.
    pub resize: bool,
}

impl Nudge {
    /// The nudge of `key` (`ArrowLeft`, ...), if it is an arrow key.
    pub fn of_key(key: &str, shift: bool) -> Option<Nudge> {
        let (cols, rows) = match key {
            "ArrowLeft" => (-1, 0),
            "ArrowRight" => (1, 0),
            "ArrowUp" => (0, -1),
            "ArrowDown" => (0, 1),
            _ => return None,
        };
        Some(Nudge {
            cols,
            rows,
            resize: shift,
        })
    }

    /// Panel `panel`'s cell after this nudge, kept inside the grid (spans at least 1).
    pub fn target(&self, layout: &PanelLayout, panel: usize) -> Option<Cell> {
        let (cell, _) = *layout.panels.get(panel)?;
        let shift = |value: u32, by: i32| value.saturating_add_signed(by);
        Some(if self.resize {
            Cell {
                col_span: shift(cell.col_span, self.cols)
                    .clamp(1, layout.columns.saturating_sub(cell.col).max(1)),
                row_span: shift(cell.row_span, self.rows)
                    .clamp(1, layout.rows.saturating_sub(cell.row).max(1)),
                ..cell
            }
        } else {
            Cell {
                col: shift(cell.col, self.cols).min(layout.columns.saturating_sub(cell.col_span)),
                row: shift(cell.row, self.rows).min(layout.rows.saturating_sub(cell.row_span)),
                ..cell
            }
        })
    }
}

/// Puts panel `panel` at `target` in `spec`, every panel pinned to the cell it has in
/// `layout`. Panels `target` would cover move to where `panel` was, if they fit there
/// and cover nothing (a swap); otherwise the move is refused with a message.
pub fn place(
    spec: &mut Spec,
    layout: &PanelLayout,
    panel: usize,
    target: Cell,
) -> Result<(), String> {
    let mut cells: Vec<Cell> = layout.panels.iter().map(|(cell, _)| *cell).collect();
    let old = *cells.get(panel).ok_or("no such panel")?;
    cells[panel] = target;
    let displaced: Vec<usize> = (0..cells.len())
        .filter(|&i| i != panel && overlap(&cells[i], &target))
        .collect();
    for &i in &displaced {
        let moved = Cell {
            col: old.col,
            row: old.row,
            ..cells[i]
        };
        let fits = moved.col + moved.col_span <= layout.columns
            && moved.row + moved.row_span <= layout.rows;
        let free = (0..cells.len()).all(|j| j == i || !overlap(&cells[j], &moved));
        if !(fits && free) {
            return Err(format!(
                "panel {} is in the way: move or resize it first",
                i + 1
            ));
        }
        cells[i] = moved;
    }
    for (spec_panel, cell) in spec.panels.iter_mut().zip(cells) {
        spec_panel.cell = Some(cell);
    }
    Ok(())
}

/// Adds (`+1`) or removes (`-1`) grid columns and rows, every panel pinned to the cell
/// it has in `layout`; refused while a panel uses the column or row that would go.
pub fn resize_grid(
    spec: &mut Spec,
    layout: &PanelLayout,
    columns: i32,
    rows: i32,
) -> Result<(), String> {
    let count = |now: u32, by: i32| now.saturating_add_signed(by).clamp(1, MAX_GRID);
    let (new_columns, new_rows) = (count(layout.columns, columns), count(layout.rows, rows));
    for (i, (cell, _)) in layout.panels.iter().enumerate() {
        if cell.col + cell.col_span > new_columns || cell.row + cell.row_span > new_rows {
            return Err(format!(
                "panel {} uses the last {}: move or resize it first",
                i + 1,
                if columns < 0 { "column" } else { "row" }
            ));
        }
    }
    for (spec_panel, (cell, _)) in spec.panels.iter_mut().zip(&layout.panels) {
        spec_panel.cell = Some(*cell);
    }
    let gap = spec.layout.as_ref().and_then(|l| l.gap);
    spec.layout = Some(Layout {
        columns: new_columns,
        rows: new_rows,
        gap,
    });
    Ok(())
}

/// Most grid columns or rows a spec may have.
const MAX_GRID: u32 = 16;

fn overlap(a: &Cell, b: &Cell) -> bool {
    a.col < b.col + b.col_span
        && b.col < a.col + a.col_span
        && a.row < b.row + b.row_span
        && b.row < a.row + a.row_span
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    /// Two panels side by side on a 3×2 grid of 100×100 px cells (no gap).
    fn two_panels() -> (Spec, PanelLayout) {
        let spec = Spec::from_json(
            r#"{"version":1,"width":300,"height":200,"layout":{"columns":3,"rows":2},
                "panels":[{"kind":"text","text":"a"},{"kind":"text","text":"b"}]}"#,
        )
        .expect("spec");
        let cell = |col, row| Cell {
            col,
            row,
            col_span: 1,
            row_span: 1,
        };
        let rect = |c: &Cell| {
            let (x, y) = (c.col as f32 * 100.0, c.row as f32 * 100.0);
            [x, y, x + 100.0, y + 100.0]
        };
        let cells = [cell(0, 0), cell(1, 0)];
        let layout = PanelLayout {
            columns: 3,
            rows: 2,
            area: [0.0, 0.0, 300.0, 200.0],
            gap: 0.0,
            panels: cells.iter().map(|c| (*c, rect(c))).collect(),
        };
        (spec, layout)
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn dragging_a_panel_moves_it_to_the_cell_under_the_pointer() {
        let (mut spec, layout) = two_panels();
        let drag = Gesture::start(&layout, 50.0, 50.0).expect("on panel 1");
        assert_eq!(
            drag,
            Gesture::Move {
                panel: 0,
                grab: (0, 0)
            }
        );
        let target = drag.target(&layout, 250.0, 150.0).expect("a cell");
        assert_eq!((target.col, target.row), (2, 1));
        place(&mut spec, &layout, 0, target).expect("a free cell");
        assert_eq!(spec.panels[0].cell, Some(target));
        assert_eq!(
            spec.panels[1].cell.map(|c| (c.col, c.row)),
            Some((1, 0)),
            "pinned"
        );
        assert!(render_core::validate(spec).is_ok());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn dropping_on_another_panel_swaps_them_and_the_corner_resizes() {
        let (mut spec, layout) = two_panels();
        let drag = Gesture::start(&layout, 20.0, 20.0).expect("on panel 1");
        let target = drag.target(&layout, 120.0, 20.0).expect("a cell");
        place(&mut spec, &layout, 0, target).expect("a swap");
        assert_eq!(spec.panels[1].cell.map(|c| (c.col, c.row)), Some((0, 0)));
        let (mut spec, layout) = two_panels();
        let resize = Gesture::start(&layout, 195.0, 95.0).expect("panel 2's corner");
        assert_eq!(resize, Gesture::Resize { panel: 1 });
        let target = resize.target(&layout, 280.0, 180.0).expect("a cell");
        assert_eq!((target.col_span, target.row_span), (2, 2));
        place(&mut spec, &layout, 1, target).expect("room to grow");
        assert!(render_core::validate(spec).is_ok());
        // Growing over a panel that cannot move into the old place is refused.
        let (mut spec, layout) = two_panels();
        let over = Cell {
            col: 0,
            row: 0,
            col_span: 2,
            row_span: 1,
        };
        assert!(place(&mut spec, &layout, 1, over).is_err());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_drag_outlines_its_target_cells_and_says_when_they_are_refused() {
        let (spec, layout) = two_panels();
        let cell = |c: &(Cell, [f32; 4])| layout.cell_rect(&c.0);
        assert_eq!(
            cell(&layout.panels[1]),
            layout.panels[1].1,
            "a panel's own cell"
        );
        let drag = Gesture::start(&layout, 50.0, 50.0).expect("on panel 1");
        let free = drag.drop_at(&spec, &layout, 250.0, 150.0).expect("a cell");
        assert_eq!(free.rect, [200.0, 100.0, 300.0, 200.0]);
        assert_eq!(free.refused, None);
        assert_eq!((free.cell.col, free.cell.row), (2, 1));
        // Widening panel 2 over panel 1, which cannot take its place: refused.
        let resize = Gesture::start(&layout, 195.0, 95.0).expect("panel 2's corner");
        let grow = resize.drop_at(&spec, &layout, 280.0, 20.0).expect("a cell");
        assert_eq!(grow.rect, [100.0, 0.0, 300.0, 100.0]);
        assert_eq!(grow.refused, None, "room on the right");
        // Panel 1 dropped on tall panel 2's lower cell: panel 2 does not fit in
        // panel 1's bottom-row cell, so the drop is refused.
        let mut tall = layout.clone();
        tall.panels[0] = (
            Cell {
                col: 0,
                row: 1,
                col_span: 1,
                row_span: 1,
            },
            [0.0, 100.0, 100.0, 200.0],
        );
        tall.panels[1].0.row_span = 2;
        tall.panels[1].1 = [100.0, 0.0, 200.0, 200.0];
        let drag = Gesture::start(&tall, 50.0, 150.0).expect("on panel 1");
        let over = drag.drop_at(&spec, &tall, 150.0, 150.0).expect("a cell");
        assert_eq!(over.rect, [100.0, 100.0, 200.0, 200.0]);
        let reason = over.refused.expect("panel 2 cannot move to row 0 alone");
        assert!(reason.contains("panel 2"), "{reason}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_grid_grows_and_shrinks_but_not_under_a_panel() {
        let (mut spec, layout) = two_panels();
        resize_grid(&mut spec, &layout, 1, -1).expect("room");
        let grid = spec.layout.as_ref().map(|l| (l.columns, l.rows));
        assert_eq!(grid, Some((4, 1)));
        assert!(render_core::validate(spec.clone()).is_ok());
        let mut narrow = layout.clone();
        narrow.columns = 2;
        let error = resize_grid(&mut spec, &narrow, -1, 0).expect_err("panel 2 in the way");
        assert!(error.contains("panel 2"), "{error}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn arrow_keys_move_and_shift_arrows_resize_within_the_grid() {
        let (_, layout) = two_panels();
        let right = Nudge::of_key("ArrowRight", false).expect("an arrow");
        assert_eq!(right.target(&layout, 1,).map(|c| c.col), Some(2));
        let mut edge = layout.clone();
        edge.panels[1].0.col = 2;
        assert_eq!(
            right.target(&edge, 1).map(|c| c.col),
            Some(2),
            "stays inside"
        );
        let grow = Nudge::of_key("ArrowDown", true).expect("an arrow");
        assert_eq!(grow.target(&layout, 0).map(|c| c.row_span), Some(2));
        let shrink = Nudge::of_key("ArrowUp", true).expect("an arrow");
        assert_eq!(
            shrink.target(&layout, 0).map(|c| c.row_span),
            Some(1),
            "at least 1"
        );
        assert_eq!(Nudge::of_key("a", false), None);
    }
}
