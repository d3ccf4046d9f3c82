//! Counters and aggregation: a series query's `transform` (rate, increase, delta,
//! derivative) applied to each matching series, then its `aggregate` (sum, avg, min,
//! max, optionally `by` tags) across them. A pure step between matching series and
//! drawing, so the editor preview and the stream show the same values.
//!
//! **Transforms.** Points are taken in time order; of points at the same time the last
//! one counts. Each point after the first gives one output point at its own time,
//! computed from the point before it (for the first point in the window, the latest
//! point before the window):
//! - `increase`: `v - prev`, or `v` when `v < prev` (a counter reset: the counter
//!   restarted from 0, as Prometheus' `increase` counts it);
//! - `rate`: that increase divided by the seconds between the two points;
//! - `delta`: `v - prev` (may be negative, no reset handling);
//! - `derivative`: `delta` divided by the seconds between the two points.
//!
//! Gaps stay gaps: when `v` or `prev` is NaN or ±Inf the output is NaN, so a non-finite
//! point makes the outputs at its own time and at the next point's time gaps, and no
//! value bridges it.
//!
//! **Aggregation.** The (transformed) series are grouped by their values of the `by`
//! tags (a series without such a tag groups with those lacking it too; no `by`: one
//! group). Each group becomes one series tagged with exactly the `by` tags it has.
//! Its points are aligned on columns of `step` = window / the panel's width in whole
//! pixels (at least 1 ms; [`column_ms`], the resolution the read plan reads at, a
//! little finer than the plot's pixels), counted from the epoch so they do not shift as
//! the window rolls: every column
//! in which some member has a point gets one output point, at the latest such time `t`.
//! Its value combines each member's value at `t`: the member's latest point at or
//! before `t`, if it is finite and at most the member's lookback old. The lookback is
//! the longer of one step and the pause the member's line is broken at when drawn
//! (5 × its median interval, unlimited with fewer than four intervals; see
//! [`crate::m4`]), so members written at different
//! moments still add up while a member that stopped or has a gap drops out. A column
//! where no member has a value is a gap. The cost is bounded by points plus
//! pixel columns × series, one walk through each member's points: the points of
//! different series are never merged or sorted together.
//!
//! **Latest values** (stat, gauge and bar panels): a transformed series' latest finite
//! output in the window; an aggregated series combines each member's latest finite
//! value in the window, at the latest of their times.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

use crate::data::{Point, Series, Timestamp};
use crate::m4;
use crate::spec::{Aggregate, SeriesSpec, Transform};

/// The time range a panel draws and the width of one aggregation column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    start: Timestamp,
    end: Timestamp,
    /// Milliseconds per column, at least 1.
    step: i64,
}

impl Span {
    /// The window `start..=end` drawn over a panel `width` pixels wide.
    pub fn new(start: Timestamp, end: Timestamp, width: f32) -> Span {
        Span {
            start,
            end,
            step: column_ms(end.saturating_sub(start), width),
        }
    }
}

/// The width of an aggregation column of a `window_ms` window over a panel `width`
/// pixels wide: the window over its whole pixels, at least 1 ms. The read plan reads at
/// it too (`ValidSpec::read_plan`), so a source may hand an aggregate no more than each
/// member's last point per column, which is all it takes of them.
pub(crate) fn column_ms(window_ms: i64, width: f32) -> i64 {
    // `max` after the cast: a NaN width casts to 0.
    let columns = (width.clamp(1.0, 65_536.0) as i64).max(1);
    (window_ms / columns).max(1)
}

/// A series made by a query's transform or aggregation.
pub(crate) struct Derived<'a> {
    /// A transformed series keeps its own tags; an aggregated one has its group's.
    pub tags: Cow<'a, BTreeMap<String, String>>,
    /// Points with `start <= t <= end`, sorted by time; non-finite values are gaps.
    pub points: Vec<Point>,
    /// Latest value, as described in the module documentation.
    pub latest: Option<Point>,
}

