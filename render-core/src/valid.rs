//! The validated spec: what [`crate::validate`] returns and [`crate::Renderer::render`]
//! takes. Every value drawing needs is resolved here (colours parsed, defaults applied,
//! cells placed, windows in ms), so drawing code never parses or defaults again.

use chrono_tz::Tz;

use crate::color::{Rgba, Theme};
use crate::format::ValueFormat;
use crate::layout::{Grid, PADDING};
use crate::spec::{Axis, Legend, PanelKind, Scroll, SeriesStyle, Spec};

/// The time window of a panel when neither it nor the chart sets one.
pub(crate) const DEFAULT_WINDOW_MS: i64 = 5 * 60_000;

/// How much data a render reads beyond its window on either side (see
/// [`ValidSpec::data_range`]).
pub const DATA_MARGIN_MS: i64 = 60_000;

/// A spec that passed validation, with everything the renderer needs resolved.
#[derive(Debug, Clone)]
pub struct ValidSpec {
    pub(crate) spec: Spec,
    pub(crate) theme: Theme,
    pub(crate) tz: Tz,
    pub(crate) grid: Grid,
    /// Each panel's resolved values, in panel order.
    pub(crate) panels: Vec<ValidPanel>,
    pub(crate) fps: u32,
}

/// One panel's values with its defaults applied.
#[derive(Debug, Clone)]
pub(crate) struct ValidPanel {
    /// Time window in ms: the panel's, else the chart's, else [`DEFAULT_WINDOW_MS`].
    pub window_ms: i64,
    /// How a time series panel draws its series.
    pub style: SeriesStyle,
    /// Legend placement and values.
    pub legend: Legend,
    /// The value axis (`min`/`max` stay optional: unset means "from the data").
    pub axis: Axis,
    /// How the panel writes values.
    pub format: ValueFormat,
    /// The value range of a gauge: the axis' `min` and `max`, default 0..100.
    pub gauge_range: (f64, f64),
    /// Threshold lines, bands and colour steps.
    pub thresholds: Vec<ValidThreshold>,
    /// One entry per series query of the spec, in order.
    pub series: Vec<ValidSeries>,
    /// Font size of a text panel in px.
    pub font_size: f32,
}

/// A threshold with its colour parsed.
#[derive(Debug, Clone)]
pub(crate) struct ValidThreshold {
    pub value: f64,
    /// Upper end of a band; `None` for a line.
    pub to: Option<f64>,
    pub color: Rgba,
    pub label: Option<String>,
}

/// A series query's drawing values.
#[derive(Debug, Clone)]
pub(crate) struct ValidSeries {
    /// The query's label, else its metric inside its transform and aggregate
    /// (`sum(rate(net_bytes))`).
    pub label: String,
    /// The query's colour; `None`: the next palette colour.
    pub color: Option<Rgba>,
    /// Line width in px.
    pub width: f32,
    /// Fill opacity below the line.
    pub fill: f32,
}

impl ValidSpec {
    /// The spec as written.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// Most frames per second a stream of this chart should render.
    pub fn fps(&self) -> u32 {
        self.fps
    }

    /// How a stream scrolls between data changes.
    pub fn scroll(&self) -> Scroll {
        self.spec.scroll.unwrap_or_default()
    }

    /// The longest time window of any panel, in ms: how much data a render needs.
    pub fn longest_window_ms(&self) -> i64 {
        self.panels
            .iter()
            .map(|p| p.window_ms)
            .max()
            .unwrap_or(DEFAULT_WINDOW_MS)
    }

    /// The time range of data a render at `now` reads, `(from, to)` in ms: the longest
    /// window plus [`DATA_MARGIN_MS`] before it (the point a line enters the window
    /// from, a counter's previous value) and after `now` (clocks a little ahead).
    /// The stream and the editor's preview both ask for exactly this, so they draw the
    /// same points.
    pub fn data_range(&self, now: i64) -> (i64, i64) {
        let from = now.saturating_sub(self.longest_window_ms().saturating_add(DATA_MARGIN_MS));
        (from, now.saturating_add(DATA_MARGIN_MS))
    }

    /// How many milliseconds it takes the fastest time axis to move one pixel, or
    /// `None` when no panel draws over time: a stream re-renders at least this often.
    ///
    /// Slightly less than the truth (the plot is a little narrower than its panel and
    /// the title is not subtracted), so a stream re-rendering this often never lags a
    /// pixel.
    pub fn time_resolution_ms(&self) -> Option<i64> {
        let area = self.grid.area(self.spec.width, self.spec.height);
        self.spec
            .panels
            .iter()
            .zip(self.grid.cell_rects(area))
            .zip(&self.panels)
            .filter(|((panel, _), _)| matches!(panel.kind, PanelKind::Timeseries | PanelKind::Stat))
            .map(|((_, rect), panel)| {
                (panel.window_ms as f64 / (rect.width() - 2.0 * PADDING).max(1.0) as f64) as i64
            })
            .min()
            .map(|ms| ms.max(1))
    }

    /// The time per pixel column a PromQL query of this spec is asked at: that of the
    /// finest time axis, else (gauges, bars) the data range over 300.
    pub fn query_resolution_ms(&self) -> i64 {
        let (from, to) = self.data_range(0);
        self.time_resolution_ms()
            .unwrap_or((to - from) / 300)
            .max(1)
    }

    /// Every distinct `(source, PromQL query)` the spec reads, sorted.
    pub fn queries(&self) -> Vec<(&str, &str)> {
        let mut queries: Vec<(&str, &str)> = self
            .spec
            .panels
            .iter()
            .flat_map(|p| &p.series)
            .filter_map(|s| Some((s.source.as_deref()?, s.query.as_deref()?)))
            .collect();
        queries.sort_unstable();
        queries.dedup();
        queries
    }

    /// Every metric name the spec reads (of the built-in store).
    pub fn metrics(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .spec
            .panels
            .iter()
            .flat_map(|p| p.series.iter().map(|s| s.metric.as_str()))
            .filter(|metric| !metric.is_empty())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}
