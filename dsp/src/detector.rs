//! Key analysis: how loud is the dialogue key, in the speech band, and is it voiced?
//!
//! The key is downmixed to mono and decimated to about 4 kHz with a triangular anti-alias
//! filter (the key is analysed, never heard, so everything after the downmix runs at a twelfth
//! of the host rate). Level: high-passed at 100 Hz (rumble, pops and handling noise carry
//! energy but no intelligibility; the decimation limits the top to about 2 kHz, where the
//! voice's fundamental, first formant and most of its energy lie), squared and averaged over
//! one control tick, then smoothed with a short symmetric time constant: an unbiased RMS that
//! still registers an onset within a few ms. A full-scale sine reads -3 dBFS. Voicing: the same
//! 4 kHz signal feeds the [`VoicingAnalyser`].

use crate::decimate::Decimator;
use crate::filter::Biquad;
use crate::speech::{VoicingAnalyser, VoicingFrame};
use crate::units::power_to_db;

/// Rate the key is analysed at, Hz (approximately: the host rate over a whole factor). The
/// 100-2000 Hz band it keeps holds the voice's fundamental, first formant and most of its
/// energy; hiss and sibilance above it never count as "loud dialogue".
pub const ANALYSIS_RATE_HZ: f32 = 4_000.0;
/// Host-rate samples downmixed per piece (the scratch buffers' size; any block length works).
const SCRATCH_SAMPLES: usize = 256;

/// Lower edge of the speech band used for key detection, in Hz.
pub const KEY_HIGHPASS_HZ: f32 = 100.0;
/// Time constant of the mean-square average, in ms. Symmetric, so a steady tone reads its true
/// RMS; short, so a key 20 dB over threshold crosses it within 0.1 ms of its onset.
pub const LEVEL_SMOOTHING_MS: f32 = 5.0;
/// Largest key sample magnitude taken as audio (+60 dBFS). Anything beyond (1e30 from a corrupt
/// stream), NaN and Inf are not a loud key but no key: they read as silence, so a corrupt block
/// can neither duck the bed nor overflow the level.
const KEY_LIMIT: f32 = 1_000.0;

/// A decimated key sample, or silence when it is not audio (see [`KEY_LIMIT`]).
#[inline]
fn key_sample(x: f32) -> f32 {
    if x.abs() <= KEY_LIMIT { x } else { 0.0 }
}

/// Which key channels feed the detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDownmix {
    /// Mean of all key channels (mono or stereo dialogue).
    Average,
    /// One channel only (the centre of a 5.1 dialogue stem).
    Channel(usize),
}

/// What the key analysis found in one control tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyTick {
    /// Smoothed speech-band mean square (linear power; see [`KeyTick::level_db`]).
    pub power: f32,
    /// A voicing frame, when one completed during the tick.
    pub voicing: Option<VoicingFrame>,
}

impl KeyTick {
    /// Smoothed speech-band level, dBFS.
    pub fn level_db(&self) -> f32 {
        power_to_db(self.power)
    }
}

/// Decimation factor from `sample_rate_hz` to the analysis rate (12 at 48 kHz, 11 at 44.1).
pub fn analysis_decimation(sample_rate_hz: f32) -> usize {
    ((sample_rate_hz / ANALYSIS_RATE_HZ).round() as usize).max(1)
}

/// Speech-band RMS and voicing of the key, run once per control tick.
#[derive(Debug, Clone)]
pub struct KeyAnalyser {
    decimator: Decimator,
    voicing: VoicingAnalyser,
    pending_frame: Option<VoicingFrame>,
    /// Scratch: the mono key of the current piece, host rate.
    mono: Vec<f32>,
    /// Scratch: its decimated samples.
    decimated: Vec<f32>,
    highpass: Biquad,
    power: f32,
    smoothing_coeff: f32,
    downmix: KeyDownmix,
    tick_sum_sq: f32,
    tick_len: usize,
}

