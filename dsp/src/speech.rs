//! The speech decision: is the dialogue track *speaking*, and when did the phrase start?
//!
//! Two signals with two jobs:
//!
//! * **Whether**: the speech probability of the key from the trained detector
//!   ([`crate::vad`]), one value per 16 ms frame. It is level-independent (the detector's input
//!   is level-normalised) and rejects what merely has energy or pitch: tones, hum, buzz, noise,
//!   thumps, clicks, breaths.
//! * **When**: the key's speech-band level, every 1 ms tick. A phrase's *onset* is the last
//!   time the level rose out of silence: above Threshold (a floor), or [`ONSET_RISE_DB`] above
//!   its own running minimum (speech over a noisy key never falls below the floor between
//!   phrases). The detector needs 1-5 frames to become confident (measured on the shared
//!   dialogue stems, from the level onset to a probability above 0.5: median 24 ms, 90 % within
//!   53 ms, all within 73 ms), so the gate reports how long ago the onset was and the envelope
//!   shortens its attack to land the duck before that onset reaches the listener, through the
//!   lookahead.
//!
//! The key is speech while it is above Threshold and the detector's probability is at or
//! above Sensitivity's threshold ([`on_probability`], 0.55 at 50 %); once speech, it stays
//! speech while the probability is above a lower threshold ([`OFF_HYSTERESIS`] under it), so a
//! syllable that scores 0.4 inside a phrase does not break it. Guards keep the detector's known
//! mistakes out:
//!
//! * a phrase starts only on a frame that follows one already above the lower threshold, or
//!   on a voiced one ([`VOICED`]): a single confident unvoiced frame is a transient (a breath
//!   scored 0.51 for one frame);
//! * just after a level onset, [`EARLY_FRAMES`] voiced frames within [`EARLY_MARGIN`] of the
//!   starting probability start the phrase before the detector is sure: band-limited voices
//!   take the detector 100 ms or more to confirm, longer than the lookahead;
//! * never on a *steady* sound ([`crate::steady`]: tones, hum and buzz repeat themselves
//!   exactly, which the detector does not notice): a frame at [`STEADY`] ends a phrase, one at
//!   [`START_STEADY`] cannot start one, and none starts for [`STEADY_HANG_MS`] after a steady
//!   frame (the frames around a cut no longer repeat while the probability lingers);
//! * a sound whose steadiness is not known yet needs [`YOUNG_MARGIN`] more probability, and a
//!   start on a sound younger than [`YOUNG_MS`] that looks suspicious (nearly steady already,
//!   or a steady sound was heard in the last [`STEADY_MEMORY_MS`]) is *provisional*: the next
//!   frame withdraws it if it nearly repeats itself. The envelope leaves the bed untouched
//!   until then, so a withdrawal is not heard.
//!
//! No duck is ever started on level or pitch alone: the detector confirms first, and the
//! lookahead gives it the time to.
//!
//! Between words and speakers the decision lets go late by itself (the detector's probability
//! takes 110-170 ms to fall under 0.35 after a phrase ends), and Hold and the S-curve release
//! bridge the rest, so a conversation with 150-400 ms between speakers stays one duck.

use crate::detector::SpeechFrame;
use crate::steady::STEADY;

/// Frames of the detector, ms (see [`crate::vad::FRAME_MS`]).
pub use crate::vad::FRAME_MS;