/// The series `query` draws from its `matches`, or `None` when it has neither a
/// transform nor an aggregate (the matches are drawn as they are).
pub(crate) fn derive<'a>(
    query: &SeriesSpec,
    matches: &[&'a Series],
    span: Span,
) -> Option<Vec<Derived<'a>>> {
    if query.transform.is_none() && query.aggregate.is_none() {
        return None;
    }
    // A transform needs the point before the window; holding a value into the window
    // needs the (transformed) point before that.
    let lead = usize::from(query.transform.is_some()) + usize::from(query.aggregate.is_some());
    let member = |series: &'a Series| -> Cow<'a, [Point]> {
        let window = window_with_lead(&series.points, span.start, span.end, lead);
        match query.transform {
            Some(transform) => Cow::Owned(apply(transform, &window)),
            None => window,
        }
    };
    let Some(how) = query.aggregate else {
        return Some(
            matches
                .iter()
                .map(|series| {
                    let mut points = member(series).into_owned();
                    points.drain(..points.partition_point(|p| p.t < span.start));
                    Derived {
                        latest: latest_in(&points, span.start),
                        tags: Cow::Borrowed(&series.tags),
                        points,
                    }
                })
                .collect(),
        );
    };
    Some(
        group_by(&query.by, matches)
            .into_iter()
            .map(|(tags, members)| {
                let (points, latest) = aggregate(how, members.into_iter().map(member), span);
                Derived {
                    tags: Cow::Owned(tags),
                    points,
                    latest,
                }
            })
            .collect(),
    )
}

/// The legend label of a query without its own: the metric inside its transform and
/// aggregate, e.g. `cpu`, `rate(net_bytes)`, `sum(rate(net_bytes))`; or the PromQL query.
pub(crate) fn default_label(query: &SeriesSpec) -> String {
    let functions = [
        query.transform.map(variant_name),
        query.aggregate.map(variant_name),
    ];
    functions.into_iter().flatten().fold(
        query.query.as_ref().unwrap_or(&query.metric).clone(),
        |inner, function| format!("{function}({inner})"),
    )
}

/// The snake_case name serde gives a spec enum variant.
fn variant_name<T: Serialize>(value: T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// The points with `start <= t <= end` plus those at the `lead` latest distinct times
/// before `start`, sorted by time (stable: equal times keep their data order).
/// Borrowed when the data is sorted (the usual case).
fn window_with_lead(
    points: &[Point],
    start: Timestamp,
    end: Timestamp,
    lead: usize,
) -> Cow<'_, [Point]> {
    let slice = |points: &[Point]| -> (usize, usize) {
        let mut from = points.partition_point(|p| p.t < start);
        let to = points.partition_point(|p| p.t <= end).max(from);
        for _ in 0..lead {
            let Some(before) = from.checked_sub(1) else {
                break;
            };
            let t = points[before].t;
            from = points[..from].partition_point(|p| p.t < t);
        }
        (from, to)
    };
    if sorted_by_time(points) {
        let (from, to) = slice(points);
        Cow::Borrowed(&points[from..to])
    } else {
        let mut sorted: Vec<Point> = points.iter().copied().filter(|p| p.t <= end).collect();
        sorted.sort_by_key(|p| p.t);
        let (from, to) = slice(&sorted);
        sorted.truncate(to);
        sorted.drain(..from);
        Cow::Owned(sorted)
    }
}

/// Whether `points` are in time order. Every pair is compared, without stopping at the
/// first out of order: independent comparisons run several at a time, and data is
/// nearly always sorted.
fn sorted_by_time(points: &[Point]) -> bool {
    points
        .windows(2)
        .fold(true, |sorted, pair| sorted & (pair[0].t <= pair[1].t))
}

/// `transform` over `points` (sorted by time): one output per point after the first,
/// at its time, from the point before it; of points at one time the last counts.
fn apply(transform: Transform, points: &[Point]) -> Vec<Point> {
    let mut output = Vec::with_capacity(points.len());
    let mut previous: Option<Point> = None;
    for (i, &point) in points.iter().enumerate() {
        if points.get(i + 1).is_some_and(|next| next.t == point.t) {
            continue;
        }
        if let Some(before) = previous {
            output.push(Point {
                t: point.t,
                v: change(transform, before, point),
            });
        }
        previous = Some(point);
    }
    output
}

