//! Source notes: a source that did not answer is said on the chart, bottom right
//! ("prom unreachable since 14:03:07"), over what it still draws from its last answer.

use chrono::TimeZone;
use chrono_tz::Tz;

use crate::canvas::{Canvas, Rect};
use crate::color::Rgba;
use crate::data::SourceNote;
use crate::text::{self, FontBook, GlyphCache, HAlign, TextStyle, VAlign};

const NOTE_SIZE: f32 = 12.0;
/// Okabe–Ito vermillion: a warning that reads on the light and the dark themes.
const NOTE_BACKGROUND: Rgba = Rgba::rgb(0xd5, 0x5e, 0x00);
const NOTE_TEXT: Rgba = Rgba::rgb(0xff, 0xff, 0xff);

/// The text of a note, its time written in `tz`.
pub(crate) fn note_text(note: &SourceNote, tz: Tz) -> String {
    let since = tz
        .timestamp_millis_opt(note.since_ms)
        .single()
        .map(|t| t.format("%H:%M:%S").to_string())
        .unwrap_or_default();
    format!("{} {} since {since}", note.source, note.problem)
}

/// Draws each note on its own line in the bottom-right corner, the last one lowest.
pub(crate) fn draw(
    canvas: &mut Canvas,
    glyphs: &mut GlyphCache,
    fonts: &FontBook,
    notes: &[SourceNote],
    tz: Tz,
) {
    let (ascent, descent) = fonts.vertical_metrics(NOTE_SIZE);
    let line = (ascent - descent).ceil() + 4.0;
    let (width, height) = (canvas.width() as f32, canvas.height() as f32);
    let mut bottom = height - 2.0;
    for note in notes.iter().rev() {
        let text = fonts.ellipsize(&note_text(note, tz), NOTE_SIZE, width - 12.0);
        let text_width = fonts.text_width(&text, NOTE_SIZE);
        let x0 = (width - text_width - 10.0).max(0.0);
        let rect = Rect::new(
            x0.floor(),
            (bottom - line).floor(),
            width - 2.0,
            bottom.floor(),
        );
        if rect.y0 < 0.0 {
            break;
        }
        canvas.fill_rect_crisp(rect, NOTE_BACKGROUND);
        let style = TextStyle::new(NOTE_SIZE, NOTE_TEXT).anchored(HAlign::Right, VAlign::Middle);
        let middle = (rect.y0 + rect.y1) * 0.5;
        text::draw_text(canvas, glyphs, fonts, &text, width - 6.0, middle, style);
        bottom = rect.y0 - 2.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Data, Point, Series};
    use crate::{validate, Frame, Renderer, Spec};

    fn frame(data: &Data) -> Vec<u8> {
        let json = r#"{"version":1,"width":320,"height":160,"panels":[{"kind":"stat",
            "series":[{"source":"prom","query":"sum(up)"}]}]}"#;
        let spec = validate(Spec::from_json(json).expect("spec")).expect("valid");
        let mut frame = Frame::default();
        Renderer::default().render(&spec, data, 60_000, &mut frame);
        frame.rgb().to_vec()
    }

    fn answer(source: Option<&str>) -> Series {
        Series {
            metric: "sum(up)".into(),
            source: source.map(String::from),
            tags: Default::default(),
            points: vec![Point { t: 50_000, v: 3.0 }],
        }
    }

    #[test]
    fn a_query_draws_its_sources_answer_and_a_note_shows_on_it() {
        let empty = frame(&Data::default());
        let builtin = frame(&Data {
            series: vec![answer(None)],
            notes: Vec::new(),
        });
        assert_eq!(
            empty, builtin,
            "a built-in series of that name is not the query's"
        );
        let drawn = Data {
            series: vec![answer(Some("prom"))],
            notes: Vec::new(),
        };
        let with_value = frame(&drawn);
        assert_ne!(with_value, empty, "the query's answer is drawn");
        let noted = Data {
            notes: vec![SourceNote {
                source: "prom".into(),
                problem: "unreachable".into(),
                since_ms: 45_296_000,
            }],
            ..drawn
        };
        assert_ne!(frame(&noted), with_value, "the note is drawn");
        assert_eq!(
            note_text(&noted.notes[0], Tz::UTC),
            "prom unreachable since 12:34:56"
        );
    }
}
