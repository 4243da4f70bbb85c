//! Integer-factor decimation with a triangular (second-order boxcar) anti-alias filter.
//!
//! The key only needs to be *analysed*, never heard, so it is brought down to the rate the
//! analysis needs (about 4 kHz: the voice's pitch, first formant and most of its energy) as
//! cheaply as possible: two multiply-adds per input sample. The triangle's response is sinc², whose
//! sidelobes (-26 dB) keep aliased sibilance out of the pitch band well enough for detection.

use crate::units::dot;

/// Decimates by `factor`, emitting one output per `factor` inputs.
#[derive(Debug, Clone)]
pub struct Decimator {
    factor: usize,
    pos: usize,
    rise: f32,
    fall: f32,
    prev_rise: f32,
    scale: f32,
    /// Rising weights 1..=M and falling weights M-1..=0 of one group, for whole-group work.
    rise_weights: Vec<f32>,
    fall_weights: Vec<f32>,
}

impl Decimator {
    /// A decimator by `factor` (1 = pass-through).
    pub fn new(factor: usize) -> Self {
        let factor = factor.max(1);
        Self {
            factor,
            pos: 0,
            rise: 0.0,
            fall: 0.0,
            prev_rise: 0.0,
            scale: 1.0 / (factor * factor) as f32,
            rise_weights: (0..factor).map(|p| (p + 1) as f32).collect(),
            fall_weights: (0..factor).map(|p| (factor - 1 - p) as f32).collect(),
        }
    }

    /// The decimation factor.
    pub fn factor(&self) -> usize {
        self.factor
    }

    /// Feeds one input sample; returns an output sample every `factor` inputs.
    ///
    /// Output `b` weights block `b-1` rising (1..M) and block `b` falling (M-1..0): a triangle of
    /// length 2M with unit DC gain.
    #[inline]
    pub fn push(&mut self, x: f32) -> Option<f32> {
        if self.factor == 1 {
            return Some(x);
        }
        let p = self.pos as f32;
        self.rise += x * (p + 1.0);
        self.fall += x * (self.factor as f32 - 1.0 - p);
        self.pos += 1;
        if self.pos == self.factor {
            let y = (self.prev_rise + self.fall) * self.scale;
            self.prev_rise = self.rise;
            self.rise = 0.0;
            self.fall = 0.0;
            self.pos = 0;
            Some(y)
        } else {
            None
        }
    }

    /// Decimates a whole slice, writing one output per completed group of `factor` inputs into
    /// `out` (which must hold `input.len() / factor + 1` values); returns how many were written.
    /// Same result as [`Decimator::push`] per sample, but whole groups run without branches.
    pub fn process(&mut self, input: &[f32], out: &mut [f32]) -> usize {
        let m = self.factor;
        let mut written = 0;
        let mut i = 0;
        // Finish a group left open by the previous call.
        while self.pos != 0 && i < input.len() {
            if let Some(y) = self.push(input[i]) {
                out[written] = y;
                written += 1;
            }
            i += 1;
        }
        if m > 1 {
            let groups = input[i..].chunks_exact(m);
            let rest = groups.remainder();
            for group in groups {
                let rise = dot(group, &self.rise_weights);
                let fall = dot(group, &self.fall_weights);
                out[written] = (self.prev_rise + fall) * self.scale;
                written += 1;
                self.prev_rise = rise;
            }
            for &x in rest {
                if let Some(y) = self.push(x) {
                    out[written] = y;
                    written += 1;
                }
            }
        } else {
            for &x in &input[i..] {
                out[written] = x;
                written += 1;
            }
        }
        written
    }

    /// Clears the filter memory.
    pub fn reset(&mut self) {
        self.pos = 0;
        self.rise = 0.0;
        self.fall = 0.0;
        self.prev_rise = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decimated_gain_db(freq_hz: f32, sr: f32, factor: usize) -> f32 {
        let mut d = Decimator::new(factor);
        let n = 48_000;
        let out: Vec<f32> = (0..n)
            .filter_map(|i| d.push((2.0 * std::f32::consts::PI * freq_hz * i as f32 / sr).sin()))
            .collect();
        let tail = &out[out.len() / 2..];
        let p: f32 = tail.iter().map(|v| v * v).sum::<f32>() / tail.len() as f32;
        10.0 * (2.0 * p).log10()
    }

    #[test]
    fn dc_gain_is_unity() {
        let mut d = Decimator::new(4);
        let out: Vec<f32> = (0..40).filter_map(|_| d.push(1.0)).collect();
        assert_eq!(out.len(), 10);
        assert!((out[9] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn slice_processing_matches_per_sample() {
        let input: Vec<f32> = (0..1_000)
            .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
            .collect();
        for factor in [1, 3, 4, 12] {
            let mut a = Decimator::new(factor);
            let expected: Vec<f32> = input.iter().filter_map(|&x| a.push(x)).collect();
            let mut b = Decimator::new(factor);
            let mut got = Vec::new();
            let mut out = vec![0.0; 1_000];
            let mut start = 0;
            for len in [1usize, 2, 5, 64, 200, 728] {
                let n = b.process(&input[start..start + len], &mut out);
                got.extend_from_slice(&out[..n]);
                start += len;
            }
            assert_eq!(got.len(), expected.len());
            for (g, e) in got.iter().zip(&expected) {
                assert!((g - e).abs() < 1e-5, "factor {factor}");
            }
        }
    }

    #[test]
    fn passband_kept_and_aliases_suppressed() {
        // 48 kHz / 12 = 4 kHz: 200 Hz passes, 7.8 kHz (would alias to 200 Hz) is cut by > 20 dB.
        assert!(decimated_gain_db(200.0, 48_000.0, 12).abs() < 0.5);
        assert!(decimated_gain_db(7_800.0, 48_000.0, 12) < -20.0);
    }
}