/// Frames in a row at [`STEADY`] or above that make the key a steady sound, not speech: one.
/// Speech never reads it (0 of 19,096 frames scored 0.4 or more on the corpus's phone-band,
/// quiet, noisy, overlapped and whispered transforms of the shared dialogue).
pub const STEADY_FRAMES: u32 = 1;
/// A sound too young for its steadiness to be known starts a phrase only with this much more
/// probability: steady tones, hum and buzz, just begun, score up to 0.64 there and are not yet
/// recognisable as steady; speech that starts that clearly scores 0.7-0.9.
pub const YOUNG_MARGIN: f32 = 0.15;
/// A sound's steadiness is known this long after it began, ms: from then on the comparison at
/// the shortest lag ([`crate::steady::MIN_LAG_MS`], 32 ms) of the latest frame (16 ms) lies
/// inside the sound, with one more frame for the level path's filters to settle. Before, a
/// steady sound reads "not quite steady" (a buzz: 0.86, then 0.98, then 1.000) while the
/// detector may already score it as speech (a buzz in bursts: 0.75 in its third frame). A
/// phrase that starts on a younger sound is therefore *provisional* for
/// [`PROVISIONAL_FRAMES`].
pub const YOUNG_MS: f32 = crate::steady::MIN_LAG_MS + 2.0 * FRAME_MS;
/// Steadiness from which a young sound's start is provisional. A steady sound just begun
/// reads 0.86-0.98 (its comparison reaches partly into the silence before it); speech at the
/// start of a phrase mostly reads lower.
pub const PROVISIONAL_FROM: f32 = 0.8;
/// For this long after a steady sound, every young sound's start is provisional, ms: a steady
/// sound that comes back (a buzzer, a phone vibrating in bursts) is scored as speech by the
/// detector more confidently each time (0.61-0.77 from its third burst), while its first frames
/// can read anything (0.57). Speech never reads [`STEADY`], so this costs it nothing unless a
/// steady sound shares the key.
pub const STEADY_MEMORY_MS: f32 = 5_000.0;
/// Frames after a provisional start in which a nearly steady reading ([`START_STEADY`])
/// withdraws the phrase. The envelope has not moved yet: a phrase confirmed early waits for
/// its onset to come out of the lookahead (see [`crate::ballistics::DuckEnvelope::begin_onset`]),
/// so the withdrawal is not heard. One frame: waiting longer would eat the time the lookahead
/// gives the duck to land.
pub const PROVISIONAL_FRAMES: u32 = 1;
/// A frame belongs to a sound younger than [`YOUNG_MS`] when the key level, at some tick in
/// the last [`YOUNG_MS`], was this far under the frame's mean level, dB: the sound rose out
/// of silence, or out of a much quieter floor, within that time.
pub const YOUNG_RISE_DB: f32 = 20.0;
/// Capacity of the tick-level history the youth test looks back over (1 ms ticks: 128 ms).
const RECENT_TICKS: usize = 128;
/// Steadiness at or above which a frame cannot *start* a phrase, and withdraws a provisional
/// one. A steady sound just begun reads below [`STEADY`] while part of its comparison still
/// reaches into the silence and the filters' start-up before it (buzzes: 0.57-0.88, then
/// 0.996-0.998, then 1.000); speech frames read 0.99 or more 0.35 % of the time, though the
/// first vowel of a phrase often reads 0.93-0.97 (0.95 withdrew real phrases).
pub const START_STEADY: f32 = 0.99;
/// A steady sound keeps vetoing phrase starts this long after its last steady frame, ms: the
/// frames around its end (a cut, a fade) no longer repeat themselves while the detector's
/// probability still carries the sound (0.73-0.78 for 40 ms after a buzz is cut).
pub const STEADY_HANG_MS: f32 = 64.0;

