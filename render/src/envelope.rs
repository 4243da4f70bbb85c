//! `--export-envelope`: the gain a render applied over time and the speech regions it found,
//! written for a DAW, so a mixer can start from Underscore's decisions and edit them by hand
//! (draw over a breath, lift a line the dialogue editor wants clearer).
//!
//! **What the gain is.** Broadband mode: the duck the engine applied to the bed (Depth x
//! envelope x Mix, the gain on the centre of the field: a mono bed, both channels of a stereo
//! bed in Linked mode, the mid in Mid/Side mode, the channels with a 100 % share in 5.1), read
//! from the engine every control tick (1 ms), where it is exact: the engine ramps linearly
//! between tick values. Output gain and Bypass are not part of it (Output is a fixed trim; a
//! bypassed stretch still shows the duck that would have applied). Spectral mode, where every
//! band gets its own reduction: the mean of the reductions applied in the auditory bands
//! centred between 500 Hz and 4 kHz (the speech band, where Clarity is measured), per analysis
//! frame (about every 5 ms), at the centre of the frame's window: what a broadband fader move
//! would have to do to the speech band; the bed outside it and outside Focus moves less.
//!
//! **Speech**: the engine's speech decision on the dialogue, per control tick, as regions
//! [start, end) on the bed's time line.
//!
//! Everything is on the input time line (the output is latency-aligned with it): time 0 is the
//! bed's first sample, and timecode counts from the bed's time reference ([`Timing`]).
//!
//! **Points.** The envelope keeps the points where the gain turns and as few others as keep
//! straight lines between points (as the DAW interpolates them: dB for CSV, amplitude for
//! Reaper's linear points) within [`TOLERANCE_DB`] of the applied gain at every control tick:
//! a held duck is two points, an attack or a release a handful, not 48 000 a second.
//!
//! **Formats** ([`EnvelopeFormat`], by the file's extension or `--envelope-format`):
//! * `.csv`: `time_s,timecode,gain_db,speech` (one row per point and per speech boundary;
//!   `gain_db` <= 0, `speech` 0 or 1 from that row on).
//! * `.txt`: an Audacity label track of the speech regions (`start<TAB>end<TAB>speech`, in
//!   seconds): File > Import > Labels.
//! * `.rpp`: a Reaper project with the bed on a track carrying the gain as its volume
//!   envelope (`<VOLENV2`, amplitude scaling, linear points `PT time amplitude 0`), the
//!   dialogue on a second track and the speech regions as regions: open it in Reaper, or copy
//!   the `<VOLENV2 ... >` block into a track of an existing project.

use std::fmt::Write as _;
use std::path::Path;

use clap::ValueEnum;
use underscore_dsp::Engine;
use underscore_dsp::settings::Mode;
use underscore_dsp::spectral::{BandAnalysis, SPEECH_BAND_HZ};

use crate::error::RenderError;
use crate::timecode::Timing;

/// How far a straight line between exported points may stray from the applied gain, dB.
pub const TOLERANCE_DB: f64 = 0.03;
/// Most control ticks one straight segment spans while its fit is checked (bounds the work on
/// long ramps; a segment this long gets a point in between).
const MAX_SEGMENT_POINTS: usize = 500;
/// Lowest gain written, dB (a bed muted by Mix 100 % and Depth -40 dB is far above it).
const FLOOR_DB: f64 = -120.0;

/// An envelope file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnvelopeFormat {
    /// `time_s,timecode,gain_db,speech` (`.csv`).
    Csv,
    /// Audacity label track of the speech regions (`.txt`).
    Audacity,
    /// Reaper project with the gain as the bed track's volume envelope (`.rpp`).
    Reaper,
}

impl EnvelopeFormat {
    /// The format of `path` by its extension (`.csv`, `.txt`, `.rpp`, in any case).
    pub fn from_path(path: &Path) -> Result<Self, String> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "csv" => Ok(Self::Csv),
            "txt" => Ok(Self::Audacity),
            "rpp" => Ok(Self::Reaper),
            _ => Err(format!(
                "--export-envelope {}: unknown extension (.csv for CSV, .txt for Audacity \
                 labels, .rpp for Reaper), or give --envelope-format csv|audacity|reaper",
                path.display()
            )),
        }
    }
}

/// One point of the applied gain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GainPoint {
    /// Bed sample position (from the bed's first sample).
    pub sample: u64,
    /// Gain applied there, dB (<= 0).
    pub gain_db: f64,
}

