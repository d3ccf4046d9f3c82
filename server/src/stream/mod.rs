//! Live MJPEG streams: one render task per watched chart ([`hub`], [`render`]), the
//! wire format ([`mjpeg`], the announced lengths: [`budget`]) and each viewer's
//! response body ([`viewer`]).

pub mod budget;
pub mod chart;
pub mod hub;
pub mod mjpeg;
pub mod render;
pub mod viewer;

#[cfg(test)]
mod pacing_tests;
