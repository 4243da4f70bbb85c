//! # underscore-render
//!
//! Offline rendering with the plugin's own engine: a dialogue stem and a bed (music or
//! ambience) in, the ducked bed out, latency-aligned with the input, plus a summary (speech
//! share, reduction, BS.1770 loudness), an optional mix, a PNG report and JSON figures.
//!
//! * [`driver`]: the streaming render loop (blocks, sample-accurate automation, latency
//!   trim); what the CLI, the tests and the benchmark all call.
//! * [`wav`]: streaming WAV reader/writer (constant memory; temp file + rename).
//! * [`automation`]: CSV/JSON automation files.
//! * [`loudness`]: BS.1770-4 K-weighting and gating, speech-gated variant.
//! * [`stats`]: the figures and the time line, collected while streaming.
//! * [`report`], [`json`]: the outputs.
//! * [`cli`]: the `underscore` command line.

pub mod automation;
pub mod cli;
pub mod driver;
pub mod error;
pub mod json;
pub mod loudness;
pub mod progress;
pub mod report;
pub mod stats;
pub mod wav;

pub use cli::{RenderArgs, RenderReport, run_render};
pub use driver::{MemSink, MemSource, RenderSetup, Sink, Source, render};
pub use error::{ErrorKind, RenderError};

use std::path::Path;

/// Writes `bytes` to `<path>.tmp-<pid>` and renames it to `path`, so a reader never sees a
/// half-written file and a failure leaves nothing behind.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), RenderError> {
    let temp = wav::temp_path(path);
    let fail = |e: std::io::Error| RenderError::output(path, format!("cannot write: {e}"));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    if let Err(e) = std::fs::write(&temp, bytes).and_then(|_| std::fs::rename(&temp, path)) {
        let _ = std::fs::remove_file(&temp);
        return Err(fail(e));
    }
    Ok(())
}
