//! InfluxDB line protocol: `measurement,tag=v field=1.5,other=2i 1700000000000000000`.
//!
//! Every numeric field (float, integer, unsigned, boolean as 0/1) becomes one sample of
//! the series `measurement_field` with the line's tags; string fields are skipped. A
//! body either parses completely or not at all: errors name their 1-based line.

use std::collections::BTreeMap;
use std::fmt;

/// One parsed sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Series metric name (`measurement_field`).
    pub metric: String,
    /// Tags of the line.
    pub tags: BTreeMap<String, String>,
    /// Time in ms since the epoch.
    pub t: i64,
    /// Value.
    pub v: f64,
}

/// Unit of the timestamps in a body (`precision` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// Nanoseconds (the default).
    #[default]
    Nanoseconds,
    /// Microseconds.
    Microseconds,
    /// Milliseconds.
    Milliseconds,
    /// Seconds.
    Seconds,
    /// Minutes (InfluxDB 1.x only).
    Minutes,
    /// Hours (InfluxDB 1.x only).
    Hours,
}

impl Precision {
    /// Parses the InfluxDB 1.x and 2.x spellings: `ns`/`n`, `us`/`u`/`µ`, `ms`, `s`, `m`, `h`.
    pub fn parse(text: &str) -> Option<Precision> {
        Some(match text {
            "ns" | "n" => Precision::Nanoseconds,
            "us" | "u" | "µ" | "µs" => Precision::Microseconds,
            "ms" => Precision::Milliseconds,
            "s" => Precision::Seconds,
            "m" => Precision::Minutes,
            "h" => Precision::Hours,
            _ => return None,
        })
    }

    fn to_ms(self, value: i64) -> Option<i64> {
        match self {
            Precision::Nanoseconds => Some(value.div_euclid(1_000_000)),
            Precision::Microseconds => Some(value.div_euclid(1_000)),
            Precision::Milliseconds => Some(value),
            Precision::Seconds => value.checked_mul(1_000),
            Precision::Minutes => value.checked_mul(60_000),
            Precision::Hours => value.checked_mul(3_600_000),
        }
    }
}

/// A problem on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number in the body.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// At most this many errors are reported for one body.
const MAX_ERRORS: usize = 20;

