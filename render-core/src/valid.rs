//! The validated spec: what [`crate::validate`] returns and [`crate::Renderer::render`]
//! takes. Every value drawing needs is resolved here (colours parsed, defaults applied,
//! cells placed, windows in ms), so drawing code never parses or defaults again.

use chrono_tz::Tz;

use crate::color::{Rgba, Theme};
use crate::format::ValueFormat;
use crate::layout::{Grid, PADDING};
use crate::spec::{Axis, Legend, PanelKind, Scroll, SeriesSpec, SeriesStyle, Spec};
use crate::transform;

/// The time window of a panel when neither it nor the chart sets one.
pub(crate) const DEFAULT_WINDOW_MS: i64 = 5 * 60_000;

/// How much data a render reads beyond its window on either side (see
/// [`ValidSpec::data_range`]).
pub const DATA_MARGIN_MS: i64 = 60_000;

/// A stretch of a [`ValidSpec::read_plan`]: from `from` (ms since the epoch) until the
/// next stretch starts, read at `resolution_ms` per pixel column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReadStretch {
    /// First time of the stretch.
    pub from: i64,
    /// Time per pixel column of the finest panel drawing this stretch, ms (≥ 1).
    pub resolution_ms: i64,
    /// No panel reaching this stretch draws the line through the points themselves:
    /// each reads values at points only (a `transform`, an `aggregate`, a gauge's or a
    /// bar's latest value). A source holding rollups may then answer with one real
    /// point per bucket (its last) instead of the points that draw its extremes.
    pub values_only: bool,
}

impl ReadStretch {
    /// The stretch's step as a query parameter: `STEP`, or `STEP:values` when
    /// [`ReadStretch::values_only`] (`GET /api/series/points`' `step` and `then`).
    pub fn step_param(&self) -> String {
        match self.values_only {
            true => format!("{}:values", self.resolution_ms),
            false => self.resolution_ms.to_string(),
        }
    }

