//! [`Spare`]: the emptied point buffers of an earlier read, which a read fills before
//! allocating new ones. A render task reads each frame into the buffers of the frame
//! before, so a frame of a `sum` over 1,000 series allocates no fresh megabytes (and
//! the kernel clears no fresh pages) per frame.

use render_core::{Data, Point};

/// Empty point buffers, each with the capacity an earlier read gave it.
#[derive(Debug, Default)]
pub struct Spare(Vec<Vec<Point>>);

impl Spare {
    /// The point buffers of `data`'s series, emptied (their metrics and tags dropped).
    pub fn of(data: Data) -> Spare {
        Spare(
            data.series
                .into_iter()
                .map(|series| {
                    let mut points = series.points;
                    points.clear();
                    points
                })
                .collect(),
        )
    }

    /// An empty buffer: a spare one while any is left, else a new one.
    pub fn take(&mut self) -> Vec<Point> {
        self.0.pop().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use render_core::Series;

    use super::*;

    #[test]
    fn buffers_of_a_read_are_handed_out_again_empty() {
        let points = vec![Point { t: 1, v: 2.0 }; 100];
        let data = Data {
            series: vec![Series {
                metric: "m".into(),
                points,
                ..Series::default()
            }],
            notes: Vec::new(),
        };
        let address = data.series[0].points.as_ptr();
        let mut spare = Spare::of(data);
        let reused = spare.take();
        assert!(reused.is_empty());
        assert_eq!(reused.as_ptr(), address, "the same allocation");
        assert!(reused.capacity() >= 100);
        // None left: a new one.
        assert_eq!(spare.take().capacity(), 0);
    }
}
