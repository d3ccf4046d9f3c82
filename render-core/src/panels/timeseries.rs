//! The time series panel: a rolling window ending at "now" (moved up to the end of its
//! column, so frames between two columns redraw only what changed), value axis with nice
//! ticks, round-time axis in the chart's zone, thresholds, legend, and series drawn as
//! lines, areas, stacked areas, steps, bars or points (M4-downsampled first).

use crate::canvas::Rect;
use crate::color::Rgba;
use crate::data::Timestamp;
use crate::legend::{self, LegendItem};
use crate::m4;
use crate::panels::axis::ValueAxis;
use crate::panels::{DrawnSeries, PanelContext, TICK_SIZE};
use crate::redraw::{self, Line};
use crate::spec::{LegendPosition, NumberFormat, Scale, SeriesStyle};
use crate::text::{HAlign, TextStyle, VAlign};
use crate::ticks::{self, ValueTicks};
use crate::transform;

/// Maps values and times of one plot to pixels.
pub(crate) struct Plot {
    pub rect: Rect,
    pub start: Timestamp,
    /// Pixels per millisecond.
    pub x_scale: f64,
    pub ticks: ValueTicks,
    pub log: bool,
}

impl Plot {
    pub fn x(&self, t: Timestamp) -> f32 {
        self.rect.x0 + ((t - self.start) as f64 * self.x_scale) as f32
    }

    /// Pixel y of `v`; NaN when the value cannot be shown (≤ 0 on a log axis).
    pub fn y(&self, v: f64) -> f32 {
        let (min, max) = (self.ticks.min, self.ticks.max);
        let fraction = if self.log {
            if v <= 0.0 {
                return f32::NAN;
            }
            (libm::log10(v) - libm::log10(min)) / (libm::log10(max) - libm::log10(min))
        } else {
            (v - min) / (max - min)
        };
        // Far-off values are clamped so pixel maths stays finite; the clip hides them.
        let fraction = fraction.clamp(-10.0, 11.0);
        self.rect.y1 - (fraction * self.rect.height() as f64) as f32
    }

    /// y of the line areas and bars grow from: zero if visible, else the bottom.
    pub fn baseline(&self) -> f32 {
        if !self.log && self.ticks.min < 0.0 && self.ticks.max > 0.0 {
            self.y(0.0)
        } else {
            self.rect.y1
        }
    }
}

