//! `--export-envelope`, run as a user runs it: every format parses (with a small reader here
//! for each) and matches what the render did: the gain measured on the audio (output over
//! input of a stationary noise bed, Broadband mode) within 0.1 dB, the speech regions of the
//! engine's own decision; timecode counted from the bed's BWF time reference; the ducked audio
//! bit-identical with and without the export; one envelope per bed in a linked render.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{
    SR, folder, json_file, linked_render_args, render_args, run, run_ok, s, stderr, voice,
    write_wav_with,
};
use underscore_dsp::{Engine, EngineParams};
use underscore_io::{Bext, Metadata, SampleFormat, WavOptions, read_audio};
/// Scene length, s.
const SCENE_S: usize = 6;

/// Writes planar `channels` as a WAV; with `time_reference` as a BWF with that `bext` start.
fn write_wav(path: &Path, channels: &[Vec<f32>], time_reference: Option<u64>) {
    let options = WavOptions {
        metadata: Metadata {
            bext: time_reference.map(|t| Bext {
                time_reference_samples: t,
                ..Bext::default()
            }),
            ixml: None,
        },
        reserve_rf64: false,
    };
    write_wav_with(path, SR, channels, SampleFormat::Float32, &options);
}

/// Stationary white noise at -20 dBFS RMS (a fixed-seed generator, so every run is the same).
fn noise(n: usize, seed: u64) -> Vec<f32> {
    let mut x = seed;
    let amp = 0.1 * 3f32.sqrt(); // uniform in [-a, a] has RMS a / sqrt(3)
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            amp * ((x >> 40) as f32 / (1u64 << 23) as f32 - 1.0)
        })
        .collect()
}

/// A scene in `dir`: mono dialogue, mono noise bed (`time_reference`: a BWF bed).
fn scene(dir: &Path, time_reference: Option<u64>) -> (PathBuf, PathBuf) {
    let n = SCENE_S * SR as usize;
    let dx = dir.join("dx.wav");
    let bed = dir.join("bed.wav");
    write_wav(&dx, &[voice(n)], None);
    write_wav(&bed, &[noise(n, 7)], time_reference);
    (dx, bed)
}

/// Renders `dx` + `bed` into `out` quietly with `extra` options; checks that it succeeded.
fn render(dx: &Path, bed: &Path, out: &Path, extra: &[&str]) -> Output {
    let args = [&["-q"][..], extra].concat();
    run_ok(&render_args(dx, bed, s(out), &args))
}

/// `--export-envelope FILE` for each of `files`.
fn exports<'a>(files: &[&'a Path]) -> Vec<&'a str> {
    files
        .iter()
        .flat_map(|f| ["--export-envelope", s(f)])
        .collect()
}

/// One CSV row.
#[derive(Debug, Clone)]
struct Row {
    time_s: f64,
    timecode: String,
    gain_db: f64,
    speech: bool,
}

/// Reads the CSV export (checks the header and every field).
fn parse_csv(path: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("time_s,timecode,gain_db,speech"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 4, "{l}");
            let speech = match f[3] {
                "0" => false,
                "1" => true,
                other => panic!("speech {other}"),
            };
            Row {
                time_s: f[0].parse().unwrap(),
                timecode: f[1].to_string(),
                gain_db: f[2].parse().unwrap(),
                speech,
            }
        })
        .collect()
}

/// Reads an Audacity label track: (start_s, end_s, label).
fn parse_labels(path: &Path) -> Vec<(f64, f64, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 3, "{l}");
            (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[2].to_string(),
            )
        })
        .collect()
}

/// (time s, value) pairs.
type TimedValues = Vec<(f64, f64)>;

