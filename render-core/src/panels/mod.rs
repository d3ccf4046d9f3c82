//! Panel kinds (one module each, drawn by [`crate::chart`]) and what they share: the
//! drawing context, series resolution (spec query -> matching data series, transformed
//! and aggregated as asked, with label and colour), thresholds and "No data".

mod axis;
pub(crate) mod bar;
pub(crate) mod gauge;
pub(crate) mod note;
pub(crate) mod stat;
pub(crate) mod timeseries;

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono_tz::Tz;

use crate::canvas::{Canvas, Rect};
use crate::color::{Rgba, Theme};
use crate::data::{Data, Point, Series, Timestamp};
use crate::format::ValueFormat;
use crate::redraw::PlotMemo;
use crate::spec::Panel;
use crate::stats::Stats;
use crate::text::{self, FontBook, GlyphCache, HAlign, TextStyle, VAlign};
use crate::transform;
use crate::valid::ValidPanel;

/// Font sizes in px.
pub(crate) const TICK_SIZE: f32 = 11.0;
pub(crate) const LABEL_SIZE: f32 = 12.0;

/// Everything a panel needs to draw itself.
pub(crate) struct PanelContext<'a> {
    pub canvas: &'a mut Canvas,
    /// The frame's glyph cache, which text is drawn through.
    pub glyphs: &'a mut GlyphCache,
    pub fonts: &'a FontBook,
    pub theme: &'a Theme,
    pub tz: Tz,
    /// The panel as written (kind, title, text, series queries).
    pub spec: &'a Panel,
    /// The panel's resolved values (window, colours, defaults).
    pub panel: &'a ValidPanel,
    pub data: &'a Data,
    pub now: Timestamp,
    /// Where the panel may draw (inside its padding, below its title).
    pub area: Rect,
    /// What the panel's plot drew the last time (time series panels redraw their
    /// lines only where they changed; other kinds keep nothing in it).
    pub plot: &'a mut PlotMemo,
}

impl<'a> PanelContext<'a> {
    /// Start of the time window.
    pub fn start(&self) -> Timestamp {
        self.now.saturating_sub(self.panel.window_ms)
    }

    /// How the panel writes values.
    pub fn value_format(&self) -> &'a ValueFormat {
        &self.panel.format
    }

    /// Draws `text` anchored at `(x, y)`; returns its width.
    pub fn draw_text(&mut self, text: &str, x: f32, y: f32, style: TextStyle) -> f32 {
        text::draw_text(self.canvas, self.glyphs, self.fonts, text, x, y, style)
    }

    /// Every data series the panel's queries match (transformed and aggregated as the
    /// query says), with label, colour and the points inside the time window (sorted).
    pub fn resolve_series(&self) -> Vec<DrawnSeries<'a>> {
        let (start, end) = (self.start(), self.now);
        // Aggregation columns: the panel's width, a little finer than the plot's pixels.
        let span = transform::Span::new(start, end, self.area.width());
        let mut resolved = Vec::new();
        let mut palette_index = 0;
        for (query, valid) in self.spec.series.iter().zip(&self.panel.series) {
            let matches: Vec<_> = self.data.matching(query).collect();
            let sources: Vec<Source<'a>> = match transform::derive(query, &matches, span) {
                Some(derived) => derived.into_iter().map(Source::derived).collect(),
                None => matches
                    .iter()
                    .map(|series| Source::raw(series, start, end))
                    .collect(),
            };
            let several_sources = sources.len() > 1;
            for source in sources {
                // A query's own colour only when it yields one series: several take
                // palette colours so they stay apart.
                let color = valid.color.filter(|_| !several_sources).unwrap_or_else(|| {
                    palette_index += 1;
                    self.theme.series_color(palette_index - 1)
                });
                // Tags that tell this match apart from the query (e.g. `core=3`).
                let distinguishing: Vec<String> = source
                    .tags
                    .iter()
                    .filter(|(k, _)| !query.tags.contains_key(*k))
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                let base = valid.label.clone();
                let templated = fill_template(&base, &source.tags);
                let several = several_sources && !distinguishing.is_empty();
                let label = if let Some(label) = &templated {
                    label.clone()
                } else if several {
                    format!("{base} {{{}}}", distinguishing.join(", "))
                } else {
                    base.clone()
                };
                let short_label = if let Some(label) = templated {
                    label
                } else if several {
                    let values: Vec<&str> = source
                        .tags
                        .iter()
                        .filter(|(k, _)| !query.tags.contains_key(*k))
                        .map(|(_, v)| v.as_str())
                        .collect();
                    values.join(", ")
                } else {
                    base
                };
                resolved.push(DrawnSeries {
                    label,
                    short_label,
                    color,
                    width: valid.width,
                    fill: valid.fill,
                    points: source.points,
                    stats: source.stats,
                    latest: source.latest,
                });
            }
        }
        resolved
    }

    /// Draws each matching series in its own cell, side by side (at most 8), with
    /// `draw_one(context, cell, series, labelled)`; "No data" when nothing matches.
    /// `labelled` is true when there are several series to tell apart.
    pub fn per_series_cells(
        &mut self,
        draw_one: impl Fn(&mut PanelContext<'a>, Rect, &DrawnSeries<'a>, bool),
    ) {
        let series = self.resolve_series();
        if series.is_empty() {
            self.no_data(self.area);
            return;
        }
        let shown = series.len().min(8);
        let slot = self.area.width() / shown as f32;
        for (i, s) in series.iter().take(shown).enumerate() {
            let x0 = self.area.x0 + slot * i as f32;
            draw_one(
                self,
                Rect::new(x0, self.area.y0, x0 + slot, self.area.y1),
                s,
                series.len() > 1,
            );
        }
    }

    /// The colour a value takes from the thresholds (the last one it reaches), or `base`.
    pub fn threshold_color(&self, value: f64, base: Rgba) -> Rgba {
        let mut color = base;
        let mut reached = f64::NEG_INFINITY;
        for threshold in &self.panel.thresholds {
            if value >= threshold.value && threshold.value >= reached {
                color = threshold.color;
                reached = threshold.value;
            }
        }
        color
    }

    /// Writes "No data" in the middle of `rect`.
    pub fn no_data(&mut self, rect: Rect) {
        let style = TextStyle::new(LABEL_SIZE + 2.0, self.theme.muted)
            .anchored(HAlign::Center, VAlign::Middle);
        let (x, y) = ((rect.x0 + rect.x1) * 0.5, (rect.y0 + rect.y1) * 0.5);
        self.draw_text("No data", x, y, style);
    }
}