/// The gain a render applied to one bed and the speech regions, on the bed's time line.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub sample_rate_hz: u32,
    /// The bed's length, frames.
    pub frames: u64,
    pub mode: Mode,
    /// The applied gain at every control tick (Spectral: every analysis frame) where it
    /// changed, plus the first and last of every steady stretch; from sample 0 to the last
    /// sample, linear in amplitude between points (exact in Broadband mode).
    pub points: Vec<GainPoint>,
    /// Speech regions, [start, end) sample positions, in order.
    pub speech: Vec<(u64, u64)>,
}

impl Envelope {
    /// The gain at `sample`, dB, between the recorded points (linear in amplitude).
    pub fn gain_db_at(&self, sample: u64) -> f64 {
        interpolate(&self.points, sample as f64, Domain::Amplitude)
    }

    /// Whether speech was detected at `sample`.
    pub fn speech_at(&self, sample: u64) -> bool {
        self.speech.iter().any(|&(a, b)| (a..b).contains(&sample))
    }

    /// The points to export for a DAW that interpolates in `domain`: see
    /// [`TOLERANCE_DB`].
    pub fn simplified(&self, domain: Domain) -> Vec<GainPoint> {
        simplify(&self.exact_in(domain), domain, TOLERANCE_DB)
    }

    /// The recorded points, with samples added where a straight line in `domain` between two
    /// of them would stray from the applied gain (linear in amplitude between points) by more
    /// than half of [`TOLERANCE_DB`]: a steep attack in dB (0 ms Attack, Depth -40 dB) bends
    /// within one control tick, so a CSV that is linear in dB needs points inside the tick.
    /// Broadband only: in Spectral mode the points are per-frame readings of a band mean, with
    /// no ramp between them to follow.
    fn exact_in(&self, domain: Domain) -> Vec<GainPoint> {
        if domain == Domain::Amplitude || self.mode != Mode::Broadband {
            return self.points.clone();
        }
        let mut out = Vec::with_capacity(self.points.len());
        for pair in self.points.windows(2) {
            out.push(pair[0]);
            refine_in_db(pair[0], pair[1], &mut out);
        }
        out.extend(self.points.last());
        out
    }
}

/// Adds to `out` (in order) the samples strictly between `a` and `b` that a dB-linear line
/// needs to follow the amplitude-linear ramp from `a` to `b` within half of [`TOLERANCE_DB`],
/// by halving: each level halves the span, so at most log2(span) levels.
fn refine_in_db(a: GainPoint, b: GainPoint, out: &mut Vec<GainPoint>) {
    if b.sample <= a.sample + 1 {
        return;
    }
    let m = a.sample + (b.sample - a.sample) / 2;
    let exact = on_line(&a, &b, m as f64, Domain::Amplitude);
    if (on_line(&a, &b, m as f64, Domain::Decibels) - exact).abs() <= TOLERANCE_DB / 2.0 {
        return;
    }
    let mid = GainPoint {
        sample: m,
        gain_db: exact,
    };
    refine_in_db(a, mid, out);
    out.push(mid);
    refine_in_db(mid, b, out);
}

/// How a DAW draws a straight line between two envelope points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// Linear in dB (a CSV read into a spreadsheet or a script).
    Decibels,
    /// Linear in amplitude (Reaper's linear points with amplitude scaling).
    Amplitude,
}

