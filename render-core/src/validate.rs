//! Validation: checks a parsed [`Spec`] against every rule and cap, and turns it into a
//! [`ValidSpec`] with colours, defaults, time zone, windows and panel cells resolved.
//!
//! Every problem is reported, each with the JSON path it is at
//! (`panels[1].series[0].color: "#12" is not a colour`).

use std::collections::BTreeMap;
use std::fmt;

use chrono_tz::Tz;

use crate::color::{Rgba, Theme};
use crate::format::ValueFormat;
use crate::layout::Grid;
use crate::spec::{
    Allowed, Cell, Panel, PanelKind, Scale, SeriesSpec, SeriesStyle, Spec, SPEC_VERSION,
};
use crate::transform;
use crate::valid::{ValidPanel, ValidSeries, ValidSpec, ValidThreshold, DEFAULT_WINDOW_MS};
use crate::variables::{self, Matcher, MAX_ALLOWED, MAX_VARIABLES};

/// Largest width or height in pixels.
pub const MAX_SIDE: u32 = 4096;
/// Largest image area in pixels.
pub const MAX_PIXELS: u64 = 16_000_000;
/// Most panels in one spec.
pub const MAX_PANELS: usize = 64;
/// Most series queries in one panel.
pub const MAX_SERIES: usize = 64;
/// Longest title, label, metric, tag or colour string, in characters.
pub const MAX_NAME: usize = 200;
/// Longest PromQL query of a series, in characters.
pub const MAX_QUERY: usize = 4000;
/// Longest text of a text panel, in characters.
pub const MAX_TEXT: usize = 4000;
/// Longest time window: a year.
pub const MAX_WINDOW_MS: i64 = 366 * 86_400_000;
/// Most rows or columns of the layout grid.
pub const MAX_GRID: u32 = 16;

/// One validation problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// JSON path, e.g. `panels[1].series[0].color`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// All problems found in one spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid chart spec: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl TryFrom<Spec> for ValidSpec {
    type Error = ValidationErrors;

    fn try_from(spec: Spec) -> Result<Self, Self::Error> {
        validate(spec)
    }
}

/// Whether `id` is a chart id: a short slug `[a-z0-9][a-z0-9_-]{0,63}`, safe in URLs
/// and file names. The server publishes under it; the editor checks it before asking.
pub fn valid_chart_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-')
}

/// Parses a duration such as `30s`, `5m`, `2h`, `7d` into milliseconds.
pub fn parse_duration_ms(text: &str) -> Option<i64> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let count: i64 = number.parse().ok()?;
    let unit_ms = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return None,
    };
    count.checked_mul(unit_ms).filter(|ms| *ms > 0)
}

