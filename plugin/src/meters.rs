//! Level meters handed from the audio thread to the editor, lock-free.
//!
//! The audio thread publishes once per `process()` block with plain atomic stores and
//! compare-and-swap min/max updates: it never waits and never allocates. Besides the latest
//! values, the "since the last read" extremes (deepest duck, loudest key, highest peaks, any
//! speech) are held until the editor takes them, so a duck shorter than one GUI frame still
//! shows. The editor keeps its own history; nothing here grows.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use nice_plug::prelude::AtomicF32;
use underscore_dsp::units::FLOOR_DB;

/// What the audio thread saw in one block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockMeter {
    /// Duck gain on the centre of the field at the end of the block, dB (<= 0).
    pub duck_db: f32,
    /// Speech-band key level, dBFS.
    pub key_db: f32,
    /// Whether the key counted as speech.
    pub speech: bool,
    /// The voice detector's latest speech probability, 0..=1.
    pub speech_probability: f32,
    /// Sample peak of the bed before processing, dBFS.
    pub input_peak_db: f32,
    /// Sample peak of the bed after processing, dBFS.
    pub output_peak_db: f32,
}

/// What the editor reads each frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeterReading {
    /// Latest duck gain, dB (<= 0).
    pub duck_db: f32,
    /// Deepest duck since the previous read, dB (<= 0).
    pub duck_min_db: f32,
    /// Loudest key level since the previous read, dBFS.
    pub key_max_db: f32,
    /// Whether speech was detected at any time since the previous read.
    pub speech: bool,
    /// Highest speech probability since the previous read, 0..=1.
    pub speech_probability: f32,
    /// Highest input peak since the previous read, dBFS.
    pub input_peak_db: f32,
    /// Highest output peak since the previous read, dBFS.
    pub output_peak_db: f32,
    /// Audio blocks published since the previous read (0: transport stopped or not processing).
    pub blocks: u32,
}

/// The shared meters.
pub struct SharedMeters {
    duck_db: AtomicF32,
    duck_min_db: AtomicF32,
    key_max_db: AtomicF32,
    speech: AtomicBool,
    speech_probability: AtomicF32,
    input_peak_db: AtomicF32,
    output_peak_db: AtomicF32,
    blocks: AtomicU32,
}

impl Default for SharedMeters {
    fn default() -> Self {
        Self {
            duck_db: AtomicF32::new(0.0),
            duck_min_db: AtomicF32::new(0.0),
            key_max_db: AtomicF32::new(FLOOR_DB),
            speech: AtomicBool::new(false),
            speech_probability: AtomicF32::new(0.0),
            input_peak_db: AtomicF32::new(FLOOR_DB),
            output_peak_db: AtomicF32::new(FLOOR_DB),
            blocks: AtomicU32::new(0),
        }
    }
}

/// Sample peak over all channels, dBFS. Cheap enough for the audio thread; no allocation.
pub fn peak_db<S: AsRef<[f32]>>(channels: &[S]) -> f32 {
    let peak = channels
        .iter()
        .flat_map(|c| c.as_ref().iter())
        .fold(0.0f32, |m, &x| m.max(x.abs()));
    underscore_dsp::units::gain_to_db(peak)
}

impl SharedMeters {
    /// Audio thread: records one block. Wait-free apart from the uncontended min/max CAS loops.
    pub fn publish(&self, m: &BlockMeter) {
        self.duck_db.store(m.duck_db, Ordering::Relaxed);
        self.duck_min_db.fetch_min(m.duck_db, Ordering::Relaxed);
        self.key_max_db.fetch_max(m.key_db, Ordering::Relaxed);
        if m.speech {
            self.speech.store(true, Ordering::Relaxed);
        }
        self.speech_probability
            .fetch_max(m.speech_probability, Ordering::Relaxed);
        self.input_peak_db
            .fetch_max(m.input_peak_db, Ordering::Relaxed);
        self.output_peak_db
            .fetch_max(m.output_peak_db, Ordering::Relaxed);
        self.blocks.fetch_add(1, Ordering::Release);
    }

    /// Editor: takes the values held since the previous call and restarts the holds.
    pub fn take(&self) -> MeterReading {
        let blocks = self.blocks.swap(0, Ordering::Acquire);
        let duck_db = self.duck_db.load(Ordering::Relaxed);
        MeterReading {
            duck_db,
            duck_min_db: self.duck_min_db.swap(0.0, Ordering::Relaxed).min(duck_db),
            key_max_db: self.key_max_db.swap(FLOOR_DB, Ordering::Relaxed),
            speech: self.speech.swap(false, Ordering::Relaxed),
            speech_probability: self.speech_probability.swap(0.0, Ordering::Relaxed),
            input_peak_db: self.input_peak_db.swap(FLOOR_DB, Ordering::Relaxed),
            output_peak_db: self.output_peak_db.swap(FLOOR_DB, Ordering::Relaxed),
            blocks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(duck_db: f32, speech: bool) -> BlockMeter {
        BlockMeter {
            duck_db,
            key_db: -30.0,
            speech,
            speech_probability: if speech { 0.9 } else { 0.1 },
            input_peak_db: -6.0,
            output_peak_db: -12.0,
        }
    }

    #[test]
    fn holds_the_deepest_duck_until_read() {
        let m = SharedMeters::default();
        m.publish(&block(-3.0, false));
        m.publish(&block(-12.0, true));
        m.publish(&block(-1.0, false));
        let r = m.take();
        assert_eq!(r.duck_db, -1.0);
        assert_eq!(r.duck_min_db, -12.0);
        assert!(r.speech);
        assert_eq!(r.speech_probability, 0.9);
        assert_eq!(r.key_max_db, -30.0);
        assert_eq!(r.input_peak_db, -6.0);
        assert_eq!(r.output_peak_db, -12.0);
        assert_eq!(r.blocks, 3);
        let r = m.take();
        assert_eq!(r.duck_min_db, -1.0);
        assert!(!r.speech);
        assert_eq!(r.speech_probability, 0.0);
        assert_eq!(r.blocks, 0);
        assert_eq!(r.input_peak_db, FLOOR_DB);
    }

    #[test]
    fn peak_over_channels() {
        let a = [0.1f32, -0.5, 0.2];
        let b = [0.0f32, 0.25, 0.0];
        let p = peak_db(&[&a[..], &b[..]]);
        assert!((p - (-6.0206)).abs() < 0.01, "{p}");
        let silent: [&[f32]; 0] = [];
        assert_eq!(peak_db(&silent), FLOOR_DB);
    }
}
