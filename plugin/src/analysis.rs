//! Per-band analysis handed from the audio thread to the editor, lock-free.
//!
//! A sequence lock over atomics: the audio thread never waits (it bumps a counter, stores the
//! values, bumps it again); the editor retries a read that overlapped a write. Nothing here
//! allocates after construction. The audio thread computes and publishes only while
//! `editor_open` is set.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering, fence};

use nice_plug::prelude::AtomicF32;
use underscore_dsp::bands::MAX_BANDS;
use underscore_dsp::spectral::BandAnalysis;

/// The shared snapshot.
pub struct SharedAnalysis {
    /// Set by the editor while it is open: the audio thread computes the analysis only then.
    pub editor_open: AtomicBool,
    seq: AtomicU32,
    bands: AtomicUsize,
    centre_hz: [AtomicF32; MAX_BANDS],
    dialogue_db: [AtomicF32; MAX_BANDS],
    bed_db: [AtomicF32; MAX_BANDS],
    overlap_db: [AtomicF32; MAX_BANDS],
    reduction_db: [AtomicF32; MAX_BANDS],
    dialogue_frame_db: [AtomicF32; MAX_BANDS],
    bed_frame_db: [AtomicF32; MAX_BANDS],
    speech: AtomicBool,
}

impl Default for SharedAnalysis {
    fn default() -> Self {
        Self {
            editor_open: AtomicBool::new(false),
            seq: AtomicU32::new(0),
            bands: AtomicUsize::new(0),
            centre_hz: std::array::from_fn(|_| AtomicF32::new(0.0)),
            dialogue_db: std::array::from_fn(|_| AtomicF32::new(0.0)),
            bed_db: std::array::from_fn(|_| AtomicF32::new(0.0)),
            overlap_db: std::array::from_fn(|_| AtomicF32::new(0.0)),
            reduction_db: std::array::from_fn(|_| AtomicF32::new(0.0)),
            dialogue_frame_db: std::array::from_fn(|_| AtomicF32::new(0.0)),
            bed_frame_db: std::array::from_fn(|_| AtomicF32::new(0.0)),
            speech: AtomicBool::new(false),
        }
    }
}

impl SharedAnalysis {
    /// Audio thread: stores a snapshot. Wait-free.
    pub fn publish(&self, a: &BandAnalysis) {
        self.seq.fetch_add(1, Ordering::Relaxed); // odd: write in progress
        fence(Ordering::Release);
        self.bands.store(a.bands, Ordering::Relaxed);
        self.speech.store(a.speech, Ordering::Relaxed);
        for b in 0..a.bands.min(MAX_BANDS) {
            self.centre_hz[b].store(a.centre_hz[b], Ordering::Relaxed);
            self.dialogue_db[b].store(a.dialogue_db[b], Ordering::Relaxed);
            self.bed_db[b].store(a.bed_db[b], Ordering::Relaxed);
            self.overlap_db[b].store(a.overlap_db[b], Ordering::Relaxed);
            self.reduction_db[b].store(a.reduction_db[b], Ordering::Relaxed);
            self.dialogue_frame_db[b].store(a.dialogue_frame_db[b], Ordering::Relaxed);
            self.bed_frame_db[b].store(a.bed_frame_db[b], Ordering::Relaxed);
        }
        self.seq.fetch_add(1, Ordering::Release); // even: consistent again
    }

    /// Editor: copies the latest consistent snapshot into `out`; `false` if every try overlapped
    /// a write (the caller keeps its previous picture and tries again next frame).
    pub fn read(&self, out: &mut BandAnalysis) -> bool {
        for _ in 0..4 {
            let before = self.seq.load(Ordering::Acquire);
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let bands = self.bands.load(Ordering::Relaxed).min(MAX_BANDS);
            out.bands = bands;
            out.speech = self.speech.load(Ordering::Relaxed);
            for b in 0..bands {
                out.centre_hz[b] = self.centre_hz[b].load(Ordering::Relaxed);
                out.dialogue_db[b] = self.dialogue_db[b].load(Ordering::Relaxed);
                out.bed_db[b] = self.bed_db[b].load(Ordering::Relaxed);
                out.overlap_db[b] = self.overlap_db[b].load(Ordering::Relaxed);
                out.reduction_db[b] = self.reduction_db[b].load(Ordering::Relaxed);
                out.dialogue_frame_db[b] = self.dialogue_frame_db[b].load(Ordering::Relaxed);
                out.bed_frame_db[b] = self.bed_frame_db[b].load(Ordering::Relaxed);
            }
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == before {
                return true;
            }
        }
        false
    }

    /// Snapshots published so far.
    pub fn version(&self) -> u32 {
        self.seq.load(Ordering::Acquire) / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn snapshot(v: f32) -> BandAnalysis {
        let mut a = BandAnalysis {
            bands: 30,
            ..Default::default()
        };
        for b in 0..30 {
            a.centre_hz[b] = v;
            a.dialogue_db[b] = v;
            a.bed_db[b] = v;
            a.overlap_db[b] = v;
            a.reduction_db[b] = v;
        }
        a
    }

    #[test]
    fn round_trip() {
        let shared = SharedAnalysis::default();
        shared.publish(&snapshot(3.0));
        let mut out = BandAnalysis::default();
        assert!(shared.read(&mut out));
        assert_eq!(out, snapshot(3.0));
        assert_eq!(shared.version(), 1);
    }

    #[test]
    fn reads_are_never_torn_while_the_writer_runs() {
        let shared = Arc::new(SharedAnalysis::default());
        let writer = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                for i in 0..200_000 {
                    shared.publish(&snapshot(i as f32));
                }
            })
        };
        let mut out = BandAnalysis::default();
        let mut consistent = 0;
        while !writer.is_finished() {
            if shared.read(&mut out) {
                let v = out.centre_hz[0];
                assert!(out.reduction_db[..30].iter().all(|&x| x == v), "torn read");
                consistent += 1;
            }
        }
        writer.join().unwrap();
        assert!(consistent > 0);
    }
}
