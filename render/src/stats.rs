//! What a render did, measured while it streams: speech share, reduction, loudness, and a
//! time line (gain change, speech, masking overlap per band) coarse enough to stay small for
//! any file length (at most [`MAX_COLUMNS`] columns).
//!
//! Everything here is on the *input* time line (the output is latency-aligned with the input).
//!
//! * **Reduction**: the bed's K-weighted level after minus before, per 100 ms window, over the
//!   windows where the input bed is above -70 LKFS. It is measured on the audio, so it means
//!   the same in Broadband and Spectral mode (in Spectral mode only some bands move, so the
//!   broadband figure is smaller than Depth).
//! * **Speech**: the engine's speech detection (`Meter::speech_active`), per engine block.
//! * **Masking overlap** per auditory band, from the engine's band analysis: how far the bed
//!   rises above the dialogue's spectrum minus Clarity (before ducking), and what is left of it
//!   after the reduction applied in that band (after). Only frames where speech is detected
//!   count: between lines there is nothing to mask.
//! * **Dialogue-to-bed, 500 Hz-4 kHz**: the editor's readout
//!   ([`SpeechBandRatio`], the quantity Clarity sets) over every frame where speech is
//!   detected, before and after ducking.

use underscore_dsp::bands::MAX_BANDS;
use underscore_dsp::spectral::{BandAnalysis, SpeechBandRatio};

use crate::loudness::{ABSOLUTE_GATE_LKFS, LoudnessMeter, SPEECH_BLOCK_SHARE, energy_to_lkfs};
use crate::sanity::{KeyActivity, KeyFigures};

/// Most time-line columns kept (the report is about this wide in pixels).
pub const MAX_COLUMNS: usize = 1_000;

/// One time-line column while collecting.
#[derive(Debug, Clone)]
struct Column {
    in_energy: f64,
    out_energy: f64,
    sub_blocks: u32,
    speech_share_sum: f64,
    band_frames: u32,
    before: [f64; MAX_BANDS],
    after: [f64; MAX_BANDS],
}

impl Default for Column {
    fn default() -> Self {
        Self {
            in_energy: 0.0,
            out_energy: 0.0,
            sub_blocks: 0,
            speech_share_sum: 0.0,
            band_frames: 0,
            before: [0.0; MAX_BANDS],
            after: [0.0; MAX_BANDS],
        }
    }
}

/// One finished time-line column.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineColumn {
    /// Share of the column in which speech was detected, 0..=1.
    pub speech_share: f64,
    /// Bed level change (after minus before, K-weighted), dB; `None` where the bed is silent.
    pub gain_db: Option<f64>,
    /// Mean masking overlap per band before / after ducking over the speech frames, dB;
    /// empty where no speech frame fell in the column.
    pub overlap_before_db: Vec<f32>,
    pub overlap_after_db: Vec<f32>,
}

/// The render's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub sample_rate_hz: u32,
    pub frames: u64,
    pub duration_s: f64,
    pub latency_samples: usize,
    /// Share of the time the engine detected speech, 0..=1.
    pub speech_share: f64,
    /// Mean reduction of the bed while speech is detected, dB (positive: quieter).
    pub mean_reduction_speech_db: Option<f64>,
    /// Mean reduction over the whole file, dB.
    pub mean_reduction_all_db: Option<f64>,
    /// Deepest reduction of any 100 ms window, dB.
    pub max_reduction_db: Option<f64>,
    /// Speech-gated loudness of the dialogue (as mixed onto the bed's layout), LUFS.
    pub dialogue_lufs: Option<f64>,
    /// Speech-gated loudness of the bed before and after ducking, LUFS.
    pub bed_before_lufs: Option<f64>,
    pub bed_after_lufs: Option<f64>,
    /// Integrated (BS.1770-4, gated) loudness of the bed before and after, LUFS.
    pub bed_integrated_before_lufs: Option<f64>,
    pub bed_integrated_after_lufs: Option<f64>,
    /// Band centres of the masking analysis, Hz (empty if it did not run).
    pub band_centres_hz: Vec<f32>,
    /// Mean masking overlap per band over the speech frames, before and after, dB.
    pub band_overlap_before_db: Vec<f64>,
    pub band_overlap_after_db: Vec<f64>,
    /// The editor's dialogue-to-bed readout (500 Hz-4 kHz, dialogue at its mean level) averaged
    /// over the speech frames, before and after ducking, dB.
    pub speech_band_ratio_before_db: Option<f64>,
    pub speech_band_ratio_after_db: Option<f64>,
    /// Duration of one time-line column, s.
    pub column_s: f64,
    pub timeline: Vec<TimelineColumn>,
    /// Output samples clipped at full scale (integer output formats).
    pub clipped_samples: u64,
    /// Wall-clock time of the render, s, and audio duration over it.
    pub elapsed_s: f64,
    pub times_realtime: f64,
    /// How the dialogue behaved (speech runs, pauses, levels), for the input warnings.
    pub key: KeyFigures,
}

