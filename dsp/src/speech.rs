//! Speech detection on the key: is the dialogue track *speaking*, not merely loud?
//!
//! Breaths, room tone, clothing rustle and lip clicks carry energy but no voice. What they lack
//! is *voicing*: the periodic glottal pulse (80-400 Hz) that every vowel and voiced consonant has,
//! in any language. The key (decimated to about 4 kHz, band-passed 80-1000 Hz) is analysed in
//! 30 ms windows every 5 ms ([`HOP_MS`]); the normalised autocorrelation peak over pitch lags
//! 2.5-12.5 ms is the voicing score (about 0.9 in a vowel, below 0.5 in breath noise and clicks). It is
//! normalised by the mean energy of the two windows compared, so a click's decaying ring-out,
//! which is periodic but fading, scores low too.
//!
//! [`SpeechGate`] turns that into a decision: the key counts as speech while it is above the
//! level threshold *and* a voiced frame was seen within the last [`VOICED_MEMORY_MS`] (unvoiced
//! consonants and short pauses inside a phrase stay "speech"); a new phrase needs
//! [`ONSET_VOICED_FRAMES`] voiced frames in a row, so a single periodic-looking noise frame cannot
//! trigger a duck. Sensitivity moves the voicing threshold.

use crate::filter::Biquad;
use crate::units::{dot, power_to_db};

/// Analysis window, ms: at least two periods of an 80 Hz voice.
pub const WINDOW_MS: f32 = 30.0;
/// Hop between voicing decisions, ms.
pub const HOP_MS: f32 = 5.0;
/// Shortest pitch period searched, ms (400 Hz: high female and child voices).
pub const MIN_PERIOD_MS: f32 = 2.5;
/// Longest pitch period searched, ms (80 Hz: low male voices).
pub const MAX_PERIOD_MS: f32 = 12.5;
/// Band analysed for voicing, Hz: the fundamental and first formant region.
pub const VOICING_BAND_HZ: (f32, f32) = (80.0, 1_000.0);
/// How long after the last voiced frame the key still counts as speech, ms.
pub const VOICED_MEMORY_MS: f32 = 400.0;
/// Voiced frames in a row that open a phrase (2 frames, 5 ms apart, over 35 ms of audio).
pub const ONSET_VOICED_FRAMES: u32 = 2;
/// How far below the level threshold a frame's voicing still counts, dB. Speech onsets rise
/// from below the threshold; their first vowel often starts voiced while still quiet, so the
/// phrase is confirmed the moment its level crosses the threshold instead of a syllable later.
pub const VOICING_GATE_BELOW_THRESHOLD_DB: f32 = 12.0;

/// Voicing threshold for a Sensitivity in 0..=1: 0 -> 0.85 (only clean vowels), 0.5 -> 0.65,
/// 1 -> 0.45 (breathy or noisy voices; more risk of false triggers).
pub fn voicing_threshold(sensitivity: f32) -> f32 {
    0.85 - 0.4 * sensitivity.clamp(0.0, 1.0)
}

/// One voicing decision frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VoicingFrame {
    /// Normalised autocorrelation peak over the pitch lags, 0..=1.
    pub score: f32,
    /// Band power of the window, dBFS.
    pub level_db: f32,
}

/// Pitch-periodicity analyser, fed at the analysis rate (about 4 kHz).
#[derive(Debug, Clone)]
pub struct VoicingAnalyser {
    highpass: Biquad,
    lowpass: Biquad,
    buf: Vec<f32>,
    prefix: Vec<f32>,
    len: usize,
    window: usize,
    min_lag: usize,
    max_lag: usize,
    enabled: bool,
    stride: u32,
    hop_count: u32,
}

impl VoicingAnalyser {
    /// An analyser for samples arriving at `rate_hz`.
    pub fn new(rate_hz: f32) -> Self {
        let samples = |ms: f32| ((ms * 0.001 * rate_hz).round() as usize).max(1);
        let window = samples(WINDOW_MS);
        let max_lag = samples(MAX_PERIOD_MS);
        let hop = samples(HOP_MS);
        let span = window + max_lag + 1;
        Self {
            highpass: Biquad::highpass(VOICING_BAND_HZ.0, rate_hz),
            lowpass: Biquad::lowpass(VOICING_BAND_HZ.1, rate_hz),
            buf: vec![0.0; span + hop],
            prefix: vec![0.0; span + hop + 1],
            len: span,
            window,
            min_lag: samples(MIN_PERIOD_MS).max(2),
            max_lag,
            enabled: true,
            stride: 1,
            hop_count: 0,
        }
    }

    /// Analyses only every `stride`-th hop (1 = every hop). Inside a phrase a voiced frame every
    /// 20 ms keeps the gate open just as well, at a quarter of the cost.
    pub fn set_stride(&mut self, stride: u32) {
        self.stride = stride.max(1);
    }

