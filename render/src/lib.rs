//! # underscore-render
//!
//! Offline rendering with the plugin's own engine: a dialogue stem and a bed (music or
//! ambience) in, the ducked bed out, latency-aligned with the input, plus a summary (speech
//! share, reduction, BS.1770 loudness), an optional mix, a PNG report and JSON figures.
//! Audio files (WAV or FLAC in, WAV out) are read and written by `underscore-io`.
//!
//! ## Modules
//!
//! * [`driver`]: the streaming render loop (blocks, sample-accurate automation, latency
//!   trim) over the [`Source`]/[`Sink`] traits, with in-memory implementations, for one bed or
//!   several linked beds (one engine each, in one link group, in lockstep); what the CLI, the
//!   tests and the benchmark all call.
//! * [`files`]: `Source`/`Sink` for underscore-io's streaming reader and writer.
//! * [`automation`]: CSV/JSON automation files.
//! * [`loudness`]: BS.1770-4 K-weighting and gating, speech-gated variant.
//! * [`timecode`]: SMPTE timecode at a frame rate, to and from sample positions of a bed.
//! * [`envelope`]: the gain envelope and speech regions a render applied, exported for a DAW.
//! * [`stats`]: the figures and the time line, collected while streaming.
//! * [`sanity`]: warnings where the inputs or output names look wrong (a dialogue stem with no
//!   speech, music as the dialogue, `-o x.mp3`).
//! * [`job`]: what a render is asked to do ([`RenderArgs`]) and what it produced
//!   ([`RenderReport`]).
//! * [`settings`]: the starting settings from the preset and `--set`.
//! * [`report`], [`json`]: the outputs.
//! * [`run`]: [`run_render`], a whole render from options to files.
//! * [`progress`]: the progress bar.
//! * [`cli`]: the `underscore` command line: parsing, `underscore presets` and `underscore
//!   params`, the printed summary and warnings, exit codes.
//! * [`error`]: the error type, [`RenderError`], with its exit code.
//!
//! The modules import each other without a cycle; each uses only the ones listed after it:
//!
//! ```text
//! cli        -> run, settings, job
//! run        -> json, report, settings, sanity, files, driver, envelope, automation, timecode,
//!               progress, job, error
//! json       -> job, error
//! report     -> job, stats, timecode, error
//! settings   -> job, error
//! job        -> driver, envelope, timecode, stats
//! files      -> driver, error
//! driver     -> automation, envelope, stats, error
//! envelope   -> timecode, error
//! stats      -> sanity, loudness
//! sanity     -> loudness
//! automation -> timecode, error
//! loudness, progress, timecode, error: no crate modules
//! ```

pub mod automation;
pub mod cli;
pub mod driver;
pub mod envelope;
pub mod error;
pub mod files;
pub mod job;
pub mod json;
pub mod loudness;
pub mod progress;
pub mod report;
pub mod run;
pub mod sanity;
pub mod settings;
pub mod stats;
pub mod timecode;

pub use driver::{MemSink, MemSource, RenderSetup, Sink, Source, render};
pub use error::{ErrorKind, RenderError};
pub use job::{RenderArgs, RenderReport};
pub use run::run_render;
