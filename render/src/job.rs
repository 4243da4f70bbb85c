//! What a render is asked to do and what it produced: [`RenderArgs`] (the options of
//! `underscore render`, parsed by clap, or built with [`RenderArgs::new`] by tests and
//! benchmarks) and [`RenderReport`]. The outputs ([`crate::json`], [`crate::report`]) and the
//! run ([`crate::run`]) depend on this module; it depends only on [`crate::stats`].

use std::path::{Path, PathBuf};

use clap::Args;
use underscore_dsp::EngineParams;

use crate::stats::Summary;

/// Options of `underscore render`.
#[derive(Debug, Clone, Args)]
pub struct RenderArgs {
    /// Dialogue stem (the key), WAV or FLAC: mono, stereo or 5.1.
    #[arg(long, value_name = "WAV|FLAC")]
    pub dialogue: PathBuf,
    /// Bed to duck (music or ambience), WAV or FLAC: mono, stereo or 5.1.
    #[arg(long, value_name = "WAV|FLAC")]
    pub bed: PathBuf,
    /// Ducked bed, aligned with the input, same length and layout.
    #[arg(short, long, value_name = "WAV")]
    pub output: PathBuf,
    /// Preset: a factory name (`drama`, `drama_under_score`) or a preset file.
    #[arg(long, value_name = "NAME|FILE")]
    pub preset: Option<String>,
    /// Override a setting, in user units: `--set depth=-12 --set release=0.8s` (repeatable,
    /// applied after the preset).
    #[arg(long = "set", value_name = "ID=VALUE")]
    pub set: Vec<String>,
    /// Automation: CSV `time_s,param,value` (with that header) or a JSON list of
    /// {"time_s","param","value"}.
    #[arg(long, value_name = "FILE")]
    pub automation: Option<PathBuf>,
    /// Also write dialogue + ducked bed (dialogue mapped onto the bed's layout).
    #[arg(long, value_name = "WAV")]
    pub mix_output: Option<PathBuf>,
    /// Frames per engine call (like a host's buffer size; the result does not depend on it).
    #[arg(long, value_name = "N", default_value_t = 512)]
    pub block: usize,
    /// Output encoding: 16, 24, 32 (integer) or 32f (float).
    #[arg(long, value_name = "16|24|32|32f", default_value = "32f")]
    pub bit_depth: String,
    /// Picture: gain reduction over time with speech, and masking overlap per band before and
    /// after.
    #[arg(long, value_name = "PNG")]
    pub report: Option<PathBuf>,
    /// The summary figures (and per-band overlap) as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// No progress bar, no summary (errors are still printed).
    #[arg(short, long)]
    pub quiet: bool,
}

impl RenderArgs {
    /// Arguments with the defaults, for the given files (tests, benchmarks).
    pub fn new(dialogue: &Path, bed: &Path, output: &Path) -> Self {
        Self {
            dialogue: dialogue.to_path_buf(),
            bed: bed.to_path_buf(),
            output: output.to_path_buf(),
            preset: None,
            set: Vec::new(),
            automation: None,
            mix_output: None,
            block: 512,
            bit_depth: "32f".into(),
            report: None,
            json: None,
            quiet: true,
        }
    }
}

/// What a finished render produced.
#[derive(Debug, Clone)]
pub struct RenderReport {
    pub summary: Summary,
    /// Preset name, or "(defaults)".
    pub preset: String,
    pub params: EngineParams,
    /// Files written.
    pub output: PathBuf,
    pub mix_output: Option<PathBuf>,
    pub report: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub ignored_events: usize,
    pub bed_channels: usize,
    pub dialogue_channels: usize,
}
