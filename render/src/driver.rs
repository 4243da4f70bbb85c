//! The render driver: streams bed and dialogue through one [`Engine`] in blocks, applies
//! automation sample-accurately, and writes an output aligned with the input.
//!
//! **Automation** is applied as nice-plug applies a host's sample-accurate automation to the
//! plugin: an engine block is split at every event position, and `set_params` is called before
//! every (sub-)block with the settings in force, exactly as the plugin's `process()` does. So a
//! render and the plugin hosted with the same events at the same samples are sample-identical.
//!
//! **Latency alignment**: the engine delays the bed by [`Engine::latency_samples`] (the
//! lookahead, plus one FFT window in Spectral mode). The driver drops the first `latency`
//! output samples and, after the input ends, feeds `latency` samples of silence (bed and key)
//! to flush the tail, so output sample `n` belongs to input sample `n` and the output has
//! exactly the input's length. (The plugin's output, by contrast, is `latency` samples late;
//! hosts compensate that.)
//!
//! Memory is fixed: one I/O chunk per stream plus `latency` frames of pending input.

use underscore_dsp::link::LinkGroup;
use underscore_dsp::settings::Setting;
use underscore_dsp::spectral::{BandAnalysis, SpeechBandRatio, fft_size};
use underscore_dsp::{Engine, EngineParams};

use crate::automation::AutomationEvent;
use crate::envelope::{Envelope, EnvelopeCollector};
use crate::error::RenderError;
use crate::stats::{Collector, Summary};

/// Frames read and written per I/O chunk (rounded to whole engine blocks).
pub const IO_CHUNK_FRAMES: usize = 8_192;
/// Largest `--block`.
pub const MAX_BLOCK_FRAMES: usize = 65_536;

/// Where input audio comes from, a chunk at a time.
pub trait Source {
    /// Channels per frame.
    fn channels(&self) -> usize;
    /// Reads up to `frames` frames into `out[ch][..n]`, returns `n` (0 at the end).
    fn read(&mut self, out: &mut [Vec<f32>], frames: usize) -> Result<usize, RenderError>;
}

/// Where output audio goes, a chunk at a time.
pub trait Sink {
    /// Writes one chunk (planar, all channels the same length).
    fn write(&mut self, channels: &[&[f32]]) -> Result<(), RenderError>;
}

/// A signal in memory, read as a stream (tests, benchmarks).
pub struct MemSource {
    channels: Vec<Vec<f32>>,
    pos: usize,
}

impl MemSource {
    pub fn new(channels: Vec<Vec<f32>>) -> Self {
        Self { channels, pos: 0 }
    }
}

impl Source for MemSource {
    fn channels(&self) -> usize {
        self.channels.len()
    }

    fn read(&mut self, out: &mut [Vec<f32>], frames: usize) -> Result<usize, RenderError> {
        let len = self.channels.first().map_or(0, Vec::len);
        let n = frames.min(len - self.pos);
        for (o, c) in out.iter_mut().zip(&self.channels) {
            o[..n].copy_from_slice(&c[self.pos..self.pos + n]);
        }
        self.pos += n;
        Ok(n)
    }
}

/// Collects output in memory (tests).
#[derive(Default)]
pub struct MemSink {
    pub channels: Vec<Vec<f32>>,
}

impl Sink for MemSink {
    fn write(&mut self, channels: &[&[f32]]) -> Result<(), RenderError> {
        if self.channels.is_empty() {
            self.channels = vec![Vec::new(); channels.len()];
        }
        for (o, c) in self.channels.iter_mut().zip(channels) {
            o.extend_from_slice(c);
        }
        Ok(())
    }
}

/// What to render, besides the audio.
#[derive(Debug, Clone)]
pub struct RenderSetup {
    pub sample_rate_hz: u32,
    /// Settings at the start.
    pub params: EngineParams,
    /// Changes, sorted by sample position.
    pub automation: Vec<AutomationEvent>,
    /// Frames per engine call (a host's buffer size; the result does not depend on it).
    pub block_frames: usize,
    /// Run the engine's per-band analysis (for the report's masking heat map and `--json`).
    pub band_analysis: bool,
    /// Record the applied gain and the speech regions per bed (`--export-envelope`); the
    /// audio is the same with or without.
    pub envelope: bool,
}

