//! Spectral, masking-aware ducking: the bed is lowered only in the auditory bands where it masks
//! the dialogue, and only as far as needed for the dialogue to stand Clarity dB above it there.
//!
//! STFT: sqrt-Hann windows for analysis and synthesis with 50 % overlap (their squares sum to
//! one, so unit gains reconstruct the bed exactly); 1024 points at 44.1/48 kHz, scaled with the
//! sample rate (2048 at 96 kHz, 4096 at 192 kHz) so time resolution stays ~21 ms. Latency: one
//! window. Per frame and ERB band ([`crate::bands`]):
//!
//! * **Dialogue spectrum** `K`: band powers of the key, updated only while it is speech (room
//!   tone between lines must not become the target), smoothed over ~1 s of speech: the
//!   speaker's long-term spectrum, not the current phoneme's. The key is read *ahead* of the bed (by Lookahead),
//!   so the target is known before the voice plays.
//! * **Masker** `M`: band powers of the bed, smoothed over ~200 ms (a drum hit must not make the
//!   gain flutter).
//! * **Reduction** = Clarity - (K - M) dB, clamped to 0..|Depth|; zero where the dialogue has
//!   nothing to unmask (more than 35 dB under its strongest band) or the bed is silent. It is
//!   smoothed across neighbouring bands (1/4, 1/2, 1/4: no isolated notches, no "musical"
//!   artefacts, and a rough account of masking spreading into neighbouring bands), then scaled
//!   by the speech envelope (the same attack / hold / release as
//!   broadband mode decides *when*; the spectrum decides *where* and *how much*).
//! * Gains per band (one `exp` per band, not per bin) are interpolated linearly over the bins
//!   and faded back to unity per bin outside Focus (exact edges: bass and air stay untouched).

use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::bands::{BandLayout, MAX_BANDS};
use crate::channels::MAX_CHANNELS;
use crate::detector::one_pole_coeff;
use crate::units::{db_to_gain, power_to_db, sanitize};

/// FFT size at 48 kHz; other rates scale it by a power of two to keep ~21 ms windows.
pub const FFT_SIZE_48K: usize = 1024;
/// Smoothing of the dialogue spectrum while speech is active, ms.
pub const KEY_SMOOTHING_MS: f32 = 1_000.0;
/// Smoothing of the bed spectrum, ms.
pub const BED_SMOOTHING_MS: f32 = 300.0;
/// Focus edges fade over this ratio in frequency (1/1.2 below the low edge, 1.2x above the
/// high one), so there is no step at the edge of the focus range.
pub const FOCUS_FADE_RATIO: f32 = 1.2;
/// A band's reduction rises over this time constant, ms (a masked band is cleared quickly)...
pub const REDUCTION_RISE_MS: f32 = 200.0;
/// ...and falls over this one, ms: inside a phrase the per-band reduction is held almost still,
/// so the bed's spectrum does not move with every phoneme (no warble, no pumping). After the
/// phrase the speech envelope releases the whole duck.
pub const REDUCTION_FALL_MS: f32 = 500.0;
/// Bands where the dialogue is more than this far below its own strongest band carry no cue
/// worth unmasking: they get no reduction (a bed's hi-hat is not ducked because the voice
/// happens to have no energy there), dB.
pub const DIALOGUE_RANGE_DB: f32 = 35.0;
/// Bands quieter than this (dialogue or bed) are ignored, dBFS: nothing to unmask, or nothing
/// masking.
pub const SILENT_BAND_DB: f32 = -100.0;

/// FFT size for `sample_rate_hz`.
pub fn fft_size(sample_rate_hz: f32) -> usize {
    let ratio = (sample_rate_hz / 48_000.0).max(0.5);
    let octaves = ratio.log2().round().max(0.0) as u32;
    FFT_SIZE_48K << octaves
}