impl KeyAnalyser {
    /// An analyser for `sample_rate_hz`, whose ticks cover `tick_samples` host samples (a
    /// multiple of [`analysis_decimation`]).
    pub fn new(sample_rate_hz: f32, tick_samples: usize) -> Self {
        let tick_s = tick_samples as f32 / sample_rate_hz;
        let factor = analysis_decimation(sample_rate_hz);
        let rate_hz = sample_rate_hz / factor as f32;
        Self {
            decimator: Decimator::new(factor),
            voicing: VoicingAnalyser::new(rate_hz),
            pending_frame: None,
            mono: vec![0.0; SCRATCH_SAMPLES],
            decimated: vec![0.0; SCRATCH_SAMPLES / factor + 1],
            highpass: Biquad::highpass(KEY_HIGHPASS_HZ, rate_hz),
            power: 0.0,
            smoothing_coeff: one_pole_coeff(LEVEL_SMOOTHING_MS, tick_s),
            downmix: KeyDownmix::Average,
            tick_sum_sq: 0.0,
            tick_len: 0,
        }
    }

    /// Turns the voicing search on or off (see [`VoicingAnalyser::set_enabled`]).
    pub fn set_voicing_enabled(&mut self, enabled: bool) {
        self.voicing.set_enabled(enabled);
    }

    /// Analyses voicing only every `stride`-th hop (see [`VoicingAnalyser::set_stride`]).
    pub fn set_voicing_stride(&mut self, stride: u32) {
        self.voicing.set_stride(stride);
    }

    /// Chooses which key channels are analysed.
    pub fn set_downmix(&mut self, downmix: KeyDownmix) {
        self.downmix = downmix;
    }

    /// Adds `key[ch][start..start+len]` (any channel count, none = silence) to the current
    /// tick. A tick may arrive in pieces when host blocks do not line up with ticks.
    pub fn accumulate<K: AsRef<[f32]>>(&mut self, key: &[K], start: usize, len: usize) {
        // Work through the range in pieces that fit the scratch buffers.
        let mut done = 0;
        while done < len {
            let n = (len - done).min(self.mono.len());
            self.downmix_into_scratch(key, start + done, n);
            let count = self.decimator.process(&self.mono[..n], &mut self.decimated);
            for k in 0..count {
                self.analyse_decimated(self.decimated[k]);
            }
            done += n;
        }
    }

    /// Writes the mono key for `start..start+n` into the scratch buffer.
    fn downmix_into_scratch<K: AsRef<[f32]>>(&mut self, key: &[K], start: usize, n: usize) {
        let mono = &mut self.mono[..n];
        match (self.downmix, key.len()) {
            (_, 0) => mono.fill(0.0),
            (KeyDownmix::Channel(ch), c) if ch < c => {
                mono.copy_from_slice(&key[ch].as_ref()[start..start + n])
            }
            (_, 1) => mono.copy_from_slice(&key[0].as_ref()[start..start + n]),
            (_, 2) => {
                let (l, r) = (
                    &key[0].as_ref()[start..start + n],
                    &key[1].as_ref()[start..start + n],
                );
                for ((m, &a), &b) in mono.iter_mut().zip(l).zip(r) {
                    *m = 0.5 * (a + b);
                }
            }
            (_, c) => {
                let scale = 1.0 / c as f32;
                mono.fill(0.0);
                for ch in key {
                    for (m, &x) in mono.iter_mut().zip(&ch.as_ref()[start..start + n]) {
                        *m += x * scale;
                    }
                }
            }
        }
    }

    /// One decimated key sample in. Bad values (NaN, Inf, absurd levels) are cleaned here, at a
    /// fraction of the host rate: the decimator flushes them out within two outputs. (`NaN.abs()
    /// <= KEY_LIMIT` is false, so NaN becomes silence too.)
    #[inline]
    fn analyse_decimated(&mut self, y: f32) {
        let y = key_sample(y);
        let band = self.highpass.process(y);
        self.tick_sum_sq += band * band;
        self.tick_len += 1;
        if let Some(frame) = self.voicing.push(y) {
            self.pending_frame = Some(frame);
        }
    }

    /// Closes the tick: the smoothed speech-band level and any voicing frame completed.
    pub fn finish_tick(&mut self) -> KeyTick {
        self.highpass.flush_denormals();
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
        KeyTick {
            power: self.power,
            voicing: self.pending_frame.take(),
        }
    }

