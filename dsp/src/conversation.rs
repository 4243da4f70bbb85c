//! A conversation is one continuous need for clarity.
//!
//! Between two speakers, and between the sentences of one, dialogue pauses 150-400 ms (the
//! turn-taking gaps measured in conversation) and, acoustically, longer: a line's last syllable
//! fades under the Threshold and the detector confirms the next line 20-100 ms into it, so the
//! bed sees 0.3-0.9 s without speech. With Hold alone (150 ms) and a 500 ms S-curve release, the
//! bed comes up 3 dB after 330 ms and the next line pulls it down again: pumping, the artefact
//! mixers notice first. A fixed long hold would instead keep the bed down after every lone
//! line.
//!
//! So the hold grows with how much of the recent past was speech: [`SpeechDensity`] follows the
//! share of speech time with a [`DENSITY_TIME_CONSTANT_S`] (3 s) memory, and Hold is extended by
//! up to [`CONVERSATION_HOLD_MS`] (600 ms) as that share rises from [`DENSITY_FROM`] (30 %: a
//! short line after a long silence, no extension) to [`DENSITY_FULL`] (70 %: an exchange). The
//! memory is short enough that the first gap of a conversation, 2-3 s into it, is already
//! bridged by about half the extension. A lone line after a long pause keeps the user's Hold;
//! lines with pauses as long as themselves get about half the extension (the bed comes back a
//! few hundred ms later, still on the S-curve); a conversation bridges pauses up to about 0.9 s
//! (150 + 600 ms of hold, then 180 ms of release before the bed has risen 3 dB).

/// Memory of the speech share, s: a few lines.
pub const DENSITY_TIME_CONSTANT_S: f32 = 3.0;
/// Speech share below which Hold is not extended.
pub const DENSITY_FROM: f32 = 0.3;
/// Speech share at which the whole extension applies.
pub const DENSITY_FULL: f32 = 0.7;
/// Most hold added in a conversation, ms.
pub const CONVERSATION_HOLD_MS: f32 = 600.0;

/// The share of recent time the key was speech.
#[derive(Debug, Clone)]
pub struct SpeechDensity {
    density: f32,
    coeff: f32,
}

impl SpeechDensity {
    /// Updated every `tick_ms`.
    pub fn new(tick_ms: f32) -> Self {
        Self {
            density: 0.0,
            coeff: 1.0 - (-tick_ms * 0.001 / DENSITY_TIME_CONSTANT_S).exp(),
        }
    }

    /// One tick with the key `speech` or not; returns the hold to add, ms.
    pub fn process_tick(&mut self, speech: bool) -> f32 {
        let x = if speech { 1.0 } else { 0.0 };
        self.density += self.coeff * (x - self.density);
        self.extra_hold_ms()
    }

    /// The hold to add now, ms.
    pub fn extra_hold_ms(&self) -> f32 {
        let share = ((self.density - DENSITY_FROM) / (DENSITY_FULL - DENSITY_FROM)).clamp(0.0, 1.0);
        CONVERSATION_HOLD_MS * share
    }

    /// The share of recent time that was speech, 0..=1.
    pub fn density(&self) -> f32 {
        self.density
    }

    /// Back to silence.
    pub fn reset(&mut self) {
        self.density = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(d: &mut SpeechDensity, ms: usize, speech: bool) -> f32 {
        let mut extra = 0.0;
        for _ in 0..ms {
            extra = d.process_tick(speech);
        }
        extra
    }

    #[test]
    fn an_exchange_extends_hold_and_lone_lines_do_not() {
        // Lines of 1 s with 4 s pauses: a fifth of the time speech, no extension.
        let mut d = SpeechDensity::new(1.0);
        for _ in 0..5 {
            run(&mut d, 1_000, true);
            assert!(run(&mut d, 4_000, false) < 1.0);
        }
        // A conversation: 3 s lines, 300 ms gaps: the full extension by the third line.
        let mut d = SpeechDensity::new(1.0);
        let mut extra = 0.0;
        for _ in 0..3 {
            extra = run(&mut d, 3_000, true);
            run(&mut d, 300, false);
        }
        assert!(extra > 0.9 * CONVERSATION_HOLD_MS, "{extra}");
        // A single short line after silence: none.
        let mut d = SpeechDensity::new(1.0);
        assert_eq!(run(&mut d, 1_000, true), 0.0);
    }
}
