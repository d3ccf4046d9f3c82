//! The one seam data is read through. A [`Source`] answers "the series these
//! [`Selector`]s match, over `[from, to]`, at `resolution_ms` per pixel column" and
//! tells a render task when *its* series changed. The render task, `.jpg`/`.png`,
//! `POST /api/render` without data, the editor's preview (`GET /api/series/points`)
//! and the series picker (`GET /api/series`) all read through it, so the preview and
//! the stream can never draw different data.
//!
//! The built-in store ([`BuiltinSource`]: SQLite + in-memory windows) is the first
//! source.

mod builtin;
mod memory;
mod seam;
mod selector;

pub use builtin::BuiltinSource;
pub use memory::{Horizons, SeriesInfo};
pub use seam::{Query, Source};
pub use selector::Selector;