/// The result of a render.
#[derive(Debug, Clone)]
pub struct RenderOutcome {
    /// Latency the engine added (and the driver removed), samples.
    pub latency_samples: usize,
    /// Automation events past the end of the input (not applied).
    pub ignored_events: usize,
    pub summary: Summary,
    /// The applied gain and speech regions (with [`RenderSetup::envelope`]).
    pub envelope: Option<Envelope>,
}

/// Gain of a mono dialogue on each side of a stereo bed: -3 dB (constant-power centre pan), so
/// the dialogue keeps its loudness in the mix.
pub const CENTRE_PAN_GAIN: f32 = std::f32::consts::FRAC_1_SQRT_2;

/// Maps dialogue frames `key[..][range]` onto a `bed_channels` layout into `out[..][..len]`:
/// same layout as is; mono to stereo at -3 dB per side, to 5.1 on the centre; stereo to mono
/// as (L+R) x 0.707, to 5.1 on L/R; 5.1 to stereo as L + 0.707 C + 0.707 Ls (and R
/// likewise; LFE dropped, ITU-R BS.775), to mono as the sum of those two x 0.707.
pub fn map_dialogue(key: &[&[f32]], bed_channels: usize, out: &mut [Vec<f32>]) {
    let len = key.first().map_or(0, |k| k.len());
    let g = CENTRE_PAN_GAIN;
    for o in out.iter_mut() {
        o[..len].fill(0.0);
    }
    match (key.len(), bed_channels) {
        (k, b) if k == b => {
            for (o, k) in out.iter_mut().zip(key) {
                o[..len].copy_from_slice(k);
            }
        }
        (1, 2) => {
            for o in out.iter_mut().take(2) {
                for (d, &x) in o.iter_mut().zip(key[0]) {
                    *d = x * g;
                }
            }
        }
        (1, 6) => out[2][..len].copy_from_slice(key[0]),
        (2, 1) => {
            for (i, d) in out[0][..len].iter_mut().enumerate() {
                *d = (key[0][i] + key[1][i]) * g;
            }
        }
        (2, 6) => {
            out[0][..len].copy_from_slice(key[0]);
            out[1][..len].copy_from_slice(key[1]);
        }
        (6, b) => {
            for i in 0..len {
                let l = key[0][i] + g * (key[2][i] + key[4][i]);
                let r = key[1][i] + g * (key[2][i] + key[5][i]);
                if b == 2 {
                    out[0][i] = l;
                    out[1][i] = r;
                } else if b == 1 {
                    out[0][i] = (l + r) * g;
                }
            }
        }
        _ => {}
    }
}

/// Renders `bed` keyed by `key` (equal lengths, `total_frames` each) into `out` (and the
/// dialogue + ducked bed into `mix`), aligned with the input. `progress(done, total)` is called
/// after every chunk.
#[allow(clippy::too_many_arguments)]
pub fn render<'a>(
    setup: &RenderSetup,
    bed: &'a mut dyn Source,
    key: &mut dyn Source,
    total_frames: u64,
    out: &'a mut dyn Sink,
    mix: Option<&'a mut dyn Sink>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RenderOutcome, RenderError> {
    let role = setup.params.role;
    let beds = vec![BedJob {
        source: bed,
        out,
        role,
    }];
    let mut group = render_group(setup, beds, key, total_frames, false, mix, progress)?;
    let envelope = group.envelopes.pop();
    let summary = group
        .summaries
        .into_iter()
        .next()
        .unwrap_or_else(|| unreachable!("render_group returns one summary per bed"));
    Ok(RenderOutcome {
        latency_samples: group.latency_samples,
        ignored_events: group.ignored_events,
        summary,
        envelope,
    })
}

/// One bed of a render: where it comes from, where it goes, and its Role in a linked render.
pub struct BedJob<'a> {
    pub source: &'a mut dyn Source,
    pub out: &'a mut dyn Sink,
    pub role: underscore_dsp::settings::Role,
}

/// The result of a render of one or more beds.
#[derive(Debug, Clone)]
pub struct GroupOutcome {
    /// Latency the engines added (and the driver removed), samples.
    pub latency_samples: usize,
    /// Automation events past the end of the input (not applied).
    pub ignored_events: usize,
    /// Per bed, in the order given.
    pub summaries: Vec<Summary>,
    pub figures: GroupFigures,
    /// Per bed, in the order given, with [`RenderSetup::envelope`] (else empty).
    pub envelopes: Vec<Envelope>,
}

