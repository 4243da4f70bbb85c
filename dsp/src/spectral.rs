//! Spectral, masking-aware ducking: the bed is lowered only in the auditory bands where it masks
//! the dialogue, and only as far as needed for the dialogue to stand Clarity dB above it there.
//!
//! **Clarity** is the dialogue-to-bed ratio per auditory band while the dialogue speaks, the
//! dialogue at its *mean* level (its long-term spectrum, power-averaged over speech) and the
//! bed as heard, after ducking: the ratio a mixer reads on a band meter and hears as the voice
//! sitting over the bed. (It was measured against the dialogue's 20th-percentile level, its
//! weak consonants; on real scenes that target lay 10-15 dB further down, out of reach within
//! any Depth, so every band sat at the Depth cap and Clarity 5, 15 and 25 dB sounded the same.)
//! [`SpeechBandRatio`] is the readout of that quantity the editor and the render report show.
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
//! * **Split, then duck in time.** The reduction of each band becomes a *weight* `w`: the share
//!   of the full Depth duck it takes (`1 - w + w * 10^(-Depth/20)` = the band's target gain).
//!   The stage splits the bed into a *masking part* `m = ISTFT(w * STFT(bed))` and the rest
//!   `bed - m` (the bed delayed by exactly one window). The engine then applies the broadband
//!   duck gain, sample-accurately, to `m` only. The spectrum decides *where* and *how much*
//!   (slowly); the envelope decides *when*, with the same attack, onset timing and release as
//!   Broadband mode instead of the STFT's ~21 ms smearing of a per-frame gain. With no
//!   reduction anywhere `m` is exactly zero and the bed passes bit-exact.
//! * Weights per band are interpolated linearly over the bins and faded to zero per bin outside
//!   Focus (exact edges: bass and air stay untouched).

use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::bands::{BandLayout, MAX_BANDS};
use crate::channels::MAX_CHANNELS;
use crate::detector::one_pole_coeff;
use crate::link::{
    DROPOUT_MS, LinkFrame, LinkMember, MAX_MEMBERS, MemberStatus, Peers, depth_floor,
    share_band_reduction,
};
use crate::units::{db_to_gain, power_to_db, sanitize};

/// FFT size at 48 kHz; other rates scale it by a power of two to keep ~21 ms windows.
pub const FFT_SIZE_48K: usize = 1024;
/// Smoothing of the dialogue spectrum while speech is active, ms.
pub const KEY_SMOOTHING_MS: f32 = 1_000.0;
/// Smoothing of the bed spectrum while it gets louder, ms: a loud entry (a new chord, a swell)
/// is seen within ~0.1 s, so it is not left unducked while the estimate catches up; single hits
/// (a few frames) move it little.
pub const BED_RISE_MS: f32 = 100.0;
/// A linked member analyses its undelayed bed (for the group) every this many hops (one
/// window, 21 ms): its published band powers are smoothed over 100-300 ms anyway.
pub const INPUT_ANALYSIS_HOPS: u64 = 2;
/// Smoothing of the bed spectrum while it gets quieter, ms.
pub const BED_SMOOTHING_MS: f32 = 300.0;
/// Focus edges fade over this ratio in frequency, inside the range (from the low edge up to
/// 1.2x it, from the high edge down to 1/1.2 of it): no step at the edges, and nothing outside
/// Focus is touched.
pub const FOCUS_FADE_RATIO: f32 = 1.2;
/// Bins this close to a bin outside Focus are left alone too, so a tone just outside Focus is
/// not reduced through the bins its spectrum spreads into. The analysis and synthesis windows
/// (sqrt-Hann, i.e. sine) spread a steady tone over a main lobe of +-1.5 bins; past 2 bins what
/// remains is under -30 dB of it. Without this guard an unseen drama scene's piano lost 2.6 dB
/// under 120 Hz (the 47 Hz bins of the 1024-point STFT at 48 kHz straddle the Focus Low edge).
pub const FOCUS_GUARD_BINS: usize = 2;
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
/// The long-term average speech spectrum (Byrne et al. 1994, both sexes): third-octave band
/// levels in dB at 125 Hz..16 kHz. Before a session's dialogue has spoken, its spectrum is
/// taken to be this shape at the first speech frame's level, so the first line after a reset
/// (every press of Play in many hosts) is ducked where it matters instead of waiting ~1 s for
/// the dialogue's own spectrum.
const LTASS_THIRD_OCTAVE_DB: [(f32, f32); 22] = [
    (125.0, 54.4),
    (160.0, 57.7),
    (200.0, 56.8),
    (250.0, 60.2),
    (315.0, 60.3),
    (400.0, 59.0),
    (500.0, 62.1),
    (630.0, 62.1),
    (800.0, 60.5),
    (1_000.0, 56.8),
    (1_250.0, 53.7),
    (1_600.0, 53.0),
    (2_000.0, 52.0),
    (2_500.0, 48.7),
    (3_150.0, 48.1),
    (4_000.0, 46.8),
    (5_000.0, 45.6),
    (6_300.0, 44.5),
    (8_000.0, 44.3),
    (10_000.0, 43.7),
    (12_500.0, 43.4),
    (16_000.0, 41.3),
];

/// Power spectral density of [`LTASS_THIRD_OCTAVE_DB`] at `f_hz` (relative, linear): the band
/// level spread over the band's width (23 % of its centre), interpolated in log frequency, and
/// falling 12 dB per octave below 125 Hz.
fn ltass_density(f_hz: f32) -> f32 {
    let table = &LTASS_THIRD_OCTAVE_DB;
    let density_db = |(fc, db): (f32, f32)| db - 10.0 * (0.23 * fc).log10();
    let db = if f_hz <= table[0].0 {
        density_db(table[0]) - 12.0 * (table[0].0 / f_hz.max(1.0)).log2()
    } else if let Some(w) = table.windows(2).find(|w| f_hz <= w[1].0) {
        let t = (f_hz / w[0].0).ln() / (w[1].0 / w[0].0).ln();
        density_db(w[0]) + t * (density_db(w[1]) - density_db(w[0]))
    } else {
        density_db(table[table.len() - 1])
    };
    10f32.powf(db / 10.0)
}

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
    /// How far the band misses Clarity (masking overlap) where the engine acts (0 outside
    /// Focus in Spectral mode, and where the dialogue has nothing to unmask), dB (>= 0).
    pub overlap_db: [f32; MAX_BANDS],
    /// Reduction applied now, dB (>= 0).
    pub reduction_db: [f32; MAX_BANDS],
    /// The dialogue's band powers heard with this frame's bed, and the bed's (unsmoothed, before
    /// ducking), dBFS: what [`SpeechBandRatio`] sums.
    pub dialogue_frame_db: [f32; MAX_BANDS],
    pub bed_frame_db: [f32; MAX_BANDS],
    /// Whether the dialogue heard with this frame's bed was speech.
    pub speech: bool,
    /// Linked: per band, whether the group needed a cut there that the first role to yield
    /// (the music) could make on its own, the others untouched.
    pub first_role_enough: [bool; MAX_BANDS],
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
            dialogue_frame_db: [crate::units::FLOOR_DB; MAX_BANDS],
            bed_frame_db: [crate::units::FLOOR_DB; MAX_BANDS],
            speech: false,
            first_role_enough: [false; MAX_BANDS],
        }
    }
}

