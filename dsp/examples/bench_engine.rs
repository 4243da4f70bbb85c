//! Profiling driver: runs the broadband engine over 60 s of a speech-like key, stereo, 48 kHz,
//! 64-sample blocks, and prints times realtime. For `perf record`; the tracked figures live in
//! the criterion bench (`benches/engine.rs`).

use underscore_dsp::{Engine, EngineParams};

fn main() {
    let sr = 48_000.0f32;
    let n = 60 * 48_000;
    let period = (sr / 140.0) as usize;
    let mut y = 0.0f32;
    let key: Vec<f32> = (0..n)
        .map(|i| {
            let x = if i % 24_000 < 14_400 && i % period == 0 {
                0.5
            } else {
                0.0
            };
            y = 0.9 * y + x;
            y * 0.3
        })
        .collect();
    let mut l: Vec<f32> = (0..n).map(|i| 0.3 * (i as f32 * 0.031).sin()).collect();
    let mut r = l.clone();
    let mut engine = Engine::new(sr, 2);
    engine.set_params(&EngineParams::default());
    let t = std::time::Instant::now();
    for start in (0..n).step_by(64) {
        let end = (start + 64).min(n);
        let k = &key[start..end];
        engine.process_block(&mut [&mut l[start..end], &mut r[start..end]], &[k, k]);
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "{:.0}x realtime ({:.2} ns/frame), {}",
        60.0 / s,
        s * 1e9 / n as f64,
        l[n / 2]
    );
}