/// A rise of the key level this far over its running minimum marks a phrase onset, dB.
/// Speech rises 20-40 dB out of the pauses between phrases; 10 dB is clear of the flutter of a
/// steady noise floor (pink noise's 1 ms level varies by about +-3 dB).
pub const ONSET_RISE_DB: f32 = 10.0;
/// The running minimum of the key level forgets upwards at this rate, dB per second, so it
/// follows a noise floor that rises (a scene change) within a few seconds.
pub const FLOOR_RISE_DB_PER_S: f32 = 6.0;
/// A level onset older than this when the detector confirms speech was not this phrase's, ms:
/// the detector takes at most 73 ms (measured) from the onset to confirm; 150 ms leaves
/// margin for slow-starting voices.
pub const ONSET_SEARCH_MS: f32 = 150.0;
/// Assumed age of the onset when no level onset is found within [`ONSET_SEARCH_MS`] (speech
/// rising slowly out of noise), ms: the detector's median confirmation time.
pub const ASSUMED_ONSET_MS: f32 = 25.0;
/// Voicing ([`crate::steady::Steadiness::voicing`]) from which a frame is voiced: vowels of
/// the shared dialogue and its transforms read 0.78-0.98 once the voice is under way; breaths
/// and noise read 0.1-0.53 (measured on the corpus breaths: at most 0.53 in one frame, mostly
/// about 0.25).
pub const VOICED: f32 = 0.7;
/// Just after a level onset (within [`ONSET_SEARCH_MS`]), voiced frames this much under the
/// starting probability count towards an early start. Phone-band speech sits at 0.44-0.52 for
/// 80 ms before it reaches 0.55 (a phrase confirmed 123 ms after its onset, past a 100 ms
/// lookahead); breaths reach the same probabilities but are not voiced, and the corpus thumps,
/// voiced by their ring, stay under 0.42 in all but isolated frames (a margin of 0.20 started
/// them).
pub const EARLY_MARGIN: f32 = 0.13;
/// Voiced, nearly confident frames in a row that start a phrase early (see [`EARLY_MARGIN`]):
/// two, so a single voiced frame of a thump or click does not.
pub const EARLY_FRAMES: u32 = 2;
/// How far under the starting probability a phrase may dip and stay speech.
pub const OFF_HYSTERESIS: f32 = 0.15;

/// Detector probability that starts speech for a Sensitivity in %: 0 % -> 0.80 (only clear
/// speech), 50 % -> 0.55 (just above the detector's own decision point: breaths and a 250 Hz
/// tone reach 0.45-0.49 on the corpus), 100 % -> 0.30 (whispers, distant or heavily processed
/// voices; more risk from speech-like sounds). Linear, so the control is monotonic and even.
pub fn on_probability(sensitivity_pct: f32) -> f32 {
    0.80 - 0.005 * sensitivity_pct.clamp(0.0, 100.0)
}

/// The speech decision, updated once per control tick.
#[derive(Debug, Clone)]
pub struct SpeechGate {
    tick_ms: f32,
    on_probability: f32,
    /// The detector currently says speech (with hysteresis).
    detector_on: bool,
    /// Latest detector probability.
    probability: f32,
    /// Frames in a row the key repeated itself.
    steady_frames: u32,
    /// Time since the last steady frame, ms.
    since_steady_ms: f32,
    /// Frames left in which the phrase in progress can be withdrawn ([`PROVISIONAL_FRAMES`]).
    provisional_frames: u32,
    /// The latest frame withdrew a provisional phrase.
    withdrawn: bool,
    active: bool,
    /// Time since the key level last rose out of silence, ms.
    since_level_onset_ms: f32,
    /// Whether the level was above the floor and risen over its minimum last tick.
    level_was_up: bool,
    /// Frames in a row, since a recent level onset, that were speech-like but under the
    /// start probability ([`EARLY_DROP`]).
    early_frames: u32,
    /// Key power of the latest ticks (ring), for the youth test.
    recent_powers: [f32; RECENT_TICKS],
    recent_pos: usize,
    /// Ticks the youth test looks back over ([`YOUNG_MS`]).
    young_ticks: usize,
    /// Sum and count of the tick powers since the last detector frame.
    frame_power_sum: f32,
    frame_ticks: u32,
    /// Power ratio of [`YOUNG_RISE_DB`] (below 1).
    young_ratio: f32,
    /// Running minimum of the key power (linear); starts at the first tick's level.
    floor_power: f32,
    /// Per-tick factor the running minimum may rise by.
    floor_rise: f32,
    /// Power ratio of [`ONSET_RISE_DB`].
    rise_ratio: f32,
}

