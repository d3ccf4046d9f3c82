//! The value axis shared by time series and bar panels: tick labels measured first so
//! the plot starts right of the widest, then grid lines with right-aligned labels.

use crate::canvas::Rect;
use crate::panels::{PanelContext, TICK_SIZE};
use crate::text::{HAlign, TextStyle, VAlign};
use crate::ticks::ValueTicks;

/// A laid-out value axis: the plot rectangle right of its labels.
pub(crate) struct ValueAxis {
    /// Where the data is drawn.
    pub rect: Rect,
    /// The ticks the labels stand for.
    pub ticks: ValueTicks,
    labels: Vec<String>,
}

impl ValueAxis {
    /// Lays out `ticks` in `area` between `top` and `bottom`; `None` when no plot fits.
    /// Log ticks are each written exact at their own magnitude (they share no step).
    pub fn layout(
        ctx: &PanelContext,
        ticks: ValueTicks,
        log: bool,
        area: Rect,
        top: f32,
        bottom: f32,
    ) -> Option<ValueAxis> {
        let format = ctx.value_format();
        let labels: Vec<String> = ticks
            .ticks
            .iter()
            .map(|v| format.write(*v, if log { *v } else { ticks.step }))
            .collect();
        let label_width = labels
            .iter()
            .map(|l| ctx.fonts.text_width(l, TICK_SIZE))
            .fold(0.0f32, f32::max);
        let rect = Rect::new(
            (area.x0 + label_width + 8.0).round(),
            top.round(),
            area.x1.round(),
            bottom.round(),
        );
        (!rect.is_empty()).then_some(ValueAxis {
            rect,
            ticks,
            labels,
        })
    }

    /// Draws a grid line and a label at each tick; `y_of` maps a value to pixels.
    pub fn draw(&self, ctx: &mut PanelContext, y_of: impl Fn(f64) -> f32) {
        let style =
            TextStyle::new(TICK_SIZE, ctx.theme.muted).anchored(HAlign::Right, VAlign::Middle);
        for (value, label) in self.ticks.ticks.iter().zip(&self.labels) {
            let y = y_of(*value).round();
            ctx.canvas.hline(
                self.rect.x0,
                self.rect.x1,
                y.min(self.rect.y1 - 1.0),
                ctx.theme.grid,
            );
            ctx.draw_text(label, self.rect.x0 - 6.0, y, style);
        }
    }
}
