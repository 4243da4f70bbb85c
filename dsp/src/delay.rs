//! Lookahead delay for the bed: the key is analysed now, the bed is heard `delay` samples later,
//! so the duck is already in place when the first syllable arrives. The host compensates this
//! delay because the plugin reports it as latency.
//!
//! When the delay changes (Lookahead moved), the read position does not jump: the old and the
//! new tap are crossfaded over [`DELAY_FADE_MS`], which avoids a click.

use crate::units::{ms_to_samples, sanitize};

/// Crossfade length when the delay time changes, in ms.
pub const DELAY_FADE_MS: f32 = 10.0;
/// Largest bed sample magnitude stored (+120 dBFS): beyond that a stream is corrupt, and the
/// clamp keeps all later arithmetic finite. NaN and Inf become silence.
const BED_LIMIT: f32 = 1e6;

/// Multichannel ring-buffer delay with click-free delay changes.
#[derive(Debug, Clone)]
pub struct LookaheadDelay {
    buffers: Vec<Vec<f32>>,
    mask: usize,
    write_pos: usize,
    delay_samples: usize,
    old_delay_samples: usize,
    fade_left_samples: usize,
    fade_samples: usize,
}

impl LookaheadDelay {
    /// Allocates room for `channels` channels and up to `max_delay_samples` of delay.
    pub fn new(channels: usize, max_delay_samples: usize, sample_rate_hz: f32) -> Self {
        let size = (max_delay_samples + 1).next_power_of_two();
        Self {
            buffers: vec![vec![0.0; size]; channels],
            mask: size - 1,
            write_pos: 0,
            delay_samples: 0,
            old_delay_samples: 0,
            fade_left_samples: 0,
            fade_samples: ms_to_samples(DELAY_FADE_MS, sample_rate_hz).max(1),
        }
    }

    /// Largest delay this instance can hold, in samples.
    pub fn max_delay_samples(&self) -> usize {
        self.mask
    }

    /// Current delay (the latency it adds), in samples.
    pub fn delay_samples(&self) -> usize {
        self.delay_samples
    }

    /// Changes the delay, crossfading from the old tap. `immediate` skips the fade (used before
    /// any audio has run, where there is nothing to click).
    pub fn set_delay(&mut self, delay_samples: usize, immediate: bool) {
        let delay_samples = delay_samples.min(self.mask);
        if delay_samples == self.delay_samples {
            return;
        }
        if immediate {
            self.fade_left_samples = 0;
        } else {
            // If a fade is still running, start the new one from the tap being faded to.
            self.old_delay_samples = self.delay_samples;
            self.fade_left_samples = self.fade_samples;
        }
        self.delay_samples = delay_samples;
    }

    /// Replaces `channels[ch][start..start+len]` by the delayed signal. Channels beyond the
    /// allocated count are left alone. Works on whole runs (copies in and out of the ring, split
    /// only where the ring wraps), not sample by sample.
    pub fn process(&mut self, channels: &mut [&mut [f32]], start: usize, len: usize) {
        let mut done = 0;
        // The ring holds max delay + 1 samples of headroom beyond the delay: process in runs no
        // longer than what stays unread, so writing a run never overwrites what it must read.
        let run_max = (self.mask + 1 - self.delay_samples.max(self.old_delay_samples)).max(1);
        while done < len {
            let n = (len - done).min(run_max);
            self.process_run(channels, start + done, n);
            done += n;
        }
    }

    fn process_run(&mut self, channels: &mut [&mut [f32]], start: usize, len: usize) {
        let mask = self.mask;
        let size = mask + 1;
        let w = self.write_pos;
        let fading = self.fade_left_samples > 0;
        let inv = 1.0 / self.fade_samples as f32;
        for (buf, ch) in self.buffers.iter_mut().zip(channels.iter_mut()) {
            let io = &mut ch[start..start + len];
            // Write the run into the ring (two pieces where it wraps), cleaning bad samples.
            let first = len.min(size - w);
            for (dst, &x) in buf[w..w + first].iter_mut().zip(&io[..first]) {
                *dst = sanitize(x, BED_LIMIT);
            }
            for (dst, &x) in buf[..len - first].iter_mut().zip(&io[first..]) {
                *dst = sanitize(x, BED_LIMIT);
            }
            // Read the delayed run back.
            let r = w.wrapping_sub(self.delay_samples) & mask;
            copy_from_ring(buf, r, io);
            if fading {
                // Crossfade from the old tap: out = new + t (old - new), t from 1 down to 0.
                let r_old = w.wrapping_sub(self.old_delay_samples) & mask;
                let mut left = self.fade_left_samples;
                for (k, y) in io.iter_mut().enumerate() {
                    let old = buf[(r_old + k) & mask];
                    let t = left as f32 * inv;
                    *y += t * (old - *y);
                    left = left.saturating_sub(1);
                }
            }
        }
        self.write_pos = (w + len) & mask;
        self.fade_left_samples = self.fade_left_samples.saturating_sub(len);
    }

