//! InfluxDB line protocol: `measurement,tag=v field=1.5,other=2i 1700000000000000000`.
//!
//! Every numeric field (float, integer, unsigned, boolean as 0/1) becomes one sample of
//! the series `measurement_field` with the line's tags; string fields are skipped. A
//! body either parses completely or not at all: errors name their 1-based line.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use render_core::Point;

use super::batch::{Batch, Grouper};
use super::error::{IngestError, LineError};

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

/// At most this many errors are reported for one body.
const MAX_ERRORS: usize = 20;

/// Parses a whole body into its points grouped by series. Lines without a timestamp
/// get `now_ms`. The measurement and tags of a line (its text up to the first unescaped
/// space) are parsed once per distinct text in the body: later lines with the same
/// text find their series with one hash lookup, and nothing is allocated per point.
pub fn parse_batch(body: &str, precision: Precision, now_ms: i64) -> Result<Batch, IngestError> {
    let mut parser = Parser::default();
    let mut errors = Vec::new();
    for (index, raw) in body.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Err(message) = parser.line(line, precision, now_ms) {
            if errors.len() < MAX_ERRORS {
                errors.push(LineError {
                    line: index + 1,
                    message,
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(parser.grouper.finish())
    } else {
        Err(IngestError::Lines(errors))
    }
}

const NO_FIELDS: &str = "expected a space and fields after the measurement and tags";

/// A distinct measurement-and-tags text of a body.
struct Prefix {
    measurement: String,
    tags: BTreeMap<String, String>,
    /// Series index in the grouper by field key (unescaped).
    fields: Vec<(String, usize)>,
}

#[derive(Default)]
struct Parser<'a> {
    /// By the raw text of measurement and tags, as the line has it.
    prefixes: HashMap<&'a str, Prefix>,
    grouper: Grouper,
    /// The current line's (series, value) until its timestamp is read.
    values: Vec<(usize, f64)>,
}

impl<'a> Parser<'a> {
    fn line(&mut self, line: &'a str, precision: Precision, now_ms: i64) -> Result<(), String> {
        let mut cursor = Cursor { text: line, at: 0 };
        let raw = line.get(..prefix_end(line.as_bytes())).unwrap_or(line);
        let prefix = match self.prefixes.get_mut(raw) {
            Some(prefix) => {
                cursor.at = raw.len();
                prefix
            }
            None => {
                let (measurement, tags) = measurement_and_tags(&mut cursor)?;
                if cursor.peek() != Some(b' ') {
                    return Err(NO_FIELDS.into());
                }
                // Known only when followed by a space, as a later line must be to match.
                let raw = line.get(..cursor.at).unwrap_or(line);
                self.prefixes.entry(raw).or_insert(Prefix {
                    measurement,
                    tags,
                    fields: Vec::new(),
                })
            }
        };
        if !cursor.eat(b' ') {
            return Err(NO_FIELDS.into());
        }
        cursor.skip_spaces();
        self.values.clear();
        loop {
            let key = cursor.token(b",= ", b",= ");
            if key.is_empty() || !cursor.eat(b'=') {
                return Err(format!("field {:?} needs the form key=value", clip(&key)));
            }
            if let Some(value) = cursor
                .field_value()
                .map_err(|m| format!("field {:?}: {m}", clip(&key)))?
            {
                let found = prefix.fields.iter().find(|(k, _)| *k == key);
                let series = match found {
                    Some((_, series)) => *series,
                    None => {
                        let metric = format!("{}_{key}", prefix.measurement);
                        let series = self.grouper.series_of(&metric, &prefix.tags);
                        prefix.fields.push((key.into_owned(), series));
                        series
                    }
                };
                self.values.push((series, value));
            }
            if !cursor.eat(b',') {
                break;
            }
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
        for &(series, v) in &self.values {
            self.grouper.push(series, Point { t, v });
        }
        Ok(())
    }
}

/// Where the measurement and tags of a line end, as far as a quick look can tell: the
/// first space not escaped by a backslash (or the end). Only a lookup key: a line whose
/// text up to here is not known is parsed in full by [`measurement_and_tags`].
fn prefix_end(bytes: &[u8]) -> usize {
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b' ' => return at,
            b'\\' => at += 2,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// Parses the measurement and tags, leaving the cursor before the space that follows.
fn measurement_and_tags(
    cursor: &mut Cursor<'_>,
) -> Result<(String, BTreeMap<String, String>), String> {
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
        tags.insert(key.into_owned(), value.into_owned());
    }
    Ok((measurement.into_owned(), tags))
}

struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
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

    fn rest(&self) -> &'a str {
        self.text.get(self.at..).unwrap_or("")
    }

    /// Reads up to an unescaped byte of `stops`; a backslash before one of `escapable`
    /// yields that byte (any other backslash is kept). Borrowed unless it has escapes.
    fn token(&mut self, stops: &[u8], escapable: &[u8]) -> Cow<'a, str> {
        let bytes = self.text.as_bytes();
        let start = self.at;
        while let Some(&byte) = bytes.get(self.at) {
            if byte == b'\\' || stops.contains(&byte) {
                break;
            }
            self.at += 1;
        }
        if self.peek() != Some(b'\\') {
            // Stops are ASCII, so both ends are character boundaries.
            return match self.text.get(start..self.at) {
                Some(text) => Cow::Borrowed(text),
                None => String::from_utf8_lossy(&bytes[start..self.at]),
            };
        }
        let mut out = bytes[start..self.at].to_vec();
        while let Some(byte) = self.peek() {
            if byte == b'\\' {
                if let Some(next) = bytes.get(self.at + 1).copied() {
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
        Cow::Owned(String::from_utf8_lossy(&out).into_owned())
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
        let text = self.text.get(start..self.at).unwrap_or("");
        let number = match text {
            "" => return Err("value is empty".into()),
            "t" | "T" | "true" | "True" | "TRUE" => 1.0,
            "f" | "F" | "false" | "False" | "FALSE" => 0.0,
            _ => {
                if let Some(digits) = text.strip_suffix('i') {
                    let value = digits.parse::<i64>();
                    value.map_err(|e| integer_error(&e, text, "a 64-bit integer (i64)"))? as f64
                } else if let Some(digits) = text.strip_suffix('u') {
                    let value = digits.parse::<u64>();
                    value
                        .map_err(|e| integer_error(&e, text, "an unsigned 64-bit integer (u64)"))?
                        as f64
                } else {
                    text.parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| format!("{:?} is not a number", clip(text)))?
                }
            }
        };
        Ok(Some(number))
    }
}

/// Why an integer field (`12i`, `12u`) was refused: InfluxDB refuses digits that do not
/// fit the type (400) rather than rounding them, and so do we.
fn integer_error(error: &std::num::ParseIntError, text: &str, kind: &str) -> String {
    use std::num::IntErrorKind;
    match error.kind() {
        IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => {
            format!("{:?} is out of range for {kind}", clip(text))
        }
        _ => format!("{:?} is not a number", clip(text)),
    }
}

fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::super::Sample;
    use super::*;

    /// The samples of a body, series by series (what the store receives).
    fn parse(body: &str, precision: Precision, now_ms: i64) -> Result<Vec<Sample>, Vec<LineError>> {
        match parse_batch(body, precision, now_ms) {
            Ok(batch) => Ok(batch
                .series
                .iter()
                .flat_map(|s| {
                    s.points.iter().map(|p| Sample {
                        metric: s.metric.clone(),
                        tags: s.tags.clone(),
                        t: p.t,
                        v: p.v,
                    })
                })
                .collect()),
            Err(IngestError::Lines(errors)) => Err(errors),
            Err(other) => panic!("not a line error: {other}"),
        }
    }

    /// The errors of a body that must not parse, and their line numbers.
    fn refused(body: &str) -> (Vec<usize>, Vec<LineError>) {
        let errors = parse(body, Precision::Nanoseconds, 0)
            .err()
            .unwrap_or_default();
        (errors.iter().map(|e| e.line).collect(), errors)
    }

    #[test]
    fn integers_outside_i64_and_u64_are_refused_naming_the_line() {
        let (lines, errors) = refused(
            "m v=1i\nm v=99999999999999999999999i\nm v=18446744073709551615u\nm v=-1u\nm v=9223372036854775807i",
        );
        assert_eq!(lines, [2, 4], "{errors:?}");
        assert!(
            errors[0].message.contains("out of range"),
            "{}",
            errors[0].message
        );
        let max = parse("m v=18446744073709551615u", Precision::Nanoseconds, 0);
        assert_eq!(max.map(|s| s[0].v), Ok(u64::MAX as f64));
    }

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
        let (lines, errors) = refused("ok v=1\nbad\nm v=abc\n\nm v=1 12x");
        assert_eq!(lines, [2, 3, 5]);
        assert!(
            errors[1].message.contains("\"abc\" is not a number"),
            "{}",
            errors[1].message
        );
    }

    #[test]
    fn a_batch_groups_points_by_series_and_the_last_point_of_a_time_wins() {
        let body = "m,b=x\\y,a=1 v=1,w=2 30\nm,a=1,b=x\\\\y v=3 10\nm,a=1,b=x\\y v=4 30\nm,a=1 v=5 20\nm,a=1,b=x\\y v=6 40";
        let batch = parse_batch(body, Precision::Milliseconds, 0).unwrap_or_default();
        assert_eq!(batch.samples, 6);
        type Counted = (String, usize, Vec<(i64, f64)>);
        let got: Vec<Counted> = batch
            .rows()
            .into_iter()
            .map(|(metric, tags, points)| (metric, tags.len(), points))
            .collect();
        // Tag order and an escape that changes nothing find the same series.
        let want = [
            ("m_v".to_string(), 2, vec![(10, 3.0), (30, 4.0), (40, 6.0)]),
            ("m_w".to_string(), 2, vec![(30, 2.0)]),
            ("m_v".to_string(), 1, vec![(20, 5.0)]),
        ];
        assert_eq!(got, want);
    }

    /// A tiny deterministic generator of line protocol: mostly valid lines sharing a few
    /// measurements and tags, with escapes, and now and then a broken piece.
    fn nasty_body(seed: u64) -> String {
        struct Rng(u64);
        impl Rng {
            fn next(&mut self, n: usize) -> usize {
                self.0 = self
                    .0
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (self.0 >> 33) as usize % n
            }
            fn pick(&mut self, set: &[&'static str]) -> &'static str {
                const BROKEN: [&str; 10] =
                    [",", "=", " ", "\\", "\"", "", "x y", ",a=b", "abc", " 1x"];
                if self.next(150) == 0 {
                    BROKEN[self.next(BROKEN.len())]
                } else {
                    set[self.next(set.len())]
                }
            }
        }
        let mut rng = Rng(seed);
        let mut body = String::new();
        for _ in 0..12 {
            body.push_str(rng.pick(&["m", "n", "m\\ x", "m\\,", "m\\"]));
            for _ in 0..rng.next(3) {
                body.push(',');
                body.push_str(rng.pick(&["a", "b", "a\\=", "\\\\"]));
                body.push('=');
                body.push_str(rng.pick(&["1", "x\\ y", "x\\\\", "x\\,y", "x\\y"]));
            }
            body.push_str(rng.pick(&[" ", " ", "  "]));
            for f in 0..1 + rng.next(2) {
                if f > 0 {
                    body.push(',');
                }
                body.push_str(rng.pick(&["v", "w", "v\\ "]));
                body.push('=');
                body.push_str(rng.pick(&["1", "2.5", "3i", "\"s\"", "t"]));
            }
            body.push_str(rng.pick(&["", " 5", " 6"]));
            body.push('\n');
        }
        body
    }

    #[test]
    fn a_body_parses_as_its_lines_would_one_by_one() {
        // The measurement-and-tags lookup must never change what a line means.
        let mut bodies: Vec<String> = (0..3000).map(nasty_body).collect();
        let mut parsed = 0;
        bodies.push(
            "m,a=b\\ v=1 5\nm,a=b\\ c v=1 6\nm,a=b\\\\ v=2 7\nm,a=b=c v=1\nm,a=b v=3 8".into(),
        );
        for body in bodies {
            let whole = parse_batch(&body, Precision::Milliseconds, 7);
            let mut samples = Vec::new();
            let mut errors = Vec::new();
            for (i, line) in body.lines().enumerate() {
                match parse(line, Precision::Milliseconds, 7) {
                    Ok(mut s) => samples.append(&mut s),
                    Err(e) => errors.extend(e.into_iter().map(|e| LineError {
                        line: i + 1,
                        message: e.message,
                    })),
                }
            }
            match whole {
                Ok(batch) => {
                    parsed += 1;
                    assert!(errors.is_empty(), "{body:?}: {errors:?}");
                    let mut by_line = Batch::from_samples(&samples);
                    by_line.samples = batch.samples;
                    assert_eq!(batch, by_line, "{body:?}");
                }
                Err(e) => {
                    errors.truncate(MAX_ERRORS);
                    assert_eq!(e, IngestError::Lines(errors), "{body:?}");
                }
            }
        }
        // Enough whole bodies parse for the lookup to be exercised.
        assert!(parsed > 100, "{parsed}");
    }
}
