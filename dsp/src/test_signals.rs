//! Generated signals for the unit tests (48 kHz).

/// Test sample rate, Hz.
pub const SR: f32 = 48_000.0;

/// A sine of `freq_hz` at peak `amp`, `n` samples.
pub fn sine(freq_hz: f32, amp: f32, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| amp * (2.0 * std::f32::consts::PI * freq_hz * i as f32 / SR).sin())
        .collect()
}

/// A vowel-like key: a glottal pulse train at `f0_hz` through a one-pole resonance (about
/// -20 dBFS RMS; periodic, so the speech detector hears it as voiced).
pub fn vowel(f0_hz: f32, n: usize) -> Vec<f32> {
    let period = (SR / f0_hz) as usize;
    let mut y = 0.0f32;
    (0..n)
        .map(|i| {
            y = 0.9 * y + if i % period == 0 { 0.5 } else { 0.0 };
            0.3 * y
        })
        .collect()
}
