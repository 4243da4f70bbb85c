//! The renderer's BS.1770-4 meter (`loudness.rs`) against an independent implementation, the
//! `ebur128` crate (a port of libebur128), on generated signals at 44.1, 48 and 96 kHz and on
//! the stems of the development scenes:
//!
//! * integrated loudness (absolute and relative gate) within 0.1 LU;
//! * ungated K-weighted power (the channel-weighted mean square of the K-weighted signal over
//!   the whole signal, in LKFS) within 0.05 dB. ebur128 gives it as `loudness_window` over the
//!   whole length, with the window buffer made that long by `set_max_window`.
//!
//! Both meters get the same samples, cut to whole 100 ms sub-blocks (so ebur128's window is
//! exactly the signal). `cargo test -p underscore-render --test loudness_reference --
//! --nocapture` prints the figures. The material test fails, it does not skip, when the
//! material is missing (`$UNDERSCORE_MATERIAL`, else `../shared/material`).

use std::path::{Path, PathBuf};

use ebur128::{EbuR128, Mode};
use underscore_io::AudioReader;
use underscore_render::loudness::LoudnessMeter;

/// Integrated loudness tolerance, LU.
const INTEGRATED_TOLERANCE_LU: f64 = 0.1;
/// Ungated power tolerance, dB.
const UNGATED_TOLERANCE_DB: f64 = 0.05;
/// Frames per block fed to both meters (streaming, as the renderer does).
const BLOCK_FRAMES: usize = 8_192;

/// Both meters fed in step.
struct Pair {
    ours: LoudnessMeter,
    reference: EbuR128,
    sample_rate_hz: u32,
    frames: u64,
}

impl Pair {
    /// Meters for `channels` channels of `frames` frames (a whole number of 100 ms).
    fn new(sample_rate_hz: u32, channels: usize, frames: u64) -> Self {
        let mut reference = EbuR128::new(channels as u32, sample_rate_hz, Mode::I).unwrap();
        reference
            .set_max_window(window_ms(sample_rate_hz, frames))
            .unwrap();
        Self {
            ours: LoudnessMeter::new(sample_rate_hz as f64, channels),
            reference,
            sample_rate_hz,
            frames,
        }
    }

    fn push(&mut self, block: &[&[f32]]) {
        self.ours.push(block, &[]);
        self.reference.add_frames_planar_f32(block).unwrap();
    }

    /// (ours, reference) integrated loudness (`None` / -inf when every block is gated out)
    /// and ungated power, LKFS.
    fn figures(&self) -> Figures {
        let window = window_ms(self.sample_rate_hz, self.frames);
        let reference_integrated = self.reference.loudness_global().unwrap();
        Figures {
            integrated: (
                self.ours.integrated_lkfs(),
                reference_integrated
                    .is_finite()
                    .then_some(reference_integrated),
            ),
            ungated: (
                self.ours.ungated_lkfs().unwrap(),
                self.reference.loudness_window(window).unwrap(),
            ),
        }
    }
}

/// `frames` (a whole number of 100 ms) in ms.
fn window_ms(sample_rate_hz: u32, frames: u64) -> u32 {
    let ms = frames * 1_000 / sample_rate_hz as u64;
    assert_eq!(ms * sample_rate_hz as u64, frames * 1_000, "not whole ms");
    ms as u32
}

/// Frames per 100 ms sub-block (both meters use `round(rate / 10)`).
fn sub_block_frames(sample_rate_hz: u32) -> u64 {
    (sample_rate_hz as u64 + 5) / 10
}

#[derive(Debug)]
struct Figures {
    integrated: (Option<f64>, Option<f64>),
    ungated: (f64, f64),
}

impl Figures {
    /// |ours - reference| of the integrated loudness (0 when both gate everything out).
    fn integrated_delta(&self) -> f64 {
        match self.integrated {
            (Some(a), Some(b)) => (a - b).abs(),
            (None, None) => 0.0,
            _ => f64::INFINITY,
        }
    }

    fn ungated_delta(&self) -> f64 {
        (self.ungated.0 - self.ungated.1).abs()
    }
}