/// Checks `spec`; on success the result is safe to render with any data.
pub fn validate(spec: Spec) -> Result<ValidSpec, ValidationErrors> {
    let mut check = Checker::default();
    if spec.version != SPEC_VERSION {
        check.fail(
            "version",
            format!("{} is not supported; use {SPEC_VERSION}", spec.version),
        );
    }
    for (name, side) in [("width", spec.width), ("height", spec.height)] {
        if side == 0 || side > MAX_SIDE {
            check.fail(name, format!("{side} is outside 1..={MAX_SIDE}"));
        }
    }
    let pixels = spec.width as u64 * spec.height as u64;
    if pixels > MAX_PIXELS {
        check.fail(
            "width",
            format!(
                "{}×{} is {pixels} pixels, more than {MAX_PIXELS}",
                spec.width, spec.height
            ),
        );
    }
    check.text("title", spec.title.as_deref(), MAX_NAME);
    check_variables(&mut check, &spec);
    let theme = theme(&mut check, &spec);
    let tz = match spec.timezone.as_deref() {
        None => Tz::UTC,
        Some(name) => name.parse::<Tz>().unwrap_or_else(|_| {
            check.fail(
                "timezone",
                format!(
                    "{:?} is not an IANA time zone (e.g. \"Europe/Berlin\")",
                    clip(name)
                ),
            );
            Tz::UTC
        }),
    };
    let chart_window = check
        .window("window", spec.window.as_deref())
        .unwrap_or(DEFAULT_WINDOW_MS);
    let fps = spec.fps.unwrap_or(10);
    if !(1..=30).contains(&fps) {
        check.fail("fps", format!("{fps} is outside 1..=30"));
    }
    let (columns, rows, gap) = match &spec.layout {
        Some(layout) => (layout.columns, layout.rows, layout.gap.unwrap_or(8)),
        None => (1, (spec.panels.len() as u32).clamp(1, MAX_GRID), 8),
    };
    if !(1..=MAX_GRID).contains(&columns) {
        check.fail(
            "layout.columns",
            format!("{columns} is outside 1..={MAX_GRID}"),
        );
    }
    if !(1..=MAX_GRID).contains(&rows) {
        check.fail("layout.rows", format!("{rows} is outside 1..={MAX_GRID}"));
    }
    if gap > 100 {
        check.fail("layout.gap", format!("{gap} is outside 0..=100"));
    }
    if spec.panels.is_empty() || spec.panels.len() > MAX_PANELS {
        check.fail(
            "panels",
            format!("needs 1..={MAX_PANELS} panels, has {}", spec.panels.len()),
        );
    }
    let panels: Vec<ValidPanel> = spec
        .panels
        .iter()
        .enumerate()
        .map(|(i, panel)| check_panel(&mut check, &format!("panels[{i}]"), panel, chart_window))
        .collect();
    let cells = place_panels(
        &mut check,
        &spec.panels,
        columns.clamp(1, MAX_GRID),
        rows.clamp(1, MAX_GRID),
    );
    if !check.errors.is_empty() {
        return Err(ValidationErrors(check.errors));
    }
    Ok(ValidSpec {
        spec,
        theme,
        tz,
        grid: Grid {
            columns,
            rows,
            gap: gap as f32,
            cells,
        },
        panels,
        fps,
    })
}

/// The built-in theme with the spec's colour overrides, each checked.
fn theme(check: &mut Checker, spec: &Spec) -> Theme {
    let mut theme = Theme::builtin(spec.theme);
    let Some(colors) = &spec.colors else {
        return theme;
    };
    for (name, value, slot) in [
        ("background", &colors.background, &mut theme.background),
        ("panel", &colors.panel, &mut theme.panel),
        ("text", &colors.text, &mut theme.text),
        ("muted", &colors.muted, &mut theme.muted),
        ("grid", &colors.grid, &mut theme.grid),
    ] {
        if let Some(color) = check.color(&format!("colors.{name}"), value.as_deref()) {
            *slot = color;
        }
    }
    if let Some(palette) = &colors.palette {
        if palette.is_empty() || palette.len() > MAX_SERIES {
            check.fail(
                "colors.palette",
                format!("needs 1..={MAX_SERIES} colours, has {}", palette.len()),
            );
        }
        let parsed: Vec<Rgba> = palette
            .iter()
            .enumerate()
            .filter_map(|(i, c)| check.color(&format!("colors.palette[{i}]"), Some(c)))
            .collect();
        if !parsed.is_empty() {
            theme.palette = parsed;
        }
    }
    theme
}

