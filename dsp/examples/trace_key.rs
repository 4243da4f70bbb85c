//! Prints the key analysis of a dialogue file (WAV or FLAC) over time: level, speech probability, speech decision and the
//! resulting duck. `cargo run -p underscore-dsp --example trace_key -- dialogue.wav [step_ms]`

use underscore_dsp::{Engine, EngineParams};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: trace_key FILE.wav [step_ms]");
    let step_ms: f32 = args.next().map_or(10.0, |s| s.parse().expect("step_ms"));
    let audio = underscore_io::read_audio(std::path::Path::new(&path)).expect("read audio");
    let key = audio.channels;
    let sr = audio.sample_rate as f32;
    let mut engine = Engine::new(sr, 1);
    engine.set_params(&EngineParams::default());
    let step = (step_ms * 0.001 * sr) as usize;
    let n = key[0].len();
    let mut bed = vec![0.0f32; step];
    let mut pos = 0;
    while pos + step <= n {
        let k: Vec<&[f32]> = key.iter().map(|c| &c[pos..pos + step]).collect();
        engine.process_block(&mut [&mut bed], &k);
        let m = engine.meter();
        println!(
            "{:8.3} level {:7.1} {} p {:.2} {} duck {:6.1}",
            (pos + step) as f32 / sr,
            m.key_level_db(),
            if m.level_active { "L" } else { "." },
            m.speech_probability,
            if m.speech_active { "SPEECH" } else { "      " },
            m.duck_gain_db()
        );
        pos += step;
    }
}
