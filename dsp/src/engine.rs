//! The engine: one ducking chain, shared by the plugin and the offline renderer so the two can
//! never diverge.
//!
//! Work is split in two rates. Per sample: the bed goes through the lookahead delay and is
//! multiplied by gains interpolated linearly across each control tick; the key is downmixed and
//! decimated for analysis (and resampled to 16 kHz for the voice-activity detector). Per
//! control tick ([`TICK_MS`], 1 ms): the key level is closed (and a detector frame every 16
//! ms), the speech gate, duck envelope and parameter ramps advance, and the gains
//! at the end of the next tick are computed. The tick grid runs on its own sample counter, so
//! results do not depend on how the host splits blocks.

use crate::ballistics::DuckEnvelope;
use crate::channels::{FieldMap, FieldShares, GainSet, TickRamp};
use crate::control_delay::{ControlDelay, ControlValues};
use crate::conversation::ConversationHold;
use crate::delay::LookaheadDelay;
use crate::detector::{KeyAnalyser, KeyDownmix, analysis_decimation};
use crate::link::{DialogueTick, FOLLOW_LAG_MS, LinkMember, Peers};
use crate::ramp::Ramp;
use crate::settings::{EngineParams, Mode, SPECS, sanitize};
use crate::spectral::{BandAnalysis, FrameControl, SpectralDucker, SpectralSettings};
use crate::speech::SpeechGate;
use crate::units::{db_to_gain, gain_to_db, ms_to_samples, power_to_db};

/// Target control tick length, in ms (the exact tick is a whole number of key-decimation
/// steps: 48 samples at 48 kHz, 45 at 44.1 kHz). Short against every ballistic time (gains are
/// interpolated linearly across it, so even a 5 ms attack is a smooth ramp), long enough that
/// the per-tick work (gain computer, `exp()`, meters) costs little per sample.
pub const TICK_MS: f32 = 1.0;
/// Ramp time for Depth, Mix and Output changes, in ms (zipper-free automation).
pub const PARAM_RAMP_MS: f32 = 20.0;
/// Crossfade time of Bypass, in ms.
pub const BYPASS_FADE_MS: f32 = 10.0;
/// Hysteresis of the key threshold, in dB: the key turns on above Threshold and off only below
/// Threshold minus this, so a key hovering at threshold does not chatter.
pub const THRESHOLD_HYSTERESIS_DB: f32 = 3.0;
/// Fastest attack of a phrase onset confirmed late, in ms: a 10 dB move in 5 ms is a fade, not
/// a click.
pub const MIN_ONSET_ATTACK_MS: f32 = 5.0;
/// How long before the level onset of a phrase the duck should already be in place, ms: speech
/// rises from below the threshold (a soft consonant, a breathy start), so the bed must make room
/// slightly before the key crosses it.
pub const ONSET_PRE_ROLL_MS: f32 = 30.0;
/// How long a provisional phrase (see [`crate::speech::PROVISIONAL_FRAMES`]) leaves the bed
/// untouched, ms: its confirming frames plus two ticks, so a withdrawal lands before the
/// attack starts.
pub const PROVISIONAL_WAIT_MS: f32 =
    crate::speech::PROVISIONAL_FRAMES as f32 * crate::speech::FRAME_MS + 2.0 * TICK_MS;

/// A key whose speech-band power stays under this (-100 dBFS) carries no dialogue: a sidechain
/// that is not connected, or digital silence.
pub const KEY_PRESENT_POWER: f32 = 1e-10;
/// After this long without signal on its key, a linked member follows the group's dialogue
/// (the first member with a key), ms; from the start, a member whose key never carried
/// signal follows at once. Long enough that a line's pauses (room tone is far above -100
/// dBFS) never switch it; edited dialogue with digital silence between scenes does, and then
/// follows the same dialogue on another member.
pub const KEY_ABSENT_MS: f32 = 2_000.0;

/// Broadband, linked: the member's cut is published for the group's editors every this many
/// control ticks (10 ms, an analysis hop; editors draw at most every 16 ms).
const STATUS_TICKS: u32 = 10;

/// A snapshot for meters, updated every tick (linear values; dB on reading, so the audio
/// thread pays no logarithms for meters).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Meter {
    /// Duck gain on the centre of the field now (Depth x envelope x Mix, without Output), linear.
    pub duck_gain: f32,
    /// Speech-band key mean square, linear.
    pub key_power: f32,
    /// Whether the key is above Threshold.
    pub level_active: bool,
    /// Whether the key counts as speech (what ducks the bed).
    pub speech_active: bool,
    /// Latest speech probability of the key from the voice-activity detector, 0..=1.
    pub speech_probability: f32,
}

impl Meter {
    /// Duck on the centre of the field, dB (<= 0).
    pub fn duck_gain_db(&self) -> f32 {
        gain_to_db(self.duck_gain)
    }

    /// Speech-band key level, dBFS.
    pub fn key_level_db(&self) -> f32 {
        power_to_db(self.key_power)
    }
}

impl Default for Meter {
    fn default() -> Self {
        Self {
            duck_gain: 1.0,
            key_power: 0.0,
            level_active: false,
            speech_active: false,
            speech_probability: 0.0,
        }
    }
}

/// Mix as the fraction of the duck applied, 0..=1.
fn mix_fraction(p: &EngineParams) -> f32 {
    p.mix_pct / 100.0
}

/// The field shares as fractions of the duck (in dB), 0..=1.
fn field_shares(p: &EngineParams) -> FieldShares {
    FieldShares {
        stereo_mode: p.stereo_mode,
        side: p.side_pct / 100.0,
        front: p.front_pct / 100.0,
        centre: p.centre_pct / 100.0,
        lfe: p.lfe_pct / 100.0,
        surround: p.surround_pct / 100.0,
    }
}

/// Clarity and Focus for the spectral stage.
fn spectral_settings(p: &EngineParams) -> SpectralSettings {
    SpectralSettings {
        clarity_db: p.clarity_db,
        focus_low_hz: p.focus_low_hz,
        focus_high_hz: p.focus_high_hz,
    }
}

/// Threshold levels as mean-square powers.
#[derive(Debug, Clone, Copy)]
struct ThresholdPowers {
    /// Key turns active above this.
    on: f32,
    /// Active key turns inactive below this (hysteresis).
    off: f32,
}

impl ThresholdPowers {
    fn new(threshold_db: f32) -> Self {
        let power = |db: f32| db_to_gain(db).powi(2);
        Self {
            on: power(threshold_db),
            off: power(threshold_db - THRESHOLD_HYSTERESIS_DB),
        }
    }
}

/// How many ticks back the gain stage reads its control values (see [`crate::control_delay`]).
#[derive(Debug, Clone, Copy, Default)]
struct DelayTicks {
    /// Depth, Mix, Output, Bypass: the whole latency.
    params: usize,
    /// The duck envelope: the FFT window in Spectral mode, none in Broadband.
    envelope: usize,
    /// The spectral frame's settings: those of its oldest sample.
    frame: usize,
}