/// Checks one panel and resolves its values; `chart_window` is the chart's window.
fn check_panel(check: &mut Checker, path: &str, panel: &Panel, chart_window: i64) -> ValidPanel {
    check.text(&format!("{path}.title"), panel.title.as_deref(), MAX_NAME);
    let window = check.window(&format!("{path}.window"), panel.window.as_deref());
    let style = panel.style.unwrap_or_default();
    match panel.kind {
        PanelKind::Text => {
            check.text(&format!("{path}.text"), panel.text.as_deref(), MAX_TEXT);
            if !panel.series.is_empty() {
                check.fail(
                    &format!("{path}.series"),
                    "a text panel draws no series".into(),
                );
            }
            if let Some(size) = panel.font_size {
                if !(6.0..=200.0).contains(&size) {
                    check.fail(
                        &format!("{path}.font_size"),
                        format!("{size} is outside 6..=200"),
                    );
                }
            }
        }
        kind => {
            if panel.text.is_some() {
                check.fail(&format!("{path}.text"), "only text panels have text".into());
            }
            if panel.font_size.is_some() {
                check.fail(
                    &format!("{path}.font_size"),
                    "only text panels have a font size".into(),
                );
            }
            if panel.style.is_some() && kind != PanelKind::Timeseries {
                check.fail(
                    &format!("{path}.style"),
                    "only timeseries panels have a style".into(),
                );
            }
        }
    }
    if panel.series.len() > MAX_SERIES {
        check.fail(
            &format!("{path}.series"),
            format!("has {} series, at most {MAX_SERIES}", panel.series.len()),
        );
    }
    let area = matches!(style, SeriesStyle::Area | SeriesStyle::StackedArea);
    let mut valid_series = Vec::with_capacity(panel.series.len());
    for (j, series) in panel.series.iter().enumerate() {
        let path = format!("{path}.series[{j}]");
        check_what(check, &path, series);
        check.text(&format!("{path}.metric"), Some(&series.metric), MAX_NAME);
        if series.tags.len() > 32 {
            check.fail(
                &format!("{path}.tags"),
                format!("has {} tags, at most 32", series.tags.len()),
            );
        }
        for (key, value) in &series.tags {
            check.text(&format!("{path}.tags.{}", clip(key)), Some(key), MAX_NAME);
            check.text(&format!("{path}.tags.{}", clip(key)), Some(value), MAX_NAME);
        }
        check.text(&format!("{path}.label"), series.label.as_deref(), MAX_NAME);
        let color = check.color(&format!("{path}.color"), series.color.as_deref());
        if let Some(width) = series.width {
            if !(0.5..=10.0).contains(&width) {
                check.fail(
                    &format!("{path}.width"),
                    format!("{width} is outside 0.5..=10"),
                );
            }
        }
        if let Some(fill) = series.fill {
            if !(0.0..=1.0).contains(&fill) {
                check.fail(&format!("{path}.fill"), format!("{fill} is outside 0..=1"));
            }
        }
        check_by(check, &path, series);
        valid_series.push(ValidSeries {
            label: series
                .label
                .clone()
                .unwrap_or_else(|| transform::default_label(series)),
            color,
            width: series.width.unwrap_or(2.0),
            fill: series.fill.unwrap_or(if area { 0.25 } else { 0.0 }),
        });
    }
    if let Some(axis) = &panel.y_axis {
        let axis_path = format!("{path}.y_axis");
        for (name, bound) in [("min", axis.min), ("max", axis.max)] {
            if let Some(v) = bound {
                if !v.is_finite() || v.abs() > 1e300 {
                    check.fail(
                        &format!("{axis_path}.{name}"),
                        format!("{v} is not a usable number"),
                    );
                }
                if axis.scale == Scale::Log && v <= 0.0 {
                    check.fail(
                        &format!("{axis_path}.{name}"),
                        format!("{v} must be above 0 on a log scale"),
                    );
                }
            }
        }
        if let (Some(min), Some(max)) = (axis.min, axis.max) {
            if min >= max {
                check.fail(
                    &format!("{axis_path}.min"),
                    format!("{min} must be below max {max}"),
                );
            }
        }
        check.text(&format!("{axis_path}.unit"), axis.unit.as_deref(), 32);
        if let Some(d) = axis.decimals {
            if d > 10 {
                check.fail(
                    &format!("{axis_path}.decimals"),
                    format!("{d} is outside 0..=10"),
                );
            }
        }
    }
    if panel.thresholds.len() > MAX_SERIES {
        check.fail(
            &format!("{path}.thresholds"),
            format!("has {}, at most {MAX_SERIES}", panel.thresholds.len()),
        );
    }
    let mut thresholds = Vec::with_capacity(panel.thresholds.len());
    for (j, threshold) in panel.thresholds.iter().enumerate() {
        let path = format!("{path}.thresholds[{j}]");
        if !threshold.value.is_finite() {
            check.fail(&format!("{path}.value"), "is not a finite number".into());
        }
        let color = check.color(&format!("{path}.color"), Some(&threshold.color));
        check.text(
            &format!("{path}.label"),
            threshold.label.as_deref(),
            MAX_NAME,
        );
        if let Some(to) = threshold.to {
            if !to.is_finite() || to <= threshold.value {
                check.fail(
                    &format!("{path}.to"),
                    format!("{to} must be a number above value {}", threshold.value),
                );
            }
        }
        // Without a colour the spec is rejected: nothing is drawn from this entry.
        if let Some(color) = color {
            thresholds.push(ValidThreshold {
                value: threshold.value,
                to: threshold.to,
                color,
                label: threshold.label.clone(),
            });
        }
    }
    let axis = panel.y_axis.clone().unwrap_or_default();
    let gauge_min = axis.min.unwrap_or(0.0);
    let gauge_max = axis.max.unwrap_or(100.0).max(gauge_min + f64::EPSILON);
    ValidPanel {
        window_ms: window.unwrap_or(chart_window),
        style,
        legend: panel.legend.clone().unwrap_or_default(),
        format: ValueFormat::from_axis(&axis),
        axis,
        gauge_range: (gauge_min, gauge_max),
        thresholds,
        series: valid_series,
        font_size: panel.font_size.unwrap_or(16.0),
    }
}

