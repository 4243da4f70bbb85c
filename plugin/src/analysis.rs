//! Per-band analysis handed from the audio thread to the editor, lock-free.
//!
//! A sequence lock over atomics: the audio thread never waits (it bumps a counter, stores the
//! values, bumps it again); the editor retries a read that overlapped a write. Nothing here
//! allocates after construction. The audio thread computes and publishes only while
//! `editor_open` is set.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering, fence};

use nice_plug::prelude::AtomicF32;
use underscore_dsp::bands::MAX_BANDS;
use underscore_dsp::link::{NAME_WORDS, encode_name};
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
    /// Linked buses, written by the audio thread: this instance's slot in its link group
    /// ([`NO_SLOT`]: not a member) and what its last frame found.
    pub link_slot: AtomicUsize,
    /// Members of the group at another sample rate (not linked: the editor says why).
    pub link_other_rate: AtomicUsize,
    /// Whether the last frame was decided with other members.
    pub link_linked: AtomicBool,
    /// The host's track name (from the editor's track-info callback, main thread), as
    /// `link::encode_name` words, so the audio thread can hand it to the link group without
    /// allocating; the version counts changes.
    track_name: [AtomicU32; NAME_WORDS],
    track_name_len: AtomicUsize,
    pub track_name_version: AtomicU32,
}

/// [`SharedAnalysis::link_slot`] of an instance in no link group.
pub const NO_SLOT: usize = usize::MAX;

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
            link_slot: AtomicUsize::new(NO_SLOT),
            link_other_rate: AtomicUsize::new(0),
            link_linked: AtomicBool::new(false),
            track_name: std::array::from_fn(|_| AtomicU32::new(0)),
            track_name_len: AtomicUsize::new(0),
            track_name_version: AtomicU32::new(0),
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

    /// Main thread: the host's name for the instance's track.
    pub fn set_track_name(&self, name: &str) {
        let (len, words) = encode_name(name);
        for (a, w) in self.track_name.iter().zip(words) {
            a.store(w, Ordering::Relaxed);
        }
        self.track_name_len.store(len, Ordering::Relaxed);
        self.track_name_version.fetch_add(1, Ordering::Release);
    }

    /// The track name as `link::encode_name` words (a write racing this read is repaired by
    /// the next version).
    pub fn track_name(&self) -> (usize, [u32; NAME_WORDS]) {
        let len = self.track_name_len.load(Ordering::Acquire);
        (
            len,
            std::array::from_fn(|i| self.track_name[i].load(Ordering::Relaxed)),
        )
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
