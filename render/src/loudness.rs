//! Loudness after ITU-R BS.1770-4: K-weighting, 400 ms gating blocks with 75 % overlap, the
//! absolute (-70 LKFS) and relative (-10 LU) gates, and a *speech-gated* variant that keeps
//! only the blocks in which the dialogue was detected as speech (the renderer's "dialogue to
//! bed" figures compare the two stems over the same, spoken, blocks).
//!
//! Memory is bounded: the energy of every gating block above the absolute gate is kept (4 bytes
//! per 100 ms, up to [`EXACT_BLOCKS`], about 3.6 hours: 512 kB), so the relative gate is applied
//! to each block as BS.1770-4 says. Longer signals fall back to a 0.01 LU histogram (a block
//! up to 0.01 LU under the relative gate may then count). Checked against the `ebur128` crate
//! in `tests/loudness_reference.rs`.

/// BS.1770 channel weight for an L R C LFE Ls Rs layout (LFE excluded, surrounds +1.5 dB).
pub fn channel_weights(channels: usize) -> Vec<f64> {
    match channels {
        6 => vec![1.0, 1.0, 1.0, 0.0, 1.41, 1.41],
        n => vec![1.0; n],
    }
}

/// Normalised biquad coefficients (`a0` = 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BiquadCoeffs {
    pub b0: f64,
    pub b1: f64,
    pub b2: f64,
    pub a1: f64,
    pub a2: f64,
}

/// The two K-weighting stages for `sample_rate_hz`: the high-frequency shelf (head effects)
/// and the RLB high-pass, designed from the analogue prototypes behind the spec's 48 kHz
/// coefficients, so any sample rate gets the same curve.
pub fn k_weighting(sample_rate_hz: f64) -> [BiquadCoeffs; 2] {
    // Stage 1: high shelf, +4 dB above ~1.7 kHz.
    let f0 = 1_681.974_450_955_533;
    let gain_db = 3.999_843_853_973_347;
    let q = 0.707_175_236_955_419_6;
    let k = (std::f64::consts::PI * f0 / sample_rate_hz).tan();
    let vh = 10f64.powf(gain_db / 20.0);
    let vb = vh.powf(0.499_666_774_154_541_6);
    let a0 = 1.0 + k / q + k * k;
    let shelf = BiquadCoeffs {
        b0: (vh + vb * k / q + k * k) / a0,
        b1: 2.0 * (k * k - vh) / a0,
        b2: (vh - vb * k / q + k * k) / a0,
        a1: 2.0 * (k * k - 1.0) / a0,
        a2: (1.0 - k / q + k * k) / a0,
    };
    // Stage 2: RLB high-pass at ~38 Hz (the spec gives b = 1, -2, 1 unnormalised).
    let f0 = 38.135_470_876_024_44;
    let q = 0.500_327_037_323_877_3;
    let k = (std::f64::consts::PI * f0 / sample_rate_hz).tan();
    let a0 = 1.0 + k / q + k * k;
    let highpass = BiquadCoeffs {
        b0: 1.0,
        b1: -2.0,
        b2: 1.0,
        a1: 2.0 * (k * k - 1.0) / a0,
        a2: (1.0 - k / q + k * k) / a0,
    };
    [shelf, highpass]
}

/// Both K-weighting stages for one channel (transposed direct form II, f64 state).
#[derive(Debug, Clone)]
struct KFilter {
    c: [BiquadCoeffs; 2],
    s: [[f64; 2]; 2],
}

impl KFilter {
    #[inline]
    fn process(&mut self, x: f64) -> f64 {
        let mut y = x;
        for (c, s) in self.c.iter().zip(self.s.iter_mut()) {
            let out = c.b0 * y + s[0];
            s[0] = c.b1 * y - c.a1 * out + s[1];
            s[1] = c.b2 * y - c.a2 * out;
            y = out;
        }
        y
    }
}

/// Lowest block loudness kept (the absolute gate), LKFS.
pub const ABSOLUTE_GATE_LKFS: f64 = -70.0;
/// Relative gate below the absolutely gated loudness, LU.
pub const RELATIVE_GATE_LU: f64 = 10.0;
/// Histogram resolution, LU.
const BIN_LU: f64 = 0.01;
/// Histogram top, LKFS (louder blocks go into the top bin, with their true energy).
const TOP_LKFS: f64 = 10.0;
/// Gating blocks whose energies are kept for the exact relative gate (3.6 hours of 100 ms
/// steps); past that, [`LoudnessMeter::integrated_lkfs`] gates per histogram bin.
pub const EXACT_BLOCKS: usize = 1 << 17;
/// Share of a block that must be speech for it to count as a speech block.
pub const SPEECH_BLOCK_SHARE: f64 = 0.5;

