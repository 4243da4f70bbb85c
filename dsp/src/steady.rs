//! Is the key *steady*: does it repeat itself exactly, as tones, hum and buzz do and voices
//! never do?
//!
//! The voice detector ([`crate::vad`]) scores some steady harmonic sounds as half speech: on
//! the shared corpus a 60 Hz hum with its harmonics scores 0.56-0.64 once it has started, a
//! 250 Hz tone 0.5-0.74 in its first 100 ms. What they have and speech lacks is exact
//! repetition: a steady sound 32-64 ms ago is the same waveform as now (at the lag of a whole
//! number of its periods), while even a held vowel drifts in pitch and formants. So the key's
//! level-path signal (4 kHz, 100 Hz high-passed) is compared with itself: the highest
//! normalised correlation of the latest 16 ms with any 16 ms segment [`MIN_LAG_MS`]-[`MAX_LAG_MS`]
//! earlier. Steady sounds read 1.000 from their third frame on; on the shared dialogue stems
//! (clean, quiet, phone band, with ambience, overlapped) speech reaches [`STEADY`] (0.999) on at
//! most two frames in a row, and the bundled espeak voices never. Cost: 129 lags of a 64-sample
//! dot product per 16 ms frame, computed only when the detector's probability could make
//! speech.
//!
//! The same history gives the frame's *voicing* ([`Steadiness::voicing`]): pitch periodicity,
//! which tells a vowel (0.78-0.98) from a breath or noise (0.1-0.53) where the detector scores
//! them alike; the speech gate lets voiced frames start a phrase sooner.

use crate::units::dot;

/// Samples compared, at the level path's 4 kHz: 16 ms, one detector frame.
pub const FRAME: usize = 64;
/// Shortest lag searched, ms: more than a few periods of any voice.
pub const MIN_LAG_MS: f32 = 32.0;
/// Longest lag searched, ms: one period of anything above 31 Hz fits between the two.
pub const MAX_LAG_MS: f32 = 64.0;
/// Correlation at or above which a frame repeats an earlier one.
pub const STEADY: f32 = 0.999;
/// Window of the voicing measure, ms: two periods of an 80 Hz voice.
pub const VOICING_WINDOW_MS: f32 = 25.0;
/// Shortest pitch period searched for voicing, ms (400 Hz).
pub const MIN_PERIOD_MS: f32 = 2.5;
/// Longest pitch period searched for voicing, ms (80 Hz).
pub const MAX_PERIOD_MS: f32 = 12.5;
/// Below this energy (per sample, linear) a segment is silence and says nothing.
const SILENT_POWER: f32 = 1e-12;

/// The latest stretch of the key at 4 kHz and how self-similar it is.
#[derive(Debug, Clone)]
pub struct Steadiness {
    /// Double-written ring (`history[i]` and `history[i + len]`): the newest `len` samples are
    /// always one contiguous slice.
    history: Vec<f32>,
    len: usize,
    write: usize,
    min_lag: usize,
    max_lag: usize,
    voicing_window: usize,
    min_period: usize,
    max_period: usize,
}

impl Steadiness {
    /// For a key analysed at `rate_hz` (the level path's rate).
    pub fn new(rate_hz: f32) -> Self {
        let min_lag = (MIN_LAG_MS * 0.001 * rate_hz).round() as usize;
        let max_lag = (MAX_LAG_MS * 0.001 * rate_hz).round() as usize;
        let len = max_lag + FRAME;
        let samples = |ms: f32| (ms * 0.001 * rate_hz).round() as usize;
        Self {
            history: vec![0.0; 2 * len],
            len,
            write: 0,
            min_lag,
            max_lag,
            voicing_window: samples(VOICING_WINDOW_MS),
            min_period: samples(MIN_PERIOD_MS),
            max_period: samples(MAX_PERIOD_MS),
        }
    }

    /// One level-path sample.
    #[inline]
    pub fn push(&mut self, x: f32) {
        self.history[self.write] = x;
        self.history[self.write + self.len] = x;
        self.write += 1;
        if self.write == self.len {
            self.write = 0;
        }
    }