/// Checks what a series query reads: a `metric`, or a `source` with a PromQL `query`
/// (and then none of what only applies to a metric), and its `refresh`.
fn check_what(check: &mut Checker, path: &str, series: &SeriesSpec) {
    match (&series.source, &series.query) {
        (None, None) if series.metric.is_empty() => check.fail(
            &format!("{path}.metric"),
            "is empty (name a metric, or a source and a query)".into(),
        ),
        (None, None) => {}
        (None, Some(_)) => check.fail(
            &format!("{path}.source"),
            "is missing: a query is asked of a configured source (GET /api/sources)".into(),
        ),
        (Some(_), None) => check.fail(
            &format!("{path}.query"),
            "is missing: a series of a source is a query of it".into(),
        ),
        (Some(source), Some(query)) => {
            if !valid_source_name(source) {
                check.fail(
                    &format!("{path}.source"),
                    format!(
                        "{:?} is not a source name (1 to 64 of a-z, A-Z, 0-9, '_', '-')",
                        clip(source)
                    ),
                );
            }
            if query.trim().is_empty() {
                check.fail(&format!("{path}.query"), "is empty".into());
            }
            check.text(&format!("{path}.query"), Some(query), MAX_QUERY);
            let metric_only = [
                ("metric", !series.metric.is_empty()),
                ("tags", !series.tags.is_empty()),
                ("transform", series.transform.is_some()),
                ("aggregate", series.aggregate.is_some()),
                ("by", !series.by.is_empty()),
            ];
            for (key, set) in metric_only {
                if set {
                    check.fail(
                        &format!("{path}.{key}"),
                        "does not apply to a query (write it in PromQL)".into(),
                    );
                }
            }
        }
    }
    if let Some(text) = &series.refresh {
        let refresh_path = format!("{path}.refresh");
        if series.query.is_none() {
            check.fail(&refresh_path, "only applies to a query of a source".into());
        }
        match parse_duration_ms(text) {
            Some(ms) if (1000..=3_600_000).contains(&ms) => {}
            _ => check.fail(
                &refresh_path,
                format!("{:?} is not a duration within 1s..=1h", clip(text)),
            ),
        }
    }
}

