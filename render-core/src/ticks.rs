//! Tick positions: 1-2-5 steps for value axes, powers of ten for log axes, and round
//! local times for time axes.
//!
//! Logarithms and powers go through `libm`, never the platform's maths library, so
//! both targets pick the same ticks.

use chrono::{Offset, TimeZone};
use chrono_tz::Tz;

use crate::data::Timestamp;

/// A value range with ticks.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueTicks {
    /// Lower end of the axis.
    pub min: f64,
    /// Upper end of the axis.
    pub max: f64,
    /// Tick values inside `min..=max`.
    pub ticks: Vec<f64>,
    /// Distance between ticks (the label resolution).
    pub step: f64,
}

/// The 1-2-5 step nearest above `raw`.
pub fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let exponent = libm::floor(libm::log10(raw));
    let base = libm::pow(10.0, exponent);
    let fraction = raw / base;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * base
}

/// Linear ticks for data in `lo..=hi`, about `target` of them. Ends not fixed by the
/// spec (`fixed_min`/`fixed_max` false) are widened to the next tick.
pub fn linear(lo: f64, hi: f64, target: usize, fixed_min: bool, fixed_max: bool) -> ValueTicks {
    let (mut lo, mut hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    let spread = hi - lo;
    if spread.is_nan() || spread <= f64::EPSILON * hi.abs().max(1.0) * 4.0 {
        // A flat line: give it room around its value.
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        if !fixed_min {
            lo -= pad;
        }
        if !fixed_max {
            hi += pad;
        }
        if hi <= lo {
            hi = lo + pad;
        }
    }
    let step = nice_step((hi - lo) / target.max(1) as f64);
    let min = if fixed_min {
        lo
    } else {
        libm::floor(lo / step) * step
    };
    let max = if fixed_max {
        hi
    } else {
        libm::ceil(hi / step) * step
    };
    let first = libm::ceil(min / step - 1e-9);
    let mut ticks = Vec::new();
    let mut index = first;
    while ticks.len() < 100 {
        let value = index * step;
        if value > max + step * 1e-9 {
            break;
        }
        // Snap tiny float noise (0.30000000000000004) onto the step grid.
        ticks.push(if value.abs() < step * 1e-9 {
            0.0
        } else {
            value
        });
        index += 1.0;
    }
    ValueTicks {
        min,
        max,
        ticks,
        step,
    }
}

/// Linear ticks at round multiples of a power of 1024 (bytes: 512 MiB, 1 GiB, 1.5 GiB).
pub fn binary(lo: f64, hi: f64, target: usize, fixed_min: bool, fixed_max: bool) -> ValueTicks {
    let magnitude = lo.abs().max(hi.abs());
    let mut scale = 1.0;
    while magnitude / scale >= 1024.0 && scale < 1e300 {
        scale *= 1024.0;
    }
    let scaled = linear(lo / scale, hi / scale, target, fixed_min, fixed_max);
    ValueTicks {
        min: scaled.min * scale,
        max: scaled.max * scale,
        ticks: scaled.ticks.iter().map(|t| t * scale).collect(),
        step: scaled.step * scale,
    }
}

/// Log-10 ticks for positive data in `lo..=hi`: whole decades, plus 2 and 5 when few.
pub fn log10(lo: f64, hi: f64, fixed_min: bool, fixed_max: bool) -> ValueTicks {
    let lo = if lo > 0.0 && lo.is_finite() { lo } else { 1.0 };
    let hi = if hi > lo && hi.is_finite() {
        hi
    } else {
        lo * 10.0
    };
    let lo_exp = libm::floor(libm::log10(lo));
    let hi_exp = libm::ceil(libm::log10(hi)).max(lo_exp + 1.0);
    let min = if fixed_min {
        lo
    } else {
        libm::pow(10.0, lo_exp)
    };
    let max = if fixed_max {
        hi
    } else {
        libm::pow(10.0, hi_exp)
    };
    let decades = (hi_exp - lo_exp) as i32;
    let multiples: &[f64] = if decades <= 2 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    let stride = ((decades + 7) / 8).max(1);
    let mut ticks = Vec::new();
    let mut exponent = lo_exp as i32;
    while exponent <= hi_exp as i32 {
        for m in multiples {
            let value = m * libm::pow(10.0, exponent as f64);
            if value >= min * (1.0 - 1e-9) && value <= max * (1.0 + 1e-9) {
                ticks.push(value);
            }
        }
        exponent += stride;
    }
    ValueTicks {
        min,
        max,
        ticks,
        step: 0.0,
    }
}

/// Candidate time steps in seconds, smallest first.
const TIME_STEPS: [i64; 25] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
    172_800, 604_800, 1_209_600, 2_592_000, 7_776_000, 15_552_000, 31_536_000,
];