    /// Copies into `out` the last `out.len()` samples that left the delay on channel `ch` (the
    /// delayed signal up to now), oldest first; zeros where the ring holds nothing that old.
    pub fn delayed_history(&self, ch: usize, out: &mut [f32]) {
        let Some(buf) = self.buffers.get(ch) else {
            out.fill(0.0);
            return;
        };
        let size = self.mask + 1;
        let available = size.saturating_sub(self.delay_samples + 1);
        let (zeros, kept) = out.split_at_mut(out.len().saturating_sub(available));
        zeros.fill(0.0);
        let end = self.write_pos.wrapping_sub(self.delay_samples) & self.mask;
        let start = end.wrapping_sub(kept.len()) & self.mask;
        copy_from_ring(buf, start, kept);
    }

    /// Silences the delay memory.
    pub fn reset(&mut self) {
        for buf in &mut self.buffers {
            buf.fill(0.0);
        }
        self.fade_left_samples = 0;
    }
}

/// Copies `out.len()` samples from the ring `buf` starting at `pos`, wrapping at its end.
fn copy_from_ring(buf: &[f32], pos: usize, out: &mut [f32]) {
    let first = out.len().min(buf.len() - pos);
    out[..first].copy_from_slice(&buf[pos..pos + first]);
    let rest = out.len() - first;
    out[first..].copy_from_slice(&buf[..rest]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impulse_is_delayed_exactly() {
        for d in [0usize, 1, 7, 480, 4_800] {
            let mut delay = LookaheadDelay::new(2, 9_600, 48_000.0);
            delay.set_delay(d, true);
            let mut l = vec![0.0; 10_000];
            let mut r = vec![0.0; 10_000];
            l[3] = 1.0;
            r[3] = -0.5;
            // Odd chunking: the delay must not depend on block boundaries.
            let mut start = 0;
            for len in [1usize, 100, 2_999, 6_900] {
                delay.process(&mut [&mut l, &mut r], start, len);
                start += len;
            }
            assert_eq!(l.iter().position(|&x| x == 1.0), Some(3 + d));
            assert_eq!(r.iter().position(|&x| x == -0.5), Some(3 + d));
        }
    }

    #[test]
    fn delay_change_crossfades_without_jump() {
        let sr = 48_000.0;
        let mut delay = LookaheadDelay::new(1, 4_800, sr);
        delay.set_delay(100, true);
        let n = 20_000;
        let mut sig: Vec<f32> = (0..n)
            .map(|i| (2.0 * std::f32::consts::PI * 100.0 * i as f32 / sr).sin())
            .collect();
        delay.process(&mut [&mut sig], 0, 10_000);
        delay.set_delay(1_000, false);
        delay.process(&mut [&mut sig], 10_000, 10_000);
        // A 100 Hz sine moves at most 0.0131 per sample; the crossfade must stay near that.
        let max_step = sig[200..]
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0, f32::max);
        assert!(max_step < 0.02, "{max_step}");
        assert_eq!(delay.delay_samples(), 1_000);
    }

    #[test]
    fn non_finite_input_becomes_silence() {
        let mut delay = LookaheadDelay::new(1, 16, 48_000.0);
        delay.set_delay(2, true);
        let mut sig = vec![f32::NAN, f32::INFINITY, 1e30, 0.5, 0.0, 0.0];
        delay.process(&mut [&mut sig], 0, 6);
        assert_eq!(&sig[2..], &[0.0, 0.0, 1e6, 0.5]);
    }
}
