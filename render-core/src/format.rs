//! Writing values as text: plain numbers, SI prefixes, percentages, bytes and bits.

use crate::spec::{Axis, NumberFormat};

/// How the values of one axis are written.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueFormat {
    /// Number style.
    pub format: NumberFormat,
    /// Unit suffix.
    pub unit: String,
    /// Fixed decimals, if the spec sets them.
    pub decimals: Option<u32>,
}

impl ValueFormat {
    /// The format `axis` asks for.
    pub fn from_axis(axis: &Axis) -> ValueFormat {
        ValueFormat {
            format: axis.format,
            unit: axis.unit.clone().unwrap_or_default(),
            decimals: axis.decimals,
        }
    }

    /// Writes `value`; `resolution` is the smallest difference that must stay visible
    /// (a tick step), which picks the number of decimals when none are fixed.
    pub fn write(&self, value: f64, resolution: f64) -> String {
        if value.is_nan() {
            return "–".to_string();
        }
        if value.is_infinite() {
            return if value > 0.0 { "∞" } else { "-∞" }.to_string();
        }
        let unit = self.unit.as_str();
        // (scaled value, scaled resolution, text after the number, joined with a space?)
        let (scaled, scaled_resolution, suffix, spaced) = match self.format {
            NumberFormat::Number => (value, resolution, unit.to_string(), true),
            NumberFormat::Percent => (value, resolution, "%".to_string(), false),
            NumberFormat::Ratio => (value * 100.0, resolution * 100.0, "%".to_string(), false),
            NumberFormat::Si => prefixed(value, resolution, 1000.0, &SI_PREFIXES, unit),
            NumberFormat::Bytes => prefixed(value, resolution, 1024.0, &BINARY_PREFIXES, "B"),
            NumberFormat::Bits => prefixed(value, resolution, 1000.0, &SI_PREFIXES, "b/s"),
        };
        let decimals = self
            .decimals
            .map(|d| d as usize)
            .unwrap_or_else(|| decimals_for(scaled, scaled_resolution));
        let mut text = format!("{scaled:.decimals$}");
        if self.decimals.is_none()
            && (resolution.is_nan() || resolution <= 0.0)
            && text.contains('.')
        {
            // A lone value: "6.00" says no more than "6".
            text = text.trim_end_matches('0').trim_end_matches('.').to_string();
        }
        if text.starts_with('-') && text[1..].chars().all(|c| c == '0' || c == '.') {
            text.remove(0); // "-0.0" reads as noise
        }
        // Units of percent, bytes and bits formats follow the suffix ("42% CPU").
        let trailing = match self.format {
            NumberFormat::Percent
            | NumberFormat::Ratio
            | NumberFormat::Bytes
            | NumberFormat::Bits
                if !unit.is_empty() =>
            {
                // A rate ("/s") attaches to its unit: "12 KiB/s".
                if unit.starts_with('/') {
                    unit.to_string()
                } else {
                    format!(" {unit}")
                }
            }
            _ => String::new(),
        };
        let space = if spaced && !suffix.is_empty() {
            " "
        } else {
            ""
        };
        format!("{text}{space}{suffix}{trailing}")
    }
}

const SI_PREFIXES: [(i32, &str); 11] = [
    (-5, "f"),
    (-4, "p"),
    (-3, "n"),
    (-2, "µ"),
    (-1, "m"),
    (0, ""),
    (1, "k"),
    (2, "M"),
    (3, "G"),
    (4, "T"),
    (5, "P"),
];

const BINARY_PREFIXES: [(i32, &str); 7] = [
    (0, ""),
    (1, "Ki"),
    (2, "Mi"),
    (3, "Gi"),
    (4, "Ti"),
    (5, "Pi"),
    (6, "Ei"),
];