/// What a linked render measured on the group (with the band analysis).
#[derive(Debug, Clone, Default)]
pub struct GroupFigures {
    /// The dialogue-to-bed readout (500 Hz-4 kHz) on the *sum* of the beds, before and after
    /// ducking, dB (the editor's group readout); `None` without band analysis or speech.
    pub combined_ratio_before_db: Option<f64>,
    pub combined_ratio_after_db: Option<f64>,
    /// The speech band-frames where the group needed a cut that the first role to yield could
    /// make on its own...
    pub first_role_cells: u64,
    /// ...and each bed's mean cut over them, dB (in bed order).
    pub first_role_reduction_db: Vec<f64>,
    /// The same over the cells among them where the first role cut at least
    /// [`FIRST_ROLE_CUT_DB`].
    pub first_role_cut_cells: u64,
    pub first_role_cut_reduction_db: Vec<f64>,
}

/// The cut that makes a band-frame count as one where the first role to yield did the work,
/// dB (the "3 dB less" is measured where there were 3 dB to take).
pub const FIRST_ROLE_CUT_DB: f32 = 3.0;

/// One bed's engine and buffers in a render.
struct Lane<'a> {
    job: BedJob<'a>,
    engine: Engine,
    stats: Collector,
    bed_buf: Vec<Vec<f32>>,
    /// The dialogue on this bed's layout (the mix is built on the first bed's).
    dlg_buf: Vec<Vec<f32>>,
    /// Input not yet matched by aligned output (at most `latency` + one chunk frames).
    pending_bed: Vec<Vec<f32>>,
    pending_key: Vec<Vec<f32>>,
    pending_speech: Vec<bool>,
    analysis_frames: u32,
    envelope: Option<EnvelopeCollector>,
}