/// Reads the `PT time value shape` points of the `<VOLENV2` block of a Reaper project, and the
/// project's regions (`MARKER idx pos "name" 1` pairs).
fn parse_rpp(path: &Path) -> (TimedValues, TimedValues) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.starts_with("<REAPER_PROJECT"));
    let mut points = Vec::new();
    let mut in_env = false;
    let mut region_starts = std::collections::HashMap::new();
    let mut regions = Vec::new();
    // Blocks open with `<NAME` and close with `>`: balanced, the project closing last.
    let mut depth = 0i32;
    for (i, line) in text.lines().map(str::trim).enumerate() {
        if line.starts_with('<') {
            depth += 1;
        } else if line == ">" {
            depth -= 1;
            assert!(
                depth > 0 || i + 1 == text.lines().count(),
                "line {i} closes the project"
            );
        }
    }
    assert_eq!(depth, 0, "unbalanced blocks");
    for line in text.lines().map(str::trim) {
        if line == "<VOLENV2" {
            in_env = true;
        } else if in_env && line == ">" {
            in_env = false;
        } else if in_env && line.starts_with("PT ") {
            let f: Vec<f64> = line[3..]
                .split_whitespace()
                .map(|v| v.parse().unwrap())
                .collect();
            assert_eq!(f.len(), 3, "{line}");
            assert_eq!(f[2], 0.0, "linear shape");
            points.push((f[0], f[1]));
        } else if let Some(rest) = line.strip_prefix("MARKER ") {
            let f: Vec<&str> = rest.split_whitespace().collect();
            let (idx, pos): (u32, f64) = (f[0].parse().unwrap(), f[1].parse().unwrap());
            assert_eq!(*f.last().unwrap(), "1", "a region");
            match region_starts.remove(&idx) {
                Some(start) => regions.push((start, pos)),
                None => {
                    region_starts.insert(idx, pos);
                }
            }
        }
    }
    assert!(region_starts.is_empty(), "unclosed regions");
    (points, regions)
}

/// Linear interpolation in `points` (time, value), held at the ends.
fn lerp(points: &[(f64, f64)], t: f64) -> f64 {
    let i = points.partition_point(|p| p.0 <= t);
    match (i.checked_sub(1).map(|k| points[k]), points.get(i)) {
        (Some(a), Some(b)) => a.1 + (b.1 - a.1) * (t - a.0) / (b.0 - a.0),
        (Some(a), None) => a.1,
        (None, Some(b)) => b.1,
        (None, None) => panic!("no points"),
    }
}

/// The gain the render applied, per sample where the bed is not near zero: output / input, dB.
fn measured_gain_db(bed: &Path, out: &Path) -> Vec<(usize, f64)> {
    let a = read_audio(bed).unwrap().channels[0].clone();
    let b = read_audio(out).unwrap().channels[0].clone();
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(&b)
        .enumerate()
        .filter(|(_, (x, _))| x.abs() > 1e-2)
        .map(|(i, (x, y))| (i, 20.0 * (y / x).abs().log10() as f64))
        .collect()
}

/// The engine's own speech decision on the dialogue, per control tick, as regions (s).
fn engine_speech_regions(dx: &Path) -> Vec<(f64, f64)> {
    let key = read_audio(dx).unwrap().channels[0].clone();
    let mut engine = Engine::new(SR as f32, 1);
    engine.set_params(&EngineParams::default());
    let t = engine.tick_samples();
    let mut bed = vec![0.0f32; t];
    let mut regions = Vec::new();
    let mut since = None;
    for (k, chunk) in key.chunks(t).enumerate() {
        let n = chunk.len();
        engine.process_block(&mut [&mut bed[..n]], &[chunk]);
        let start = (k * t) as f64 / SR as f64;
        match (engine.meter().speech_active && n == t, since) {
            (true, None) => since = Some(start),
            (false, Some(s0)) => {
                regions.push((s0, start));
                since = None;
            }
            _ => {}
        }
    }
    if let Some(s0) = since {
        regions.push((s0, key.len() as f64 / SR as f64));
    }
    regions
}

/// Checks the CSV (linear in dB between rows) and the Reaper envelope (linear in amplitude
/// between points) against the gain on the audio at every sample: within 0.1 dB, with far
/// fewer points than control ticks. Returns the CSV rows.
fn assert_envelopes_match(bed: &Path, out: &Path, csv: &Path, rpp: &Path) -> Vec<Row> {
    let measured = measured_gain_db(bed, out);
    let rows = parse_csv(csv);
    let ticks = SCENE_S * 1_000;
    assert!(
        rows.len() > 10 && rows.len() < ticks / 10,
        "{} rows",
        rows.len()
    );
    assert_eq!(rows[0].time_s, 0.0);
    assert!(rows.iter().all(|r| r.gain_db <= 0.0));
    assert!(rows.windows(2).all(|w| w[0].time_s < w[1].time_s));
    let curve: Vec<(f64, f64)> = rows.iter().map(|r| (r.time_s, r.gain_db)).collect();
    let (worst, at, g) = measured
        .iter()
        .map(|&(i, g)| ((lerp(&curve, i as f64 / SR as f64) - g).abs(), i, g))
        .fold((0.0, 0, 0.0), |w, e| if e.0 > w.0 { e } else { w });
    assert!(
        worst <= 0.1,
        "CSV strays {worst:.3} dB from the rendered gain {g:.3} dB at sample {at}"
    );
    let (points, _) = parse_rpp(rpp);
    assert!(points.len() > 10 && points.len() < ticks / 10);
    assert!(points.iter().all(|p| p.1 > 0.0 && p.1 <= 1.0));
    let worst = measured
        .iter()
        .map(|&(i, g)| (20.0 * lerp(&points, i as f64 / SR as f64).log10() - g).abs())
        .fold(0.0, f64::max);
    assert!(worst <= 0.1, "Reaper envelope strays {worst:.3} dB");
    rows
}