    /// The highest normalised correlation of the newest [`FRAME`] samples with a segment
    /// [`MIN_LAG_MS`]-[`MAX_LAG_MS`] earlier, 0..=1; `None` when the newest samples or the
    /// stretch at the shortest lag are silence (a sound younger than about 40 ms has nothing
    /// to be compared with yet).
    pub fn measure(&self) -> Option<f32> {
        let window = &self.history[self.write..self.write + self.len];
        let current = &window[self.len - FRAME..];
        let current_power = dot(current, current);
        let end = |lag: usize| self.len - lag;
        let seg = |lag: usize| &window[end(lag) - FRAME..end(lag)];
        let mut energy = dot(seg(self.min_lag), seg(self.min_lag));
        let silent = SILENT_POWER * FRAME as f32;
        if current_power < silent || energy < silent {
            return None;
        }
        // The energy of the segment at each lag, slid one sample further back per lag.
        let mut best = 0.0f32;
        for lag in self.min_lag..=self.max_lag {
            if lag > self.min_lag {
                let (entering, leaving) = (window[end(lag) - FRAME], window[end(lag)]);
                energy = (energy + entering * entering - leaving * leaving).max(0.0);
            }
            if energy < silent {
                continue;
            }
            let r = dot(current, seg(lag)) / (current_power * energy).sqrt();
            best = best.max(r);
        }
        Some(best.min(1.0))
    }

    /// Voicing: the highest correlation of the newest [`VOICING_WINDOW_MS`] with itself one
    /// pitch period earlier ([`MIN_PERIOD_MS`]-[`MAX_PERIOD_MS`], 80-400 Hz), normalised by the
    /// *mean* energy of the two windows, `2 x.y / (x.x + y.y)`, so a decaying ring (a thump's,
    /// a click's) scores low though it is periodic. About 0.9 in a vowel, below 0.5 in noise and
    /// breaths; 0 in silence.
    pub fn voicing(&self) -> f32 {
        let window = &self.history[self.write..self.write + self.len];
        let current = &window[self.len - self.voicing_window..];
        let current_power = dot(current, current);
        if current_power < SILENT_POWER * self.voicing_window as f32 {
            return 0.0;
        }
        let mut best = 0.0f32;
        for lag in self.min_period..=self.max_period {
            let end = self.len - lag;
            let earlier = &window[end - self.voicing_window..end];
            let power = current_power + dot(earlier, earlier);
            best = best.max(2.0 * dot(current, earlier) / power);
        }
        best.clamp(0.0, 1.0)
    }

    /// Back to silence.
    pub fn reset(&mut self) {
        self.history.fill(0.0);
        self.write = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: f32 = 4_000.0;

    fn after(signal: impl Fn(usize) -> f32, n: usize) -> Option<f32> {
        let mut s = Steadiness::new(RATE);
        for i in 0..n {
            s.push(signal(i));
        }
        s.measure()
    }

    #[test]
    fn steady_tones_and_hum_repeat_exactly() {
        let tau = std::f32::consts::TAU;
        for f in [100.0f32, 250.0, 437.0, 1_000.0, 1_870.0] {
            let r = after(|i| (tau * f * i as f32 / RATE).sin(), 400).unwrap();
            assert!(r >= STEADY, "{f} Hz: {r}");
        }
        let hum = |i: usize| {
            (1..16)
                .map(|k| (tau * 60.0 * k as f32 * i as f32 / RATE + k as f32).sin() / k as f32)
                .sum::<f32>()
        };
        assert!(after(hum, 400).unwrap() >= STEADY);
    }

    #[test]
    fn gliding_pitch_and_noise_do_not() {
        let tau = std::f32::consts::TAU;
        // A voice-like pitch moving 10 % in 100 ms.
        let mut phase = 0.0f32;
        let glide: Vec<f32> = (0..400)
            .map(|i| {
                phase += tau * 120.0 * (1.0 + i as f32 / 400.0 * 0.1) / RATE;
                phase.sin() + 0.5 * (2.0 * phase).sin()
            })
            .collect();
        assert!(after(|i| glide[i], 400).unwrap() < STEADY);
        let mut seed = 7u32;
        let noise: Vec<f32> = (0..400)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as f32 / u32::MAX as f32 - 0.5
            })
            .collect();
        assert!(after(|i| noise[i], 400).unwrap() < 0.7);
        // Silence, or a sound too young to compare with anything: nothing to say.
        assert_eq!(after(|_| 0.0, 400), None);
        assert_eq!(after(|i| if i > 360 { 0.5 } else { 0.0 }, 400), None);
    }
}