/// Settings of the spectral stage, in user units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpectralSettings {
    /// Target dialogue-over-bed ratio per band, dB.
    pub clarity_db: f32,
    /// Lowest frequency where ducking may act, Hz.
    pub focus_low_hz: f32,
    /// Highest frequency where ducking may act, Hz.
    pub focus_high_hz: f32,
}

/// What the spectral analysis saw in the latest frame, per band (for the editor).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandAnalysis {
    /// Number of valid bands.
    pub bands: usize,
    /// Band centres, Hz.
    pub centre_hz: [f32; MAX_BANDS],
    /// Dialogue spectrum (speech-gated, smoothed), dBFS per band.
    pub dialogue_db: [f32; MAX_BANDS],
    /// Bed spectrum (smoothed, before ducking), dBFS per band.
    pub bed_db: [f32; MAX_BANDS],
    /// How far the band misses Clarity (masking overlap), dB (>= 0).
    pub overlap_db: [f32; MAX_BANDS],
    /// Reduction applied now, dB (>= 0).
    pub reduction_db: [f32; MAX_BANDS],
}

impl Default for BandAnalysis {
    fn default() -> Self {
        Self {
            bands: 0,
            centre_hz: [0.0; MAX_BANDS],
            dialogue_db: [crate::units::FLOOR_DB; MAX_BANDS],
            bed_db: [crate::units::FLOOR_DB; MAX_BANDS],
            overlap_db: [0.0; MAX_BANDS],
            reduction_db: [0.0; MAX_BANDS],
        }
    }
}

/// Per-frame control values handed over by the engine.
#[derive(Debug, Clone, Copy)]
pub struct FrameControl {
    /// Speech envelope, 0..=1 (shaped), from the broadband ballistics.
    pub amount: f32,
    /// Whether the key is speech now.
    pub speech: bool,
    /// Depth now (ramped), dB (<= 0).
    pub depth_db: f32,
    /// Mix now, 0..=1.
    pub mix: f32,
    /// Bypass now, 0..=1.
    pub bypass: f32,
}

/// The STFT ducker for one bed of up to [`MAX_CHANNELS`] channels.
pub struct SpectralDucker {
    size: usize,
    hop: usize,
    fill: usize,
    channels: usize,
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
    ifft: Arc<dyn ComplexToReal<f32>>,
    scratch_fwd: Vec<Complex32>,
    scratch_inv: Vec<Complex32>,
    time: Vec<f32>,
    key_spectrum: Vec<Complex32>,
    spectra: Vec<Vec<Complex32>>,
    inputs: Vec<Vec<f32>>,
    olas: Vec<Vec<f32>>,
    ready: Vec<Vec<f32>>,
    key_in: Vec<f32>,
    layout: BandLayout,
    bin_power: Vec<f32>,
    band_tmp: Vec<f32>,
    key_band: Vec<f32>,
    bed_band: Vec<f32>,
    required_db: Vec<f32>,
    band_gain: Vec<f32>,
    bin_gain: Vec<f32>,
    /// Per bin: how much of the band reduction applies (1 inside Focus, fading to 0 outside).
    focus_weight: Vec<f32>,
    bin_hz: f32,
    key_coeff: f32,
    bed_coeff: f32,
    rise_coeff: f32,
    fall_coeff: f32,
    /// Per-band reduction after time smoothing, dB.
    held_db: Vec<f32>,
    settings: SpectralSettings,
    shares: [f32; MAX_CHANNELS],
    mid_side: bool,
    control: FrameControl,
    analysis: BandAnalysis,
    /// Whether `focus_weight` matches `settings` (they are recomputed only on a change).
    focus_ready: bool,
    /// Whether the current frames modify the bed (Spectral mode) or only analyse it.
    applying: bool,
    analysis_enabled: bool,
    frames: u32,
}