/// Block energy (weighted mean square) to loudness, LKFS.
pub fn energy_to_lkfs(energy: f64) -> f64 {
    if energy > 0.0 {
        -0.691 + 10.0 * energy.log10()
    } else {
        f64::NEG_INFINITY
    }
}

/// One 100 ms sub-block, completed: its weighted mean square and speech share.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SubBlock {
    pub energy: f64,
    pub speech_share: f64,
}

/// A streaming BS.1770-4 meter for one signal (any number of channels).
pub struct LoudnessMeter {
    filters: Vec<KFilter>,
    weights: Vec<f64>,
    sub_frames: usize,
    /// Per-channel sums of squares of the sub-block in progress.
    acc: Vec<f64>,
    acc_frames: usize,
    acc_speech: usize,
    /// The last four sub-blocks (a gating block), oldest first.
    recent: [SubBlock; 4],
    recent_len: usize,
    /// Histogram of block loudness above the absolute gate: count and energy sum per bin.
    counts: Vec<u64>,
    energies: Vec<f64>,
    /// Energy of every block above the absolute gate while there are at most
    /// [`EXACT_BLOCKS`]; `None` once there were more.
    exact_blocks: Option<Vec<f32>>,
    /// Speech blocks above the absolute gate: energy sum and count.
    speech_energy: f64,
    speech_blocks: u64,
    /// Sub-blocks completed since the caller last took them.
    completed: Vec<SubBlock>,
    /// Weighted sum of squares of every K-weighted frame so far, and the frame count (the
    /// ungated figure).
    total_energy_sum: f64,
    total_frames: u64,
}

impl LoudnessMeter {
    /// A meter for `channels` channels (weights per [`channel_weights`]) at `sample_rate_hz`.
    pub fn new(sample_rate_hz: f64, channels: usize) -> Self {
        let c = k_weighting(sample_rate_hz);
        let bins = ((TOP_LKFS - ABSOLUTE_GATE_LKFS) / BIN_LU).ceil() as usize + 1;
        Self {
            filters: vec![
                KFilter {
                    c,
                    s: [[0.0; 2]; 2]
                };
                channels
            ],
            weights: channel_weights(channels),
            sub_frames: ((sample_rate_hz * 0.1).round() as usize).max(1),
            acc: vec![0.0; channels],
            acc_frames: 0,
            acc_speech: 0,
            recent: [SubBlock {
                energy: 0.0,
                speech_share: 0.0,
            }; 4],
            recent_len: 0,
            counts: vec![0; bins],
            energies: vec![0.0; bins],
            exact_blocks: Some(Vec::new()),
            speech_energy: 0.0,
            speech_blocks: 0,
            completed: Vec::new(),
            total_energy_sum: 0.0,
            total_frames: 0,
        }
    }

    /// Frames per 100 ms sub-block.
    pub fn sub_block_frames(&self) -> usize {
        self.sub_frames
    }

    /// Adds the frames of `channels` (planar, equal lengths); `speech[i]` says whether frame
    /// `i` was speech (an empty slice: none was).
    pub fn push(&mut self, channels: &[&[f32]], speech: &[bool]) {
        let frames = channels.first().map_or(0, |c| c.len());
        let mut done = 0;
        while done < frames {
            let n = (frames - done).min(self.sub_frames - self.acc_frames);
            for (((ch, f), acc), w) in channels
                .iter()
                .zip(&mut self.filters)
                .zip(&mut self.acc)
                .zip(&self.weights)
            {
                let mut sum = 0.0;
                for &x in &ch[done..done + n] {
                    let y = f.process(x as f64);
                    sum += y * y;
                }
                *acc += sum;
                self.total_energy_sum += w * sum;
            }
            self.total_frames += n as u64;
            if !speech.is_empty() {
                self.acc_speech += speech[done..done + n].iter().filter(|&&s| s).count();
            }
            self.acc_frames += n;
            done += n;
            if self.acc_frames == self.sub_frames {
                self.close_sub_block();
            }
        }
    }

    fn close_sub_block(&mut self) {
        let n = self.sub_frames as f64;
        let energy = self
            .acc
            .iter()
            .zip(&self.weights)
            .map(|(s, w)| w * s / n)
            .sum::<f64>();
        let sub = SubBlock {
            energy,
            speech_share: self.acc_speech as f64 / n,
        };
        self.acc.fill(0.0);
        self.acc_frames = 0;
        self.acc_speech = 0;
        self.completed.push(sub);
        if self.recent_len == 4 {
            self.recent.rotate_left(1);
            self.recent[3] = sub;
        } else {
            self.recent[self.recent_len] = sub;
            self.recent_len += 1;
        }
        if self.recent_len == 4 {
            let energy = self.recent.iter().map(|s| s.energy).sum::<f64>() / 4.0;
            let speech = self.recent.iter().map(|s| s.speech_share).sum::<f64>() / 4.0;
            let lkfs = energy_to_lkfs(energy);
            if lkfs > ABSOLUTE_GATE_LKFS {
                let bin =
                    (((lkfs - ABSOLUTE_GATE_LKFS) / BIN_LU) as usize).min(self.counts.len() - 1);
                self.counts[bin] += 1;
                self.energies[bin] += energy;
                if let Some(blocks) = &mut self.exact_blocks {
                    if blocks.len() < EXACT_BLOCKS {
                        blocks.push(energy as f32);
                    } else {
                        self.exact_blocks = None;
                    }
                }
                if speech >= SPEECH_BLOCK_SHARE {
                    self.speech_energy += energy;
                    self.speech_blocks += 1;
                }
            }
        }
    }

