//! Warnings where the inputs or the output names look wrong: printed on stderr and listed in
//! `--json`, never a failure (the render is written all the same).
//!
//! **The dialogue** (`--dialogue`), from what the engine decided while rendering and the key's
//! level ([`KeyActivity`], fed by [`crate::stats`]):
//!
//! * *silent*: its loudest 100 ms blocks (the 95th percentile of the K-weighted block levels)
//!   are under -70 LUFS, the BS.1770 absolute gate;
//! * *no speech*: speech was detected less than 1 % of the time ([`NO_SPEECH_SHARE`]);
//! * *mostly not speech*: at least half the time ([`NOT_SPEECH_SHARE`]) the key is within
//!   20 dB of its loudest ([`LOUD_WINDOW_DB`]) while no speech is detected: the key is loud
//!   with something else. Dialogue stems are quiet between their lines (the four development
//!   dialogue stems and the demo's: 1-5 % of the time); music, effects and ambience stems read
//!   88-100 %.
//! * *speech without pauses*: over at least 20 s ([`DENSE_MIN_S`]), speech detected 90 % of
//!   the time or more ([`DENSE_SPEECH_SHARE`]) with fewer than 2 pauses a minute
//!   ([`DENSE_MAX_PAUSES_PER_MIN`]; a pause: at least 250 ms without speech between two
//!   phrases, [`PAUSE_S`]). Dialogue pauses between phrases and speakers (the development
//!   stems: 13-21 pauses a minute); a sung line, a vocal music track or a crowd does not, and
//!   would keep the bed down all the time.
//!
//! **The outputs**: an audio output (`-o`, `--mix-output`) whose name does not end in `.wav`
//! (or `.wave`, `.bwf`, `.rf64`) is written as WAV all the same, and a `--report` not named
//! `.png` as PNG; a name saying otherwise (`-o mix.mp3`) would mislead the next program.

use std::path::Path;

use crate::loudness::{ABSOLUTE_GATE_LKFS, energy_to_lkfs};

/// A pause: at least this long without speech between two phrases, s.
pub const PAUSE_S: f64 = 0.25;
/// Under this share of the time with speech, the dialogue has "no speech".
pub const NO_SPEECH_SHARE: f64 = 0.01;
/// The key is "loud" within this many dB of its loudest (95th-percentile) 100 ms block.
pub const LOUD_WINDOW_DB: f64 = 20.0;
/// From this share of the time loud without speech, the dialogue is "mostly not speech".
pub const NOT_SPEECH_SHARE: f64 = 0.5;
/// The speech-without-pauses check needs at least this much audio, s.
pub const DENSE_MIN_S: f64 = 20.0;
/// ...speech detected at least this share of the time...
pub const DENSE_SPEECH_SHARE: f64 = 0.9;
/// ...and fewer pauses than this per minute.
pub const DENSE_MAX_PAUSES_PER_MIN: f64 = 2.0;

/// Block-level histogram: bins of 0.5 dB from -100 LKFS (everything quieter in the first) to
/// +10 LKFS.
const BIN_DB: f64 = 0.5;
const FLOOR_LKFS: f64 = -100.0;
const BINS: usize = 220;

/// Collects, while a render streams, how the dialogue behaved: speech runs and pauses (per
/// frame, from the engine's speech decision) and the key's 100 ms block levels with and
/// without speech (constant memory: level histograms).
#[derive(Debug, Clone)]
pub struct KeyActivity {
    sample_rate_hz: u32,
    frames: u64,
    speech_frames: u64,
    /// The run in progress: speech or not, and its length in frames.
    in_speech: bool,
    run_frames: u64,
    seen_speech: bool,
    pauses: u64,
    longest_speech_frames: u64,
    all_blocks: Vec<u64>,
    non_speech_blocks: Vec<u64>,
}