    /// Turns the correlation search on or off. Off (the key is far below the threshold, where
    /// no frame could count) the history is still kept, so analysis resumes seamlessly.
    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
    }

    /// Feeds one sample; every hop returns the voicing of the latest window.
    #[inline]
    pub fn push(&mut self, x: f32) -> Option<VoicingFrame> {
        let y = self.lowpass.process(self.highpass.process(x));
        self.buf[self.len] = y;
        self.len += 1;
        if self.len < self.buf.len() {
            return None;
        }
        self.hop_count = self.hop_count.wrapping_add(1);
        let frame = self
            .hop_count
            .is_multiple_of(self.stride)
            .then(|| self.analyse());
        // Keep the newest window + max lag for the next hop.
        let span = self.window + self.max_lag + 1;
        self.buf.copy_within(self.len - span..self.len, 0);
        self.len = span;
        self.highpass.flush_denormals();
        self.lowpass.flush_denormals();
        frame
    }

    /// Normalised autocorrelation peak of the newest window against its past.
    fn analyse(&mut self) -> VoicingFrame {
        if !self.enabled {
            return VoicingFrame {
                score: 0.0,
                level_db: crate::units::FLOOR_DB,
            };
        }
        let n = self.len;
        self.prefix[0] = 0.0;
        for i in 0..n {
            self.prefix[i + 1] = self.prefix[i] + self.buf[i] * self.buf[i];
        }
        let start = n - self.window;
        let a = &self.buf[start..n];
        let energy_a = self.prefix[n] - self.prefix[start];
        let level_db = power_to_db(energy_a / self.window as f32);
        if energy_a <= 1e-12 {
            return VoicingFrame {
                score: 0.0,
                level_db,
            };
        }
        // A pitch period shows as a *peak* of the correlation over lag; a correlation that just
        // falls from lag 0 (low-frequency rumble, a filter ringing out) has no interior peak.
        let mut best = 0.0f32;
        let (mut r_prev2, mut r_prev) = (f32::INFINITY, f32::INFINITY);
        for lag in self.min_lag - 1..=self.max_lag + 1 {
            let b = &self.buf[start - lag..n - lag];
            let dot = dot(a, b);
            let energy_b = self.prefix[n - lag] - self.prefix[start - lag];
            // Normalised by the mean energy of the two windows (not their geometric mean): equal
            // to the usual normalised correlation for a steady vowel, but a decaying transient
            // (a click ringing out, energy ratio 10 between the windows) scores only 0.57x.
            let r = 2.0 * dot / (energy_a + energy_b).max(1e-20);
            if r_prev > r_prev2 && r_prev >= r {
                best = best.max(r_prev);
            }
            r_prev2 = r_prev;
            r_prev = r;
        }
        VoicingFrame {
            score: best.min(1.0),
            level_db,
        }
    }

    /// Clears the analysis memory.
    pub fn reset(&mut self) {
        self.highpass.reset();
        self.lowpass.reset();
        self.buf.fill(0.0);
        self.len = self.window + self.max_lag + 1;
    }
}

/// Voicing stride inside a phrase (every 4th hop = every 20 ms).
pub const IN_PHRASE_STRIDE: u32 = 4;

/// The speech decision, updated once per control tick.
#[derive(Debug, Clone)]
pub struct SpeechGate {
    voiced_run: u32,
    since_voiced_ms: f32,
    tick_ms: f32,
    voiced_threshold: f32,
    active: bool,
    /// Time since the key level last crossed the threshold upwards, ms.
    since_level_onset_ms: f32,
    level_was_active: bool,
}

impl SpeechGate {
    /// A gate updated every `tick_ms`, at `sensitivity` (0..=1, see [`Self::set_sensitivity`]).
    pub fn new(tick_ms: f32, sensitivity: f32) -> Self {
        Self {
            voiced_run: 0,
            since_voiced_ms: f32::INFINITY,
            tick_ms,
            voiced_threshold: voicing_threshold(sensitivity),
            active: false,
            since_level_onset_ms: 0.0,
            level_was_active: false,
        }
    }

    /// Sets Sensitivity, 0..=1.
    pub fn set_sensitivity(&mut self, sensitivity: f32) {
        self.voiced_threshold = voicing_threshold(sensitivity);
    }

