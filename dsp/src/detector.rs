//! Key level detector: how loud is the dialogue key, in the speech band, right now?
//!
//! The key is downmixed to mono, band-limited to the speech band (high-pass 100 Hz removes
//! rumble, pops and handling noise; low-pass 6 kHz removes hiss and sibilant spikes that carry
//! little loudness), squared and averaged over one control tick, then smoothed with a short
//! symmetric time constant: an unbiased RMS that still registers an onset within a few ms. The result is an RMS level in dBFS (a full-scale sine reads
//! -3 dBFS).

use crate::filter::Biquad;
use crate::units::{power_to_db, sanitize};

/// Lower edge of the speech band used for key detection, in Hz.
pub const KEY_HIGHPASS_HZ: f32 = 100.0;
/// Upper edge of the speech band used for key detection, in Hz.
pub const KEY_LOWPASS_HZ: f32 = 6_000.0;
/// Time constant of the mean-square average, in ms. Symmetric, so a steady tone reads its true
/// RMS; short, so a key 20 dB over threshold crosses it within 0.1 ms of its onset.
pub const LEVEL_SMOOTHING_MS: f32 = 5.0;
/// Largest key sample magnitude accepted (+60 dBFS). Larger values (a corrupt stream) are
/// clamped so their squares cannot overflow `f32`.
const KEY_LIMIT: f32 = 1_000.0;

/// Which key channels feed the detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDownmix {
    /// Mean of all key channels (mono or stereo dialogue).
    Average,
    /// One channel only (the centre of a 5.1 dialogue stem).
    Channel(usize),
}

/// Speech-band RMS detector, run once per control tick.
#[derive(Debug, Clone)]
pub struct LevelDetector {
    highpass: Biquad,
    lowpass: Biquad,
    power: f32,
    smoothing_coeff: f32,
    downmix: KeyDownmix,
    tick_sum_sq: f32,
    tick_len: usize,
}

impl LevelDetector {
    /// A detector for `sample_rate_hz`, whose `process_tick` calls cover `tick_samples` samples.
    pub fn new(sample_rate_hz: f32, tick_samples: usize) -> Self {
        let tick_s = tick_samples as f32 / sample_rate_hz;
        Self {
            highpass: Biquad::highpass(KEY_HIGHPASS_HZ, sample_rate_hz),
            lowpass: Biquad::lowpass(KEY_LOWPASS_HZ, sample_rate_hz),
            power: 0.0,
            smoothing_coeff: one_pole_coeff(LEVEL_SMOOTHING_MS, tick_s),
            downmix: KeyDownmix::Average,
            tick_sum_sq: 0.0,
            tick_len: 0,
        }
    }

    /// Chooses which key channels are analysed.
    pub fn set_downmix(&mut self, downmix: KeyDownmix) {
        self.downmix = downmix;
    }

    /// Adds `key[ch][start..start+len]` (any channel count, none = silence) to the current
    /// tick. A tick may arrive in pieces when host blocks do not line up with ticks.
    pub fn accumulate<K: AsRef<[f32]>>(&mut self, key: &[K], start: usize, len: usize) {
        let mut sum_sq = 0.0f32;
        match (self.downmix, key.len()) {
            (_, 0) => {}
            (KeyDownmix::Channel(ch), n) if ch < n => {
                for &x in &key[ch].as_ref()[start..start + len] {
                    sum_sq += self.filter(sanitize(x, KEY_LIMIT));
                }
            }
            (_, 1) => {
                for &x in &key[0].as_ref()[start..start + len] {
                    sum_sq += self.filter(sanitize(x, KEY_LIMIT));
                }
            }
            (_, n) => {
                let scale = 1.0 / n as f32;
                for i in start..start + len {
                    let mono: f32 = key
                        .iter()
                        .map(|ch| sanitize(ch.as_ref()[i], KEY_LIMIT))
                        .sum();
                    sum_sq += self.filter(mono * scale);
                }
            }
        }
        self.tick_sum_sq += sum_sq;
        self.tick_len += len;
    }

    /// Closes the tick: returns the smoothed speech-band level in dBFS.
    pub fn finish_tick(&mut self) -> f32 {
        self.highpass.flush_denormals();
        self.lowpass.flush_denormals();
        let tick_power = if self.tick_len > 0 {
            self.tick_sum_sq / self.tick_len as f32
        } else {
            0.0
        };
        self.tick_sum_sq = 0.0;
        self.tick_len = 0;
        self.power += self.smoothing_coeff * (tick_power - self.power);
        if self.power < 1e-30 {
            self.power = 0.0;
        }
        power_to_db(self.power)
    }

