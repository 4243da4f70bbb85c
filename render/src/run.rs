//! [`run_render`]: `underscore render` without the command line: checks the options and the
//! files, renders through [`crate::driver`], and writes the outputs (each through a temporary
//! file renamed at the end).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use underscore_io::{AudioReader, SampleFormat, WavWriter};

use crate::automation;
use underscore_dsp::EngineParams;
use underscore_dsp::link::MAX_MEMBERS;
use underscore_dsp::settings::Role;

use crate::driver::{self, BedJob, MAX_BLOCK_FRAMES, RenderSetup, Sink, Source};
use crate::error::RenderError;
use crate::job::{GroupReport, RenderArgs, RenderReport};
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

/// Runs `underscore render` for one bed (see [`run_group`]).
pub fn run_render(args: &RenderArgs) -> Result<RenderReport, RenderError> {
    if args.bed.len() != 1 {
        return Err(RenderError::usage(
            "run_render renders one bed; use run_group",
        ));
    }
    let mut group = run_group(args)?;
    Ok(group.beds.remove(0))
}

/// Where a linked render's picture of bed `output` goes: `report.png` becomes
/// `report-<output's stem>.png`, next to it.
pub fn linked_report_path(report: &Path, output: &Path) -> PathBuf {
    let stem = report
        .file_stem()
        .map(|s| s.to_string_lossy())
        .unwrap_or_default();
    let out = output
        .file_stem()
        .map(|s| s.to_string_lossy())
        .unwrap_or_default();
    let ext = report
        .extension()
        .map(|e| e.to_string_lossy())
        .unwrap_or("png".into());
    report.with_file_name(format!("{stem}-{out}.{ext}"))
}