fn db_to_amp(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

fn amp_to_db(a: f64) -> f64 {
    (20.0 * a.max(1e-12).log10()).max(FLOOR_DB)
}

/// The gain at `t` (samples) on the straight line from `a` to `b` in `domain`, dB.
fn on_line(a: &GainPoint, b: &GainPoint, t: f64, domain: Domain) -> f64 {
    let span = (b.sample - a.sample) as f64;
    let f = if span > 0.0 {
        ((t - a.sample as f64) / span).clamp(0.0, 1.0)
    } else {
        1.0
    };
    match domain {
        Domain::Decibels => a.gain_db + f * (b.gain_db - a.gain_db),
        Domain::Amplitude => {
            let (x, y) = (db_to_amp(a.gain_db), db_to_amp(b.gain_db));
            amp_to_db(x + f * (y - x))
        }
    }
}

/// The gain at `t` (samples) between `points` (held before the first and after the last), dB.
pub fn interpolate(points: &[GainPoint], t: f64, domain: Domain) -> f64 {
    let i = points.partition_point(|p| (p.sample as f64) <= t);
    match (i.checked_sub(1).map(|k| &points[k]), points.get(i)) {
        (Some(a), Some(b)) => on_line(a, b, t, domain),
        (Some(a), None) => a.gain_db,
        (None, Some(b)) => b.gain_db,
        (None, None) => 0.0,
    }
}

/// Keeps the fewest of `points` (first and last always) such that straight lines in `domain`
/// between kept points pass within `tol_db` of every dropped point: each segment runs as far
/// as it fits (greedy, at most [`MAX_SEGMENT_POINTS`] points).
pub fn simplify(points: &[GainPoint], domain: Domain, tol_db: f64) -> Vec<GainPoint> {
    let n = points.len();
    if n <= 2 {
        return points.to_vec();
    }
    let fits = |i: usize, j: usize| {
        points[i + 1..j].iter().all(|p| {
            (on_line(&points[i], &points[j], p.sample as f64, domain) - p.gain_db).abs() <= tol_db
        })
    };
    let mut out = vec![points[0]];
    let mut i = 0;
    while i < n - 1 {
        let mut j = i + 1;
        while j + 1 < n && j + 1 - i <= MAX_SEGMENT_POINTS && fits(i, j + 1) {
            j += 1;
        }
        out.push(points[j]);
        i = j;
    }
    out
}

/// Records what an engine applies while the driver renders, one per bed.
pub struct EnvelopeCollector {
    frames: u64,
    sample_rate_hz: u32,
    mode: Mode,
    tick_samples: u64,
    /// Engine position minus this = bed position of the gain read at a tick's end (Broadband:
    /// latency minus one tick plus one sample; see [`Self::process`]).
    latency: u64,
    /// Spectral: a frame's reduction applies to the window centred this far after the
    /// latency-aligned position of its end.
    half_window: u64,
    /// Bands of the speech band (Spectral), found on the first frame.
    speech_bands: Vec<usize>,
    analysis_frames: u32,
    /// (bed position, possibly before 0, gain dB): changes only (and the ends of steady runs).
    raw: Vec<(i64, f64)>,
    speech: Vec<(u64, u64)>,
    speech_since: Option<u64>,
}

impl EnvelopeCollector {
    /// A collector for a bed of `frames` frames rendered by `engine` (its settings and latency
    /// in force; the Mode cannot change during a file render).
    pub fn new(engine: &Engine, frames: u64) -> Self {
        let sr = engine.sample_rate_hz();
        let mode = engine.params().mode;
        Self {
            frames,
            sample_rate_hz: sr as u32,
            mode,
            tick_samples: engine.tick_samples() as u64,
            latency: engine.latency_samples() as u64,
            half_window: (underscore_dsp::spectral::fft_size(sr) / 2) as u64,
            speech_bands: Vec::new(),
            analysis_frames: engine.band_analysis_frames(),
            // Before the first tick the duck is off (the engine starts at unity).
            raw: vec![(
                engine.tick_samples() as i64 - 1 - engine.latency_samples() as i64,
                0.0,
            )],
            speech: Vec::new(),
            speech_since: None,
        }
    }

    /// Whether the engine must run its band analysis for this collector (Spectral mode).
    pub fn needs_band_analysis(engine: &Engine) -> bool {
        engine.params().mode == Mode::Spectral
    }

    /// Runs `engine` over one block (`bed` in place, keyed by `key`) that starts at engine
    /// position `start`, split at the engine's control-tick boundaries so the gain is read at
    /// every tick. The engine's results do not depend on how a block is split, so the audio is
    /// exactly what one call would produce.
    pub fn process(
        &mut self,
        engine: &mut Engine,
        bed: &mut [&mut [f32]],
        key: &[&[f32]],
        start: u64,
    ) {
        let n = bed.first().map_or(0, |c| c.len());
        let t = self.tick_samples;
        let mut pos = 0;
        while pos < n {
            let at = start + pos as u64;
            let len = ((t - at % t) as usize).min(n - pos);
            let mut b: Vec<&mut [f32]> = bed.iter_mut().map(|c| &mut c[pos..pos + len]).collect();
            let k: Vec<&[f32]> = key.iter().map(|c| &c[pos..pos + len]).collect();
            engine.process_block(&mut b, &k);
            pos += len;
            let end = at + len as u64;
            if end.is_multiple_of(t) {
                self.tick(end, engine);
            }
            if self.mode == Mode::Spectral && engine.band_analysis_frames() != self.analysis_frames
            {
                self.analysis_frames = engine.band_analysis_frames();
                self.band_frame(end, engine.band_analysis());
            }
        }
    }

    /// A control tick ended at engine position `end`.
    fn tick(&mut self, end: u64, engine: &Engine) {
        let meter = engine.meter();
        if self.mode == Mode::Broadband {
            // The gain the tick computed is reached at the last sample of the next tick (the
            // engine ramps to it across that tick); that sample leaves the engine `latency`
            // samples after the bed sample it carries.
            let at = end as i64 + self.tick_samples as i64 - 1 - self.latency as i64;
            self.push(at, amp_to_db(meter.duck_gain as f64).min(0.0));
        }
        // The decision covers the key (undelayed: the bed's time line) of the tick.
        let from = end - self.tick_samples;
        match (meter.speech_active, self.speech_since) {
            (true, None) if from < self.frames => self.speech_since = Some(from),
            (false, Some(s)) => {
                self.speech.push((s, from.min(self.frames)));
                self.speech_since = None;
            }
            _ => {}
        }
    }

    /// Spectral: a band-analysis frame published by engine position `end`.
    fn band_frame(&mut self, end: u64, a: &BandAnalysis) {
        if self.speech_bands.is_empty() {
            self.speech_bands = (0..a.bands)
                .filter(|&b| (SPEECH_BAND_HZ.0..=SPEECH_BAND_HZ.1).contains(&a.centre_hz[b]))
                .collect();
        }
        let n = self.speech_bands.len().max(1) as f64;
        let mean: f64 = self
            .speech_bands
            .iter()
            .map(|&b| a.reduction_db[b] as f64)
            .sum::<f64>()
            / n;
        let at = end as i64 - self.latency as i64 + self.half_window as i64;
        self.push(at, (-mean).clamp(FLOOR_DB, 0.0));
    }

    /// Adds a reading; a run of equal readings keeps its first and last.
    fn push(&mut self, at: i64, gain_db: f64) {
        let k = self.raw.len();
        if k >= 2 && self.raw[k - 1].1 == gain_db && self.raw[k - 2].1 == gain_db {
            self.raw[k - 1].0 = at;
        } else {
            self.raw.push((at, gain_db));
        }
    }

    /// The envelope on the bed's time line, from sample 0 to its last sample.
    pub fn finish(mut self) -> Envelope {
        if let Some(s) = self.speech_since.take() {
            self.speech.push((s, self.frames));
        }
        self.speech.retain(|&(a, b)| b > a);
        let last = self.frames.saturating_sub(1) as i64;
        let at = |raw: &[(i64, f64)], t: i64| -> f64 {
            let i = raw.partition_point(|p| p.0 <= t);
            match (i.checked_sub(1).map(|k| raw[k]), raw.get(i)) {
                (Some(a), Some(b)) if b.0 > a.0 => {
                    // Linear in amplitude, as the engine ramps.
                    let f = (t - a.0) as f64 / (b.0 - a.0) as f64;
                    let (x, y) = (db_to_amp(a.1), db_to_amp(b.1));
                    amp_to_db(x + f * (y - x))
                }
                (Some(a), _) => a.1,
                (None, Some(b)) => b.1,
                (None, None) => 0.0,
            }
        };
        let mut points = vec![GainPoint {
            sample: 0,
            gain_db: at(&self.raw, 0),
        }];
        points.extend(
            self.raw
                .iter()
                .filter(|p| p.0 > 0 && p.0 < last)
                .map(|&(s, g)| GainPoint {
                    sample: s as u64,
                    gain_db: g,
                }),
        );
        if last > 0 {
            points.push(GainPoint {
                sample: last as u64,
                gain_db: at(&self.raw, last),
            });
        }
        Envelope {
            sample_rate_hz: self.sample_rate_hz,
            frames: self.frames,
            mode: self.mode,
            points,
            speech: self.speech,
        }
    }
}

/// The files an envelope belongs to (named in the Reaper project).
#[derive(Debug, Clone)]
pub struct EnvelopeSources<'a> {
    pub bed: &'a Path,
    pub dialogue: &'a Path,
}

