//! The text panel: a heading or note, word-wrapped to the panel width.

use crate::panels::PanelContext;
use crate::text::TextStyle;

pub(crate) fn draw(ctx: &mut PanelContext) {
    let size = ctx.panel.font_size;
    let Some(body) = ctx.spec.text.as_deref() else {
        return;
    };
    let (ascent, descent) = ctx.fonts.vertical_metrics(size);
    let line_height = ((ascent - descent) * 1.25).ceil();
    let style = TextStyle::new(size, ctx.theme.text);
    let mut y = ctx.area.y0;
    ctx.canvas.clip_to(ctx.area);
    for line in wrap(ctx, body, size) {
        if y >= ctx.area.y1 {
            break;
        }
        ctx.draw_text(&line, ctx.area.x0, y, style);
        y += line_height;
    }
    ctx.canvas.unclip();
}

/// Splits `body` into lines no wider than the panel, at spaces where possible.
fn wrap(ctx: &PanelContext, body: &str, size: f32) -> Vec<String> {
    let width = ctx.area.width();
    let mut lines = Vec::new();
    for paragraph in body.split('\n') {
        let mut current = String::new();
        for word in paragraph.split(' ') {
            let candidate = if current.is_empty() {
                word.to_string()
            } else {
                format!("{current} {word}")
            };
            if ctx.fonts.text_width(&candidate, size) <= width || current.is_empty() {
                current = candidate;
            } else {
                lines.push(std::mem::take(&mut current));
                current = word.to_string();
            }
            // A single word wider than the panel: break it by characters.
            while ctx.fonts.text_width(&current, size) > width && current.chars().count() > 1 {
                let mut head: Vec<char> = current.chars().collect();
                let mut tail = Vec::new();
                while head.len() > 1
                    && ctx.fonts.text_width(&head.iter().collect::<String>(), size) > width
                {
                    if let Some(c) = head.pop() {
                        tail.insert(0, c);
                    }
                }
                lines.push(head.into_iter().collect());
                current = tail.into_iter().collect();
            }
        }
        lines.push(current);
    }
    lines
}