/// The transform's value from `before` to `point` (`before.t < point.t`).
fn change(transform: Transform, before: Point, point: Point) -> f64 {
    if !(before.v.is_finite() && point.v.is_finite()) {
        return f64::NAN;
    }
    let seconds = point.t.abs_diff(before.t) as f64 / 1000.0;
    let delta = point.v - before.v;
    // A counter that went down was reset: it counted from 0 up to its new value.
    let increase = if point.v < before.v { point.v } else { delta };
    match transform {
        Transform::Rate => increase / seconds,
        Transform::Increase => increase,
        Transform::Delta => delta,
        Transform::Derivative => delta / seconds,
    }
}

/// The latest point with `t >= start` whose value is finite (`points` sorted).
fn latest_in(points: &[Point], start: Timestamp) -> Option<Point> {
    points
        .iter()
        .rev()
        .take_while(|p| p.t >= start)
        .find(|p| p.v.is_finite())
        .copied()
}

/// The series grouped by their values of the `by` tags, each group with its tags, in
/// the order of those values (deterministic on every target).
fn group_by<'a>(
    by: &[String],
    matches: &[&'a Series],
) -> Vec<(BTreeMap<String, String>, Vec<&'a Series>)> {
    let mut groups: BTreeMap<Vec<Option<&'a str>>, Vec<&'a Series>> = BTreeMap::new();
    for series in matches {
        let key = by
            .iter()
            .map(|k| series.tags.get(k).map(String::as_str))
            .collect();
        groups.entry(key).or_default().push(series);
    }
    groups
        .into_iter()
        .map(|(key, members)| {
            let tags = by
                .iter()
                .zip(key)
                .filter_map(|(k, v)| Some((k.clone(), v?.to_string())))
                .collect();
            (tags, members)
        })
        .collect()
}

/// The values an aggregate combines in each of its columns: a count and one quantity
/// (the sum for `sum` and `avg`, else the minimum or maximum), each in an array of its
/// own, so the walk through a member updates only what `how` needs, in arrays that
/// stay in the cache.
struct Columns {
    how: Aggregate,
    count: Vec<u32>,
    value: Vec<f64>,
}

impl Columns {
    /// `columns` columns with nothing added.
    fn new(how: Aggregate, columns: usize) -> Columns {
        let empty = match how {
            Aggregate::Sum | Aggregate::Avg => 0.0,
            Aggregate::Min => f64::INFINITY,
            Aggregate::Max => f64::NEG_INFINITY,
        };
        Columns {
            how,
            count: vec![0; columns],
            value: vec![empty; columns],
        }
    }

    /// Adds the finite value `v` to `column` (comparisons, not `f64::min`'s NaN
    /// handling).
    fn add(&mut self, column: usize, v: f64) {
        let (Some(count), Some(value)) = (self.count.get_mut(column), self.value.get_mut(column))
        else {
            return;
        };
        *count += 1;
        *value = match self.how {
            Aggregate::Sum | Aggregate::Avg => *value + v,
            Aggregate::Min if v < *value => v,
            Aggregate::Max if v > *value => v,
            Aggregate::Min | Aggregate::Max => *value,
        };
    }

    /// The aggregate of `column`, or NaN (a gap) when nothing was added.
    fn value(&self, column: usize) -> f64 {
        match (self.count.get(column), self.value.get(column)) {
            (Some(0) | None, _) | (_, None) => f64::NAN,
            (Some(count), Some(value)) => match self.how {
                Aggregate::Avg => value / f64::from(*count),
                _ => *value,
            },
        }
    }
}

/// A member's lookback (the longer of a step and its gap limit), worked out only when
/// an age of more than a step is checked against it: `m4::gap_limit` is a pass or
/// three over the member's points.
enum Lookback<'a> {
    /// Not yet worked out, from these points (borrowed from the data).
    Unknown(&'a [Point]),
    Known(Timestamp),
}

impl Lookback<'_> {
    /// The lookback, for columns `step` wide.
    fn get(&mut self, step: Timestamp) -> Timestamp {
        let known = match *self {
            Lookback::Known(known) => known,
            Lookback::Unknown(points) => m4::gap_limit(points).max(step),
        };
        *self = Lookback::Known(known);
        known
    }
}

