//! [`Spare`]: what a read leaves for the next one ([`Kept`]). Its point buffers, which
//! the next read fills before allocating new ones, so a frame of a `sum` over 1,000
//! series allocates no fresh megabytes (and the kernel clears no fresh pages) per
//! frame; and, for each series read from memory alone in one part, a [`Mark`]: what was
//! read and as of which change, so the next read keeps the points that did not change
//! and reads only from the earliest change on (`Memory::read`).
//!
//! A mark is known by the address of the points it was made for (a kept read owns
//! them, so no other buffer has it) and found again by the series' change log, so
//! neither costs a series' metric and tags to be hashed or copied a frame: 1,000
//! series of a `sum` chart a frame.

use std::collections::HashMap;

use render_core::{Data, Point, Series};

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
    /// By the address of the points of `data` each was made for.
    marks: Vec<(usize, Mark)>,
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
    /// The earlier read's marked series as read, with their marks, by change log.
    marked: HashMap<u64, (Series, Mark)>,
    /// Empty buffers, each with the capacity an earlier read gave it.
    empty: Vec<Vec<Point>>,
    /// The marks of this read, by the address of the points each was made for.
    marks: Vec<(usize, Mark)>,
}

impl Spare {
    /// The buffers of `kept`: its marked series as they are, the rest emptied.
    pub fn of(kept: Kept) -> Spare {
        let Kept { data, marks } = kept;
        let mut marks: HashMap<usize, Mark> = marks.into_iter().collect();
        let mut spare = Spare::default();
        for series in data.series {
            match address(&series.points).and_then(|at| marks.remove(&at)) {
                Some(mark) => {
                    spare.marked.insert(mark.edits.log(), (series, mark));
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
            let marked = self
                .marked
                .drain()
                .map(|(_, (series, _))| emptied(series.points));
            self.empty.extend(marked);
        }
        self.empty.pop().unwrap_or_default()
    }

    /// Series `key` as the earlier read gave it, with its mark, if that read marked
    /// it in the change log `edits` is a mark of.
    pub fn take_marked(&mut self, key: &SeriesKey, edits: &EditMark) -> Option<(Series, Mark)> {
        let (series, mark) = self.marked.remove(&edits.log())?;
        if (&series.metric, &series.tags) != (&key.0, &key.1) {
            self.empty.push(emptied(series.points));
            return None;
        }
        Some((series, mark))
    }

    /// Records what `points` were read as in this read (not kept for points with
    /// no buffer of their own).
    pub fn mark(&mut self, points: &Vec<Point>, mark: Mark) {
        if let Some(at) = address(points) {
            self.marks.push((at, mark));
        }
    }

    /// This read, `data`, with the marks it made, for the next.
    pub fn keep(self, data: Data) -> Kept {
        Kept {
            data,
            marks: self.marks,
        }
    }
}

/// The address of the buffer of `points`, if they have one (an empty `Vec` may share
/// its dangling one with others).
fn address(points: &Vec<Point>) -> Option<usize> {
    (points.capacity() > 0).then_some(points.as_ptr() as usize)
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
        let read = data("m", vec![Point { t: 1, v: 2.0 }; 3]);
        let key: SeriesKey = ("m".into(), Default::default());
        let kept = |read: &Data| {
            let read = read.clone();
            let mut spare = Spare::default();
            spare.mark(&read.series[0].points, mark);
            Spare::of(spare.keep(read))
        };
        let mut spare = kept(&read);
        // Not for another series of the same log.
        assert_eq!(
            spare.take_marked(&("n".into(), Default::default()), &mark.edits),
            None
        );
        let mut spare = kept(&read);
        assert_eq!(spare.take_marked(&key, &Edits::default().mark()), None);
        assert_eq!(
            spare.take_marked(&key, &mark.edits),
            Some((read.series[0].clone(), mark))
        );
        assert_eq!(spare.take_marked(&key, &mark.edits), None);
        // Asked for an empty buffer first, a marked one is emptied.
        let mut spare = kept(&read);
        assert!(spare.take().is_empty());
        assert_eq!(spare.take_marked(&key, &mark.edits), None);
    }
}