/// A time tick: where, and its label.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeTick {
    /// Time in ms.
    pub t: Timestamp,
    /// Label in the chart's time zone.
    pub label: String,
}

/// Ticks at round local times in `start..=end`, the smallest step whose labels (as
/// measured by `label_width`) leave a gap of `gap` px on an axis `pixels` wide.
pub fn time(
    start: Timestamp,
    end: Timestamp,
    pixels: f32,
    tz: Tz,
    gap: f32,
    label_width: &dyn Fn(&str) -> f32,
) -> Vec<TimeTick> {
    if end <= start || pixels.is_nan() || pixels <= 0.0 {
        return Vec::new();
    }
    let span_ms = (end - start) as f64;
    for &step_s in &TIME_STEPS {
        let step_ms = step_s * 1000;
        if span_ms / step_ms as f64 > 60.0 {
            continue;
        }
        let ticks = time_ticks(start, end, step_ms, tz);
        let spacing = pixels * step_ms as f32 / span_ms as f32;
        let widest = ticks
            .iter()
            .map(|t| label_width(&t.label))
            .fold(0.0f32, f32::max);
        if spacing >= widest + gap {
            return ticks;
        }
    }
    Vec::new()
}

fn time_ticks(start: Timestamp, end: Timestamp, step_ms: i64, tz: Tz) -> Vec<TimeTick> {
    let format = label_format(step_ms);
    let offset_ms = |t: Timestamp| -> i64 {
        tz.timestamp_millis_opt(t)
            .single()
            .map(|dt| dt.offset().fix().local_minus_utc() as i64 * 1000)
            .unwrap_or(0)
    };
    let day_ms = 86_400_000;
    let mut ticks = Vec::new();
    // Round in local time: shift by the zone offset, floor to the step, shift back.
    let local_start = start + offset_ms(start);
    let align = if step_ms >= 7 * day_ms {
        step_ms
    } else {
        step_ms.min(day_ms)
    };
    let mut local = local_start.div_euclid(align) * align;
    while ticks.len() < 200 {
        let t = local - offset_ms(local - offset_ms(local));
        if t > end {
            break;
        }
        if t >= start {
            let label = tz
                .timestamp_millis_opt(t)
                .single()
                .map(|dt| dt.format(format).to_string())
                .unwrap_or_default();
            ticks.push(TimeTick { t, label });
        }
        local += step_ms;
    }
    ticks
}

fn label_format(step_ms: i64) -> &'static str {
    if step_ms < 60_000 {
        "%H:%M:%S"
    } else if step_ms < 86_400_000 {
        "%H:%M"
    } else {
        "%b %d"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_one_two_five() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(1.3), 2.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(0.023), 0.05);
    }

    #[test]
    fn linear_ticks_cover_the_data_at_round_values() {
        let ticks = linear(3.2, 97.5, 5, false, false);
        assert_eq!(ticks.step, 20.0);
        assert_eq!((ticks.min, ticks.max), (0.0, 100.0));
        assert_eq!(ticks.ticks, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
    }

    #[test]
    fn flat_data_gets_a_range() {
        let ticks = linear(5.0, 5.0, 5, false, false);
        assert!(ticks.min < 5.0 && ticks.max > 5.0);
    }

    #[test]
    fn byte_ticks_are_binary_multiples() {
        let gib = 1024.0 * 1024.0 * 1024.0;
        let ticks = binary(0.0, 9.3 * gib, 4, false, false);
        assert_eq!(ticks.step, 5.0 * gib);
    }

    #[test]
    fn log_ticks_are_decades() {
        let ticks = log10(3.0, 45_000.0, false, false);
        assert_eq!(
            ticks.ticks,
            vec![1.0, 10.0, 100.0, 1000.0, 10_000.0, 100_000.0]
        );
    }

    #[test]
    fn time_ticks_fall_on_round_local_minutes() {
        let start = 1_700_000_000_000 + 17_000; // not round
        let end = start + 5 * 60_000;
        let tz: Tz = "Asia/Kolkata".parse().expect("zone");
        let ticks = time(start, end, 800.0, tz, 12.0, &|s: &str| s.len() as f32 * 7.0);
        assert!(ticks.len() >= 4, "{ticks:?}");
        for tick in &ticks {
            // +05:30: local minutes are round when UTC ms are multiples of a minute too.
            assert_eq!(tick.t % 30_000, 0, "{tick:?}");
        }
    }

    #[test]
    fn labels_never_crowd() {
        let start = 0;
        let end = 86_400_000;
        let ticks = time(start, end, 200.0, Tz::UTC, 10.0, &|s: &str| {
            s.len() as f32 * 8.0
        });
        let spacing = 200.0 * (ticks[1].t - ticks[0].t) as f32 / end as f32;
        assert!(spacing >= 5.0 * 8.0 + 10.0);
    }
}
