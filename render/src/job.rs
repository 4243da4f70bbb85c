//! What a render is asked to do and what it produced: [`RenderArgs`] (the options of
//! `underscore render`, parsed by clap, or built with [`RenderArgs::new`] by tests and
//! benchmarks) and [`RenderReport`]. The outputs ([`crate::json`], [`crate::report`]) and the
//! run ([`crate::run`]) depend on this module; it depends only on [`crate::stats`].

use std::path::{Path, PathBuf};

use clap::Args;
use underscore_dsp::EngineParams;
use underscore_dsp::settings::{Choice, Role};

use crate::driver::GroupFigures;
use crate::envelope::EnvelopeFormat;
use crate::stats::Summary;
use crate::timecode::{FrameRate, Timing};

/// Options of `underscore render`.
#[derive(Debug, Clone, Args)]
pub struct RenderArgs {
    /// Dialogue stem (the key), WAV or FLAC: mono, stereo or 5.1.
    #[arg(long, value_name = "WAV|FLAC")]
    pub dialogue: PathBuf,
    /// Bed to duck (music or ambience), WAV or FLAC: mono, stereo or 5.1. Give several
    /// (`--bed music.wav --role music -o music_ducked.wav --bed amb.wav --role ambience -o
    /// amb_ducked.wav`) to render them linked: their sum shares one masking budget, as linked
    /// plugin instances do. Each `--role` and `-o` belongs to the `--bed` before it.
    #[arg(long, value_name = "WAV|FLAC", required = true)]
    pub bed: Vec<PathBuf>,
    /// Ducked bed, aligned with the input, same length and layout (one per `--bed`).
    #[arg(short, long, value_name = "WAV", required = true)]
    pub output: Vec<PathBuf>,
    /// Role of the `--bed` before it in a linked render: music (yields first), effects or
    /// ambience (yields last). Default: music, or the preset's / `--set role=`.
    #[arg(long, value_name = "music|effects|ambience", value_parser = parse_role)]
    pub role: Vec<Role>,
    /// Each `--bed`'s role, in bed order (filled from the command line's order by the CLI;
    /// `None`: the settings' Role).
    #[arg(skip)]
    pub roles_by_bed: Vec<Option<Role>>,
    /// Preset: a factory or user preset's name, in any case, or a unique start of it (`drama`,
    /// `drama_under_score`; `underscore presets` lists them), or a preset file.
    #[arg(long, value_name = "NAME|FILE")]
    pub preset: Option<String>,
    /// Override a setting, in user units: `--set depth=-12 --set release=0.8s` (repeatable,
    /// applied after the preset).
    #[arg(long = "set", value_name = "ID=VALUE")]
    pub set: Vec<String>,
    /// Automation: CSV `time_s,param,value` (with that header) or a JSON list of
    /// {"time_s","param","value"}; or with timecode (`timecode,param,value`, `01:00:12:10`)
    /// counted from the bed's time reference, at --fps.
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
    /// The summary figures, the settings, the warnings and the per-band overlap as JSON (`-`:
    /// to standard output, and the summary to standard error).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Timecode frame rate: 23.976, 24, 25, 29.97, 29.97df, 30, 48, 50, 59.94, 59.94df, 60.
    /// Default: the bed's iXML rate, else 25. Timecode counts from the bed's BWF time
    /// reference; with --fps the report and envelopes show timecode even without one.
    #[arg(long, value_name = "RATE", value_parser = FrameRate::parse)]
    pub fps: Option<FrameRate>,
    /// Write the applied gain and the speech regions for a DAW (repeatable): .csv (time_s,
    /// timecode, gain_db, speech), .txt (Audacity labels of the speech regions), .rpp (Reaper
    /// project, the gain as the bed track's volume envelope).
    #[arg(long, value_name = "FILE")]
    pub export_envelope: Vec<PathBuf>,
    /// Format of every --export-envelope file, whatever its extension.
    #[arg(long, value_name = "FORMAT", value_enum)]
    pub envelope_format: Option<EnvelopeFormat>,
    /// No progress bar, no summary (errors are still printed).
    #[arg(short, long)]
    pub quiet: bool,
}

/// A `--role` value: a role's id or name, in any case.
pub fn parse_role(s: &str) -> Result<Role, String> {
    (0..Role::IDS.len())
        .map(Role::from_index)
        .find(|r| r.id().eq_ignore_ascii_case(s) || Role::NAMES[r.index()].eq_ignore_ascii_case(s))
        .ok_or_else(|| format!("unknown role '{s}' (music, effects or ambience)"))
}

impl RenderArgs {
    /// Arguments for a linked render of `beds` (bed, output, role) under `dialogue`.
    pub fn linked(dialogue: &Path, beds: &[(&Path, &Path, Role)]) -> Self {
        let mut a = Self::new(dialogue, beds[0].0, beds[0].1);
        a.bed = beds.iter().map(|b| b.0.to_path_buf()).collect();
        a.output = beds.iter().map(|b| b.1.to_path_buf()).collect();
        a.role = beds.iter().map(|b| b.2).collect();
        a.roles_by_bed = beds.iter().map(|b| Some(b.2)).collect();
        a
    }

    /// The role given for bed `i` (`None`: the settings' Role).
    pub fn role_of(&self, i: usize) -> Option<Role> {
        match self.roles_by_bed.get(i) {
            Some(r) => *r,
            // Built without the command line's order: one role per bed, in order.
            None if self.roles_by_bed.is_empty() => self.role.get(i).copied(),
            None => None,
        }
    }

    /// Arguments with the defaults, for the given files (tests, benchmarks).
    pub fn new(dialogue: &Path, bed: &Path, output: &Path) -> Self {
        Self {
            dialogue: dialogue.to_path_buf(),
            bed: vec![bed.to_path_buf()],
            output: vec![output.to_path_buf()],
            role: Vec::new(),
            roles_by_bed: Vec::new(),
            preset: None,
            set: Vec::new(),
            automation: None,
            mix_output: None,
            block: 512,
            bit_depth: "32f".into(),
            report: None,
            json: None,
            fps: None,
            export_envelope: Vec::new(),
            envelope_format: None,
            quiet: true,
        }
    }
}

/// What a finished render produced.
#[derive(Debug, Clone)]
pub struct RenderReport {
    pub summary: Summary,
    /// The bed rendered (input file).
    pub bed: PathBuf,
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
    /// Where the bed sits in time: its BWF time reference (`timing.start_samples`, samples
    /// since midnight, 0 without one; the outputs carry the same) and the timecode frame rate.
    pub timing: Timing,
    /// Envelope files written for this bed (`--export-envelope`).
    pub envelopes: Vec<PathBuf>,
}

/// What a render of one or more beds produced: one [`RenderReport`] per bed, in the order
/// given, and for a linked render the readout on their sum.
#[derive(Debug, Clone)]
pub struct GroupReport {
    pub beds: Vec<RenderReport>,
    /// Whether the beds were rendered linked (more than one bed).
    pub linked: bool,
    /// The group's figures (with `--json` or `--report`, which run the band analysis).
    pub figures: GroupFigures,
    /// The linked render's JSON document, if written.
    pub json: Option<PathBuf>,
    /// What looked wrong (the dialogue, the output names; `crate::sanity`), in words.
    pub warnings: Vec<String>,
}