    /// `accumulate` + `finish_tick` for a whole tick at once.
    pub fn process_tick<K: AsRef<[f32]>>(
        &mut self,
        key: &[K],
        start: usize,
        len: usize,
    ) -> KeyTick {
        self.accumulate(key, start, len);
        self.finish_tick()
    }

    /// Clears filter and level memory.
    pub fn reset(&mut self) {
        self.highpass.reset();
        self.power = 0.0;
        self.tick_sum_sq = 0.0;
        self.tick_len = 0;
        self.decimator.reset();
        self.voicing.reset();
        self.pending_frame = None;
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

    fn run(det: &mut KeyAnalyser, signal: &[f32], tick: usize) -> Vec<f32> {
        signal
            .chunks(tick)
            .map(|c| det.process_tick(&[c], 0, c.len()).level_db())
            .collect()
    }

    fn sine(freq_hz: f32, amp: f32, sr: f32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| amp * (2.0 * std::f32::consts::PI * freq_hz * i as f32 / sr).sin())
            .collect()
    }

    #[test]
    fn steady_sine_reads_its_rms() {
        let mut det = KeyAnalyser::new(48_000.0, 15);
        let levels = run(&mut det, &sine(400.0, 0.1, 48_000.0, 48_000), 48);
        let last = levels[levels.len() - 1];
        // 0.1 peak = -20 dBFS peak = -23.01 dBFS RMS (400 Hz: 0.3 dB decimation droop).
        assert!((last + 23.01).abs() < 0.5, "{last}");
    }

    #[test]
    fn rumble_and_hiss_are_rejected() {
        let mut det = KeyAnalyser::new(48_000.0, 15);
        let rumble = run(&mut det, &sine(30.0, 0.1, 48_000.0, 48_000), 15);
        assert!(*rumble.last().unwrap() < -40.0);
        // -23 dBFS RMS of 12 kHz hiss reads at least 18 dB lower (decimation filter).
        let mut det = KeyAnalyser::new(48_000.0, 15);
        let hiss = run(&mut det, &sine(12_000.0, 0.1, 48_000.0, 48_000), 15);
        assert!(*hiss.last().unwrap() < -41.0, "{}", hiss.last().unwrap());
    }

    #[test]
    fn onset_registers_within_5_ms() {
        let sr = 48_000.0;
        let mut det = KeyAnalyser::new(sr, 15);
        let mut sig = vec![0.0; 4_800];
        sig.extend(sine(500.0, 0.1, sr, 4_800));
        let levels = run(&mut det, &sig, 15);
        // 5 ms after the onset (tick 320 + 16) the level is within 3 dB of its final value.
        assert!(levels[320 + 16] > -26.5, "{}", levels[336]);
    }

    #[test]
    fn stereo_and_channel_downmix() {
        let sr = 48_000.0;
        let left = sine(400.0, 0.1, sr, 9_600);
        let silent = vec![0.0; 9_600];
        let mut avg = KeyAnalyser::new(sr, 15);
        let mut centre = KeyAnalyser::new(sr, 15);
        centre.set_downmix(KeyDownmix::Channel(1));
        let mut last_avg = 0.0;
        let mut last_centre = 0.0;
        for start in (0..9_600).step_by(15) {
            last_avg = avg.process_tick(&[&left, &silent], start, 15).level_db();
            last_centre = centre.process_tick(&[&left, &silent], start, 15).level_db();
        }
        assert!((last_avg + 29.03).abs() < 0.5, "{last_avg}"); // half amplitude: -6 dB
        assert!(last_centre < -100.0);
    }

    #[test]
    fn bad_samples_do_not_poison_state() {
        let mut det = KeyAnalyser::new(48_000.0, 15);
        let bad = [
            f32::NAN,
            f32::INFINITY,
            1e30,
            -1e30,
            f32::MIN_POSITIVE / 2.0,
        ];
        let bad: Vec<f32> = bad.iter().cycle().take(64).copied().collect();
        run(&mut det, &bad, 15);
        let levels = run(&mut det, &vec![0.0; 48_000], 15);
        assert!(levels.iter().all(|l| l.is_finite()));
        assert!(*levels.last().unwrap() < -100.0);
    }
}