pub(crate) fn draw(ctx: &mut PanelContext) {
    // The window ends on the panel's column grid (its aggregation columns, a little
    // finer than the plot's pixels): between two columns a frame draws every point
    // where the last one did, so it redraws only what changed (`crate::redraw`).
    ctx.now = on_column_grid(
        ctx.now,
        transform::column_ms(ctx.panel.window_ms, ctx.area.width()),
    );
    let series = ctx.resolve_series();
    let format = ctx.value_format();
    let style = ctx.panel.style;
    let legend_spec = &ctx.panel.legend;
    let items: Vec<LegendItem> = series
        .iter()
        .map(|s| LegendItem {
            label: s.label.clone(),
            color: s.color,
            values: legend::summary(&legend_spec.values, &s.stats, |v| format.write(v, 0.0)),
        })
        .collect();
    let position = if series.is_empty() {
        LegendPosition::None
    } else {
        legend_spec.position
    };
    let (area, legend_area) = legend::reserve(ctx.fonts, &items, position, ctx.area);

    let (ascent, descent) = ctx.fonts.vertical_metrics(TICK_SIZE);
    let line = ascent - descent;
    let top = area.y0 + (line * 0.5).ceil();
    let bottom = area.y1 - line - 4.0;
    let stacked = style == SeriesStyle::StackedArea;
    let log = ctx.panel.axis.scale == Scale::Log;
    let value_ticks = value_ticks(ctx, &series, stacked, log, style, (bottom - top).max(1.0));
    // Log ticks have no common step: each label is exact at its own magnitude.
    let Some(axis) = ValueAxis::layout(ctx, value_ticks, log, area, top, bottom) else {
        return;
    };
    let rect = axis.rect;
    let plot = Plot {
        rect,
        start: ctx.start(),
        x_scale: rect.width() as f64 / ctx.panel.window_ms.max(1) as f64,
        ticks: axis.ticks.clone(),
        log,
    };

    axis.draw(ctx, |v| plot.y(v));
    let muted = TextStyle::new(TICK_SIZE, ctx.theme.muted);
    let tz = ctx.tz;
    let fonts = ctx.fonts;
    let time_ticks = ticks::time(plot.start, ctx.now, rect.width(), tz, 14.0, &|s| {
        fonts.text_width(s, TICK_SIZE)
    });
    for tick in &time_ticks {
        let x = plot.x(tick.t).floor();
        ctx.canvas.vline(x, rect.y0, rect.y1, ctx.theme.grid);
        let half = ctx.fonts.text_width(&tick.label, TICK_SIZE) * 0.5;
        if x - half >= ctx.area.x0 && x + half <= ctx.area.x1 {
            let style = muted.anchored(HAlign::Center, VAlign::Top);
            ctx.draw_text(&tick.label, x + 0.5, rect.y1 + 3.0, style);
        }
    }

    draw_thresholds(ctx, &plot);
    ctx.canvas.clip_to(rect);
    let redrawable = matches!(style, SeriesStyle::Line | SeriesStyle::Step)
        && series.iter().all(|s| s.fill <= 0.0);
    if redrawable {
        let lines = series
            .iter()
            .map(|s| Line {
                color: s.color,
                width: s.width,
                pieces: line_pieces(&plot, s, style),
            })
            .collect();
        redraw::draw_lines(ctx.canvas, ctx.plot, lines);
    } else {
        ctx.plot.forget(ctx.canvas.clip_pixels().width());
        if stacked {
            draw_stacked(ctx, &plot, &series);
        } else {
            for s in &series {
                draw_series(ctx, &plot, s, style);
            }
        }
    }
    ctx.canvas.unclip();
    ctx.canvas.hline(rect.x0, rect.x1, rect.y1, ctx.theme.axis);

    if series.iter().all(|s| s.stats.count == 0) {
        ctx.no_data(rect);
    }
    legend::draw(
        ctx.canvas,
        ctx.glyphs,
        ctx.fonts,
        ctx.theme,
        &items,
        position,
        legend_area,
    );
}

fn value_ticks(
    ctx: &PanelContext,
    series: &[DrawnSeries],
    stacked: bool,
    log: bool,
    style: SeriesStyle,
    height: f32,
) -> ValueTicks {
    let axis = &ctx.panel.axis;
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    let mut take = |v: f64| {
        if v.is_finite() && (!log || v > 0.0) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    };
    if stacked {
        let (start, span, width) = (
            ctx.start(),
            ctx.panel.window_ms.max(1) as f64,
            ctx.area.width() as f64,
        );
        for column in stack_columns(series, |t| ((t - start) as f64 / span * width).floor()) {
            column.iter().for_each(|v| take(*v));
        }
    } else {
        for s in series.iter().filter(|s| s.stats.count > 0) {
            take(if log {
                s.stats.min_positive
            } else {
                s.stats.min
            });
            take(s.stats.max);
        }
    }
    if !log
        && matches!(
            style,
            SeriesStyle::Area | SeriesStyle::StackedArea | SeriesStyle::Bars
        )
    {
        take(0.0);
    }
    if let Some(min) = axis.min {
        lo = min;
    }
    if let Some(max) = axis.max {
        hi = max;
    }
    if !lo.is_finite() || !hi.is_finite() {
        // No data: a plain 0..1 (or 1..10) axis.
        (lo, hi) = if log { (1.0, 10.0) } else { (0.0, 1.0) };
    }
    // Keep the axis inside what f64 pixel maths can take.
    let (lo, hi) = (lo.clamp(-1e300, 1e300), hi.clamp(-1e300, 1e300));
    if log {
        ticks::log10(lo, hi, axis.min.is_some(), axis.max.is_some())
    } else {
        let target = ((height / 45.0) as usize).clamp(2, 10);
        if axis.format == NumberFormat::Bytes {
            ticks::binary(lo, hi, target, axis.min.is_some(), axis.max.is_some())
        } else {
            ticks::linear(lo, hi, target, axis.min.is_some(), axis.max.is_some())
        }
    }
}