impl SpectralDucker {
    /// A ducker for `channels` bed channels at `sample_rate_hz`; all memory is allocated here.
    pub fn new(sample_rate_hz: f32, channels: usize) -> Self {
        let size = fft_size(sample_rate_hz);
        let hop = size / 2;
        let mut planner = RealFftPlanner::<f32>::new();
        let fft = planner.plan_fft_forward(size);
        let ifft = planner.plan_fft_inverse(size);
        let bins = size / 2 + 1;
        let layout = BandLayout::new(size, sample_rate_hz);
        let bands = layout.len();
        let frame_s = hop as f32 / sample_rate_hz;
        let mut analysis = BandAnalysis {
            bands,
            ..Default::default()
        };
        analysis.centre_hz[..bands].copy_from_slice(layout.centres_hz());
        let channels = channels.min(MAX_CHANNELS);
        let mut s = Self {
            size,
            hop,
            fill: 0,
            channels,
            // Periodic sqrt-Hann: w² at 50 % overlap sums to exactly one.
            window: (0..size)
                .map(|i| (std::f32::consts::PI * i as f32 / size as f32).sin())
                .collect(),
            scratch_fwd: fft.make_scratch_vec(),
            scratch_inv: ifft.make_scratch_vec(),
            fft,
            ifft,
            time: vec![0.0; size],
            key_spectrum: vec![Complex32::default(); bins],
            spectra: vec![vec![Complex32::default(); bins]; channels],
            inputs: vec![vec![0.0; size]; channels],
            olas: vec![vec![0.0; size]; channels],
            ready: vec![vec![0.0; hop]; channels],
            key_in: vec![0.0; size],
            bin_power: vec![0.0; bins],
            band_tmp: vec![0.0; bands],
            key_band: vec![0.0; bands],
            bed_band: vec![0.0; bands],
            required_db: vec![0.0; bands],
            band_gain: vec![1.0; bands],
            bin_gain: vec![1.0; bins],
            focus_weight: vec![1.0; bins],
            bin_hz: sample_rate_hz / size as f32,
            layout,
            key_coeff: one_pole_coeff(KEY_SMOOTHING_MS, frame_s),
            bed_coeff: one_pole_coeff(BED_SMOOTHING_MS, frame_s),
            rise_coeff: one_pole_coeff(REDUCTION_RISE_MS, frame_s),
            fall_coeff: one_pole_coeff(REDUCTION_FALL_MS, frame_s),
            held_db: vec![0.0; bands],
            settings: SpectralSettings {
                clarity_db: 10.0,
                focus_low_hz: 150.0,
                focus_high_hz: 8_000.0,
            },
            shares: [1.0; MAX_CHANNELS],
            mid_side: false,
            control: FrameControl {
                amount: 0.0,
                speech: false,
                depth_db: 0.0,
                mix: 1.0,
                bypass: 0.0,
            },
            analysis,
            focus_ready: false,
            applying: true,
            analysis_enabled: false,
            frames: 0,
        };
        s.set_settings(&s.settings.clone());
        s
    }

    /// The latency of the STFT, samples (one window).
    pub fn latency_samples(&self) -> usize {
        self.size
    }

    /// FFT size, samples.
    pub fn fft_size(&self) -> usize {
        self.size
    }

    /// Applies Clarity and Focus.
    pub fn set_settings(&mut self, settings: &SpectralSettings) {
        if *settings == self.settings && self.focus_ready {
            return;
        }
        self.focus_ready = true;
        self.settings = *settings;
        let (lo, hi) = (
            settings.focus_low_hz,
            settings.focus_high_hz.max(settings.focus_low_hz),
        );
        let fade = FOCUS_FADE_RATIO.ln();
        for (k, w) in self.focus_weight.iter_mut().enumerate() {
            // 1 inside [lo, hi], 0 beyond lo / 1.25 and hi * 1.25, linear in log frequency;
            // per bin, so the edges are exact whatever the band layout.
            let f = (k as f32 * self.bin_hz).max(1e-3);
            let below = ((f / (lo / FOCUS_FADE_RATIO)).ln() / fade).clamp(0.0, 1.0);
            let above = (((hi * FOCUS_FADE_RATIO) / f).ln() / fade).clamp(0.0, 1.0);
            *w = below.min(above);
        }
    }

