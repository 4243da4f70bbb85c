//! Duck envelope: turns "the key is active" into "how far down is the bed", with attack, hold
//! and release times that mean what a mixer expects.
//!
//! The state is a duck *amount* in 0..=1 (fraction of Depth). It moves linearly, so Attack is
//! exactly the time of a full travel from 0 dB to Depth and Release exactly the time back; Hold
//! keeps it where it is for that long after the key goes quiet, which bridges the gaps between
//! words. The amount is shaped with a smoothstep (zero slope at both ends), so a full release is
//! an S-curve in dB: the bed starts to come back gently and lands without a corner, with no
//! audible step anywhere.

use crate::units::ms_to_samples;

/// Attack / hold / release state machine, advanced once per control tick.
#[derive(Debug, Clone)]
pub struct DuckEnvelope {
    amount: f32,
    hold_left_samples: usize,
    attack_samples: usize,
    /// Attack time of the phrase onset in progress, when shorter than Attack.
    onset_attack_samples: Option<usize>,
    /// Samples left before that onset attack starts (a provisional phrase's confirmation).
    onset_wait_samples: usize,
    /// A withdrawn phrase is being undone (release at the attack's speed).
    withdrawing: bool,
    hold_samples: usize,
    /// Hold added on top of Hold while a conversation is under way (see
    /// [`crate::conversation`]).
    extra_hold_samples: usize,
    release_samples: usize,
    sample_rate_hz: f32,
}

impl DuckEnvelope {
    /// A resting envelope (bed not ducked) at `sample_rate_hz` with the given times (see
    /// [`Self::set_times`]).
    pub fn new(sample_rate_hz: f32, attack_ms: f32, hold_ms: f32, release_ms: f32) -> Self {
        let mut envelope = Self {
            amount: 0.0,
            hold_left_samples: 0,
            attack_samples: 0,
            onset_attack_samples: None,
            onset_wait_samples: 0,
            withdrawing: false,
            hold_samples: 0,
            extra_hold_samples: 0,
            release_samples: 0,
            sample_rate_hz,
        };
        envelope.set_times(attack_ms, hold_ms, release_ms);
        envelope
    }

    /// Sets the ballistics. Attack and Release are full-travel times (0 to Depth and back).
    pub fn set_times(&mut self, attack_ms: f32, hold_ms: f32, release_ms: f32) {
        self.attack_samples = ms_to_samples(attack_ms, self.sample_rate_hz);
        self.hold_samples = ms_to_samples(hold_ms, self.sample_rate_hz);
        self.release_samples = ms_to_samples(release_ms, self.sample_rate_hz);
    }

    /// Sets the hold added to Hold at the end of the current or next phrase, ms.
    pub fn set_extra_hold(&mut self, extra_hold_ms: f32) {
        self.extra_hold_samples = ms_to_samples(extra_hold_ms.max(0.0), self.sample_rate_hz);
    }

    /// A phrase onset was confirmed and the duck must be in place in `time_left_ms`: the
    /// attack starts now and lands by then, shortened when time is short (never below
    /// `min_attack_ms`), so the first syllable is clear. `min_wait_ms` keeps the bed untouched
    /// that long first (a provisional phrase that may still be withdrawn), the attack squeezed
    /// into what is left, landing later only if it must. Starting at once rather than just in
    /// time is deliberate: the onset time is an estimate from the key level, and a quiet voice
    /// begins before its level says so. Inside a held duck this has no effect.
    pub fn begin_onset(&mut self, time_left_ms: f32, min_attack_ms: f32, min_wait_ms: f32) {
        let samples = |ms: f32| ms_to_samples(ms.max(0.0), self.sample_rate_hz);
        let (floor, wait) = (samples(min_attack_ms), samples(min_wait_ms));
        let left = samples(time_left_ms).saturating_sub(wait);
        self.onset_wait_samples = wait;
        self.onset_attack_samples = Some(left.clamp(floor, self.attack_samples.max(floor)));
    }

    /// The phrase just begun was withdrawn (it was not speech): no hold, and whatever the
    /// attack moved comes back at the attack's speed.
    pub fn withdraw_onset(&mut self) {
        self.hold_left_samples = 0;
        self.onset_wait_samples = 0;
        self.withdrawing = true;
    }

    /// Advances by `tick_samples` with the key `active` or not; returns the shaped amount
    /// (0 = untouched, 1 = full Depth) at the end of the tick.
    pub fn process_tick(&mut self, active: bool, tick_samples: usize) -> f32 {
        if active {
            self.withdrawing = false;
            self.hold_left_samples = self.hold_samples + self.extra_hold_samples;
            if self.onset_wait_samples > 0 {
                self.onset_wait_samples = self.onset_wait_samples.saturating_sub(tick_samples);
                return self.shaped();
            }
            let attack = self
                .onset_attack_samples
                .map_or(self.attack_samples, |a| a.min(self.attack_samples));
            self.amount = step_towards(self.amount, 1.0, tick_samples, attack);
            if self.amount >= 1.0 {
                self.onset_attack_samples = None;
            }
        } else if self.hold_left_samples > 0 {
            self.hold_left_samples = self.hold_left_samples.saturating_sub(tick_samples);
        } else {
            let release = if self.withdrawing {
                self.onset_attack_samples.unwrap_or(self.attack_samples)
            } else {
                self.release_samples
            };
            self.amount = step_towards(self.amount, 0.0, tick_samples, release);
            if self.amount == 0.0 {
                self.withdrawing = false;
            }
            self.onset_attack_samples = None;
            self.onset_wait_samples = 0;
        }
        self.shaped()
    }

