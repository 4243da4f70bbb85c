//! Key analysis: how loud is the dialogue key in the speech band, and how likely is it speech?
//!
//! The key is downmixed to mono and resampled to 16 kHz ([`Resampler`]), which both analyses
//! share (the key is analysed, never heard). Speech probability: the 16 kHz key feeds
//! [`SpeechProbability`] (one detector frame per 16 ms). Level: the 16 kHz key decimated by 4 to
//! 4 kHz with a triangular anti-alias filter, high-passed at 100 Hz (rumble, pops and handling
//! noise carry energy but no intelligibility; the decimation limits the top to about 2 kHz,
//! where the voice's fundamental, first formant and most of its energy lie), squared and
//! averaged over one control tick, then smoothed with a short symmetric time constant: an
//! unbiased RMS that still registers an onset within a few ms. A full-scale sine reads -3 dBFS.
//! Working from 16 kHz makes the level path a third of the work it was at the host rate, and
//! the same at every host rate.

use crate::decimate::Decimator;
use crate::filter::Biquad;
use crate::resample::{OUTPUT_RATE_HZ, Resampler};
use crate::steady::Steadiness;
use crate::units::power_to_db;
use crate::vad::SpeechProbability;

/// Rate the key level is analysed at, Hz (the 16 kHz key decimated by [`LEVEL_DECIMATION`]).
/// The 100-2000 Hz band it keeps holds the voice's fundamental, first formant and most of its
/// energy; hiss and sibilance above it never count as "loud dialogue".
pub const ANALYSIS_RATE_HZ: f32 = 4_000.0;
/// Decimation from the 16 kHz key to the level's analysis rate.
pub const LEVEL_DECIMATION: usize = 4;
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
    /// The detector's frame, when one completed during the tick.
    pub frame: Option<SpeechFrame>,
}

/// What one 16 ms detector frame found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeechFrame {
    /// The voice detector's speech probability, 0..=1.
    pub probability: f32,
    /// How exactly the key repeats itself ([`Steadiness::measure`]), when there is enough of it
    /// to tell and the probability could make speech (see [`STEADINESS_FROM_PROBABILITY`]).
    pub steadiness: Option<f32>,
    /// Pitch periodicity of the latest 25 ms ([`Steadiness::voicing`]), 0..=1, measured when
    /// the probability could make speech (else 0).
    pub voicing: f32,
}

/// Steadiness is measured only for frames whose probability reaches this: below it no
/// Sensitivity can make speech of them, so the measurement would be wasted.
pub const STEADINESS_FROM_PROBABILITY: f32 = 0.1;

impl KeyTick {
    /// Smoothed speech-band level, dBFS.
    pub fn level_db(&self) -> f32 {
        power_to_db(self.power)
    }
}

/// Host samples per analysis-rate sample, rounded (12 at 48 kHz, 11 at 44.1): the control tick is
/// a whole number of them.
pub fn analysis_decimation(sample_rate_hz: f32) -> usize {
    ((sample_rate_hz / ANALYSIS_RATE_HZ).round() as usize).max(1)
}

/// Speech-band RMS and speech probability of the key, run once per control tick.
#[derive(Debug)]
pub struct KeyAnalyser {
    resampler: Resampler,
    decimator: Decimator,
    speech: SpeechProbability,
    steadiness: Steadiness,
    /// A frame completed in the current tick.
    pending_frame: Option<SpeechFrame>,
    /// Scratch: the mono key of the current piece, host rate.
    mono: Vec<f32>,
    /// Scratch: the piece at 16 kHz.
    key16: Vec<f32>,
    /// Scratch: the piece at the level's analysis rate.
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
        let resampler = Resampler::new(sample_rate_hz);
        let key_rate_hz = resampler.output_rate_hz(sample_rate_hz);
        let resampler_outputs = resampler.max_outputs(SCRATCH_SAMPLES);
        let rate_hz = key_rate_hz / LEVEL_DECIMATION as f32;
        debug_assert!((key_rate_hz / OUTPUT_RATE_HZ as f32 - 1.0).abs() < 0.01);
        Self {
            resampler,
            decimator: Decimator::new(LEVEL_DECIMATION),
            speech: SpeechProbability::new(),
            steadiness: Steadiness::new(rate_hz),
            pending_frame: None,
            mono: vec![0.0; SCRATCH_SAMPLES],
            key16: vec![0.0; resampler_outputs],
            decimated: vec![0.0; resampler_outputs / LEVEL_DECIMATION + 1],
            highpass: Biquad::highpass(KEY_HIGHPASS_HZ, rate_hz),
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
        // Work through the range in pieces that fit the scratch buffers.
        let mut done = 0;
        while done < len {
            let n = (len - done).min(self.mono.len());
            self.downmix_into_scratch(key, start + done, n);
            let m = self
                .resampler
                .process_into(&self.mono[..n], &mut self.key16);
            // In pieces that end where detector frames end, so each frame's steadiness is
            // measured on exactly its own samples, however the host splits its blocks.
            let mut from = 0;
            while from < m {
                let to = m.min(from + self.speech.frame_remaining());
                self.analyse_16k(from, to);
                from = to;
            }
            done += n;
        }
    }

    /// `key16[from..to]`, which ends at a detector frame's end or before: speech probability,
    /// level, steadiness.
    fn analyse_16k(&mut self, from: usize, to: usize) {
        let part = &self.key16[from..to];
        self.speech.process(part);
        let count = self.decimator.process(part, &mut self.decimated);
        for &y in &self.decimated[..count] {
            let band = self.highpass.process(y);
            self.tick_sum_sq += band * band;
            self.steadiness.push(band);
        }
        self.tick_len += count;
        if let Some(probability) = self.speech.take() {
            let (steadiness, voicing) = if probability >= STEADINESS_FROM_PROBABILITY {
                (self.steadiness.measure(), self.steadiness.voicing())
            } else {
                (None, 0.0)
            };
            self.pending_frame = Some(SpeechFrame {
                probability,
                steadiness,
                voicing,
            });
        }
    }

    /// Writes the mono key for `start..start+n` into the scratch buffer. Bad samples (NaN, Inf,
    /// beyond +60 dBFS) become silence: the filters after it would smear them.
    fn downmix_into_scratch<K: AsRef<[f32]>>(&mut self, key: &[K], start: usize, n: usize) {
        self.downmix_raw(key, start, n);
        for x in &mut self.mono[..n] {
            *x = key_sample(*x);
        }
    }

    /// The plain downmix of [`Self::downmix_into_scratch`].
    fn downmix_raw<K: AsRef<[f32]>>(&mut self, key: &[K], start: usize, n: usize) {
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

    /// Closes the tick: the smoothed speech-band level and any detector frame completed.
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
            frame: self.pending_frame.take(),
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
        self.resampler.reset();
        self.decimator.reset();
        self.speech.reset();
        self.steadiness.reset();
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
        // 1 ms ticks, as the engine runs them.
        let mut avg = KeyAnalyser::new(sr, 48);
        let mut centre = KeyAnalyser::new(sr, 48);
        centre.set_downmix(KeyDownmix::Channel(1));
        let mut last_avg = 0.0;
        let mut last_centre = 0.0;
        for start in (0..9_600).step_by(48) {
            last_avg = avg.process_tick(&[&left, &silent], start, 48).level_db();
            last_centre = centre.process_tick(&[&left, &silent], start, 48).level_db();
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