/// Measures planar `channels` (cut to whole 100 ms) with both meters, in blocks.
fn measure(sample_rate_hz: u32, channels: &[Vec<f32>]) -> Figures {
    let len = channels[0].len() as u64;
    let frames = len - len % sub_block_frames(sample_rate_hz);
    let mut pair = Pair::new(sample_rate_hz, channels.len(), frames);
    let mut start = 0usize;
    while (start as u64) < frames {
        let end = (start + BLOCK_FRAMES).min(frames as usize);
        let block: Vec<&[f32]> = channels.iter().map(|c| &c[start..end]).collect();
        pair.push(&block);
        start = end;
    }
    pair.figures()
}

/// Streams a file through both meters.
fn measure_file(path: &Path) -> Figures {
    let mut reader = AudioReader::open(path).unwrap();
    let sr = reader.sample_rate_hz();
    let frames = reader.frames() - reader.frames() % sub_block_frames(sr);
    let mut pair = Pair::new(sr, reader.channels(), frames);
    let mut buf = vec![vec![0.0f32; BLOCK_FRAMES]; reader.channels()];
    let mut done = 0u64;
    while done < frames {
        let want = BLOCK_FRAMES.min((frames - done) as usize);
        let n = reader.read(&mut buf, want).unwrap();
        assert_eq!(n, want);
        let block: Vec<&[f32]> = buf.iter().map(|c| &c[..n]).collect();
        pair.push(&block);
        done += n as u64;
    }
    pair.figures()
}

/// One line of the printed table; returns the two deltas.
fn report(case: &str, rate: &str, f: &Figures) -> (f64, f64) {
    let show = |v: Option<f64>| v.map_or("gated out".to_string(), |v| format!("{v:.4}"));
    println!(
        "| {case} | {rate} | {} | {} | {:.4} | {:.4} | {:.4} | {:.5} |",
        show(f.integrated.0),
        show(f.integrated.1),
        f.integrated_delta(),
        f.ungated.0,
        f.ungated.1,
        f.ungated_delta()
    );
    (f.integrated_delta(), f.ungated_delta())
}

fn table_header(what: &str) {
    println!("\n{what}");
    println!(
        "| case | rate | ours I LUFS | ebur128 I LUFS | |dI| LU | ours ungated LKFS | ebur128 ungated LKFS | |dU| dB |"
    );
    println!("|---|---|---|---|---|---|---|---|");
}

/// A reproducible white noise in -1..1.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

fn sine(freq_hz: f64, amp: f64, sr: u32, seconds: f64) -> Vec<f32> {
    let n = (sr as f64 * seconds).round() as usize;
    (0..n)
        .map(|i| (amp * (std::f64::consts::TAU * freq_hz * i as f64 / sr as f64).sin()) as f32)
        .collect()
}

fn noise(seed: u64, amp: f32, frames: usize) -> Vec<f32> {
    let mut n = Noise(seed);
    (0..frames).map(|_| amp * n.next()).collect()
}

fn db(level_db: f64) -> f64 {
    10f64.powf(level_db / 20.0)
}

/// The generated cases at `sr`: name and planar signal.
fn generated(sr: u32) -> Vec<(&'static str, Vec<Vec<f32>>)> {
    let s = sr as usize;
    // Level steps: noise at -10, -20, ..., -60 dBFS, 3 s each: the relative gate keeps only the
    // loudest steps, the ungated figure counts them all.
    let steps: Vec<f32> = (1..=6)
        .flat_map(|k| noise(k as u64 * 77, db(-10.0 * k as f64) as f32, 3 * s))
        .collect();
    // Bursts: 1 s of a 1 kHz tone, 2 s of digital silence: the absolute gate drops the
    // silence, the ungated figure does not.
    let bursts: Vec<f32> = (0..6)
        .flat_map(|_| {
            let mut b = sine(1_000.0, 0.25, sr, 1.0);
            b.extend(std::iter::repeat_n(0.0, 2 * s));
            b
        })
        .collect();
    // A quiet passage 25 dB under a loud one (under the relative gate) and silence.
    let mut quiet_loud = noise(5, db(-15.0) as f32, 5 * s);
    quiet_loud.extend(noise(6, db(-40.0) as f32, 5 * s));
    quiet_loud.extend(std::iter::repeat_n(0.0, 3 * s));
    // A tone gliding from -10 to -45 dBFS and back over 40 s: blocks at every level, many of
    // them close to the relative gate.
    let glide: Vec<f32> = {
        let n = 40 * s;
        let tone = sine(440.0, 1.0, sr, 40.0);
        (0..n)
            .map(|i| {
                let x = 2.0 * i as f64 / n as f64;
                let level_db = -10.0 - 35.0 * if x < 1.0 { x } else { 2.0 - x };
                tone[i] * db(level_db) as f32
            })
            .collect()
    };
    let surround: Vec<Vec<f32>> = [-20.0, -22.0, -18.0, -10.0, -26.0, -24.0]
        .iter()
        .enumerate()
        .map(|(c, &l)| noise(100 + c as u64, db(l) as f32, 8 * s))
        .collect();
    vec![
        (
            "sine 997 Hz -20 dBFS, mono",
            vec![sine(997.0, 0.1, sr, 10.0)],
        ),
        (
            "sines 40 Hz / 12 kHz, stereo",
            vec![sine(40.0, 0.5, sr, 10.0), sine(12_000.0, 0.2, sr, 10.0)],
        ),
        (
            "white noise -20 dBFS, stereo",
            vec![noise(1, 0.1, 20 * s), noise(2, 0.1, 20 * s)],
        ),
        ("level steps -10 to -60 dBFS, mono", vec![steps]),
        ("tone bursts with silence gaps, mono", vec![bursts]),
        (
            "loud, 25 dB quieter, silence, stereo",
            vec![quiet_loud.clone(), quiet_loud],
        ),
        ("tone gliding -10 to -45 dBFS and back, mono", vec![glide]),
        ("noise, 5.1 (LFE loudest)", surround),
        (
            "noise at -80 dBFS (all gated out), mono",
            vec![noise(9, db(-80.0) as f32, 5 * s)],
        ),
    ]
}

