//! The one seam data is read through. A [`Source`] answers "the series these
//! [`Selectors`] match, over these stretches of time, each at its resolution (ms per
//! pixel column of the panels drawing it)" and
//! tells a render task when *its* series changed. The render task, `.jpg`/`.png`,
//! `POST /api/render` without data, the editor's preview (`GET /api/series/points`)
//! and the series picker (`GET /api/series`) all read through it, so the preview and
//! the stream can never draw different data.
//!
//! The built-in store ([`BuiltinSource`]: SQLite + in-memory windows) answers the
//! metric selectors; the configured Prometheus sources ([`Prometheus`]) the PromQL
//! ones; [`Sources`] is both as one. A render task reads into the point buffers of
//! its previous frame and, where its series changed only at the end, reads only the
//! end again ([`Kept`], [`Spare`], [`Source::read_reusing`]; `edits` is a series'
//! change log that tells).

mod builtin;
mod config;
mod edits;
mod memory;
mod part;
mod prometheus;
mod seam;
mod selector;
mod sources;
mod spare;

pub use builtin::BuiltinSource;
pub use config::{check_sources, SourceConfig, SourceKind};
pub use memory::{Horizons, SeriesInfo};
pub use prometheus::{Prometheus, QueryError};
pub use seam::{Query, Source};
pub use selector::{Promql, Selector, Selectors};
pub use sources::Sources;
pub use spare::{Kept, Spare};
