//! The whole image: background, chart title, and the layout grid that gives each panel
//! its rectangle, title and padding.

use crate::canvas::{Canvas, Rect};
use crate::data::{Data, Timestamp};
use crate::panels::PanelContext;
use crate::spec::PanelKind;
use crate::text::{self, FontBook, HAlign, TextStyle, VAlign};
use crate::validate::ValidSpec;

const TITLE_SIZE: f32 = 16.0;
const PANEL_TITLE_SIZE: f32 = 13.0;
const PADDING: f32 = 10.0;

/// The outer rectangle of each panel's grid cell inside `grid`, in panel order.
fn cell_rects(spec: &ValidSpec, grid: Rect) -> Vec<Rect> {
    let gap = spec.spec().layout.as_ref().and_then(|l| l.gap).unwrap_or(8) as f32;
    let cell_w = (grid.width() - gap * (spec.columns as f32 - 1.0)) / spec.columns as f32;
    let cell_h = (grid.height() - gap * (spec.rows as f32 - 1.0)) / spec.rows as f32;
    spec.cells
        .iter()
        .map(|cell| {
            let x0 = (grid.x0 + cell.col as f32 * (cell_w + gap)).round();
            let y0 = (grid.y0 + cell.row as f32 * (cell_h + gap)).round();
            let x1 =
                (x0 + cell_w * cell.col_span as f32 + gap * (cell.col_span as f32 - 1.0)).round();
            let y1 =
                (y0 + cell_h * cell.row_span as f32 + gap * (cell.row_span as f32 - 1.0)).round();
            Rect::new(x0, y0, x1, y1)
        })
        .collect()
}

/// Milliseconds the fastest time axis of `spec` takes to move one pixel, or `None` when
/// no panel draws over time. Slightly less than the truth (the plot is a little
/// narrower than its panel), so a stream re-rendering this often never lags a pixel.
pub(crate) fn time_resolution_ms(spec: &ValidSpec) -> Option<i64> {
    let s = spec.spec();
    let gap = s.layout.as_ref().and_then(|l| l.gap).unwrap_or(8) as f32;
    let grid = Rect::new(gap, gap, s.width as f32 - gap, s.height as f32 - gap);
    s.panels
        .iter()
        .zip(cell_rects(spec, grid))
        .zip(&spec.windows)
        .filter(|((panel, _), _)| matches!(panel.kind, PanelKind::Timeseries | PanelKind::Stat))
        .map(|((_, rect), window)| {
            (*window as f64 / (rect.width() - 2.0 * PADDING).max(1.0) as f64) as i64
        })
        .min()
        .map(|ms| ms.max(1))
}

/// Draws every part of `spec` onto `canvas` (already cleared to the background).
pub(crate) fn draw(
    canvas: &mut Canvas,
    fonts: &FontBook,
    spec: &ValidSpec,
    data: &Data,
    now: Timestamp,
) {
    let s = spec.spec();
    let theme = &spec.theme;
    let gap = s.layout.as_ref().and_then(|l| l.gap).unwrap_or(8) as f32;
    let mut grid = Rect::new(
        gap,
        gap,
        canvas.width() as f32 - gap,
        canvas.height() as f32 - gap,
    );
    if let Some(title) = &s.title {
        let (ascent, descent) = fonts.vertical_metrics(TITLE_SIZE);
        let line = fonts.ellipsize(title, TITLE_SIZE, grid.width());
        let style = TextStyle::new(TITLE_SIZE, theme.text).anchored(HAlign::Left, VAlign::Top);
        text::draw_text(canvas, fonts, &line, grid.x0 + 2.0, grid.y0, style);
        grid.y0 += (ascent - descent).ceil() + gap * 0.5;
    }
    for ((index, panel), outer) in s.panels.iter().enumerate().zip(cell_rects(spec, grid)) {
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
            text::draw_text(canvas, fonts, &line, area.x0, area.y0, style);
            area.y0 += (ascent - descent).ceil() + 6.0;
        }
        if area.is_empty() {
            continue;
        }
        let mut context = PanelContext {
            canvas: &mut *canvas,
            fonts,
            theme,
            tz: spec.tz,
            panel,
            data,
            now,
            window_ms: spec.windows[index],
            area,
        };
        context.draw();
    }
}