/// Runs `underscore render`: checks everything, renders, writes the outputs (each through a
/// temporary file renamed at the end) and returns the figures. Several beds are rendered
/// linked (one masking budget for their sum, see `underscore_dsp::link`), one output each. On
/// any error no output file is left behind.
pub fn run_group(args: &RenderArgs) -> Result<GroupReport, RenderError> {
    let (preset, params) = resolve_params(args)?;
    if args.block == 0 || args.block > MAX_BLOCK_FRAMES {
        return Err(RenderError::usage(format!(
            "--block {}: must be 1..={MAX_BLOCK_FRAMES} frames",
            args.block
        )));
    }
    let linked = args.bed.len() > 1;
    if args.output.len() != args.bed.len() {
        return Err(RenderError::usage(format!(
            "{} --bed but {} -o: give each --bed its own -o after it",
            args.bed.len(),
            args.output.len()
        )));
    }
    if args.bed.len() > MAX_MEMBERS {
        return Err(RenderError::usage(format!(
            "{} beds: a link group holds at most {MAX_MEMBERS}",
            args.bed.len()
        )));
    }
    let format = SampleFormat::parse(&args.bit_depth)
        .map_err(|e| RenderError::usage(format!("--bit-depth: {e}")))?;
    let reports: Vec<PathBuf> = match &args.report {
        Some(r) if linked => args
            .output
            .iter()
            .map(|o| linked_report_path(r, o))
            .collect(),
        Some(r) => vec![r.clone()],
        None => Vec::new(),
    };
    let outputs: Vec<&Path> = args
        .output
        .iter()
        .chain(args.mix_output.as_ref())
        .chain(&reports)
        .chain(args.json.as_ref())
        .map(PathBuf::as_path)
        .collect();
    for (i, o) in outputs.iter().enumerate() {
        if same_file(o, &args.dialogue) || args.bed.iter().any(|b| same_file(o, b)) {
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
    check_channels(&key, "dialogue")?;
    let mut beds = Vec::with_capacity(args.bed.len());
    for path in &args.bed {
        let bed = AudioReader::open(path)?;
        check_bed(&bed, &key, &args.dialogue)?;
        beds.push(bed);
    }
    let sr = beds[0].sample_rate_hz();
    let key_ch = key.channels();
    if args.mix_output.is_some() && beds.iter().any(|b| b.channels() != beds[0].channels()) {
        return Err(RenderError::usage(
            "--mix-output: the linked beds must have one layout to be summed",
        ));
    }
    for (bed, out) in beds.iter().zip(&args.output) {
        let data_bytes = bed.frames() * (bed.channels() * format.bytes()) as u64;
        if data_bytes > u32::MAX as u64 - 1_000 {
            return Err(RenderError::output(
                out,
                format!(
                    "{:.1} GB of {} audio exceeds the WAV format's 4 GB; use --bit-depth 16 or \
                     24, or split the file",
                    data_bytes as f64 / 1e9,
                    format.describe()
                ),
            ));
        }
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
    let mut outs = Vec::with_capacity(beds.len());
    for (bed, path) in beds.iter().zip(&args.output) {
        outs.push(WavWriter::create(path, bed.channels(), sr, format)?);
    }
    let mut mix = match &args.mix_output {
        Some(p) => Some(WavWriter::create(p, beds[0].channels(), sr, format)?),
        None => None,
    };
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let mut progress = Progress::new(show_progress, sr);
    let total_frames = beds[0].frames();
    let bed_channels: Vec<usize> = beds.iter().map(AudioReader::channels).collect();
    let roles: Vec<Role> = (0..beds.len())
        .map(|i| args.role_of(i).unwrap_or(params.role))
        .collect();
    let jobs: Vec<BedJob> = beds
        .iter_mut()
        .zip(outs.iter_mut())
        .zip(&roles)
        .map(|((bed, out), &role)| BedJob {
            source: bed as &mut dyn Source,
            out: out as &mut dyn Sink,
            role,
        })
        .collect();
    let outcome = driver::render_group(
        &setup,
        jobs,
        &mut key,
        total_frames,
        linked,
        mix.as_mut().map(|m| m as &mut dyn Sink),
        &mut |done, total| progress.update(done, total),
    );
    progress.finish();
    let outcome = outcome?;
    let mix_clipped = mix.as_ref().map_or(0, WavWriter::clipped_samples);
    let mix_output = match mix {
        Some(m) => Some(m.finish()?),
        None => None,
    };
    let mut group = GroupReport {
        beds: Vec::with_capacity(outs.len()),
        linked,
        figures: outcome.figures.clone(),
        json: None,
    };
    for (i, ((out, mut summary), path)) in outs
        .into_iter()
        .zip(outcome.summaries)
        .zip(&args.bed)
        .enumerate()
    {
        summary.clipped_samples = out.clipped_samples() + if i == 0 { mix_clipped } else { 0 };
        let mut result = RenderReport {
            summary,
            bed: path.clone(),
            preset: preset.clone(),
            params: EngineParams {
                role: roles[i],
                ..params
            },
            output: out.finish()?,
            mix_output: if i == 0 { mix_output.clone() } else { None },
            report: None,
            json: None,
            ignored_events: outcome.ignored_events,
            bed_channels: bed_channels[i],
            dialogue_channels: key_ch,
        };
        if let Some(path) = reports.get(i) {
            report::write_png(path, &result, &args.bed[i])?;
            result.report = Some(path.clone());
        }
        group.beds.push(result);
    }
    if let Some(path) = &args.json {
        if linked {
            json::write_group(path, &group, args)?;
            group.json = Some(path.clone());
        } else {
            json::write(path, &group.beds[0], args)?;
            group.beds[0].json = Some(path.clone());
        }
    }
    Ok(group)
}

/// Checks a bed against the dialogue: layout, sample rate, length.
fn check_bed(bed: &AudioReader, key: &AudioReader, dialogue: &Path) -> Result<(), RenderError> {
    check_channels(bed, "bed")?;
    let sr = bed.sample_rate_hz();
    if !SAMPLE_RATES_HZ.contains(&sr) {
        return Err(RenderError::input(
            bed.path(),
            format!("unsupported sample rate {sr} Hz (supported: 44100 to 192000 Hz)"),
        ));
    }
    if key.sample_rate_hz() != sr {
        return Err(RenderError::input(
            dialogue,
            format!(
                "sample rate {} Hz does not match the bed's {sr} Hz ({}); resample one of them",
                key.sample_rate_hz(),
                bed.path().display()
            ),
        ));
    }
    if key.frames() != bed.frames() {
        let s = |f: u64| f as f64 / sr as f64;
        return Err(RenderError::input(
            dialogue,
            format!(
                "length {} frames ({:.3} s) does not match the bed's {} frames ({:.3} s, {}): \
                 export both stems over the same range",
                key.frames(),
                s(key.frames()),
                bed.frames(),
                s(bed.frames()),
                bed.path().display()
            ),
        ));
    }
    if bed.frames() == 0 {
        return Err(RenderError::input(bed.path(), "contains no audio"));
    }
    Ok(())
}