/// The dialogue-to-bed ratio a mixer hears in the speech band, the quantity Clarity sets:
/// per auditory band centred in [`SPEECH_BAND_HZ`], the dialogue's mean power over the bed's
/// (as heard: after the reduction applied), both summed over the frames where the dialogue
/// speaks; the bands' ratios averaged in dB. Power means, as a level meter or an offline
/// measurement of the stems reads them (a mean of per-frame dB ratios would weigh the bed's
/// quiet moments like its loud ones and read 5-10 dB higher on orchestral music). The render
/// report keeps every frame; the editor forgets with a time constant ([`Self::new`]).
#[derive(Debug, Clone)]
pub struct SpeechBandRatio {
    dialogue: [f64; MAX_BANDS],
    before: [f64; MAX_BANDS],
    after: [f64; MAX_BANDS],
    /// Per-frame factor on the old sums (1: keep everything).
    keep: f64,
}

/// Centre frequencies of the bands [`SpeechBandRatio`] averages, Hz: where speech
/// intelligibility lives (the SII's most important bands).
pub const SPEECH_BAND_HZ: (f32, f32) = (500.0, 4_000.0);

impl SpeechBandRatio {
    /// Sums that forget over `memory_frames` speech frames (a one-pole time constant), or keep
    /// every frame (`None`).
    pub fn new(memory_frames: Option<f32>) -> Self {
        Self {
            dialogue: [0.0; MAX_BANDS],
            before: [0.0; MAX_BANDS],
            after: [0.0; MAX_BANDS],
            keep: memory_frames.map_or(1.0, |m| (-1.0 / m.max(1.0) as f64).exp()),
        }
    }

    /// Adds one analysis frame (ignored unless the dialogue speaks in it).
    pub fn add(&mut self, a: &BandAnalysis) {
        self.add_group(std::slice::from_ref(&a));
    }

    /// Adds one analysis frame of several beds under the same dialogue (linked buses): the
    /// bed is their sum, before and after each one's reduction. The dialogue and the speech
    /// flag are the first frame's (all beds hear the same dialogue).
    pub fn add_group(&mut self, frames: &[&BandAnalysis]) {
        let Some(first) = frames.first() else {
            return;
        };
        if !first.speech {
            return;
        }
        let lin = |db: f32| 10f64.powf(db as f64 / 10.0);
        for b in 0..first.bands.min(MAX_BANDS) {
            let (mut before, mut after) = (0.0, 0.0);
            for a in frames {
                let bed = lin(a.bed_frame_db[b]);
                before += bed;
                after += bed * lin(-a.reduction_db[b]);
            }
            self.dialogue[b] = self.keep * self.dialogue[b] + lin(first.dialogue_frame_db[b]);
            self.before[b] = self.keep * self.before[b] + before;
            self.after[b] = self.keep * self.after[b] + after;
        }
    }

    /// The ratio before (`after` false) or after ducking, dB; `None` before any speech frame
    /// with dialogue and bed in the speech bands. `centres_hz`: the analysis' band centres.
    pub fn ratio_db(&self, centres_hz: &[f32], after: bool) -> Option<f32> {
        let bed = if after { &self.after } else { &self.before };
        let (lo, hi) = SPEECH_BAND_HZ;
        let (sum, n) = centres_hz
            .iter()
            .enumerate()
            .take(MAX_BANDS)
            .filter(|&(b, f)| (lo..=hi).contains(f) && self.dialogue[b] > 1e-30 && bed[b] > 1e-30)
            .fold((0.0f64, 0u32), |(s, n), (b, _)| {
                (s + 10.0 * (self.dialogue[b] / bed[b]).log10(), n + 1)
            });
        (n > 0).then(|| (sum / n as f64) as f32)
    }
}

/// The analysis window and forward FFT.
struct Forward {
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
    scratch: Vec<Complex32>,
}

impl Forward {
    /// Windows `frame` (one FFT size) through `time` and transforms it into `spectrum`.
    fn analyse(&mut self, frame: &[f32], time: &mut [f32], spectrum: &mut [Complex32]) {
        for ((t, &x), &w) in time.iter_mut().zip(frame).zip(&self.window) {
            *t = x * w;
        }
        let _ = self
            .fft
            .process_with_scratch(time, spectrum, &mut self.scratch);
    }
}

/// Adds `scale` x the power of each bin of `spectrum` to `power`.
fn add_power(spectrum: &[Complex32], scale: f32, power: &mut [f32]) {
    for (p, c) in power.iter_mut().zip(spectrum) {
        *p += c.norm_sqr() * scale;
    }
}