/// The ducking chain for one plugin instance or one render.
pub struct Engine {
    sample_rate_hz: f32,
    tick_samples: usize,
    tick_pos: usize,
    analyser: KeyAnalyser,
    gate: SpeechGate,
    /// Recent pauses between phrases: extend Hold in a conversation.
    conversation: ConversationHold,
    envelope: DuckEnvelope,
    delay: LookaheadDelay,
    field: FieldMap,
    spectral: SpectralDucker,
    analysis_enabled: bool,
    params: EngineParams,
    /// The settings last handed to `set_params`, before sanitising.
    requested: EngineParams,
    threshold_powers: ThresholdPowers,
    depth_db: Ramp,
    mix: Ramp,
    output_gain_db: Ramp,
    bypass: Ramp,
    amount: f32,
    /// Gains with the duck, at the start and end of the current tick (the whole bed in
    /// Broadband mode, the masking part in Spectral mode).
    gains_from: GainSet,
    gains_to: GainSet,
    /// Gains without the duck (Output and Bypass only): the unmasking part in Spectral mode.
    plain_from: GainSet,
    plain_to: GainSet,
    /// Spectral mode: the masking part of the current tick, per bed channel.
    masking: Vec<Vec<f32>>,
    /// Per-tick control values, read back delayed so they act on the audio they belong to.
    history: ControlDelay,
    /// The values the gain stage uses this tick (from `history`).
    applied: ControlValues,
    /// How far back `history` is read, ticks (set with the parameters).
    delays: DelayTicks,
    meter: Meter,
    started: bool,
    /// Control ticks since the key last carried signal (see [`KEY_ABSENT_MS`]).
    key_absent_ticks: u32,
    key_absent_limit: u32,
    /// Linked without a key: the slot of the member whose dialogue this one follows.
    followed: Option<usize>,
    /// [`FOLLOW_LAG_MS`] in control ticks.
    follow_lag_ticks: u64,
    /// Broadband, linked: the share of Depth this member takes (1 unlinked), smoothed.
    link_scale: f32,
    /// Control ticks so far (for the Broadband link status, every [`STATUS_TICKS`]).
    tick_count: u32,
    link_scale_coeff: f32,
}

impl Engine {
    /// Builds the chain for `bed_channels` bed channels at `sample_rate_hz`, every stage at
    /// the default settings. All memory is allocated here.
    pub fn new(sample_rate_hz: f32, bed_channels: usize) -> Self {
        let step = analysis_decimation(sample_rate_hz);
        let tick_samples =
            step * ((TICK_MS * 0.001 * sample_rate_hz / step as f32).round() as usize).max(1);
        let tick_ms = tick_samples as f32 * 1000.0 / sample_rate_hz;
        let ticks = |ms: f32| (ms / tick_ms).round() as u32;
        let params = sanitize(&EngineParams::default());
        let mut field = FieldMap::new(bed_channels);
        field.set_shares(&field_shares(&params));
        let unity = field.gains(0.0, 1.0, 1.0, 0.0);
        let max_lookahead = ms_to_samples(SPECS.lookahead_ms.max, sample_rate_hz);
        let initial = ControlValues {
            amount: 0.0,
            depth_db: params.depth_db,
            mix: mix_fraction(&params),
            output_gain_db: params.output_gain_db,
            bypass: 0.0,
        };
        let mut engine = Self {
            sample_rate_hz,
            tick_samples,
            tick_pos: 0,
            analyser: KeyAnalyser::new(sample_rate_hz, tick_samples),
            gate: SpeechGate::new(tick_ms, params.sensitivity_pct),
            conversation: ConversationHold::new(tick_ms),
            envelope: DuckEnvelope::new(
                sample_rate_hz,
                params.attack_ms,
                params.hold_ms,
                params.release_ms,
            ),
            // Room for the lookahead and one FFT window more: a switch to Spectral mode
            // starts the STFT from the bed already heard (see `set_params`).
            delay: LookaheadDelay::new(
                bed_channels,
                max_lookahead + crate::spectral::fft_size(sample_rate_hz),
                sample_rate_hz,
            ),
            spectral: SpectralDucker::new(
                sample_rate_hz,
                bed_channels,
                &spectral_settings(&params),
            ),
            analysis_enabled: false,
            field,
            params,
            requested: params,
            threshold_powers: ThresholdPowers::new(params.threshold_db),
            depth_db: Ramp::new(params.depth_db, ticks(PARAM_RAMP_MS)),
            mix: Ramp::new(mix_fraction(&params), ticks(PARAM_RAMP_MS)),
            output_gain_db: Ramp::new(params.output_gain_db, ticks(PARAM_RAMP_MS)),
            bypass: Ramp::new(0.0, ticks(BYPASS_FADE_MS)),
            amount: 0.0,
            gains_from: unity,
            gains_to: unity,
            plain_from: unity,
            plain_to: unity,
            masking: vec![vec![0.0; tick_samples]; bed_channels],
            history: ControlDelay::new(
                (max_lookahead + crate::spectral::fft_size(sample_rate_hz)) / tick_samples + 2,
                initial,
            ),
            applied: initial,
            delays: DelayTicks::default(),
            meter: Meter::default(),
            started: false,
            key_absent_ticks: u32::MAX,
            key_absent_limit: ticks(KEY_ABSENT_MS),
            followed: None,
            follow_lag_ticks: ticks(FOLLOW_LAG_MS) as u64,
            link_scale: 1.0,
            tick_count: 0,
            link_scale_coeff: crate::detector::one_pole_coeff(PARAM_RAMP_MS, tick_ms * 0.001),
        };
        // The delay, the gains and the control history start at the defaults too.
        engine.set_params(&params);
        engine
    }

    /// Sample rate this engine was built for, in Hz.
    pub fn sample_rate_hz(&self) -> f32 {
        self.sample_rate_hz
    }

    /// Bed channels this engine was built for.
    pub fn bed_channels(&self) -> usize {
        self.masking.len()
    }

    /// Control tick length, in samples.
    pub fn tick_samples(&self) -> usize {
        self.tick_samples
    }

    /// Lookahead in samples for `lookahead_ms` at this sample rate (what the host must be told).
    pub fn lookahead_samples(&self, lookahead_ms: f32) -> usize {
        ms_to_samples(SPECS.lookahead_ms.clamp(lookahead_ms), self.sample_rate_hz)
    }

    /// Latency the chain adds now, in samples: the lookahead, plus one FFT window in Spectral
    /// mode.
    pub fn latency_samples(&self) -> usize {
        self.latency_for(&self.params)
    }

    /// Latency the chain would add with `params`, in samples.
    pub fn latency_for(&self, params: &EngineParams) -> usize {
        let spectral = match params.mode {
            Mode::Spectral => self.spectral.latency_samples(),
            Mode::Broadband => 0,
        };
        self.lookahead_samples(params.lookahead_ms) + spectral
    }

    /// The latest per-band analysis (dialogue, bed, overlap, reduction), kept up to date only
    /// while enabled.
    pub fn band_analysis(&self) -> &BandAnalysis {
        self.spectral.analysis()
    }

    /// Frames of band analysis published so far (a new snapshot when this changes).
    pub fn band_analysis_frames(&self) -> u32 {
        self.spectral.analysis_frames()
    }

    /// Turns the per-band analysis on (an editor is showing it) or off (no cost in Broadband
    /// mode, no logarithms in Spectral mode).
    pub fn set_analysis_enabled(&mut self, enabled: bool) {
        self.analysis_enabled = enabled;
        self.spectral.set_analysis_enabled(enabled);
    }