impl SpeechGate {
    /// A gate updated every `tick_ms`, at `sensitivity_pct` (see [`on_probability`]).
    pub fn new(tick_ms: f32, sensitivity_pct: f32) -> Self {
        Self {
            tick_ms,
            on_probability: on_probability(sensitivity_pct),
            detector_on: false,
            probability: 0.0,
            steady_frames: 0,
            since_steady_ms: f32::INFINITY,
            provisional_frames: 0,
            withdrawn: false,
            active: false,
            since_level_onset_ms: f32::INFINITY,
            level_was_up: false,
            early_frames: 0,
            recent_powers: [0.0; RECENT_TICKS],
            recent_pos: 0,
            young_ticks: ((YOUNG_MS / tick_ms).ceil() as usize).clamp(1, RECENT_TICKS),
            frame_power_sum: 0.0,
            frame_ticks: 0,
            young_ratio: 10f32.powf(-YOUNG_RISE_DB / 10.0),
            floor_power: f32::MAX,
            floor_rise: 10f32.powf(FLOOR_RISE_DB_PER_S * tick_ms * 0.001 / 10.0),
            rise_ratio: 10f32.powf(ONSET_RISE_DB / 10.0),
        }
    }

    /// Sets Sensitivity, % (see [`on_probability`]).
    pub fn set_sensitivity(&mut self, sensitivity_pct: f32) {
        self.on_probability = on_probability(sensitivity_pct);
    }

    /// Advances one tick. `power`: the key's speech-band mean square; `above_floor`: it is above
    /// Threshold (with hysteresis); `frame`: the detector's frame if one completed in this tick.
    /// Returns whether the key counts as speech now.
    pub fn process_tick(
        &mut self,
        power: f32,
        above_floor: bool,
        frame: Option<SpeechFrame>,
    ) -> bool {
        // Onset timing: the level rising out of silence: above the floor, and clear of its own
        // running minimum (which is silence for a clean key, the noise floor of a noisy one).
        self.floor_power = power.min(self.floor_power * self.floor_rise).max(1e-20);
        let up = above_floor && power > self.floor_power * self.rise_ratio;
        if up && !self.level_was_up {
            self.since_level_onset_ms = 0.0;
        } else {
            self.since_level_onset_ms += self.tick_ms;
        }
        self.level_was_up = up;
        self.recent_powers[self.recent_pos] = power;
        self.recent_pos = (self.recent_pos + 1) % RECENT_TICKS;
        self.frame_power_sum += power;
        self.frame_ticks += 1;
        self.since_steady_ms += self.tick_ms;
        self.withdrawn = false;
        if let Some(f) = frame {
            let young = self.young();
            let (p, previous) = (f.probability, self.probability);
            self.probability = p;
            self.steady_frames = match f.steadiness {
                Some(s) if s >= STEADY => self.steady_frames + 1,
                _ => 0,
            };
            let steady = self.steady_frames >= STEADY_FRAMES;
            if steady {
                self.since_steady_ms = 0.0;
            }
            let off = (self.on_probability - OFF_HYSTERESIS).max(0.05);
            let nearly_steady = f.steadiness.is_some_and(|s| s >= START_STEADY);
            self.detector_on = if self.detector_on {
                // A provisional phrase is withdrawn if its next frame nearly repeats itself.
                self.withdrawn = self.provisional_frames > 0 && nearly_steady;
                self.provisional_frames = self.provisional_frames.saturating_sub(1);
                p >= off && !steady && !self.withdrawn
            } else {
                // A phrase starts on a confident frame that follows a rising one (a lone
                // confident frame is a transient) or that is voiced, of a sound that is not
                // steady and has not just been, or that is too young to tell but clearly
                // speech. Or, just after a level onset, on voiced frames that are nearly
                // confident: slow-to-confirm speech (phone band) whose onset would otherwise
                // outrun the lookahead.
                let needed = match f.steadiness {
                    None => self.on_probability + YOUNG_MARGIN,
                    Some(_) if nearly_steady => f32::INFINITY,
                    Some(_) => self.on_probability,
                };
                // Voiced and clearly not repeating itself: a buzz just begun is voiced too, but
                // already reads 0.86 or more.
                let voiced =
                    f.voicing >= VOICED && f.steadiness.is_some_and(|s| s < PROVISIONAL_FROM);
                if voiced
                    && self.since_level_onset_ms <= ONSET_SEARCH_MS
                    && p >= self.on_probability - EARLY_MARGIN
                {
                    self.early_frames += 1;
                } else {
                    self.early_frames = 0;
                }
                let sure = p >= needed && previous >= off;
                let confident = p >= needed && voiced;
                let start = (sure || confident || self.early_frames >= EARLY_FRAMES)
                    && self.since_steady_ms > STEADY_HANG_MS;
                // A voiced young sound may be a buzz just begun: starts on voicing alone wait
                // for the next frame's steadiness too.
                let suspicious = f.steadiness.is_none_or(|s| s >= PROVISIONAL_FROM)
                    || self.since_steady_ms < STEADY_MEMORY_MS
                    || !sure;
                if start && young && suspicious {
                    self.provisional_frames = PROVISIONAL_FRAMES;
                }
                start
            };
        }
        self.active = above_floor && self.detector_on;
        self.active
    }

