//! # underscore-dsp
//!
//! The signal chain of Underscore, free of any plugin framework so it can be unit-tested,
//! benchmarked and driven by both the plugin and the offline renderer.
//!
//! Audio flows one way: key -> [`detector`] (speech-band level) -> [`ballistics`] (attack, hold,
//! release) -> gain (Depth, Mix, Output, Bypass, each on a [`ramp`]) -> applied to the bed after
//! the [`delay`] (lookahead). [`engine::Engine`] wires them together; it allocates only in
//! `new()` and never in `process_block()`.

pub mod ballistics;
pub mod bands;
pub mod channels;
pub mod control_delay;
pub mod decimate;
pub mod delay;
pub mod detector;
pub mod engine;
pub mod filter;
pub mod param_table;
pub mod params;
pub mod quantile;
pub mod ramp;
pub mod spectral;
pub mod speech;
pub mod units;

#[cfg(test)]
mod test_signals;

pub use engine::{Engine, Meter};
pub use params::EngineParams;
