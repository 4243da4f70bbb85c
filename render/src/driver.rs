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

use underscore_dsp::settings::Setting;
use underscore_dsp::spectral::fft_size;
use underscore_dsp::{Engine, EngineParams};

use crate::automation::AutomationEvent;
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
}

/// The result of a render.
#[derive(Debug, Clone)]
pub struct RenderOutcome {
    /// Latency the engine added (and the driver removed), samples.
    pub latency_samples: usize,
    /// Automation events past the end of the input (not applied).
    pub ignored_events: usize,
    pub summary: Summary,
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
pub fn render(
    setup: &RenderSetup,
    bed: &mut dyn Source,
    key: &mut dyn Source,
    total_frames: u64,
    out: &mut dyn Sink,
    mut mix: Option<&mut dyn Sink>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RenderOutcome, RenderError> {
    let started = std::time::Instant::now();
    let bed_ch = bed.channels();
    let key_ch = key.channels();
    let block = setup.block_frames.clamp(1, MAX_BLOCK_FRAMES);
    let chunk = block * (IO_CHUNK_FRAMES / block).max(1);
    let sr = setup.sample_rate_hz;

    let mut engine = Engine::new(sr as f32, bed_ch);
    engine.set_analysis_enabled(setup.band_analysis);
    let mut params = setup.params;
    engine.set_params(&params);
    let latency = engine.latency_samples();
    // A band-analysis frame is centred half a window behind the engine's position on the key's
    // (input) time line, where the speech flags are too.
    let band_offset = (fft_size(sr as f32) / 2) as u64;
    let mut stats = Collector::new(sr, bed_ch, total_frames, latency, band_offset);

    let mut bed_buf = vec![vec![0.0f32; chunk]; bed_ch];
    let mut key_buf = vec![vec![0.0f32; chunk]; key_ch];
    let mut dlg_buf = vec![vec![0.0f32; chunk]; bed_ch];
    let mut mix_buf = vec![vec![0.0f32; chunk]; bed_ch];
    // Input not yet matched by aligned output (at most `latency` + one chunk frames).
    let mut pending_bed: Vec<Vec<f32>> = vec![Vec::with_capacity(latency + chunk); bed_ch];
    let mut pending_key: Vec<Vec<f32>> = vec![Vec::with_capacity(latency + chunk); key_ch];
    let mut pending_speech: Vec<bool> = Vec::with_capacity(latency + chunk);

    let events = &setup.automation;
    let mut next_event = 0usize;
    let mut engine_pos = 0u64;
    let mut block_left = block;
    let mut dropped = 0usize;
    let mut written = 0u64;
    let mut analysis_frames = engine.band_analysis_frames();
    let mut flush_left = latency;

    loop {
        // Fill one chunk: input, or silence to flush the latency.
        let (n, input_phase) = if engine_pos < total_frames {
            let want = chunk.min((total_frames - engine_pos) as usize);
            let n = bed.read(&mut bed_buf, want)?;
            if n == 0 {
                return Err(RenderError::usage(format!(
                    "the bed ended after {engine_pos} of {total_frames} frames"
                )));
            }
            if key.read(&mut key_buf, n)? != n {
                return Err(RenderError::usage(format!(
                    "the dialogue ended before frame {} of {total_frames}",
                    engine_pos + n as u64
                )));
            }
            for (p, b) in pending_bed.iter_mut().zip(&bed_buf) {
                p.extend_from_slice(&b[..n]);
            }
            for (p, k) in pending_key.iter_mut().zip(&key_buf) {
                p.extend_from_slice(&k[..n]);
            }
            (n, true)
        } else if flush_left > 0 {
            let n = flush_left.min(chunk);
            flush_left -= n;
            for c in bed_buf.iter_mut().chain(key_buf.iter_mut()) {
                c[..n].fill(0.0);
            }
            (n, false)
        } else {
            break;
        };

        // Engine blocks, split at automation events.
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
            engine.set_params(&params);
            {
                let mut bed_slices: Vec<&mut [f32]> =
                    bed_buf.iter_mut().map(|c| &mut c[pos..pos + len]).collect();
                let key_slices: Vec<&[f32]> = key_buf.iter().map(|c| &c[pos..pos + len]).collect();
                engine.process_block(&mut bed_slices, &key_slices);
            }
            let meter = engine.meter();
            if input_phase {
                pending_speech.extend(std::iter::repeat_n(meter.speech_active, len));
            }
            engine_pos += len as u64;
            if setup.band_analysis && engine.band_analysis_frames() != analysis_frames {
                analysis_frames = engine.band_analysis_frames();
                stats.add_band_frame(engine_pos, meter.speech_active, engine.band_analysis());
            }
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
            let out_slices: Vec<&[f32]> = bed_buf.iter().map(|c| &c[skip..n]).collect();
            let key_slices: Vec<&[f32]> = pending_key.iter().map(|c| &c[..m]).collect();
            map_dialogue(&key_slices, bed_ch, &mut dlg_buf);
            let dlg: Vec<&[f32]> = dlg_buf.iter().map(|c| &c[..m]).collect();
            let bed_in: Vec<&[f32]> = pending_bed.iter().map(|c| &c[..m]).collect();
            stats.add(&dlg, &bed_in, &out_slices, &pending_speech[..m]);
            out.write(&out_slices)?;
            if let Some(mix) = mix.as_deref_mut() {
                for ((o, d), b) in mix_buf.iter_mut().zip(&dlg).zip(&out_slices) {
                    for ((o, &d), &b) in o.iter_mut().zip(d.iter()).zip(b.iter()) {
                        *o = d + b;
                    }
                }
                let mix_slices: Vec<&[f32]> = mix_buf.iter().map(|c| &c[..m]).collect();
                mix.write(&mix_slices)?;
            }
            for p in pending_bed.iter_mut().chain(pending_key.iter_mut()) {
                p.drain(..m);
            }
            pending_speech.drain(..m);
            written += m as u64;
        }
        progress(written, total_frames);
    }

    let elapsed_s = started.elapsed().as_secs_f64();
    Ok(RenderOutcome {
        latency_samples: latency,
        ignored_events: events.len() - next_event,
        summary: stats.finish(elapsed_s, 0),
    })
}

/// Sets `value` (user units, already checked) on `params`.
fn apply(params: &mut EngineParams, info: &Setting, value: f32) {
    // Checked when the file was read; a failure here would leave the value unchanged.
    let _ = info.set(params, value);
}
