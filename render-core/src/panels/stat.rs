//! The stat panel: per series the latest value in big type (threshold colour), its label,
//! and a sparkline of the window underneath.

use crate::canvas::Rect;
use crate::m4;
use crate::panels::{DrawnSeries, PanelContext, LABEL_SIZE};
use crate::text::{HAlign, TextStyle, VAlign};

pub(crate) fn draw(ctx: &mut PanelContext) {
    ctx.per_series_cells(|ctx, cell, s, labelled| {
        stat(ctx, cell.inset(4.0, 0.0, 4.0, 0.0), s, labelled)
    });
}

fn stat(ctx: &mut PanelContext, cell: Rect, series: &DrawnSeries, labelled: bool) {
    if cell.is_empty() {
        return;
    }
    let spark = Rect::new(cell.x0, cell.y0 + cell.height() * 0.62, cell.x1, cell.y1);
    sparkline(ctx, spark, series);
    let format = ctx.value_format();
    let label_room = if labelled { LABEL_SIZE + 6.0 } else { 0.0 };
    let text_area = Rect::new(cell.x0, cell.y0, cell.x1, spark.y0 - label_room);
    let (text, color) = match series.latest {
        Some(p) => (
            format.write(p.v, 0.0),
            ctx.threshold_color(p.v, ctx.theme.text),
        ),
        None => ("No data".to_string(), ctx.theme.muted),
    };
    // The largest size at which the value fits the width and the height.
    let mut size = (text_area.height() * 0.9).clamp(8.0, 160.0);
    let width_at_size = ctx.fonts.text_width(&text, size);
    if width_at_size > text_area.width() && width_at_size > 0.0 {
        size = (size * text_area.width() / width_at_size).floor().max(8.0);
    }
    let style = TextStyle::new(size, color).anchored(HAlign::Center, VAlign::Middle);
    let shown = ctx.fonts.ellipsize(&text, size, text_area.width());
    ctx.draw_text(
        &shown,
        (cell.x0 + cell.x1) * 0.5,
        (text_area.y0 + text_area.y1) * 0.5,
        style,
    );
    if labelled {
        let name = ctx
            .fonts
            .ellipsize(&series.short_label, LABEL_SIZE, cell.width());
        let style =
            TextStyle::new(LABEL_SIZE, ctx.theme.muted).anchored(HAlign::Center, VAlign::Bottom);
        ctx.draw_text(&name, (cell.x0 + cell.x1) * 0.5, spark.y0 - 2.0, style);
    }
}

fn sparkline(ctx: &mut PanelContext, rect: Rect, series: &DrawnSeries) {
    if series.stats.count == 0 {
        return;
    }
    let (lo, hi) = (series.stats.min, series.stats.max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let start = ctx.start();
    let window = ctx.panel.window_ms.max(1) as f64;
    let x_of = |t: i64| rect.x0 + ((t - start) as f64 / window * rect.width() as f64) as f32;
    let y_of = |v: f64| rect.y1 - 1.0 - (((v - lo) / span) * (rect.height() - 3.0) as f64) as f32;
    for run in m4::downsample_runs(&series.points, x_of) {
        let line: Vec<(f32, f32)> = run.into_iter().map(|(x, v)| (x, y_of(v))).collect();
        let (Some(first), Some(last)) = (line.first().copied(), line.last().copied()) else {
            continue;
        };
        let mut area = line.clone();
        area.push((last.0, rect.y1));
        area.push((first.0, rect.y1));
        ctx.canvas
            .fill_polygon(&area, series.color.with_opacity(0.18));
        ctx.canvas.stroke_polyline(&line, 1.5, series.color);
    }
}
