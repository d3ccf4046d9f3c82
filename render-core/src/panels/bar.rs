//! The bar panel: one bar per series, its latest value, on a value axis with nice
//! ticks; bars take threshold colours. Bars are plotters `Rectangle` elements drawn
//! through our backend.

use plotters::prelude::*;

use crate::backend::SkiaBackend;
use crate::panels::axis::ValueAxis;
use crate::panels::{PanelContext, TICK_SIZE};
use crate::text::{self, HAlign, TextStyle, VAlign};
use crate::ticks;

pub(super) fn draw(ctx: &mut PanelContext) {
    let series = ctx.resolve_series();
    let format = ctx.value_format();
    let bars: Vec<(String, f64, crate::color::Rgba)> = series
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
    let axis = ctx.panel.y_axis.clone().unwrap_or_default();
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
    {
        let root = SkiaBackend::new(ctx.canvas, ctx.fonts).into_drawing_area();
        for (i, (_, value, color)) in bars.iter().enumerate() {
            let middle = rect.x0 + slot * (i as f32 + 0.5);
            let y = y_of(*value);
            let corners = [
                ((middle - half).round() as i32, y.min(zero).round() as i32),
                (
                    (middle + half).round() as i32 - 1,
                    y.max(zero).round() as i32 - 1,
                ),
            ];
            let fill = RGBAColor(color.r, color.g, color.b, color.a as f64 / 255.0).filled();
            // Drawing into our own canvas cannot fail (the backend's error type is Infallible).
            let _ = root.draw(&Rectangle::new(corners, fill));
        }
    }
    for (i, (label, value, _)) in bars.iter().enumerate() {
        let middle = rect.x0 + slot * (i as f32 + 0.5);
        let y = y_of(*value);
        let text = format.write(*value, 0.0);
        let value_style =
            TextStyle::new(TICK_SIZE, ctx.theme.text).anchored(HAlign::Center, VAlign::Bottom);
        let shown = ctx.fonts.ellipsize(&text, TICK_SIZE, slot - 2.0);
        text::draw_text(
            ctx.canvas,
            ctx.fonts,
            &shown,
            middle,
            y.min(zero) - 2.0,
            value_style,
        );
        let name = ctx.fonts.ellipsize(label, TICK_SIZE, slot - 4.0);
        text::draw_text(
            ctx.canvas,
            ctx.fonts,
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
