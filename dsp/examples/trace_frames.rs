//! Prints, for each 16 ms frame of the voice detector over a key file (WAV or FLAC, first
//! channel), the speech probability, the steadiness, the voicing and the key level: what the speech gate
//! sees. `cargo run --release -p underscore-dsp --example trace_frames -- KEY.wav [until_s]`

use underscore_dsp::detector::KeyAnalyser;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: trace_frames KEY.wav [until_s]");
    let until_s: f32 = args
        .next()
        .map_or(f32::INFINITY, |s| s.parse().expect("until_s"));
    let audio = underscore_io::read_audio(std::path::Path::new(&path)).expect("read audio");
    let sr = audio.sample_rate as f32;
    let tick = (sr / 1000.0) as usize;
    let mut analyser = KeyAnalyser::new(sr, tick);
    for (i, chunk) in audio.channels[0].chunks(tick).enumerate() {
        let t = analyser.process_tick(&[chunk], 0, chunk.len());
        let ms = (i + 1) as f32;
        if ms * 0.001 > until_s {
            break;
        }
        if let Some(f) = t.frame {
            println!(
                "{ms:6} ms p {:.2} steadiness {} voicing {:.2} level {:.1} dBFS",
                f.probability,
                f.steadiness.map_or("-".into(), |s| format!("{s:.4}")),
                f.voicing,
                t.level_db()
            );
        }
    }
}
