//! [`Sources`]: the built-in store and the configured sources as one [`Source`]; each
//! part answers the selectors of its kind and ignores the others.

use std::sync::Arc;

use render_core::Data;
use tokio::sync::Notify;

use super::memory::SeriesInfo;
use super::seam::{Query, Source};
use super::selector::Selectors;
use super::spare::Spare;

/// Several sources read as one.
pub struct Sources {
    parts: Vec<Arc<dyn Source>>,
}

impl Sources {
    /// The sources `parts`, read in this order.
    pub fn new(parts: Vec<Arc<dyn Source>>) -> Sources {
        Sources { parts }
    }
}

impl Source for Sources {
    fn read(&self, query: &Query<'_>) -> Data {
        self.read_reusing(query, &mut Spare::default())
    }

    fn read_reusing(&self, query: &Query<'_>, spare: &mut Spare) -> Data {
        let mut data = Data::default();
        for part in &self.parts {
            let Data { series, notes } = part.read_reusing(query, spare);
            data.series.extend(series);
            data.notes.extend(notes);
        }
        data
    }

    fn version(&self, selectors: &Selectors) -> u64 {
        self.parts.iter().fold(0, |sum: u64, part| {
            sum.wrapping_add(part.version(selectors))
        })
    }

    fn watch(&self, selectors: &Selectors, notify: &Arc<Notify>) {
        for part in &self.parts {
            part.watch(selectors, notify);
        }
    }

    fn list(&self) -> Vec<SeriesInfo> {
        self.parts.iter().flat_map(|part| part.list()).collect()
    }
}