impl Summary {
    /// Dialogue minus bed (speech-gated), before ducking, LU.
    pub fn dialogue_to_bed_before_lu(&self) -> Option<f64> {
        Some(self.dialogue_lufs? - self.bed_before_lufs?)
    }

    /// Dialogue minus bed (speech-gated), after ducking, LU.
    pub fn dialogue_to_bed_after_lu(&self) -> Option<f64> {
        Some(self.dialogue_lufs? - self.bed_after_lufs?)
    }
}

/// Collects the figures while a render streams.
pub struct Collector {
    sample_rate_hz: u32,
    latency_samples: usize,
    dialogue: LoudnessMeter,
    bed_in: LoudnessMeter,
    bed_out: LoudnessMeter,
    frames: u64,
    speech_frames: u64,
    reduction_all: (f64, u64),
    reduction_speech: (f64, u64),
    max_reduction_db: Option<f64>,
    sub_frames: usize,
    subs_per_column: u64,
    sub_index: u64,
    columns: Vec<Column>,
    /// Band analysis: aligned time offset of a frame (frames before the engine's position).
    band_offset_frames: u64,
    bands: usize,
    band_centres_hz: Vec<f32>,
    band_frames: u64,
    band_before: [f64; MAX_BANDS],
    band_after: [f64; MAX_BANDS],
    /// The speech-band readout over every speech frame.
    ratio: SpeechBandRatio,
    /// Speech runs, pauses and levels of the dialogue (the input warnings, `crate::sanity`).
    key: KeyActivity,
}

impl Collector {
    /// A collector for a render of `total_frames` frames of a `bed_channels` bed.
    /// `band_offset_frames`: how far behind the engine's position a band-analysis frame lies
    /// on the input time line.
    pub fn new(
        sample_rate_hz: u32,
        bed_channels: usize,
        total_frames: u64,
        latency_samples: usize,
        band_offset_frames: u64,
    ) -> Self {
        let sr = sample_rate_hz as f64;
        let dialogue = LoudnessMeter::new(sr, bed_channels);
        let sub_frames = dialogue.sub_block_frames();
        let subs = total_frames.div_ceil(sub_frames as u64).max(1);
        let subs_per_column = subs.div_ceil(MAX_COLUMNS as u64).max(1);
        let n_columns = subs.div_ceil(subs_per_column) as usize;
        Self {
            sample_rate_hz,
            latency_samples,
            dialogue,
            bed_in: LoudnessMeter::new(sr, bed_channels),
            bed_out: LoudnessMeter::new(sr, bed_channels),
            frames: 0,
            speech_frames: 0,
            reduction_all: (0.0, 0),
            reduction_speech: (0.0, 0),
            max_reduction_db: None,
            sub_frames,
            subs_per_column,
            sub_index: 0,
            columns: vec![Column::default(); n_columns],
            band_offset_frames,
            bands: 0,
            band_centres_hz: Vec::new(),
            band_frames: 0,
            band_before: [0.0; MAX_BANDS],
            band_after: [0.0; MAX_BANDS],
            ratio: SpeechBandRatio::new(None),
            key: KeyActivity::new(sample_rate_hz),
        }
    }

    fn column_mut(&mut self, sub_index: u64) -> Option<&mut Column> {
        self.columns
            .get_mut((sub_index / self.subs_per_column) as usize)
    }

    /// Adds aligned frames: the dialogue as mixed onto the bed layout, the bed before and
    /// after, and per frame whether speech was detected.
    pub fn add(
        &mut self,
        dialogue: &[&[f32]],
        bed_in: &[&[f32]],
        bed_out: &[&[f32]],
        speech: &[bool],
    ) {
        self.frames += speech.len() as u64;
        self.speech_frames += speech.iter().filter(|&&s| s).count() as u64;
        self.dialogue.push(dialogue, speech);
        self.bed_in.push(bed_in, speech);
        self.bed_out.push(bed_out, speech);
        self.key.add_frames(speech);
        for block in self.dialogue.completed() {
            self.key.add_block(block.energy, block.speech_share);
        }
        self.dialogue.clear_completed();
        let done_in = self.bed_in.take_completed();
        let done_out = self.bed_out.take_completed();
        for (a, b) in done_in.iter().zip(&done_out) {
            let index = self.sub_index;
            self.sub_index += 1;
            if energy_to_lkfs(a.energy) > ABSOLUTE_GATE_LKFS {
                let change_db = 10.0 * (b.energy.max(1e-30) / a.energy).log10();
                let reduction = -change_db;
                self.reduction_all.0 += reduction;
                self.reduction_all.1 += 1;
                if a.speech_share >= SPEECH_BLOCK_SHARE {
                    self.reduction_speech.0 += reduction;
                    self.reduction_speech.1 += 1;
                }
                self.max_reduction_db = Some(
                    self.max_reduction_db
                        .map_or(reduction, |m| m.max(reduction)),
                );
            }
            if let Some(c) = self.column_mut(index) {
                c.in_energy += a.energy;
                c.out_energy += b.energy;
                c.sub_blocks += 1;
                c.speech_share_sum += a.speech_share;
            }
        }
    }