    /// Per-channel shares of the reduction (dB multipliers), and whether a stereo bed is
    /// processed as mid (channel 0) and side (channel 1).
    pub fn set_field(&mut self, shares: &[f32; MAX_CHANNELS], mid_side: bool) {
        self.shares = *shares;
        self.mid_side = mid_side && self.channels == 2;
    }

    /// Control values for the frames that complete from now on.
    pub fn set_control(&mut self, control: FrameControl) {
        self.control = control;
    }

    /// The latest per-band analysis.
    pub fn analysis(&self) -> &BandAnalysis {
        &self.analysis
    }

    /// Processes `bed[..][start..start+len]` in place (output is one window late) with the key
    /// `key[..][start..start+len]` (any channel count; empty = silence; 6 channels = centre).
    /// With `apply` false the bed is only analysed (for the editor in Broadband mode) and left
    /// untouched; no resynthesis runs.
    pub fn process<K: AsRef<[f32]>>(
        &mut self,
        bed: &mut [&mut [f32]],
        key: &[K],
        start: usize,
        len: usize,
        apply: bool,
    ) {
        self.applying = apply;
        let mid_side = self.mid_side && apply && bed.len() >= 2;
        let mut done = 0;
        while done < len {
            let n = (len - done).min(self.hop - self.fill);
            let (a, b) = (start + done, start + done + n);
            self.push_key(key, a, b);
            if mid_side {
                to_mid_side(bed, a, b);
            }
            let at = self.size - self.hop + self.fill;
            for ((input, ready), ch) in self.inputs.iter_mut().zip(&self.ready).zip(bed.iter_mut())
            {
                let io = &mut ch[a..b];
                for (dst, &x) in input[at..at + n].iter_mut().zip(io.iter()) {
                    *dst = sanitize(x, 1e6);
                }
                if apply {
                    io.copy_from_slice(&ready[self.fill..self.fill + n]);
                }
            }
            if mid_side {
                from_mid_side(bed, a, b);
            }
            self.fill += n;
            done += n;
            if self.fill == self.hop {
                self.fill = 0;
                self.frame();
            }
        }
    }

    /// Mono key samples into the key frame buffer.
    fn push_key<K: AsRef<[f32]>>(&mut self, key: &[K], a: usize, b: usize) {
        let at = self.size - self.hop + self.fill;
        let dst = &mut self.key_in[at..at + (b - a)];
        match key.len() {
            0 => dst.fill(0.0),
            6 => dst.copy_from_slice(&key[2].as_ref()[a..b]),
            1 => dst.copy_from_slice(&key[0].as_ref()[a..b]),
            c => {
                dst.fill(0.0);
                let scale = 1.0 / c as f32;
                for ch in key {
                    for (d, &x) in dst.iter_mut().zip(&ch.as_ref()[a..b]) {
                        *d += x * scale;
                    }
                }
            }
        }
        for d in dst.iter_mut() {
            *d = sanitize(*d, 1e3);
        }
    }