    /// The current amount after smoothstep shaping, in 0..=1.
    pub fn shaped(&self) -> f32 {
        let a = self.amount;
        a * a * (3.0 - 2.0 * a)
    }

    /// Back to rest.
    pub fn reset(&mut self) {
        self.amount = 0.0;
        self.hold_left_samples = 0;
        self.onset_attack_samples = None;
    }
}

/// Moves `value` towards `target` by the share of a full 0..1 travel that `step_samples` is of
/// `travel_samples` (a zero travel time jumps at once).
fn step_towards(value: f32, target: f32, step_samples: usize, travel_samples: usize) -> f32 {
    if travel_samples == 0 {
        return target;
    }
    let step = step_samples as f32 / travel_samples as f32;
    if target > value {
        (value + step).min(target)
    } else {
        (value - step).max(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SR: f32 = 48_000.0;
    const TICK: usize = 16;

    fn ticks(ms: f32) -> usize {
        ms_to_samples(ms, SR) / TICK
    }

    #[test]
    fn attack_reaches_full_in_attack_time() {
        let mut env = DuckEnvelope::new(SR, 10.0, 100.0, 300.0);
        let mut last = 0.0;
        for _ in 0..ticks(10.0) {
            last = env.process_tick(true, TICK);
        }
        assert!((last - 1.0).abs() < 1e-6);
    }

    #[test]
    fn hold_bridges_gaps_then_release_takes_release_time() {
        let mut env = DuckEnvelope::new(SR, 0.0, 100.0, 300.0);
        env.process_tick(true, TICK);
        // 99 ms of silence: still fully down.
        for _ in 0..ticks(99.0) {
            assert_eq!(env.process_tick(false, TICK), 1.0);
        }
        let mut n = 0;
        while env.process_tick(false, TICK) > 0.0 {
            n += 1;
            assert!(n < 10_000);
        }
        let total_ms = (ticks(99.0) + n + 1) as f32 * TICK as f32 / SR * 1000.0;
        assert!((total_ms - 400.0).abs() < 2.0, "{total_ms}");
    }

    #[test]
    fn onset_attack_lands_in_the_time_left() {
        let mut env = DuckEnvelope::new(SR, 50.0, 100.0, 300.0);
        env.begin_onset(12.0, 5.0, 0.0);
        let mut n = 0;
        while env.process_tick(true, TICK) < 1.0 {
            n += 1;
        }
        let ms = (n + 1) as f32 * TICK as f32 / SR * 1000.0;
        assert!((ms - 12.0).abs() < 0.5, "{ms}");
        // Past the onset the user's Attack is back.
        env.process_tick(false, TICK);
        env.reset();
        for _ in 0..ticks(25.0) {
            env.process_tick(true, TICK);
        }
        assert!((env.shaped() - 0.5).abs() < 0.05);
        // No time left: the floor applies.
        env.reset();
        env.begin_onset(-30.0, 5.0, 0.0);
        for _ in 0..ticks(5.0) {
            env.process_tick(true, TICK);
        }
        assert_eq!(env.shaped(), 1.0);
    }

    #[test]
    fn provisional_onset_waits_and_a_withdrawal_is_not_heard() {
        // 24 ms left, 10 ms Attack, but at least 17 ms untouched: the attack is squeezed into
        // the 7 ms that remain.
        let mut env = DuckEnvelope::new(SR, 10.0, 100.0, 300.0);
        env.begin_onset(24.0, 5.0, 17.0);
        for _ in 0..ticks(16.0) {
            assert_eq!(env.process_tick(true, TICK), 0.0);
        }
        let mut n = ticks(16.0);
        while env.process_tick(true, TICK) < 1.0 {
            n += 1;
        }
        let ms = (n + 1) as f32 * TICK as f32 / SR * 1000.0;
        assert!((ms - 24.0).abs() < 0.5, "{ms}");
        // Withdrawn 16 ms after the start: the bed was never touched and is not held.
        let mut env = DuckEnvelope::new(SR, 10.0, 100.0, 300.0);
        env.begin_onset(24.0, 5.0, 17.0);
        for _ in 0..ticks(16.0) {
            env.process_tick(true, TICK);
        }
        env.withdraw_onset();
        assert_eq!(env.process_tick(false, TICK), 0.0);
        // Withdrawn after it moved: back at the attack's speed, no hold.
        let mut env = DuckEnvelope::new(SR, 10.0, 100.0, 300.0);
        env.begin_onset(10.0, 5.0, 0.0);
        for _ in 0..ticks(3.0) {
            env.process_tick(true, TICK);
        }
        env.withdraw_onset();
        for _ in 0..ticks(3.0) + 1 {
            env.process_tick(false, TICK);
        }
        assert_eq!(env.shaped(), 0.0);
    }

    #[test]
    fn release_curve_is_smooth() {
        let mut env = DuckEnvelope::new(SR, 0.0, 0.0, 500.0);
        env.process_tick(true, TICK);
        let mut prev = env.shaped();
        let mut max_step = 0.0f32;
        for _ in 0..ticks(500.0) {
            let v = env.process_tick(false, TICK);
            max_step = max_step.max(prev - v);
            assert!(v <= prev);
            prev = v;
        }
        // Largest step of a smoothstep is 1.5x the linear step.
        let linear = TICK as f32 / ms_to_samples(500.0, SR) as f32;
        assert!(max_step <= 1.5 * linear + 1e-6, "{max_step}");
    }
}
