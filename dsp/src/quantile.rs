//! Running quantiles of levels per band, over a fading memory.
//!
//! Spectral mode measures Clarity against the dialogue's *soft level* in each band: a low
//! quantile of its frame levels while it speaks. A quantile needs the distribution, not a mean,
//! so each band keeps a histogram of levels in 1 dB bins. New frames are added with a weight
//! that grows by a constant factor per frame, which is the same as fading the old ones
//! exponentially (memory `memory_s`) without touching every bin each frame; the weights are
//! rescaled before they overflow. Reading a quantile scans one band's bins (150 adds).

/// Lowest level counted, dB (lower levels land in the first bin).
pub const FLOOR_DB: f32 = -140.0;
/// Bins of 1 dB from [`FLOOR_DB`] up to +10 dB.
pub const BINS: usize = 150;
/// Weight (in frames) a band needs before its quantiles are trusted.
pub const MIN_FRAMES: f32 = 20.0;

/// Per-band level histograms with exponential forgetting.
#[derive(Debug, Clone)]
pub struct LevelHistogram {
    bands: usize,
    /// `bands x BINS` weights.
    bins: Vec<f32>,
    totals: Vec<f32>,
    /// Weight of the next frame.
    weight: f32,
    /// Weight growth per frame: exp(frame / memory).
    growth: f32,
}

impl LevelHistogram {
    /// Histograms for `bands` bands, one frame every `frame_s` seconds, forgetting with time
    /// constant `memory_s` (of frames added). Allocates here only.
    pub fn new(bands: usize, frame_s: f32, memory_s: f32) -> Self {
        Self {
            bands,
            bins: vec![0.0; bands * BINS],
            totals: vec![0.0; bands],
            weight: 1.0,
            growth: (frame_s / memory_s.max(frame_s)).exp(),
        }
    }

    /// Counts `levels_db` (one level per band) as one frame.
    pub fn add_frame(&mut self, levels_db: impl IntoIterator<Item = f32>) {
        for (b, level) in levels_db.into_iter().take(self.bands).enumerate() {
            let bin = if level.is_finite() {
                ((level - FLOOR_DB).max(0.0) as usize).min(BINS - 1)
            } else {
                0
            };
            self.bins[b * BINS + bin] += self.weight;
            self.totals[b] += self.weight;
        }
        self.weight *= self.growth;
        if self.weight > 1e20 {
            // Rescale everything; ratios (and so quantiles) are unchanged.
            let scale = 1.0 / self.weight;
            self.bins.iter_mut().for_each(|w| *w *= scale);
            self.totals.iter_mut().for_each(|w| *w *= scale);
            self.weight = 1.0;
        }
    }

    /// Frames (in current-frame weights) counted for `band`.
    fn frames(&self, band: usize) -> f32 {
        // The newest frame weighs `weight / growth`; the sum over a fading memory, divided by
        // it, is the effective number of frames.
        self.totals[band] * self.growth / self.weight
    }

    /// The level below which a share `q` of `band`'s weighted frames lie (bin centre, dB), or
    /// `None` before [`MIN_FRAMES`] frames.
    pub fn quantile(&self, band: usize, q: f32) -> Option<f32> {
        if band >= self.bands || self.frames(band) < MIN_FRAMES {
            return None;
        }
        let target = q.clamp(0.0, 1.0) * self.totals[band];
        let mut sum = 0.0;
        for (i, &w) in self.bins[band * BINS..(band + 1) * BINS].iter().enumerate() {
            sum += w;
            if sum >= target && sum > 0.0 {
                return Some(FLOOR_DB + i as f32 + 0.5);
            }
        }
        Some(FLOOR_DB + BINS as f32 - 0.5)
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        self.bins.fill(0.0);
        self.totals.fill(0.0);
        self.weight = 1.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_quantile_of_a_uniform_spread() {
        // Levels -60..-20 dB evenly, many times: the 20th percentile is -52 dB (+-1 bin).
        let mut h = LevelHistogram::new(2, 0.01, 100.0);
        for round in 0..20 {
            for i in 0..40 {
                let _ = round;
                h.add_frame([-60.0 + i as f32, -30.0]);
            }
        }
        let q = h.quantile(0, 0.2).unwrap();
        assert!((q + 52.0).abs() <= 1.0, "{q}");
        assert!((h.quantile(1, 0.2).unwrap() + 29.5).abs() < 0.6);
    }

    #[test]
    fn forgets_old_levels_and_waits_for_enough_frames() {
        let mut h = LevelHistogram::new(1, 0.01, 1.0);
        assert_eq!(h.quantile(0, 0.5), None);
        for _ in 0..500 {
            h.add_frame([-80.0]);
        }
        // 5 s later (5 memories) at -40 dB: the old level is under 1 % of the weight.
        for _ in 0..500 {
            h.add_frame([-40.0]);
        }
        assert!((h.quantile(0, 0.2).unwrap() + 39.5).abs() < 0.6);
        // Rescaling keeps working over long runs.
        for _ in 0..200_000 {
            h.add_frame([-20.0]);
        }
        assert!((h.quantile(0, 0.2).unwrap() + 19.5).abs() < 0.6);
        h.reset();
        assert_eq!(h.quantile(0, 0.2), None);
    }
}
