//! [`run_render`]: `underscore render` without the command line: checks the options and the
//! files, renders through [`crate::driver`], and writes the outputs (each through a temporary
//! file renamed at the end).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use underscore_io::{AudioReader, SampleFormat, WavWriter};

use crate::automation;
use crate::driver::{self, MAX_BLOCK_FRAMES, RenderSetup, Sink};
use crate::error::RenderError;
use crate::job::{RenderArgs, RenderReport};
use crate::progress::Progress;
use crate::settings::resolve_params;
use crate::{json, report};

/// Sample rates the renderer accepts, Hz.
pub const SAMPLE_RATES_HZ: std::ops::RangeInclusive<u32> = 44_100..=192_000;
/// Channel counts accepted for bed and dialogue (mono, stereo, 5.1).
pub const CHANNEL_COUNTS: &[usize] = &[1, 2, 6];

fn check_channels(src: &AudioReader, role: &str) -> Result<(), RenderError> {
    let n = src.channels();
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

    let mut key = AudioReader::open(&args.dialogue)?;
    let mut bed = AudioReader::open(&args.bed)?;
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
    let bed_ch = bed.channels();
    let key_ch = key.channels();
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
    let mut out = WavWriter::create(&args.output, bed_ch, sr, format)?;
    let mut mix = match &args.mix_output {
        Some(p) => Some(WavWriter::create(p, bed_ch, sr, format)?),
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
        out.clipped_samples() + mix.as_ref().map_or(0, WavWriter::clipped_samples);
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
