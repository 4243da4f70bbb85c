//! Per-band analysis handed from the audio thread to the editor, lock-free.
//!
//! A sequence lock over atomics (`underscore_dsp::seqlock`): the audio thread never waits; the
//! editor retries a read that overlapped a write. Nothing here allocates after construction.
//! The audio thread computes and publishes only while `editor_open` is set.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

use underscore_dsp::bands::MAX_BANDS;
use underscore_dsp::link::{NAME_WORDS, encode_name};
use underscore_dsp::seqlock::Seq;
use underscore_dsp::spectral::BandAnalysis;

/// Words of a snapshot: band count, speech flag, then seven values per band.
const WORDS: usize = 2 + 7 * MAX_BANDS;

/// The shared snapshot.
pub struct SharedAnalysis {
    /// Set by the editor while it is open: the audio thread computes the analysis only then.
    pub editor_open: AtomicBool,
    snapshot: Seq<WORDS>,
    /// Linked buses, written by the audio thread: this instance's slot in its link group
    /// ([`NO_SLOT`]: not a member) and what its last frame found.
    pub link_slot: AtomicUsize,
    /// Members of the group at another sample rate (not linked: the editor says why).
    pub link_other_rate: AtomicUsize,
    /// Whether the last frame was decided with other members.
    pub link_linked: AtomicBool,
    /// Linked without a key of its own: the slot of the member whose dialogue this instance
    /// follows ([`NO_SLOT`]: it decides on its own key, or is not linked).
    pub link_followed: AtomicUsize,
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
            snapshot: Seq::new(),
            link_slot: AtomicUsize::new(NO_SLOT),
            link_other_rate: AtomicUsize::new(0),
            link_linked: AtomicBool::new(false),
            link_followed: AtomicUsize::new(NO_SLOT),
            track_name: std::array::from_fn(|_| AtomicU32::new(0)),
            track_name_len: AtomicUsize::new(0),
            track_name_version: AtomicU32::new(0),
        }
    }
}

/// The per-band rows of a snapshot, in word order.
fn rows(a: &BandAnalysis) -> [&[f32; MAX_BANDS]; 7] {
    [
        &a.centre_hz,
        &a.dialogue_db,
        &a.bed_db,
        &a.overlap_db,
        &a.reduction_db,
        &a.dialogue_frame_db,
        &a.bed_frame_db,
    ]
}

impl SharedAnalysis {
    /// Audio thread: stores a snapshot. Wait-free.
    pub fn publish(&self, a: &BandAnalysis) {
        let mut w = [0u32; WORDS];
        w[0] = a.bands.min(MAX_BANDS) as u32;
        w[1] = a.speech as u32;
        for (r, row) in rows(a).into_iter().enumerate() {
            for (d, v) in w[2 + r * MAX_BANDS..2 + (r + 1) * MAX_BANDS]
                .iter_mut()
                .zip(row)
            {
                *d = v.to_bits();
            }
        }
        self.snapshot.write(0, &w);
    }

    /// Editor: copies the latest consistent snapshot into `out`; `false` if every try overlapped
    /// a write (the caller keeps its previous picture and tries again next frame).
    pub fn read(&self, out: &mut BandAnalysis) -> bool {
        let mut w = [0u32; WORDS];
        if self.snapshot.read(None, &mut w).is_none() {
            return false;
        }
        let bands = (w[0] as usize).min(MAX_BANDS);
        out.bands = bands;
        out.speech = w[1] == 1;
        let rows_out: [&mut [f32; MAX_BANDS]; 7] = [
            &mut out.centre_hz,
            &mut out.dialogue_db,
            &mut out.bed_db,
            &mut out.overlap_db,
            &mut out.reduction_db,
            &mut out.dialogue_frame_db,
            &mut out.bed_frame_db,
        ];
        for (r, row) in rows_out.into_iter().enumerate() {
            let src = &w[2 + r * MAX_BANDS..2 + (r + 1) * MAX_BANDS];
            for (v, &bits) in row[..bands].iter_mut().zip(&src[..bands]) {
                *v = f32::from_bits(bits);
            }
        }
        true
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
        self.snapshot.writes()
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