    /// Whether the key counts as speech now.
    pub fn active(&self) -> bool {
        self.active
    }

    /// Whether the phrase in progress is provisional: it may still be withdrawn (see
    /// [`PROVISIONAL_FRAMES`]).
    pub fn provisional(&self) -> bool {
        self.active && self.provisional_frames > 0
    }

    /// Whether the latest frame withdrew a provisional phrase.
    pub fn withdrawn(&self) -> bool {
        self.withdrawn
    }

    /// Latest detector probability, 0..=1.
    pub fn probability(&self) -> f32 {
        self.probability
    }

    /// How long ago the phrase that is starting now began, ms: the last level onset if it is
    /// recent enough to be this phrase's (see [`ONSET_SEARCH_MS`]), else [`ASSUMED_ONSET_MS`].
    /// The envelope shortens its attack so the duck lands before that onset reaches the
    /// listener.
    pub fn since_onset_ms(&self) -> f32 {
        if self.since_level_onset_ms <= ONSET_SEARCH_MS {
            self.since_level_onset_ms
        } else {
            ASSUMED_ONSET_MS
        }
    }

    /// Back to silence.
    pub fn reset(&mut self) {
        self.detector_on = false;
        self.probability = 0.0;
        self.steady_frames = 0;
        self.since_steady_ms = f32::INFINITY;
        self.provisional_frames = 0;
        self.withdrawn = false;
        self.active = false;
        self.since_level_onset_ms = f32::INFINITY;
        self.level_was_up = false;
        self.early_frames = 0;
        self.recent_powers.fill(0.0);
        self.frame_power_sum = 0.0;
        self.frame_ticks = 0;
        self.floor_power = f32::MAX;
    }

