//! Profiling driver: the broadband engine over a dialogue file as the key (stereo bed, 48 kHz,
//! 256-sample blocks), e.g. under `valgrind --tool=callgrind` to see where the time goes.
//! Usage: profile_engine DIALOGUE [SECONDS]
fn main() {
    let path = std::env::args().nth(1).expect("a dialogue file");
    let seconds: usize = std::env::args()
        .nth(2)
        .map_or(10, |s| s.parse().expect("seconds"));
    let audio = underscore_io::read_audio(std::path::Path::new(&path)).expect("read audio");
    let sr = audio.sample_rate as f32;
    let n = seconds * audio.sample_rate as usize;
    let key: Vec<f32> = audio.channels[0].iter().cycle().take(n).copied().collect();
    let mut l: Vec<f32> = (0..n).map(|i| 0.3 * (i as f32 * 0.031).sin()).collect();
    let mut r = l.clone();
    let mut engine = underscore_dsp::Engine::new(sr, 2);
    let t = std::time::Instant::now();
    for start in (0..n).step_by(256) {
        let end = (start + 256).min(n);
        let k = &key[start..end];
        engine.set_params(&underscore_dsp::EngineParams::default());
        engine.process_block(&mut [&mut l[start..end], &mut r[start..end]], &[k, k]);
    }
    let s = t.elapsed().as_secs_f64();
    println!("{:.0}x realtime, {}", seconds as f64 / s, l[n / 2]);
}
