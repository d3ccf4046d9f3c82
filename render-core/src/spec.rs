//! The chart spec: the JSON a user writes (serde model, `deny_unknown_fields`).
//!
//! This is the *parsed* form. [`crate::validate`] checks it and turns it into a
//! [`crate::ValidSpec`], which is the only thing [`crate::Renderer::render`] accepts.
//!
//! Its JSON Schema ([`json_schema`], derived by schemars) is the one description of the
//! fields: the editor builds its form from it, so the `range` and `format = "color"`
//! annotations here decide the controls (number limits, colour pickers) too.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The spec format version this build understands.
pub const SPEC_VERSION: u32 = 1;

/// One image: its size, theme, title and a grid of panels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Spec format version; must be 1.
    pub version: u32,
    /// Image width in pixels (1..=4096).
    #[schemars(range(min = 1, max = 4096))]
    pub width: u32,
    /// Image height in pixels (1..=4096).
    #[schemars(range(min = 1, max = 4096))]
    pub height: u32,
    /// Colour theme.
    #[serde(default)]
    pub theme: ThemeName,
    /// Colour overrides on top of the theme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colors: Option<ColorOverrides>,
    /// Title drawn across the top of the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// IANA time zone for time axis labels, e.g. `Europe/Berlin`. Default `UTC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Default rolling time window of time series panels, e.g. `5m`, `1h`, `30s`, `2d`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    /// Maximum frames per second a stream of this chart renders (1..=30). Default 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 30))]
    pub fps: Option<u32>,
    /// How a stream scrolls its time axes between data changes. Default `step`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scroll: Option<Scroll>,
    /// Grid the panels are placed on. Default: one column, one row per panel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<Layout>,
    /// The panels, at least one.
    pub panels: Vec<Panel>,
    /// Variables viewers choose in the URL (`?var-host=db2`), used as `$host` or
    /// `${host}` in titles, texts, labels and tag filters. Default: none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, Variable>,
}

/// A variable: its value when the URL names none, and the values a viewer may choose.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    /// The value when the URL has no `var-NAME`; must itself be allowed.
    pub default: String,
    /// The values a viewer may choose: a list, or a regular expression the whole value
    /// must match (e.g. `"db[0-9]+"`). Default: any value of at most 200 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Allowed>,
}

/// The values a variable may take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Allowed {
    /// Exactly these values.
    List(Vec<String>),
    /// Every value this regular expression matches as a whole (anchored at both ends).
    Pattern(String),
}

/// How a stream re-renders while no new data arrives (data changes always re-render,
/// capped by `fps`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scroll {
    /// The time axis moves in steps: a frame once it moved 8 px, or 1.5 s after the
    /// last frame, whichever comes first (and never faster than one pixel's time).
    #[default]
    Step,
    /// A frame every time a time axis moves a pixel (costs more frames per second).
    Smooth,
}

/// Built-in colour themes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ThemeName {
    /// Dark text on white.
    #[default]
    Light,
    /// Light text on near-black.
    Dark,
}

/// Colour overrides; each is a CSS hex colour `#rgb`, `#rrggbb` or `#rrggbbaa`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ColorOverrides {
    /// Image background.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "color"))]
    pub background: Option<String>,
    /// Panel background.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "color"))]
    pub panel: Option<String>,
    /// Text colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "color"))]
    pub text: Option<String>,
    /// Secondary text (tick labels, legend values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "color"))]
    pub muted: Option<String>,
    /// Grid lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "color"))]
    pub grid: Option<String>,
    /// Series colours used in order when a series names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub palette: Option<Vec<String>>,
}

/// The grid panels sit on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// Number of columns (1..=16).
    #[schemars(range(min = 1, max = 16))]
    pub columns: u32,
    /// Number of rows (1..=16).
    #[schemars(range(min = 1, max = 16))]
    pub rows: u32,
    /// Gap between panels in pixels. Default 8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<u32>,
}

/// What a panel draws.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PanelKind {
    /// Values over a rolling time window.
    #[default]
    Timeseries,
    /// One bar per series: its latest value.
    Bar,
    /// An arc from min to max showing the latest value.
    Gauge,
    /// The latest value in big type, with a sparkline.
    Stat,
    /// A heading or note.
    Text,
}

/// How a time series panel draws its series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SeriesStyle {
    /// Straight lines between points.
    #[default]
    Line,
    /// Lines with the area below filled.
    Area,
    /// Areas stacked on top of each other.
    StackedArea,
    /// Steps: the value holds until the next point.
    Step,
    /// One bar per point.
    Bars,
    /// Dots only.
    Points,
}

