//! The bar panel: one bar per series, its latest value, on a value axis with nice
//! ticks; bars take threshold colours and are filled on whole pixels.

use crate::canvas::Rect;
use crate::color::Rgba;
use crate::panels::axis::ValueAxis;
use crate::panels::{PanelContext, TICK_SIZE};
use crate::text::{HAlign, TextStyle, VAlign};
use crate::ticks;

pub(crate) fn draw(ctx: &mut PanelContext) {
    let series = ctx.resolve_series();
    let format = ctx.value_format();
    let bars: Vec<(String, f64, Rgba)> = series
        .iter()
        .filter_map(|s| {
            s.latest.map(|p| {
                (
                    s.short_label.clone(),
                    p.v,
                    ctx.threshold_color(p.v, s.color),
                )
            })
        })
        .collect();
    let (ascent, descent) = ctx.fonts.vertical_metrics(TICK_SIZE);
    let line = ascent - descent;
    let area = ctx.area;
    let axis = &ctx.panel.axis;
    let lo = bars
        .iter()
        .map(|b| b.1)
        .fold(0.0f64, f64::min)
        .clamp(-1e300, 1e300);
    let hi = bars
        .iter()
        .map(|b| b.1)
        .fold(0.0f64, f64::max)
        .clamp(-1e300, 1e300);
    let (lo, hi) = (axis.min.unwrap_or(lo), axis.max.unwrap_or(hi));
    let top = area.y0 + line + 4.0; // room for the value above the tallest bar
    let bottom = area.y1 - line - 4.0;
    let target = (((bottom - top) / 45.0) as usize).clamp(2, 10);
    let value_ticks = ticks::linear(lo, hi, target, axis.min.is_some(), axis.max.is_some());
    let Some(axis) = ValueAxis::layout(ctx, value_ticks, false, area, top, bottom) else {
        return;
    };
    let rect = axis.rect;
    let (min, max) = (axis.ticks.min, axis.ticks.max);
    let y_of = |v: f64| {
        rect.y1 - (((v.clamp(min, max) - min) / (max - min)) * rect.height() as f64) as f32
    };
    let muted = TextStyle::new(TICK_SIZE, ctx.theme.muted);
    axis.draw(ctx, y_of);
    if bars.is_empty() {
        ctx.no_data(rect);
        return;
    }
    let slot = rect.width() / bars.len() as f32;
    let half = (slot * 0.35).max(0.5);
    let zero = y_of(0.0_f64.clamp(min, max));
    for (i, (_, value, color)) in bars.iter().enumerate() {
        let middle = rect.x0 + slot * (i as f32 + 0.5);
        let y = y_of(*value);
        let bar = Rect::new(middle - half, y.min(zero), middle + half, y.max(zero));
        ctx.canvas.fill_rect_crisp(bar, *color);
    }
    for (i, (label, value, _)) in bars.iter().enumerate() {
        let middle = rect.x0 + slot * (i as f32 + 0.5);
        let y = y_of(*value);
        let text = format.write(*value, 0.0);
        let value_style =
            TextStyle::new(TICK_SIZE, ctx.theme.text).anchored(HAlign::Center, VAlign::Bottom);
        let shown = ctx.fonts.ellipsize(&text, TICK_SIZE, slot - 2.0);
        ctx.draw_text(&shown, middle, y.min(zero) - 2.0, value_style);
        let name = ctx.fonts.ellipsize(label, TICK_SIZE, slot - 4.0);
        ctx.draw_text(
            &name,
            middle,
            rect.y1 + 3.0,
            muted.anchored(HAlign::Center, VAlign::Top),
        );
    }
    ctx.canvas.hline(
        rect.x0,
        rect.x1,
        zero.round().min(rect.y1 - 1.0),
        ctx.theme.axis,
    );
}