#[test]
fn every_format_matches_the_rendered_gain_and_the_engines_speech() {
    let dir = folder("formats");
    let (dx, bed) = scene(&dir, None);
    let out = dir.join("out.wav");
    let (csv, txt, rpp) = (
        dir.join("env.csv"),
        dir.join("env.txt"),
        dir.join("env.rpp"),
    );
    let json = dir.join("r.json");
    render(
        &dx,
        &bed,
        &out,
        &[exports(&[&csv, &txt, &rpp]), vec!["--json", s(&json)]].concat(),
    );
    let measured = measured_gain_db(&bed, &out);
    assert!(measured.len() > SCENE_S * SR as usize / 2);
    let deepest = measured.iter().map(|m| m.1).fold(0.0, f64::min);
    assert!(
        deepest < -9.0,
        "the bed was ducked (Depth -10 dB): {deepest}"
    );

    let rows = assert_envelopes_match(&bed, &out, &csv, &rpp);
    let curve: Vec<(f64, f64)> = rows.iter().map(|r| (r.time_s, r.gain_db)).collect();
    let (_, regions) = parse_rpp(&rpp);

    // Audacity labels: the engine's speech decision, to the control tick.
    let labels = parse_labels(&txt);
    let engine = engine_speech_regions(&dx);
    assert!(labels.len() >= 2, "{labels:?}");
    assert_eq!(labels.len(), engine.len(), "{labels:?} vs {engine:?}");
    for ((a, b, name), (c, d)) in labels.iter().zip(&engine) {
        assert_eq!(name, "speech");
        assert!(
            (a - c).abs() < 1.5e-3 && (b - d).abs() < 1.5e-3,
            "{a}..{b} vs {c}..{d}"
        );
    }
    // The same regions in the Reaper project and the CSV's speech column.
    assert_eq!(regions.len(), labels.len());
    for ((a, b, _), (c, d)) in labels.iter().zip(&regions) {
        assert!((a - c).abs() < 1e-6 && (b - d).abs() < 1e-6);
    }
    for r in &rows {
        let inside = labels.iter().any(|l| (l.0..l.1).contains(&r.time_s));
        assert_eq!(r.speech, inside, "row at {} s", r.time_s);
    }
    // And the summary's speech share (per engine block) agrees with the regions.
    let share: f64 = labels.iter().map(|l| l.1 - l.0).sum::<f64>() / SCENE_S as f64;
    let v = json_file(&json);
    let summary_share = v["speech_share"].as_f64().unwrap();
    assert!(
        (share - summary_share).abs() < 0.02,
        "{share} vs {summary_share}"
    );
    // The ducked stretches are the speech: the gain is down in the middle of every region.
    for (a, b, _) in &labels {
        if b - a > 0.3 {
            assert!(lerp(&curve, (a + b) / 2.0) < -5.0, "{a}..{b}");
        }
    }
}