/// One panel of the grid.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Panel {
    /// Panel kind. Default `timeseries`.
    #[serde(default)]
    pub kind: PanelKind,
    /// Title drawn at the top of the panel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Cell of the layout grid. Default: the next free row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell: Option<Cell>,
    /// Series to draw (not for `text`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<SeriesSpec>,
    /// Drawing style of a `timeseries` panel. Default `line`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<SeriesStyle>,
    /// Rolling time window, overriding the chart's, e.g. `15m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    /// Value axis: range, scale and number format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y_axis: Option<Axis>,
    /// Threshold lines and bands (time series, bars); colour steps (gauge, stat).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<Threshold>,
    /// Legend placement and values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legend: Option<Legend>,
    /// Text of a `text` panel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Font size of a `text` panel in pixels (6..=200). Default 16.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 6, max = 200))]
    pub font_size: Option<f32>,
}

/// A place on the layout grid (zero-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cell {
    /// First column.
    pub col: u32,
    /// First row.
    pub row: u32,
    /// Columns spanned. Default 1.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    #[schemars(range(min = 1, max = 16))]
    pub col_span: u32,
    /// Rows spanned. Default 1.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    #[schemars(range(min = 1, max = 16))]
    pub row_span: u32,
}

fn one() -> u32 {
    1
}

fn is_one(value: &u32) -> bool {
    *value == 1
}

/// One series query: a metric name plus tag filters, optionally transformed and
/// aggregated; or a PromQL `query` of a configured `source`.
///
/// Every data series with this metric whose tags include all the filter tags is drawn;
/// several matches draw several lines (e.g. one per CPU core) unless `aggregate`
/// combines them (e.g. into the CPU total). A PromQL query draws every series of its
/// result (its labels are the series' tags).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeriesSpec {
    /// Metric name, e.g. `cpu_usage` (of the built-in store). Either `metric` or
    /// `source` + `query`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub metric: String,
    /// A data source the server is configured with (`GET /api/sources`), e.g. `prom`;
    /// only with `query`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// A PromQL query of `source`, e.g. `sum by (mode) (rate(node_cpu_seconds_total[1m]))`;
    /// asked at the chart's time per pixel column. `tags`, `transform`, `aggregate` and
    /// `by` do not apply (PromQL does all of that).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// How often the server asks `source` again, e.g. `10s` (1s..=1h). Default: the
    /// source's, else 5s; never more often than one query step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<String>,
    /// Tag filters: a data series must carry each of these tags with this value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Legend label. `{{tag}}` is replaced by the series' value of that tag (e.g.
    /// `"{{mode}}"`). Default: the metric (or the query), inside its transform and
    /// aggregate (`rate(net_bytes)`, `sum(rate(net_bytes))`), and the tags that tell the
    /// series apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Colour. Default: the next palette colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "color"))]
    pub color: Option<String>,
    /// Line width in pixels (0.5..=10). Default 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.5, max = 10))]
    pub width: Option<f32>,
    /// Fill opacity below the line (0..=1). Default 0, or 0.25 for area styles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1))]
    pub fill: Option<f32>,
    /// Turns each matching series into its rate, increase, delta or derivative (before
    /// `aggregate`). Default: the values as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<Transform>,
    /// Combines the matching series into one series per `by` group. Default: each
    /// matching series is drawn on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<Aggregate>,
    /// Tag keys `aggregate` groups by, like PromQL's `sum by (host)`: one series per
    /// combination of their values, tagged with exactly these tags. Default: one group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by: Vec<String>,
}

/// What a series query draws instead of each series' values. Output points sit at the
/// series' own times, one per point after the first, computed from the point before;
/// a non-finite value makes the outputs at its point and the next one gaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// Per-second increase of a counter; a drop is a counter reset (as in Prometheus).
    Rate,
    /// Increase of a counter since the point before; a drop is a counter reset, after
    /// which the new value is the increase (counted from 0).
    Increase,
    /// Difference to the point before (may be negative).
    Delta,
    /// Difference to the point before per second (may be negative).
    Derivative,
}

/// How `aggregate` combines the series of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// Sum of the values.
    Sum,
    /// Mean of the values.
    Avg,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
}

/// A value axis.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    /// Fixed lower end. Default: from the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Fixed upper end. Default: from the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Scale. Default `linear`.
    #[serde(default)]
    pub scale: Scale,
    /// How numbers are written. Default `number`.
    #[serde(default)]
    pub format: NumberFormat,
    /// Unit written after each value, e.g. `°C` or `req/s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Fixed number of decimals (0..=10). Default: as many as the values need.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 10))]
    pub decimals: Option<u32>,
}

