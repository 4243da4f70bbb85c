//! `--json`: the summary figures, the settings and the per-band masking overlap.

use std::path::Path;

use serde_json::{Value, json};
use underscore_dsp::settings::SETTINGS;

use crate::error::RenderError;
use crate::job::{GroupReport, RenderArgs, RenderReport};

/// Rounds for a readable file (figures are not meaningful past 0.001).
fn r3(v: f64) -> Value {
    if v.is_finite() {
        json!((v * 1000.0).round() / 1000.0)
    } else {
        Value::Null
    }
}

fn opt(v: Option<f64>) -> Value {
    v.map_or(Value::Null, r3)
}

/// The JSON document for a finished render.
pub fn to_value(r: &RenderReport, args: &RenderArgs) -> Value {
    let s = &r.summary;
    let settings: serde_json::Map<String, Value> = SETTINGS
        .iter()
        .map(|p| (p.id.to_string(), json!(p.format(p.get(&r.params)))))
        .collect();
    let bands: Vec<Value> = s
        .band_centres_hz
        .iter()
        .zip(&s.band_overlap_before_db)
        .zip(&s.band_overlap_after_db)
        .map(|((c, b), a)| json!({"centre_hz": r3(*c as f64), "overlap_before_db": r3(*b), "overlap_after_db": r3(*a)}))
        .collect();
    json!({
        "dialogue": args.dialogue.display().to_string(),
        "bed": r.bed.display().to_string(),
        "output": r.output.display().to_string(),
        "mix_output": r.mix_output.as_ref().map(|p| p.display().to_string()),
        "preset": r.preset,
        "settings": settings,
        "sample_rate_hz": s.sample_rate_hz,
        "frames": s.frames,
        "duration_s": r3(s.duration_s),
        "timecode": r.timing.show_timecode.then(|| json!({
            "start": r.timing.start_timecode().to_string(),
            "fps": r.timing.fps.to_string(),
            "time_reference_samples": r.timing.start_samples,
        })),
        "envelopes": r.envelopes.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "bed_channels": r.bed_channels,
        "dialogue_channels": r.dialogue_channels,
        "latency_samples": s.latency_samples,
        "speech_share": r3(s.speech_share),
        "reduction_db": {
            "mean_speech": opt(s.mean_reduction_speech_db),
            "mean_all": opt(s.mean_reduction_all_db),
            "max": opt(s.max_reduction_db),
        },
        "loudness": {
            "dialogue_speech_gated_lufs": opt(s.dialogue_lufs),
            "bed_before_speech_gated_lufs": opt(s.bed_before_lufs),
            "bed_after_speech_gated_lufs": opt(s.bed_after_lufs),
            "dialogue_to_bed_before_lu": opt(s.dialogue_to_bed_before_lu()),
            "dialogue_to_bed_after_lu": opt(s.dialogue_to_bed_after_lu()),
            "bed_integrated_before_lufs": opt(s.bed_integrated_before_lufs),
            "bed_integrated_after_lufs": opt(s.bed_integrated_after_lufs),
        },
        "speech_band_ratio_db": {
            "before": opt(s.speech_band_ratio_before_db),
            "after": opt(s.speech_band_ratio_after_db),
        },
        "bands": bands,
        "clipped_samples": s.clipped_samples,
        "ignored_automation_events": r.ignored_events,
        "elapsed_s": r3(s.elapsed_s),
        "times_realtime": r3(s.times_realtime),
    })
}

/// Writes the JSON document through a temporary file.
pub fn write(path: &Path, r: &RenderReport, args: &RenderArgs) -> Result<(), RenderError> {
    write_value(path, &to_value(r, args))
}

fn write_value(path: &Path, v: &Value) -> Result<(), RenderError> {
    let mut text = serde_json::to_string_pretty(v).unwrap_or_default();
    text.push('\n');
    Ok(underscore_io::write_atomically(path, text.as_bytes())?)
}

/// The JSON document of a linked render: each bed's document (as [`to_value`]) and the
/// dialogue-to-bed readout on their sum.
pub fn group_to_value(g: &GroupReport, args: &RenderArgs) -> Value {
    let beds: Vec<Value> = g.beds.iter().map(|r| to_value(r, args)).collect();
    let f = &g.figures;
    json!({
        "linked": g.linked,
        "beds": beds,
        "combined_speech_band_ratio_db": {
            "before": opt(f.combined_ratio_before_db),
            "after": opt(f.combined_ratio_after_db),
        },
        "first_role_enough": {
            "band_frames": f.first_role_cells,
            "mean_reduction_db": f.first_role_reduction_db.iter().map(|&v| r3(v)).collect::<Vec<_>>(),
            "band_frames_cut_3db": f.first_role_cut_cells,
            "mean_reduction_cut_3db_db": f.first_role_cut_reduction_db.iter().map(|&v| r3(v)).collect::<Vec<_>>(),
        },
    })
}

/// Writes a linked render's JSON document through a temporary file.
pub fn write_group(path: &Path, g: &GroupReport, args: &RenderArgs) -> Result<(), RenderError> {
    write_value(path, &group_to_value(g, args))
}