/// What [`KeyActivity`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyFigures {
    pub duration_s: f64,
    /// Share of the time speech was detected, 0..=1.
    pub speech_share: f64,
    pub speech_s: f64,
    /// Pauses of at least [`PAUSE_S`] between two phrases.
    pub pauses: u64,
    /// The longest stretch of detected speech, s.
    pub longest_speech_s: f64,
    /// The key's loud level: the 95th percentile of its K-weighted 100 ms block levels, LKFS
    /// (`None` without a complete block).
    pub loud_lkfs: Option<f64>,
    /// Share of the 100 ms blocks within [`LOUD_WINDOW_DB`] of the loud level with no speech
    /// (less than half the block), 0..=1.
    pub loud_non_speech_share: f64,
}

impl KeyFigures {
    /// Pauses per minute of audio.
    pub fn pauses_per_minute(&self) -> f64 {
        if self.duration_s > 0.0 {
            self.pauses as f64 * 60.0 / self.duration_s
        } else {
            0.0
        }
    }
}

impl KeyActivity {
    pub fn new(sample_rate_hz: u32) -> Self {
        Self {
            sample_rate_hz,
            frames: 0,
            speech_frames: 0,
            in_speech: false,
            run_frames: 0,
            seen_speech: false,
            pauses: 0,
            longest_speech_frames: 0,
            all_blocks: vec![0; BINS],
            non_speech_blocks: vec![0; BINS],
        }
    }

    /// Adds the engine's speech decision, one flag per frame, in time order.
    pub fn add_frames(&mut self, speech: &[bool]) {
        let pause_frames = (PAUSE_S * self.sample_rate_hz as f64).round() as u64;
        for &s in speech {
            if s != self.in_speech {
                self.end_run(pause_frames, s);
                self.in_speech = s;
                self.run_frames = 0;
            }
            self.run_frames += 1;
        }
        self.frames += speech.len() as u64;
        self.speech_frames += speech.iter().filter(|&&s| s).count() as u64;
    }

    /// Closes the run in progress; `next_is_speech`: whether speech follows it.
    fn end_run(&mut self, pause_frames: u64, next_is_speech: bool) {
        if self.in_speech {
            self.seen_speech = true;
            self.longest_speech_frames = self.longest_speech_frames.max(self.run_frames);
        } else if next_is_speech && self.seen_speech && self.run_frames >= pause_frames {
            self.pauses += 1;
        }
    }

    /// Adds one completed 100 ms block of the key: its K-weighted mean square and the share of
    /// it with speech.
    pub fn add_block(&mut self, energy: f64, speech_share: f64) {
        let lkfs = energy_to_lkfs(energy);
        let bin = if lkfs > FLOOR_LKFS {
            (((lkfs - FLOOR_LKFS) / BIN_DB) as usize).min(BINS - 1)
        } else {
            0
        };
        self.all_blocks[bin] += 1;
        if speech_share < 0.5 {
            self.non_speech_blocks[bin] += 1;
        }
    }

    /// The figures so far.
    pub fn figures(&self) -> KeyFigures {
        let sr = self.sample_rate_hz.max(1) as f64;
        let longest = if self.in_speech {
            self.longest_speech_frames.max(self.run_frames)
        } else {
            self.longest_speech_frames
        };
        let blocks: u64 = self.all_blocks.iter().sum();
        let loud_bin = (blocks > 0).then(|| {
            let wanted = (blocks as f64 * 0.95).ceil() as u64;
            let mut seen = 0;
            self.all_blocks
                .iter()
                .position(|&n| {
                    seen += n;
                    seen >= wanted
                })
                .unwrap_or(BINS - 1)
        });
        let level_of = |bin: usize| FLOOR_LKFS + (bin as f64 + 0.5) * BIN_DB;
        let loud_non_speech = loud_bin.map_or(0, |loud| {
            let from = loud.saturating_sub((LOUD_WINDOW_DB / BIN_DB) as usize);
            self.non_speech_blocks[from..].iter().sum::<u64>()
        });
        KeyFigures {
            duration_s: self.frames as f64 / sr,
            speech_share: if self.frames > 0 {
                self.speech_frames as f64 / self.frames as f64
            } else {
                0.0
            },
            speech_s: self.speech_frames as f64 / sr,
            pauses: self.pauses,
            longest_speech_s: longest as f64 / sr,
            loud_lkfs: loud_bin.map(|b| {
                if b == 0 {
                    f64::NEG_INFINITY
                } else {
                    level_of(b)
                }
            }),
            loud_non_speech_share: if blocks > 0 {
                loud_non_speech as f64 / blocks as f64
            } else {
                0.0
            },
        }
    }
}