/// Renders `beds` keyed by one dialogue `key` (all `total_frames` long), each into its own
/// output, aligned with the input. With `linked` the beds' engines join one link group (see
/// `underscore_dsp::link`) and run in lockstep, block by block in the order given, as linked
/// plugin instances run in a host: the sum of the beds shares one masking budget. Settings and
/// automation apply to every bed; each bed has its own Role. `mix` receives the dialogue (on
/// the first bed's layout) plus the sum of the ducked beds (all of that layout).
#[allow(clippy::too_many_arguments)]
pub fn render_group<'a>(
    setup: &RenderSetup,
    beds: Vec<BedJob<'a>>,
    key: &mut dyn Source,
    total_frames: u64,
    linked: bool,
    mut mix: Option<&'a mut dyn Sink>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<GroupOutcome, RenderError> {
    let started = std::time::Instant::now();
    let key_ch = key.channels();
    let block = setup.block_frames.clamp(1, MAX_BLOCK_FRAMES);
    let chunk = block * (IO_CHUNK_FRAMES / block).max(1);
    let sr = setup.sample_rate_hz;
    let group = std::sync::Arc::new(LinkGroup::new());
    let mut params = setup.params;
    // A band-analysis frame is centred half a window behind the engine's position on the key's
    // (input) time line, where the speech flags are too.
    let band_offset = (fft_size(sr as f32) / 2) as u64;
    let mut latency = 0;
    let mut lanes = Vec::with_capacity(beds.len());
    for job in beds {
        let bed_ch = job.source.channels();
        let mut engine = Engine::new(sr as f32, bed_ch);
        engine.set_analysis_enabled(setup.band_analysis);
        engine.set_params(&EngineParams {
            role: job.role,
            ..params
        });
        if linked {
            let member = group.join(sr as f32).ok_or_else(|| {
                RenderError::usage(format!(
                    "at most {} linked beds",
                    underscore_dsp::link::MAX_MEMBERS
                ))
            })?;
            engine.set_link(Some(member));
        }
        latency = engine.latency_samples();
        let envelope = setup.envelope.then(|| {
            if EnvelopeCollector::needs_band_analysis(&engine) {
                engine.set_analysis_enabled(true);
            }
            EnvelopeCollector::new(&engine, total_frames)
        });
        let stats = Collector::new(sr, bed_ch, total_frames, latency, band_offset);
        let analysis_frames = engine.band_analysis_frames();
        lanes.push(Lane {
            job,
            engine,
            stats,
            bed_buf: vec![vec![0.0f32; chunk]; bed_ch],
            dlg_buf: vec![vec![0.0f32; chunk]; bed_ch],
            pending_bed: vec![Vec::with_capacity(latency + chunk); bed_ch],
            pending_key: vec![Vec::with_capacity(latency + chunk); key_ch],
            pending_speech: Vec::with_capacity(latency + chunk),
            analysis_frames,
            envelope,
        });
    }
    let mut key_buf = vec![vec![0.0f32; chunk]; key_ch];
    let mut combined = SpeechBandRatio::new(None);
    let mut first_role_cells = 0u64;
    let mut first_role_sums = vec![0.0f64; lanes.len()];
    let mut first_role_cut_cells = 0u64;
    let mut first_role_cut_sums = vec![0.0f64; lanes.len()];
    let mut centres_hz: Vec<f32> = Vec::new();

    let events = &setup.automation;
    let mut next_event = 0usize;
    let mut engine_pos = 0u64;
    let mut block_left = block;
    let mut dropped = 0usize;
    let mut written = 0u64;
    let mut flush_left = latency;

    loop {
        // Fill one chunk: input, or silence to flush the latency.
        let (n, input_phase) = if engine_pos < total_frames {
            let want = chunk.min((total_frames - engine_pos) as usize);
            let mut n = 0;
            for lane in &mut lanes {
                n = lane.job.source.read(&mut lane.bed_buf, want)?;
                if n != want {
                    return Err(RenderError::usage(format!(
                        "a bed ended after {} of {total_frames} frames",
                        engine_pos + n as u64
                    )));
                }
                for (p, b) in lane.pending_bed.iter_mut().zip(&lane.bed_buf) {
                    p.extend_from_slice(&b[..n]);
                }
            }
            if key.read(&mut key_buf, n)? != n {
                return Err(RenderError::usage(format!(
                    "the dialogue ended before frame {} of {total_frames}",
                    engine_pos + n as u64
                )));
            }
            for lane in &mut lanes {
                for (p, k) in lane.pending_key.iter_mut().zip(&key_buf) {
                    p.extend_from_slice(&k[..n]);
                }
            }
            (n, true)
        } else if flush_left > 0 {
            let n = flush_left.min(chunk);
            flush_left -= n;
            for c in key_buf.iter_mut() {
                c[..n].fill(0.0);
            }
            for lane in &mut lanes {
                for c in lane.bed_buf.iter_mut() {
                    c[..n].fill(0.0);
                }
            }
            (n, false)
        } else {
            break;
        };

        // Engine blocks, split at automation events; the beds take turns block by block.
        let mut pos = 0;
        while pos < n {
            while let Some(e) = events.get(next_event).filter(|e| e.sample <= engine_pos) {
                apply(&mut params, e.param, e.value);
                next_event += 1;
            }
            let mut len = (n - pos).min(block_left);
            if let Some(e) = events.get(next_event) {
                len = len.min((e.sample - engine_pos).min(len as u64) as usize);
            }
            let key_slices: Vec<&[f32]> = key_buf.iter().map(|c| &c[pos..pos + len]).collect();
            let mut new_frames = 0;
            for lane in &mut lanes {
                let engine = &mut lane.engine;
                engine.set_params(&EngineParams {
                    role: lane.job.role,
                    ..params
                });
                let mut bed_slices: Vec<&mut [f32]> = lane
                    .bed_buf
                    .iter_mut()
                    .map(|c| &mut c[pos..pos + len])
                    .collect();
                match lane.envelope.as_mut() {
                    Some(env) => env.process(engine, &mut bed_slices, &key_slices, engine_pos),
                    None => engine.process_block(&mut bed_slices, &key_slices),
                }
                let meter = engine.meter();
                if input_phase {
                    lane.pending_speech
                        .extend(std::iter::repeat_n(meter.speech_active, len));
                }
                if setup.band_analysis && engine.band_analysis_frames() != lane.analysis_frames {
                    lane.analysis_frames = engine.band_analysis_frames();
                    let end = engine_pos + len as u64;
                    lane.stats
                        .add_band_frame(end, meter.speech_active, engine.band_analysis());
                    new_frames += 1;
                }
            }
            // The beds share one STFT grid: their frames complete together.
            if new_frames == lanes.len() {
                let frames: Vec<&BandAnalysis> =
                    lanes.iter().map(|l| l.engine.band_analysis()).collect();
                if centres_hz.is_empty() {
                    centres_hz = frames[0].centre_hz[..frames[0].bands].to_vec();
                }
                combined.add_group(&frames);
                // Every member computes the same sharing: the first lane's flags stand for all.
                if frames[0].speech {
                    for b in 0..frames[0].bands {
                        if frames[0].first_role_enough[b] {
                            first_role_cells += 1;
                            for (sum, f) in first_role_sums.iter_mut().zip(&frames) {
                                *sum += f.reduction_db[b] as f64;
                            }
                            let most = frames.iter().map(|f| f.reduction_db[b]).fold(0.0, f32::max);
                            if most >= FIRST_ROLE_CUT_DB {
                                first_role_cut_cells += 1;
                                for (sum, f) in first_role_cut_sums.iter_mut().zip(&frames) {
                                    *sum += f.reduction_db[b] as f64;
                                }
                            }
                        }
                    }
                }
            }
            engine_pos += len as u64;
            pos += len;
            block_left -= len;
            if block_left == 0 {
                block_left = block;
            }
        }

        // Aligned output: drop the first `latency` samples.
        let skip = n.min(latency - dropped);
        dropped += skip;
        let m = n - skip;
        if m > 0 {
            for lane in &mut lanes {
                lane.write_aligned(skip, n, m)?;
            }
            if let Some(mix) = mix.as_deref_mut() {
                // The first lane's dialogue buffer holds the dialogue on its layout: add every
                // ducked bed (all of that layout) into it.
                let (first, rest) = lanes.split_first_mut().expect("at least one bed");
                for (ch, o) in first.dlg_buf.iter_mut().enumerate() {
                    let beds = std::iter::once(&first.bed_buf[ch])
                        .chain(rest.iter().map(|l| &l.bed_buf[ch]));
                    for bed in beds {
                        for (o, &b) in o[..m].iter_mut().zip(&bed[skip..n]) {
                            *o += b;
                        }
                    }
                }
                let mix_slices: Vec<&[f32]> = first.dlg_buf.iter().map(|c| &c[..m]).collect();
                mix.write(&mix_slices)?;
            }
            written += m as u64;
        }
        progress(written, total_frames);
    }

    let elapsed_s = started.elapsed().as_secs_f64();
    let envelopes = lanes
        .iter_mut()
        .filter_map(|l| l.envelope.take().map(EnvelopeCollector::finish))
        .collect();
    let mean = |sums: &[f64], cells: u64| -> Vec<f64> {
        sums.iter().map(|s| s / cells.max(1) as f64).collect()
    };
    Ok(GroupOutcome {
        latency_samples: latency,
        ignored_events: events.len() - next_event,
        summaries: lanes
            .into_iter()
            .map(|l| l.stats.finish(elapsed_s, 0))
            .collect(),
        figures: GroupFigures {
            combined_ratio_before_db: combined.ratio_db(&centres_hz, false).map(f64::from),
            combined_ratio_after_db: combined.ratio_db(&centres_hz, true).map(f64::from),
            first_role_cells,
            first_role_reduction_db: mean(&first_role_sums, first_role_cells),
            first_role_cut_cells,
            first_role_cut_reduction_db: mean(&first_role_cut_sums, first_role_cut_cells),
        },
        envelopes,
    })
}