    /// Sub-blocks completed since the last call (for window statistics across meters that are
    /// fed in step).
    pub fn take_completed(&mut self) -> Vec<SubBlock> {
        std::mem::take(&mut self.completed)
    }

    /// Like [`Self::take_completed`] without giving up the buffer.
    pub fn completed(&self) -> &[SubBlock] {
        &self.completed
    }

    /// Forgets the completed sub-blocks (after reading them with [`Self::completed`]).
    pub fn clear_completed(&mut self) {
        self.completed.clear();
    }

    /// Integrated loudness (absolute and relative gates), LKFS; `None` if every block is under
    /// the absolute gate.
    pub fn integrated_lkfs(&self) -> Option<f64> {
        let (count, energy) = self.sum_from(0);
        if count == 0 {
            return None;
        }
        let gate = energy_to_lkfs(energy / count as f64) - RELATIVE_GATE_LU;
        if let Some(blocks) = &self.exact_blocks {
            // Blocks louder than the gate, each compared on its own.
            let gate_energy = 10f64.powf((gate + 0.691) / 10.0);
            let (count, energy) = blocks
                .iter()
                .map(|&e| e as f64)
                .filter(|&e| e > gate_energy)
                .fold((0u64, 0.0), |(n, sum), e| (n + 1, sum + e));
            return (count > 0).then(|| energy_to_lkfs(energy / count as f64));
        }
        let first = (((gate - ABSOLUTE_GATE_LKFS) / BIN_LU).floor().max(0.0)) as usize;
        let (count, energy) = self.sum_from(first);
        (count > 0).then(|| energy_to_lkfs(energy / count as f64))
    }

    fn sum_from(&self, bin: usize) -> (u64, f64) {
        let bin = bin.min(self.counts.len());
        (
            self.counts[bin..].iter().sum(),
            self.energies[bin..].iter().sum(),
        )
    }

    /// Ungated loudness: the channel-weighted mean square of the K-weighted signal over every
    /// frame pushed (no blocks, no gates), LKFS; `None` before the first frame.
    pub fn ungated_lkfs(&self) -> Option<f64> {
        (self.total_frames > 0)
            .then(|| energy_to_lkfs(self.total_energy_sum / self.total_frames as f64))
    }

    /// Speech-gated loudness: the mean over the blocks that were at least half speech and
    /// above the absolute gate, LKFS; `None` if there were none.
    pub fn speech_gated_lkfs(&self) -> Option<f64> {
        (self.speech_blocks > 0)
            .then(|| energy_to_lkfs(self.speech_energy / self.speech_blocks as f64))
    }

