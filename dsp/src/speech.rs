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
//! The key is speech while it is above Threshold and the detector's probability is above
//! Sensitivity's threshold ([`on_probability`], 0.5 at 50 %); once speech, it stays speech while
//! the probability is above a lower threshold ([`OFF_HYSTERESIS`] under it), so a syllable that
//! scores 0.4 inside a phrase does not break it. Two guards keep the detector's known mistakes
//! out: a phrase starts only on a frame that follows one already above the lower threshold (a
//! single confident frame is a transient: a breath scored 0.51 for one frame), and never on a
//! *steady* sound ([`crate::steady`]: tones, hum and buzz repeat themselves exactly, which the
//! detector does not notice), which also ends a phrase. A sound younger than its steadiness can
//! be known (~40 ms) needs [`YOUNG_MARGIN`] more probability. No duck is ever started on level or pitch alone
//! (no provisional duck that the detector would have to withdraw, which would be heard as a
//! dip): the detector confirms first, and the lookahead gives it the time to.
//!
//! Between words and speakers the decision lets go late by itself (the detector's probability
//! takes 110-170 ms to fall under 0.35 after a phrase ends), and Hold and the S-curve release
//! bridge the rest, so a conversation with 150-400 ms between speakers stays one duck.

use crate::detector::SpeechFrame;
use crate::steady::STEADY;

/// Frames of the detector, ms (see [`crate::vad::FRAME_MS`]).
pub use crate::vad::FRAME_MS;

/// Frames in a row at [`STEADY`] or above that make the key a steady sound, not speech (48 ms).
/// Speech on the shared stems reaches it on two frames in a row at most.
pub const STEADY_FRAMES: u32 = 1;
/// A sound too young for its steadiness to be known (its first ~40 ms) starts a phrase only
/// with this much more probability: steady tones and hum, just begun, score up to 0.64 there
/// and are not yet recognisable as steady; speech that starts that clearly scores 0.7-0.9.
pub const YOUNG_MARGIN: f32 = 0.15;

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
/// How far under the starting probability a phrase may dip and stay speech.
pub const OFF_HYSTERESIS: f32 = 0.15;

/// Detector probability that starts speech for a Sensitivity in %: 0 % -> 0.75 (only clear
/// speech), 50 % -> 0.5 (the detector's own decision point), 100 % -> 0.25 (whispers, distant
/// or heavily processed voices; more risk from speech-like sounds). Linear, so the control is
/// monotonic and even.
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
    active: bool,
    /// Time since the key level last rose out of silence, ms.
    since_level_onset_ms: f32,
    /// Whether the level was above the floor and risen over its minimum last tick.
    level_was_up: bool,
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
            active: false,
            since_level_onset_ms: f32::INFINITY,
            level_was_up: false,
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
        if let Some(f) = frame {
            let (p, previous) = (f.probability, self.probability);
            self.probability = p;
            self.steady_frames = match f.steadiness {
                Some(s) if s >= STEADY => self.steady_frames + 1,
                _ => 0,
            };
            let steady = self.steady_frames >= STEADY_FRAMES;
            let off = (self.on_probability - OFF_HYSTERESIS).max(0.05);
            self.detector_on = if self.detector_on {
                p >= off && !steady
            } else {
                // A phrase starts on a confident frame that follows a rising one (a lone
                // confident frame is a transient), of a sound that is not steady, or that is
                // too young to tell but clearly speech.
                let young = f.steadiness.is_none();
                let needed = self.on_probability + if young { YOUNG_MARGIN } else { 0.0 };
                p >= needed && previous >= off && !steady
            };
        }
        self.active = above_floor && self.detector_on;
        self.active
    }

    /// Whether the key counts as speech now.
    pub fn active(&self) -> bool {
        self.active
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
        self.active = false;
        self.since_level_onset_ms = f32::INFINITY;
        self.level_was_up = false;
        self.floor_power = f32::MAX;
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
    /// steadiness `s`.
    fn run_with(g: &mut SpeechGate, ticks: usize, level_db: f32, p: f32, s: Option<f32>) -> bool {
        let mut last = false;
        for t in 0..ticks {
            let frame = (t % 16 == 15).then_some(SpeechFrame {
                probability: p,
                steadiness: s,
                voicing: 0.3,
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
