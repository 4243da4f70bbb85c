//! The engine: one ducking chain, shared by the plugin and the offline renderer so the two can
//! never diverge.
//!
//! Work is split in two rates. Per sample: the bed goes through the lookahead delay and is
//! multiplied by a gain that is interpolated linearly across each control tick. Per control
//! tick ([`TICK_MS`], about 1/3 ms): the key level is closed, the duck envelope and parameter
//! ramps advance, and the gain at the end of the next tick is computed. The tick grid runs on
//! its own sample counter, so results do not depend on how the host splits blocks.

use crate::ballistics::DuckEnvelope;
use crate::delay::LookaheadDelay;
use crate::detector::{KeyDownmix, LevelDetector};
use crate::params::{EngineParams, LOOKAHEAD_MS, sanitize_params};
use crate::ramp::Ramp;
use crate::units::{db_to_gain, gain_to_db, ms_to_samples};

/// Control tick length, in ms: 16 samples at 48 kHz. Short against every ballistic time (the
/// fastest attack is 0.1 ms-1 ms of smoothing anyway), long enough that `exp()` is per tick,
/// not per sample.
pub const TICK_MS: f32 = 1.0 / 3.0;
/// Ramp time for Depth, Mix and Output changes, in ms (zipper-free automation).
pub const PARAM_RAMP_MS: f32 = 20.0;
/// Crossfade time of Bypass, in ms.
pub const BYPASS_FADE_MS: f32 = 10.0;
/// Hysteresis of the key threshold, in dB: the key turns on above Threshold and off only below
/// Threshold minus this, so a key hovering at threshold does not chatter.
pub const THRESHOLD_HYSTERESIS_DB: f32 = 3.0;

/// A snapshot for meters, updated every tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Meter {
    /// Gain the duck applies now (Depth x envelope x Mix, without Output), in dB (<= 0).
    pub duck_gain_db: f32,
    /// Speech-band key level, in dBFS.
    pub key_level_db: f32,
    /// Whether the key counts as active.
    pub key_active: bool,
}

/// The ducking chain for one plugin instance or one render.
pub struct Engine {
    sample_rate_hz: f32,
    tick_samples: usize,
    tick_pos: usize,
    detector: LevelDetector,
    envelope: DuckEnvelope,
    delay: LookaheadDelay,
    params: EngineParams,
    depth_db: Ramp,
    mix: Ramp,
    output_gain_db: Ramp,
    bypass: Ramp,
    gain_from: f32,
    gain_to: f32,
    meter: Meter,
    started: bool,
}

impl Engine {
    /// Builds the chain for `bed_channels` bed channels at `sample_rate_hz`. All memory is
    /// allocated here.
    pub fn new(sample_rate_hz: f32, bed_channels: usize) -> Self {
        let tick_samples = ms_to_samples(TICK_MS, sample_rate_hz).max(1);
        let ticks = |ms: f32| (ms_to_samples(ms, sample_rate_hz) / tick_samples) as u32;
        let params = EngineParams::default();
        Self {
            sample_rate_hz,
            tick_samples,
            tick_pos: 0,
            detector: LevelDetector::new(sample_rate_hz, tick_samples),
            envelope: DuckEnvelope::new(sample_rate_hz),
            delay: LookaheadDelay::new(
                bed_channels,
                ms_to_samples(LOOKAHEAD_MS.max, sample_rate_hz),
                sample_rate_hz,
            ),
            params,
            depth_db: Ramp::new(params.depth_db, ticks(PARAM_RAMP_MS)),
            mix: Ramp::new(params.mix, ticks(PARAM_RAMP_MS)),
            output_gain_db: Ramp::new(params.output_gain_db, ticks(PARAM_RAMP_MS)),
            bypass: Ramp::new(0.0, ticks(BYPASS_FADE_MS)),
            gain_from: 1.0,
            gain_to: 1.0,
            meter: Meter {
                duck_gain_db: 0.0,
                key_level_db: crate::units::FLOOR_DB,
                key_active: false,
            },
            started: false,
        }
    }

    /// Sample rate this engine was built for, in Hz.
    pub fn sample_rate_hz(&self) -> f32 {
        self.sample_rate_hz
    }

    /// Lookahead in samples for `lookahead_ms` at this sample rate (what the host must be told).
    pub fn lookahead_samples(&self, lookahead_ms: f32) -> usize {
        ms_to_samples(
            lookahead_ms.clamp(0.0, LOOKAHEAD_MS.max),
            self.sample_rate_hz,
        )
    }

    /// Latency the chain adds now, in samples.
    pub fn latency_samples(&self) -> usize {
        self.delay.delay_samples()
    }

    /// Chooses which key channels the detector listens to.
    pub fn set_key_downmix(&mut self, downmix: KeyDownmix) {
        self.detector.set_downmix(downmix);
    }