/// A data series as a panel draws it.
pub(crate) struct DrawnSeries<'a> {
    /// Legend label: the query's label or metric, plus the tags that tell matches apart.
    pub label: String,
    /// Category label where space is short: just those tag values, when there are several.
    pub short_label: String,
    pub color: Rgba,
    pub width: f32,
    pub fill: f32,
    /// Points in the window, sorted by time (may include non-finite values); borrowed
    /// from the data when it is already sorted.
    pub points: Cow<'a, [Point]>,
    /// Summary of the finite values in the window.
    pub stats: Stats,
    /// Latest finite point overall.
    pub latest: Option<Point>,
}

/// One series a query yields, before it gets its label and colour: a matching data
/// series as it is, or one its transform or aggregation made.
struct Source<'a> {
    tags: Cow<'a, BTreeMap<String, String>>,
    points: Cow<'a, [Point]>,
    stats: Stats,
    latest: Option<Point>,
}

impl<'a> Source<'a> {
    /// A data series as it is: its points in the window, and its latest finite point
    /// overall.
    fn raw(series: &'a Series, start: Timestamp, end: Timestamp) -> Source<'a> {
        let (sorted, window_stats) = scan(&series.points, start, end);
        let points = window_of(&series.points, sorted, start, end);
        // Unsorted data: "last" must come from the sorted copy.
        let stats = if sorted {
            window_stats
        } else {
            Stats::of(&points)
        };
        Source {
            tags: Cow::Borrowed(&series.tags),
            points,
            stats,
            latest: latest_of(&series.points, sorted),
        }
    }

    fn derived(derived: transform::Derived<'a>) -> Source<'a> {
        Source {
            tags: derived.tags,
            stats: Stats::of(&derived.points),
            points: Cow::Owned(derived.points),
            latest: derived.latest,
        }
    }
}

/// `label` with each `{{key}}` replaced by the series' value of tag `key` (empty when
/// it has none), or `None` when `label` has no `{{`: it is then a plain label.
fn fill_template(label: &str, tags: &BTreeMap<String, String>) -> Option<String> {
    label.find("{{")?;
    let mut out = String::with_capacity(label.len());
    let mut rest = label;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        match after.find("}}") {
            Some(close) => {
                let key = after[..close].trim();
                out.push_str(tags.get(key).map_or("", String::as_str));
                rest = &after[close + 2..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    Some(out)
}

/// One pass over a series: whether it is sorted by time, and the statistics of its
/// points with `start <= t <= end` (in data order).
fn scan(points: &[Point], start: Timestamp, end: Timestamp) -> (bool, Stats) {
    let mut sorted = true;
    let mut previous = Timestamp::MIN;
    let mut stats = Stats::EMPTY;
    for p in points {
        sorted &= p.t >= previous;
        previous = p.t;
        if p.t >= start && p.t <= end {
            stats.add(p.v);
        }
    }
    (sorted, stats)
}

/// The points of `points` with `start <= t <= end`, sorted by time: a borrowed slice
/// when the data is already sorted (the usual case), else a sorted copy.
fn window_of(points: &[Point], sorted: bool, start: Timestamp, end: Timestamp) -> Cow<'_, [Point]> {
    if sorted {
        let from = points.partition_point(|p| p.t < start);
        let to = points.partition_point(|p| p.t <= end);
        Cow::Borrowed(&points[from..to.max(from)])
    } else {
        let mut inside: Vec<Point> = points
            .iter()
            .copied()
            .filter(|p| p.t >= start && p.t <= end)
            .collect();
        inside.sort_by_key(|p| p.t);
        Cow::Owned(inside)
    }
}

/// The latest finite point: found from the end when the points are sorted (the usual
/// case, and cheap for a million points), else by a full scan.
fn latest_of(points: &[Point], sorted: bool) -> Option<Point> {
    if sorted {
        points.iter().rev().copied().find(|p| p.v.is_finite())
    } else {
        points
            .iter()
            .copied()
            .filter(|p| p.v.is_finite())
            .max_by_key(|p| p.t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_templates_take_the_series_tags() {
        let tags = BTreeMap::from([
            ("mode".to_string(), "idle".to_string()),
            ("cpu".to_string(), "0".to_string()),
        ]);
        assert_eq!(fill_template("plain", &tags), None);
        assert_eq!(
            fill_template("{{mode}} on {{ cpu }}, {{missing}}!", &tags).as_deref(),
            Some("idle on 0, !")
        );
        assert_eq!(fill_template("{{mode", &tags).as_deref(), Some("{{mode"));
    }
}
