//! [`PartMaker`]: turns a variant's successive JPEGs into wire [`Part`]s — numbered,
//! with the exact-length header, the padded copy that fills the length announced after
//! the previous frame, and the next announcement ([`Budget`]). The render task and an
//! edge's relay of frames from NATS make their parts the same way, so every viewer
//! gets the same framing wherever its frames come from.

use bytes::Bytes;

use crate::stream::budget::Budget;
use crate::stream::chart::ChartStream;
use crate::stream::mjpeg::{self, Part};

/// One variant's part numbering and length budget.
#[derive(Default)]
pub struct PartMaker {
    /// The length announced after the previous part (`None` before the first).
    announced: Option<usize>,
    sizes: Budget,
}

impl PartMaker {
    /// The part of `jpeg`, a frame of `chart` drawn at `timestamp_ms`.
    pub fn make(&mut self, chart: &ChartStream, jpeg: Bytes, timestamp_ms: i64) -> Part {
        let seq = chart.seq.fetch_add(1, std::sync::atomic::Ordering::AcqRel) + 1;
        let budget = self.sizes.after(jpeg.len());
        let cont = self
            .announced
            .and_then(|b| mjpeg::pad_jpeg(&jpeg, b))
            .map(Bytes::from);
        // A budget is always over 100 bytes more than its JPEG, so this pads.
        let repeat = mjpeg::pad_jpeg(&jpeg, budget).map_or_else(|| jpeg.clone(), Bytes::from);
        let budget = repeat.len();
        self.announced = Some(budget);
        Part {
            seq,
            time_ms: timestamp_ms,
            header: mjpeg::part_header(jpeg.len(), timestamp_ms),
            advance: mjpeg::part_header(budget, timestamp_ms),
            jpeg,
            cont,
            repeat,
            budget,
        }
    }
}
