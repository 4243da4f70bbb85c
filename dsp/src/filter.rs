//! Second-order IIR sections (RBJ cookbook designs, transposed direct form II).
//!
//! Used to band-limit the dialogue key to the speech band before level detection: rumble,
//! handling noise and hiss on a dialogue track carry energy but no intelligibility, so they
//! must not count towards "the key is loud".

use crate::units::flush_denormal;

/// One biquad section. Coefficients are normalised so `a0 == 1`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Biquad {
    b0: f32,
    b1: f32,
    b2: f32,
    a1: f32,
    a2: f32,
    s1: f32,
    s2: f32,
}

impl Biquad {
    /// Butterworth-Q (0.7071) high-pass at `cutoff_hz`.
    pub fn highpass(cutoff_hz: f32, sample_rate_hz: f32) -> Self {
        let (cos_w, alpha) = Self::prewarp(cutoff_hz, sample_rate_hz);
        let b0 = (1.0 + cos_w) / 2.0;
        Self::normalised(
            b0,
            -(1.0 + cos_w),
            b0,
            1.0 + alpha,
            -2.0 * cos_w,
            1.0 - alpha,
        )
    }

    /// Butterworth-Q (0.7071) low-pass at `cutoff_hz`.
    pub fn lowpass(cutoff_hz: f32, sample_rate_hz: f32) -> Self {
        let (cos_w, alpha) = Self::prewarp(cutoff_hz, sample_rate_hz);
        let b0 = (1.0 - cos_w) / 2.0;
        Self::normalised(b0, 1.0 - cos_w, b0, 1.0 + alpha, -2.0 * cos_w, 1.0 - alpha)
    }

    fn prewarp(cutoff_hz: f32, sample_rate_hz: f32) -> (f32, f32) {
        // Keep the cutoff below Nyquist whatever the host's sample rate.
        let cutoff_hz = cutoff_hz.clamp(1.0, 0.45 * sample_rate_hz);
        let w = 2.0 * std::f32::consts::PI * cutoff_hz / sample_rate_hz;
        (w.cos(), w.sin() / (2.0 * std::f32::consts::FRAC_1_SQRT_2))
    }

    fn normalised(b0: f32, b1: f32, b2: f32, a0: f32, a1: f32, a2: f32) -> Self {
        Self {
            b0: b0 / a0,
            b1: b1 / a0,
            b2: b2 / a0,
            a1: a1 / a0,
            a2: a2 / a0,
            s1: 0.0,
            s2: 0.0,
        }
    }

    /// Filters one sample.
    #[inline]
    pub fn process(&mut self, x: f32) -> f32 {
        let y = self.b0 * x + self.s1;
        self.s1 = self.b1 * x - self.a1 * y + self.s2;
        self.s2 = self.b2 * x - self.a2 * y;
        y
    }

    /// Flushes near-zero state (call once per block, not per sample).
    pub fn flush_denormals(&mut self) {
        self.s1 = flush_denormal(self.s1);
        self.s2 = flush_denormal(self.s2);
    }

    /// Clears the filter memory.
    pub fn reset(&mut self) {
        self.s1 = 0.0;
        self.s2 = 0.0;
    }

    /// Magnitude response at `freq_hz`, in linear gain (for tests and the editor).
    pub fn magnitude(&self, freq_hz: f32, sample_rate_hz: f32) -> f32 {
        let w = 2.0 * std::f64::consts::PI * freq_hz as f64 / sample_rate_hz as f64;
        let (c1, s1, c2, s2) = (w.cos(), w.sin(), (2.0 * w).cos(), (2.0 * w).sin());
        let (b0, b1, b2) = (self.b0 as f64, self.b1 as f64, self.b2 as f64);
        let (a1, a2) = (self.a1 as f64, self.a2 as f64);
        let num_re = b0 + b1 * c1 + b2 * c2;
        let num_im = -(b1 * s1 + b2 * s2);
        let den_re = 1.0 + a1 * c1 + a2 * c2;
        let den_im = -(a1 * s1 + a2 * s2);
        ((num_re * num_re + num_im * num_im) / (den_re * den_re + den_im * den_im)).sqrt() as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::gain_to_db;

    #[test]
    fn highpass_response() {
        let hp = Biquad::highpass(100.0, 48_000.0);
        assert!((gain_to_db(hp.magnitude(100.0, 48_000.0)) + 3.01).abs() < 0.1);
        assert!(gain_to_db(hp.magnitude(25.0, 48_000.0)) < -23.0);
        assert!(gain_to_db(hp.magnitude(1000.0, 48_000.0)).abs() < 0.1);
    }

    #[test]
    fn lowpass_response_and_stability_at_high_rates() {
        for sr in [44_100.0, 48_000.0, 96_000.0, 192_000.0] {
            let lp = Biquad::lowpass(5_000.0, sr);
            assert!(
                (gain_to_db(lp.magnitude(5_000.0, sr)) + 3.01).abs() < 0.1,
                "sr {sr}"
            );
            assert!(gain_to_db(lp.magnitude(500.0, sr)).abs() < 0.1);
        }
    }

    #[test]
    fn filtered_sine_matches_response() {
        let sr = 48_000.0;
        let mut hp = Biquad::highpass(100.0, sr);
        let n = 48_000;
        let mut sum = 0.0f64;
        for i in 0..n {
            let x = (2.0 * std::f32::consts::PI * 50.0 * i as f32 / sr).sin();
            let y = hp.process(x);
            if i >= n / 2 {
                sum += (y * y) as f64;
            }
        }
        let rms_db = 10.0 * (sum / (n / 2) as f64 * 2.0).log10();
        let expected = gain_to_db(hp.magnitude(50.0, sr)) as f64;
        assert!((rms_db - expected).abs() < 0.2, "{rms_db} vs {expected}");
    }
}
