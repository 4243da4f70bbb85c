//! Helpers shared by the render integration tests (`mod common;` in each): a fresh folder per
//! test, the demo dialogue and generated signals, WAV files written and read back, and the
//! `underscore` binary run as a user runs it.

// Each test binary compiles this module and uses its own part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use underscore_io::{AudioReader, Format, SampleFormat, WavOptions, WavWriter, read_audio};

/// Sample rate of the test files and of the demo scene, Hz.
pub const SR: u32 = 48_000;

/// A fresh, empty folder for one test, named after the test binary and `name` (test binaries
/// run at the same time, so their folders must differ).
pub fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "underscore-render-{}-{}-{name}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes planar `channels` as a plain WAV at `sr` Hz in `format`.
pub fn write_wav(path: &Path, sr: u32, channels: &[Vec<f32>], format: SampleFormat) {
    let mut w = WavWriter::create(path, channels.len(), sr, format).unwrap();
    w.write(channels).unwrap();
    w.finish().unwrap();
}

/// Writes planar `channels` as a WAV at `sr` Hz in `format` with `options` (BWF metadata).
pub fn write_wav_with(
    path: &Path,
    sr: u32,
    channels: &[Vec<f32>],
    format: SampleFormat,
    options: &WavOptions,
) {
    let mut w = WavWriter::create_with(path, channels.len(), sr, format, options).unwrap();
    w.write(channels).unwrap();
    w.finish().unwrap();
}

/// Reads a whole file: its format, sample rate and planar samples.
pub fn read_wav(path: &Path) -> (Format, u32, Vec<Vec<f32>>) {
    let format = AudioReader::open(path).unwrap().format();
    let audio = read_audio(path).unwrap();
    (format, audio.sample_rate, audio.channels)
}

/// A demo file (`demo/<name>.wav`, 48 kHz, 25 s), planar.
pub fn demo(name: &str) -> Vec<Vec<f32>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../demo/{name}.wav"));
    let audio = read_audio(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(audio.sample_rate, SR);
    audio.channels
}

/// Dialogue, `n` samples at 48 kHz: the bundled demo dialogue (`demo/dialogue.wav`, two
/// espeak-ng voices, CC0) from 1.5 s on, so its first line runs from 0.11 s to 1.13 s, then
/// 0.4 s of room tone, then the next line from 1.53 s; zeros past its end. Real speech: the
/// voice detector decides whether the key is speech, and a synthetic voice (a harmonic tone)
/// is a buzz to it.
pub fn voice(n: usize) -> Vec<f32> {
    static DIALOGUE: OnceLock<Vec<f32>> = OnceLock::new();
    let dialogue = DIALOGUE.get_or_init(|| demo("dialogue").swap_remove(0));
    let start = 3 * SR as usize / 2;
    let mut v: Vec<f32> = dialogue[start..].iter().take(n).copied().collect();
    v.resize(n, 0.0);
    v
}

/// `n` samples of a sine at `freq_hz` and peak `amp` (full scale 1.0), at 48 kHz.
pub fn sine(freq_hz: f32, amp: f32, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| amp * (std::f32::consts::TAU * freq_hz * i as f32 / SR as f32).sin())
        .collect()
}

/// Runs the `underscore` binary with `args`.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_underscore"))
        .args(args)
        .output()
        .expect("run underscore")
}

/// Runs the `underscore` binary with `args` and checks that it succeeded.
pub fn run_ok(args: &[&str]) -> Output {
    let o = run(args);
    assert!(o.status.success(), "{args:?} failed: {}", stderr(&o));
    o
}

/// `render --dialogue dx --bed bed -o out`, then `extra`.
pub fn render_args<'a>(
    dx: &'a Path,
    bed: &'a Path,
    out: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec!["render", "--dialogue", s(dx), "--bed", s(bed), "-o", out];
    args.extend_from_slice(extra);
    args
}

/// A linked render: `render --dialogue dx`, then `--bed B --role R -o O` for each
/// `(B, R, O)` of `beds` (each `--role` and `-o` belongs to the `--bed` before it), then `extra`.
pub fn linked_render_args<'a>(
    dx: &'a Path,
    beds: &[(&'a Path, &'a str, &'a Path)],
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec!["render", "--dialogue", s(dx)];
    for &(bed, role, out) in beds {
        args.extend_from_slice(&["--bed", s(bed), "--role", role, "-o", s(out)]);
    }
    args.extend_from_slice(extra);
    args
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A JSON file, parsed.
pub fn json_file(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}
