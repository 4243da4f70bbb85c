//! The `underscore` command line: argument definitions and the `render` subcommand, callable
//! from tests without a process.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use underscore_dsp::EngineParams;
use underscore_dsp::settings::{self, Choice};

use crate::automation;
use crate::driver::{self, MAX_BLOCK_FRAMES, RenderSetup, Sink};
use crate::error::RenderError;
use crate::progress::Progress;
use crate::stats::Summary;
use crate::wav::{SampleFormat, WavSink, WavSource};
use crate::{json, report};

/// Underscore: dialogue-aware ducking, offline.
#[derive(Debug, Parser)]
#[command(name = "underscore", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Duck a music or ambience bed under a dialogue stem, as the plugin would.
    Render(RenderArgs),
}

/// Options of `underscore render`.
#[derive(Debug, Clone, Args)]
pub struct RenderArgs {
    /// Dialogue stem (the key), WAV: mono, stereo or 5.1.
    #[arg(long, value_name = "WAV")]
    pub dialogue: PathBuf,
    /// Bed to duck (music or ambience), WAV: mono, stereo or 5.1.
    #[arg(long, value_name = "WAV")]
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

/// Sample rates the renderer accepts, Hz.
pub const SAMPLE_RATES_HZ: std::ops::RangeInclusive<u32> = 44_100..=192_000;
/// Channel counts accepted for bed and dialogue (mono, stereo, 5.1).
pub const CHANNEL_COUNTS: &[usize] = &[1, 2, 6];

/// Settings from the preset (or defaults) and the `--set` overrides.
pub fn resolve_params(args: &RenderArgs) -> Result<(String, EngineParams), RenderError> {
    let (name, mut params) = match &args.preset {
        Some(p) => {
            let preset = underscore_preset::find(p).map_err(|e| {
                // A missing file or a broken preset is an input problem; the message names it.
                RenderError {
                    kind: crate::error::ErrorKind::Input,
                    path: None,
                    problem: format!("preset {e}"),
                }
            })?;
            (preset.name.clone(), preset.params)
        }
        None => ("(defaults)".to_string(), EngineParams::default()),
    };
    for s in &args.set {
        let (id, value) = s.split_once('=').ok_or_else(|| {
            RenderError::usage(format!("--set {s}: expected ID=VALUE, e.g. depth=-12"))
        })?;
        let info = settings::find(id.trim()).ok_or_else(|| {
            RenderError::usage(format!("--set {s}: {}", settings::unknown(id.trim())))
        })?;
        let v = info
            .parse(value)
            .map_err(|e| RenderError::usage(format!("--set {s}: {e}")))?;
        info.set(&mut params, v)
            .map_err(|e| RenderError::usage(format!("--set {s}: {e}")))?;
    }
    settings::validate(&params).map_err(RenderError::usage)?;
    Ok((name, params))
}

fn check_channels(src: &WavSource, role: &str) -> Result<(), RenderError> {
    let n = crate::driver::Source::channels(src);
    if CHANNEL_COUNTS.contains(&n) {
        Ok(())
    } else {
        Err(RenderError::input(
            src.path(),
            format!(
                "unsupported channel count {n} for the {role} (supported: 1 mono, 2 stereo, \
                 6 for 5.1 as L R C LFE Ls Rs)"
            ),
        ))
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Runs `underscore render`: checks everything, renders, writes the outputs (each through a
/// temporary file renamed at the end) and returns the figures. On any error no output file is
/// left behind.
pub fn run_render(args: &RenderArgs) -> Result<RenderReport, RenderError> {
    let (preset, params) = resolve_params(args)?;
    if args.block == 0 || args.block > MAX_BLOCK_FRAMES {
        return Err(RenderError::usage(format!(
            "--block {}: must be 1..={MAX_BLOCK_FRAMES} frames",
            args.block
        )));
    }
    let format = SampleFormat::parse(&args.bit_depth)
        .map_err(|e| RenderError::usage(format!("--bit-depth: {e}")))?;
    let outputs: Vec<&Path> = [
        Some(&args.output),
        args.mix_output.as_ref(),
        args.report.as_ref(),
        args.json.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(PathBuf::as_path)
    .collect();
    for (i, o) in outputs.iter().enumerate() {
        if same_file(o, &args.dialogue) || same_file(o, &args.bed) {
            return Err(RenderError::usage(format!(
                "{}: an output must not overwrite an input",
                o.display()
            )));
        }
        if outputs[..i].iter().any(|p| same_file(p, o)) {
            return Err(RenderError::usage(format!(
                "{}: given for two outputs",
                o.display()
            )));
        }
    }

    let mut key = WavSource::open(&args.dialogue)?;
    let mut bed = WavSource::open(&args.bed)?;
    check_channels(&key, "dialogue")?;
    check_channels(&bed, "bed")?;
    let sr = bed.sample_rate_hz();
    if !SAMPLE_RATES_HZ.contains(&sr) {
        return Err(RenderError::input(
            &args.bed,
            format!("unsupported sample rate {sr} Hz (supported: 44100 to 192000 Hz)"),
        ));
    }
    if key.sample_rate_hz() != sr {
        return Err(RenderError::input(
            &args.dialogue,
            format!(
                "sample rate {} Hz does not match the bed's {sr} Hz ({}); resample one of them",
                key.sample_rate_hz(),
                args.bed.display()
            ),
        ));
    }
    if key.frames() != bed.frames() {
        let s = |f: u64| f as f64 / sr as f64;
        return Err(RenderError::input(
            &args.dialogue,
            format!(
                "length {} frames ({:.3} s) does not match the bed's {} frames ({:.3} s, {}): \
                 export both stems over the same range",
                key.frames(),
                s(key.frames()),
                bed.frames(),
                s(bed.frames()),
                args.bed.display()
            ),
        ));
    }
    if bed.frames() == 0 {
        return Err(RenderError::input(&args.bed, "contains no audio"));
    }
    let bed_ch = crate::driver::Source::channels(&bed);
    let key_ch = crate::driver::Source::channels(&key);
    let data_bytes = bed.frames() * (bed_ch * format.bytes()) as u64;
    if data_bytes > u32::MAX as u64 - 1_000 {
        return Err(RenderError::output(
            &args.output,
            format!(
                "{:.1} GB of {} audio exceeds the WAV format's 4 GB; use --bit-depth 16 or 24, \
                 or split the file",
                data_bytes as f64 / 1e9,
                format.describe()
            ),
        ));
    }
    let automation = match &args.automation {
        Some(path) => automation::load(path, sr, &params)?,
        None => Vec::new(),
    };

    let setup = RenderSetup {
        sample_rate_hz: sr,
        params,
        automation,
        block_frames: args.block,
        band_analysis: args.report.is_some() || args.json.is_some(),
    };
    let mut out = WavSink::create(&args.output, bed_ch, sr, format)?;
    let mut mix = match &args.mix_output {
        Some(p) => Some(WavSink::create(p, bed_ch, sr, format)?),
        None => None,
    };
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let mut progress = Progress::new(show_progress, sr);
    let total_frames = bed.frames();
    let outcome = driver::render(
        &setup,
        &mut bed,
        &mut key,
        total_frames,
        &mut out,
        mix.as_mut().map(|m| m as &mut dyn Sink),
        &mut |done, total| progress.update(done, total),
    );
    progress.finish();
    let mut outcome = outcome?;
    outcome.summary.clipped_samples =
        out.clipped_samples() + mix.as_ref().map_or(0, WavSink::clipped_samples);
    let output = out.finish()?;
    let mix_output = match mix {
        Some(m) => Some(m.finish()?),
        None => None,
    };
    let mut result = RenderReport {
        summary: outcome.summary,
        preset,
        params,
        output,
        mix_output,
        report: None,
        json: None,
        ignored_events: outcome.ignored_events,
        bed_channels: bed_ch,
        dialogue_channels: key_ch,
    };
    if let Some(path) = &args.report {
        report::write_png(path, &result, &args.bed)?;
        result.report = Some(path.clone());
    }
    if let Some(path) = &args.json {
        json::write(path, &result, args)?;
        result.json = Some(path.clone());
    }
    Ok(result)
}

fn db(v: Option<f64>, unit: &str) -> String {
    match v {
        Some(v) => format!("{v:.1} {unit}"),
        None => "n/a".into(),
    }
}

/// The summary as printed at the end of a render.
pub fn format_summary(r: &RenderReport) -> String {
    let s = &r.summary;
    let mut t = String::new();
    let p = &r.params;
    t.push_str(&format!(
        "rendered {:.1} s ({} Hz, {} ch bed, {} ch dialogue), preset {}, mode {}, depth {} dB\n",
        s.duration_s,
        s.sample_rate_hz,
        r.bed_channels,
        r.dialogue_channels,
        r.preset,
        p.mode.id(),
        p.depth_db
    ));
    t.push_str(&format!(
        "  speech            {:.1} % of the time\n",
        100.0 * s.speech_share
    ));
    t.push_str(&format!(
        "  reduction         mean {} during speech, {} overall, max {}\n",
        db(s.mean_reduction_speech_db, "dB"),
        db(s.mean_reduction_all_db, "dB"),
        db(s.max_reduction_db, "dB")
    ));
    t.push_str(&format!(
        "  dialogue - bed    {} before, {} after (BS.1770, speech-gated; dialogue {})\n",
        db(s.dialogue_to_bed_before_lu(), "LU"),
        db(s.dialogue_to_bed_after_lu(), "LU"),
        db(s.dialogue_lufs, "LUFS")
    ));
    t.push_str(&format!(
        "  bed loudness      {} before, {} after (integrated)\n",
        db(s.bed_integrated_before_lufs, "LUFS"),
        db(s.bed_integrated_after_lufs, "LUFS")
    ));
    t.push_str(&format!(
        "  latency           {} samples compensated (output aligned with the input)\n",
        s.latency_samples
    ));
    if s.clipped_samples > 0 {
        t.push_str(&format!(
            "  warning           {} samples clipped at full scale (use --bit-depth 32f)\n",
            s.clipped_samples
        ));
    }
    if r.ignored_events > 0 {
        t.push_str(&format!(
            "  warning           {} automation events after the end were ignored\n",
            r.ignored_events
        ));
    }
    t.push_str(&format!(
        "  elapsed           {:.2} s, {:.0}x realtime\n",
        s.elapsed_s, s.times_realtime
    ));
    t.push_str(&format!("wrote {}\n", r.output.display()));
    for p in [&r.mix_output, &r.report, &r.json].into_iter().flatten() {
        t.push_str(&format!("wrote {}\n", p.display()));
    }
    t
}

/// Parses the command line, runs it, prints the summary (stdout) or the error (stderr), and
/// returns the exit code: 0, 1 (input or output problem) or 2 (usage).
pub fn main_with_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    match cli.command {
        Command::Render(args) => match run_render(&args) {
            Ok(report) => {
                if !args.quiet {
                    print!("{}", format_summary(&report));
                }
                0
            }
            Err(e) => {
                eprintln!("underscore render: error: {e}");
                e.exit_code()
            }
        },
    }
}
