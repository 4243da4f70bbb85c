//! # underscore-dsp
//!
//! The signal chain of Underscore, free of any plugin framework so it can be unit-tested,
//! benchmarked and driven by both the plugin and the offline renderer.
//!
//! Audio flows one way:
//!
//! ```text
//! key --> detector (16 kHz: probability; level; steadiness) --> speech gate --> ballistics (attack, hold,
//!                                                                   release: duck amount)
//!  |                                                                        |
//!  +--> spectral: key band levels --+                                        v
//!                                   |   gains (Depth, Mix, Output, Bypass on ramps,
//!                                   |          delayed by control_delay; field shares)
//!                                   v                                        |
//! bed --> delay (lookahead) --> Broadband: ---------------------------------> x --> out
//!                          \--> Spectral: STFT split into masking part --> x --+--> out
//!                                          (bands that mask the voice)          |
//!                                          and the rest (untouched) -----------+
//! ```
//!
//! [`detector`] resamples the key to 16 kHz ([`resample`]) and measures its speech probability
//! ([`vad`]), speech-band level, steadiness and voicing ([`steady`]); [`speech`] decides whether
//! it is speech and when the phrase began, [`conversation`] extends Hold in a conversation, [`ballistics`] turns that into a duck amount, [`channels`] spreads the duck over
//! the sound field, [`control_delay`] lines the control values up with the delayed audio, and
//! [`delay`] is the lookahead. In Spectral mode, [`spectral`] splits the delayed bed (one FFT
//! window later) into the part that masks the dialogue, which gets the duck, and the rest.
//! [`engine::Engine`] wires them together; it allocates only in `new()` and never in
//! `process_block()`. [`settings`] declares every user-facing setting once.

pub mod ballistics;
pub mod bands;
pub mod channels;
pub mod control_delay;
pub mod conversation;
pub mod decimate;
pub mod delay;
pub mod detector;
pub mod engine;
pub mod filter;
pub mod link;
pub mod ramp;
pub mod resample;
pub mod seqlock;
pub mod settings;
pub mod spectral;
pub mod speech;
pub mod steady;
pub mod units;
pub mod vad;

#[cfg(test)]
mod test_signals;

pub use engine::{Engine, Meter};
pub use settings::{EngineParams, Mode, StereoMode};