fn seconds(env: &Envelope, sample: u64) -> f64 {
    sample as f64 / env.sample_rate_hz as f64
}

/// The CSV text: `time_s,timecode,gain_db,speech`, one row per point (linear in dB between
/// rows) and per speech boundary.
pub fn to_csv(env: &Envelope, timing: &Timing) -> String {
    let points = env.simplified(Domain::Decibels);
    let mut rows: Vec<u64> = points.iter().map(|p| p.sample).collect();
    for &(a, b) in &env.speech {
        rows.push(a);
        rows.push(b.min(env.frames.saturating_sub(1)));
    }
    rows.sort_unstable();
    rows.dedup();
    let mut t = String::from("time_s,timecode,gain_db,speech\n");
    for s in rows {
        let gain_db = interpolate(&points, s as f64, Domain::Decibels);
        let _ = writeln!(
            t,
            "{:.9},{},{:.3},{}",
            seconds(env, s),
            timing.timecode_at(s),
            gain_db.min(0.0) + 0.0,
            u8::from(env.speech_at(s))
        );
    }
    t
}

/// The Audacity label track: one label per speech region, `start<TAB>end<TAB>speech`, seconds.
pub fn to_audacity(env: &Envelope) -> String {
    let mut t = String::new();
    for &(a, b) in &env.speech {
        let _ = writeln!(t, "{:.6}\t{:.6}\tspeech", seconds(env, a), seconds(env, b));
    }
    t
}