/// One step of the bed spectrum's smoothing: towards this frame's band powers `frame`, quickly
/// while they rise (`rise`), slowly while they fall (`fall`).
fn smooth_bed(bed_band: &mut [f32], frame: &[f32], rise: f32, fall: f32) {
    for (b, &p) in bed_band.iter_mut().zip(frame) {
        let c = if p > *b { rise } else { fall };
        *b += c * (p - *b);
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
    /// Window and forward FFT (shared by the key, the delayed bed and the linked input bed).
    stft: Forward,
    ifft: Arc<dyn ComplexToReal<f32>>,
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
    /// This frame's bed band powers, for the analysis.
    bed_frame: Vec<f32>,
    /// The last frames' dialogue band powers and speech flags (rings of `lead_capacity`
    /// frames, written while the analysis runs), so the analysis pairs the bed with the
    /// dialogue heard with it: the key runs `key_lead` frames ahead of the bed (the lookahead).
    key_history: Vec<f32>,
    speech_history: Vec<bool>,
    history_pos: usize,
    lead_capacity: usize,
    key_lead: usize,
    key_band: Vec<f32>,
    /// [`LTASS_THIRD_OCTAVE_DB`] per band, normalised to a total of one.
    speech_prior: Vec<f32>,
    /// Set when the dialogue spectrum was just started from the prior: the band reductions
    /// then start at their targets instead of rising into them.
    cold_start: bool,
    bed_band: Vec<f32>,
    required_db: Vec<f32>,
    bin_gain: Vec<f32>,
    /// Per bin: how much of the band reduction applies (1 inside Focus, fading to 0 outside).
    focus_weight: Vec<f32>,
    /// Per bin: the Focus fade before the guard bins ([`FOCUS_GUARD_BINS`]) are applied.
    focus_fade: Vec<f32>,
    /// Whether the last frame's masking part had any nonzero bin (else no inverse FFT ran).
    masking: bool,
    bin_hz: f32,
    key_coeff: f32,
    bed_coeff: f32,
    bed_rise_coeff: f32,
    rise_coeff: f32,
    fall_coeff: f32,
    /// Per-band reduction after time smoothing, dB.
    held_db: Vec<f32>,
    settings: SpectralSettings,
    control: FrameControl,
    analysis: BandAnalysis,
    /// Whether `focus_weight` matches `settings` (they are recomputed only on a change).
    focus_ready: bool,
    /// Whether the current frames modify the bed (Spectral mode) or only analyse it.
    applying: bool,
    analysis_enabled: bool,
    frames: u32,
    /// Linked buses: the group membership and its per-frame state (built with the ducker, so
    /// joining a group allocates nothing).
    link: LinkState,
    /// The bed's position on the link group's clock: the input sample after the last one
    /// handed to [`Self::analyse_input`] (kept unlinked too, so joining later lines up).
    input_pos: u64,
    /// Where the current block segment started on that clock.
    segment_start: u64,
    /// Where the frame being decided ends on that clock, before the lookahead.
    frame_end: u64,
    /// The lookahead, samples: the bed reaches the STFT this much after the input.
    lead_samples: usize,
}

/// A linked ducker's exchange state (built when joining, so an unlinked ducker carries none).
struct LinkState {
    member: Option<LinkMember>,
    /// The member's yielding rank ([`crate::link::Role::yield_rank`]).
    rank: u8,
    /// The undelayed bed's last window per channel, on the group clock's frame grid.
    window: Vec<Vec<f32>>,
    /// Samples of the current hop in `window`.
    fill: usize,
    /// The undelayed bed's smoothed band powers (what the member publishes).
    bed_band: Vec<f32>,
    frame: LinkFrame,
    peers: Peers,
    /// Frames without a frame from a member before it counts as stopped.
    dropout_frames: u64,
    /// Whether the last frame was decided with the group (else unlinked: nobody found yet).
    linked: bool,
    /// The latest decision, as published to the group's editors.
    status: MemberStatus,
    /// Whether the member hears a dialogue on its own sidechain (see `Engine`), and whether it
    /// follows the group's instead (no key of its own).
    has_key: bool,
    following: bool,
    /// Broadband mode: the bed's energy over the current hop per channel, the last frame
    /// decided and this member's share then ([`SpectralDucker::broadband_share`]).
    hop_energy: Vec<f32>,
    /// The bed smoothing's coefficients for a step of [`INPUT_ANALYSIS_HOPS`] hops.
    rise_coeff: f32,
    fall_coeff: f32,
    broadband_index: u64,
    broadband_share: Option<f32>,
}

impl SpectralDucker {
    /// A ducker for `channels` bed channels at `sample_rate_hz` with Clarity and Focus from
    /// `settings`; all memory is allocated here.
    pub fn new(sample_rate_hz: f32, channels: usize, settings: &SpectralSettings) -> Self {
        let size = fft_size(sample_rate_hz);
        let hop = size / 2;
        let mut planner = RealFftPlanner::<f32>::new();
        let fft = planner.plan_fft_forward(size);
        let ifft = planner.plan_fft_inverse(size);
        let bins = size / 2 + 1;
        let layout = BandLayout::new(size, sample_rate_hz);
        let bands = layout.len();
        let frame_s = hop as f32 / sample_rate_hz;
        // The longest lookahead in frames, and the current frame.
        let max_lead =
            crate::units::ms_to_samples(crate::settings::SPECS.lookahead_ms.max, sample_rate_hz)
                / hop;
        let lead_capacity = max_lead + 2;
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
            stft: Forward {
                // Periodic sqrt-Hann: w² at 50 % overlap sums to exactly one.
                window: (0..size)
                    .map(|i| (std::f32::consts::PI * i as f32 / size as f32).sin())
                    .collect(),
                scratch: fft.make_scratch_vec(),
                fft,
            },
            scratch_inv: ifft.make_scratch_vec(),
            ifft,
            time: vec![0.0; size],
            key_spectrum: vec![Complex32::default(); bins],
            spectra: vec![vec![Complex32::default(); bins]; channels],
            // One window plus one hop: the frame is the last `size` samples, and the sample
            // one window old (the direct path) is still at the front.
            inputs: vec![vec![0.0; size + hop]; channels],
            olas: vec![vec![0.0; size]; channels],
            ready: vec![vec![0.0; hop]; channels],
            key_in: vec![0.0; size],
            bin_power: vec![0.0; bins],
            band_tmp: vec![0.0; bands],
            bed_frame: vec![0.0; bands],
            key_history: vec![0.0; lead_capacity * bands],
            speech_history: vec![false; lead_capacity],
            history_pos: 0,
            lead_capacity,
            key_lead: 0,
            key_band: vec![0.0; bands],
            speech_prior: vec![0.0; bands],
            cold_start: false,
            bed_band: vec![0.0; bands],
            required_db: vec![0.0; bands],
            bin_gain: vec![1.0; bins],
            focus_weight: vec![1.0; bins],
            focus_fade: vec![1.0; bins],
            masking: false,
            bin_hz: sample_rate_hz / size as f32,
            layout,
            key_coeff: one_pole_coeff(KEY_SMOOTHING_MS, frame_s),
            bed_coeff: one_pole_coeff(BED_SMOOTHING_MS, frame_s),
            bed_rise_coeff: one_pole_coeff(BED_RISE_MS, frame_s),
            rise_coeff: one_pole_coeff(REDUCTION_RISE_MS, frame_s),
            fall_coeff: one_pole_coeff(REDUCTION_FALL_MS, frame_s),
            held_db: vec![0.0; bands],
            settings: *settings,
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
            link: LinkState {
                member: None,
                rank: 0,
                window: vec![vec![0.0; size]; channels],
                fill: 0,
                bed_band: vec![0.0; bands],
                frame: LinkFrame::default(),
                peers: Peers::default(),
                dropout_frames: (DROPOUT_MS * 0.001 / frame_s).ceil() as u64,
                linked: false,
                status: MemberStatus::default(),
                has_key: false,
                following: false,
                hop_energy: vec![0.0; channels],
                rise_coeff: one_pole_coeff(BED_RISE_MS, INPUT_ANALYSIS_HOPS as f32 * frame_s),
                fall_coeff: one_pole_coeff(BED_SMOOTHING_MS, INPUT_ANALYSIS_HOPS as f32 * frame_s),
                broadband_index: u64::MAX,
                broadband_share: None,
            },
            input_pos: 0,
            segment_start: 0,
            frame_end: 0,
            lead_samples: 0,
        };
        s.set_settings(&s.settings.clone());
        for (k, p) in s.bin_power.iter_mut().enumerate() {
            *p = ltass_density(k as f32 * s.bin_hz);
        }
        s.layout.band_powers(&s.bin_power, &mut s.speech_prior);
        let total: f32 = s.speech_prior.iter().sum();
        s.speech_prior.iter_mut().for_each(|p| *p /= total);
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
        // The engine hands over sanitised settings: Focus Low <= Focus High (an empty range
        // ducks nothing; see `settings::RULES`).
        let (lo, hi) = (settings.focus_low_hz, settings.focus_high_hz);
        let fade = FOCUS_FADE_RATIO.ln();
        for (k, w) in self.focus_fade.iter_mut().enumerate() {
            // 0 outside [lo, hi], 1 from lo * 1.2 to hi / 1.2, linear in log frequency between;
            // per bin, so nothing outside Focus is touched whatever the band layout.
            let f = (k as f32 * self.bin_hz).max(1e-3);
            let below = ((f / lo).ln() / fade).clamp(0.0, 1.0);
            let above = ((hi / f).ln() / fade).clamp(0.0, 1.0);
            *w = below.min(above);
        }
        // Then no more than the least of the neighbours within the guard: the fade moves
        // FOCUS_GUARD_BINS further inside Focus at both edges.
        let bins = self.focus_fade.len();
        for (k, w) in self.focus_weight.iter_mut().enumerate() {
            let (a, b) = (
                k.saturating_sub(FOCUS_GUARD_BINS),
                (k + FOCUS_GUARD_BINS + 1).min(bins),
            );
            *w = self.focus_fade[a..b].iter().copied().fold(1.0, f32::min);
        }
    }

    /// Control values for the frames that complete from now on.
    pub fn set_control(&mut self, control: FrameControl) {
        self.control = control;
    }

    /// The latest per-band analysis.
    pub fn analysis(&self) -> &BandAnalysis {
        &self.analysis
    }

    /// Splits `bed[..][start..start+len]` (one window late): the bed keeps the part that is
    /// not ducked, `masking[ch][..len]` receives the masking part the engine ducks. The key is
    /// `key[..][start..start+len]` (any channel count; empty = silence; 6 channels = centre).
    /// With `apply` false the bed is only analysed (for the editor in Broadband mode), left
    /// untouched, and no resynthesis runs.
    pub fn process<K: AsRef<[f32]>, M: AsMut<[f32]>>(
        &mut self,
        bed: &mut [&mut [f32]],
        key: &[K],
        start: usize,
        len: usize,
        apply: bool,
        masking: &mut [M],
    ) {
        self.applying = apply;
        let mut done = 0;
        while done < len {
            let n = (len - done).min(self.hop - self.fill);
            let (a, b) = (start + done, start + done + n);
            self.push_key(key, a, b);
            let fill = self.fill;
            for (ch, io) in bed.iter_mut().enumerate().take(self.channels) {
                // The frame's new samples go in at `size + fill`; the sample one window older
                // (the direct path) sits at `fill`.
                let (front, back) = self.inputs[ch].split_at_mut(self.size);
                let (direct, incoming) = (&front[fill..fill + n], &mut back[fill..fill + n]);
                let io = &mut io[a..b];
                if apply {
                    let m = &mut masking[ch].as_mut()[done..done + n];
                    let ready = &self.ready[ch][fill..fill + n];
                    for ((((dst, x), &d), part), &r) in incoming
                        .iter_mut()
                        .zip(io.iter_mut())
                        .zip(direct)
                        .zip(m.iter_mut())
                        .zip(ready)
                    {
                        *dst = sanitize(*x, 1e6);
                        *part = r;
                        *x = d - r;
                    }
                } else {
                    for (dst, &x) in incoming.iter_mut().zip(io.iter()) {
                        *dst = sanitize(x, 1e6);
                    }
                }
            }
            self.fill += n;
            done += n;
            if self.fill == self.hop {
                self.fill = 0;
                self.frame_end = self.segment_start + done as u64;
                self.frame();
            }
        }
    }

    /// Joins a link group (`Some`) or leaves it (`None`; dropping the membership frees the
    /// slot). A member that joins a group already running takes up the group's clock (to
    /// within a hop). No allocation.
    pub fn set_link(&mut self, member: Option<LinkMember>) {
        if let Some(m) = &member
            && let Some(pos) = m.group_position(self.hop)
        {
            self.input_pos = pos;
        }
        let l = &mut self.link;
        l.member = member;
        l.fill = (self.input_pos % self.hop as u64) as usize;
        l.bed_band.fill(0.0);
        for w in &mut l.window {
            w.fill(0.0);
        }
        l.linked = false;
        l.hop_energy.fill(0.0);
        l.broadband_index = u64::MAX;
        l.broadband_share = None;
    }

    /// The link membership, if any.
    pub fn link(&self) -> Option<&LinkMember> {
        self.link.member.as_ref()
    }

    /// Whether the last frame was decided with other members of a link group, and what the
    /// gathering found (members summed, members at another rate, members stopped).
    pub fn link_status(&self) -> (bool, &Peers) {
        (self.link.linked, &self.link.peers)
    }

    /// Whether this member hears a dialogue on its own sidechain (`has_key`) or follows the
    /// group's (`following`: its frames then use the first keyed member's dialogue spectrum).
    pub fn set_dialogue_source(&mut self, has_key: bool, following: bool) {
        self.link.has_key = has_key;
        self.link.following = following;
    }

    /// The bed's position on the link group's clock, samples (the input sample after the last
    /// one taken in).
    pub fn group_position(&self) -> u64 {
        self.input_pos
    }

    /// The member's yielding rank in its link group ([`crate::link::Role::yield_rank`]).
    pub fn set_link_rank(&mut self, rank: u8) {
        self.link.rank = rank;
    }

    /// Takes in the bed *before* the lookahead delay (`bed[..][start..start+len]`): while
    /// linked, every hop of it on the group's clock becomes a published [`LinkFrame`] (band
    /// powers smoothed as the delayed analysis smooths them), one lookahead before this member
    /// and the others decide about it. Unlinked, or with `publish` false (Broadband mode), it
    /// only keeps the clock. Call once per block segment, before [`Self::process`] for the
    /// same segment.
    pub fn analyse_input(&mut self, bed: &[&mut [f32]], start: usize, len: usize, spectral: bool) {
        self.segment_start = self.input_pos;
        self.input_pos += len as u64;
        if self.link.member.is_none() {
            self.link.fill = (self.input_pos % self.hop as u64) as usize;
            return;
        }
        let (size, hop) = (self.size, self.hop);
        let mut done = 0;
        while done < len {
            let l = &mut self.link;
            let n = (len - done).min(hop - l.fill);
            for ((w, e), io) in l.window.iter_mut().zip(&mut l.hop_energy).zip(bed.iter()) {
                let src = &io[start + done..start + done + n];
                if spectral {
                    let dst = &mut w[size - hop + l.fill..size - hop + l.fill + n];
                    for (d, &x) in dst.iter_mut().zip(src) {
                        *d = sanitize(x, 1e6);
                    }
                } else {
                    // Broadband: the bed's power only (no FFT), summed sample by sample per
                    // channel, so the result does not depend on how the host splits blocks.
                    for &x in src {
                        let x = sanitize(x, 1e6);
                        *e += x * x;
                    }
                }
            }
            l.fill += n;
            done += n;
            if l.fill == hop {
                l.fill = 0;
                let index = (self.segment_start + done as u64) / hop as u64 - 1;
                if spectral {
                    // Every other hop: the published powers are smoothed over 100-300 ms, so
                    // one analysis per window (21 ms) is plenty, and it halves the FFTs a
                    // linked member adds.
                    if index.is_multiple_of(INPUT_ANALYSIS_HOPS) {
                        self.analyse_input_frame();
                    }
                    for w in &mut self.link.window {
                        w.copy_within(hop.., 0);
                    }
                } else {
                    let l = &mut self.link;
                    let energy: f32 = l.hop_energy.iter().sum();
                    let power = energy / (hop * self.channels.max(1)) as f32;
                    l.hop_energy.fill(0.0);
                    smooth_bed(
                        &mut l.bed_band[..1],
                        &[power],
                        self.bed_rise_coeff,
                        self.bed_coeff,
                    );
                }
                self.publish_input_frame(index, spectral);
            }
        }
    }

    /// Spectral: the undelayed window's band powers, smoothed (over [`INPUT_ANALYSIS_HOPS`]
    /// hops per step), into the link's `bed_band`.
    fn analyse_input_frame(&mut self) {
        let norm = 1.0 / self.size as f32;
        let scale = norm * norm / self.channels.max(1) as f32;
        self.bin_power.fill(0.0);
        let l = &mut self.link;
        for w in &l.window {
            self.stft.analyse(w, &mut self.time, &mut self.key_spectrum);
            add_power(&self.key_spectrum, scale, &mut self.bin_power);
        }
        self.layout.band_powers(&self.bin_power, &mut self.band_tmp);
        smooth_bed(&mut l.bed_band, &self.band_tmp, l.rise_coeff, l.fall_coeff);
    }

    /// Publishes frame `index` (the link's `bed_band`: band powers, or in Broadband mode the
    /// whole bed's power in band 0) with the member's floor, role and dialogue.
    fn publish_input_frame(&mut self, index: u64, spectral: bool) {
        let l = &mut self.link;
        let c = self.control;
        l.frame.index = index;
        l.frame.spectral = spectral;
        if spectral {
            l.frame.bands[..l.bed_band.len()].copy_from_slice(&l.bed_band);
        } else {
            l.frame.bands.fill(0.0);
            l.frame.bands[0] = l.bed_band[0];
        }
        // Bypassed, or deaf (no dialogue of its own and none followed), the bed still masks
        // but takes no reduction: the others make up for it.
        let deaf = !l.has_key && !l.following;
        l.frame.has_key = l.has_key;
        l.frame.key_bands[..self.key_band.len()].copy_from_slice(&self.key_band);
        l.frame.floor = if c.bypass >= 0.5 || deaf {
            1.0
        } else {
            depth_floor(c.depth_db)
        };
        l.frame.rank = l.rank;
        if let Some(m) = &l.member {
            m.publish(&l.frame);
        }
    }

    /// Broadband mode, linked: publishes the member's cut now (dB, >= 0) for the group's
    /// editors (no per-band figures: Broadband has none).
    pub fn publish_broadband_status(&mut self, reduction_db: f32) {
        let l = &mut self.link;
        let Some(m) = &l.member else {
            return;
        };
        l.status.index = l.broadband_index;
        l.status.rank = l.rank;
        l.status.speech = self.control.speech;
        l.status.linked = l.linked;
        l.status.bands = 0;
        l.status.reduction_db = reduction_db;
        m.publish_status(&l.status);
    }

    /// Broadband mode, linked: this member's share of the group's cut for the bed leaving the
    /// lookahead now, as a factor on its Depth in dB (0..=1; `None`: decide alone). The group
    /// must bring its summed bed power down by its deepest Depth; by role, each member down to
    /// its own Depth (see [`share_band_reduction`], on one band: the whole bed). Gathered once
    /// per frame.
    pub fn broadband_share(&mut self) -> Option<f32> {
        let l = &mut self.link;
        let m = l.member.as_ref()?;
        let hop = self.hop as u64;
        let end = self.input_pos.checked_sub(self.lead_samples as u64)?;
        if end < hop {
            return None;
        }
        let index = end / hop - 1;
        if index != l.broadband_index {
            l.broadband_index = index;
            m.gather(index, l.dropout_frames, false, &mut l.peers);
            l.linked = l.peers.own && l.peers.count >= 2;
            l.broadband_share = l.linked.then(|| {
                let n = l.peers.count.min(MAX_MEMBERS);
                let frames = &l.peers.frames[..n];
                let (mut powers, mut floors, mut ranks, mut gains) = (
                    [0.0f32; MAX_MEMBERS],
                    [1.0f32; MAX_MEMBERS],
                    [0u8; MAX_MEMBERS],
                    [1.0f32; MAX_MEMBERS],
                );
                for (i, f) in frames.iter().enumerate() {
                    (powers[i], floors[i], ranks[i]) = (f.bands[0], f.floor, f.rank);
                }
                let deepest = floors[..n].iter().copied().fold(1.0, f32::min);
                let total: f32 = powers[..n].iter().sum();
                share_band_reduction(
                    &powers[..n],
                    &floors[..n],
                    &ranks[..n],
                    total * deepest,
                    &mut gains[..n],
                );
                // A member that takes no cut (bypassed, or no dialogue) does not duck anyway:
                // it keeps its own envelope whole for when its dialogue starts.
                let own_floor_db = -power_to_db(floors[0]);
                if own_floor_db <= 0.0 {
                    1.0
                } else {
                    (-power_to_db(gains[0]) / own_floor_db).clamp(0.0, 1.0)
                }
            });
        }
        l.broadband_share
    }

    /// Collects the group's frame for the delayed frame about to be decided (`frame_end`,
    /// one lookahead after it was published).
    fn gather_link(&mut self) {
        let l = &mut self.link;
        l.linked = false;
        let (Some(m), true) = (&l.member, self.applying) else {
            return;
        };
        let hop = self.hop as u64;
        let Some(end) = self.frame_end.checked_sub(self.lead_samples as u64) else {
            return;
        };
        if end < hop {
            return;
        }
        m.gather(end / hop - 1, l.dropout_frames, true, &mut l.peers);
        // Decided with the group only with this member's own frame in hand (it publishes
        // every frame it decides, one lookahead earlier) and someone to share with.
        l.linked = l.peers.own && l.peers.count >= 2;
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
        // Key spectrum: the dialogue's mean spectrum learns only during speech, and the
        // analysis keeps the frames only while it runs; otherwise the key FFT is skipped.
        // A linked member keeps the frames too (its group's editors sum them), but runs the
        // FFT only in speech: the readout counts speech frames only.
        let tracking = self.analysis_enabled || self.link.member.is_some();
        let key_fft = self.control.speech || self.analysis_enabled;
        if key_fft {
            self.stft
                .analyse(&self.key_in, &mut self.time, &mut self.key_spectrum);
            for (p, c) in self.bin_power.iter_mut().zip(&self.key_spectrum) {
                *p = c.norm_sqr() * norm * norm;
            }
            self.layout.band_powers(&self.bin_power, &mut self.band_tmp);
            self.update_key_spectrum();
        }
        if tracking {
            self.remember_key_frame(key_fft);
        }

        // Bed spectra and their mean power.
        self.bin_power[..bins].fill(0.0);
        let scale = norm * norm / self.channels.max(1) as f32;
        for ch in 0..self.channels {
            let frame = &self.inputs[ch][self.hop..];
            let spectrum = &mut self.spectra[ch];
            self.stft.analyse(frame, &mut self.time, spectrum);
            add_power(spectrum, scale, &mut self.bin_power);
        }
        self.layout.band_powers(&self.bin_power, &mut self.band_tmp);
        if tracking {
            self.bed_frame.copy_from_slice(&self.band_tmp);
        }
        smooth_bed(
            &mut self.bed_band,
            &self.band_tmp,
            self.bed_rise_coeff,
            self.bed_coeff,
        );
        self.gather_link();
        self.compute_reduction();

        if !self.applying {
            for input in &mut self.inputs {
                input.copy_within(self.hop.., 0);
            }
            self.key_in.copy_within(self.hop.., 0);
            self.publish();
            return;
        }
        // The masking part: each bin's share of the full duck. The band reductions are
        // interpolated over the bins in dB (a deep notch next to a shallow one stays deep at
        // its centre), then turned into weights.
        let full_duck = 1.0 - db_to_gain(self.control.depth_db.min(0.0));
        self.layout.to_bins(&self.required_db, &mut self.bin_gain);
        let mut any = false;
        for (g, &f) in self.bin_gain.iter_mut().zip(&self.focus_weight) {
            let w = if full_duck > 1e-6 && *g > 0.0 && f > 0.0 {
                ((1.0 - db_to_gain(-*g)) / full_duck).clamp(0.0, 1.0) * f
            } else {
                0.0
            };
            // Scaled for the unnormalised inverse FFT.
            *g = w * norm;
            any |= w > 0.0;
        }
        // A real signal's DC and Nyquist bins must stay real: the weights are real, so they do.
        let was_masking = std::mem::replace(&mut self.masking, any);
        for ch in 0..self.channels {
            let ola = &mut self.olas[ch];
            if any {
                for (z, &g) in self.spectra[ch].iter_mut().zip(&self.bin_gain) {
                    *z *= g;
                }
                let _ = self.ifft.process_with_scratch(
                    &mut self.spectra[ch],
                    &mut self.time,
                    &mut self.scratch_inv,
                );
                for ((o, &t), &w) in ola.iter_mut().zip(&self.time).zip(&self.stft.window) {
                    *o += t * w;
                }
            }
            if any || was_masking {
                self.ready[ch].copy_from_slice(&ola[..self.hop]);
                ola.copy_within(self.hop.., 0);
                let n = self.size;
                ola[n - self.hop..].fill(0.0);
            } else {
                // Nothing to duck for two frames: the masking part is exactly zero, no FFT.
                self.ready[ch].fill(0.0);
            }
            self.inputs[ch].copy_within(self.hop.., 0);
        }
        self.key_in.copy_within(self.hop.., 0);
        self.publish();
    }

    /// Stores this frame's dialogue band powers and speech flag in the history.
    /// (`analysed` false: the key FFT did not run, so no powers: silence, not speech.)
    fn remember_key_frame(&mut self, analysed: bool) {
        let bands = self.band_tmp.len();
        let at = self.history_pos;
        let dst = &mut self.key_history[at * bands..(at + 1) * bands];
        if analysed {
            dst.copy_from_slice(&self.band_tmp);
        } else {
            dst.fill(0.0);
        }
        self.speech_history[at] = self.control.speech;
        self.history_pos = (at + 1) % self.lead_capacity;
    }

    /// Where in the history the dialogue heard with this bed frame is: `key_lead` frames
    /// before the newest.
    fn heard_frame(&self) -> usize {
        (self.history_pos + 2 * self.lead_capacity - 1 - self.key_lead) % self.lead_capacity
    }

    /// How far the key runs ahead of the bed, samples (the lookahead): the analysis then pairs
    /// each bed frame with the dialogue heard with it.
    pub fn set_key_lead(&mut self, samples: usize) {
        self.lead_samples = samples;
        self.key_lead =
            ((samples as f32 / self.hop as f32).round() as usize).min(self.lead_capacity - 1);
    }

    /// Speech-gated smoothing of the dialogue band powers (`band_tmp` holds this frame's): the
    /// speaker's mean spectrum, what Clarity is measured against.
    fn update_key_spectrum(&mut self) {
        if !self.control.speech {
            return;
        }
        if self.key_band.iter().all(|&k| k == 0.0) {
            // First speech since reset: a typical speech spectrum at this frame's level (one
            // frame, often a soft onset, is a poor picture of the voice), refined from here.
            let total: f32 = self.band_tmp.iter().sum();
            for (k, &p) in self.key_band.iter_mut().zip(&self.speech_prior) {
                *k = p * total;
            }
            self.cold_start = true;
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
        let (linked, peers) = (self.link.linked, &self.link.peers);
        let members = peers.count.min(MAX_MEMBERS);
        // The dialogue: this member's own, or following the group's (no key of its own), the
        // first member with a key's.
        let group_key = peers.frames[..members]
            .iter()
            .skip(1)
            .find(|f| f.has_key)
            .filter(|_| linked && self.link.following);
        let key_band: &[f32] = match group_key {
            Some(f) => &f.key_bands[..n],
            None => &self.key_band,
        };
        let key_peak_db = power_to_db(key_band.iter().fold(0.0f32, |m, &p| m.max(p)));
        let relevant_db = (key_peak_db - DIALOGUE_RANGE_DB).max(SILENT_BAND_DB);
        if !linked {
            self.analysis.first_role_enough.fill(false);
        }
        // How far each band misses Clarity: on this bed alone, or linked on the group's sum.
        for (b, &key_power) in key_band.iter().enumerate().take(n) {
            let key_db = power_to_db(key_power);
            let masker_db = if linked {
                power_to_db(peers.frames[..members].iter().map(|f| f.bands[b]).sum())
            } else {
                power_to_db(self.bed_band[b])
            };
            let gated = key_db < relevant_db
                || masker_db < SILENT_BAND_DB
                || power_to_db(self.bed_band[b]) < SILENT_BAND_DB;
            let overlap = if gated {
                0.0
            } else {
                (clarity - (key_db - masker_db)).max(0.0)
            };
            // Uncapped (up to the deepest Depth), so a Depth change acts at once through the
            // cap below instead of through the slow smoothing.
            self.band_tmp[b] = overlap.min(-crate::settings::SPECS.depth_db.min);
            self.analysis.overlap_db[b] = overlap;
        }
        // Smooth across neighbouring bands (no isolated notches: no "musical" artefacts),
        // then in time (quick rise, slow fall).
        for b in 0..n {
            let l = self.band_tmp[b.saturating_sub(1)];
            let r = self.band_tmp[(b + 1).min(n - 1)];
            let target = 0.25 * l + 0.5 * self.band_tmp[b] + 0.25 * r;
            let coeff = if self.cold_start {
                1.0
            } else if target > self.held_db[b] {
                self.rise_coeff
            } else {
                self.fall_coeff
            };
            self.held_db[b] += coeff * (target - self.held_db[b]);
            self.required_db[b] = self.held_db[b];
        }
        self.cold_start = false;
        // Linked: the group's need becomes this member's share. Then the cap at Depth.
        if linked {
            self.share_linked_reduction(members);
        }
        for r in &mut self.required_db[..n] {
            *r = r.min(depth);
        }
    }

    /// Linked: turns the group's smoothed need per band (`required_db`, on the summed beds)
    /// into this member's share (see [`share_band_reduction`]: by role, each member down to
    /// its own Depth). The need is smoothed across bands and in time before it is shared, as a
    /// lone bed's is, so a narrow masker (a tone) keeps its full cut and the cut holds as
    /// steadily as a lone bed's.
    fn share_linked_reduction(&mut self, members: usize) {
        let peers = &self.link.peers;
        let (mut powers, mut floors, mut ranks, mut gains) = (
            [0.0f32; MAX_MEMBERS],
            [1.0f32; MAX_MEMBERS],
            [0u8; MAX_MEMBERS],
            [1.0f32; MAX_MEMBERS],
        );
        for (i, f) in peers.frames[..members].iter().enumerate() {
            floors[i] = f.floor;
            ranks[i] = f.rank;
        }
        for b in 0..self.layout.len() {
            let need_db = self.required_db[b];
            self.analysis.first_role_enough[b] = false;
            if need_db <= 0.0 {
                self.required_db[b] = 0.0;
                continue;
            }
            for (p, f) in powers.iter_mut().zip(&peers.frames[..members]) {
                *p = f.bands[b];
            }
            let total: f32 = powers[..members].iter().sum();
            let target = total * db_to_gain(-need_db) * db_to_gain(-need_db);
            self.analysis.first_role_enough[b] = share_band_reduction(
                &powers[..members],
                &floors[..members],
                &ranks[..members],
                target,
                &mut gains[..members],
            );
            self.required_db[b] = -power_to_db(gains[0]).min(0.0);
        }
    }

    /// Copies the frame's figures into the analysis snapshot (only while someone looks: the
    /// logarithms are for display). Analysing for Broadband mode, the reduction shown is the
    /// broadband duck in every band.
    fn publish(&mut self) {
        if self.applying && self.link.member.is_some() {
            self.publish_status();
        }
        if !self.analysis_enabled {
            return;
        }
        let n = self.layout.len();
        let c = self.control;
        let applied = c.amount * (1.0 - c.bypass) * c.mix;
        let heard = self.heard_frame();
        for b in 0..n {
            let focus = self.centre_focus(b);
            let heard_power = self.key_history[heard * n + b];
            let a = &mut self.analysis;
            a.dialogue_db[b] = power_to_db(self.key_band[b]);
            a.dialogue_frame_db[b] = power_to_db(heard_power);
            a.bed_frame_db[b] = power_to_db(self.bed_frame[b]);
            a.bed_db[b] = power_to_db(self.bed_band[b]);
            a.reduction_db[b] = if self.applying {
                // As applied: the Focus fade at the band centre included; the overlap too, as
                // the engine acts on it (outside Focus the bed is never touched, so a bass
                // band that misses Clarity is not shown as masking).
                a.overlap_db[b] *= focus;
                self.required_db[b] * applied * focus
            } else {
                -c.depth_db * applied
            };
        }
        self.analysis.speech = self.speech_history[heard];
        self.frames = self.frames.wrapping_add(1);
    }

    /// The Focus weight at band `b`'s centre bin.
    fn centre_focus(&self, b: usize) -> f32 {
        let centre_bin = (self.analysis.centre_hz[b] / self.bin_hz).round() as usize;
        self.focus_weight[centre_bin.min(self.focus_weight.len() - 1)]
    }

    /// Publishes the frame's decision to the link group (see [`crate::link::MemberStatus`]):
    /// per band the dialogue heard, the bed and the reduction as applied; the member's share
    /// as the mean reduction over the speech bands.
    fn publish_status(&mut self) {
        let n = self.layout.len();
        let c = self.control;
        let applied = c.amount * (1.0 - c.bypass) * c.mix;
        let heard = self.heard_frame();
        let (lo, hi) = SPEECH_BAND_HZ;
        let (mut sum, mut count) = (0.0, 0);
        for b in 0..n {
            let reduction = self.required_db[b] * applied * self.centre_focus(b);
            let st = &mut self.link.status;
            st.dialogue_power[b] = self.key_history[heard * n + b];
            st.bed_power[b] = self.bed_frame[b];
            st.band_reduction_db[b] = reduction;
            if (lo..=hi).contains(&self.analysis.centre_hz[b]) {
                sum += reduction;
                count += 1;
            }
        }
        let l = &mut self.link;
        l.status.index = self.frame_end / self.hop as u64;
        l.status.rank = l.rank;
        l.status.speech = self.speech_history[heard];
        l.status.linked = l.linked;
        l.status.bands = n;
        l.status.reduction_db = if count > 0 { sum / count as f32 } else { 0.0 };
        if let Some(m) = &l.member {
            m.publish_status(&l.status);
        }
    }

    /// Turns the analysis snapshot on or off.
    pub fn set_analysis_enabled(&mut self, enabled: bool) {
        self.analysis_enabled = enabled;
    }

    /// Frames published so far (a new snapshot when this changes).
    pub fn analysis_frames(&self) -> u32 {
        self.frames
    }

    /// Fills the input window with the bed that came before (`history(ch, out)` writes the
    /// last `out.len()` samples of channel `ch`), so the direct path continues from it instead
    /// of from silence. Call after [`Self::reset`].
    pub fn prime(&mut self, history: &mut dyn FnMut(usize, &mut [f32])) {
        let size = self.size;
        for (ch, input) in self.inputs.iter_mut().enumerate() {
            history(ch, &mut input[..size]);
        }
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
        self.key_history.fill(0.0);
        self.speech_history.fill(false);
        self.cold_start = false;
        self.fill = 0;
        // The group's clock runs on (other members did not reset); the window restarts.
        let l = &mut self.link;
        l.fill = (self.input_pos % self.hop as u64) as usize;
        l.hop_energy.fill(0.0);
        l.broadband_index = u64::MAX;
        l.broadband_share = None;
        l.bed_band.fill(0.0);
        for w in &mut l.window {
            w.fill(0.0);
        }
        l.linked = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_signals::{SR, sine as tone, vowel};
    use crate::units::gain_to_db;

    /// Clarity 10 dB, Focus 150 Hz-8 kHz: the settings these tests were designed around.
    const TEST_SETTINGS: SpectralSettings = SpectralSettings {
        clarity_db: 10.0,
        focus_low_hz: 150.0,
        focus_high_hz: 8_000.0,
    };

    fn control(amount: f32) -> FrameControl {
        FrameControl {
            amount,
            speech: amount > 0.0,
            depth_db: -20.0,
            mix: 1.0,
            bypass: 0.0,
        }
    }

    /// Runs `bed` (mono) keyed by `key` through a ducker in 300-sample blocks and recombines
    /// the two parts as the engine does, with the duck gain of the ducker's control values.
    fn run(d: &mut SpectralDucker, bed: &[f32], key: &[f32]) -> Vec<f32> {
        let c = d.control;
        let duck = db_to_gain(c.depth_db * c.amount);
        let mut out = bed.to_vec();
        let mut masking = vec![0.0; 300];
        for (o, k) in out.chunks_mut(300).zip(key.chunks(300)) {
            let len = o.len();
            d.process(
                &mut [&mut o[..]],
                &[k],
                0,
                len,
                true,
                &mut [&mut masking[..]],
            );
            for (x, m) in o.iter_mut().zip(&masking) {
                *x += m * duck;
            }
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
        let mut d = SpectralDucker::new(SR, 1, &TEST_SETTINGS);
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
        let mut d = SpectralDucker::new(SR, 1, &TEST_SETTINGS);
        d.set_control(control(1.0));
        d.set_analysis_enabled(true);
        let n = 48_000;
        let bed = tone(1_000.0, 0.2, n);
        let mut out = bed.clone();
        d.process(
            &mut [&mut out],
            &[&vowel(140.0, n)[..]],
            0,
            n,
            false,
            &mut [[0.0f32; 0]],
        );
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
    fn low_piano_tones_just_under_focus_low_keep_their_level() {
        // Focus Low 120 Hz (the default): tones at 80-115 Hz, with harmonics inside Focus
        // (which may be ducked), under a voice that gets the speech band ducked 20 dB. Each
        // fundamental, below Focus, moves by less than 1 dB.
        let settings = SpectralSettings {
            focus_low_hz: 120.0,
            ..TEST_SETTINGS
        };
        let n = 96_000;
        for f0 in [80.0f32, 95.0, 105.0, 115.0] {
            let mut d = SpectralDucker::new(SR, 1, &settings);
            d.set_control(control(1.0));
            let mut bed = vec![0.0f32; n];
            for h in 1..=6 {
                for (b, x) in bed.iter_mut().zip(tone(f0 * h as f32, 0.2 / h as f32, n)) {
                    *b += x;
                }
            }
            for (b, x) in bed.iter_mut().zip(tone(1_000.0, 0.2, n)) {
                *b += x;
            }
            let out = run(&mut d, &bed, &vowel(140.0, n));
            let lat = d.latency_samples();
            let r = 60_000..90_000;
            let change =
                |f: f32| component_db(&out[lat..], f, r.clone()) - component_db(&bed, f, r.clone());
            assert!(change(f0).abs() < 1.0, "{f0} Hz moved {} dB", change(f0));
            assert!(
                change(1_000.0) < -3.0,
                "1 kHz moved only {} dB",
                change(1_000.0)
            );
        }
    }

    #[test]
    fn speech_band_ratio_is_a_ratio_of_power_means_over_speech_frames_in_the_speech_bands() {
        let mut a = BandAnalysis {
            bands: 3,
            speech: true,
            ..Default::default()
        };
        a.centre_hz[..3].copy_from_slice(&[100.0, 1000.0, 3000.0]);
        a.dialogue_frame_db[..3].copy_from_slice(&[-10.0, -20.0, -30.0]);
        a.reduction_db[..3].copy_from_slice(&[0.0, 6.0, 2.0]);
        let mut r = SpeechBandRatio::new(None);
        let centres = &a.centre_hz[..3];
        assert_eq!(r.ratio_db(centres, true), None);
        // Two frames, the bed 20 dB apart: its power mean is 0.505 x the louder frame's.
        for bed_db in [-30.0, -50.0] {
            a.bed_frame_db[..3].fill(bed_db);
            r.add(&a);
        }
        // A frame without speech does not count.
        a.speech = false;
        a.bed_frame_db[..3].fill(0.0);
        r.add(&a);
        let bed_mean_db = -30.0 + 10.0 * 0.505f32.log10();
        let before = ((-20.0 - bed_mean_db) + (-30.0 - bed_mean_db)) / 2.0;
        assert!((r.ratio_db(centres, false).unwrap() - before).abs() < 1e-3);
        assert!((r.ratio_db(centres, true).unwrap() - (before + 4.0)).abs() < 1e-3);
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
        let mut d = SpectralDucker::new(SR, 1, &TEST_SETTINGS);
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
        // `key_over_bed_db` over the bed in every band; Clarity 10 dB, Depth -20 dB. Each band
        // is reduced to Clarity against the dialogue's soft level, capped at Depth.
        let n = 4 * 48_000;
        for key_over_bed_db in [6.0f32, -6.0, -20.0] {
            let key = comb(50.0, 0.01 * db_to_gain(key_over_bed_db), n, 1);
            let bed = comb(100.0, 0.01, n, 2);
            let mut d = SpectralDucker::new(SR, 1, &TEST_SETTINGS);
            d.set_control(control(1.0));
            d.set_analysis_enabled(true);
            let out = run(&mut d, &bed, &key);
            let lat = d.latency_samples();
            let a = d.analysis();
            let own = |b: usize| (10.0 - (a.dialogue_db[b] - a.bed_db[b])).clamp(0.0, 20.0);
            // As smoothed across neighbouring bands.
            let want = |b: usize| {
                0.25 * own(b.saturating_sub(1))
                    + 0.5 * own(b)
                    + 0.25 * own((b + 1).min(a.bands - 1))
            };
            let mut errors = Vec::new();
            for b in 0..a.bands {
                if (700.0..4_000.0).contains(&a.centre_hz[b]) {
                    // A band holds only one or two tones of each comb: +-1.5 dB per band.
                    let e = a.reduction_db[b] - want(b);
                    assert!(
                        e.abs() < 1.5,
                        "{key_over_bed_db} dB: band {} Hz reduced {} dB, want {}",
                        a.centre_hz[b],
                        a.reduction_db[b],
                        want(b)
                    );
                    errors.push(e);
                }
                assert!(a.reduction_db[b] <= 20.0 + 1e-3);
            }
            let mean = errors.iter().sum::<f32>() / errors.len() as f32;
            assert!(
                mean.abs() < 0.5,
                "{key_over_bed_db} dB: mean error {mean} dB"
            );
            if key_over_bed_db == -20.0 {
                assert!((0..a.bands).all(|b| a.centre_hz[b] < 700.0
                    || a.centre_hz[b] > 4_000.0
                    || a.reduction_db[b] > 19.9));
            }
            for f in [1_000.0f32, 2_500.0] {
                let band = (0..a.bands)
                    .min_by(|&x, &y| {
                        (a.centre_hz[x] - f)
                            .abs()
                            .total_cmp(&(a.centre_hz[y] - f).abs())
                    })
                    .unwrap();
                let got = component_db(&bed, f, 150_000..190_000)
                    - component_db(&out[lat..], f, 150_000..190_000);
                assert!(
                    (got - a.reduction_db[band]).abs() < 1.5,
                    "{f} Hz reduced {got} dB, band says {}",
                    a.reduction_db[band]
                );
            }
        }
    }

    #[test]
    fn steady_bed_and_key_give_stationary_band_gains() {
        let mut d = SpectralDucker::new(SR, 2, &TEST_SETTINGS);
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
            let mut masking = [[0.0f32; 512]; 2];
            d.process(
                &mut [&mut l[start..end], &mut r[start..end]],
                &[&key[start..end]],
                0,
                end - start,
                true,
                &mut masking,
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