    /// A stretch from `from` with the step of [`ReadStretch::step_param`], or `None`
    /// when `step` is not a positive number of ms (with `:values` or not).
    pub fn with_step_param(from: i64, step: &str) -> Option<ReadStretch> {
        let (ms, values_only) = match step.strip_suffix(":values") {
            Some(ms) => (ms, true),
            None => (step, false),
        };
        Some(ReadStretch {
            from,
            resolution_ms: ms.parse().ok().filter(|ms| *ms > 0)?,
            values_only,
        })
    }
}

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
        self.panel_resolutions_ms().flatten().min()
    }

    /// Per panel, in panel order, the time per pixel column of its time axis (as
    /// [`ValidSpec::time_resolution_ms`] computes it), `None` for a panel without one.
    fn panel_resolutions_ms(&self) -> impl Iterator<Item = Option<i64>> + '_ {
        self.spec
            .panels
            .iter()
            .zip(self.panel_columns_ms())
            .map(|(panel, column_ms)| {
                matches!(panel.kind, PanelKind::Timeseries | PanelKind::Stat).then_some(column_ms)
            })
    }

    /// Per panel, in panel order, its window over the width of its area (inside the
    /// padding; [`transform::column_ms`], its aggregation columns): the time per pixel
    /// column of a time axis, and what a panel without one (gauge, bar) reads at.
    fn panel_columns_ms(&self) -> impl Iterator<Item = i64> + '_ {
        let area = self.grid.area(self.spec.width, self.spec.height);
        self.grid
            .cell_rects(area)
            .into_iter()
            .zip(&self.panels)
            .map(|(rect, valid)| {
                // The panel's area as `chart.rs` insets it (titles take height only).
                let area = rect.inset(PADDING, PADDING, PADDING, PADDING);
                transform::column_ms(valid.window_ms, area.width())
            })
    }

    /// How a render at `now` reads the built-in series of `metric`: stretches of time,
    /// oldest first, each at the time per pixel column of the finest panel drawing
    /// `metric` whose data range reaches it (a panel's data range: its window with
    /// [`DATA_MARGIN_MS`] on either side, as in [`ValidSpec::data_range`]; a panel
    /// without a time axis, whose gauges or bars show the latest value read, at its
    /// window over its width too), and values
    /// only ([`ReadStretch::values_only`]) unless one of those panels draws a series
    /// of `metric` as it is (a time series or stat panel's query without transform or
    /// aggregate). A stretch lasts until the next one starts, the last until
    /// `data_range(now).1`; empty when no panel draws `metric`. So a 30-day panel next
    /// to a 1-hour panel of the same metric reads its older 29 days at its own
    /// resolution, not at the hour's. The stream and the editor's preview both read
    /// exactly this.
    pub fn read_plan(&self, metric: &str, now: i64) -> Vec<ReadStretch> {
        // (from, resolution, draws a line through the points).
        let mut reads: Vec<(i64, i64, bool)> = self
            .spec
            .panels
            .iter()
            .zip(&self.panels)
            .zip(self.panel_columns_ms())
            .filter_map(|((panel, valid), resolution_ms)| {
                let of_metric = |s: &&SeriesSpec| s.query.is_none() && s.metric == metric;
                let mut series = panel.series.iter().filter(of_metric).peekable();
                series.peek()?;
                let lines = matches!(panel.kind, PanelKind::Timeseries | PanelKind::Stat)
                    && series.any(|s| s.transform.is_none() && s.aggregate.is_none());
                let from = now.saturating_sub(valid.window_ms.saturating_add(DATA_MARGIN_MS));
                Some((from, resolution_ms, lines))
            })
            .collect();
        reads.sort_unstable();
        // At a time t the panels reaching it are those starting at or before t: walking
        // from the oldest start, the finest resolution so far, and lines once any of
        // them draws one.
        let mut plan: Vec<ReadStretch> = Vec::new();
        let (mut finest, mut lines) = (i64::MAX, false);
        for (from, resolution_ms, draws_lines) in reads {
            finest = finest.min(resolution_ms);
            lines |= draws_lines;
            let stretch = ReadStretch {
                from,
                resolution_ms: finest,
                values_only: !lines,
            };
            match plan.last_mut() {
                Some(last) if last.from == from => *last = stretch,
                Some(last)
                    if (last.resolution_ms, last.values_only) == (finest, stretch.values_only) => {}
                _ => plan.push(stretch),
            }
        }
        plan
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> ValidSpec {
        crate::validate(Spec::from_json(json).expect("spec")).expect("valid")
    }

    #[test]
    fn a_read_plan_reads_each_stretch_at_its_finest_panel() {
        let spec = spec(
            r#"{"version":1,"width":800,"height":400,"panels":[
                {"window":"1h","series":[{"metric":"cpu"}]},
                {"window":"30d","series":[{"metric":"cpu","tags":{"host":"a"}},{"metric":"mem"}]},
                {"kind":"gauge","window":"1d","series":[{"metric":"mem"}]}]}"#,
        );
        let now = 2_000_000_000_000;
        let resolutions: Vec<Option<i64>> = spec.panel_resolutions_ms().collect();
        let (hour, month) = (resolutions[0].expect("axis"), resolutions[1].expect("axis"));
        assert_eq!(resolutions[2], None);
        assert!(hour < month);
        let day = spec.panel_columns_ms().nth(2).expect("three panels");
        assert!(hour < day && day < month);
        let starting = |window_ms: i64| now - window_ms - DATA_MARGIN_MS;
        let stretch = |from, resolution_ms| ReadStretch {
            from,
            resolution_ms,
            values_only: false,
        };
        assert_eq!(
            spec.read_plan("cpu", now),
            [
                stretch(starting(30 * 86_400_000), month),
                stretch(starting(3_600_000), hour)
            ]
        );
        // The gauge (no time axis) reads its day at its day over its width, not at
        // the hour's resolution: it shows the latest value, which any resolution reads.
        assert_eq!(
            spec.read_plan("mem", now),
            [
                stretch(starting(30 * 86_400_000), month),
                stretch(starting(86_400_000), day)
            ]
        );
        assert_eq!(spec.read_plan("disk", now), []);
    }

    #[test]
    fn a_longer_window_drawn_as_finely_adds_no_stretch() {
        // The hour is drawn in a narrow cell, the two hours across the chart: the wide
        // panel's columns are finer, so one stretch at its resolution covers both.
        let spec = spec(
            r#"{"version":1,"width":900,"height":400,"layout":{"columns":4,"rows":1},"panels":[
                {"window":"1h","cell":{"col":0,"row":0},"series":[{"metric":"cpu"}]},
                {"window":"2h","cell":{"col":1,"row":0,"col_span":3},"series":[{"metric":"cpu"}]}]}"#,
        );
        let now = 2_000_000_000_000;
        let plan = spec.read_plan("cpu", now);
        assert_eq!(plan.len(), 1, "{plan:?}");
        assert_eq!(plan[0].from, now - 7_200_000 - DATA_MARGIN_MS);
        assert_eq!(Some(plan[0].resolution_ms), spec.time_resolution_ms());
    }

    #[test]
    fn stretches_only_aggregates_and_gauges_reach_read_values_only() {
        let spec = spec(
            r#"{"version":1,"width":800,"height":400,"panels":[
                {"window":"30d","series":[{"metric":"cpu","aggregate":"sum"},
                                          {"metric":"net","transform":"rate"}]},
                {"window":"1h","series":[{"metric":"cpu"}]},
                {"kind":"gauge","window":"1d","series":[{"metric":"net"}]},
                {"kind":"stat","window":"2h","series":[{"metric":"disk"}]}]}"#,
        );
        let now = 2_000_000_000_000;
        let values_only = |metric| -> Vec<bool> {
            spec.read_plan(metric, now)
                .iter()
                .map(|s| s.values_only)
                .collect()
        };
        // The sum's month, then the hour drawn as a line.
        assert_eq!(values_only("cpu"), [true, false]);
        // A rate's month and a gauge's day: values only throughout.
        assert_eq!(values_only("net"), [true, true]);
        // A stat panel draws its sparkline through the points.
        assert_eq!(values_only("disk"), [false]);
    }

    #[test]
    fn a_step_parameter_round_trips_with_and_without_values() {
        for values_only in [false, true] {
            let stretch = ReadStretch {
                from: -5,
                resolution_ms: 1_234,
                values_only,
            };
            let param = stretch.step_param();
            assert_eq!(ReadStretch::with_step_param(-5, &param), Some(stretch));
        }
        for bad in ["0", "-3", "x", "12:lines", ":values", ""] {
            assert_eq!(ReadStretch::with_step_param(0, bad), None, "{bad}");
        }
    }
}