    /// Joins a link group (issue 15; see [`crate::link`]) or leaves it (`None`). In Spectral
    /// mode the members of a group share one masking budget: the sum of their beds is what
    /// must meet Clarity, the first to yield by Role taking the reduction first. No allocation:
    /// safe to call from the audio thread.
    pub fn set_link(&mut self, member: Option<LinkMember>) {
        self.spectral.set_link(member);
    }

    /// The link membership, if any.
    pub fn link(&self) -> Option<&LinkMember> {
        self.spectral.link()
    }

    /// Linked without a key of its own: the link-group slot of the member whose dialogue this
    /// one follows (as of the last control tick); `None` when it decides on its own key.
    pub fn followed_member(&self) -> Option<usize> {
        self.followed
    }

    /// Whether the last spectral frame was decided with the group, and what the gathering
    /// found.
    pub fn link_status(&self) -> (bool, &Peers) {
        self.spectral.link_status()
    }

    /// Applies new settings. Gains ramp to them, the lookahead crossfades; before the first
    /// processed sample everything jumps, so a render starts exactly at its settings.
    pub fn set_params(&mut self, params: &EngineParams) {
        // Hosts hand the settings over every block, nearly always unchanged: nothing to do.
        if self.started && *params == self.requested {
            return;
        }
        self.requested = *params;
        let p = sanitize(params);
        self.envelope
            .set_times(p.attack_ms, p.hold_ms, p.release_ms);
        self.gate.set_sensitivity(p.sensitivity_pct);
        self.field.set_shares(&field_shares(&p));
        self.spectral.set_settings(&spectral_settings(&p));
        self.spectral.set_link_rank(p.role.yield_rank());
        if p.mode != self.params.mode {
            // A mode change changes the latency (the host restarts the plugin). The spectral
            // stage starts from the last window of the bed already heard, so the audio goes on
            // without a gap (it repeats one window, which the host's new latency compensation
            // lines up), not from a window of silence.
            self.spectral.reset();
            if p.mode == Mode::Spectral && self.started {
                let delay = &self.delay;
                self.spectral
                    .prime(&mut |ch: usize, out: &mut [f32]| delay.delayed_history(ch, out));
            }
        }
        let bypass = if p.bypass { 1.0 } else { 0.0 };
        let lookahead = self.lookahead_samples(p.lookahead_ms);
        if self.started {
            self.depth_db.set_target(p.depth_db);
            self.mix.set_target(mix_fraction(&p));
            self.output_gain_db.set_target(p.output_gain_db);
            self.bypass.set_target(bypass);
        } else {
            self.depth_db.jump(p.depth_db);
            self.mix.jump(mix_fraction(&p));
            self.output_gain_db.jump(p.output_gain_db);
            self.bypass.jump(bypass);
            self.history.fill(self.control_values());
            self.applied = self.history.get(0);
            (self.gains_to, self.plain_to) = self.current_gains();
            (self.gains_from, self.plain_from) = (self.gains_to, self.plain_to);
        }
        self.delay.set_delay(lookahead, !self.started);
        self.spectral.set_key_lead(lookahead);
        self.threshold_powers = ThresholdPowers::new(p.threshold_db);
        self.params = p;
        self.delays = self.delay_ticks();
    }

    /// This tick's control values, before any delay.
    fn control_values(&self) -> ControlValues {
        ControlValues {
            amount: self.amount,
            depth_db: self.depth_db.value(),
            mix: self.mix.value(),
            output_gain_db: self.output_gain_db.value(),
            bypass: self.bypass.value(),
        }
    }

    /// Ticks nearest to `samples`.
    fn ticks(&self, samples: usize) -> usize {
        (samples + self.tick_samples / 2) / self.tick_samples
    }

    /// The control values for the audio now at the gain stage: parameters from one latency
    /// ago, the envelope from one FFT window ago in Spectral mode (see [`crate::control_delay`]).
    fn delayed_control(&self) -> ControlValues {
        ControlValues {
            amount: self.history.get(self.delays.envelope).amount,
            ..self.history.get(self.delays.params)
        }
    }

    /// The history delays for the settings in force.
    fn delay_ticks(&self) -> DelayTicks {
        let latency = self.ticks(self.latency_samples());
        let stft = match self.params.mode {
            Mode::Spectral => self.spectral.latency_samples(),
            Mode::Broadband => 0,
        };
        DelayTicks {
            // Values pushed at the end of a tick act across the next one: one tick less.
            params: latency.saturating_sub(1),
            envelope: self.ticks(stft),
            frame: latency,
        }
    }

    /// The settings in force (after range clamping).
    pub fn params(&self) -> &EngineParams {
        &self.params
    }

    /// Ducks `bed` (channels x samples, in place) keyed by `key` (channels x samples; empty =
    /// no sidechain = silence; a 6-channel key is read from its centre channel). Any block
    /// length; all channels the same length.
    pub fn process_block<K: AsRef<[f32]>>(&mut self, bed: &mut [&mut [f32]], key: &[K]) {
        self.started = true;
        let n = bed.first().map_or(0, |c| c.len());
        let key_ok = key.iter().all(|k| k.as_ref().len() >= n);
        let key: &[K] = if key_ok { key } else { &[] };
        self.analyser.set_downmix(if key.len() == 6 {
            KeyDownmix::Channel(2)
        } else {
            KeyDownmix::Average
        });
        let mut pos = 0;
        while pos < n {
            let len = (n - pos).min(self.tick_samples - self.tick_pos);
            self.analyser.accumulate(key, pos, len);
            self.spectral
                .analyse_input(bed, pos, len, self.params.mode == Mode::Spectral);
            self.delay.process(bed, pos, len);
            let ramp = TickRamp {
                from: self.gains_from,
                to: self.gains_to,
                tick_pos: self.tick_pos,
                tick_samples: self.tick_samples,
            };
            match self.params.mode {
                Mode::Spectral => {
                    // The bed keeps its unmasking part (Output and Bypass only); the masking
                    // part gets the duck, sample-accurately, and is added back.
                    let masking = &mut self.masking;
                    self.spectral.process(bed, key, pos, len, true, masking);
                    let plain = TickRamp {
                        from: self.plain_from,
                        to: self.plain_to,
                        ..ramp
                    };
                    self.field.apply(bed, pos, len, &plain);
                    self.field.apply(masking, 0, len, &ramp);
                    for (ch, m) in bed.iter_mut().zip(masking.iter()) {
                        for (x, &y) in ch[pos..pos + len].iter_mut().zip(&m[..len]) {
                            *x += y;
                        }
                    }
                }
                Mode::Broadband => {
                    // The band analysis costs FFTs: in Broadband mode it runs only while an
                    // editor shows it.
                    if self.analysis_enabled {
                        self.spectral
                            .process(bed, key, pos, len, false, &mut self.masking);
                    }
                    self.field.apply(bed, pos, len, &ramp);
                }
            }
            self.tick_pos += len;
            pos += len;
            if self.tick_pos == self.tick_samples {
                self.tick_pos = 0;
                self.end_tick();
            }
        }
    }