/// A file path as a Reaper project quotes it (absolute when it can be made so).
fn rpp_path(p: &Path) -> String {
    let abs = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    abs.display().to_string().replace('"', "'")
}

fn rpp_source_kind(p: &Path) -> &'static str {
    match p
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
    {
        Some(e) if e == "flac" => "FLAC",
        _ => "WAVE",
    }
}

/// The Reaper volume envelope chunk alone: `<VOLENV2` with linear points in amplitude.
pub fn reaper_envelope_chunk(env: &Envelope, indent: &str) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "{indent}<VOLENV2");
    for line in [
        "ACT 1 -1",
        "VIS 1 1 1",
        "LANEHEIGHT 0 0",
        "ARM 0",
        "DEFSHAPE 0 -1 -1",
    ] {
        let _ = writeln!(t, "{indent}  {line}");
    }
    for p in env.simplified(Domain::Amplitude) {
        let _ = writeln!(
            t,
            "{indent}  PT {:.6} {:.8} 0",
            seconds(env, p.sample),
            db_to_amp(p.gain_db.min(0.0))
        );
    }
    let _ = writeln!(t, "{indent}>");
    t
}

/// A Reaper project: the bed (original, unducked) on a track whose volume envelope is the
/// applied gain, the dialogue on a second track, the speech regions as regions.
pub fn to_reaper(env: &Envelope, timing: &Timing, files: &EnvelopeSources<'_>) -> String {
    let length_s = seconds(env, env.frames);
    let name = |p: &Path| {
        p.file_name()
            .map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
            .replace('"', "'")
    };
    let mut t = String::new();
    let _ = writeln!(t, "<REAPER_PROJECT 0.1 \"6.0/underscore\" 0");
    let _ = writeln!(t, "  SAMPLERATE {} 0 0", env.sample_rate_hz);
    let _ = writeln!(
        t,
        "  <NOTES 0 2\n    |Underscore gain envelope of {}: the bed starts at {} ({}); times \
         count from the bed's start\n  >",
        name(files.bed),
        timing.start_timecode(),
        timing.fps
    );
    for (i, &(a, b)) in env.speech.iter().enumerate() {
        let _ = writeln!(t, "  MARKER {} {:.6} \"speech\" 1", i + 1, seconds(env, a));
        let _ = writeln!(t, "  MARKER {} {:.6} \"\" 1", i + 1, seconds(env, b));
    }
    let track = |t: &mut String, title: &str, file: &Path, envelope: Option<String>| {
        let _ = writeln!(t, "  <TRACK\n    NAME \"{title}\"");
        if let Some(e) = envelope {
            t.push_str(&e);
        }
        let _ = writeln!(
            t,
            "    <ITEM\n      POSITION 0\n      LENGTH {length_s:.6}\n      NAME \"{}\"\n      \
             <SOURCE {}\n        FILE \"{}\"\n      >\n    >\n  >",
            name(file),
            rpp_source_kind(file),
            rpp_path(file)
        );
    };
    track(
        &mut t,
        &format!("{} (Underscore duck envelope)", name(files.bed)),
        files.bed,
        Some(reaper_envelope_chunk(env, "    ")),
    );
    track(&mut t, &name(files.dialogue), files.dialogue, None);
    t.push_str(">\n");
    t
}