fn draw_thresholds(ctx: &mut PanelContext, plot: &Plot) {
    let rect = plot.rect;
    ctx.canvas.clip_to(rect);
    for threshold in &ctx.panel.thresholds {
        let color = threshold.color;
        let y = plot.y(threshold.value);
        match threshold.to {
            Some(to) => {
                let y2 = plot.y(to);
                let band = Rect::new(rect.x0, y2.min(y), rect.x1, y2.max(y));
                let corners = [
                    (band.x0, band.y0),
                    (band.x1, band.y0),
                    (band.x1, band.y1),
                    (band.x0, band.y1),
                ];
                ctx.canvas.fill_polygon(&corners, color.with_opacity(0.15));
            }
            None => {
                let mut x = rect.x0;
                while x < rect.x1 {
                    ctx.canvas.hline(x, (x + 6.0).min(rect.x1), y, color);
                    x += 10.0;
                }
            }
        }
        if let Some(label) = &threshold.label {
            let style = TextStyle::new(TICK_SIZE, color).anchored(HAlign::Right, VAlign::Bottom);
            ctx.draw_text(label, rect.x1 - 4.0, y.round() - 2.0, style);
        }
    }
    ctx.canvas.unclip();
}

/// Splits pixel points into polylines at non-finite coordinates.
fn finite_pieces(points: Vec<(f32, f32)>) -> Vec<Vec<(f32, f32)>> {
    let mut pieces = vec![Vec::new()];
    for p in points {
        if p.0.is_finite() && p.1.is_finite() {
            if let Some(last) = pieces.last_mut() {
                last.push(p);
            }
        } else if pieces.last().is_some_and(|l| !l.is_empty()) {
            pieces.push(Vec::new());
        }
    }
    pieces.retain(|p| !p.is_empty());
    pieces
}

/// The window end `now` moved up to the end of its column of `column_ms` (counted from
/// the epoch, as the aggregation columns are).
fn on_column_grid(now: Timestamp, column_ms: i64) -> Timestamp {
    let column_ms = column_ms.max(1);
    now.div_euclid(column_ms)
        .saturating_add(i64::from(now.rem_euclid(column_ms) != 0))
        .saturating_mul(column_ms)
}

/// `series` in pixels, M4-downsampled, as pieces between gaps; for `style` steps, each
/// piece as its step line.
fn line_pieces(plot: &Plot, series: &DrawnSeries, style: SeriesStyle) -> Vec<Vec<(f32, f32)>> {
    m4::downsample_runs(&series.points, |t| plot.x(t))
        .into_iter()
        .flat_map(|reduced| finite_pieces(reduced.iter().map(|&(x, v)| (x, plot.y(v))).collect()))
        .map(|piece| match style {
            SeriesStyle::Step => steps(&piece),
            _ => piece,
        })
        .collect()
}

fn draw_series(ctx: &mut PanelContext, plot: &Plot, series: &DrawnSeries, style: SeriesStyle) {
    let baseline = plot.baseline();
    for piece in line_pieces(plot, series, style) {
        match style {
            SeriesStyle::Line
            | SeriesStyle::Area
            | SeriesStyle::StackedArea
            | SeriesStyle::Step => {
                if series.fill > 0.0 {
                    fill_under(
                        ctx,
                        &piece,
                        baseline,
                        series.color.with_opacity(series.fill),
                    );
                }
                ctx.canvas
                    .stroke_polyline(&piece, series.width, series.color);
            }
            SeriesStyle::Bars => draw_bars(ctx, &piece, baseline, series),
            SeriesStyle::Points => {
                for &(x, y) in &piece {
                    ctx.canvas
                        .fill_circle(x, y, series.width * 1.25, series.color);
                }
            }
        }
    }
}