/// The warnings about the dialogue (see the module's rules), in words a user can act on.
pub fn dialogue_warnings(k: &KeyFigures) -> Vec<String> {
    let check = "check that --dialogue is the dialogue stem";
    match k.loud_lkfs {
        Some(l) if l > ABSOLUTE_GATE_LKFS => {}
        _ => {
            return vec![format!(
                "the dialogue is silent (its loudest 100 ms blocks are under {ABSOLUTE_GATE_LKFS} \
                 LUFS): the bed was not ducked; {check}"
            )];
        }
    }
    let mut out = Vec::new();
    if k.speech_share < NO_SPEECH_SHARE {
        out.push(if k.speech_s == 0.0 {
            format!("no speech detected in the dialogue: the bed was not ducked; {check}")
        } else if k.speech_share < 0.0005 {
            format!(
                "speech detected only for {:.2} s of {:.1} s: the bed was hardly ducked; {check}",
                k.speech_s, k.duration_s
            )
        } else {
            format!(
                "speech detected only {:.1} % of the time ({:.1} s of {:.1} s): the bed was \
                 hardly ducked; {check}",
                100.0 * k.speech_share,
                k.speech_s,
                k.duration_s
            )
        });
    }
    if k.loud_non_speech_share >= NOT_SPEECH_SHARE {
        out.push(format!(
            "the dialogue is mostly sound that is not speech: {:.0} % of the time it is within \
             {LOUD_WINDOW_DB:.0} dB of its loudest with no speech detected (a dialogue stem, \
             quiet between its lines: a few %); is --dialogue a music, effects or ambience stem, \
             or very noisy?",
            100.0 * k.loud_non_speech_share
        ));
    }
    if k.duration_s >= DENSE_MIN_S
        && k.speech_share >= DENSE_SPEECH_SHARE
        && k.pauses_per_minute() < DENSE_MAX_PAUSES_PER_MIN
    {
        out.push(format!(
            "speech detected {:.0} % of the time with {} pause{} of {:.0} ms or more in {:.0} s \
             (dialogue pauses between phrases, 10-20 times a minute): is --dialogue sung, a \
             vocal music track or a crowd? The bed stays ducked nearly all the time",
            100.0 * k.speech_share,
            k.pauses,
            if k.pauses == 1 { "" } else { "s" },
            1000.0 * PAUSE_S,
            k.duration_s
        ));
    }
    out
}

