//! Live MJPEG streams: one render task per watched chart ([`hub`], [`render`]), the
//! wire format ([`mjpeg`], the announced lengths: [`budget`]), each viewer's response
//! body ([`viewer`]) and the HTTP/2 viewer's stall check ([`stall`]).

pub mod budget;
pub mod chart;
pub mod hub;
pub mod mjpeg;
pub mod parts;
pub mod render;
pub mod stall;
pub mod viewer;

#[cfg(test)]
mod pacing_tests;