fn fill_under(ctx: &mut PanelContext, line: &[(f32, f32)], baseline: f32, color: Rgba) {
    let (Some(first), Some(last)) = (line.first(), line.last()) else {
        return;
    };
    let mut polygon = Vec::with_capacity(line.len() + 2);
    polygon.push((first.0, baseline));
    polygon.extend_from_slice(line);
    polygon.push((last.0, baseline));
    ctx.canvas.fill_polygon(&polygon, color);
}

/// A step line: each value holds until the next point.
fn steps(line: &[(f32, f32)]) -> Vec<(f32, f32)> {
    let mut stepped = Vec::with_capacity(line.len() * 2);
    for (i, &p) in line.iter().enumerate() {
        if i > 0 {
            stepped.push((p.0, line[i - 1].1));
        }
        stepped.push(p);
    }
    stepped
}

fn draw_bars(ctx: &mut PanelContext, points: &[(f32, f32)], baseline: f32, series: &DrawnSeries) {
    let mut spacing: Vec<f32> = points
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .filter(|d| *d > 0.0)
        .collect();
    spacing.sort_by(f32::total_cmp);
    let typical = spacing.get(spacing.len() / 2).copied().unwrap_or(8.0);
    let half = (typical * 0.4).clamp(0.5, 20.0);
    for &(x, y) in points {
        let (top, bottom) = (y.min(baseline), y.max(baseline));
        let corners = [
            (x - half, top),
            (x + half, top),
            (x + half, bottom),
            (x - half, bottom),
        ];
        ctx.canvas
            .fill_polygon(&corners, series.color.with_opacity(0.85));
    }
}

/// Per pixel column, each series' value (held forward between its points, never before
/// its first or after its last point), summed bottom-up. `x_of` maps time to column.
fn stack_columns(series: &[DrawnSeries], x_of: impl Fn(Timestamp) -> f64) -> Vec<Vec<f64>> {
    let columns = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| x_of(p.t)))
        .fold(0.0f64, f64::max)
        .clamp(0.0, 8192.0) as usize
        + 1;
    let mut sums = vec![0.0f64; columns];
    let mut layers = Vec::with_capacity(series.len());
    for s in series {
        let mut own = vec![f64::NAN; columns];
        for p in s.points.iter().filter(|p| p.v.is_finite()) {
            let c = x_of(p.t).clamp(0.0, (columns - 1) as f64) as usize;
            own[c] = p.v;
        }
        let first = own.iter().position(|v| v.is_finite());
        let last = own.iter().rposition(|v| v.is_finite());
        let mut held = f64::NAN;
        let mut layer = vec![f64::NAN; columns];
        if let (Some(first), Some(last)) = (first, last) {
            for c in first..=last {
                if own[c].is_finite() {
                    held = own[c];
                }
                sums[c] += held;
                layer[c] = sums[c];
            }
        }
        layers.push(layer);
    }
    layers
}

fn draw_stacked(ctx: &mut PanelContext, plot: &Plot, series: &[DrawnSeries]) {
    let x0 = plot.rect.x0 as f64;
    let layers = stack_columns(series, |t| (plot.x(t) as f64 - x0).floor());
    let mut below: Vec<f64> = vec![f64::NAN; layers.first().map_or(0, Vec::len)];
    for (layer, s) in layers.iter().zip(series) {
        let columns: Vec<usize> = (0..layer.len()).filter(|c| layer[*c].is_finite()).collect();
        let top: Vec<(f32, f32)> = columns
            .iter()
            .map(|&c| (plot.rect.x0 + c as f32 + 0.5, plot.y(layer[c])))
            .collect();
        if !top.is_empty() {
            let mut polygon = top.clone();
            for &c in columns.iter().rev() {
                let base = if below[c].is_finite() {
                    plot.y(below[c])
                } else {
                    plot.baseline()
                };
                polygon.push((plot.rect.x0 + c as f32 + 0.5, base));
            }
            ctx.canvas
                .fill_polygon(&polygon, s.color.with_opacity(s.fill.max(0.25)));
            ctx.canvas.stroke_polyline(&top, s.width.min(1.5), s.color);
        }
        for c in columns {
            below[c] = layer[c];
        }
    }
}
