//! [`Spare`]: what a read leaves for the next one ([`Kept`]). Its point buffers, which
//! the next read fills before allocating new ones, so a frame of a `sum` over 1,000
//! series allocates no fresh megabytes (and the kernel clears no fresh pages) per
//! frame; and, for each series read from memory alone in one part, a [`Mark`]: what was
//! read and as of which change, so the next read keeps the points that did not change
//! and reads only from the earliest change on (`Memory::read`).

use std::collections::HashMap;

use render_core::{Data, Point};

use super::edits::EditMark;
use super::part::Part;
use crate::store::SeriesKey;

/// What a series was read as: the part and where its change log was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub part: Part,
    pub edits: EditMark,
}

/// A read as a render task keeps it for the next frame: its data and its marks.
#[derive(Debug, Default)]
pub struct Kept {
    data: Data,
    marks: HashMap<SeriesKey, Mark>,
}

impl Kept {
    /// The data read.
    pub fn data(&self) -> &Data {
        &self.data
    }
}

/// The buffers of an earlier read, for a read to fill.
#[derive(Debug, Default)]
pub struct Spare {
    /// The earlier read's marked series: their points, as read, and marks.
    marked: HashMap<SeriesKey, (Vec<Point>, Mark)>,
    /// Empty buffers, each with the capacity an earlier read gave it.
    empty: Vec<Vec<Point>>,
    /// The marks of this read.
    marks: HashMap<SeriesKey, Mark>,
}

impl Spare {
    /// The buffers of `kept`: its marked series' as they are, the rest emptied.
    pub fn of(kept: Kept) -> Spare {
        let Kept { data, mut marks } = kept;
        let mut spare = Spare::default();
        for series in data.series {
            let key = (series.metric, series.tags);
            match marks.remove(&key) {
                Some(mark) => {
                    spare.marked.insert(key, (series.points, mark));
                }
                None => spare.empty.push(emptied(series.points)),
            }
        }
        spare
    }

    /// An empty buffer: a spare one while any is left, else a new one (once only
    /// marked ones are left, they are all emptied: they can no longer be continued).
    pub fn take(&mut self) -> Vec<Point> {
        if self.empty.is_empty() {
            let marked = self.marked.drain().map(|(_, (points, _))| emptied(points));
            self.empty.extend(marked);
        }
        self.empty.pop().unwrap_or_default()
    }

    /// The points `key` was read as, with their mark, if it was marked.
    pub fn take_marked(&mut self, key: &SeriesKey) -> Option<(Vec<Point>, Mark)> {
        self.marked.remove(key)
    }

    /// Records what `key` was read as in this read.
    pub fn mark(&mut self, key: SeriesKey, mark: Mark) {
        self.marks.insert(key, mark);
    }

    /// This read, `data`, with the marks it made, for the next.
    pub fn keep(self, data: Data) -> Kept {
        Kept {
            data,
            marks: self.marks,
        }
    }
}

/// `points` emptied, keeping their capacity.
fn emptied(mut points: Vec<Point>) -> Vec<Point> {
    points.clear();
    points
}

#[cfg(test)]
mod tests {
    use render_core::Series;

    use super::*;
    use crate::source::edits::Edits;

    fn data(metric: &str, points: Vec<Point>) -> Data {
        Data {
            series: vec![Series {
                metric: metric.into(),
                points,
                ..Series::default()
            }],
            notes: Vec::new(),
        }
    }

    #[test]
    fn buffers_of_a_read_are_handed_out_again_empty() {
        let points = vec![Point { t: 1, v: 2.0 }; 100];
        let kept = Spare::default().keep(data("m", points));
        let address = kept.data().series[0].points.as_ptr();
        let mut spare = Spare::of(kept);
        let reused = spare.take();
        assert!(reused.is_empty());
        assert_eq!(reused.as_ptr(), address, "the same allocation");
        assert!(reused.capacity() >= 100);
        // None left: a new one.
        assert_eq!(spare.take().capacity(), 0);
    }

    #[test]
    fn a_marked_series_is_handed_back_as_read_with_its_mark() {
        let mark = Mark {
            part: Part {
                from: 0,
                to: 10,
                resolution_ms: 1,
                values_only: true,
            },
            edits: Edits::default().mark(),
        };
        let points = vec![Point { t: 1, v: 2.0 }; 3];
        let key: SeriesKey = ("m".into(), Default::default());
        let mut spare = Spare::default();
        spare.mark(key.clone(), mark);
        let mut spare = Spare::of(spare.keep(data("m", points.clone())));
        assert_eq!(spare.take_marked(&key), Some((points.clone(), mark)));
        assert_eq!(spare.take_marked(&key), None);
        // Asked for an empty buffer first, a marked one is emptied.
        let mut spare = Spare::default();
        spare.mark(key.clone(), mark);
        let mut spare = Spare::of(spare.keep(data("m", points)));
        assert!(spare.take().is_empty());
        assert_eq!(spare.take_marked(&key), None);
    }
}