    /// Applies new settings. Gains ramp to them, the lookahead crossfades; before the first
    /// processed sample everything jumps, so a render starts exactly at its settings.
    pub fn set_params(&mut self, params: &EngineParams) {
        let p = sanitize_params(params);
        self.envelope
            .set_times(p.attack_ms, p.hold_ms, p.release_ms);
        let bypass = if p.bypass { 1.0 } else { 0.0 };
        let lookahead = self.lookahead_samples(p.lookahead_ms);
        if self.started {
            self.depth_db.set_target(p.depth_db);
            self.mix.set_target(p.mix);
            self.output_gain_db.set_target(p.output_gain_db);
            self.bypass.set_target(bypass);
        } else {
            self.depth_db.jump(p.depth_db);
            self.mix.jump(p.mix);
            self.output_gain_db.jump(p.output_gain_db);
            self.bypass.jump(bypass);
            self.gain_to = self.total_gain(0.0);
            self.gain_from = self.gain_to;
        }
        self.delay.set_delay(lookahead, !self.started);
        self.params = p;
    }

    /// The settings in force (after range clamping).
    pub fn params(&self) -> &EngineParams {
        &self.params
    }

    /// Ducks `bed` (channels x samples, in place) keyed by `key` (channels x samples, may be
    /// empty = no sidechain = silence). Any block length; all channels the same length.
    pub fn process_block<K: AsRef<[f32]>>(&mut self, bed: &mut [&mut [f32]], key: &[K]) {
        self.started = true;
        let n = bed.first().map_or(0, |c| c.len());
        let key_ok = key.iter().all(|k| k.as_ref().len() >= n);
        let key: &[K] = if key_ok { key } else { &[] };
        let mut pos = 0;
        while pos < n {
            let len = (n - pos).min(self.tick_samples - self.tick_pos);
            self.detector.accumulate(key, pos, len);
            self.delay.process(bed, pos, len);
            self.apply_gain(bed, pos, len);
            self.tick_pos += len;
            pos += len;
            if self.tick_pos == self.tick_samples {
                self.tick_pos = 0;
                self.end_tick();
            }
        }
    }

    /// Multiplies `bed[..][start..start+len]` by the gain interpolated across the tick.
    fn apply_gain(&self, bed: &mut [&mut [f32]], start: usize, len: usize) {
        let step = (self.gain_to - self.gain_from) / self.tick_samples as f32;
        let g0 = self.gain_from + step * self.tick_pos as f32;
        if step == 0.0 && g0 == 1.0 {
            return;
        }
        for ch in bed.iter_mut() {
            let mut g = g0;
            for x in &mut ch[start..start + len] {
                g += step;
                *x *= g;
            }
        }
    }

    /// Control-rate update at the end of each tick.
    fn end_tick(&mut self) {
        let level_db = self.detector.finish_tick();
        let active = if self.meter.key_active {
            level_db > self.params.threshold_db - THRESHOLD_HYSTERESIS_DB
        } else {
            level_db > self.params.threshold_db
        };
        let amount = self.envelope.process_tick(active, self.tick_samples);
        self.depth_db.tick();
        self.mix.tick();
        self.output_gain_db.tick();
        self.bypass.tick();
        self.gain_from = self.gain_to;
        self.gain_to = self.total_gain(amount);
        self.meter = Meter {
            duck_gain_db: gain_to_db(
                1.0 + self.mix.value() * (db_to_gain(self.depth_db.value() * amount) - 1.0),
            ),
            key_level_db: level_db,
            key_active: active,
        };
    }

    /// Bed gain (linear) for a shaped duck `amount`, with Depth, Mix, Output and Bypass.
    fn total_gain(&self, amount: f32) -> f32 {
        let duck = db_to_gain(self.depth_db.value() * amount);
        let wet = (1.0 + self.mix.value() * (duck - 1.0)) * db_to_gain(self.output_gain_db.value());
        let b = self.bypass.value();
        wet + b * (1.0 - wet)
    }

    /// Latest meter snapshot.
    pub fn meter(&self) -> Meter {
        self.meter
    }

