//! The form's model: every form control is a [`Field`] of the spec, read and written as
//! text. Each has a stable key (`p0.s1.color`) the DOM carries in `data-field`, so one
//! delegated listener serves the whole form (buttons are [`crate::actions::Action`]s).
//! Pure Rust: unit-tested natively and in wasm.

use std::collections::BTreeMap;

use render_core::spec::{
    Aggregate, Axis, Cell, Layout, Legend, LegendPosition, LegendValue, NumberFormat, Panel,
    PanelKind, Scale, SeriesSpec, SeriesStyle, ThemeName, Threshold, Transform,
};
use render_core::Spec;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A spec value a form control shows and edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Chart title.
    Title,
    /// Width in pixels.
    Width,
    /// Height in pixels.
    Height,
    /// Theme name.
    Theme,
    /// Chart time window.
    Window,
    /// Stream fps cap.
    Fps,
    /// Layout grid columns (empty: no explicit grid).
    Columns,
    /// Layout grid rows.
    Rows,
    /// Layout gap.
    Gap,
    /// A panel's setting.
    Panel(usize, PanelField),
    /// A series query's setting: panel, series.
    Series(usize, usize, SeriesField),
    /// A threshold's setting: panel, threshold.
    Threshold(usize, usize, ThresholdField),
}

/// A panel setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanelField {
    /// Kind.
    Kind,
    /// Title.
    Title,
    /// Timeseries style.
    Style,
    /// Time window override.
    Window,
    /// Grid column.
    Col,
    /// Grid row.
    Row,
    /// Columns spanned.
    ColSpan,
    /// Rows spanned.
    RowSpan,
    /// Y axis minimum.
    YMin,
    /// Y axis maximum.
    YMax,
    /// Y scale.
    Scale,
    /// Number format.
    Format,
    /// Unit.
    Unit,
    /// Decimals.
    Decimals,
    /// Legend position.
    Legend,
    /// Legend values, comma-separated.
    LegendValues,
    /// Text of a text panel.
    Text,
    /// Font size of a text panel.
    FontSize,
}

/// A series query setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesField {
    /// Metric name.
    Metric,
    /// A configured source (`GET /api/sources`) whose PromQL `query` this is.
    Source,
    /// A PromQL query of the source.
    Query,
    /// How often the source is asked again.
    Refresh,
    /// Tag filters as `k=v, k2=v2`.
    Tags,
    /// Legend label.
    Label,
    /// Colour.
    Color,
    /// Line width.
    Width,
    /// Fill opacity.
    Fill,
    /// Transform (rate, increase, delta, derivative).
    Transform,
    /// Aggregate across the matching series.
    Aggregate,
    /// Tag keys the aggregate groups by, comma-separated.
    By,
}

/// A threshold setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdField {
    /// Start value.
    Value,
    /// Band end.
    To,
    /// Colour.
    Color,
    /// Label.
    Label,
}

const PANEL_FIELDS: [(PanelField, &str); 18] = [
    (PanelField::Kind, "kind"),
    (PanelField::Title, "title"),
    (PanelField::Style, "style"),
    (PanelField::Window, "window"),
    (PanelField::Col, "col"),
    (PanelField::Row, "row"),
    (PanelField::ColSpan, "col_span"),
    (PanelField::RowSpan, "row_span"),
    (PanelField::YMin, "y_min"),
    (PanelField::YMax, "y_max"),
    (PanelField::Scale, "scale"),
    (PanelField::Format, "format"),
    (PanelField::Unit, "unit"),
    (PanelField::Decimals, "decimals"),
    (PanelField::Legend, "legend"),
    (PanelField::LegendValues, "legend_values"),
    (PanelField::Text, "text"),
    (PanelField::FontSize, "font_size"),
];

const SERIES_FIELDS: [(SeriesField, &str); 12] = [
    (SeriesField::Metric, "metric"),
    (SeriesField::Source, "source"),
    (SeriesField::Query, "query"),
    (SeriesField::Refresh, "refresh"),
    (SeriesField::Tags, "tags"),
    (SeriesField::Label, "label"),
    (SeriesField::Color, "color"),
    (SeriesField::Width, "width"),
    (SeriesField::Fill, "fill"),
    (SeriesField::Transform, "transform"),
    (SeriesField::Aggregate, "aggregate"),
    (SeriesField::By, "by"),
];

