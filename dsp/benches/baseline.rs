//! The baseline for speed comparisons: a plain level-keyed sidechain compressor of the kind
//! every DAW ships (stereo-linked peak detector with one-pole attack/release, per-sample dB gain
//! computer, no lookahead). Used only by the benchmarks.

pub struct PlainSidechainCompressor {
    envelope: f32,
    attack_coeff: f32,
    release_coeff: f32,
    threshold_db: f32,
    ratio: f32,
}

impl PlainSidechainCompressor {
    pub fn new(sample_rate_hz: f32) -> Self {
        let coeff = |ms: f32| 1.0 - (-1.0 / (ms * 0.001 * sample_rate_hz)).exp();
        Self {
            envelope: 0.0,
            attack_coeff: coeff(10.0),
            release_coeff: coeff(300.0),
            threshold_db: -40.0,
            ratio: 4.0,
        }
    }

    pub fn process_block(&mut self, bed: &mut [&mut [f32]], key: &[&[f32]]) {
        let n = bed[0].len();
        for i in 0..n {
            let k = key.iter().map(|c| c[i].abs()).fold(0.0f32, f32::max);
            let coeff = if k > self.envelope {
                self.attack_coeff
            } else {
                self.release_coeff
            };
            self.envelope += coeff * (k - self.envelope);
            let level_db = 20.0 * self.envelope.max(1e-9).log10();
            let over_db = (level_db - self.threshold_db).max(0.0);
            let gain = 10f32.powf(-over_db * (1.0 - 1.0 / self.ratio) / 20.0);
            for ch in bed.iter_mut() {
                ch[i] *= gain;
            }
        }
    }
}