#[test]
fn the_export_does_not_change_the_output_in_either_mode() {
    let dir = folder("identical");
    let (dx, bed) = scene(&dir, None);
    for mode in ["broadband", "spectral"] {
        let set = format!("mode={mode}");
        let plain = dir.join(format!("plain-{mode}.wav"));
        let with = dir.join(format!("with-{mode}.wav"));
        let csv = dir.join(format!("env-{mode}.csv"));
        render(&dx, &bed, &plain, &["--set", &set, "--block", "300"]);
        render(
            &dx,
            &bed,
            &with,
            &[
                "--set",
                &set,
                "--block",
                "300",
                "--export-envelope",
                s(&csv),
            ],
        );
        let (a, b) = (
            std::fs::read(&plain).unwrap(),
            std::fs::read(&with).unwrap(),
        );
        assert_eq!(a.len(), b.len());
        assert!(
            a == b,
            "{mode}: the ducked output changed with --export-envelope"
        );
        // Something was ducked, and the envelope says so.
        let rows = parse_csv(&csv);
        let low = rows.iter().map(|r| r.gain_db).fold(0.0, f64::min);
        assert!(low < -3.0, "{mode}: deepest {low} dB");
    }
}

#[test]
fn spectral_gain_is_the_speech_band_reduction_during_speech() {
    let dir = folder("spectral");
    let (dx, bed) = scene(&dir, None);
    let out = dir.join("out.wav");
    let csv = dir.join("env.csv");
    let txt = dir.join("env.txt");
    render(
        &dx,
        &bed,
        &out,
        &[vec!["--set", "mode=spectral"], exports(&[&csv, &txt])].concat(),
    );
    let rows = parse_csv(&csv);
    let curve: Vec<(f64, f64)> = rows.iter().map(|r| (r.time_s, r.gain_db)).collect();
    let labels = parse_labels(&txt);
    // Mean gain inside the speech regions (past their attack) and well outside them.
    let mut inside = (0.0, 0);
    let mut outside = (0.0, 0);
    for k in 0..SCENE_S * 100 {
        let t = k as f64 / 100.0;
        let g = lerp(&curve, t);
        assert!(g <= 0.0);
        if labels.iter().any(|l| t > l.0 + 0.1 && t < l.1) {
            inside = (inside.0 + g, inside.1 + 1);
        } else if labels.iter().all(|l| t < l.0 - 0.2 || t > l.1 + 1.0) {
            outside = (outside.0 + g, outside.1 + 1);
        }
    }
    let (inside, outside) = (
        inside.0 / inside.1 as f64,
        outside.0 / outside.1.max(1) as f64,
    );
    assert!(inside < -2.0, "mean {inside:.2} dB during speech");
    assert!(
        outside > inside + 2.0,
        "{outside:.2} outside vs {inside:.2} during speech"
    );
}

#[test]
fn timecode_counts_from_the_beds_time_reference() {
    let dir = folder("timecode");
    // A BWF bed starting at 01:00:00:00 (48 kHz: 172 800 000 samples since midnight).
    let (dx, bed) = scene(&dir, Some(172_800_000));
    let out = dir.join("out.wav");
    let csv = dir.join("env.csv");
    let json = dir.join("r.json");
    // Depth drops to -25 dB at 01:00:03:00 by timecode automation (25 fps by default).
    let auto = dir.join("auto.csv");
    std::fs::write(&auto, "timecode,param,value\n01:00:03:00,depth,-25 dB\n").unwrap();
    render(
        &dx,
        &bed,
        &out,
        &[
            "--export-envelope",
            s(&csv),
            "--automation",
            s(&auto),
            "--json",
            s(&json),
        ],
    );
    let rows = parse_csv(&csv);
    assert_eq!(rows[0].timecode, "01:00:00:00");
    for r in &rows {
        // Each row's label is the 25 fps frame that holds its time.
        let frame = (r.time_s * 25.0 + 1e-9).floor() as u64;
        let want = format!("01:00:{:02}:{:02}", frame / 25, frame % 25);
        assert_eq!(r.timecode, want, "at {} s", r.time_s);
    }
    // The automation landed at 3 s: deeper than -12 dB only after it.
    let curve: Vec<(f64, f64)> = rows.iter().map(|r| (r.time_s, r.gain_db)).collect();
    let before = rows
        .iter()
        .filter(|r| r.time_s < 3.0)
        .map(|r| r.gain_db)
        .fold(0.0, f64::min);
    assert!(before >= -10.05, "{before}");
    let after = (300..SCENE_S * 100)
        .map(|k| lerp(&curve, k as f64 / 100.0))
        .fold(0.0, f64::min);
    assert!(after < -20.0, "{after}");
    let v = json_file(&json);
    assert_eq!(v["timecode"]["start"], "01:00:00:00");
    assert_eq!(v["timecode"]["fps"], "25 fps");
    assert_eq!(v["timecode"]["time_reference_samples"], 172_800_000);

    // At 29.97 drop-frame (--fps), labels use ';'.
    let csv_df = dir.join("env-df.csv");
    render(
        &dx,
        &bed,
        &dir.join("out-df.wav"),
        &["--fps", "29.97df", "--export-envelope", s(&csv_df)],
    );
    let rows = parse_csv(&csv_df);
    // 3600 s at 30000/1001 fps is frame 107 892.1: label 01:00:00;00 (an hour of drop-frame
    // labels is 3600 s to within 3.6 ms).
    assert_eq!(rows[0].timecode, "01:00:00;00");
    assert!(rows.iter().all(|r| r.timecode.contains(';')));

    // An automation event before the bed's start is refused with its line.
    std::fs::write(&auto, "timecode,param,value\n00:59:59:00,depth,-25 dB\n").unwrap();
    let never = dir.join("never.wav");
    let o = run(&render_args(
        &dx,
        &bed,
        s(&never),
        &["--automation", s(&auto)],
    ));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("auto.csv")
            && err.contains("line 2")
            && err.contains("before the bed's start"),
        "{err}"
    );
}