    /// Adds one band-analysis frame published when the engine had processed `engine_frames`
    /// frames; counted only if `speech`.
    pub fn add_band_frame(&mut self, engine_frames: u64, speech: bool, a: &BandAnalysis) {
        if self.bands == 0 {
            self.bands = a.bands.min(MAX_BANDS);
            self.band_centres_hz = a.centre_hz[..self.bands].to_vec();
        }
        if !speech {
            return;
        }
        let n = self.bands;
        let t = engine_frames.saturating_sub(self.band_offset_frames);
        let sub = t / self.sub_frames as u64;
        self.band_frames += 1;
        self.ratio.add(a);
        for b in 0..n {
            let before = a.overlap_db[b] as f64;
            let after = (before - a.reduction_db[b] as f64).max(0.0);
            self.band_before[b] += before;
            self.band_after[b] += after;
        }
        if let Some(c) = self.column_mut(sub) {
            c.band_frames += 1;
            for b in 0..n {
                let before = a.overlap_db[b] as f64;
                c.before[b] += before;
                c.after[b] += (before - a.reduction_db[b] as f64).max(0.0);
            }
        }
    }

    /// The figures; `elapsed_s` is the render's wall-clock time.
    pub fn finish(self, elapsed_s: f64, clipped_samples: u64) -> Summary {
        let sr = self.sample_rate_hz as f64;
        let duration_s = self.frames as f64 / sr;
        let mean = |(sum, n): (f64, u64)| (n > 0).then(|| sum / n as f64);
        let n = self.bands;
        let per_band = |sums: &[f64; MAX_BANDS]| -> Vec<f64> {
            if self.band_frames == 0 {
                return vec![0.0; n];
            }
            sums[..n]
                .iter()
                .map(|s| s / self.band_frames as f64)
                .collect()
        };
        let timeline = self
            .columns
            .iter()
            .map(|c| {
                let subs = c.sub_blocks.max(1) as f64;
                let gain_db = (energy_to_lkfs(c.in_energy / subs) > ABSOLUTE_GATE_LKFS)
                    .then(|| 10.0 * (c.out_energy.max(1e-30) / c.in_energy).log10());
                let band = |v: &[f64; MAX_BANDS]| -> Vec<f32> {
                    if c.band_frames == 0 {
                        Vec::new()
                    } else {
                        v[..n]
                            .iter()
                            .map(|x| (x / c.band_frames as f64) as f32)
                            .collect()
                    }
                };
                TimelineColumn {
                    speech_share: c.speech_share_sum / subs,
                    gain_db,
                    overlap_before_db: band(&c.before),
                    overlap_after_db: band(&c.after),
                }
            })
            .collect();
        Summary {
            sample_rate_hz: self.sample_rate_hz,
            frames: self.frames,
            duration_s,
            latency_samples: self.latency_samples,
            speech_share: if self.frames > 0 {
                self.speech_frames as f64 / self.frames as f64
            } else {
                0.0
            },
            mean_reduction_speech_db: mean(self.reduction_speech),
            mean_reduction_all_db: mean(self.reduction_all),
            max_reduction_db: self.max_reduction_db,
            dialogue_lufs: self.dialogue.speech_gated_lkfs(),
            bed_before_lufs: self.bed_in.speech_gated_lkfs(),
            bed_after_lufs: self.bed_out.speech_gated_lkfs(),
            bed_integrated_before_lufs: self.bed_in.integrated_lkfs(),
            bed_integrated_after_lufs: self.bed_out.integrated_lkfs(),
            band_centres_hz: self.band_centres_hz.clone(),
            band_overlap_before_db: per_band(&self.band_before),
            band_overlap_after_db: per_band(&self.band_after),
            speech_band_ratio_before_db: self
                .ratio
                .ratio_db(&self.band_centres_hz, false)
                .map(f64::from),
            speech_band_ratio_after_db: self
                .ratio
                .ratio_db(&self.band_centres_hz, true)
                .map(f64::from),
            column_s: (self.subs_per_column * self.sub_frames as u64) as f64 / sr,
            timeline,
            clipped_samples,
            key: self.key.figures(),
            elapsed_s,
            times_realtime: if elapsed_s > 0.0 {
                duration_s / elapsed_s
            } else {
                f64::INFINITY
            },
        }
    }
}