/// Checks the declared variables: at most [`MAX_VARIABLES`], each named by an
/// identifier, its `allowed` list or pattern usable, its default allowed.
fn check_variables(check: &mut Checker, spec: &Spec) {
    if spec.variables.len() > MAX_VARIABLES {
        check.fail(
            "variables",
            format!(
                "has {} variables, at most {MAX_VARIABLES}",
                spec.variables.len()
            ),
        );
    }
    for (name, variable) in &spec.variables {
        let path = format!("variables.{}", clip(name));
        if !variables::valid_name(name) {
            check.fail(
                &path,
                format!(
                    "{:?} is not a variable name: use letters, digits and '_' (at most {}), \
                     not starting with a digit",
                    clip(name),
                    variables::MAX_VARIABLE_NAME
                ),
            );
        }
        check.text(
            &format!("{path}.default"),
            Some(&variable.default),
            MAX_NAME,
        );
        let allowed_path = format!("{path}.allowed");
        match &variable.allowed {
            Some(Allowed::List(values)) => {
                if values.is_empty() || values.len() > MAX_ALLOWED {
                    check.fail(
                        &allowed_path,
                        format!("needs 1..={MAX_ALLOWED} values, has {}", values.len()),
                    );
                }
                for (k, value) in values.iter().enumerate() {
                    check.text(&format!("{allowed_path}[{k}]"), Some(value), MAX_NAME);
                }
            }
            Some(Allowed::Pattern(pattern)) => {
                check.text(&allowed_path, Some(pattern), MAX_NAME);
            }
            None => {}
        }
        match Matcher::new(variable.allowed.as_ref()) {
            Ok(matcher) if !matcher.allows(&variable.default) => check.fail(
                &format!("{path}.default"),
                format!(
                    "{:?} is not one of the allowed values",
                    clip(&variable.default)
                ),
            ),
            Ok(_) => {}
            Err(error) => check.fail(
                &allowed_path,
                format!("is not a regular expression: {}", clip(&error)),
            ),
        }
    }
    // A viewer picks a variable's value in the URL: in a PromQL query only a value from
    // a list or pattern, or any viewer could have the source run any query.
    let open: BTreeMap<String, String> = spec
        .variables
        .iter()
        .filter(|(_, variable)| variable.allowed.is_none())
        .map(|(name, _)| (name.clone(), "\u{0}".to_string()))
        .collect();
    for (i, panel) in spec.panels.iter().enumerate() {
        for (j, series) in panel.series.iter().enumerate() {
            let Some(query) = &series.query else { continue };
            if variables::substitute(query, &open) != *query {
                check.fail(
                    &format!("panels[{i}].series[{j}].query"),
                    "uses a variable without `allowed` values: give it a list or a pattern, \
                     or a viewer could have the source run any query"
                        .into(),
                );
            }
        }
    }
}

/// Whether `name` can name a configured source: 1 to 64 of a-z, A-Z, 0-9, `_`, `-`.
pub fn valid_source_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Checks the `by` tag keys of a series query: only with an aggregate, each a
/// non-empty tag key listed once, at most 32.
fn check_by(check: &mut Checker, path: &str, series: &SeriesSpec) {
    if series.by.is_empty() {
        return;
    }
    let path = format!("{path}.by");
    if series.aggregate.is_none() {
        check.fail(
            &path,
            "groups an aggregate; set \"aggregate\" (sum, avg, min or max) or remove \"by\"".into(),
        );
    }
    if series.by.len() > 32 {
        check.fail(
            &path,
            format!("has {} tag keys, at most 32", series.by.len()),
        );
    }
    for (k, key) in series.by.iter().enumerate() {
        let key_path = format!("{path}[{k}]");
        if key.is_empty() {
            check.fail(&key_path, "is empty".into());
        }
        check.text(&key_path, Some(key), MAX_NAME);
        if series.by[..k].contains(key) {
            check.fail(&key_path, format!("{:?} is listed twice", clip(key)));
        }
    }
}

/// Resolves each panel's grid cell: given cells are checked, the rest fill free cells
/// in reading order.
fn place_panels(check: &mut Checker, panels: &[Panel], columns: u32, rows: u32) -> Vec<Cell> {
    let mut taken = vec![false; (columns * rows) as usize];
    let mut cells = vec![
        Cell {
            col: 0,
            row: 0,
            col_span: 1,
            row_span: 1
        };
        panels.len()
    ];
    for (i, panel) in panels.iter().enumerate() {
        let Some(cell) = panel.cell else { continue };
        let path = format!("panels[{i}].cell");
        let fits = cell.col_span >= 1
            && cell.row_span >= 1
            && cell
                .col
                .checked_add(cell.col_span)
                .is_some_and(|end| end <= columns)
            && cell
                .row
                .checked_add(cell.row_span)
                .is_some_and(|end| end <= rows);
        if !fits {
            check.fail(
                &path,
                format!(
                    "columns {}+{} and rows {}+{} do not fit the {columns}×{rows} layout",
                    cell.col, cell.col_span, cell.row, cell.row_span
                ),
            );
            continue;
        }
        let mut overlaps = false;
        for r in cell.row..cell.row + cell.row_span {
            for c in cell.col..cell.col + cell.col_span {
                let slot = &mut taken[(r * columns + c) as usize];
                overlaps |= *slot;
                *slot = true;
            }
        }
        if overlaps {
            check.fail(&path, "overlaps another panel".into());
        }
        cells[i] = cell;
    }
    for (i, panel) in panels.iter().enumerate() {
        if panel.cell.is_some() {
            continue;
        }
        match taken.iter().position(|t| !t) {
            Some(free) => {
                taken[free] = true;
                cells[i] = Cell {
                    col: free as u32 % columns,
                    row: free as u32 / columns,
                    col_span: 1,
                    row_span: 1,
                };
            }
            None => check.fail(
                &format!("panels[{i}]"),
                format!("no free cell left in the {columns}×{rows} layout"),
            ),
        }
    }
    cells
}