#[test]
fn generated_signals_agree_with_ebur128() {
    table_header("generated signals");
    let mut worst: Vec<(String, f64, f64)> = Vec::new();
    let mut failures = Vec::new();
    for sr in [44_100u32, 48_000, 96_000] {
        for (case, signal) in generated(sr) {
            let f = measure(sr, &signal);
            let (di, du) = report(case, &format!("{} kHz", sr as f64 / 1e3), &f);
            match worst.iter_mut().find(|w| w.0 == case) {
                Some(w) => {
                    w.1 = w.1.max(di);
                    w.2 = w.2.max(du);
                }
                None => worst.push((case.to_string(), di, du)),
            }
            if di > INTEGRATED_TOLERANCE_LU || du > UNGATED_TOLERANCE_DB {
                failures.push(format!("{case} at {sr} Hz: {f:?}"));
            }
        }
    }
    println!("\nmax |delta| over 44.1, 48 and 96 kHz");
    println!("| case | integrated LU | ungated dB |");
    println!("|---|---|---|");
    for (case, di, du) in &worst {
        println!("| {case} | {di:.4} | {du:.5} |");
    }
    assert!(failures.is_empty(), "disagreements: {failures:#?}");
}

/// The development material: `$UNDERSCORE_MATERIAL`, else `../shared/material` beside the
/// repository.
fn material() -> PathBuf {
    std::env::var_os("UNDERSCORE_MATERIAL")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/material"))
}

#[test]
fn material_stems_agree_with_ebur128() {
    let dir = material();
    let mut scenes: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "the development material is missing: {}: {e} (set UNDERSCORE_MATERIAL=DIR)",
                dir.display()
            )
        })
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("ground_truth.json").is_file())
        .collect();
    scenes.sort();
    assert_eq!(
        scenes.len(),
        4,
        "expected the four scenes in {}",
        dir.display()
    );
    table_header("development material (48 kHz stereo FLAC)");
    let (mut worst_i, mut worst_u) = (0.0f64, 0.0f64);
    let mut failures = Vec::new();
    for scene in &scenes {
        let name = scene.file_name().unwrap().to_string_lossy().to_string();
        for stem in ["dialogue", "music", "ambience"] {
            let path = scene.join(format!("{stem}.flac"));
            let f = measure_file(&path);
            let (di, du) = report(&format!("{name} {stem}"), "48 kHz", &f);
            worst_i = worst_i.max(di);
            worst_u = worst_u.max(du);
            if di > INTEGRATED_TOLERANCE_LU || du > UNGATED_TOLERANCE_DB {
                failures.push(format!("{}: {f:?}", path.display()));
            }
        }
    }
    println!(
        "\nmax |delta| over the 12 stems: integrated {worst_i:.4} LU, ungated {worst_u:.5} dB"
    );
    assert!(failures.is_empty(), "disagreements: {failures:#?}");
}