    /// Advances one tick. `level_active`: the key is above Threshold; `voicing_eligible`: the
    /// key is within [`VOICING_GATE_BELOW_THRESHOLD_DB`] of it; `frame`: a voicing frame if one
    /// completed in this tick. Returns whether the key counts as speech now.
    pub fn process_tick(
        &mut self,
        level_active: bool,
        voicing_eligible: bool,
        frame: Option<VoicingFrame>,
    ) -> bool {
        // The phrase's rise is timed from when the key came within reach of the threshold:
        // soft, breathy starts spend tens of ms there before crossing it.
        let rising = level_active || voicing_eligible;
        if rising && !self.level_was_active {
            self.since_level_onset_ms = 0.0;
        } else {
            self.since_level_onset_ms += self.tick_ms;
        }
        self.level_was_active = rising;
        self.since_voiced_ms += self.tick_ms;
        if let Some(f) = frame {
            if (level_active || voicing_eligible) && f.score >= self.voiced_threshold {
                self.voiced_run += 1;
                // Inside a phrase one voiced frame renews it; a new phrase needs a run.
                if self.active || self.voiced_run >= ONSET_VOICED_FRAMES {
                    self.since_voiced_ms = 0.0;
                }
            } else {
                self.voiced_run = 0;
            }
        }
        self.active = level_active && self.since_voiced_ms <= VOICED_MEMORY_MS;
        self.active
    }

    /// Whether the key counts as speech now.
    pub fn active(&self) -> bool {
        self.active
    }

    /// How long ago the key level crossed the threshold upwards, ms: where the phrase that just
    /// got confirmed began, so the attack can still land before it reaches the listener.
    pub fn since_level_onset_ms(&self) -> f32 {
        self.since_level_onset_ms
    }

    /// Back to silence.
    pub fn reset(&mut self) {
        self.voiced_run = 0;
        self.since_voiced_ms = f32::INFINITY;
        self.active = false;
        self.since_level_onset_ms = 0.0;
        self.level_was_active = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: f32 = 4_000.0;

    fn frames(signal: &[f32]) -> Vec<VoicingFrame> {
        let mut v = VoicingAnalyser::new(RATE);
        signal.iter().filter_map(|&x| v.push(x)).collect()
    }

    /// A crude vowel: a 120 Hz pulse train through a resonance at 500 Hz.
    fn vowel(f0_hz: f32, n: usize) -> Vec<f32> {
        let mut res = Biquad::lowpass(600.0, RATE);
        let period = (RATE / f0_hz) as usize;
        (0..n)
            .map(|i| res.process(if i % period == 0 { 1.0 } else { 0.0 }))
            .collect()
    }

    fn noise(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                s as f32 / u32::MAX as f32 - 0.5
            })
            .collect()
    }

    #[test]
    fn vowels_of_low_and_high_voices_score_high() {
        for f0 in [85.0, 120.0, 220.0, 350.0] {
            let f = frames(&vowel(f0, 4_000));
            let late = &f[5..];
            let min = late.iter().map(|f| f.score).fold(1.0, f32::min);
            assert!(min > 0.8, "f0 {f0}: {min}");
        }
    }

    #[test]
    fn noise_and_clicks_score_low() {
        let f = frames(&noise(8_000, 7));
        let max = f[4..].iter().map(|f| f.score).fold(0.0, f32::max);
        assert!(max < 0.5, "noise {max}");
        let mut click = vec![0.0; 4_000];
        click[2_000] = 1.0;
        click[2_001] = -1.0;
        let f = frames(&click);
        let max = f.iter().map(|f| f.score).fold(0.0, f32::max);
        assert!(max < 0.3, "click {max}");
    }

    /// A voicing frame of `score` at -20 dBFS.
    fn frame_of(score: f32) -> Option<VoicingFrame> {
        Some(VoicingFrame {
            score,
            level_db: -20.0,
        })
    }

    #[test]
    fn gate_needs_a_voiced_run_and_remembers_it() {
        let (voiced, unvoiced) = (frame_of(0.9), frame_of(0.2));
        let mut g = SpeechGate::new(10.0, 0.5);
        assert!(!g.process_tick(true, true, voiced));
        assert!(g.process_tick(true, true, voiced));
        // Unvoiced frames inside the phrase: still speech for VOICED_MEMORY_MS.
        for _ in 0..(VOICED_MEMORY_MS / 10.0) as usize {
            assert!(g.process_tick(true, true, unvoiced));
        }
        assert!(!g.process_tick(true, true, unvoiced));
        // Level below threshold: never speech, however voiced.
        let mut g = SpeechGate::new(10.0, 0.5);
        for _ in 0..10 {
            assert!(!g.process_tick(false, false, voiced));
        }
    }

    #[test]
    fn one_periodic_frame_is_not_a_phrase() {
        let (voiced, unvoiced) = (frame_of(0.9), frame_of(0.2));
        let mut g = SpeechGate::new(10.0, 0.5);
        for _ in 0..20 {
            assert!(!g.process_tick(true, true, voiced));
            assert!(!g.process_tick(true, true, unvoiced));
        }
    }

    #[test]
    fn sensitivity_moves_the_threshold() {
        assert!((voicing_threshold(0.5) - 0.65).abs() < 1e-6);
        assert!(voicing_threshold(1.0) < voicing_threshold(0.0));
    }
}
