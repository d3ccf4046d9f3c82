//! The whole image: background, chart title, and the layout grid that gives each panel
//! its rectangle, title and padding; each panel is then drawn by its kind.

use crate::canvas::{Canvas, Rect};
use crate::data::{Data, Timestamp};
use crate::layout::{PanelLayout, PADDING};
use crate::notes;
use crate::panels::{bar, gauge, note, stat, timeseries, PanelContext};
use crate::redraw::PlotMemo;
use crate::spec::PanelKind;
use crate::text::{self, FontBook, GlyphCache, HAlign, TextStyle, VAlign};
use crate::valid::ValidSpec;

const TITLE_SIZE: f32 = 16.0;
const PANEL_TITLE_SIZE: f32 = 13.0;

/// The area the layout grid covers: the image but its outer gap and the chart title.
pub(crate) fn grid_area(fonts: &FontBook, spec: &ValidSpec) -> Rect {
    let s = spec.spec();
    let mut grid = spec.grid.area(s.width, s.height);
    if s.title.is_some() {
        let (ascent, descent) = fonts.vertical_metrics(TITLE_SIZE);
        grid.y0 += (ascent - descent).ceil() + spec.grid.gap * 0.5;
    }
    grid
}

/// Where the grid and each panel lie in the image `spec` draws.
pub(crate) fn layout(fonts: &FontBook, spec: &ValidSpec) -> PanelLayout {
    let area = grid_area(fonts, spec);
    let corners = |r: Rect| [r.x0, r.y0, r.x1, r.y1];
    PanelLayout {
        columns: spec.grid.columns,
        rows: spec.grid.rows,
        area: corners(area),
        gap: spec.grid.gap,
        panels: spec
            .grid
            .cells
            .iter()
            .copied()
            .zip(spec.grid.cell_rects(area).into_iter().map(corners))
            .collect(),
    }
}

/// Draws every part of `spec` onto `canvas` (already cleared to the background).
pub(crate) fn draw(
    canvas: &mut Canvas,
    glyphs: &mut GlyphCache,
    plots: &mut [PlotMemo],
    fonts: &FontBook,
    spec: &ValidSpec,
    data: &Data,
    now: Timestamp,
) {
    let s = spec.spec();
    let theme = &spec.theme;
    let grid = grid_area(fonts, spec);
    if let Some(title) = &s.title {
        let line = fonts.ellipsize(title, TITLE_SIZE, grid.width());
        let style = TextStyle::new(TITLE_SIZE, theme.text).anchored(HAlign::Left, VAlign::Top);
        let top = spec.grid.area(s.width, s.height).y0;
        text::draw_text(canvas, glyphs, fonts, &line, grid.x0 + 2.0, top, style);
    }
    let cells = spec.grid.cell_rects(grid);
    let panels = s.panels.iter().zip(&spec.panels).zip(cells).zip(plots);
    for (((panel, valid), outer), plot) in panels {
        // Only a time series panel's plot keeps what its lines drew.
        if panel.kind != PanelKind::Timeseries || outer.is_empty() {
            plot.forget(0);
        }
        if outer.is_empty() {
            continue;
        }
        if theme.panel != theme.background {
            canvas.fill_rect_crisp(outer, theme.panel);
        }
        let mut area = outer.inset(PADDING, PADDING, PADDING, PADDING);
        if let Some(title) = &panel.title {
            let (ascent, descent) = fonts.vertical_metrics(PANEL_TITLE_SIZE);
            let line = fonts.ellipsize(title, PANEL_TITLE_SIZE, area.width());
            let style =
                TextStyle::new(PANEL_TITLE_SIZE, theme.text).anchored(HAlign::Left, VAlign::Top);
            text::draw_text(canvas, glyphs, fonts, &line, area.x0, area.y0, style);
            area.y0 += (ascent - descent).ceil() + 6.0;
        }
        if area.is_empty() {
            plot.forget(0);
            continue;
        }
        let mut context = PanelContext {
            canvas: &mut *canvas,
            glyphs: &mut *glyphs,
            fonts,
            theme,
            tz: spec.tz,
            spec: panel,
            panel: valid,
            data,
            now,
            area,
            plot: &mut *plot,
        };
        match panel.kind {
            PanelKind::Timeseries => timeseries::draw(&mut context),
            PanelKind::Bar => bar::draw(&mut context),
            PanelKind::Gauge => gauge::draw(&mut context),
            PanelKind::Stat => stat::draw(&mut context),
            PanelKind::Text => note::draw(&mut context),
        }
    }
    notes::draw(canvas, glyphs, fonts, &data.notes, spec.tz);
}