/// Value axis scale.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Linear.
    #[default]
    Linear,
    /// Base-10 logarithmic; values ≤ 0 are left out.
    Log,
}

/// How values are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NumberFormat {
    /// Plain number: `1234.5`.
    #[default]
    Number,
    /// SI prefixes: `1.2k`, `3.4M`, `5m`.
    Si,
    /// Value is already a percentage: `42%`.
    Percent,
    /// Value is a ratio 0..1 shown as a percentage: `0.42` -> `42%`.
    Ratio,
    /// Bytes with binary prefixes: `1.5 KiB`, `2 GiB`.
    Bytes,
    /// Bits per second with SI prefixes: `12 Mb/s`.
    Bits,
}

/// A horizontal threshold: a line at `value`, or a band from `value` to `to`.
///
/// Gauges and stats use thresholds as colour steps: a value at or above a threshold's
/// `value` takes its colour.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// Where the line (or band) starts.
    pub value: f64,
    /// Colour.
    #[schemars(extend("format" = "color"))]
    pub color: String,
    /// Upper end of a band. Default: a line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<f64>,
    /// Label drawn at the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Legend placement and the summary values it shows per series.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Legend {
    /// Where the legend sits. Default `bottom`.
    #[serde(default)]
    pub position: LegendPosition,
    /// Values shown next to each series name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<LegendValue>,
}

/// Legend placement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LegendPosition {
    /// Below the plot.
    #[default]
    Bottom,
    /// Above the plot.
    Top,
    /// Right of the plot.
    Right,
    /// No legend.
    None,
}

/// A summary value shown in the legend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LegendValue {
    /// Latest value.
    Last,
    /// Minimum in the window.
    Min,
    /// Maximum in the window.
    Max,
    /// Mean over the window.
    Avg,
}

impl ThemeName {
    /// Every variant, in the order forms list them.
    pub const ALL: [ThemeName; 2] = [ThemeName::Light, ThemeName::Dark];

    /// The name the JSON (and the `theme` URL parameter) uses.
    pub fn name(self) -> &'static str {
        match self {
            ThemeName::Light => "light",
            ThemeName::Dark => "dark",
        }
    }
}

impl PanelKind {
    /// Every variant, in the order forms list them.
    pub const ALL: [PanelKind; 5] = [
        PanelKind::Timeseries,
        PanelKind::Bar,
        PanelKind::Gauge,
        PanelKind::Stat,
        PanelKind::Text,
    ];
}

impl SeriesStyle {
    /// Every variant, in the order forms list them.
    pub const ALL: [SeriesStyle; 6] = [
        SeriesStyle::Line,
        SeriesStyle::Area,
        SeriesStyle::StackedArea,
        SeriesStyle::Step,
        SeriesStyle::Bars,
        SeriesStyle::Points,
    ];
}

impl Scale {
    /// Every variant, in the order forms list them.
    pub const ALL: [Scale; 2] = [Scale::Linear, Scale::Log];
}

impl NumberFormat {
    /// Every variant, in the order forms list them.
    pub const ALL: [NumberFormat; 6] = [
        NumberFormat::Number,
        NumberFormat::Si,
        NumberFormat::Percent,
        NumberFormat::Ratio,
        NumberFormat::Bytes,
        NumberFormat::Bits,
    ];
}

impl LegendPosition {
    /// Every variant, in the order forms list them.
    pub const ALL: [LegendPosition; 4] = [
        LegendPosition::Bottom,
        LegendPosition::Top,
        LegendPosition::Right,
        LegendPosition::None,
    ];
}

impl Transform {
    /// Every variant, in the order forms list them.
    pub const ALL: [Transform; 4] = [
        Transform::Rate,
        Transform::Increase,
        Transform::Delta,
        Transform::Derivative,
    ];
}

impl Aggregate {
    /// Every variant, in the order forms list them.
    pub const ALL: [Aggregate; 4] = [
        Aggregate::Sum,
        Aggregate::Avg,
        Aggregate::Min,
        Aggregate::Max,
    ];
}

impl Spec {
    /// Parses spec JSON; serde's message names the line and column of a syntax error.
    pub fn from_json(json: &str) -> Result<Spec, serde_json::Error> {
        serde_json::from_str(json)
    }
}

/// The JSON Schema of [`Spec`], as served to the editor and API clients.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Spec)).unwrap_or(serde_json::Value::Null)
}
