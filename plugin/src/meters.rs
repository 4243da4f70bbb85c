//! Level meters handed from the audio thread to the editor, lock-free.
//!
//! The audio thread publishes once per `process()` block with plain atomic stores and
//! compare-and-swap min/max updates: it never waits and never allocates. Besides the latest
//! values, the "since the last read" extremes (deepest duck, loudest key, highest peaks, any
//! speech) are held until the editor takes them, so a duck shorter than one GUI frame still
//! shows. The editor keeps its own history; nothing here grows.
//!
//! Besides the levels, the facts the editor's sidechain check needs (the key's raw peak, how
//! long the bed has played over a silent key, how many key channels the host gave) and the
//! engine's set-up (bed channels, sample rate, the latency reported to the host) pass here.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use nice_plug::prelude::AtomicF32;
use underscore_dsp::units::FLOOR_DB;

/// A key whose sample peak stays under this carries no signal, dBFS: nothing routed, or
/// digital silence. -90 dBFS is under the dither of a 16-bit source (about -96 dBFS RMS,
/// peaks near -90) and far under any recorded room tone (-70 dBFS and up), so a pause between
/// lines never reads as "no dialogue".
pub const KEY_SIGNAL_DB: f32 = -90.0;
/// The bed "plays" when its sample peak reaches this, dBFS: under it a duck would be inaudible,
/// so a missing key does not matter yet (and a stopped transport, feeding zeros, never counts).
pub const BED_PLAYING_DB: f32 = -70.0;

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
    /// Sample peak of the key (every channel, unfiltered), dBFS; [`FLOOR_DB`] without a key.
    pub key_peak_db: f32,
    /// Seconds of bed playing ([`BED_PLAYING_DB`]) over a silent key ([`KEY_SIGNAL_DB`]) since
    /// the key last carried signal, at the end of the block.
    pub key_silent_s: f32,
    /// Key channels the host gave this block (0: no sidechain buffer).
    pub key_channels: u32,
}

/// The engine's set-up as the host negotiated it (written on activation and every block).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Setup {
    /// Bed channels (1 mono, 2 stereo, 6 for 5.1); 0 before the plugin first activates.
    pub bed_channels: u32,
    /// Sample rate, Hz (0 before activation).
    pub sample_rate_hz: f32,
    /// The latency reported to the host, samples.
    pub latency_samples: u32,
}

impl Setup {
    /// Whether the plugin has activated (the values are known).
    pub fn known(&self) -> bool {
        self.bed_channels > 0 && self.sample_rate_hz > 0.0
    }

    /// The reported latency in milliseconds (0 before activation).
    pub fn latency_ms(&self) -> f32 {
        if self.sample_rate_hz > 0.0 {
            self.latency_samples as f32 * 1000.0 / self.sample_rate_hz
        } else {
            0.0
        }
    }
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
    /// Highest key sample peak since the previous read, dBFS.
    pub key_peak_db: f32,
    /// Latest [`BlockMeter::key_silent_s`] (kept while no blocks arrive).
    pub key_silent_s: f32,
    /// Latest key channel count.
    pub key_channels: u32,
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
    key_peak_db: AtomicF32,
    key_silent_s: AtomicF32,
    key_channels: AtomicU32,
    blocks: AtomicU32,
    bed_channels: AtomicU32,
    sample_rate_hz: AtomicF32,
    latency_samples: AtomicU32,
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
            key_peak_db: AtomicF32::new(FLOOR_DB),
            key_silent_s: AtomicF32::new(0.0),
            key_channels: AtomicU32::new(0),
            blocks: AtomicU32::new(0),
            bed_channels: AtomicU32::new(0),
            sample_rate_hz: AtomicF32::new(0.0),
            latency_samples: AtomicU32::new(0),
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
        self.key_peak_db.fetch_max(m.key_peak_db, Ordering::Relaxed);
        self.key_silent_s.store(m.key_silent_s, Ordering::Relaxed);
        self.key_channels.store(m.key_channels, Ordering::Relaxed);
        self.blocks.fetch_add(1, Ordering::Release);
    }

    /// Audio or main thread: the engine's set-up (plain stores, no allocation).
    pub fn publish_setup(&self, s: &Setup) {
        self.bed_channels.store(s.bed_channels, Ordering::Relaxed);
        self.sample_rate_hz
            .store(s.sample_rate_hz, Ordering::Relaxed);
        self.latency_samples
            .store(s.latency_samples, Ordering::Relaxed);
    }

    /// Editor: the engine's set-up as last published.
    pub fn setup(&self) -> Setup {
        Setup {
            bed_channels: self.bed_channels.load(Ordering::Relaxed),
            sample_rate_hz: self.sample_rate_hz.load(Ordering::Relaxed),
            latency_samples: self.latency_samples.load(Ordering::Relaxed),
        }
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
            key_peak_db: self.key_peak_db.swap(FLOOR_DB, Ordering::Relaxed),
            key_silent_s: self.key_silent_s.load(Ordering::Relaxed),
            key_channels: self.key_channels.load(Ordering::Relaxed),
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
            key_peak_db: if speech { -10.0 } else { -100.0 },
            key_silent_s: if speech { 0.0 } else { 0.5 },
            key_channels: 2,
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
        // The key's loudest peak is held; the silence count and channels are the latest.
        assert_eq!(r.key_peak_db, -10.0);
        assert_eq!(r.key_silent_s, 0.5);
        assert_eq!(r.key_channels, 2);
        let r = m.take();
        assert_eq!(r.key_peak_db, FLOOR_DB);
        assert_eq!(r.key_silent_s, 0.5, "kept while no blocks arrive");
        assert_eq!(r.duck_min_db, -1.0);
        assert!(!r.speech);
        assert_eq!(r.speech_probability, 0.0);
        assert_eq!(r.blocks, 0);
        assert_eq!(r.input_peak_db, FLOOR_DB);
    }

    #[test]
    fn setup_round_trip_and_latency_in_ms() {
        let m = SharedMeters::default();
        assert!(!m.setup().known());
        assert_eq!(m.setup().latency_ms(), 0.0);
        let s = Setup {
            bed_channels: 6,
            sample_rate_hz: 48_000.0,
            latency_samples: 4_800,
        };
        m.publish_setup(&s);
        assert_eq!(m.setup(), s);
        assert!(m.setup().known());
        assert!((m.setup().latency_ms() - 100.0).abs() < 1e-4);
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