    /// One STFT frame: analyse key and bed, compute band gains, resynthesise.
    fn frame(&mut self) {
        let bins = self.size / 2 + 1;
        let norm = 1.0 / self.size as f32;
        // Key spectrum.
        for ((t, &x), &w) in self.time.iter_mut().zip(&self.key_in).zip(&self.window) {
            *t = x * w;
        }
        let _ = self.fft.process_with_scratch(
            &mut self.time,
            &mut self.key_spectrum,
            &mut self.scratch_fwd,
        );
        for (p, c) in self.bin_power.iter_mut().zip(&self.key_spectrum) {
            *p = c.norm_sqr() * norm * norm;
        }
        self.layout.band_powers(&self.bin_power, &mut self.band_tmp);
        self.update_key_spectrum();

        // Bed spectra and their mean power.
        self.bin_power[..bins].fill(0.0);
        let scale = norm * norm / self.channels.max(1) as f32;
        for ch in 0..self.channels {
            for ((t, &x), &w) in self.time.iter_mut().zip(&self.inputs[ch]).zip(&self.window) {
                *t = x * w;
            }
            let _ = self.fft.process_with_scratch(
                &mut self.time,
                &mut self.spectra[ch],
                &mut self.scratch_fwd,
            );
            for (p, c) in self.bin_power.iter_mut().zip(&self.spectra[ch]) {
                *p += c.norm_sqr() * scale;
            }
        }
        self.layout.band_powers(&self.bin_power, &mut self.band_tmp);
        for (b, &p) in self.bed_band.iter_mut().zip(&self.band_tmp) {
            *b += self.bed_coeff * (p - *b);
        }
        self.compute_reduction();

        if !self.applying {
            for input in &mut self.inputs {
                input.copy_within(self.hop.., 0);
            }
            self.key_in.copy_within(self.hop.., 0);
            self.publish();
            return;
        }
        // Apply per channel, resynthesise, overlap-add.
        let c = self.control;
        for ch in 0..self.channels {
            let share = self.shares[ch];
            for (g, &r) in self.band_gain.iter_mut().zip(&self.required_db) {
                let duck = db_to_gain(-r * c.amount * share);
                let wet = 1.0 + c.mix * (duck - 1.0);
                *g = wet + c.bypass * (1.0 - wet);
            }
            self.layout.to_bins(&self.band_gain, &mut self.bin_gain);
            for ((z, &g), &w) in self.spectra[ch]
                .iter_mut()
                .zip(&self.bin_gain)
                .zip(&self.focus_weight)
            {
                // Outside Focus the gain fades back to unity.
                *z *= (1.0 + w * (g - 1.0)) * norm;
            }
            // The DC and Nyquist bins of a real signal's spectrum must be real.
            self.spectra[ch][0].im = 0.0;
            self.spectra[ch][bins - 1].im = 0.0;
            let _ = self.ifft.process_with_scratch(
                &mut self.spectra[ch],
                &mut self.time,
                &mut self.scratch_inv,
            );
            let ola = &mut self.olas[ch];
            for ((o, &t), &w) in ola.iter_mut().zip(&self.time).zip(&self.window) {
                *o += t * w;
            }
            self.ready[ch].copy_from_slice(&ola[..self.hop]);
            ola.copy_within(self.hop.., 0);
            let n = self.size;
            ola[n - self.hop..].fill(0.0);
            self.inputs[ch].copy_within(self.hop.., 0);
        }
        self.key_in.copy_within(self.hop.., 0);
        self.publish();
    }

    /// Speech-gated smoothing of the dialogue band powers (`band_tmp` holds this frame's).
    fn update_key_spectrum(&mut self) {
        if !self.control.speech {
            return;
        }
        if self.key_band.iter().all(|&k| k == 0.0) {
            // First speech since reset: start from this frame instead of fading in from silence.
            self.key_band.copy_from_slice(&self.band_tmp);
        } else {
            for (k, &p) in self.key_band.iter_mut().zip(&self.band_tmp) {
                *k += self.key_coeff * (p - *k);
            }
        }
    }

