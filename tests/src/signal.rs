//! Signal generators and level measurements for tests.
//!
//! Signals are `Vec<f32>` per channel; multichannel signals are `Vec<Vec<f32>>`
//! (channels x frames), the layout [`ClapInstance::process`](crate::ClapInstance::process)
//! and [`ClapInstance::render`](crate::ClapInstance::render) use.

use std::f64::consts::TAU;

/// The level, in dB, that [`db`], [`rms_db`] and [`peak_db`] report for silence
/// (instead of `-inf`, so differences of levels stay finite).
pub const DB_FLOOR: f64 = -240.0;

/// A sine of `freq_hz` with peak amplitude `amp`, `n` samples long at sample rate `sr`,
/// starting at phase 0.
pub fn sine(freq_hz: f64, amp: f64, sr: f64, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (amp * (TAU * freq_hz * i as f64 / sr).sin()) as f32)
        .collect()
}

/// Tiny deterministic xorshift64 generator for test signals, block sizes and event times
/// (the same seed always gives the same sequence; no extra dependency).
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (any value, zero included).
    pub fn new(seed: u64) -> Self {
        let state = seed ^ 0x9E37_79B9_7F4A_7C15;
        Self(if state == 0 { 1 } else { state })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    /// Uniform in `[0, 1)` (53 random bits).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Deterministic white noise, uniform in `[-amp, amp)`, seeded with `seed` (the same seed
/// always gives the same samples).
pub fn noise(amp: f64, n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| (amp * (2.0 * rng.unit() - 1.0)) as f32)
        .collect()
}

/// `n` zero samples.
pub fn silence(n: usize) -> Vec<f32> {
    vec![0.0; n]
}

/// The same mono signal on `channels` channels.
pub fn multichannel(signal: &[f32], channels: usize) -> Vec<Vec<f32>> {
    vec![signal.to_vec(); channels]
}

/// Every channel of `x` followed by `n` samples of silence: what a plugin needs to flush a
/// latency of `n` samples (the offline renderer feeds the same silence).
pub fn with_silence(x: &[Vec<f32>], n: usize) -> Vec<Vec<f32>> {
    x.iter()
        .map(|c| {
            c.iter()
                .copied()
                .chain(std::iter::repeat_n(0.0, n))
                .collect()
        })
        .collect()
}

/// The same mono signal on two channels.
pub fn stereo(signal: &[f32]) -> Vec<Vec<f32>> {
    multichannel(signal, 2)
}

/// Linear gain to decibels: `20 * log10(x)`, floored at [`DB_FLOOR`] for `x <= 0`.
pub fn db(x: f64) -> f64 {
    if x > 0.0 {
        (20.0 * x.log10()).max(DB_FLOOR)
    } else {
        DB_FLOOR
    }
}

/// Decibels to linear gain: `10^(db / 20)`.
pub fn db_to_gain(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// Root mean square of a slice (0 for an empty slice).
pub fn rms(x: &[f32]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    let sum: f64 = x.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / x.len() as f64).sqrt()
}

/// RMS level of a slice in dBFS (a full-scale sine reads about -3.01 dB);
/// [`DB_FLOOR`] for silence.
pub fn rms_db(x: &[f32]) -> f64 {
    db(rms(x))
}

/// Largest absolute sample value.
pub fn peak(x: &[f32]) -> f64 {
    x.iter().fold(0.0f64, |m, &s| m.max(f64::from(s).abs()))
}

/// Peak level of a slice in dBFS; [`DB_FLOOR`] for silence.
pub fn peak_db(x: &[f32]) -> f64 {
    db(peak(x))
}