    /// Control-rate update at the end of each tick.
    fn end_tick(&mut self) {
        let tick = self.analyser.finish_tick();
        // Level decisions compare powers: no logarithm per tick.
        let p = &self.threshold_powers;
        let level_active = if self.meter.level_active {
            tick.power > p.off
        } else {
            tick.power > p.on
        };
        let was_speech = self.meter.speech_active;
        let own_speech = self.gate.process_tick(tick.power, level_active, tick.frame);
        let own = DialogueTick {
            speech: own_speech,
            provisional: self.gate.provisional(),
            withdrawn: self.gate.withdrawn(),
            since_onset_ms: self.gate.since_onset_ms(),
            probability: self.gate.probability(),
            key_power: tick.power,
        };
        let (dialogue, lag_ms) = self.dialogue_tick(own, tick.power);
        let speech = dialogue.speech;
        if speech && !was_speech {
            // The phrase began at its level onset; its first sample reaches the output after
            // the lookahead. Land the attack by then (minus the pre-roll; a follower hears the
            // group's dialogue `lag_ms` late).
            // A provisional phrase leaves the bed untouched until it can have been withdrawn.
            let left_ms =
                self.params.lookahead_ms - dialogue.since_onset_ms - lag_ms - ONSET_PRE_ROLL_MS;
            let min_wait_ms = if dialogue.provisional {
                PROVISIONAL_WAIT_MS
            } else {
                0.0
            };
            self.envelope
                .begin_onset(left_ms, MIN_ONSET_ATTACK_MS, min_wait_ms);
        }
        if dialogue.withdrawn {
            self.envelope.withdraw_onset();
        }
        let extra_hold_ms = self.conversation.process_tick(speech);
        self.envelope.set_extra_hold(extra_hold_ms);
        self.amount = self.envelope.process_tick(speech, self.tick_samples);
        self.depth_db.tick();
        self.mix.tick();
        self.output_gain_db.tick();
        self.bypass.tick();
        self.history.push(self.control_values());
        self.applied = self.delayed_control();
        // Broadband, linked: this member's share of the group's cut on the summed level,
        // smoothed over PARAM_RAMP_MS so a change of share is a ramp, not a step.
        let share = match self.params.mode {
            Mode::Broadband => self.spectral.broadband_share().unwrap_or(1.0),
            Mode::Spectral => 1.0,
        };
        self.link_scale += self.link_scale_coeff * (share - self.link_scale);
        if self.params.mode == Mode::Broadband && self.tick_count.is_multiple_of(STATUS_TICKS) {
            let a = self.applied;
            self.spectral
                .publish_broadband_status(-a.depth_db * a.amount * a.mix * self.link_scale);
        }
        self.tick_count = self.tick_count.wrapping_add(1);
        (self.gains_from, self.plain_from) = (self.gains_to, self.plain_to);
        (self.gains_to, self.plain_to) = self.current_gains();
        // The frame being analysed now holds one window of the bed as it leaves the lookahead
        // delay: it takes the settings of its oldest sample, so a change never acts on audio
        // from before it.
        let frame = self.history.get(self.delays.frame);
        self.spectral.set_control(FrameControl {
            amount: self.amount,
            speech,
            depth_db: frame.depth_db,
            mix: frame.mix,
            bypass: frame.bypass,
        });
        let a = self.applied;
        self.meter = Meter {
            duck_gain: 1.0 + a.mix * (db_to_gain(a.depth_db * a.amount * self.link_scale) - 1.0),
            key_power: dialogue.key_power,
            level_active,
            speech_active: speech,
            speech_probability: dialogue.probability,
        };
    }

    /// The dialogue this tick decides on, and how late it is heard (ms). A member of a link
    /// group that hears a dialogue on its own sidechain (`own`, signal within the last
    /// [`KEY_ABSENT_MS`]) decides on it and publishes it for the others; one without follows the
    /// group's: the first keyed member's decision of [`FOLLOW_LAG_MS`] ago (so the host may run
    /// the two up to one 2048-frame block apart). Unlinked, or with nobody to follow, its own.
    fn dialogue_tick(&mut self, own: DialogueTick, key_power: f32) -> (DialogueTick, f32) {
        self.key_absent_ticks = if key_power > KEY_PRESENT_POWER {
            0
        } else {
            self.key_absent_ticks.saturating_add(1)
        };
        let has_key = self.key_absent_ticks < self.key_absent_limit;
        let tick_index =
            (self.spectral.group_position() / self.tick_samples as u64).saturating_sub(1);
        let (result, followed) = match self.spectral.link() {
            Some(m) if has_key => {
                m.publish_tick(tick_index, &own);
                ((own, 0.0), None)
            }
            Some(m) => match tick_index
                .checked_sub(self.follow_lag_ticks)
                .and_then(|i| m.group_tick(i))
            {
                Some((slot, t)) => (
                    (t, self.follow_lag_ticks as f32 * self.tick_ms()),
                    Some(slot),
                ),
                None => ((own, 0.0), None),
            },
            None => ((own, 0.0), None),
        };
        self.followed = followed;
        self.spectral
            .set_dialogue_source(has_key, followed.is_some());
        result
    }

    /// Control tick length, ms.
    fn tick_ms(&self) -> f32 {
        self.tick_samples as f32 * 1000.0 / self.sample_rate_hz
    }

    /// Gains for the current envelope amount and ramp values: with the duck, and without it
    /// (Output and Bypass only, for the part of the bed Spectral mode leaves alone).
    fn current_gains(&self) -> (GainSet, GainSet) {
        let a = self.applied;
        let output = db_to_gain(a.output_gain_db);
        (
            self.field.gains(
                a.depth_db * a.amount * self.link_scale,
                a.mix,
                output,
                a.bypass,
            ),
            self.field.gains(0.0, a.mix, output, a.bypass),
        )
    }

    /// Latest meter snapshot.
    pub fn meter(&self) -> Meter {
        self.meter
    }