    /// Required reduction per band (before the speech envelope), dB, into `required_db`.
    fn compute_reduction(&mut self) {
        let n = self.layout.len();
        let depth = (-self.control.depth_db).max(0.0);
        let clarity = self.settings.clarity_db;
        let key_peak_db = power_to_db(self.key_band.iter().fold(0.0f32, |m, &p| m.max(p)));
        let relevant_db = (key_peak_db - DIALOGUE_RANGE_DB).max(SILENT_BAND_DB);
        for b in 0..n {
            let (key_db, masker_db) =
                (power_to_db(self.key_band[b]), power_to_db(self.bed_band[b]));
            let overlap = if key_db < relevant_db || masker_db < SILENT_BAND_DB {
                0.0
            } else {
                (clarity - (key_db - masker_db)).max(0.0)
            };
            self.band_tmp[b] = overlap.min(depth);
            self.analysis.overlap_db[b] = overlap;
        }
        // Smooth across neighbouring bands (no isolated notches: no "musical" artefacts), then
        // fade out beyond the focus range.
        for b in 0..n {
            let l = self.band_tmp[b.saturating_sub(1)];
            let r = self.band_tmp[(b + 1).min(n - 1)];
            let target = 0.25 * l + 0.5 * self.band_tmp[b] + 0.25 * r;
            let coeff = if target > self.held_db[b] {
                self.rise_coeff
            } else {
                self.fall_coeff
            };
            self.held_db[b] += coeff * (target - self.held_db[b]);
            self.required_db[b] = self.held_db[b].min(depth);
        }
    }

    /// Copies the frame's figures into the analysis snapshot (only while someone looks: the
    /// logarithms are for display). Analysing for Broadband mode, the reduction shown is the
    /// broadband duck in every band.
    fn publish(&mut self) {
        if !self.analysis_enabled {
            return;
        }
        let n = self.layout.len();
        let c = self.control;
        let applied = c.amount * (1.0 - c.bypass) * c.mix;
        let a = &mut self.analysis;
        for b in 0..n {
            a.dialogue_db[b] = power_to_db(self.key_band[b]);
            a.bed_db[b] = power_to_db(self.bed_band[b]);
            a.reduction_db[b] = if self.applying {
                // As applied: the Focus fade at the band centre included.
                let centre_bin = (a.centre_hz[b] / self.bin_hz).round() as usize;
                let focus = self.focus_weight[centre_bin.min(self.focus_weight.len() - 1)];
                self.required_db[b] * applied * focus
            } else {
                -c.depth_db * applied
            };
        }
        self.frames = self.frames.wrapping_add(1);
    }

    /// Turns the analysis snapshot on or off.
    pub fn set_analysis_enabled(&mut self, enabled: bool) {
        self.analysis_enabled = enabled;
    }

    /// Frames published so far (a new snapshot when this changes).
    pub fn analysis_frames(&self) -> u32 {
        self.frames
    }

    /// Silences all buffers and forgets the spectra.
    pub fn reset(&mut self) {
        for v in self
            .inputs
            .iter_mut()
            .chain(&mut self.olas)
            .chain(&mut self.ready)
        {
            v.fill(0.0);
        }
        self.key_in.fill(0.0);
        self.key_band.fill(0.0);
        self.bed_band.fill(0.0);
        self.held_db.fill(0.0);
        self.fill = 0;
    }
}

fn to_mid_side(bed: &mut [&mut [f32]], a: usize, b: usize) {
    let (l, r) = bed.split_at_mut(1);
    for (x, y) in l[0][a..b].iter_mut().zip(&mut r[0][a..b]) {
        let (m, s) = (0.5 * (*x + *y), 0.5 * (*x - *y));
        *x = m;
        *y = s;
    }
}

