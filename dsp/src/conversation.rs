//! A conversation is one continuous need for clarity.
//!
//! Between two speakers, and between the sentences of one, dialogue pauses 150-400 ms (the
//! turn-taking gaps of conversation) and, as the key is heard, longer: a line's last syllable
//! fades under the Threshold and the detector confirms the next line 20-100 ms into it, so the
//! bed sees 0.3-0.9 s without speech. With Hold alone (150 ms) and a 500 ms S-curve release the
//! bed comes up 3 dB after 330 ms and the next line pulls it down again: pumping, the artefact
//! mixers notice first. A fixed long hold would instead keep the bed down after every line of a
//! scene whose lines stand apart, where the bed should come back.
//!
//! So Hold is extended by what the recent pauses say: [`ConversationHold`] measures every pause
//! of 200 ms or more (from the end of one phrase to the start of the next; the silence before
//! the first phrase counts as one; shorter breaks are gaps between words) and keeps their
//! running mean over the last two. When that mean is
//! [`FULL_BELOW_S`] (0.8 s) or shorter, pauses are turns in a conversation and Hold gets the
//! whole [`CONVERSATION_HOLD_MS`] (600 ms) more; at [`NONE_ABOVE_S`] (1.6 s) or longer, lines
//! stand apart and Hold is the user's; linear between. A conversation then bridges pauses up to
//! about 0.9 s (150 + 600 ms of hold, then 180 ms of release before the bed has risen 3 dB),
//! while lines 2 s apart release as set.

/// Mean pause at or under which Hold gets the whole extension, s.
pub const FULL_BELOW_S: f32 = 0.8;
/// Mean pause at or over which Hold is not extended, s.
pub const NONE_ABOVE_S: f32 = 1.6;
/// Most hold added in a conversation, ms.
pub const CONVERSATION_HOLD_MS: f32 = 600.0;
/// Breaks in the speech decision shorter than this are gaps between words (60-160 ms on the
/// shared stems), not pauses between phrases, s. The silence before the first phrase counts
/// only from this long too (a key that starts speaking at once tells nothing about pauses).
const MIN_PAUSE_S: f32 = 0.2;
/// Weight of the latest pause in the running mean (0.5: about the last two pauses).
const LATEST_PAUSE_WEIGHT: f32 = 0.5;

/// The recent pauses between phrases and the hold they call for.
#[derive(Debug, Clone)]
pub struct ConversationHold {
    tick_s: f32,
    /// Whether the key was speech last tick.
    speaking: bool,
    /// Length of the pause in progress (or the last one), s.
    pause_s: f32,
    /// Running mean of the recent pauses, s (`None` before the first phrase).
    mean_pause_s: Option<f32>,
}

impl ConversationHold {
    /// Updated every `tick_ms`.
    pub fn new(tick_ms: f32) -> Self {
        Self {
            tick_s: tick_ms * 0.001,
            speaking: false,
            pause_s: 0.0,
            mean_pause_s: None,
        }
    }

    /// One tick with the key `speech` or not; returns the hold to add, ms.
    pub fn process_tick(&mut self, speech: bool) -> f32 {
        if speech && !self.speaking && self.pause_s >= MIN_PAUSE_S {
            // A pause ended: fold it into the mean. (Shorter breaks are gaps between words,
            // or the decision flickering, not pauses between phrases: they do not count.)
            let latest = self.pause_s;
            self.mean_pause_s = Some(match self.mean_pause_s {
                Some(mean) => mean + LATEST_PAUSE_WEIGHT * (latest - mean),
                None => latest,
            });
        }
        if speech {
            self.pause_s = 0.0;
        } else {
            self.pause_s += self.tick_s;
        }
        self.speaking = speech;
        self.extra_hold_ms()
    }

    /// The hold to add now, ms.
    pub fn extra_hold_ms(&self) -> f32 {
        let Some(mean) = self.mean_pause_s else {
            return 0.0;
        };
        let share = ((NONE_ABOVE_S - mean) / (NONE_ABOVE_S - FULL_BELOW_S)).clamp(0.0, 1.0);
        CONVERSATION_HOLD_MS * share
    }

    /// Back to silence.
    pub fn reset(&mut self) {
        self.speaking = false;
        self.pause_s = 0.0;
        self.mean_pause_s = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(c: &mut ConversationHold, ms: usize, speech: bool) -> f32 {
        let mut extra = 0.0;
        for _ in 0..ms {
            extra = c.process_tick(speech);
        }
        extra
    }

    #[test]
    fn turns_extend_hold_and_lines_that_stand_apart_do_not() {
        // Lines 2 s apart, after 2.5 s of silence, with 80 ms gaps between words: no
        // extension at any line's end.
        let mut c = ConversationHold::new(1.0);
        run(&mut c, 2_500, false);
        for _ in 0..5 {
            run(&mut c, 1_000, true);
            run(&mut c, 80, false);
            assert_eq!(run(&mut c, 1_000, true), 0.0);
            run(&mut c, 2_000, false);
        }
        // A conversation after 1 s of silence: most of the extension at the first line's end
        // already, all of it once the 300 ms turns have been heard.
        let mut c = ConversationHold::new(1.0);
        run(&mut c, 1_000, false);
        let first = run(&mut c, 2_300, true);
        assert!(first >= 0.7 * CONVERSATION_HOLD_MS, "{first}");
        let mut extra = 0.0;
        for _ in 0..3 {
            run(&mut c, 300, false);
            extra = run(&mut c, 3_000, true);
        }
        assert!(extra > 0.99 * CONVERSATION_HOLD_MS, "{extra}");
        // Before any phrase: none.
        assert_eq!(ConversationHold::new(1.0).extra_hold_ms(), 0.0);
    }
}
