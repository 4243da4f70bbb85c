//! Unit conversions used throughout the chain. Every DSP quantity carries its unit in its name
//! (`_db`, `_ms`, `_hz`, `_samples`); these helpers are the only places units change.

/// Smallest level we report, in dBFS: well below 24-bit noise, keeps `log10(0)` out of the maths.
pub const FLOOR_DB: f32 = -150.0;

/// Decibels to a linear amplitude factor.
#[inline]
pub fn db_to_gain(db: f32) -> f32 {
    // 10^(db/20) = exp(db * ln(10)/20)
    (db * (std::f32::consts::LN_10 / 20.0)).exp()
}

/// Linear amplitude to decibels, floored at [`FLOOR_DB`].
#[inline]
pub fn gain_to_db(gain: f32) -> f32 {
    if gain <= 0.0 || !gain.is_finite() {
        FLOOR_DB
    } else {
        (20.0 * gain.log10()).max(FLOOR_DB)
    }
}

/// Mean square power to decibels, floored at [`FLOOR_DB`].
#[inline]
pub fn power_to_db(power: f32) -> f32 {
    if power <= 0.0 || !power.is_finite() {
        FLOOR_DB
    } else {
        (10.0 * power.log10()).max(FLOOR_DB)
    }
}

/// Milliseconds to a whole number of samples at `sample_rate_hz` (rounded to nearest).
#[inline]
pub fn ms_to_samples(ms: f32, sample_rate_hz: f32) -> usize {
    (ms.max(0.0) * 0.001 * sample_rate_hz).round() as usize
}

/// Replaces NaN and +/-Inf by silence and clamps to +/-`limit`. Bad input must never poison
/// filter or envelope state: one NaN in a recursive filter stays there forever.
#[inline]
pub fn sanitize(x: f32, limit: f32) -> f32 {
    if x.is_finite() {
        x.clamp(-limit, limit)
    } else {
        0.0
    }
}

/// Flushes values too small to matter (below -300 dB) to exactly zero, so decaying filter state
/// never reaches the denormal range, where some CPUs run 100x slower.
#[inline]
pub fn flush_denormal(x: f32) -> f32 {
    if x.abs() < 1e-15 { 0.0 } else { x }
}

/// Dot product with eight independent partial sums, so the compiler can vectorise it (a single
/// running `f32` sum is a serial dependency chain). Used by the resampler, the decimator and the
/// steadiness and voicing measures, the hot inner loops of the key path.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_round_trip() {
        for db in [-60.0f32, -10.0, 0.0, 6.0] {
            assert!((gain_to_db(db_to_gain(db)) - db).abs() < 1e-4);
        }
        assert_eq!(gain_to_db(0.0), FLOOR_DB);
        assert_eq!(power_to_db(f32::NAN), FLOOR_DB);
    }

    #[test]
    fn ms_conversion() {
        assert_eq!(ms_to_samples(10.0, 48_000.0), 480);
        assert_eq!(ms_to_samples(-5.0, 48_000.0), 0);
        assert_eq!(ms_to_samples(1.0, 44_100.0), 44);
    }

    #[test]
    fn dot_matches_the_plain_sum() {
        let a: Vec<f32> = (0..29).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..29).map(|i| 1.0 - i as f32 * 0.25).collect();
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - plain).abs() < 1e-3);
    }

    #[test]
    fn sanitize_bad_values() {
        assert_eq!(sanitize(f32::NAN, 10.0), 0.0);
        assert_eq!(sanitize(f32::INFINITY, 10.0), 0.0);
        assert_eq!(sanitize(1e30, 10.0), 10.0);
        assert_eq!(flush_denormal(1e-39), 0.0);
        assert_eq!(flush_denormal(0.5), 0.5);
    }
}