/// One group's aggregate series and latest value, from its members' sorted points
/// (each up to `span.end`, possibly with points before `span.start` to hold from).
///
/// One walk through each member, while its points are in the cache. A member with
/// points in a column adds the last of them: whatever the column's time (the latest of
/// any member there), that point is the member's latest at or before it, and less than
/// a step old. A column without points of its own holds the member's latest earlier
/// point, which depends on the column's time: it is kept aside, at most a lookback's
/// worth of columns after each point, and added once every member has been walked. A
/// member's lookback is worked out only for a point more than a step older than a
/// column it may be added to: most columns of most members hold none.
fn aggregate<'a>(
    how: Aggregate,
    members: impl Iterator<Item = Cow<'a, [Point]>>,
    span: Span,
) -> (Vec<Point>, Option<Point>) {
    let step = span.step;
    let first = span.start.div_euclid(step);
    let count = (span.end.div_euclid(step) - first + 1).max(0) as usize;
    // Each column's output time: the latest time any member has a point there
    // (`NONE` while none has: points of the window are at or after its start).
    const NONE: Timestamp = Timestamp::MIN;
    // Columns taken at a time where each has one point of a member.
    const RUN: usize = 8;
    let mut times: Vec<Timestamp> = vec![NONE; count];
    let mut columns = Columns::new(how, count);
    // Points held into columns without points of their member: (column, point, the
    // member's place in `lookbacks`).
    let mut held_over: Vec<(usize, Point, usize)> = Vec::new();
    let mut lookbacks: Vec<Lookback<'a>> = Vec::new();
    let (mut latest, mut latest_t) = (Columns::new(how, 1), None);
    for points in members {
        let mut lookback = None;
        let mut lookback_of =
            |points: &[Point]| *lookback.get_or_insert_with(|| m4::gap_limit(points).max(step));
        let mut holds = false;
        let inside = points.partition_point(|p| p.t < span.start);
        let window = &points[inside..];
        // The member's latest point before the column.
        let mut held = points[..inside].last().copied();
        let (mut column, mut column_end) = (0, (first + 1).saturating_mul(step));
        let mut i = 0;
        while column < count {
            // A run of columns with one point each (a values-only read of a steady
            // series) is taken a block at a time: no branch per column.
            if column + RUN <= count && i + RUN < window.len() {
                let one_each = (0..RUN).fold(true, |one_each, k| {
                    let end = column_end.saturating_add(k as i64 * step);
                    one_each & (window[i + k].t < end) & (window[i + k + 1].t >= end)
                });
                if one_each {
                    for (k, p) in window[i..i + RUN].iter().enumerate() {
                        times[column + k] = times[column + k].max(p.t);
                        if p.v.is_finite() {
                            columns.add(column + k, p.v);
                        }
                    }
                    held = Some(window[i + RUN - 1]);
                    i += RUN;
                    column += RUN;
                    column_end = column_end.saturating_add(RUN as i64 * step);
                    continue;
                }
            }
            if window.get(i).is_some_and(|p| p.t < column_end) {
                // The column's last point: usually this one.
                while window.get(i + 1).is_some_and(|p| p.t < column_end) {
                    i += 1;
                }
                let p = window[i];
                times[column] = times[column].max(p.t);
                if p.v.is_finite() {
                    columns.add(column, p.v);
                }
                held = Some(p);
                i += 1;
            } else {
                let next = window.get(i);
                let hold = held.filter(|p| {
                    // A column's time is at least its start: held no longer after that.
                    let age = column_end.saturating_sub(step).saturating_sub(p.t);
                    p.v.is_finite() && (age <= step || age <= lookback_of(&points))
                });
                match hold {
                    Some(p) => {
                        held_over.push((column, p, lookbacks.len()));
                        holds = true;
                    }
                    // Nothing to hold: on to the column of the next point.
                    None => {
                        let Some(next) = next else { break };
                        held = None;
                        column = (next.t.div_euclid(step) - first)
                            .clamp(column as i64 + 1, count as i64)
                            as usize;
                        column_end = (first + column as i64 + 1).saturating_mul(step);
                        continue;
                    }
                }
            }
            column += 1;
            column_end = column_end.saturating_add(step);
        }
        if let Some(p) = latest_in(&points, span.start) {
            latest.add(0, p.v);
            latest_t = latest_t.max(Some(p.t));
        }
        if holds {
            lookbacks.push(match (lookback, points) {
                (Some(known), _) => Lookback::Known(known),
                (None, Cow::Borrowed(points)) => Lookback::Unknown(points),
                (None, Cow::Owned(points)) => Lookback::Known(m4::gap_limit(&points).max(step)),
            });
        }
    }
    for (column, p, member) in held_over {
        let t = times[column];
        if t == NONE {
            continue;
        }
        let age = t.saturating_sub(p.t);
        if age <= step
            || lookbacks
                .get_mut(member)
                .is_some_and(|l| age <= l.get(step))
        {
            columns.add(column, p.v);
        }
    }
    let points = times
        .iter()
        .enumerate()
        .filter(|(_, t)| **t != NONE)
        .map(|(column, t)| Point {
            t: *t,
            v: columns.value(column),
        })
        .collect();
    let latest = latest_t.map(|t| Point {
        t,
        v: latest.value(0),
    });
    (points, latest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 10_000;

    fn series(tags: &[(&str, &str)], points: &[(i64, f64)]) -> Series {
        Series {
            metric: "m".into(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            points: points.iter().map(|&(t, v)| Point { t, v }).collect(),
            source: None,
        }
    }

    /// A series of `values` one `S` apart from t = 0.
    fn evenly(tags: &[(&str, &str)], values: &[f64]) -> Series {
        let points: Vec<(i64, f64)> = (0..).map(|i| i * S).zip(values.iter().copied()).collect();
        series(tags, &points)
    }

    /// What a transform of an [`evenly`] series gives: `values` one `S` apart from t = S
    /// (the first point has no value before it to compare with).
    fn from_s(values: &[Option<f64>]) -> Vec<(i64, Option<f64>)> {
        (1..).map(|i| i * S).zip(values.iter().copied()).collect()
    }

    fn query(json: &str) -> SeriesSpec {
        serde_json::from_str(json).expect("series query")
    }

    /// `(t, v)` of the derived series, NaN written as `None` so the test can compare.
    fn values(derived: &Derived) -> Vec<(i64, Option<f64>)> {
        derived
            .points
            .iter()
            .map(|p| (p.t, p.v.is_finite().then_some(p.v)))
            .collect()
    }

    /// The window 0..=100 s over 1,000 columns: a 100 ms step.
    const SPAN: Span = Span {
        start: 0,
        end: 100_000,
        step: 100,
    };

    fn derive_one(json: &str, data: &[Series]) -> Vec<Derived<'static>> {
        let data: &'static [Series] = Vec::leak(data.to_vec());
        let matches: Vec<&Series> = data.iter().collect();
        derive(&query(json), &matches, SPAN).expect("derived")
    }

    fn counter() -> Series {
        // 10 s apart; the counter resets between 20 and 5.
        evenly(&[], &[0.0, 10.0, 20.0, 5.0, 15.0])
    }

    #[test]
    fn rate_and_increase_count_a_drop_as_a_reset() {
        let rate = derive_one(r#"{"metric":"m","transform":"rate"}"#, &[counter()]);
        assert_eq!(
            values(&rate[0]),
            from_s(&[Some(1.0), Some(1.0), Some(0.5), Some(1.0)])
        );
        assert_eq!(rate[0].latest, Some(Point { t: 4 * S, v: 1.0 }));
        let increase = derive_one(r#"{"metric":"m","transform":"increase"}"#, &[counter()]);
        assert_eq!(
            values(&increase[0]),
            from_s(&[Some(10.0), Some(10.0), Some(5.0), Some(10.0)])
        );
    }

    #[test]
    fn delta_and_derivative_go_negative() {
        let delta = derive_one(r#"{"metric":"m","transform":"delta"}"#, &[counter()]);
        assert_eq!(
            values(&delta[0]),
            from_s(&[Some(10.0), Some(10.0), Some(-15.0), Some(10.0)])
        );
        let derivative = derive_one(r#"{"metric":"m","transform":"derivative"}"#, &[counter()]);
        assert_eq!(
            values(&derivative[0]),
            from_s(&[Some(1.0), Some(1.0), Some(-1.5), Some(1.0)])
        );
    }

    #[test]
    fn a_gap_makes_its_own_and_the_next_output_gaps() {
        let gappy = evenly(
            &[],
            &[0.0, 10.0, f64::NAN, 30.0, 40.0, f64::INFINITY, 60.0, 80.0],
        );
        let rate = derive_one(r#"{"metric":"m","transform":"rate"}"#, &[gappy]);
        assert_eq!(
            values(&rate[0]),
            from_s(&[Some(1.0), None, None, Some(1.0), None, None, Some(2.0)])
        );
    }

    #[test]
    fn the_first_point_in_the_window_is_computed_from_the_one_before() {
        let data = series(&[], &[(-S, 100.0), (S, 140.0), (2 * S, 150.0)]);
        let rate = derive_one(r#"{"metric":"m","transform":"rate"}"#, &[data]);
        assert_eq!(values(&rate[0]), [(S, Some(2.0)), (2 * S, Some(1.0))]);
    }

    #[test]
    fn of_points_at_one_time_the_last_counts_and_unsorted_data_is_sorted() {
        let data = series(&[], &[(2 * S, 30.0), (0, 0.0), (S, 5.0), (S, 10.0)]);
        let increase = derive_one(r#"{"metric":"m","transform":"increase"}"#, &[data]);
        assert_eq!(values(&increase[0]), [(S, Some(10.0)), (2 * S, Some(20.0))]);
    }

    /// CPU of two hosts with two cores each, every 10 s; core 1 of host b writes 3 s
    /// after the others.
    fn cpus() -> Vec<Series> {
        let cpu = |host, core, offset: i64, base: f64| {
            let points: Vec<(i64, f64)> =
                (0..4).map(|i| (offset + i * S, base + i as f64)).collect();
            series(&[("host", host), ("core", core)], &points)
        };
        vec![
            cpu("a", "0", 0, 10.0),
            cpu("a", "1", 0, 20.0),
            cpu("b", "0", 0, 1.0),
            cpu("b", "1", 3000, 100.0),
        ]
    }

    #[test]
    fn sum_by_host_gives_one_series_per_host_tagged_with_it() {
        let sums = derive_one(r#"{"metric":"m","aggregate":"sum","by":["host"]}"#, &cpus());
        assert_eq!(sums.len(), 2);
        let tags: Vec<_> = sums.iter().map(|d| d.tags.clone().into_owned()).collect();
        assert_eq!(
            tags,
            [
                BTreeMap::from([("host".to_string(), "a".to_string())]),
                BTreeMap::from([("host".to_string(), "b".to_string())]),
            ]
        );
        assert_eq!(
            values(&sums[0]),
            [
                (0, Some(30.0)),
                (S, Some(32.0)),
                (2 * S, Some(34.0)),
                (3 * S, Some(36.0))
            ]
        );
        // Host b: core 1 joins 3 s in and is held until its next point; at 0 only core 0
        // has a value.
        assert_eq!(
            values(&sums[1]),
            [
                (0, Some(1.0)),
                (3000, Some(101.0)),
                (S, Some(102.0)),
                (S + 3000, Some(103.0)),
                (2 * S, Some(104.0)),
                (2 * S + 3000, Some(105.0)),
                (3 * S, Some(106.0)),
                (3 * S + 3000, Some(107.0)),
            ]
        );
        // Latest values: 4 + 103 (core 0 at 30 s, core 1 at 33 s).
        assert_eq!(
            sums[1].latest,
            Some(Point {
                t: 3 * S + 3000,
                v: 107.0
            })
        );
    }

    #[test]
    fn avg_min_max_without_by_make_one_series() {
        for (how, first) in [("avg", 131.0 / 4.0), ("min", 1.0), ("max", 100.0)] {
            let json = format!(r#"{{"metric":"m","aggregate":"{how}"}}"#);
            let all = derive_one(&json, &cpus());
            assert_eq!(all.len(), 1, "{how}");
            assert!(all[0].tags.is_empty(), "{how}");
            // At 3 s every member has a value: 10, 20, 1 held from 0 s, and 100.
            assert_eq!(values(&all[0])[1], (3000, Some(first)), "{how}");
        }
    }

    #[test]
    fn a_column_where_no_member_has_a_value_is_a_gap() {
        let a = evenly(&[("k", "a")], &[1.0, f64::NAN, 3.0]);
        let b = evenly(&[("k", "b")], &[2.0, f64::NAN, 4.0]);
        let sum = derive_one(r#"{"metric":"m","aggregate":"sum"}"#, &[a, b]);
        assert_eq!(
            values(&sum[0]),
            [(0, Some(3.0)), (S, None), (2 * S, Some(7.0))]
        );
    }

    #[test]
    fn a_member_that_stopped_writing_drops_out_after_its_lookback() {
        let steady: Vec<(i64, f64)> = (0..10).map(|i| (i * S, 1.0)).collect();
        let short: Vec<(i64, f64)> = (0..5).map(|i| (i * S, 10.0)).collect();
        let sum = derive_one(
            r#"{"metric":"m","aggregate":"sum"}"#,
            &[
                series(&[("k", "a")], &steady),
                series(&[("k", "b")], &short),
            ],
        );
        let sums: Vec<Option<f64>> = values(&sum[0]).into_iter().map(|(_, v)| v).collect();
        // The short series (last point at 40 s) is held for 5 × its 10 s interval: to 90 s.
        assert_eq!(sums, [Some(11.0); 10]);
        let long: Vec<(i64, f64)> = (0..12).map(|i| (i * 5 * S / 2, 1.0)).collect();
        let sum = derive_one(
            r#"{"metric":"m","aggregate":"sum"}"#,
            &[series(&[("k", "a")], &long), series(&[("k", "b")], &short)],
        );
        // 25 s steps: at 100 s the short series' last point is 60 s old, beyond 50 s.
        assert_eq!(values(&sum[0]).last(), Some(&(100_000, Some(1.0))));
    }

    #[test]
    fn rates_are_taken_before_they_are_summed() {
        let a = evenly(&[("k", "a")], &[0.0, 10.0, 5.0]);
        let b = evenly(&[("k", "b")], &[100.0, 120.0, 140.0]);
        let total = derive_one(
            r#"{"metric":"m","transform":"rate","aggregate":"sum"}"#,
            &[a, b],
        );
        assert_eq!(values(&total[0]), [(S, Some(3.0)), (2 * S, Some(2.5))]);
        assert_eq!(total[0].latest, Some(Point { t: 2 * S, v: 2.5 }));
    }

    /// The renderer draws what the query derives: a stat of `sum(rate(..))` is pixel for
    /// pixel the stat of a series holding the hand-computed sums.
    #[test]
    fn panels_draw_the_derived_series() {
        use crate::{validate, Data, Frame, Renderer, Spec};
        let draw = |query: &str, data: Vec<Series>| {
            let json = format!(
                r#"{{"version":1,"width":200,"height":120,"panels":[{{"kind":"stat","series":[{query}]}}]}}"#
            );
            let spec = validate(Spec::from_json(&json).expect("spec")).expect("valid");
            let mut frame = Frame::default();
            Renderer::default().render(
                &spec,
                &Data {
                    series: data,
                    notes: Vec::new(),
                },
                4 * S,
                &mut frame,
            );
            frame.rgb()
        };
        let a = evenly(&[("k", "a")], &[0.0, 10.0, 30.0, 5.0, 25.0]);
        let b = evenly(&[("k", "b")], &[50.0, 60.0, 80.0, 90.0, 150.0]);
        let derived = draw(
            r#"{"metric":"m","transform":"rate","aggregate":"sum"}"#,
            vec![a.clone(), b],
        );
        // Rates a: 1, 2, 0.5, 2; b: 1, 2, 1, 6.
        let sums = series(&[], &[(S, 2.0), (2 * S, 4.0), (3 * S, 1.5), (4 * S, 8.0)]);
        assert!(derived == draw(r#"{"metric":"m"}"#, vec![sums]));
        assert!(derived != draw(r#"{"metric":"m"}"#, vec![a]));
    }

    /// proptest does not build for wasm.
    #[cfg(not(target_arch = "wasm32"))]
    mod by_definition {
        use super::*;

        /// The module documentation's definition of an aggregate, column by column.
        fn aggregate_by_definition(
            how: Aggregate,
            members: &[Vec<Point>],
            span: Span,
        ) -> Vec<Point> {
            let step = span.step;
            let first = span.start.div_euclid(step);
            let last = span.end.div_euclid(step);
            (first..=last)
                .filter_map(|column| {
                    let in_column =
                        |p: &&Point| p.t >= span.start && p.t.div_euclid(step) == column;
                    let t = members
                        .iter()
                        .flatten()
                        .filter(in_column)
                        .map(|p| p.t)
                        .max()?;
                    let values: Vec<f64> = members
                        .iter()
                        .filter_map(|points| {
                            let lookback = m4::gap_limit(points).max(step);
                            let latest = points.iter().rev().find(|p| p.t <= t)?;
                            (latest.v.is_finite() && t - latest.t <= lookback).then_some(latest.v)
                        })
                        .collect();
                    let v = match how {
                        _ if values.is_empty() => f64::NAN,
                        Aggregate::Sum => values.iter().sum(),
                        Aggregate::Avg => values.iter().sum::<f64>() / values.len() as f64,
                        Aggregate::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
                        Aggregate::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    };
                    Some(Point { t, v })
                })
                .collect()
        }

        proptest::proptest! {
            #[test]
            fn an_aggregate_is_its_definition(
                members in proptest::collection::vec(
                    proptest::collection::vec((0i64..40, proptest::option::weighted(0.9, 0i64..100)), 0..40),
                    1..5,
                ),
                start in -200i64..600,
                columns in 1.0f32..80.0,
                how in 0usize..4,
                steady in proptest::bool::ANY,
            ) {
                let how = [Aggregate::Sum, Aggregate::Avg, Aggregate::Min, Aggregate::Max][how];
                let end = 1_000;
                let span = Span::new(start, end, columns);
                // Sorted times (some equal, some pauses), whole values (sums exact in any
                // order) or gaps, up to the end as `window_with_lead` cuts them; or,
                // `steady`, a point a column each (a values-only read), now and then a
                // column skipped.
                let members: Vec<Vec<Point>> = members
                    .into_iter()
                    .map(|steps| {
                        let mut t: i64 = -300;
                        let offset = steps.first().map_or(0, |(advance, _)| advance % span.step);
                        steps
                            .into_iter()
                            .map(|(advance, v)| {
                                t = match steady {
                                    true => (t.div_euclid(span.step) + 1 + i64::from(advance == 0))
                                        * span.step
                                        + offset,
                                    false => t + advance * advance / 4,
                                };
                                Point { t, v: v.map_or(f64::NAN, |v| v as f64) }
                            })
                            .filter(|p| p.t <= end)
                            .collect()
                    })
                    .collect();
                let (points, _) = aggregate(how, members.iter().map(|m| Cow::Borrowed(&m[..])), span);
                let expected = aggregate_by_definition(how, &members, span);
                let same = |a: &Point, b: &Point| a.t == b.t && (a.v == b.v || a.v.is_nan() && b.v.is_nan());
                proptest::prop_assert!(
                    points.len() == expected.len() && points.iter().zip(&expected).all(|(a, b)| same(a, b)),
                    "{points:?} != {expected:?}"
                );
            }
        }
    }

    #[test]
    fn default_labels_wrap_the_metric() {
        assert_eq!(default_label(&query(r#"{"metric":"cpu"}"#)), "cpu");
        assert_eq!(
            default_label(&query(r#"{"metric":"net","transform":"rate"}"#)),
            "rate(net)"
        );
        assert_eq!(
            default_label(&query(
                r#"{"metric":"net","transform":"rate","aggregate":"sum"}"#
            )),
            "sum(rate(net))"
        );
        assert!(derive(&query(r#"{"metric":"cpu"}"#), &[], SPAN).is_none());
    }
}
