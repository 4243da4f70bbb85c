//! A sequence lock over atomics: one writer hands fixed-size records to any number of readers
//! with no lock and no allocation. The writer never waits (it makes the sequence odd, stores
//! the words, makes it even again); a reader retries a read that overlapped a write a few
//! times, then gives up (never waits on the writer). Every word is an atomic, so a torn read is
//! detected, never undefined behaviour. Used for the link groups' frames (`link`) and the
//! plugin's analysis snapshot for the editor.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};

/// A seqlock over an index and `N` words (odd sequence while being written), all atomics, so
/// a reader never sees a torn record and nothing is undefined behaviour. One writer.
pub struct Seq<const N: usize> {
    seq: AtomicU32,
    index: AtomicU64,
    words: [AtomicU32; N],
}

impl<const N: usize> Seq<N> {
    /// An empty record (index `u64::MAX`, words zero).
    pub fn new() -> Self {
        Self {
            seq: AtomicU32::new(0),
            index: AtomicU64::new(u64::MAX),
            words: std::array::from_fn(|_| AtomicU32::new(0)),
        }
    }

    /// Records written so far.
    pub fn writes(&self) -> u32 {
        self.seq.load(Ordering::Acquire) / 2
    }

    /// Stores a record. Single writer (an audio thread); wait-free.
    pub fn write(&self, index: u64, words: &[u32; N]) {
        let s = self.seq.load(Ordering::Relaxed);
        self.seq.store(s.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        self.index.store(index, Ordering::Relaxed);
        for (a, &w) in self.words.iter().zip(words) {
            a.store(w, Ordering::Relaxed);
        }
        self.seq.store(s.wrapping_add(2), Ordering::Release);
    }

    /// The record if it holds `index` (any index with `None`) and was not being rewritten
    /// while read (bounded: a few retries, then `None`, never a wait on the writer).
    pub fn read(&self, index: Option<u64>, out: &mut [u32; N]) -> Option<u64> {
        for _ in 0..4 {
            let s1 = self.seq.load(Ordering::Acquire);
            if s1 & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let at = self.index.load(Ordering::Relaxed);
            if index.is_some_and(|i| i != at) {
                return None;
            }
            for (o, a) in out.iter_mut().zip(&self.words) {
                *o = a.load(Ordering::Relaxed);
            }
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == s1 {
                return Some(at);
            }
        }
        None
    }
}

impl<const N: usize> Default for Seq<N> {
    fn default() -> Self {
        Self::new()
    }
}
