//! Signal generators and level measurements for tests.
//!
//! Signals are `Vec<f32>` per channel; multichannel signals are `Vec<Vec<f32>>`
//! (channels x frames), the layout [`ClapInstance::process`](crate::ClapInstance::process)
//! and [`ClapInstance::render`](crate::ClapInstance::render) use.

use std::f64::consts::TAU;

/// The level, in dB, that [`db`], [`rms_db`] and [`peak_db`] report for silence
/// (instead of `-inf`, so differences of levels stay finite).
pub const DB_FLOOR: f64 = -240.0;

/// A sine of `freq_hz` with peak amplitude `amp`, `n` samples long at sample rate `sr`,
/// starting at phase 0.
pub fn sine(freq_hz: f64, amp: f64, sr: f64, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (amp * (TAU * freq_hz * i as f64 / sr).sin()) as f32)
        .collect()
}

/// Tiny deterministic xorshift64 generator for test signals, block sizes and event times
/// (the same seed always gives the same sequence; no extra dependency).
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (any value, zero included).
    pub fn new(seed: u64) -> Self {
        let state = seed ^ 0x9E37_79B9_7F4A_7C15;
        Self(if state == 0 { 1 } else { state })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    /// Uniform in `[0, 1)` (53 random bits).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Deterministic white noise, uniform in `[-amp, amp)`, seeded with `seed` (the same seed
/// always gives the same samples).
pub fn noise(amp: f64, n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| (amp * (2.0 * rng.unit() - 1.0)) as f32)
        .collect()
}

/// `n` zero samples.
pub fn silence(n: usize) -> Vec<f32> {
    vec![0.0; n]
}

/// The same mono signal on `channels` channels.
pub fn multichannel(signal: &[f32], channels: usize) -> Vec<Vec<f32>> {
    vec![signal.to_vec(); channels]
}

/// The same mono signal on two channels.
pub fn stereo(signal: &[f32]) -> Vec<Vec<f32>> {
    multichannel(signal, 2)
}

/// Linear gain to decibels: `20 * log10(x)`, floored at [`DB_FLOOR`] for `x <= 0`.
pub fn db(x: f64) -> f64 {
    if x > 0.0 {
        (20.0 * x.log10()).max(DB_FLOOR)
    } else {
        DB_FLOOR
    }
}

/// Decibels to linear gain: `10^(db / 20)`.
pub fn db_to_gain(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// Root mean square of a slice (0 for an empty slice).
pub fn rms(x: &[f32]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    let sum: f64 = x.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / x.len() as f64).sqrt()
}

/// RMS level of a slice in dBFS (a full-scale sine reads about -3.01 dB);
/// [`DB_FLOOR`] for silence.
pub fn rms_db(x: &[f32]) -> f64 {
    db(rms(x))
}

/// Largest absolute sample value.
pub fn peak(x: &[f32]) -> f64 {
    x.iter().fold(0.0f64, |m, &s| m.max(f64::from(s).abs()))
}

/// Peak level of a slice in dBFS; [`DB_FLOOR`] for silence.
pub fn peak_db(x: &[f32]) -> f64 {
    db(peak(x))
}

/// True if every sample of every channel is finite (no NaN or infinity).
pub fn all_finite(channels: &[Vec<f32>]) -> bool {
    channels.iter().all(|c| c.iter().all(|s| s.is_finite()))
}

/// The frames `start..end` of every channel (clamped to the channels' length).
pub fn slice_frames(channels: &[Vec<f32>], start: usize, end: usize) -> Vec<Vec<f32>> {
    channels
        .iter()
        .map(|c| {
            let e = end.min(c.len());
            c[start.min(e)..e].to_vec()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_scale_sine_is_minus_3_db_rms() {
        let s = sine(1000.0, 1.0, 48_000.0, 48_000);
        assert!((rms_db(&s) + 3.0103).abs() < 0.01);
        assert!((peak_db(&s)).abs() < 0.01);
    }

    #[test]
    fn db_roundtrip_and_floor() {
        assert!((db(db_to_gain(-12.0)) + 12.0).abs() < 1e-9);
        assert_eq!(db(0.0), DB_FLOOR);
        assert_eq!(rms_db(&silence(10)), DB_FLOOR);
    }

    #[test]
    fn noise_is_deterministic_and_bounded() {
        let a = noise(0.5, 1000, 7);
        assert_eq!(a, noise(0.5, 1000, 7));
        assert_ne!(a, noise(0.5, 1000, 8));
        assert!(peak(&a) <= 0.5);
        // uniform noise: rms = amp / sqrt(3)
        assert!((rms(&a) - 0.5 / 3f64.sqrt()).abs() < 0.02);
    }
}
