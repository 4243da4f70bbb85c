//! Runs a scene through the engine in Spectral mode and prints, per band, the dialogue's
//! mean level, the bed level after and before ducking and the reduction, averaged over the frames where
//! speech was detected.
//! `DEPTH_DB=-30 cargo run --release -p underscore-dsp --example band_trace -- dx.flac bed.flac` (WAV or FLAC)

use underscore_dsp::Mode;
use underscore_dsp::{Engine, EngineParams};

fn read(path: &str) -> (Vec<Vec<f32>>, f32) {
    let audio = underscore_io::read_audio(std::path::Path::new(path)).expect("read audio");
    (audio.channels, audio.sample_rate as f32)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dialogue, bed] = &args[..] else {
        panic!("usage: band_trace DIALOGUE.wav BED.wav");
    };
    let (key, sr) = read(dialogue);
    let (mut bed, _) = read(bed);
    let mut engine = Engine::new(sr, bed.len());
    engine.set_params(&EngineParams {
        mode: Mode::Spectral,
        depth_db: std::env::var("DEPTH_DB").map_or(-10.0, |v| v.parse().expect("DEPTH_DB")),
        ..Default::default()
    });
    engine.set_analysis_enabled(true);
    let n = key[0].len().min(bed[0].len());
    let block = 512;
    let mut sums = vec![[0.0f64; 5]; 64];
    let mut frames = 0;
    let mut seen = 0;
    let mut pos = 0;
    while pos + block <= n {
        let k: Vec<&[f32]> = key.iter().map(|c| &c[pos..pos + block]).collect();
        let mut b: Vec<&mut [f32]> = bed.iter_mut().map(|c| &mut c[pos..pos + block]).collect();
        engine.process_block(&mut b, &k);
        pos += block;
        if engine.band_analysis_frames() != seen && engine.meter().speech_active {
            seen = engine.band_analysis_frames();
            let a = engine.band_analysis();
            if let Ok(hz) = std::env::var("BAND_HZ") {
                let hz: f32 = hz.parse().expect("BAND_HZ");
                let i = (0..a.bands).find(|&i| a.centre_hz[i] >= hz).unwrap_or(0);
                println!(
                    "t {:.2} dialogue {:.1} bed {:.1} reduction {:.1}",
                    pos as f32 / sr,
                    a.dialogue_db[i],
                    a.bed_db[i],
                    a.reduction_db[i]
                );
            }
            for (i, sum) in sums.iter_mut().enumerate().take(a.bands) {
                let row = [
                    a.centre_hz[i],
                    a.dialogue_db[i],
                    a.bed_db[i] - a.reduction_db[i],
                    a.bed_db[i],
                    a.reduction_db[i],
                ];
                for (s, v) in sum.iter_mut().zip(row) {
                    *s += v as f64;
                }
            }
            frames += 1;
        }
    }
    if let Ok(path) = std::env::var("OUT_WAV") {
        let out: Vec<Vec<f32>> = bed.iter().map(|c| c[..pos].to_vec()).collect();
        underscore_io::write_wav(std::path::Path::new(&path), sr as u32, &out).expect("write");
        eprintln!("latency {}", engine.latency_samples());
    }
    println!(
        "band_hz dialogue_db bed_after_db bed_db reduction_db (means over {frames} speech frames)"
    );
    for s in sums.iter().take(engine.band_analysis().bands) {
        let m: Vec<f64> = s.iter().map(|v| v / frames.max(1) as f64).collect();
        println!(
            "{:7.0} {:11.1} {:7.1} {:6.1} {:12.1}",
            m[0], m[1], m[2], m[3], m[4]
        );
    }
}