#[test]
fn a_linked_render_writes_one_envelope_per_bed() {
    let dir = folder("linked");
    let (dx, music) = scene(&dir, None);
    let amb = dir.join("amb.wav");
    write_wav(&amb, &[noise(SCENE_S * SR as usize, 11)], None);
    let (mo, ao) = (dir.join("music_out.wav"), dir.join("amb_out.wav"));
    let csv = dir.join("env.csv");
    run_ok(&linked_render_args(
        &dx,
        &[(&music, "music", &mo), (&amb, "ambience", &ao)],
        &["--export-envelope", s(&csv), "-q"],
    ));
    assert!(!csv.exists());
    for (bed, out, name) in [
        (&music, &mo, "env-music_out.csv"),
        (&amb, &ao, "env-amb_out.csv"),
    ] {
        let rows = parse_csv(&dir.join(name));
        let curve: Vec<(f64, f64)> = rows.iter().map(|r| (r.time_s, r.gain_db)).collect();
        let worst = measured_gain_db(bed, out)
            .iter()
            .map(|&(i, g)| (lerp(&curve, i as f64 / SR as f64) - g).abs())
            .fold(0.0, f64::max);
        assert!(worst <= 0.1, "{name}: {worst:.3} dB");
    }
}

#[test]
fn format_is_chosen_by_extension_or_flag() {
    let dir = folder("format");
    let (dx, bed) = scene(&dir, None);
    let out = dir.join("out.wav");
    // Unknown extension: a usage error naming the file, nothing written.
    let o = run(&render_args(
        &dx,
        &bed,
        s(&out),
        &["--export-envelope", s(&dir.join("env.dat"))],
    ));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("env.dat") && err.contains("--envelope-format"),
        "{err}"
    );
    assert!(!out.exists());
    // --envelope-format overrides the extension.
    let dat = dir.join("env.dat");
    render(
        &dx,
        &bed,
        &out,
        &[
            "--export-envelope",
            s(&dat),
            "--envelope-format",
            "audacity",
        ],
    );
    let labels = parse_labels(&dat);
    assert!(!labels.is_empty() && labels.iter().all(|l| l.2 == "speech" && l.1 > l.0));
}

/// A steep attack (0 ms, Depth -40 dB: the gain falls 40 dB within one 1 ms control tick, as a
/// straight line in amplitude) bends far from a straight line in dB: the CSV gets points inside
/// the tick and stays within 0.1 dB of the audio, as at the defaults.
#[test]
fn a_steep_attack_stays_within_a_tenth_of_a_db() {
    let dir = folder("steep");
    let (dx, bed) = scene(&dir, None);
    let out = dir.join("out.wav");
    let (csv, rpp) = (dir.join("env.csv"), dir.join("env.rpp"));
    render(
        &dx,
        &bed,
        &out,
        &[
            vec!["--set", "attack=0", "--set", "depth=-40"],
            exports(&[&csv, &rpp]),
        ]
        .concat(),
    );
    let rows = assert_envelopes_match(&bed, &out, &csv, &rpp);
    let deepest = rows.iter().map(|r| r.gain_db).fold(0.0, f64::min);
    assert!(deepest < -39.0, "ducked by Depth -40 dB: {deepest}");
}