/// Parses a whole body. Lines without a timestamp get `now_ms`.
pub fn parse(body: &str, precision: Precision, now_ms: i64) -> Result<Vec<Sample>, Vec<LineError>> {
    let mut samples = Vec::new();
    let mut errors = Vec::new();
    for (index, raw) in body.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_line(line, precision, now_ms, &mut samples) {
            Ok(()) => {}
            Err(message) => {
                if errors.len() < MAX_ERRORS {
                    errors.push(LineError {
                        line: index + 1,
                        message,
                    });
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(samples)
    } else {
        Err(errors)
    }
}

fn parse_line(
    line: &str,
    precision: Precision,
    now_ms: i64,
    out: &mut Vec<Sample>,
) -> Result<(), String> {
    let mut cursor = Cursor {
        bytes: line.as_bytes(),
        at: 0,
    };
    let measurement = cursor.token(b", ", b", ");
    if measurement.is_empty() {
        return Err("missing measurement name".into());
    }
    let mut tags = BTreeMap::new();
    while cursor.eat(b',') {
        let key = cursor.token(b",= ", b",= ");
        if key.is_empty() || !cursor.eat(b'=') {
            return Err(format!("tag {:?} needs the form key=value", clip(&key)));
        }
        let value = cursor.token(b",= ", b", ");
        if value.is_empty() {
            return Err(format!("tag {:?} has an empty value", clip(&key)));
        }
        tags.insert(key, value);
    }
    if !cursor.eat(b' ') {
        return Err("expected a space and fields after the measurement and tags".into());
    }
    cursor.skip_spaces();
    let first_sample = out.len();
    let mut fields = 0usize;
    loop {
        let key = cursor.token(b",= ", b",= ");
        if key.is_empty() || !cursor.eat(b'=') {
            return Err(format!("field {:?} needs the form key=value", clip(&key)));
        }
        fields += 1;
        if let Some(value) = cursor
            .field_value()
            .map_err(|m| format!("field {:?}: {m}", clip(&key)))?
        {
            out.push(Sample {
                metric: format!("{measurement}_{key}"),
                tags: tags.clone(),
                t: 0,
                v: value,
            });
        }
        if !cursor.eat(b',') {
            break;
        }
    }
    if fields == 0 {
        return Err("a line needs at least one field".into());
    }
    cursor.skip_spaces();
    let rest = cursor.rest().trim();
    let t = if rest.is_empty() {
        now_ms
    } else {
        let raw: i64 = rest
            .parse()
            .map_err(|_| format!("timestamp {:?} is not an integer", clip(rest)))?;
        precision
            .to_ms(raw)
            .ok_or_else(|| format!("timestamp {raw} is out of range"))?
    };
    for sample in &mut out[first_sample..] {
        sample.t = t;
    }
    Ok(())
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.at += 1;
        }
    }

    fn rest(&self) -> &str {
        std::str::from_utf8(&self.bytes[self.at..]).unwrap_or("")
    }

    /// Reads up to an unescaped byte of `stops`; a backslash before one of `escapable`
    /// yields that byte (any other backslash is kept).
    fn token(&mut self, stops: &[u8], escapable: &[u8]) -> String {
        let mut out = Vec::new();
        while let Some(byte) = self.peek() {
            if byte == b'\\' {
                if let Some(next) = self.bytes.get(self.at + 1).copied() {
                    if escapable.contains(&next) || next == b'\\' {
                        out.push(next);
                        self.at += 2;
                        continue;
                    }
                }
            } else if stops.contains(&byte) {
                break;
            }
            out.push(byte);
            self.at += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// A field value: `Some(number)` for numeric and boolean fields, `None` for strings.
    fn field_value(&mut self) -> Result<Option<f64>, String> {
        if self.eat(b'"') {
            while let Some(byte) = self.peek() {
                self.at += 1;
                match byte {
                    b'\\' => self.at += 1,
                    b'"' => return Ok(None),
                    _ => {}
                }
            }
            return Err("string value has no closing quote".into());
        }
        let start = self.at;
        while let Some(byte) = self.peek() {
            if byte == b',' || byte == b' ' {
                break;
            }
            self.at += 1;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.at]).unwrap_or("");
        let number = match text {
            "" => return Err("value is empty".into()),
            "t" | "T" | "true" | "True" | "TRUE" => 1.0,
            "f" | "F" | "false" | "False" | "FALSE" => 0.0,
            _ => {
                let digits = text.strip_suffix(['i', 'u']).unwrap_or(text);
                let value = if digits.len() < text.len() {
                    digits.parse::<i128>().ok().map(|v| v as f64)
                } else {
                    digits.parse::<f64>().ok()
                };
                value
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| format!("{:?} is not a number", clip(text)))?
            }
        };
        Ok(Some(number))
    }
}

fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Vec<Sample> {
        parse(line, Precision::Nanoseconds, 7).unwrap_or_else(|e| panic!("{line}: {e:?}"))
    }

    #[test]
    fn telegraf_cpu_line_gives_one_series_per_numeric_field() {
        let samples = one(
            "cpu,cpu=cpu0,host=a usage_idle=97.5,usage_user=1i,name=\"x y\",ok=true 1700000000123456789",
        );
        let names: Vec<&str> = samples.iter().map(|s| s.metric.as_str()).collect();
        assert_eq!(names, ["cpu_usage_idle", "cpu_usage_user", "cpu_ok"]);
        assert_eq!(samples[0].t, 1_700_000_000_123);
        assert_eq!(samples[1].v, 1.0);
        assert_eq!(samples[0].tags.get("cpu").map(String::as_str), Some("cpu0"));
    }

    #[test]
    fn escapes_and_missing_timestamp() {
        let samples = one(r"disk\ io,path=/a\,b\ c v=2");
        assert_eq!(samples[0].metric, "disk io_v");
        assert_eq!(
            samples[0].tags.get("path").map(String::as_str),
            Some("/a,b c")
        );
        assert_eq!(samples[0].t, 7);
    }

    #[test]
    fn precision_converts_to_ms() {
        let s = parse("m v=1 1700000000", Precision::Seconds, 0).unwrap_or_default();
        assert_eq!(s[0].t, 1_700_000_000_000);
        let s = parse("m v=1 1700000000000000", Precision::Microseconds, 0).unwrap_or_default();
        assert_eq!(s[0].t, 1_700_000_000_000);
    }

    #[test]
    fn errors_name_every_bad_line() {
        let errors = parse(
            "ok v=1\nbad\nm v=abc\n\nm v=1 12x",
            Precision::Nanoseconds,
            0,
        )
        .err()
        .unwrap_or_default();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 5]);
        assert!(
            errors[1].message.contains("\"abc\" is not a number"),
            "{}",
            errors[1].message
        );
    }
}