/// Scales `value` by the power of `base` that brings it into 1..base; the suffix is the
/// prefix followed by `unit`.
fn prefixed(
    value: f64,
    resolution: f64,
    base: f64,
    prefixes: &[(i32, &str)],
    unit: &str,
) -> (f64, f64, String, bool) {
    let magnitude = value.abs().max(resolution.abs());
    let mut chosen = prefixes
        .iter()
        .find(|(power, _)| *power == 0)
        .copied()
        .unwrap_or((0, ""));
    for &(power, name) in prefixes {
        if magnitude >= power_of(base, power) {
            chosen = (power, name);
        }
    }
    if magnitude == 0.0 {
        chosen = (0, "");
    }
    let divisor = power_of(base, chosen.0);
    (
        value / divisor,
        resolution / divisor,
        format!("{}{unit}", chosen.1),
        true,
    )
}

fn power_of(base: f64, exponent: i32) -> f64 {
    let mut result = 1.0;
    for _ in 0..exponent.unsigned_abs() {
        result *= base;
    }
    if exponent < 0 {
        1.0 / result
    } else {
        result
    }
}

/// Decimals that write multiples of `resolution` exactly (at most 6); for a lone value
/// (no resolution), enough for three significant digits.
fn decimals_for(value: f64, resolution: f64) -> usize {
    if resolution > 0.0 && resolution.is_finite() {
        let mut scaled = resolution;
        for decimals in 0..6 {
            if (scaled - libm::round(scaled)).abs() < 1e-6 * scaled.max(1.0) {
                return decimals;
            }
            scaled *= 10.0;
        }
        return 6;
    }
    let reference = value.abs() / 100.0;
    if !(reference.is_finite() && reference > 0.0) {
        return 0;
    }
    let exponent = libm::floor(libm::log10(reference) + 1e-9);
    (-exponent).clamp(0.0, 6.0) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(format: NumberFormat) -> ValueFormat {
        ValueFormat {
            format,
            unit: String::new(),
            decimals: None,
        }
    }

    #[test]
    fn plain_numbers_take_decimals_from_the_resolution() {
        let f = format(NumberFormat::Number);
        assert_eq!(f.write(12.5, 2.5), "12.5");
        assert_eq!(f.write(40.0, 20.0), "40");
        assert_eq!(f.write(0.05, 0.01), "0.05");
        assert_eq!(f.write(-0.0001, 0.1), "0.0");
        assert_eq!(f.write(6.0, 0.0), "6");
        assert_eq!(f.write(14.93, 0.0), "14.9");
    }

    #[test]
    fn prefixes_and_units() {
        assert_eq!(format(NumberFormat::Si).write(1500.0, 500.0), "1.5 k");
        let seconds = ValueFormat {
            format: NumberFormat::Si,
            unit: "s".into(),
            decimals: None,
        };
        assert_eq!(seconds.write(0.1, 0.1), "100 ms");
        let rate = ValueFormat {
            format: NumberFormat::Bytes,
            unit: "/s".into(),
            decimals: None,
        };
        assert_eq!(rate.write(2048.0, 1024.0), "2 KiB/s");
        assert_eq!(
            format(NumberFormat::Bytes).write(3.0 * 1024.0 * 1024.0, 1024.0 * 1024.0),
            "3 MiB"
        );
        assert_eq!(format(NumberFormat::Bits).write(12e6, 1e6), "12 Mb/s");
        assert_eq!(format(NumberFormat::Ratio).write(0.42, 0.01), "42%");
        assert_eq!(format(NumberFormat::Percent).write(42.0, 10.0), "42%");
        let celsius = ValueFormat {
            format: NumberFormat::Number,
            unit: "°C".into(),
            decimals: Some(1),
        };
        assert_eq!(celsius.write(21.456, 0.0), "21.5 °C");
    }

    #[test]
    fn special_values_are_readable() {
        let f = format(NumberFormat::Number);
        assert_eq!(f.write(f64::NAN, 1.0), "–");
        assert_eq!(f.write(f64::INFINITY, 1.0), "∞");
    }
}