    /// Clears all signal memory (host reset / transport jump); settings are kept.
    pub fn reset(&mut self) {
        self.analyser.reset();
        self.gate.reset();
        self.conversation.reset();
        self.envelope.reset();
        self.delay.reset();
        self.spectral.reset();
        self.amount = 0.0;
        self.meter = Meter::default();
        self.tick_pos = 0;
        self.started = false;
        let p = self.params;
        self.set_params(&p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_signals::{
        FIRST_PHRASE_S, SR, demo_dialogue, sine, speech, speech_after_silence,
    };

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
    fn switching_to_spectral_while_playing_leaves_no_gap() {
        // A steady bed, no key: Broadband for 0.5 s, then Spectral (one FFT window more
        // latency). The output goes on at the bed's level in every 5 ms window: the STFT starts
        // from the bed already heard (one window is repeated), not from a window of silence.
        let n = 48_000;
        let bed = sine(200.0, 0.5, n);
        let mut engine = Engine::new(SR, 1);
        let mut p = EngineParams::default();
        engine.set_params(&p);
        let mut out = bed.clone();
        let switch = 24_000;
        for (i, o) in out.chunks_mut(480).enumerate() {
            if i * 480 == switch {
                p.mode = Mode::Spectral;
                engine.set_params(&p);
            }
            engine.process_block(&mut [o], &[[0.0f32; 0]; 0]);
        }
        let lat = ms_to_samples(p.lookahead_ms, SR);
        let bed_db = gain_to_db(0.5 / 2f32.sqrt());
        for w in out[lat + 1_000..].chunks(240) {
            let rms = (w.iter().map(|x| x * x).sum::<f32>() / w.len() as f32).sqrt();
            assert!(
                (gain_to_db(rms) - bed_db).abs() < 1.0,
                "a 5 ms window at {:.1} dB, the bed is {bed_db:.1} dB",
                gain_to_db(rms)
            );
        }
    }

    #[test]
    fn silent_key_passes_bed_delayed_by_lookahead() {
        let p = EngineParams::default();
        let mut bed = vec![0.0; 9_600];
        bed[100] = 1.0;
        let out = render(&p, &bed, &vec![0.0; 9_600], 64);
        let latency = ms_to_samples(p.lookahead_ms, SR);
        assert_eq!(latency, 4_800);
        assert_eq!(out.iter().position(|&x| x != 0.0), Some(100 + latency));
        assert_eq!(out[100 + latency], 1.0);
    }

    #[test]
    fn steady_key_settles_at_depth_and_releases_in_hold_plus_release() {
        let p = EngineParams::default();
        let n = 96_000;
        let bed = sine(200.0, 0.5, n);
        // Speech for the first second, then silence.
        let mut key = speech(n / 2);
        key.resize(n, 0.0);
        let out = render(&p, &bed, &key, 512);
        let lat = ms_to_samples(p.lookahead_ms, SR);
        // Settled duck: output over input, both compared on the same (delayed) samples.
        let settled = rms_db(&out[14_000..22_000]) - rms_db(&bed[14_000 - lat..22_000 - lat]);
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
    fn new_engine_runs_at_the_default_settings() {
        // Without any set_params, a fresh engine is the engine at the table's defaults: the
        // same samples as one given the defaults explicitly, ducking by the default Depth
        // with the default times (not instantly, as zero times would).
        let n = 48_000;
        let bed = sine(200.0, 0.5, n);
        let key = speech(n);
        let mut fresh = Engine::new(SR, 1);
        assert_eq!(*fresh.params(), EngineParams::default());
        let mut a = bed.clone();
        fresh.process_block(&mut [&mut a], &[&key[..]]);
        let b = render(&EngineParams::default(), &bed, &key, n);
        assert_eq!(a, b);
        let lat = ms_to_samples(SPECS.lookahead_ms.default, SR);
        let settled = rms_db(&a[30_000..40_000]) - rms_db(&bed[30_000 - lat..40_000 - lat]);
        assert!((settled - SPECS.depth_db.default).abs() < 0.1, "{settled}");
        for mode in [Mode::Broadband, Mode::Spectral] {
            let mut e = Engine::new(SR, 1);
            let p = EngineParams {
                mode,
                ..Default::default()
            };
            e.set_params(&p);
            assert_eq!(e.latency_samples(), e.latency_for(&p));
        }
    }

    #[test]
    fn result_does_not_depend_on_block_size() {
        let p = EngineParams::default();
        let n = 96_000;
        let bed = sine(300.0, 0.5, n);
        // Speech that starts and stops: 0.5 s on, 0.5 s off.
        let key: Vec<f32> = speech(n)
            .iter()
            .enumerate()
            .map(|(i, v)| if (i / 24_000) % 2 == 1 { *v } else { 0.0 })
            .collect();
        let a = render(&p, &bed, &key, 1);
        let b = render(&p, &bed, &key, 4_099);
        let first_diff = a.iter().zip(&b).position(|(x, y)| x != y);
        assert_eq!(first_diff, None);
        // The key does duck the bed here (the comparison is not between two untouched beds).
        assert!(rms_db(&a[40_000..44_000]) < rms_db(&bed[40_000..44_000]) - 3.0);
    }

    #[test]
    fn bypass_is_click_free_and_keeps_latency() {
        let n = 48_000;
        let bed = vec![0.5; n];
        let key = speech(n);
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
        assert_eq!(engine.latency_samples(), 4_800);
        let max_step = out[5_000..]
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
        assert!(m.key_level_db().is_finite() && m.duck_gain_db().is_finite());
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

    /// Band-limited noise (breath, rustle): white noise through a one-pole low-pass.
    fn breath(n: usize, amp: f32, seed: u32) -> Vec<f32> {
        let mut s = seed;
        let mut y = 0.0f32;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                let w = s as f32 / u32::MAX as f32 - 0.5;
                y = 0.7 * y + w;
                amp * y
            })
            .collect()
    }

    /// Output gain in dB (output over the delayed input) over `range` of a constant-1 bed.
    fn duck_db(out: &[f32], range: std::ops::Range<usize>) -> f32 {
        rms_db(&out[range])
    }

    #[test]
    fn breaths_and_clicks_above_threshold_do_not_duck() {
        let p = EngineParams::default();
        let n = 96_000;
        // Breath noise at -25 dBFS, 20 dB over the threshold, and a train of lip clicks.
        let mut key = breath(n / 2, 0.2, 9);
        let mut clicks = vec![0.0; n / 2];
        for c in (1_000..n / 2).step_by(7_000) {
            clicks[c] = 0.9;
            clicks[c + 1] = -0.7;
        }
        key.extend(clicks);
        let level = rms_db(&key[..n / 2]);
        assert!(level > p.threshold_db + 15.0, "breath at {level} dBFS");
        let out = render(&p, &vec![1.0; n], &key, 256);
        let worst = out[5_000..].iter().fold(1.0f32, |m, &x| m.min(x));
        assert!(
            gain_to_db(worst) > -1.0,
            "ducked by {} dB",
            -gain_to_db(worst)
        );
    }

    /// A harmonic buzz (`harmonics` partials of `f0_hz`, 1/h amplitudes) sounding where `on`
    /// says, switched on and off abruptly.
    fn gated_buzz(f0_hz: f32, harmonics: usize, n: usize, on: impl Fn(usize) -> bool) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let t = i as f32 / SR;
                let x: f32 = (1..=harmonics)
                    .map(|h| (std::f32::consts::TAU * f0_hz * h as f32 * t).sin() / h as f32)
                    .sum();
                if on(i) { 0.2 * x } else { 0.0 }
            })
            .collect()
    }

    #[test]
    fn buzz_after_silence_and_its_abrupt_end_do_not_duck() {
        // The detector scores a harmonic buzz 0.56-0.78, above the on-probability, from its
        // second frame and for 50 ms after it is cut: steadiness must veto the start while the
        // buzz is young and the frames around its end.
        let p = EngineParams::default();
        let n = 5 * 48_000;
        let once = |i: usize| (24_000..96_000).contains(&i);
        let bursts = |i: usize| i % 48_000 < 28_800;
        for (label, key) in [
            (
                "120 Hz, 19 harmonics, 0.5-2.0 s",
                gated_buzz(120.0, 19, n, once),
            ),
            (
                "140 Hz, 7 harmonics, 0.5-2.0 s",
                gated_buzz(140.0, 7, n, once),
            ),
            (
                "140 Hz, 7 harmonics, 0.6 s on / 0.4 s off",
                gated_buzz(140.0, 7, n, bursts),
            ),
        ] {
            let out = render(&p, &vec![1.0; n], &key, 256);
            let lat = ms_to_samples(p.lookahead_ms, SR);
            let worst = out[lat..].iter().fold(1.0f32, |m, &x| m.min(x));
            assert!(
                gain_to_db(worst) > -0.5,
                "{label}: ducked by {} dB",
                -gain_to_db(worst)
            );
        }
    }

    #[test]
    fn speech_ducks_with_the_onset_protected() {
        let p = EngineParams::default();
        let n = 4 * 48_000;
        let onset = 24_000;
        // Silence, then the first phrase of the demo dialogue from its start.
        let key = speech_after_silence(onset, n);
        let out = render(&p, &vec![1.0; n], &key, 64);
        let lat = ms_to_samples(p.lookahead_ms, SR);
        // The bed sample that plays with the phrase's first sample is already >= 90 % down.
        let at_onset = gain_to_db(out[onset + lat]);
        assert!(at_onset <= 0.9 * p.depth_db, "{at_onset} dB at the onset");
        // And it stays at Depth through the first word (the demo's first 1 s is one word run).
        let word = onset + lat..onset + lat + 40_000;
        assert!((duck_db(&out, word) - p.depth_db).abs() < 0.1);
    }

    #[test]
    fn word_gaps_shorter_than_hold_keep_the_bed_down() {
        // The demo's 3.0-6.4 s stretch: two sentences with a 200 ms pause (4.71-4.91 s) and
        // word gaps inside them. The bed stays at Depth throughout.
        let p = EngineParams::default();
        let dialogue = demo_dialogue();
        let n = (6.4 * SR) as usize;
        let out = render(&p, &vec![1.0; n], &dialogue[..n], 128);
        let lat = ms_to_samples(p.lookahead_ms, SR);
        let from = (3.2 * SR) as usize + lat;
        let max_gain = out[from..n].iter().fold(0.0f32, |m, &x| m.max(x));
        assert!(
            gain_to_db(max_gain) < p.depth_db + 0.5,
            "rose to {} dB",
            gain_to_db(max_gain)
        );
        let _ = FIRST_PHRASE_S;
    }

    #[test]
    fn surround_key_is_read_from_its_centre() {
        let p = EngineParams::default();
        let n = 48_000;
        let v = speech(n);
        let silent = vec![0.0; n];
        let mut engine = Engine::new(SR, 6);
        engine.set_params(&p);
        let mut bed: Vec<Vec<f32>> = vec![vec![1.0; n]; 6];
        // Voice on the centre channel only; the fronts are silent.
        let key = [&silent[..], &silent, &v, &silent, &silent, &silent];
        let mut refs: Vec<&mut [f32]> = bed.iter_mut().map(|c| c.as_mut_slice()).collect();
        engine.process_block(&mut refs, &key);
        let got: Vec<f32> = bed.iter().map(|c| gain_to_db(c[n - 1])).collect();
        // Default shares: fronts 60 %, centre 100 %, LFE 0 %, surrounds 30 % of -10 dB.
        let want = [-6.0, -6.0, -10.0, 0.0, -3.0, -3.0];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 0.05, "{got:?}");
        }
    }

    #[test]
    fn spectral_mode_adds_one_window_of_latency_and_ducks_speech_bands() {
        let n = 96_000;
        let p = EngineParams {
            mode: Mode::Spectral,
            ..Default::default()
        };
        let mut engine = Engine::new(SR, 1);
        engine.set_params(&p);
        assert_eq!(engine.latency_samples(), 4_800 + 1_024);
        // Impulse with a silent key: passes unchanged, one window later than broadband.
        let mut bed = vec![0.0; n];
        bed[100] = 1.0;
        engine.process_block(&mut [&mut bed], &[&vec![0.0; n][..]]);
        // Nothing to duck: the masking part is exactly zero, so the bed is bit-exact.
        let mut want = vec![0.0; n];
        want[100 + 5_824] = 1.0;
        assert_eq!(bed, want);
        // A 1 kHz bed under a vowel is ducked; a 60 Hz bed (outside Focus) is not.
        for (freq, min_db, max_db) in [(1_000.0, -20.0, -2.0), (60.0, -0.5, 0.5)] {
            let mut engine = Engine::new(SR, 1);
            engine.set_params(&p);
            let bed = sine(freq, 0.1, n);
            let mut out = bed.clone();
            engine.process_block(&mut [&mut out], &[&speech(n)[..]]);
            let g = rms_db(&out[60_000..90_000]) - rms_db(&bed[60_000 - 5_824..90_000 - 5_824]);
            assert!(g > min_db && g < max_db, "{freq} Hz: {g} dB");
        }
    }

    #[test]
    fn spectral_mode_ducks_in_time_exactly_like_broadband() {
        // The spectrum decides where, the envelope when: with Focus over the whole spectrum
        // and a bed the voice is far under (Clarity out of reach: full Depth in every band),
        // Spectral mode's output level follows Broadband's, one FFT window later, within 0.1 dB
        // in every 10 ms window once the band analysis has settled (attack, hold and release
        // included).
        let n = 4 * 48_000;
        let mut key = speech(n);
        for (i, k) in key.iter_mut().enumerate() {
            // Phrases of 0.5 s with 0.5 s gaps.
            if (i / 24_000) % 2 == 0 {
                *k *= 0.0;
            }
        }
        let bed = sine(1_000.0, 0.5, n);
        let render = |mode| {
            let mut e = Engine::new(SR, 1);
            e.set_params(&EngineParams {
                mode,
                focus_low_hz: 50.0,
                focus_high_hz: 20_000.0,
                clarity_db: 30.0,
                ..Default::default()
            });
            let mut out = bed.clone();
            e.process_block(&mut [&mut out], &[&key[..]]);
            (out, e.latency_samples())
        };
        let (bb, lb) = render(Mode::Broadband);
        let (sp, ls) = render(Mode::Spectral);
        assert_eq!(ls - lb, 1_024);
        let env = |x: &[f32], at: usize| rms_db(&x[at..at + 480]);
        let mut worst = 0.0f32;
        for at in (96_000..n - 2_000).step_by(480) {
            // The window (1024 samples) is not a whole number of 1 ms control ticks: allow the
            // envelope to land up to one tick (48 samples) apart.
            let best = (0..=24)
                .map(|k| {
                    let shifted = at - 1_024 + 4 * k - 48;
                    (env(&bb, shifted) - env(&sp, at)).abs()
                })
                .fold(f32::MAX, f32::min);
            worst = worst.max(best);
        }
        assert!(worst < 0.1, "spectral differs from broadband by {worst} dB");
    }

    #[test]
    fn parameter_changes_act_on_the_audio_of_their_time() {
        // A Depth change at sample T must reach the bed sample of time T, which leaves the
        // engine one latency later: against a render without the change, the output starts to
        // differ at T + latency (within one 1 ms control tick) and settles at the new Depth.
        for mode in [Mode::Broadband, Mode::Spectral] {
            let n = 4 * 48_000;
            let t = 2 * 48_000;
            let key = speech(n);
            let bed = sine(1_000.0, 0.25, n);
            let p = EngineParams {
                mode,
                focus_low_hz: 50.0,
                focus_high_hz: 20_000.0,
                clarity_db: 30.0,
                ..Default::default()
            };
            let render = |change: bool| {
                let mut e = Engine::new(SR, 1);
                e.set_params(&p);
                let mut out = bed.clone();
                let (a, b) = out.split_at_mut(t);
                e.process_block(&mut [a], &[&key[..t]]);
                if change {
                    e.set_params(&EngineParams {
                        depth_db: -20.0,
                        ..p
                    });
                }
                e.process_block(&mut [b], &[&key[t..]]);
                (out, e.latency_samples(), e.tick_samples())
            };
            let (changed, latency, tick) = render(true);
            let (steady, _, _) = render(false);
            let first = (0..n)
                .find(|&i| (changed[i] - steady[i]).abs() > 1e-6)
                .unwrap();
            assert!(
                first + tick >= t + latency && first <= t + latency + tick,
                "{mode:?}: moved at {first}, want {} +- {tick}",
                t + latency
            );
            let settled = t + latency + 2_400;
            let db = rms_db(&changed[settled..settled + 960]) - rms_db(&bed[..960]);
            assert!((db + 20.0).abs() < 0.1, "{mode:?}: {db} dB");
        }
    }

    #[test]
    fn spectral_mode_applies_the_field_shares() {
        // A masked 1 kHz bed on every channel, full Depth in its band (Clarity out of reach):
        // each part of the field gets its share of the duck, as in Broadband mode.
        let n = 3 * 48_000;
        let key = speech(n);
        let tone = sine(1_000.0, 0.3, n);
        let spectral = |channels: usize, stereo_mode, beds: Vec<Vec<f32>>| {
            let mut p = EngineParams {
                mode: Mode::Spectral,
                clarity_db: 30.0,
                ..Default::default()
            };
            p.stereo_mode = stereo_mode;
            let mut e = Engine::new(SR, channels);
            e.set_params(&p);
            let mut bed = beds.clone();
            let mut refs: Vec<&mut [f32]> = bed.iter_mut().map(|c| c.as_mut_slice()).collect();
            e.process_block(&mut refs, &[&key[..]]);
            let lat = e.latency_samples();
            let r = 2 * 48_000..3 * 48_000 - 1_000;
            bed.iter()
                .zip(&beds)
                .map(|(o, i)| rms_db(&o[r.clone()]) - rms_db(&i[r.start - lat..r.end - lat]))
                .collect::<Vec<f32>>()
        };
        use crate::settings::StereoMode;
        let surround = spectral(6, StereoMode::Linked, vec![tone.clone(); 6]);
        let want = [-6.0, -6.0, -10.0, 0.0, -3.0, -3.0];
        for (g, w) in surround.iter().zip(want) {
            assert!((g - w).abs() < 0.3, "5.1: {surround:?}");
        }
        // Mid/Side, Side 50 %: a centred bed takes the full duck, a side-only one half of it.
        let centred = spectral(2, StereoMode::MidSide, vec![tone.clone(), tone.clone()]);
        let inverted: Vec<f32> = tone.iter().map(|x| -x).collect();
        let side = spectral(2, StereoMode::MidSide, vec![tone.clone(), inverted]);
        assert!(
            centred.iter().all(|g| (g + 10.0).abs() < 0.3),
            "{centred:?}"
        );
        assert!(side.iter().all(|g| (g + 5.0).abs() < 0.3), "{side:?}");
    }

    #[test]
    fn depth_automation_has_no_zipper_steps() {
        let n = 48_000;
        let key = speech(n);
        let mut engine = Engine::new(SR, 1);
        let mut p = EngineParams {
            depth_db: -20.0,
            ..Default::default()
        };
        engine.set_params(&p);
        let mut bed = vec![1.0; n];
        let (a, b) = bed.split_at_mut(24_000);
        engine.process_block(&mut [a], &[&key[..24_000]]);
        // -20 dB -> 0 dB within 1 ms (48 samples): one jump, as automation would send it.
        let (b1, b2) = b.split_at_mut(48);
        p.depth_db = -10.0;
        engine.set_params(&p);
        engine.process_block(&mut [b1], &[&key[24_000..24_048]]);
        p.depth_db = 0.0;
        engine.set_params(&p);
        engine.process_block(&mut [b2], &[&key[24_048..]]);
        let max_step_db = bed[20_000..]
            .windows(2)
            .map(|w| (gain_to_db(w[1]) - gain_to_db(w[0])).abs())
            .fold(0.0f32, f32::max);
        assert!(max_step_db < 0.1, "{max_step_db} dB per sample");
        assert!(gain_to_db(bed[n - 1]).abs() < 0.01);
    }
    /// Engines for `params` (mono beds), joined to one new link group when `link`.
    fn group_engines(params: &[EngineParams], link: bool) -> Vec<Engine> {
        let group = std::sync::Arc::new(crate::link::LinkGroup::new());
        params
            .iter()
            .map(|p| {
                let mut e = Engine::new(SR, 1);
                e.set_params(p);
                if link {
                    e.set_link(group.join(SR));
                }
                e
            })
            .collect()
    }

    /// Renders `beds` (mono) in lockstep blocks of `block` samples, each with `params[i]` and
    /// keyed by `keys[i]` (empty: no sidechain), in one link group when `link`.
    fn render_group(
        params: &[EngineParams],
        beds: &[Vec<f32>],
        keys: &[&[f32]],
        block: usize,
        link: bool,
    ) -> Vec<Vec<f32>> {
        let mut engines = group_engines(params, link);
        let mut outs = beds.to_vec();
        let n = beds[0].len();
        for start in (0..n).step_by(block) {
            let end = (start + block).min(n);
            for ((e, out), key) in engines.iter_mut().zip(outs.iter_mut()).zip(keys) {
                let k: &[&[f32]] = if key.is_empty() {
                    &[]
                } else {
                    &[&key[start..end]]
                };
                e.process_block(&mut [&mut out[start..end]], k);
            }
        }
        outs
    }

    /// [`render_group`] with the same key for every bed.
    fn render_linked(
        params: &[EngineParams],
        beds: &[Vec<f32>],
        key: &[f32],
        block: usize,
        link: bool,
    ) -> Vec<Vec<f32>> {
        render_group(params, beds, &vec![key; beds.len()], block, link)
    }

    #[test]
    fn linked_beds_share_one_budget_and_the_music_yields_first() {
        use crate::settings::Role;
        let n = 5 * 48_000;
        let key = speech(n);
        let spectral = |role, bypass| EngineParams {
            mode: Mode::Spectral,
            role,
            bypass,
            ..Default::default()
        };
        let params = [
            spectral(Role::Music, false),
            spectral(Role::Ambience, false),
        ];
        let lat = 4_800 + 1_024;
        let cut_db = |out: &[f32], bed: &[f32]| {
            let r = 3 * 48_000..n - 2_000;
            rms_db(&bed[r.start - lat..r.end - lat]) - rms_db(&out[r])
        };
        // In the same band (1 kHz and 1.04 kHz): the music ~6 dB over the target Clarity sets
        // against the test voice, the ambience under it. Alone, the ambience is not cut;
        // linked, the music alone can meet the target on the sum, so the music takes the cut
        // and the ambience is still not cut: it loses at least 3 dB less than the music.
        let (music, amb) = (sine(1_000.0, 0.004, n), sine(1_040.0, 0.0002, n));
        let beds = [music.clone(), amb.clone()];
        let unlinked = render_linked(&params, &beds, &key, 256, false);
        let linked = render_linked(&params, &beds, &key, 256, true);
        let (um, ua) = (cut_db(&unlinked[0], &music), cut_db(&unlinked[1], &amb));
        let (lm, la) = (cut_db(&linked[0], &music), cut_db(&linked[1], &amb));
        assert!(
            ua < 0.1 && um > 4.0,
            "alone: music {um} dB, ambience {ua} dB"
        );
        assert!(
            lm >= um - 0.1,
            "linked, the music takes at least its own cut: {lm} dB"
        );
        assert!(lm - la >= 3.0, "linked: music {lm} dB, ambience {la} dB");
        // Comparable beds: the music goes to its Depth, the ambience takes the rest. With the
        // music bypassed (its bed still sounds, uncut) the ambience takes more.
        let (music2, amb2) = (sine(1_000.0, 0.004, n), sine(1_040.0, 0.003, n));
        let beds2 = [music2.clone(), amb2.clone()];
        let both = render_linked(&params, &beds2, &key, 256, true);
        let bypassed = [spectral(Role::Music, true), params[1]];
        let music_off = render_linked(&bypassed, &beds2, &key, 256, true);
        let (m2, a2) = (cut_db(&both[0], &music2), cut_db(&both[1], &amb2));
        let a_off = cut_db(&music_off[1], &amb2);
        assert!(m2 > 9.5, "the music at its Depth: {m2} dB");
        assert!(a2 > 1.0, "the ambience takes the rest: {a2} dB");
        assert!(
            a_off >= a2 + 3.0,
            "music bypassed: ambience {a_off} dB (was {a2} dB)"
        );
        assert!(
            cut_db(&music_off[0], &music2).abs() < 0.01,
            "a bypassed bed passes"
        );
        // The block size does not change a linked render, nor do different block sizes per
        // member (each member advanced when it is furthest behind, as a host's cycle does).
        let other = render_linked(&params, &beds, &key, 100, true);
        assert_eq!(other, linked);
        let mut engines = group_engines(&params, true);
        let sizes: [&[usize]; 2] = [&[512, 100, 1_024, 7, 333], &[256]];
        let mut outs = beds.to_vec();
        let (mut pos, mut step) = ([0usize; 2], [0usize; 2]);
        while let Some(i) = (0..2).filter(|&i| pos[i] < n).min_by_key(|&i| pos[i]) {
            let len = sizes[i][step[i] % sizes[i].len()].min(n - pos[i]);
            step[i] += 1;
            let (a, b) = (pos[i], pos[i] + len);
            engines[i].process_block(&mut [&mut outs[i][a..b]], &[&key[a..b]]);
            pos[i] = b;
        }
        for (i, (o, l)) in outs.iter().zip(&linked).enumerate() {
            let first = o.iter().zip(l).position(|(a, b)| a != b);
            assert_eq!(first, None, "member {i} differs from the lockstep render");
        }
    }

    #[test]
    fn a_group_of_one_renders_exactly_as_unlinked() {
        let n = 3 * 48_000;
        let key = speech(n);
        let p = [EngineParams {
            mode: Mode::Spectral,
            ..Default::default()
        }];
        let bed = [sine(1_000.0, 0.3, n)];
        assert_eq!(
            render_linked(&p, &bed, &key, 256, true),
            render_linked(&p, &bed, &key, 256, false)
        );
    }
    #[test]
    fn a_member_without_a_key_follows_the_groups_dialogue() {
        use crate::settings::Role;
        let n = 4 * 48_000;
        let onset = 24_000;
        let key = speech_after_silence(onset, n);
        let lat = ms_to_samples(100.0, SR);
        for mode in [Mode::Broadband, Mode::Spectral] {
            let p = |role| EngineParams {
                mode,
                role,
                focus_low_hz: 50.0,
                focus_high_hz: 20_000.0,
                clarity_db: 30.0,
                ..Default::default()
            };
            let params = [p(Role::Music), p(Role::Ambience)];
            let beds = vec![vec![0.5f32; n], sine(1_000.0, 0.5, n)];
            let outs = render_group(&params, &beds, &[&key, &[]], 256, true);
            let extra = if mode == Mode::Spectral { 1_024 } else { 0 };
            // The keyless member is ducked through the first word like the keyed one.
            let word = onset + lat + extra + 4_800..onset + lat + extra + 40_000;
            let follower = rms_db(&outs[1][word.clone()]) - rms_db(&beds[1][word.clone()]);
            assert!(
                follower < -6.0,
                "{mode:?}: the follower's duck {follower} dB"
            );
            // Alone (unlinked, no key) it would not duck at all.
            let mut alone = Engine::new(SR, 1);
            alone.set_params(&params[1]);
            let mut bed = beds[1].clone();
            alone.process_block::<&[f32]>(&mut [&mut bed], &[]);
            let unlinked = rms_db(&bed[word.clone()]) - rms_db(&beds[1][word]);
            assert!(
                unlinked.abs() < 0.01,
                "{mode:?}: alone without a key {unlinked} dB"
            );
        }
        // Broadband: the follower's duck lands at most FOLLOW_LAG_MS (and one tick) after the
        // keyed member's.
        let p = |role| EngineParams {
            role,
            ..Default::default()
        };
        let outs = render_group(
            &[p(Role::Music), p(Role::Ambience)],
            &[vec![1.0; n], vec![1.0; n]],
            &[&key, &[]],
            256,
            true,
        );
        // (The first `lat` output samples are the delay line's silence.)
        let down = |x: &[f32]| lat + x[lat..].iter().position(|&g| gain_to_db(g) < -9.0).unwrap();
        let (keyed, follower) = (down(&outs[0]), down(&outs[1]));
        let lag = ms_to_samples(crate::link::FOLLOW_LAG_MS + 1.0, SR);
        println!("down at {keyed} (keyed) and {follower} (following)");
        assert!(
            follower >= keyed && follower <= keyed + lag,
            "{keyed} vs {follower}"
        );
    }
    #[test]
    fn broadband_members_share_the_summed_level_and_spare_a_quiet_ambience() {
        // Broadband, linked: the group brings its summed level down by its deepest Depth, the
        // music first. Music at Depth -20 dB, ambience at -10 dB: the music does it; cutting a
        // quiet ambience (30 dB under the music) would lower the sum by far less than
        // link::MIN_HELP_DB, so it is spared. A loud ambience still takes its cut.
        use crate::settings::Role;
        let n = 4 * 48_000;
        let key = speech(n);
        let p = |role, depth_db| EngineParams {
            role,
            depth_db,
            ..Default::default()
        };
        let params = [p(Role::Music, -20.0), p(Role::Ambience, -10.0)];
        let cut = |out: &[f32], level: f32| -gain_db_of(&out[3 * 48_000..n - 1_000], level);
        for (amb_level, want_amb) in [(0.03f32, 0.0f32), (0.5, 10.0)] {
            let beds = vec![vec![1.0f32; n], vec![amb_level; n]];
            let linked = render_linked(&params, &beds, &key, 256, true);
            let (m, a) = (cut(&linked[0], 1.0), cut(&linked[1], amb_level));
            println!("ambience at {amb_level}: music cut {m:.2} dB, ambience cut {a:.2} dB");
            assert!((m - 20.0).abs() < 0.1, "music {m} dB");
            assert!(
                (a - want_amb).abs() < 0.5,
                "ambience {a} dB, want {want_amb}"
            );
        }
    }

    /// Gain of a constant-`level` bed in `out`, dB.
    fn gain_db_of(out: &[f32], level: f32) -> f32 {
        rms_db(out) - gain_to_db(level)
    }
}