impl Lane<'_> {
    /// Writes the chunk's aligned part (`m` frames from `skip`, of `n`) and feeds the figures.
    fn write_aligned(&mut self, skip: usize, n: usize, m: usize) -> Result<(), RenderError> {
        let bed_ch = self.bed_buf.len();
        let out_slices: Vec<&[f32]> = self.bed_buf.iter().map(|c| &c[skip..n]).collect();
        let key_slices: Vec<&[f32]> = self.pending_key.iter().map(|c| &c[..m]).collect();
        map_dialogue(&key_slices, bed_ch, &mut self.dlg_buf);
        let dlg: Vec<&[f32]> = self.dlg_buf.iter().map(|c| &c[..m]).collect();
        let bed_in: Vec<&[f32]> = self.pending_bed.iter().map(|c| &c[..m]).collect();
        self.stats
            .add(&dlg, &bed_in, &out_slices, &self.pending_speech[..m]);
        self.job.out.write(&out_slices)?;
        for p in self
            .pending_bed
            .iter_mut()
            .chain(self.pending_key.iter_mut())
        {
            p.drain(..m);
        }
        self.pending_speech.drain(..m);
        Ok(())
    }
}

/// Sets `value` (user units, already checked) on `params`.
fn apply(params: &mut EngineParams, info: &Setting, value: f32) {
    // Checked when the file was read; a failure here would leave the value unchanged.
    let _ = info.set(params, value);
}