    /// Clears all signal memory (host reset / transport jump); settings are kept.
    pub fn reset(&mut self) {
        self.detector.reset();
        self.envelope.reset();
        self.delay.reset();
        self.tick_pos = 0;
        self.started = false;
        let p = self.params;
        self.set_params(&p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SR: f32 = 48_000.0;

    fn sine(freq_hz: f32, amp: f32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| amp * (2.0 * std::f32::consts::PI * freq_hz * i as f32 / SR).sin())
            .collect()
    }

    fn rms_db(x: &[f32]) -> f32 {
        let p = x.iter().map(|v| (v * v) as f64).sum::<f64>() / x.len() as f64;
        10.0 * p.log10() as f32
    }

    /// Renders a mono bed with a mono key in blocks of `block` samples.
    fn render(params: &EngineParams, bed: &[f32], key: &[f32], block: usize) -> Vec<f32> {
        let mut engine = Engine::new(SR, 1);
        engine.set_params(params);
        let mut out = bed.to_vec();
        for (o, k) in out.chunks_mut(block).zip(key.chunks(block)) {
            engine.process_block(&mut [o], &[k]);
        }
        out
    }

    #[test]
    fn silent_key_passes_bed_delayed_by_lookahead() {
        let p = EngineParams::default();
        let mut bed = vec![0.0; 4_800];
        bed[100] = 1.0;
        let out = render(&p, &bed, &vec![0.0; 4_800], 64);
        let latency = ms_to_samples(p.lookahead_ms, SR);
        assert_eq!(latency, 960);
        assert_eq!(out.iter().position(|&x| x != 0.0), Some(100 + latency));
        assert_eq!(out[100 + latency], 1.0);
    }

    #[test]
    fn steady_key_settles_at_depth_and_releases_in_hold_plus_release() {
        let p = EngineParams::default();
        let n = 96_000;
        let bed = sine(200.0, 0.5, n);
        let mut key = sine(1_000.0, 0.3, n / 2);
        key.resize(n, 0.0);
        let out = render(&p, &bed, &key, 512);
        let lat = 960;
        // Settled duck: output over input, both compared on the same (delayed) samples.
        let settled = rms_db(&out[20_000..24_000]) - rms_db(&bed[20_000 - lat..24_000 - lat]);
        assert!((settled - p.depth_db).abs() < 0.1, "{settled}");
        // Back to 0 dB within Hold + Release (+10 %) of the key stopping.
        let back_ms = p.hold_ms + p.release_ms;
        let t = n / 2 + lat + ms_to_samples(back_ms * 1.1, SR);
        let restored = rms_db(&out[t..t + 2_400]) - rms_db(&bed[t - lat..t + 2_400 - lat]);
        assert!(restored.abs() < 0.05, "{restored}");
        // ...and not much earlier than Hold: still fully down 0.9 x Hold after the key stops.
        let t = n / 2 + lat + ms_to_samples(p.hold_ms * 0.9, SR);
        let held = rms_db(&out[t..t + 240]) - rms_db(&bed[t - lat..t + 240 - lat]);
        assert!((held - p.depth_db).abs() < 0.3, "{held}");
    }

    #[test]
    fn result_does_not_depend_on_block_size() {
        let p = EngineParams::default();
        let n = 20_000;
        let bed = sine(300.0, 0.5, n);
        let key: Vec<f32> = sine(700.0, 0.3, n)
            .iter()
            .enumerate()
            .map(|(i, v)| if (i / 3_000) % 2 == 0 { *v } else { 0.0 })
            .collect();
        let a = render(&p, &bed, &key, 1);
        let b = render(&p, &bed, &key, 4_099);
        assert_eq!(a, b);
    }

    #[test]
    fn bypass_is_click_free_and_keeps_latency() {
        let n = 48_000;
        let bed = vec![0.5; n];
        let key = sine(1_000.0, 0.3, n);
        let mut engine = Engine::new(SR, 1);
        let mut p = EngineParams {
            depth_db: -40.0,
            ..Default::default()
        };
        engine.set_params(&p);
        let mut out = bed.clone();
        let (first, second) = out.split_at_mut(24_000);
        engine.process_block(&mut [first], &[&key[..24_000]]);
        p.bypass = true;
        engine.set_params(&p);
        engine.process_block(&mut [second], &[&key[24_000..]]);
        assert_eq!(engine.latency_samples(), 960);
        let max_step = out[2_000..]
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0, f32::max);
        // 0.5 -> 0.005 over the 10 ms bypass fade: about 0.001 per sample, no jump.
        assert!(max_step < 0.002, "{max_step}");
        assert_eq!(*out.last().unwrap(), 0.5);
    }

    #[test]
    fn non_finite_input_recovers_immediately() {
        let mut engine = Engine::new(SR, 2);
        engine.set_params(&EngineParams::default());
        let mut l = vec![f32::NAN; 256];
        let mut r = vec![f32::INFINITY; 256];
        let key = vec![1e30f32; 256];
        engine.process_block(&mut [&mut l, &mut r], &[&key]);
        for _ in 0..20 {
            let mut l = vec![0.1; 256];
            let mut r = vec![0.1; 256];
            engine.process_block(&mut [&mut l, &mut r], &[&vec![0.0; 256]]);
            assert!(l.iter().chain(r.iter()).all(|x| x.is_finite()));
        }
        let m = engine.meter();
        assert!(m.key_level_db.is_finite() && m.duck_gain_db.is_finite());
    }

    #[test]
    fn missing_or_short_key_counts_as_silence() {
        let mut engine = Engine::new(SR, 1);
        engine.set_params(&EngineParams::default());
        let mut bed = vec![0.5; 4_800];
        engine.process_block::<&[f32]>(&mut [&mut bed], &[]);
        let mut bed2 = vec![0.5; 4_800];
        engine.process_block(&mut [&mut bed2], &[&[1.0f32; 10][..]]);
        assert_eq!(bed2[4_000], 0.5);
    }
}