    /// Whether the sound of the frame just completed is younger than [`YOUNG_MS`] (see
    /// [`YOUNG_RISE_DB`]); starts the next frame's level sum.
    fn young(&mut self) -> bool {
        let mean = self.frame_power_sum / self.frame_ticks.max(1) as f32;
        (self.frame_power_sum, self.frame_ticks) = (0.0, 0);
        let newest = self.recent_pos + RECENT_TICKS;
        let lowest = (0..self.young_ticks)
            .map(|back| self.recent_powers[(newest - 1 - back) % RECENT_TICKS])
            .fold(f32::INFINITY, f32::min);
        lowest < mean * self.young_ratio
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK_MS: f32 = 1.0;

    fn power(db: f32) -> f32 {
        10f32.powf(db / 10.0)
    }

    /// Runs `ticks` ticks at `level_db`, with a detector frame every 16 ticks at `p` and
    /// steadiness `s`, unvoiced.
    fn run_with(g: &mut SpeechGate, ticks: usize, level_db: f32, p: f32, s: Option<f32>) -> bool {
        run_voiced(g, ticks, level_db, p, s, 0.0)
    }

    /// As [`run_with`], at voicing `v`.
    fn run_voiced(
        g: &mut SpeechGate,
        ticks: usize,
        level_db: f32,
        p: f32,
        s: Option<f32>,
        v: f32,
    ) -> bool {
        let mut last = false;
        for t in 0..ticks {
            let frame = (t % 16 == 15).then_some(SpeechFrame {
                probability: p,
                steadiness: s,
                voicing: v,
            });
            last = g.process_tick(power(level_db), level_db > -60.0, frame);
        }
        last
    }

    /// As [`run_with`] for a sound that is not steady.
    fn run(g: &mut SpeechGate, ticks: usize, level_db: f32, p: f32) -> bool {
        run_with(g, ticks, level_db, p, Some(0.5))
    }

    #[test]
    fn voiced_frames_just_after_an_onset_start_early_and_unvoiced_ones_do_not() {
        let below = on_probability(50.0) - EARLY_MARGIN + 0.02;
        // A voiced sound rising out of silence, nearly confident: starts on its second frame.
        let mut g = SpeechGate::new(TICK_MS, 50.0);
        run_with(&mut g, 1_000, -150.0, 0.2, None);
        assert!(!run_voiced(&mut g, 16, -30.0, below, Some(0.5), 0.9));
        assert!(run_voiced(&mut g, 16, -30.0, below, Some(0.5), 0.9));
        // The same probabilities unvoiced (a breath): never.
        let mut g = SpeechGate::new(TICK_MS, 50.0);
        run_with(&mut g, 1_000, -150.0, 0.2, None);
        assert!(!run_voiced(&mut g, 500, -30.0, below, Some(0.5), 0.3));
        // Voiced but long after its onset (a held sound): only the confident rule starts it.
        assert!(!run_voiced(&mut g, 500, -30.0, below, Some(0.5), 0.9));
        // One confident voiced frame after an unsure one starts at once; unvoiced it waits a
        // frame.
        let mut g = SpeechGate::new(TICK_MS, 50.0);
        run_with(&mut g, 1_000, -150.0, 0.2, None);
        run_voiced(&mut g, 16, -30.0, 0.2, Some(0.5), 0.2);
        assert!(run_voiced(&mut g, 16, -30.0, 0.6, Some(0.5), 0.9));
        let mut g = SpeechGate::new(TICK_MS, 50.0);
        run_with(&mut g, 1_000, -150.0, 0.2, None);
        run_voiced(&mut g, 16, -30.0, 0.2, Some(0.5), 0.2);
        assert!(!run_voiced(&mut g, 16, -30.0, 0.6, Some(0.5), 0.2));
        assert!(run_voiced(&mut g, 16, -30.0, 0.6, Some(0.5), 0.2));
    }

    #[test]
    fn speech_needs_the_detector_and_the_floor() {
        let mut g = SpeechGate::new(TICK_MS, 50.0);
        // Loud but not speech: never.
        assert!(!run(&mut g, 500, -20.0, 0.3));
        // Speech-like but under the floor: never.
        assert!(!run(&mut g, 500, -70.0, 0.9));
        // Both: speech (the detector was already sure; only the floor held it back).
        assert!(run(&mut g, 16, -30.0, 0.9));
    }

    #[test]
    fn steady_sounds_and_lone_frames_do_not_start_a_phrase() {
        // A steady sound scoring 0.6: not speech, and it ends a phrase too.
        let mut g = SpeechGate::new(TICK_MS, 50.0);
        assert!(!run_with(&mut g, 320, -30.0, 0.6, Some(1.0)));
        let mut g = SpeechGate::new(TICK_MS, 50.0);
        assert!(run(&mut g, 64, -30.0, 0.9));
        assert!(
            !run_with(&mut g, 16, -30.0, 0.9, Some(1.0)),
            "a steady frame ends it"
        );
        // A lone confident frame after silence is not a phrase.
        let mut g = SpeechGate::new(TICK_MS, 50.0);
        run(&mut g, 160, -30.0, 0.1);
        assert!(!run(&mut g, 16, -30.0, 0.9));
        assert!(!run(&mut g, 16, -30.0, 0.2));
        // Too young to know its steadiness: 0.6 is not enough, 0.75 is.
        let mut g = SpeechGate::new(TICK_MS, 50.0);
        run(&mut g, 160, -30.0, 0.45);
        assert!(!run_with(&mut g, 48, -30.0, 0.6, None));
        assert!(run_with(&mut g, 16, -30.0, 0.75, None));
    }

    #[test]
    fn a_steady_sound_vetoes_starts_while_young_at_its_end_and_when_it_returns() {
        // Nearly steady (0.99-0.999) cannot start a phrase, though it would not end one.
        let mut g = SpeechGate::new(TICK_MS, 50.0);
        run(&mut g, 160, -30.0, 0.45);
        assert!(!run_with(&mut g, 48, -30.0, 0.8, Some(0.995)));
        assert!(run_with(&mut g, 16, -30.0, 0.8, Some(0.5)));
        assert!(run_with(&mut g, 16, -30.0, 0.8, Some(0.995)));
        // A steady sound, then its end (not steady, still scored as speech): no start until
        // STEADY_HANG_MS after its last steady frame.
        let mut g = SpeechGate::new(TICK_MS, 50.0);
        run_with(&mut g, 320, -30.0, 0.75, Some(1.0));
        assert!(!run_with(&mut g, 64, -30.0, 0.75, Some(0.6)));
        assert!(run_with(&mut g, 16, -30.0, 0.75, Some(0.6)));
        // The steady sound comes back after a second of silence: its young start is
        // provisional and withdrawn by the nearly steady frame after it.
        run_with(&mut g, 1_000, -150.0, 0.3, None);
        run_with(&mut g, 32, -20.0, 0.5, None);
        assert!(run_with(&mut g, 16, -20.0, 0.7, Some(0.57)));
        assert!(g.provisional());
        assert!(!run_with(&mut g, 16, -20.0, 0.75, Some(0.997)));
        assert!(g.withdrawn());
        // Speech long after any steady sound, rising out of silence: not provisional.
        let mut g = SpeechGate::new(TICK_MS, 50.0);
        run(&mut g, 500, -150.0, 0.2);
        run(&mut g, 32, -25.0, 0.5);
        assert!(run(&mut g, 16, -25.0, 0.7));
        assert!(!g.provisional());
    }

    #[test]
    fn hysteresis_keeps_a_weak_syllable_inside_a_phrase() {
        let mut g = SpeechGate::new(TICK_MS, 50.0);
        assert!(
            !run(&mut g, 32, -30.0, 0.45),
            "0.45 does not start a phrase"
        );
        assert!(run(&mut g, 16, -30.0, 0.6), "0.6 after 0.45 does");
        assert!(run(&mut g, 32, -30.0, 0.42), "0.42 continues it");
        assert!(!run(&mut g, 16, -30.0, 0.3), "0.3 ends it");
    }

    #[test]
    fn onset_is_timed_from_the_level_rise() {
        let mut g = SpeechGate::new(TICK_MS, 50.0);
        run(&mut g, 300, -90.0, 0.1);
        // The voice rises out of silence; the detector confirms 56 ms later.
        run(&mut g, 40, -30.0, 0.4);
        assert!(run(&mut g, 16, -30.0, 0.9));
        assert!(
            (g.since_onset_ms() - 55.0).abs() < 1.5,
            "{}",
            g.since_onset_ms()
        );
        // Over a steady noise floor above Threshold, the rise over the running minimum counts.
        let mut g = SpeechGate::new(TICK_MS, 50.0);
        run(&mut g, 2_000, -50.0, 0.1);
        run(&mut g, 30, -30.0, 0.4);
        assert!(run(&mut g, 16, -30.0, 0.9));
        assert!(
            (g.since_onset_ms() - 45.0).abs() < 1.5,
            "{}",
            g.since_onset_ms()
        );
        // Speech emerging with no clear rise: the assumed onset.
        let mut g = SpeechGate::new(TICK_MS, 50.0);
        run(&mut g, 2_000, -35.0, 0.4);
        assert!(run(&mut g, 16, -34.0, 0.9));
        assert_eq!(g.since_onset_ms(), ASSUMED_ONSET_MS);
    }

    #[test]
    fn sensitivity_is_monotonic() {
        assert_eq!(on_probability(50.0), 0.55);
        assert_eq!((on_probability(0.0), on_probability(100.0)), (0.8, 0.3));
        let mut previous = f32::INFINITY;
        for s in 0..=10 {
            let p = on_probability(s as f32 * 10.0);
            assert!(p < previous);
            previous = p;
        }
    }
}