/// Resamples `x` from `from_hz` to `to_hz` by windowed-sinc interpolation: a Blackman-windowed
/// sinc 32 zero crossings wide on each side, cut off at 95 % of the lower rate's Nyquist
/// frequency, one kernel per phase of the rational ratio (each normalised to a DC gain of
/// exactly 1). Output sample `i` is at input time `i * from_hz / to_hz`; the output is
/// `ceil(len * to_hz / from_hz)` samples long (the signal before and after `x` is silence).
///
/// Good enough for a voice detector at any host rate (a level step of a passband tone stays
/// within about 0.01 dB, images and aliases are below -55 dB); linear interpolation is not: it
/// leaves images of the whole speech band at 4x rate.
pub fn resample(x: &[f32], from_hz: u32, to_hz: u32) -> Vec<f32> {
    assert!(from_hz > 0 && to_hz > 0, "sample rates must be positive");
    if from_hz == to_hz || x.is_empty() {
        return x.to_vec();
    }
    let g = gcd(from_hz, to_hz);
    let (up, down) = ((to_hz / g) as usize, (from_hz / g) as usize);
    // Cut-off in cycles per input sample.
    let cutoff = 0.95 * 0.5 * f64::from(from_hz.min(to_hz)) / f64::from(from_hz);
    // Kernel half-width in input samples: 32 zero crossings of the cut-off sinc.
    let half = (32.0 / (2.0 * cutoff)).ceil() as i64;
    let taps = (2 * half + 1) as usize;
    // Kernel of phase p (output at input position k + p/up): tap j weighs x[k - half + j].
    let kernels: Vec<Vec<f64>> = (0..up)
        .map(|p| {
            let frac = p as f64 / up as f64;
            let mut h: Vec<f64> = (0..taps)
                .map(|j| {
                    let t = (j as i64 - half) as f64 - frac; // input samples from the centre
                    let w = t / (half as f64 + 1.0); // -1..1 over the window
                    if w.abs() >= 1.0 {
                        return 0.0;
                    }
                    let blackman =
                        0.42 + 0.5 * (std::f64::consts::PI * w).cos() + 0.08 * (TAU * w).cos();
                    let arg = 2.0 * cutoff * t;
                    let sinc = if arg.abs() < 1e-12 {
                        1.0
                    } else {
                        (std::f64::consts::PI * arg).sin() / (std::f64::consts::PI * arg)
                    };
                    sinc * blackman
                })
                .collect();
            let sum: f64 = h.iter().sum();
            h.iter_mut().for_each(|v| *v /= sum);
            h
        })
        .collect();
    let n_out = (x.len() * up).div_ceil(down);
    (0..n_out)
        .map(|i| {
            let pos = i * down;
            let (k, p) = ((pos / up) as i64, pos % up);
            let start = k - half;
            let acc: f64 = kernels[p]
                .iter()
                .enumerate()
                .filter_map(|(j, &h)| {
                    let idx = start + j as i64;
                    (idx >= 0 && (idx as usize) < x.len()).then(|| h * f64::from(x[idx as usize]))
                })
                .sum();
            acc as f32
        })
        .collect()
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Sample rate of the bundled demo dialogue, Hz.
pub const DEMO_RATE_HZ: u32 = 48_000;
/// Where the demo dialogue's first phrase starts, s (`demo/truth.json`).
pub const DEMO_FIRST_PHRASE_S: f64 = 1.61;
/// The demo's stretch of continuous speech, s: two sentences of one voice (3.03-4.71 s and
/// 4.91-6.37 s, `demo/truth.json`) with a 200 ms pause between them and word gaps inside them.
pub const DEMO_SPEECH_STRETCH_S: (f64, f64) = (3.0, 6.4);

/// The bundled demo dialogue, `demo/dialogue.wav` (two espeak-ng voices, CC0; 48 kHz mono,
/// 25 s; its speech intervals are in `demo/truth.json`), resampled to `sr` Hz (a whole number)
/// by [`resample`] and kept for the rest of the process. Real speech, for tests whose key must
/// be heard as speech: Underscore's voice detector rightly ignores tones, buzz and synthetic
/// vowels.
pub fn demo_dialogue(sr: f64) -> std::sync::Arc<Vec<f32>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<u32, Arc<Vec<f32>>>>> = OnceLock::new();
    let rate = sr.round() as u32;
    assert!(
        (f64::from(rate) - sr).abs() < 1e-9,
        "{sr} Hz is not a whole number"
    );
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(d) = cache.get(&rate) {
        return d.clone();
    }
    let native = match cache.get(&DEMO_RATE_HZ) {
        Some(d) => d.clone(),
        None => {
            let path = crate::workspace_root().join("demo/dialogue.wav");
            let audio = crate::audio_io::read_audio(&path)
                .unwrap_or_else(|e| panic!("the demo dialogue {}: {e}", path.display()));
            assert_eq!(audio.sample_rate, DEMO_RATE_HZ, "{}", path.display());
            let d = Arc::new(audio.channels[0].clone());
            cache.insert(DEMO_RATE_HZ, d.clone());
            d
        }
    };
    let d = Arc::new(resample(&native, DEMO_RATE_HZ, rate));
    cache.insert(rate, d.clone());
    d
}