/// Writes `env` to `path` in `format` (through a temporary file).
pub fn write(
    path: &Path,
    format: EnvelopeFormat,
    env: &Envelope,
    timing: &Timing,
    files: &EnvelopeSources<'_>,
) -> Result<(), RenderError> {
    let text = match format {
        EnvelopeFormat::Csv => to_csv(env, timing),
        EnvelopeFormat::Audacity => to_audacity(env),
        EnvelopeFormat::Reaper => to_reaper(env, timing, files),
    };
    Ok(underscore_io::write_atomically(path, text.as_bytes())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(sample: u64, gain_db: f64) -> GainPoint {
        GainPoint { sample, gain_db }
    }

    #[test]
    fn simplify_keeps_turning_points_and_stays_within_tolerance() {
        // Unity, a 10 dB attack over 20 ticks, a hold, a release over 300 ticks (linear in dB).
        let mut raw = vec![p(0, 0.0), p(1_000, 0.0)];
        raw.extend((1..=20).map(|k| p(1_000 + 48 * k, -0.5 * k as f64)));
        raw.push(p(20_000, -10.0));
        raw.extend((1..=300).map(|k| p(20_000 + 48 * k, -10.0 + k as f64 / 30.0)));
        raw.push(p(96_000, 0.0));
        for domain in [Domain::Decibels, Domain::Amplitude] {
            let s = simplify(&raw, domain, TOLERANCE_DB);
            assert!(s.len() < 40, "{domain:?}: {} points", s.len());
            // The corners are kept exactly.
            for corner in [1_000, 1_960, 20_000, 20_000 + 48 * 300] {
                assert!(s.iter().any(|q| q.sample == corner), "{domain:?} {corner}");
            }
            for q in &raw {
                let e = (interpolate(&s, q.sample as f64, domain) - q.gain_db).abs();
                assert!(e <= TOLERANCE_DB + 1e-9, "{domain:?} at {}: {e}", q.sample);
            }
        }
        // Linear in dB: the attack and release are one segment each.
        assert_eq!(simplify(&raw, Domain::Decibels, TOLERANCE_DB).len(), 6);
    }

    #[test]
    fn formats_by_extension() {
        assert_eq!(
            EnvelopeFormat::from_path(Path::new("a.CSV")),
            Ok(EnvelopeFormat::Csv)
        );
        assert_eq!(
            EnvelopeFormat::from_path(Path::new("a.txt")),
            Ok(EnvelopeFormat::Audacity)
        );
        assert_eq!(
            EnvelopeFormat::from_path(Path::new("a.rpp")),
            Ok(EnvelopeFormat::Reaper)
        );
        let e = EnvelopeFormat::from_path(Path::new("a.xml")).unwrap_err();
        assert!(
            e.contains("a.xml") && e.contains("--envelope-format"),
            "{e}"
        );
    }

    #[test]
    fn csv_rows_carry_timecode_from_the_time_reference() {
        let env = Envelope {
            sample_rate_hz: 48_000,
            frames: 96_000,
            // Spectral: the rows are the points themselves (no ramp refinement).
            mode: Mode::Spectral,
            points: vec![p(0, 0.0), p(24_000, -10.0), p(95_999, -10.0)],
            speech: vec![(12_000, 48_000)],
        };
        let timing = Timing::new(48_000, None, Some(172_800_000), None);
        let csv = to_csv(&env, &timing);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "time_s,timecode,gain_db,speech");
        assert_eq!(lines[1], "0.000000000,01:00:00:00,0.000,0");
        assert_eq!(lines[2], "0.250000000,01:00:00:06,-5.000,1");
        assert_eq!(lines[3], "0.500000000,01:00:00:12,-10.000,1");
        assert_eq!(lines[4], "1.000000000,01:00:01:00,-10.000,0");
        assert_eq!(lines[5], "1.999979167,01:00:01:24,-10.000,0");
        assert_eq!(to_audacity(&env), "0.250000\t1.000000\tspeech\n");
    }
}
