//! Data in: parsing and checking writes into a [`Batch`] grouped by series.
//!
//! Three wire formats — InfluxDB line protocol ([`line_protocol`]), plotcast's JSON
//! points ([`json`]) and Prometheus remote_write ([`remote_write`]) — produce the same
//! [`Batch`]; [`check_batch`] applies the limits
//! every write passes; every refusal is an [`IngestError`]. Pure functions of the
//! body, so the fuzz targets run exactly what a request runs.

mod batch;
mod error;
pub mod json;
mod limits;
pub mod line_protocol;
pub mod remote_write;

pub use batch::{Batch, Grouper, Sample, SeriesPoints};
pub use error::{IngestError, LineError, PointError};
pub use limits::{check_batch, IngestLimits};
