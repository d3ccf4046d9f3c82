//! Colours: CSS hex parsing, the themes and the colour-blind-safe default palette.

use crate::spec::ThemeName;

/// A straight (not premultiplied) RGBA colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgba {
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
    /// Opacity, 255 = opaque.
    pub a: u8,
}

impl Rgba {
    /// An opaque colour.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Rgba {
        Rgba { r, g, b, a: 255 }
    }

    /// The same colour with opacity `alpha` (0..=1) applied on top of its own.
    pub fn with_opacity(self, alpha: f32) -> Rgba {
        let a = (self.a as f32 * alpha.clamp(0.0, 1.0) + 0.5) as u8;
        Rgba { a, ..self }
    }

    /// Parses `#rgb`, `#rrggbb` or `#rrggbbaa`.
    pub fn parse(text: &str) -> Option<Rgba> {
        let hex = text.strip_prefix('#')?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let digit = |i: usize| u8::from_str_radix(&hex[i..i + 1], 16).ok();
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        match hex.len() {
            3 => Some(Rgba::rgb(digit(0)? * 17, digit(1)? * 17, digit(2)? * 17)),
            6 => Some(Rgba::rgb(byte(0)?, byte(2)?, byte(4)?)),
            8 => Some(Rgba {
                r: byte(0)?,
                g: byte(2)?,
                b: byte(4)?,
                a: byte(6)?,
            }),
            _ => None,
        }
    }
}

/// The Okabe–Ito palette (Okabe & Ito 2008), distinguishable with every common colour
/// vision deficiency; black is replaced by a grey that reads on both themes.
pub const DEFAULT_PALETTE: [Rgba; 8] = [
    Rgba::rgb(0x00, 0x72, 0xB2), // blue
    Rgba::rgb(0xE6, 0x9F, 0x00), // orange
    Rgba::rgb(0x00, 0x9E, 0x73), // bluish green
    Rgba::rgb(0xCC, 0x79, 0xA7), // reddish purple
    Rgba::rgb(0x56, 0xB4, 0xE9), // sky blue
    Rgba::rgb(0xD5, 0x5E, 0x00), // vermillion
    Rgba::rgb(0xF0, 0xE4, 0x42), // yellow
    Rgba::rgb(0x99, 0x99, 0x99), // grey
];

/// The resolved colours of one chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    /// Image background.
    pub background: Rgba,
    /// Panel background.
    pub panel: Rgba,
    /// Main text.
    pub text: Rgba,
    /// Secondary text.
    pub muted: Rgba,
    /// Grid lines.
    pub grid: Rgba,
    /// Axis base lines.
    pub axis: Rgba,
    /// Series colours in order.
    pub palette: Vec<Rgba>,
}

impl Theme {
    /// The built-in theme `name` (validation applies a spec's colour overrides on top).
    pub fn builtin(name: ThemeName) -> Theme {
        match name {
            ThemeName::Light => Theme {
                background: Rgba::rgb(0xFF, 0xFF, 0xFF),
                panel: Rgba::rgb(0xFF, 0xFF, 0xFF),
                text: Rgba::rgb(0x1F, 0x23, 0x28),
                muted: Rgba::rgb(0x5F, 0x67, 0x70),
                grid: Rgba::rgb(0xE6, 0xE8, 0xEB),
                axis: Rgba::rgb(0xB8, 0xBE, 0xC5),
                palette: DEFAULT_PALETTE.to_vec(),
            },
            ThemeName::Dark => Theme {
                background: Rgba::rgb(0x11, 0x14, 0x18),
                panel: Rgba::rgb(0x18, 0x1B, 0x20),
                text: Rgba::rgb(0xE6, 0xE8, 0xEB),
                muted: Rgba::rgb(0x9A, 0xA3, 0xAD),
                grid: Rgba::rgb(0x2A, 0x2F, 0x36),
                axis: Rgba::rgb(0x4A, 0x52, 0x5C),
                palette: DEFAULT_PALETTE.to_vec(),
            },
        }
    }

    /// The `index`-th palette colour, wrapping around.
    pub fn series_color(&self, index: usize) -> Rgba {
        self.palette[index % self.palette.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_css_hex_forms() {
        assert_eq!(Rgba::parse("#fff"), Some(Rgba::rgb(255, 255, 255)));
        assert_eq!(Rgba::parse("#0072B2"), Some(Rgba::rgb(0, 0x72, 0xB2)));
        assert_eq!(Rgba::parse("#00000080").map(|c| c.a), Some(0x80));
    }

    #[test]
    fn rejects_malformed_colours() {
        for bad in ["", "#", "#12", "fff", "#ggg", "#12345", "#ffé"] {
            assert_eq!(Rgba::parse(bad), None, "{bad}");
        }
    }
}