const THRESHOLD_FIELDS: [(ThresholdField, &str); 4] = [
    (ThresholdField::Value, "value"),
    (ThresholdField::To, "to"),
    (ThresholdField::Color, "color"),
    (ThresholdField::Label, "label"),
];

const CHART_FIELDS: [(Field, &str); 9] = [
    (Field::Title, "title"),
    (Field::Width, "width"),
    (Field::Height, "height"),
    (Field::Theme, "theme"),
    (Field::Window, "window"),
    (Field::Fps, "fps"),
    (Field::Columns, "columns"),
    (Field::Rows, "rows"),
    (Field::Gap, "gap"),
];

fn name_of<T: PartialEq + Copy>(table: &[(T, &'static str)], value: T) -> &'static str {
    table
        .iter()
        .find(|(v, _)| *v == value)
        .map_or("", |(_, n)| n)
}

fn value_of<T: Copy>(table: &[(T, &'static str)], name: &str) -> Option<T> {
    table.iter().find(|(_, n)| *n == name).map(|(v, _)| *v)
}

fn index(text: &str, prefix: char) -> Option<usize> {
    text.strip_prefix(prefix)?.parse().ok()
}

impl Field {
    /// The key the DOM carries: `title`, `p0.kind`, `p0.s1.color`, `p0.t0.value`.
    pub fn key(&self) -> String {
        match *self {
            Field::Panel(p, f) => format!("p{p}.{}", name_of(&PANEL_FIELDS, f)),
            Field::Series(p, s, f) => format!("p{p}.s{s}.{}", name_of(&SERIES_FIELDS, f)),
            Field::Threshold(p, t, f) => {
                format!("p{p}.t{t}.{}", name_of(&THRESHOLD_FIELDS, f))
            }
            chart => name_of(&CHART_FIELDS, chart).to_string(),
        }
    }

    /// Parses a key made by [`Field::key`].
    pub fn parse(key: &str) -> Option<Field> {
        let parts: Vec<&str> = key.split('.').collect();
        match parts.as_slice() {
            [name] => value_of(&CHART_FIELDS, name),
            [p, name] => Some(Field::Panel(index(p, 'p')?, value_of(&PANEL_FIELDS, name)?)),
            [p, item, name] => {
                let p = index(p, 'p')?;
                if let Some(s) = index(item, 's') {
                    Some(Field::Series(p, s, value_of(&SERIES_FIELDS, name)?))
                } else {
                    let t = index(item, 't')?;
                    Some(Field::Threshold(p, t, value_of(&THRESHOLD_FIELDS, name)?))
                }
            }
            _ => None,
        }
    }

    /// The field's value in `spec` as the form shows it ("" for unset).
    pub fn get(&self, spec: &Spec) -> String {
        match *self {
            Field::Title => spec.title.clone().unwrap_or_default(),
            Field::Width => spec.width.to_string(),
            Field::Height => spec.height.to_string(),
            Field::Theme => enum_name(&spec.theme),
            Field::Window => spec.window.clone().unwrap_or_default(),
            Field::Fps => opt(spec.fps),
            Field::Columns => opt(spec.layout.as_ref().map(|l| l.columns)),
            Field::Rows => opt(spec.layout.as_ref().map(|l| l.rows)),
            Field::Gap => opt(spec.layout.as_ref().and_then(|l| l.gap)),
            Field::Panel(p, f) => spec
                .panels
                .get(p)
                .map_or_else(String::new, |panel| panel_get(panel, f)),
            Field::Series(p, s, f) => spec
                .panels
                .get(p)
                .and_then(|panel| panel.series.get(s))
                .map_or_else(String::new, |series| series_get(series, f)),
            Field::Threshold(p, t, f) => spec
                .panels
                .get(p)
                .and_then(|panel| panel.thresholds.get(t))
                .map_or_else(String::new, |threshold| threshold_get(threshold, f)),
        }
    }

    /// Writes `value` (as typed in the form) into `spec`. An empty value unsets an
    /// optional setting. Range rules are left to validation, which names the path.
    /// On error `spec` is left as it was.
    pub fn set(&self, spec: &mut Spec, value: &str) -> Result<(), String> {
        let mut edited = spec.clone();
        self.set_inner(&mut edited, value.trim())?;
        *spec = edited;
        Ok(())
    }

    fn set_inner(&self, spec: &mut Spec, value: &str) -> Result<(), String> {
        match *self {
            Field::Title => spec.title = text(value),
            Field::Width => spec.width = number(value, "width")?,
            Field::Height => spec.height = number(value, "height")?,
            Field::Theme => spec.theme = enum_value(value, "theme")?,
            Field::Window => spec.window = text(value),
            Field::Fps => spec.fps = opt_number(value, "fps")?,
            Field::Columns | Field::Rows | Field::Gap => {
                let number: Option<u32> = opt_number(value, "layout")?;
                let layout = spec.layout.get_or_insert(Layout {
                    columns: 1,
                    rows: (spec.panels.len() as u32).max(1),
                    gap: None,
                });
                match (*self, number) {
                    (Field::Gap, n) => layout.gap = n,
                    (Field::Columns, Some(n)) => layout.columns = n,
                    (Field::Rows, Some(n)) => layout.rows = n,
                    _ => spec.layout = None,
                }
            }
            Field::Panel(p, f) => panel_set(panel_mut(spec, p)?, f, value)?,
            Field::Series(p, s, f) => {
                let series = panel_mut(spec, p)?
                    .series
                    .get_mut(s)
                    .ok_or_else(|| format!("panel {p} has no series {s}"))?;
                series_set(series, f, value)?;
            }
            Field::Threshold(p, t, f) => {
                let threshold = panel_mut(spec, p)?
                    .thresholds
                    .get_mut(t)
                    .ok_or_else(|| format!("panel {p} has no threshold {t}"))?;
                threshold_set(threshold, f, value)?;
            }
        }
        Ok(())
    }
}

fn panel_mut(spec: &mut Spec, p: usize) -> Result<&mut Panel, String> {
    spec.panels
        .get_mut(p)
        .ok_or_else(|| format!("there is no panel {p}"))
}

fn panel_get(panel: &Panel, field: PanelField) -> String {
    let axis = panel.y_axis.as_ref();
    let cell = panel.cell.as_ref();
    match field {
        PanelField::Kind => enum_name(&panel.kind),
        PanelField::Title => panel.title.clone().unwrap_or_default(),
        PanelField::Style => panel.style.as_ref().map(enum_name).unwrap_or_default(),
        PanelField::Window => panel.window.clone().unwrap_or_default(),
        PanelField::Col => opt(cell.map(|c| c.col)),
        PanelField::Row => opt(cell.map(|c| c.row)),
        PanelField::ColSpan => opt(cell.map(|c| c.col_span)),
        PanelField::RowSpan => opt(cell.map(|c| c.row_span)),
        PanelField::YMin => opt(axis.and_then(|a| a.min)),
        PanelField::YMax => opt(axis.and_then(|a| a.max)),
        PanelField::Scale => enum_name(&axis.map(|a| a.scale).unwrap_or_default()),
        PanelField::Format => enum_name(&axis.map(|a| a.format).unwrap_or_default()),
        PanelField::Unit => axis.and_then(|a| a.unit.clone()).unwrap_or_default(),
        PanelField::Decimals => opt(axis.and_then(|a| a.decimals)),
        PanelField::Legend => enum_name(
            &panel
                .legend
                .as_ref()
                .map(|l| l.position)
                .unwrap_or_default(),
        ),
        PanelField::LegendValues => panel
            .legend
            .as_ref()
            .map(|l| {
                l.values
                    .iter()
                    .map(enum_name)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
        PanelField::Text => panel.text.clone().unwrap_or_default(),
        PanelField::FontSize => opt(panel.font_size),
    }
}

fn panel_set(panel: &mut Panel, field: PanelField, value: &str) -> Result<(), String> {
    match field {
        PanelField::Kind => {
            panel.kind = enum_value(value, "panel kind")?;
            // Settings only some kinds accept would make the spec invalid: drop them.
            if panel.kind != PanelKind::Timeseries {
                panel.style = None;
            }
            if panel.kind == PanelKind::Text {
                panel.series.clear();
            } else {
                panel.text = None;
                panel.font_size = None;
            }
        }
        PanelField::Title => panel.title = text(value),
        PanelField::Style => panel.style = opt_enum::<SeriesStyle>(value, "style")?,
        PanelField::Window => panel.window = text(value),
        PanelField::Col | PanelField::Row | PanelField::ColSpan | PanelField::RowSpan => {
            let number: Option<u32> = opt_number(value, "grid cell")?;
            let Some(number) = number else {
                if matches!(field, PanelField::Col | PanelField::Row) {
                    panel.cell = None;
                }
                return Ok(());
            };
            let cell = panel.cell.get_or_insert(Cell {
                col: 0,
                row: 0,
                col_span: 1,
                row_span: 1,
            });
            match field {
                PanelField::Col => cell.col = number,
                PanelField::Row => cell.row = number,
                PanelField::ColSpan => cell.col_span = number,
                _ => cell.row_span = number,
            }
        }
        PanelField::YMin
        | PanelField::YMax
        | PanelField::Decimals
        | PanelField::Unit
        | PanelField::Scale
        | PanelField::Format => {
            let axis = panel.y_axis.get_or_insert_with(Axis::default);
            match field {
                PanelField::YMin => axis.min = opt_number(value, "y min")?,
                PanelField::YMax => axis.max = opt_number(value, "y max")?,
                PanelField::Decimals => axis.decimals = opt_number(value, "decimals")?,
                PanelField::Unit => axis.unit = text(value),
                PanelField::Scale => axis.scale = enum_value::<Scale>(value, "scale")?,
                _ => axis.format = enum_value::<NumberFormat>(value, "format")?,
            }
            if *axis == Axis::default() {
                panel.y_axis = None;
            }
        }
        PanelField::Legend | PanelField::LegendValues => {
            let legend = panel.legend.get_or_insert_with(Legend::default);
            if field == PanelField::Legend {
                legend.position = enum_value::<LegendPosition>(value, "legend")?;
            } else {
                legend.values = value
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(|v| enum_value::<LegendValue>(v, "legend value"))
                    .collect::<Result<_, _>>()?;
            }
            if *legend == Legend::default() {
                panel.legend = None;
            }
        }
        PanelField::Text => panel.text = text(value),
        PanelField::FontSize => panel.font_size = opt_number(value, "font size")?,
    }
    Ok(())
}

fn series_get(series: &SeriesSpec, field: SeriesField) -> String {
    match field {
        SeriesField::Metric => series.metric.clone(),
        SeriesField::Source => series.source.clone().unwrap_or_default(),
        SeriesField::Query => series.query.clone().unwrap_or_default(),
        SeriesField::Refresh => series.refresh.clone().unwrap_or_default(),
        SeriesField::Tags => format_tags(&series.tags),
        SeriesField::Label => series.label.clone().unwrap_or_default(),
        SeriesField::Color => series.color.clone().unwrap_or_default(),
        SeriesField::Width => opt(series.width),
        SeriesField::Fill => opt(series.fill),
        SeriesField::Transform => series.transform.as_ref().map(enum_name).unwrap_or_default(),
        SeriesField::Aggregate => series.aggregate.as_ref().map(enum_name).unwrap_or_default(),
        SeriesField::By => series.by.join(", "),
    }
}

fn series_set(series: &mut SeriesSpec, field: SeriesField, value: &str) -> Result<(), String> {
    match field {
        SeriesField::Metric => {
            series.metric = value.to_string();
            // A metric of the built-in store is not a query of a source.
            if !value.is_empty() {
                (series.source, series.query, series.refresh) = (None, None, None);
            }
        }
        SeriesField::Source => series.source = text(value),
        SeriesField::Query => {
            series.query = text(value);
            // What only applies to a metric would make the spec invalid: drop it.
            if series.query.is_some() {
                series.metric.clear();
                series.tags.clear();
                (series.transform, series.aggregate) = (None, None);
                series.by.clear();
            }
        }
        SeriesField::Refresh => series.refresh = text(value),
        SeriesField::Tags => series.tags = parse_tags(value)?,
        SeriesField::Label => series.label = text(value),
        SeriesField::Color => series.color = text(value),
        SeriesField::Width => series.width = opt_number(value, "line width")?,
        SeriesField::Fill => series.fill = opt_number(value, "fill")?,
        SeriesField::Transform => series.transform = opt_enum(value, "transform")?,
        SeriesField::Aggregate => {
            series.aggregate = opt_enum(value, "aggregate")?;
            // Grouping without an aggregate would make the spec invalid: drop it.
            if series.aggregate.is_none() {
                series.by.clear();
            }
        }
        SeriesField::By => {
            series.by = value
                .split(',')
                .map(str::trim)
                .filter(|key| !key.is_empty())
                .map(str::to_string)
                .collect()
        }
    }
    Ok(())
}

fn threshold_get(threshold: &Threshold, field: ThresholdField) -> String {
    match field {
        ThresholdField::Value => threshold.value.to_string(),
        ThresholdField::To => opt(threshold.to),
        ThresholdField::Color => threshold.color.clone(),
        ThresholdField::Label => threshold.label.clone().unwrap_or_default(),
    }
}

fn threshold_set(
    threshold: &mut Threshold,
    field: ThresholdField,
    value: &str,
) -> Result<(), String> {
    match field {
        ThresholdField::Value => threshold.value = number(value, "threshold value")?,
        ThresholdField::To => threshold.to = opt_number(value, "threshold end")?,
        ThresholdField::Color => threshold.color = value.to_string(),
        ThresholdField::Label => threshold.label = text(value),
    }
    Ok(())
}

/// Tag filters as the form writes them: `k=v, k2=v2`.
pub fn format_tags(tags: &BTreeMap<String, String>) -> String {
    tags.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses `k=v, k2=v2` tag filters.
pub fn parse_tags(text: &str) -> Result<BTreeMap<String, String>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => Err(format!("tag filter {pair:?} is not key=value")),
        })
        .collect()
}

fn text(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_string())
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn number<T: std::str::FromStr>(value: &str, what: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{what}: {value:?} is not a number"))
}

fn opt_number<T: std::str::FromStr>(value: &str, what: &str) -> Result<Option<T>, String> {
    if value.is_empty() {
        Ok(None)
    } else {
        number(value, what).map(Some)
    }
}

/// The snake_case name serde gives a unit enum variant.
pub fn enum_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

fn enum_value<T: DeserializeOwned>(value: &str, what: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(value.to_string()))
        .map_err(|_| format!("{what}: {value:?} is not one of the choices"))
}

/// An optional enum setting: empty unsets it.
fn opt_enum<T: DeserializeOwned>(value: &str, what: &str) -> Result<Option<T>, String> {
    if value.is_empty() {
        Ok(None)
    } else {
        enum_value(value, what).map(Some)
    }
}

/// The choices of the enum-valued fields, for `<select>`s.
pub fn choices(field: &Field) -> Option<Vec<String>> {
    fn names<T: Serialize>(values: &[T]) -> Vec<String> {
        values.iter().map(enum_name).collect()
    }
    /// An optional setting's choices: "" (unset) first.
    fn optional<T: Serialize>(values: &[T]) -> Vec<String> {
        let mut list: Vec<String> = vec![String::new()];
        list.extend(names(values));
        list
    }
    Some(match field {
        Field::Theme => names(&ThemeName::ALL),
        Field::Panel(_, PanelField::Kind) => names(&PanelKind::ALL),
        Field::Panel(_, PanelField::Style) => optional(&SeriesStyle::ALL),
        Field::Panel(_, PanelField::Scale) => names(&Scale::ALL),
        Field::Panel(_, PanelField::Format) => names(&NumberFormat::ALL),
        Field::Panel(_, PanelField::Legend) => names(&LegendPosition::ALL),
        Field::Series(_, _, SeriesField::Transform) => optional(&Transform::ALL),
        Field::Series(_, _, SeriesField::Aggregate) => optional(&Aggregate::ALL),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::Action;
    use crate::state::{check, NEW_CHART};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test;

    fn spec() -> Spec {
        Spec::from_json(NEW_CHART).expect("the new chart parses")
    }

    fn all_fields() -> Vec<Field> {
        let mut fields: Vec<Field> = CHART_FIELDS.iter().map(|(f, _)| *f).collect();
        fields.extend(PANEL_FIELDS.iter().map(|(f, _)| Field::Panel(3, *f)));
        fields.extend(SERIES_FIELDS.iter().map(|(f, _)| Field::Series(0, 12, *f)));
        fields.extend(
            THRESHOLD_FIELDS
                .iter()
                .map(|(f, _)| Field::Threshold(1, 2, *f)),
        );
        fields
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn keys_round_trip() {
        for field in all_fields() {
            assert_eq!(Field::parse(&field.key()), Some(field), "{}", field.key());
        }
        for bad in [
            "",
            "p",
            "px.kind",
            "p0.nope",
            "p0.s.metric",
            "p0.x1.value",
            "a.b.c.d",
        ] {
            assert_eq!(Field::parse(bad), None, "{bad}");
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_query_replaces_the_metric_and_a_metric_the_query() {
        let mut spec = spec();
        Action::AddSeries(0, "cpu{host=a}".into())
            .apply(&mut spec)
            .expect("add series");
        let s = spec.panels[0].series.len() - 1;
        for (field, value) in [
            (SeriesField::Transform, "rate"),
            (SeriesField::Source, "prom"),
            (SeriesField::Query, "sum(rate(cpu[1m]))"),
            (SeriesField::Refresh, "10s"),
        ] {
            Field::Series(0, s, field)
                .set(&mut spec, value)
                .expect(value);
        }
        let series = &spec.panels[0].series[s];
        assert!(series.metric.is_empty() && series.tags.is_empty() && series.transform.is_none());
        assert_eq!(series.query.as_deref(), Some("sum(rate(cpu[1m]))"));
        assert!(check(&serde_json::to_string(&spec).expect("json")).is_ok());
        Field::Series(0, s, SeriesField::Metric)
            .set(&mut spec, "cpu")
            .expect("metric");
        let series = &spec.panels[0].series[s];
        assert!(series.source.is_none() && series.query.is_none() && series.refresh.is_none());
        assert!(check(&serde_json::to_string(&spec).expect("json")).is_ok());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn every_field_reads_back_what_was_set() {
        let mut spec = spec();
        Action::AddSeries(0, "temp{room=kitchen}".into())
            .apply(&mut spec)
            .expect("add series");
        Action::AddThreshold(0)
            .apply(&mut spec)
            .expect("add threshold");
        let cases: Vec<(Field, &str)> = vec![
            (Field::Title, "Heat"),
            (Field::Width, "800"),
            (Field::Theme, "dark"),
            (Field::Window, "15m"),
            (Field::Fps, "5"),
            (Field::Columns, "2"),
            (Field::Rows, "3"),
            (Field::Gap, "4"),
            (Field::Panel(0, PanelField::Style), "area"),
            (Field::Panel(0, PanelField::Col), "1"),
            (Field::Panel(0, PanelField::RowSpan), "2"),
            (Field::Panel(0, PanelField::YMin), "-5.5"),
            (Field::Panel(0, PanelField::Scale), "log"),
            (Field::Panel(0, PanelField::Format), "bytes"),
            (Field::Panel(0, PanelField::Unit), "°C"),
            (Field::Panel(0, PanelField::Legend), "right"),
            (Field::Panel(0, PanelField::LegendValues), "last, max"),
            (Field::Series(0, 0, SeriesField::Tags), "host=a, room=b"),
            (Field::Series(0, 0, SeriesField::Color), "#ff0000"),
            (Field::Series(0, 0, SeriesField::Width), "1.5"),
            (Field::Series(0, 0, SeriesField::Fill), "0.3"),
            (Field::Series(0, 0, SeriesField::Transform), "rate"),
            (Field::Series(0, 0, SeriesField::Aggregate), "sum"),
            (Field::Series(0, 0, SeriesField::By), "host, room"),
            (Field::Threshold(0, 0, ThresholdField::Value), "90"),
            (Field::Threshold(0, 0, ThresholdField::To), "95"),
            (Field::Threshold(0, 0, ThresholdField::Label), "hot"),
        ];
        for (field, value) in cases {
            field.set(&mut spec, value).expect("set");
            assert_eq!(field.get(&spec), value, "{}", field.key());
        }
        assert_eq!(
            spec.panels[0].series[0]
                .tags
                .get("room")
                .map(String::as_str),
            Some("b")
        );
        // Empty unsets optional settings; the now-default axis and legend go away.
        Field::Title.set(&mut spec, "").expect("unset title");
        assert_eq!(spec.title, None);
        for f in [PanelField::YMin, PanelField::Unit] {
            Field::Panel(0, f).set(&mut spec, "").expect("unset");
        }
        Field::Panel(0, PanelField::Scale)
            .set(&mut spec, "linear")
            .expect("linear");
        Field::Panel(0, PanelField::Format)
            .set(&mut spec, "number")
            .expect("number");
        assert_eq!(spec.panels[0].y_axis, None);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn bad_input_is_refused_with_a_message() {
        let mut spec = spec();
        assert!(Field::Width.set(&mut spec, "wide").is_err());
        assert!(Field::Theme.set(&mut spec, "neon").is_err());
        assert!(Field::Panel(0, PanelField::LegendValues)
            .set(&mut spec, "last, median")
            .is_err());
        assert!(Field::Panel(9, PanelField::Title)
            .set(&mut spec, "x")
            .is_err());
        assert!(Field::Series(0, 0, SeriesField::Color)
            .set(&mut spec, "#fff")
            .is_err());
        assert!(parse_tags("host").is_err());
        assert!(
            Action::RemovePanel(0).apply(&mut spec).is_err(),
            "the last panel stays"
        );
        assert_eq!(spec, self::spec());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn transform_aggregate_and_by_edit_the_series_query() {
        let mut spec = spec();
        Action::AddSeries(0, "net_bytes".into())
            .apply(&mut spec)
            .expect("series");
        let field = |f| Field::Series(0, 0, f);
        assert_eq!(
            choices(&field(SeriesField::Transform)),
            Some(
                ["", "rate", "increase", "delta", "derivative"]
                    .map(String::from)
                    .to_vec()
            )
        );
        assert_eq!(
            choices(&field(SeriesField::Aggregate)),
            Some(["", "sum", "avg", "min", "max"].map(String::from).to_vec())
        );
        field(SeriesField::Transform)
            .set(&mut spec, "rate")
            .expect("transform");
        field(SeriesField::By)
            .set(&mut spec, " host,, core ")
            .expect("by");
        let series = &spec.panels[0].series[0];
        assert_eq!(series.transform, Some(Transform::Rate));
        assert_eq!(series.by, ["host", "core"]);
        // `by` without an aggregate: validation names the place.
        let problems =
            check(&serde_json::to_string(&spec).expect("json")).expect_err("no aggregate");
        assert_eq!(
            problems.iter().map(|p| p.path.as_str()).collect::<Vec<_>>(),
            ["panels[0].series[0].by"]
        );
        field(SeriesField::Aggregate)
            .set(&mut spec, "avg")
            .expect("aggregate");
        assert!(check(&serde_json::to_string(&spec).expect("json")).is_ok());
        assert!(field(SeriesField::Aggregate)
            .set(&mut spec, "median")
            .is_err());
        // Unsetting the aggregate drops its grouping, so the spec stays valid.
        field(SeriesField::Aggregate)
            .set(&mut spec, "")
            .expect("no aggregate");
        field(SeriesField::Transform)
            .set(&mut spec, "")
            .expect("no transform");
        let series = &spec.panels[0].series[0];
        assert_eq!((series.aggregate, series.transform), (None, None));
        assert!(series.by.is_empty());
        assert!(check(&serde_json::to_string(&spec).expect("json")).is_ok());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn changing_the_kind_keeps_the_spec_valid() {
        let mut spec = spec();
        Field::Panel(0, PanelField::Style)
            .set(&mut spec, "step")
            .expect("style");
        Action::AddSeries(0, "cpu".into())
            .apply(&mut spec)
            .expect("series");
        for kind in ["gauge", "text", "stat", "bar", "timeseries"] {
            Field::Panel(0, PanelField::Kind)
                .set(&mut spec, kind)
                .expect("kind");
            let json = serde_json::to_string(&spec).expect("json");
            assert!(check(&json).is_ok(), "{kind}: {:?}", check(&json).err());
        }
    }
}
