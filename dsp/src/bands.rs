//! Auditory bands over an FFT's bins: ERB-rate spacing (Glasberg & Moore), about one band per
//! ERB, so each band is roughly one critical band wide: the resolution at which the ear hears
//! one sound masking another.

/// Lowest band edge, Hz.
pub const LOWEST_HZ: f32 = 50.0;
/// Highest band edge, Hz (capped at Nyquist).
pub const HIGHEST_HZ: f32 = 20_000.0;
/// Bands requested between the edges (bands narrower than one FFT bin are merged, so the
/// actual count is a little lower at low resolutions).
pub const REQUESTED_BANDS: usize = 36;
/// Most bands any layout has.
pub const MAX_BANDS: usize = REQUESTED_BANDS;

/// ERB-rate (number of ERBs below `f_hz`).
pub fn erb_rate(f_hz: f32) -> f32 {
    21.4 * (1.0 + 0.00437 * f_hz).log10()
}

/// Inverse of [`erb_rate`].
pub fn erb_rate_to_hz(erbs: f32) -> f32 {
    (10f32.powf(erbs / 21.4) - 1.0) / 0.00437
}

/// Which bins make up each band, and how per-band values spread back over the bins.
#[derive(Debug, Clone)]
pub struct BandLayout {
    /// First bin of each band (inclusive) and one past its last.
    ranges: Vec<(usize, usize)>,
    /// Centre frequency of each band, Hz.
    centres_hz: Vec<f32>,
    /// Per bin: (lower band, weight of the upper band) for linear interpolation of band values
    /// between band centres, so per-bin gains have no steps at band edges.
    interp: Vec<(usize, f32)>,
}

impl BandLayout {
    /// Bands for an FFT of `fft_size` at `sample_rate_hz` (bins 0..=fft_size/2).
    pub fn new(fft_size: usize, sample_rate_hz: f32) -> Self {
        let bins = fft_size / 2 + 1;
        let bin_hz = sample_rate_hz / fft_size as f32;
        let top_hz = HIGHEST_HZ.min(0.5 * sample_rate_hz);
        let (lo, hi) = (erb_rate(LOWEST_HZ), erb_rate(top_hz));
        let mut ranges = Vec::with_capacity(REQUESTED_BANDS);
        let mut start = 1; // bin 0 (DC) joins the first band below
        for b in 1..=REQUESTED_BANDS {
            let edge_hz = erb_rate_to_hz(lo + (hi - lo) * b as f32 / REQUESTED_BANDS as f32);
            let end = if b == REQUESTED_BANDS {
                bins
            } else {
                ((edge_hz / bin_hz).round() as usize).clamp(start, bins)
            };
            if end > start {
                ranges.push((start, end));
                start = end;
            }
        }
        if let Some(first) = ranges.first_mut() {
            first.0 = 0;
        }
        let centres_hz: Vec<f32> = ranges
            .iter()
            .map(|&(a, b)| 0.5 * (a + b - 1) as f32 * bin_hz)
            .collect();
        let centre_bins: Vec<f32> = centres_hz.iter().map(|c| c / bin_hz).collect();
        let last = ranges.len() - 1;
        let interp = (0..bins)
            .map(|k| {
                let k = k as f32;
                match centre_bins.iter().position(|&c| c > k) {
                    Some(0) => (0, 0.0),
                    None => (last, 0.0),
                    Some(upper) => {
                        let (c0, c1) = (centre_bins[upper - 1], centre_bins[upper]);
                        (upper - 1, (k - c0) / (c1 - c0))
                    }
                }
            })
            .collect();
        Self {
            ranges,
            centres_hz,
            interp,
        }
    }

    /// Number of bands.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether there are no bands (never, for a real FFT size).
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Centre frequencies, Hz.
    pub fn centres_hz(&self) -> &[f32] {
        &self.centres_hz
    }

    /// Sums per-bin `power` into `out` per band.
    pub fn band_powers(&self, power: &[f32], out: &mut [f32]) {
        for (o, &(a, b)) in out.iter_mut().zip(&self.ranges) {
            *o = power[a..b].iter().sum();
        }
    }

    /// Spreads per-band `values` over the bins (linear between band centres) into `out`.
    pub fn to_bins(&self, values: &[f32], out: &mut [f32]) {
        let last = self.ranges.len() - 1;
        for (o, &(band, w)) in out.iter_mut().zip(&self.interp) {
            let upper = (band + 1).min(last);
            *o = values[band] + w * (values[upper] - values[band]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erb_scale_round_trips() {
        for f in [100.0, 1_000.0, 8_000.0] {
            assert!((erb_rate_to_hz(erb_rate(f)) - f).abs() < 0.5);
        }
    }

    #[test]
    fn bands_cover_every_bin_once_and_rise_in_frequency() {
        for (n, sr) in [
            (1024, 48_000.0),
            (1024, 44_100.0),
            (2048, 96_000.0),
            (4096, 192_000.0),
        ] {
            let layout = BandLayout::new(n, sr);
            assert!(
                layout.len() >= 28 && layout.len() <= MAX_BANDS,
                "{}",
                layout.len()
            );
            let mut next = 0;
            for &(a, b) in &layout.ranges {
                assert_eq!(a, next);
                assert!(b > a);
                next = b;
            }
            assert_eq!(next, n / 2 + 1);
            assert!(layout.centres_hz().windows(2).all(|w| w[1] > w[0]));
        }
    }

    #[test]
    fn band_values_interpolate_smoothly_over_bins() {
        let layout = BandLayout::new(1024, 48_000.0);
        let values: Vec<f32> = (0..layout.len()).map(|b| b as f32).collect();
        let mut bins = vec![0.0; 513];
        layout.to_bins(&values, &mut bins);
        assert!(
            bins.windows(2)
                .all(|w| w[1] >= w[0] && w[1] - w[0] <= 1.0 + 1e-6)
        );
    }
}