#[derive(Default)]
struct Checker {
    errors: Vec<ValidationError>,
}

impl Checker {
    fn fail(&mut self, path: &str, message: String) {
        self.errors.push(ValidationError {
            path: path.to_string(),
            message,
        });
    }

    fn text(&mut self, path: &str, value: Option<&str>, max: usize) {
        if let Some(text) = value {
            let length = text.chars().count();
            if length > max {
                self.fail(path, format!("is {length} characters long, at most {max}"));
            }
        }
    }

    /// The colour `value` names, if it is set and one (else the problem is recorded).
    fn color(&mut self, path: &str, value: Option<&str>) -> Option<Rgba> {
        let text = value?;
        let color = Rgba::parse(text);
        if color.is_none() {
            self.fail(
                path,
                format!(
                    "{:?} is not a colour (use #rgb, #rrggbb or #rrggbbaa)",
                    clip(text)
                ),
            );
        }
        color
    }

    fn window(&mut self, path: &str, value: Option<&str>) -> Option<i64> {
        let text = value?;
        match parse_duration_ms(text) {
            Some(ms) if (1000..=MAX_WINDOW_MS).contains(&ms) => Some(ms),
            Some(_) => {
                self.fail(path, format!("{:?} is outside 1s..=366d", clip(text)));
                None
            }
            None => {
                self.fail(
                    path,
                    format!(
                        "{:?} is not a duration (e.g. \"30s\", \"5m\", \"2h\", \"7d\")",
                        clip(text)
                    ),
                );
                None
            }
        }
    }
}

/// At most 40 characters of user text, for error messages.
fn clip(text: &str) -> String {
    let mut clipped: String = text.chars().take(40).collect();
    if clipped.len() < text.len() {
        clipped.push('…');
    }
    clipped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(variables: &str) -> Vec<String> {
        let json = format!(
            r#"{{"version":1,"width":100,"height":100,"variables":{variables},
            "panels":[{{"series":[{{"metric":"cpu","tags":{{"host":"$host"}}}}]}}]}}"#
        );
        match validate(Spec::from_json(&json).expect("parses")) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.0.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn variables_are_checked() {
        assert!(problems(r#"{"host":{"default":"db1","allowed":["db1","db2"]}}"#).is_empty());
        assert!(problems(r#"{"host":{"default":"db1","allowed":"db[0-9]"}}"#).is_empty());
        assert!(problems(r#"{"host":{"default":"anything"}}"#).is_empty());
        let bad = problems(r#"{"host":{"default":"db3","allowed":["db1"]}}"#);
        assert_eq!(
            bad,
            ["variables.host.default: \"db3\" is not one of the allowed values"]
        );
        let bad = problems(r#"{"host":{"default":"x","allowed":"("}}"#);
        assert_eq!(bad.len(), 1);
        assert!(bad[0].starts_with("variables.host.allowed: is not a regular expression"));
        let bad = problems(r#"{"2x":{"default":"a"},"h":{"default":"a","allowed":[]}}"#);
        assert_eq!(bad.len(), 3, "{bad:?}");
        assert!(bad[0].starts_with("variables.2x: \"2x\" is not a variable name"));
        assert_eq!(bad[1], "variables.h.allowed: needs 1..=256 values, has 0");
        let many: Vec<String> = (0..=MAX_VARIABLES)
            .map(|i| format!(r#""v{i}":{{"default":"a"}}"#))
            .collect();
        let bad = problems(&format!("{{{}}}", many.join(",")));
        assert_eq!(bad, ["variables: has 17 variables, at most 16"]);
    }
}