fn from_mid_side(bed: &mut [&mut [f32]], a: usize, b: usize) {
    let (l, r) = bed.split_at_mut(1);
    for (x, y) in l[0][a..b].iter_mut().zip(&mut r[0][a..b]) {
        let (m, s) = (*x, *y);
        *x = m + s;
        *y = m - s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_signals::{SR, sine as tone, vowel};
    use crate::units::gain_to_db;

    fn control(amount: f32) -> FrameControl {
        FrameControl {
            amount,
            speech: amount > 0.0,
            depth_db: -20.0,
            mix: 1.0,
            bypass: 0.0,
        }
    }

    /// Runs `bed` (mono) keyed by `key` through a ducker in 300-sample blocks.
    fn run(d: &mut SpectralDucker, bed: &[f32], key: &[f32]) -> Vec<f32> {
        let mut out = bed.to_vec();
        for (o, k) in out.chunks_mut(300).zip(key.chunks(300)) {
            let len = o.len();
            d.process(&mut [o], &[k], 0, len, true);
        }
        out
    }

    /// Level of a `freq_hz` component in `x[range]`, dB (correlation with a quadrature pair).
    fn component_db(x: &[f32], freq_hz: f32, range: std::ops::Range<usize>) -> f32 {
        let (mut c, mut s) = (0.0f64, 0.0f64);
        for i in range.clone() {
            let ph = 2.0 * std::f64::consts::PI * freq_hz as f64 * i as f64 / SR as f64;
            c += x[i] as f64 * ph.cos();
            s += x[i] as f64 * ph.sin();
        }
        let n = range.len() as f64;
        (20.0 * ((c * c + s * s).sqrt() * 2.0 / n).log10()) as f32
    }

    #[test]
    fn unit_gains_reconstruct_the_bed_one_window_late() {
        let mut d = SpectralDucker::new(SR, 1);
        d.set_control(control(0.0));
        let n = 20_000;
        let bed: Vec<f32> = (0..n)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        let out = run(&mut d, &bed, &vec![0.0; n]);
        let lat = d.latency_samples();
        assert_eq!(lat, 1024);
        let err = (lat + 1024..n)
            .map(|i| (out[i] - bed[i - lat]).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-5, "{err}");
    }

    #[test]
    fn analysis_only_leaves_the_bed_alone_and_shows_the_broadband_duck() {
        let mut d = SpectralDucker::new(SR, 1);
        d.set_control(control(1.0));
        d.set_analysis_enabled(true);
        let n = 48_000;
        let bed = tone(1_000.0, 0.2, n);
        let mut out = bed.clone();
        d.process(&mut [&mut out], &[&vowel(140.0, n)[..]], 0, n, false);
        assert_eq!(out, bed);
        let a = d.analysis();
        assert!(d.analysis_frames() > 80);
        assert!(
            a.reduction_db[..a.bands]
                .iter()
                .all(|&r| (r - 20.0).abs() < 1e-4)
        );
        assert!(a.bed_db[..a.bands].iter().cloned().fold(f32::MIN, f32::max) > -30.0);
        assert!(
            a.dialogue_db[..a.bands]
                .iter()
                .cloned()
                .fold(f32::MIN, f32::max)
                > -60.0
        );
    }

    #[test]
    fn fft_size_scales_with_sample_rate() {
        assert_eq!(fft_size(44_100.0), 1024);
        assert_eq!(fft_size(48_000.0), 1024);
        assert_eq!(fft_size(96_000.0), 2048);
        assert_eq!(fft_size(192_000.0), 4096);
    }

    #[test]
    fn bass_and_air_are_left_alone_while_the_speech_band_is_ducked() {
        let mut d = SpectralDucker::new(SR, 1);
        d.set_control(control(1.0));
        let n = 96_000;
        let bed: Vec<f32> = tone(80.0, 0.2, n)
            .iter()
            .zip(tone(1_000.0, 0.2, n))
            .zip(tone(12_000.0, 0.05, n))
            .map(|((a, b), c)| a + b + c)
            .collect();
        let out = run(&mut d, &bed, &vowel(140.0, n));
        let lat = d.latency_samples();
        let r = 60_000..90_000;
        let change = |f: f32| {
            let shifted: Vec<f32> = out[lat..].to_vec();
            component_db(&shifted, f, r.clone()) - component_db(&bed, f, r.clone())
        };
        assert!(change(80.0).abs() < 1.0, "80 Hz moved {} dB", change(80.0));
        assert!(
            change(12_000.0).abs() < 1.0,
            "12 kHz moved {} dB",
            change(12_000.0)
        );
        assert!(
            change(1_000.0) < -3.0,
            "1 kHz moved only {} dB",
            change(1_000.0)
        );
    }

    /// A comb of tones every 100 Hz from `from_hz` to 5 kHz, each at `amp`, random phases.
    fn comb(from_hz: f32, amp: f32, n: usize, seed: u32) -> Vec<f32> {
        let mut out = vec![0.0; n];
        let mut s = seed;
        let mut f = from_hz;
        while f < 5_000.0 {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let phase = s as f32 / u32::MAX as f32 * std::f32::consts::TAU;
            for (i, o) in out.iter_mut().enumerate() {
                *o += amp * (2.0 * std::f32::consts::PI * f * i as f32 / SR + phase).sin();
            }
            f += 100.0;
        }
        out
    }

    #[test]
    fn reduction_reaches_clarity_but_never_exceeds_depth() {
        // Key and bed combs interleaved (key on 50, 150.. Hz, bed on 100, 200.. Hz), the key
        // `level_db` over the bed in every band; Clarity 10 dB, Depth -20 dB.
        let n = 4 * 48_000;
        for (key_over_bed_db, want_db) in [(6.0f32, 4.0f32), (-6.0, 16.0), (-20.0, 20.0)] {
            let key = comb(50.0, 0.01 * db_to_gain(key_over_bed_db), n, 1);
            let bed = comb(100.0, 0.01, n, 2);
            let mut d = SpectralDucker::new(SR, 1);
            d.set_control(control(1.0));
            d.set_analysis_enabled(true);
            let out = run(&mut d, &bed, &key);
            let lat = d.latency_samples();
            let a = d.analysis();
            let mut in_range = Vec::new();
            for b in 0..a.bands {
                if (700.0..4_000.0).contains(&a.centre_hz[b]) {
                    in_range.push(a.reduction_db[b]);
                    // A band holds only one or two tones of each comb: +-1.5 dB per band.
                    assert!(
                        (a.reduction_db[b] - want_db).abs() < 1.5,
                        "{key_over_bed_db} dB: band {} Hz reduced {} dB, want {want_db}",
                        a.centre_hz[b],
                        a.reduction_db[b]
                    );
                }
                assert!(a.reduction_db[b] <= 20.0 + 1e-3);
            }
            let mean = in_range.iter().sum::<f32>() / in_range.len() as f32;
            assert!(
                (mean - want_db).abs() < 0.5,
                "mean {mean} dB, want {want_db}"
            );
            for f in [1_000.0, 2_500.0] {
                let got = component_db(&bed, f, 150_000..190_000)
                    - component_db(&out[lat..], f, 150_000..190_000);
                assert!(
                    (got - want_db).abs() < 1.0,
                    "{f} Hz reduced {got} dB, want {want_db}"
                );
            }
        }
    }

    #[test]
    fn steady_bed_and_key_give_stationary_band_gains() {
        let mut d = SpectralDucker::new(SR, 2);
        d.set_control(control(1.0));
        d.set_analysis_enabled(true);
        let n = 48_000 * 3;
        let bed: Vec<f32> = (0..n)
            .map(|i| ((i as u32).wrapping_mul(2_654_435_761) >> 16) as f32 / 32_768.0 - 1.0)
            .map(|x| 0.2 * x)
            .collect();
        let key = vowel(140.0, n);
        let (mut l, mut r) = (bed.clone(), bed.clone());
        let mut worst = 0.0f32;
        let mut prev: Option<[f32; MAX_BANDS]> = None;
        for start in (0..n).step_by(512) {
            let end = (start + 512).min(n);
            d.process(
                &mut [&mut l[start..end], &mut r[start..end]],
                &[&key[start..end]],
                0,
                end - start,
                true,
            );
            if start > 48_000 {
                let now = d.analysis().reduction_db;
                if let Some(p) = prev {
                    for b in 0..d.analysis().bands {
                        worst = worst.max((now[b] - p[b]).abs());
                    }
                }
                prev = Some(now);
            }
        }
        assert!(worst < 0.5, "band gain moved {worst} dB between frames");
        assert!(gain_to_db(1.0) == 0.0);
    }
}
