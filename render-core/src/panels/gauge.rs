//! The gauge panel: a 270° arc from min to max per series, filled up to the latest
//! value in its threshold colour, threshold steps on an outer ring, value in the middle.

use std::f32::consts::PI;

use crate::canvas::Rect;
use crate::color::Rgba;
use crate::panels::{PanelContext, TICK_SIZE};
use crate::text::{HAlign, TextStyle, VAlign};

const START: f32 = PI * 0.75;
const SWEEP: f32 = PI * 1.5;

pub(crate) fn draw(ctx: &mut PanelContext) {
    ctx.per_series_cells(|ctx, cell, s, labelled| {
        gauge(
            ctx,
            cell,
            &s.short_label,
            s.latest.map(|p| p.v),
            s.color,
            labelled,
        )
    });
}

fn gauge(
    ctx: &mut PanelContext,
    cell: Rect,
    label: &str,
    value: Option<f64>,
    base: Rgba,
    labelled: bool,
) {
    let (min, max) = ctx.panel.gauge_range;
    let radius = (cell.width() * 0.5 - 6.0).min(cell.height() * 0.55 - 4.0);
    if radius < 8.0 {
        return;
    }
    let thickness = (radius * 0.18).clamp(4.0, 28.0);
    let center = (
        (cell.x0 + cell.x1) * 0.5,
        cell.y0 + radius + 6.0 + thickness * 0.5,
    );
    let fraction = |v: f64| (((v - min) / (max - min)).clamp(0.0, 1.0)) as f32;
    ctx.canvas.stroke_arc(
        center,
        radius,
        START,
        START + SWEEP,
        thickness,
        ctx.theme.grid,
    );
    // Threshold steps as a thin outer ring.
    let mut steps: Vec<(f64, Rgba)> = ctx
        .panel
        .thresholds
        .iter()
        .map(|t| (t.value, t.color))
        .collect();
    steps.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (i, (from, color)) in steps.iter().enumerate() {
        let to = steps.get(i + 1).map_or(max, |s| s.0);
        let (a, b) = (fraction(*from), fraction(to));
        if b > a {
            let ring = radius + thickness * 0.5 + 3.0;
            ctx.canvas.stroke_arc(
                center,
                ring,
                START + SWEEP * a,
                START + SWEEP * b,
                3.0,
                *color,
            );
        }
    }
    let format = ctx.value_format();
    let value_size = (radius * 0.42).clamp(10.0, 72.0);
    match value {
        Some(v) => {
            let color = ctx.threshold_color(v, base);
            let f = fraction(v);
            if f > 0.0 {
                ctx.canvas
                    .stroke_arc(center, radius, START, START + SWEEP * f, thickness, color);
            }
            let text = ctx
                .fonts
                .ellipsize(&format.write(v, 0.0), value_size, radius * 1.6);
            let style =
                TextStyle::new(value_size, ctx.theme.text).anchored(HAlign::Center, VAlign::Middle);
            ctx.draw_text(&text, center.0, center.1, style);
        }
        None => {
            let style = TextStyle::new(TICK_SIZE + 2.0, ctx.theme.muted)
                .anchored(HAlign::Center, VAlign::Middle);
            ctx.draw_text("No data", center.0, center.1, style);
        }
    }
    let ends = TextStyle::new(TICK_SIZE, ctx.theme.muted).anchored(HAlign::Center, VAlign::Top);
    let end_y = center.1 + radius * 0.72 + thickness * 0.5;
    let dx = radius * 0.72;
    ctx.draw_text(&format.write(min, 0.0), center.0 - dx, end_y, ends);
    ctx.draw_text(&format.write(max, 0.0), center.0 + dx, end_y, ends);
    if labelled {
        // Under the value, inside the arc's opening.
        let name = ctx.fonts.ellipsize(label, TICK_SIZE + 1.0, radius * 1.3);
        let style =
            TextStyle::new(TICK_SIZE + 1.0, ctx.theme.muted).anchored(HAlign::Center, VAlign::Top);
        ctx.draw_text(&name, center.0, center.1 + value_size * 0.6, style);
    }
}