    /// Gating blocks counted as speech (above the absolute gate).
    pub fn speech_blocks(&self) -> u64 {
        self.speech_blocks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_weighting_matches_the_spec_at_48k() {
        // ITU-R BS.1770-4, Tables 1 and 2.
        let [s, h] = k_weighting(48_000.0);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-8;
        assert!(close(s.b0, 1.535_124_859_586_97), "{s:?}");
        assert!(close(s.b1, -2.691_696_189_406_38), "{s:?}");
        assert!(close(s.b2, 1.198_392_810_852_85), "{s:?}");
        assert!(close(s.a1, -1.690_659_293_182_41), "{s:?}");
        assert!(close(s.a2, 0.732_480_774_215_85), "{s:?}");
        assert_eq!((h.b0, h.b1, h.b2), (1.0, -2.0, 1.0));
        assert!(close(h.a1, -1.990_047_454_833_98), "{h:?}");
        assert!(close(h.a2, 0.990_072_250_366_21), "{h:?}");
    }

    fn sine(freq_hz: f64, amp: f64, sr: f64, seconds: f64) -> Vec<f32> {
        let n = (sr * seconds) as usize;
        (0..n)
            .map(|i| (amp * (2.0 * std::f64::consts::PI * freq_hz * i as f64 / sr).sin()) as f32)
            .collect()
    }

    #[test]
    fn sine_997_hz_at_minus_20_dbfs_reads_minus_23_lkfs() {
        for sr in [44_100.0, 48_000.0, 96_000.0] {
            let x = sine(997.0, 0.1, sr, 10.0);
            let mut m = LoudnessMeter::new(sr, 1);
            m.push(&[&x], &[]);
            let l = m.integrated_lkfs().unwrap();
            assert!((l + 23.0).abs() < 0.1, "{sr} Hz: {l}");
            assert_eq!(m.speech_gated_lkfs(), None);
            // All speech: the speech-gated figure is the same.
            let mut m = LoudnessMeter::new(sr, 1);
            m.push(&[&x], &vec![true; x.len()]);
            assert!((m.speech_gated_lkfs().unwrap() + 23.0).abs() < 0.1);
        }
    }

    #[test]
    fn relative_gate_ignores_quiet_passages_and_stereo_adds_3_db() {
        let sr = 48_000.0;
        let mut x = sine(997.0, 0.1, sr, 10.0);
        x.extend(sine(997.0, 0.001, sr, 10.0)); // 40 dB lower: under the relative gate
        let mut m = LoudnessMeter::new(sr, 2);
        m.push(&[&x, &x], &[]);
        let l = m.integrated_lkfs().unwrap();
        assert!((l + 20.0).abs() < 0.1, "{l}");
    }

    /// BS.1770-4 integrated loudness straight from the definition, from the sub-block
    /// energies: (loudness, relative gate), LKFS.
    fn by_definition(subs: &[f64]) -> (f64, f64) {
        let blocks: Vec<f64> = subs
            .windows(4)
            .map(|w| w.iter().sum::<f64>() / 4.0)
            .filter(|&e| energy_to_lkfs(e) > ABSOLUTE_GATE_LKFS)
            .collect();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let gate = energy_to_lkfs(mean(&blocks)) - RELATIVE_GATE_LU;
        let kept: Vec<f64> = blocks
            .into_iter()
            .filter(|&e| energy_to_lkfs(e) > gate)
            .collect();
        (energy_to_lkfs(mean(&kept)), gate)
    }

    #[test]
    fn relative_gate_is_applied_per_block_not_per_histogram_bin() {
        // A loud tone, then the same tone so quiet that its blocks sit 0.003 LU under the
        // relative gate, and the gate 0.007 LU into its 0.01 LU histogram bin: the quiet
        // blocks share the gate's bin, yet they must not count.
        let sr = 48_000.0;
        // (meter, loudness by definition, gate, quiet level under the gate)
        let measure = |loud_amp: f64, quiet_amp: f64| {
            let mut x = sine(997.0, loud_amp, sr, 4.0);
            x.extend(sine(997.0, quiet_amp, sr, 4.0));
            let mut m = LoudnessMeter::new(sr, 1);
            m.push(&[&x], &[]);
            let subs: Vec<f64> = m.take_completed().iter().map(|s| s.energy).collect();
            let (want, gate) = by_definition(&subs);
            // The quiet part's level: its last block.
            let quiet_lkfs = energy_to_lkfs(subs[subs.len() - 4..].iter().sum::<f64>() / 4.0);
            (m, want, gate, gate - quiet_lkfs)
        };
        let (mut loud_amp, mut quiet_amp) = (0.5, 0.5 * 10f64.powf(-10.0 / 20.0));
        for _ in 0..20 {
            let (_, _, _, under) = measure(loud_amp, quiet_amp);
            // Moving the quiet part moves the gate a little too.
            quiet_amp *= 10f64.powf((under - 0.003) / 20.0 * 1.1);
        }
        // Both parts together: the gate moves, the quiet part stays 0.003 LU under it.
        let (_, _, gate, _) = measure(loud_amp, quiet_amp);
        let into_bin = (gate - ABSOLUTE_GATE_LKFS).rem_euclid(BIN_LU);
        let shift = 10f64.powf((0.007 - into_bin) / 20.0);
        (loud_amp, quiet_amp) = (loud_amp * shift, quiet_amp * shift);
        let (m, want, gate, under) = measure(loud_amp, quiet_amp);
        let into_bin = (gate - ABSOLUTE_GATE_LKFS).rem_euclid(BIN_LU);
        assert!((under - 0.003).abs() < 0.001, "{under}");
        assert!((into_bin - 0.007).abs() < 0.001, "{into_bin}");
        let got = m.integrated_lkfs().unwrap();
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    }

    #[test]
    fn speech_gating_keeps_only_speech_blocks() {
        let sr = 48_000.0;
        let mut x = sine(997.0, 0.1, sr, 5.0);
        x.extend(sine(997.0, 0.01, sr, 5.0));
        let speech: Vec<bool> = (0..x.len()).map(|i| i < x.len() / 2).collect();
        let mut m = LoudnessMeter::new(sr, 1);
        m.push(&[&x], &speech);
        let l = m.speech_gated_lkfs().unwrap();
        assert!((l + 23.0).abs() < 0.1, "{l}");
    }
}