    /// `accumulate` + `finish_tick` for a whole tick at once.
    pub fn process_tick<K: AsRef<[f32]>>(&mut self, key: &[K], start: usize, len: usize) -> f32 {
        self.accumulate(key, start, len);
        self.finish_tick()
    }

    #[inline]
    fn filter(&mut self, x: f32) -> f32 {
        let y = self.lowpass.process(self.highpass.process(x));
        y * y
    }

    /// Clears filter and level memory.
    pub fn reset(&mut self) {
        self.highpass.reset();
        self.lowpass.reset();
        self.power = 0.0;
        self.tick_sum_sq = 0.0;
        self.tick_len = 0;
    }
}

/// One-pole smoothing coefficient for a time constant `tau_ms`, updated every `step_s` seconds.
pub fn one_pole_coeff(tau_ms: f32, step_s: f32) -> f32 {
    if tau_ms <= 0.0 {
        1.0
    } else {
        1.0 - (-step_s / (tau_ms * 0.001)).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(det: &mut LevelDetector, signal: &[f32], tick: usize) -> Vec<f32> {
        signal
            .chunks(tick)
            .map(|c| det.process_tick(&[c], 0, c.len()))
            .collect()
    }

    fn sine(freq_hz: f32, amp: f32, sr: f32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| amp * (2.0 * std::f32::consts::PI * freq_hz * i as f32 / sr).sin())
            .collect()
    }

    #[test]
    fn steady_sine_reads_its_rms() {
        let mut det = LevelDetector::new(48_000.0, 16);
        let levels = run(&mut det, &sine(1_000.0, 0.1, 48_000.0, 48_000), 16);
        let last = levels[levels.len() - 1];
        // 0.1 peak = -20 dBFS peak = -23.01 dBFS RMS.
        assert!((last + 23.01).abs() < 0.5, "{last}");
    }

    #[test]
    fn rumble_and_hiss_are_rejected() {
        let mut det = LevelDetector::new(48_000.0, 16);
        let rumble = run(&mut det, &sine(30.0, 0.1, 48_000.0, 48_000), 16);
        assert!(*rumble.last().unwrap() < -40.0);
    }

    #[test]
    fn onset_registers_within_5_ms() {
        let sr = 48_000.0;
        let mut det = LevelDetector::new(sr, 16);
        let mut sig = vec![0.0; 4_800];
        sig.extend(sine(500.0, 0.1, sr, 4_800));
        let levels = run(&mut det, &sig, 16);
        // 5 ms after the onset (tick 300 + 15) the level is within 3 dB of its final value.
        assert!(levels[300 + 15] > -26.5, "{}", levels[315]);
    }

    #[test]
    fn stereo_and_channel_downmix() {
        let sr = 48_000.0;
        let left = sine(1_000.0, 0.1, sr, 9_600);
        let silent = vec![0.0; 9_600];
        let mut avg = LevelDetector::new(sr, 16);
        let mut centre = LevelDetector::new(sr, 16);
        centre.set_downmix(KeyDownmix::Channel(1));
        let mut last_avg = 0.0;
        let mut last_centre = 0.0;
        for start in (0..9_600).step_by(16) {
            last_avg = avg.process_tick(&[&left, &silent], start, 16);
            last_centre = centre.process_tick(&[&left, &silent], start, 16);
        }
        assert!((last_avg + 29.03).abs() < 0.5, "{last_avg}"); // half amplitude: -6 dB
        assert!(last_centre < -100.0);
    }

    #[test]
    fn bad_samples_do_not_poison_state() {
        let mut det = LevelDetector::new(48_000.0, 16);
        let bad = [
            f32::NAN,
            f32::INFINITY,
            1e30,
            -1e30,
            f32::MIN_POSITIVE / 2.0,
        ];
        let bad: Vec<f32> = bad.iter().cycle().take(64).copied().collect();
        run(&mut det, &bad, 16);
        let levels = run(&mut det, &vec![0.0; 48_000], 16);
        assert!(levels.iter().all(|l| l.is_finite()));
        assert!(*levels.last().unwrap() < -100.0);
    }
}
