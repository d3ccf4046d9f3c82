//! Summary statistics of a series' finite values in a time window (min, max, sum,
//! count, last), gathered in one pass.

use crate::data::Point;

/// Summary of a series' finite values in the window, gathered in one pass (a series
/// may have a million points: axis range, legend and "no data" all read this).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stats {
    pub min: f64,
    pub max: f64,
    /// Smallest value above zero (what a log axis can show).
    pub min_positive: f64,
    pub sum: f64,
    pub count: usize,
    /// The latest finite value in the window.
    pub last: Option<f64>,
}

impl Stats {
    /// No values yet.
    pub const EMPTY: Stats = Stats {
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        min_positive: f64::INFINITY,
        sum: 0.0,
        count: 0,
        last: None,
    };

    /// The statistics of `points`, in their order.
    pub fn of(points: &[Point]) -> Stats {
        let mut stats = Stats::EMPTY;
        for p in points {
            stats.add(p.v);
        }
        stats
    }

    /// Counts `v` if it is finite.
    pub fn add(&mut self, v: f64) {
        if v.is_finite() {
            if v < self.min {
                self.min = v;
            }
            if v > self.max {
                self.max = v;
            }
            if v > 0.0 && v < self.min_positive {
                self.min_positive = v;
            }
            self.sum += v;
            self.count += 1;
            self.last = Some(v);
        }
    }

    /// The mean, if there are values.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }
}
