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
use crate::envelope::{self, EnvelopeFormat, EnvelopeSources};
use crate::error::RenderError;
use crate::job::{GroupReport, RenderArgs, RenderReport};
use crate::progress::Progress;
use crate::sanity;
use crate::settings::{changed_settings, resolve_params};
use crate::timecode::Timing;
use crate::{files, json, report};

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
    // --export-envelope: per bed (named like the reports in a linked render), with a format.
    let mut envelope_files: Vec<(usize, PathBuf, EnvelopeFormat)> = Vec::new();
    for path in &args.export_envelope {
        let format = match args.envelope_format {
            Some(f) => f,
            None => EnvelopeFormat::from_path(path).map_err(RenderError::usage)?,
        };
        for (i, o) in args.output.iter().enumerate() {
            let target = if linked {
                linked_report_path(path, o)
            } else {
                path.clone()
            };
            envelope_files.push((i, target, format));
        }
    }
    let outputs: Vec<&Path> = args
        .output
        .iter()
        .chain(args.mix_output.as_ref())
        .chain(&reports)
        .chain(args.json.as_ref().filter(|p| !is_stdout(p)))
        .chain(envelope_files.iter().map(|e| &e.1))
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
    // Each bed's place in time; automation timecode counts from the first bed's.
    let timings: Vec<Timing> = beds
        .iter()
        .map(|b| {
            let m = b.metadata();
            Timing::new(sr, args.fps, m.time_reference_samples(), m.ixml.as_deref())
        })
        .collect();
    let automation = match &args.automation {
        Some(path) => automation::load(path, &timings[0], &params)?,
        None => Vec::new(),
    };

    let setup = RenderSetup {
        sample_rate_hz: sr,
        params,
        automation,
        block_frames: args.block,
        // The band analysis feeds the summary's dialogue / bed line, the report and the JSON;
        // only a quiet render without either skips its cost.
        band_analysis: !args.quiet || args.report.is_some() || args.json.is_some(),
        envelope: !envelope_files.is_empty(),
    };
    let mut outs = Vec::with_capacity(beds.len());
    for (bed, path) in beds.iter().zip(&args.output) {
        outs.push(files::create_output(path, bed, sr, format)?);
    }
    let mut mix = match &args.mix_output {
        Some(p) => Some(files::create_output(p, &beds[0], sr, format)?),
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
        warnings: Vec::new(),
    };
    let envelopes = outcome.envelopes;
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
            timing: timings[i],
            envelopes: Vec::new(),
        };
        let sources = EnvelopeSources {
            bed: &args.bed[i],
            dialogue: &args.dialogue,
        };
        for (_, file, format) in envelope_files.iter().filter(|e| e.0 == i) {
            envelope::write(file, *format, &envelopes[i], &timings[i], &sources)?;
            result.envelopes.push(file.clone());
        }
        if let Some(path) = reports.get(i) {
            report::write_png(path, &result, &args.bed[i])?;
            result.report = Some(path.clone());
        }
        group.beds.push(result);
    }
    let audio: Vec<&Path> = args
        .output
        .iter()
        .chain(args.mix_output.as_ref())
        .map(PathBuf::as_path)
        .collect();
    group.warnings = sanity::output_warnings(&audio, &args.bit_depth, args.report.as_deref());
    // One dialogue for every bed: judged once.
    group
        .warnings
        .extend(sanity::dialogue_warnings(&group.beds[0].summary.key));
    if let Some(path) = &args.json {
        let mut doc = if linked {
            json::group_to_value(&group, args)
        } else {
            json::to_value(&group.beds[0], args)
        };
        add_settings_and_warnings(&mut doc, &group);
        write_json(path, &doc)?;
        if linked {
            group.json = Some(path.clone());
        } else {
            group.beds[0].json = Some(path.clone());
        }
    }
    Ok(group)
}

/// Whether an output path means standard output (`-`).
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Adds to a `--json` document what the CLI adds to the summary: each bed's settings that
/// differ from the plugin's defaults (`settings_changed`, id to value as `--set` reads it) and
/// the warnings (top level).
fn add_settings_and_warnings(doc: &mut serde_json::Value, group: &GroupReport) {
    let changed = |r: &RenderReport| -> serde_json::Value {
        changed_settings(&r.params)
            .into_iter()
            .map(|s| (s.id.to_string(), s.format(s.get(&r.params)).into()))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    if let Some(map) = doc.as_object_mut() {
        map.insert("warnings".into(), group.warnings.clone().into());
    }
    if group.linked {
        if let Some(beds) = doc.get_mut("beds").and_then(|b| b.as_array_mut()) {
            for (bed, r) in beds.iter_mut().zip(&group.beds) {
                if let Some(map) = bed.as_object_mut() {
                    map.insert("settings_changed".into(), changed(r));
                }
            }
        }
    } else if let Some(map) = doc.as_object_mut() {
        map.insert("settings_changed".into(), changed(&group.beds[0]));
    }
}

/// Writes a JSON document to `path` through a temporary file, or to standard output for `-`.
fn write_json(path: &Path, doc: &serde_json::Value) -> Result<(), RenderError> {
    let mut text = serde_json::to_string_pretty(doc).unwrap_or_default();
    text.push('\n');
    if is_stdout(path) {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        return out
            .write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| {
                RenderError::output(path, format!("cannot write to standard output: {e}"))
            });
    }
    Ok(underscore_io::write_atomically(path, text.as_bytes())?)
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