/// Whether `path`'s extension is one of `allowed` (in any case).
fn has_extension(path: &Path, allowed: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| allowed.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

/// The warnings about output names: `audio` outputs (`-o`, `--mix-output`, written as WAV
/// with `--bit-depth bit_depth`) not named `.wav` (or `.wave`, `.bwf`, `.rf64`), a `report`
/// not named `.png`.
pub fn output_warnings(audio: &[&Path], bit_depth: &str, report: Option<&Path>) -> Vec<String> {
    let mut out = Vec::new();
    for path in audio {
        if !has_extension(path, &["wav", "wave", "bwf", "rf64"]) {
            out.push(format!(
                "{}: written as a WAV file (--bit-depth {}) whatever its name says; the \
                 renderer writes WAV only: name it .wav",
                path.display(),
                bit_depth
            ));
        }
    }
    if let Some(path) = report
        && !has_extension(path, &["png"])
    {
        out.push(format!(
            "{}: the report is written as a PNG picture whatever its name says: name it .png",
            path.display()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs of (speech, seconds) at 1 kHz, with 100 ms key blocks at `level_lkfs` for the
    /// loud parts and digital silence elsewhere.
    fn activity(runs: &[(bool, f64, bool)]) -> KeyFigures {
        let mut k = KeyActivity::new(1_000);
        for &(speech, s, loud) in runs {
            let n = (s * 1_000.0).round() as usize;
            k.add_frames(&vec![speech; n]);
            for _ in 0..n / 100 {
                let energy = if loud {
                    10f64.powf((-20.0 + 0.691) / 10.0)
                } else {
                    0.0
                };
                k.add_block(energy, if speech { 1.0 } else { 0.0 });
            }
        }
        k.figures()
    }

    #[test]
    fn counts_pauses_between_phrases_only() {
        // Lead-in, three phrases with a 300 ms and a 200 ms gap, tail: one pause counts.
        let f = activity(&[
            (false, 1.0, false),
            (true, 2.0, true),
            (false, 0.3, false),
            (true, 1.5, true),
            (false, 0.2, false),
            (true, 3.0, true),
            (false, 2.0, false),
        ]);
        assert_eq!(f.pauses, 1);
        assert!((f.longest_speech_s - 3.0).abs() < 1e-9, "{f:?}");
        assert!((f.speech_s - 6.5).abs() < 1e-9);
        assert!((f.duration_s - 10.0).abs() < 1e-9);
        assert!((f.loud_lkfs.unwrap() + 20.0).abs() <= 0.5, "{f:?}");
        // Quiet between the lines: nothing loud without speech.
        assert_eq!(f.loud_non_speech_share, 0.0);
        assert!(
            dialogue_warnings(&f).is_empty(),
            "{:?}",
            dialogue_warnings(&f)
        );
    }

    #[test]
    fn warns_on_silence_no_speech_loud_non_speech_and_no_pauses() {
        let silent = activity(&[(false, 30.0, false)]);
        let w = dialogue_warnings(&silent);
        assert_eq!(w.len(), 1);
        assert!(w[0].starts_with("the dialogue is silent"), "{w:?}");

        // Loud all the time, speech 0.5 s of 60 s: no speech and mostly not speech.
        let music = activity(&[(false, 30.0, true), (true, 0.5, true), (false, 29.5, true)]);
        assert!(
            (music.loud_non_speech_share - 59.5 / 60.0).abs() < 0.01,
            "{music:?}"
        );
        let w = dialogue_warnings(&music);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].starts_with("speech detected only 0.8 % of the time (0.5 s of 60.0 s)"));
        assert!(w[1].starts_with("the dialogue is mostly sound that is not speech: 99 %"));

        // 95 % speech over 40 s with one pause: 1.5 a minute.
        let dense = activity(&[
            (true, 19.0, true),
            (false, 1.0, true),
            (true, 19.0, true),
            (false, 1.0, true),
        ]);
        assert_eq!(dense.pauses, 1);
        let w = dialogue_warnings(&dense);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("speech detected 95 % of the time with 1 pause of 250 ms"));
        // The same density with a pause every 20 s (3 a minute) is dialogue-like.
        let mut runs = Vec::new();
        for _ in 0..6 {
            runs.extend([(true, 9.5, true), (false, 0.5, false)]);
        }
        let talk = activity(&runs);
        assert_eq!(talk.pauses, 5);
        assert!(talk.speech_share >= DENSE_SPEECH_SHARE);
        assert!(dialogue_warnings(&talk).is_empty());
        // Under 20 s, no judgement on density.
        let short = activity(&[(true, 15.0, true)]);
        assert!(dialogue_warnings(&short).is_empty());
    }

    #[test]
    fn output_names_not_saying_wav_or_png_are_flagged() {
        let p = Path::new;
        assert!(output_warnings(&[p("o.WAV"), p("m.bwf")], "32f", Some(p("r.png"))).is_empty());
        let w = output_warnings(&[p("o.mp3"), p("mix")], "32f", Some(p("r.jpg")));
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].starts_with("o.mp3: written as a WAV file (--bit-depth 32f)"));
        assert!(w[1].starts_with("mix: written as a WAV file"));
        assert!(w[2].starts_with("r.jpg: the report is written as a PNG"));
    }
}
