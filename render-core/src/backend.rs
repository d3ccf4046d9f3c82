//! `plotters_backend::DrawingBackend` over our [`Canvas`]: plotters elements and drawing
//! areas draw anti-aliased through tiny-skia and our rasterizer, and text through our
//! fonts (plotters' own text path panics on wasm32 and measures through the DOM there).

use std::convert::Infallible;

use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
    FontTransform,
};

use crate::canvas::{Canvas, Rect};
use crate::color::Rgba;
use crate::text::{self, FontBook, HAlign, Rotation, TextStyle, VAlign};

/// A plotters backend drawing into a borrowed canvas.
pub struct SkiaBackend<'a> {
    canvas: &'a mut Canvas,
    fonts: &'a FontBook,
}

impl<'a> SkiaBackend<'a> {
    /// Wraps `canvas` for plotters.
    pub fn new(canvas: &'a mut Canvas, fonts: &'a FontBook) -> SkiaBackend<'a> {
        SkiaBackend { canvas, fonts }
    }
}

type DrawResult = Result<(), DrawingErrorKind<Infallible>>;

fn rgba(color: BackendColor) -> Rgba {
    let (r, g, b) = color.rgb;
    Rgba {
        r,
        g,
        b,
        a: (color.alpha.clamp(0.0, 1.0) * 255.0 + 0.5) as u8,
    }
}

fn center(point: BackendCoord) -> (f32, f32) {
    (point.0 as f32 + 0.5, point.1 as f32 + 0.5)
}

impl DrawingBackend for SkiaBackend<'_> {
    type ErrorType = Infallible;

    fn get_size(&self) -> (u32, u32) {
        (self.canvas.width(), self.canvas.height())
    }

    fn ensure_prepared(&mut self) -> DrawResult {
        Ok(())
    }

    fn present(&mut self) -> DrawResult {
        Ok(())
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> DrawResult {
        self.canvas.blend(point.0, point.1, rgba(color), 1.0);
        Ok(())
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> DrawResult {
        self.draw_path([from, to], style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> DrawResult {
        let color = rgba(style.color());
        let rect = Rect::new(
            upper_left.0 as f32,
            upper_left.1 as f32,
            bottom_right.0 as f32 + 1.0,
            bottom_right.1 as f32 + 1.0,
        );
        if fill {
            self.canvas.fill_rect_crisp(rect, color);
        } else {
            self.canvas.hline(rect.x0, rect.x1, rect.y0, color);
            self.canvas.hline(rect.x0, rect.x1, rect.y1 - 1.0, color);
            self.canvas.vline(rect.x0, rect.y0, rect.y1, color);
            self.canvas.vline(rect.x1 - 1.0, rect.y0, rect.y1, color);
        }
        Ok(())
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> DrawResult {
        let points: Vec<(f32, f32)> = path.into_iter().map(center).collect();
        let width = style.stroke_width().max(1) as f32;
        self.canvas
            .stroke_polyline(&points, width, rgba(style.color()));
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        middle: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> DrawResult {
        let (cx, cy) = center(middle);
        let color = rgba(style.color());
        if fill {
            self.canvas.fill_circle(cx, cy, radius as f32, color);
        } else {
            let width = style.stroke_width().max(1) as f32;
            self.canvas.stroke_arc(
                (cx, cy),
                radius as f32,
                0.0,
                std::f32::consts::TAU,
                width,
                color,
            );
        }
        Ok(())
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> DrawResult {
        let points: Vec<(f32, f32)> = vert.into_iter().map(center).collect();
        self.canvas.fill_polygon(&points, rgba(style.color()));
        Ok(())
    }

    fn draw_text<T: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &T,
        pos: BackendCoord,
    ) -> DrawResult {
        let h_align = match style.anchor().h_pos {
            HPos::Left => HAlign::Left,
            HPos::Center => HAlign::Center,
            HPos::Right => HAlign::Right,
        };
        let v_align = match style.anchor().v_pos {
            VPos::Top => VAlign::Top,
            VPos::Center => VAlign::Middle,
            VPos::Bottom => VAlign::Bottom,
        };
        let rotation = match style.transform() {
            FontTransform::Rotate90 => Rotation::Cw90,
            FontTransform::Rotate270 => Rotation::Ccw90,
            _ => Rotation::None,
        };
        let text_style = TextStyle::new(style.size() as f32, rgba(style.color()))
            .anchored(h_align, v_align)
            .rotated(rotation);
        text::draw_text(
            self.canvas,
            self.fonts,
            text,
            pos.0 as f32,
            pos.1 as f32,
            text_style,
        );
        Ok(())
    }

    fn estimate_text_size<T: BackendTextStyle>(
        &self,
        text: &str,
        style: &T,
    ) -> Result<(u32, u32), DrawingErrorKind<Infallible>> {
        let size = style.size() as f32;
        let width = self.fonts.text_width(text, size).ceil() as u32;
        let (ascent, descent) = self.fonts.vertical_metrics(size);
        let height = (ascent - descent).ceil() as u32;
        Ok(match style.transform() {
            FontTransform::Rotate90 | FontTransform::Rotate270 => (height, width),
            _ => (width, height),
        })
    }
}
