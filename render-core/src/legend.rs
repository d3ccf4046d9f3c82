//! Legends: a colour swatch, the series label and optional last/min/max/avg values,
//! flowing in rows (top, bottom) or stacked in a column (right).

use crate::canvas::{Canvas, Rect};
use crate::color::{Rgba, Theme};
use crate::spec::{LegendPosition, LegendValue};
use crate::stats::Stats;
use crate::text::{self, FontBook, GlyphCache, TextStyle, VAlign};

const SIZE: f32 = 11.0;
const ROW: f32 = 16.0;
const SWATCH: f32 = 12.0;
const ITEM_GAP: f32 = 14.0;

/// One legend entry.
pub(crate) struct LegendItem {
    pub label: String,
    pub color: Rgba,
    /// Summary values, already written (`last 12.3  max 40`).
    pub values: String,
}

/// The text of the chosen summary values for a series.
pub(crate) fn summary(
    values: &[LegendValue],
    stats: &Stats,
    write: impl Fn(f64) -> String,
) -> String {
    let seen = stats.count > 0;
    let parts: Vec<String> = values
        .iter()
        .map(|kind| {
            let (name, value) = match kind {
                LegendValue::Last => ("last", stats.last),
                LegendValue::Min => ("min", seen.then_some(stats.min)),
                LegendValue::Max => ("max", seen.then_some(stats.max)),
                LegendValue::Avg => ("avg", stats.mean()),
            };
            format!("{name} {}", value.map_or_else(|| "–".to_string(), &write))
        })
        .collect();
    parts.join("  ")
}

fn item_width(fonts: &FontBook, item: &LegendItem) -> f32 {
    let values = if item.values.is_empty() {
        0.0
    } else {
        6.0 + fonts.text_width(&item.values, SIZE)
    };
    SWATCH + 5.0 + fonts.text_width(&item.label, SIZE) + values
}

/// Splits `area` into (plot, legend) for `items` at `position`.
pub(crate) fn reserve(
    fonts: &FontBook,
    items: &[LegendItem],
    position: LegendPosition,
    area: Rect,
) -> (Rect, Rect) {
    if items.is_empty() || position == LegendPosition::None {
        return (area, Rect::new(area.x0, area.y1, area.x1, area.y1));
    }
    match position {
        LegendPosition::Right => {
            let widest = items
                .iter()
                .map(|i| item_width(fonts, i))
                .fold(0.0, f32::max);
            let width = widest.min(area.width() * 0.4).ceil();
            let plot = Rect::new(area.x0, area.y0, area.x1 - width - 10.0, area.y1);
            (plot, Rect::new(area.x1 - width, area.y0, area.x1, area.y1))
        }
        _ => {
            let rows = flow(fonts, items, area.width())
                .iter()
                .map(|(row, _)| *row)
                .max()
                .unwrap_or(0)
                + 1;
            let height = (rows as f32 * ROW).min(area.height() * 0.4).floor();
            if position == LegendPosition::Top {
                (
                    Rect::new(area.x0, area.y0 + height + 4.0, area.x1, area.y1),
                    Rect::new(area.x0, area.y0, area.x1, area.y0 + height),
                )
            } else {
                (
                    Rect::new(area.x0, area.y0, area.x1, area.y1 - height - 4.0),
                    Rect::new(area.x0, area.y1 - height, area.x1, area.y1),
                )
            }
        }
    }
}

/// Row index and x offset of each item when items flow left to right in `width` px.
fn flow(fonts: &FontBook, items: &[LegendItem], width: f32) -> Vec<(usize, f32)> {
    let mut placed = Vec::with_capacity(items.len());
    let (mut row, mut x) = (0, 0.0);
    for item in items {
        let w = item_width(fonts, item);
        if x > 0.0 && x + w > width {
            row += 1;
            x = 0.0;
        }
        placed.push((row, x));
        x += w + ITEM_GAP;
    }
    placed
}

/// Draws the legend into `area` (as returned by [`reserve`]).
pub(crate) fn draw(
    canvas: &mut Canvas,
    glyphs: &mut GlyphCache,
    fonts: &FontBook,
    theme: &Theme,
    items: &[LegendItem],
    position: LegendPosition,
    area: Rect,
) {
    if items.is_empty() || position == LegendPosition::None || area.height() < ROW - 1.0 {
        return;
    }
    let places: Vec<(usize, f32)> = match position {
        LegendPosition::Right => (0..items.len()).map(|i| (i, 0.0)).collect(),
        _ => flow(fonts, items, area.width()),
    };
    for (item, (row, offset)) in items.iter().zip(places) {
        let top = area.y0 + row as f32 * ROW;
        if top + ROW > area.y1 + 1.0 {
            break;
        }
        let x = (area.x0 + offset).round();
        let middle = (top + ROW * 0.5).round();
        canvas.fill_rect_crisp(
            Rect::new(x, middle - 2.0, x + SWATCH, middle + 1.0),
            item.color,
        );
        let label_x = x + SWATCH + 5.0;
        let room = area.x1 - label_x;
        let label = fonts.ellipsize(&item.label, SIZE, room);
        let style = TextStyle::new(SIZE, theme.text).anchored(text::HAlign::Left, VAlign::Middle);
        let used = text::draw_text(canvas, glyphs, fonts, &label, label_x, middle, style);
        if !item.values.is_empty() {
            let values_x = label_x + used + 6.0;
            let values = fonts.ellipsize(&item.values, SIZE, area.x1 - values_x);
            let muted = TextStyle {
                color: theme.muted,
                ..style
            };
            text::draw_text(canvas, glyphs, fonts, &values, values_x, middle, muted);
        }
    }
}