/// Continuous speech at `sr`, `n` samples: the demo's [`DEMO_SPEECH_STRETCH_S`] looped (about
/// -25 dBFS RMS; at the loop's seam the voice pauses about 60 ms, less than a word gap).
pub fn speech(sr: f64, n: usize) -> Vec<f32> {
    let d = demo_dialogue(sr);
    let (a, b) = DEMO_SPEECH_STRETCH_S;
    let stretch = &d[(a * sr).round() as usize..(b * sr).round() as usize];
    stretch.iter().cycle().take(n).copied().collect()
}

/// `silence` samples of silence, then the demo dialogue at `sr` from its first phrase on (which
/// starts at sample `silence`; its pauses carry the recording's room tone, about -64 dBFS), `n`
/// samples in all.
pub fn speech_after_silence(sr: f64, silence: usize, n: usize) -> Vec<f32> {
    let d = demo_dialogue(sr);
    let start = (DEMO_FIRST_PHRASE_S * sr).round() as usize;
    let mut key = vec![0.0; silence.min(n)];
    key.extend(d[start..].iter().take(n.saturating_sub(silence)));
    key.resize(n, 0.0);
    key
}

/// Continuous speech ([`speech`]) on the samples `on` and silence elsewhere, `n` samples: a
/// line that starts at `on.start` and is cut off at `on.end`.
pub fn speech_on(sr: f64, n: usize, on: std::ops::Range<usize>) -> Vec<f32> {
    let mut key = vec![0.0; n];
    let (start, end) = (on.start.min(n), on.end.min(n));
    if start < end {
        key[start..end].copy_from_slice(&speech(sr, end - start));
    }
    key
}

/// True if every sample of every channel is finite (no NaN or infinity).
pub fn all_finite(channels: &[Vec<f32>]) -> bool {
    channels.iter().all(|c| c.iter().all(|s| s.is_finite()))
}

/// The frames `start..end` of every channel (clamped to the channels' length).
pub fn slice_frames(channels: &[Vec<f32>], start: usize, end: usize) -> Vec<Vec<f32>> {
    channels
        .iter()
        .map(|c| {
            let e = end.min(c.len());
            c[start.min(e)..e].to_vec()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_scale_sine_is_minus_3_db_rms() {
        let s = sine(1000.0, 1.0, 48_000.0, 48_000);
        assert!((rms_db(&s) + 3.0103).abs() < 0.01);
        assert!((peak_db(&s)).abs() < 0.01);
    }

    #[test]
    fn db_roundtrip_and_floor() {
        assert!((db(db_to_gain(-12.0)) + 12.0).abs() < 1e-9);
        assert_eq!(db(0.0), DB_FLOOR);
        assert_eq!(rms_db(&silence(10)), DB_FLOOR);
    }

    #[test]
    fn resample_keeps_passband_tones_and_the_rate() {
        for (from, to) in [(48_000u32, 44_100u32), (48_000, 96_000), (48_000, 192_000)] {
            let n = from as usize / 4;
            let x = sine(1_000.0, 0.5, f64::from(from), n);
            let y = resample(&x, from, to);
            assert_eq!(y.len(), (n * to as usize).div_ceil(from as usize));
            let want = sine(1_000.0, 0.5, f64::from(to), y.len());
            // Away from the edges (where the signal starts from silence) the same tone.
            let edge = to as usize / 100;
            let worst = y[edge..y.len() - edge]
                .iter()
                .zip(&want[edge..])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(worst < 1e-3, "{from} -> {to}: {worst}");
        }
        // Down-sampling removes what the lower rate cannot hold.
        let x = sine(23_500.0, 0.5, 48_000.0, 12_000);
        let y = resample(&x, 48_000, 44_100);
        assert!(
            rms_db(&y[1_000..10_000]) < -50.0,
            "{}",
            rms_db(&y[1_000..10_000])
        );
    }

    #[test]
    fn noise_is_deterministic_and_bounded() {
        let a = noise(0.5, 1000, 7);
        assert_eq!(a, noise(0.5, 1000, 7));
        assert_ne!(a, noise(0.5, 1000, 8));
        assert!(peak(&a) <= 0.5);
        // uniform noise: rms = amp / sqrt(3)
        assert!((rms(&a) - 0.5 / 3f64.sqrt()).abs() < 0.02);
    }
}
