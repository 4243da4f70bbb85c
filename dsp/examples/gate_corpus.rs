//! Tuning driver for the speech decision: runs the engine's key analysis and gate over a folder
//! of keys (the corpus `tests/corpus/corpus.py --out DIR` writes) and prints, per key, what the
//! gate did: for non-speech keys (`ns_*`) every start of "speech"; for the speech transforms
//! (`<scene>_<transform>.wav`, scored against the scene's ground truth in MATERIAL) the delay
//! from each phrase start to the decision and the share of speech time flagged.
//!
//! `cargo run --release -p underscore-dsp --example gate_corpus -- KEYS_DIR MATERIAL_DIR`

use std::path::Path;

use underscore_dsp::{Engine, EngineParams};

/// Speech decisions per 1 ms of key, and the bed's reduction per 1 ms of *bed* time (dB,
/// positive = ducked; the meter's gain acts on the bed one lookahead earlier): runs `key`
/// (mono) through an engine at the defaults.
fn decisions(key: &[f32], sr: f32) -> (Vec<bool>, Vec<f32>) {
    let mut engine = Engine::new(sr, 1);
    let params = EngineParams::default();
    engine.set_params(&params);
    let step = (sr / 1000.0) as usize;
    let mut bed = vec![0.0f32; step];
    let (d, g): (Vec<bool>, Vec<f32>) = key
        .chunks(step)
        .map(|k| {
            engine.process_block(&mut [&mut bed[..k.len()]], &[k]);
            let m = engine.meter();
            (m.speech_active, -20.0 * m.duck_gain.max(1e-6).log10())
        })
        .unzip();
    let lat = params.lookahead_ms as usize;
    (d, g[lat.min(g.len())..].to_vec())
}

fn mono(path: &Path) -> (Vec<f32>, f32) {
    let a = underscore_io::read_audio(path).expect("read");
    let n = a.frames();
    let c = a.channels.len() as f32;
    let m = (0..n)
        .map(|i| a.channels.iter().map(|ch| ch[i]).sum::<f32>() / c)
        .collect();
    (m, a.sample_rate as f32)
}

fn intervals(gt: &serde_like::Json) -> Vec<(f32, f32)> {
    gt.intervals()
}

/// A tiny reader for the ground truth's "speech_intervals" (no JSON crate in dsp).
mod serde_like {
    pub struct Json(pub String);
    impl Json {
        pub fn intervals(&self) -> Vec<(f32, f32)> {
            let s = &self.0;
            let start = s.find("\"speech_intervals\"").expect("speech_intervals");
            let body = &s[start..];
            let open = body.find('[').unwrap();
            let mut depth = 0;
            let mut end = open;
            for (i, c) in body[open..].char_indices() {
                match c {
                    '[' => depth += 1,
                    ']' => {
                        depth -= 1;
                        if depth == 0 {
                            end = open + i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let nums: Vec<f32> = body[open..end]
                .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
                .filter(|t| !t.is_empty())
                .map(|t| t.parse().unwrap())
                .collect();
            nums.chunks(2).map(|p| (p[0], p[1])).collect()
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let keys = std::path::PathBuf::from(args.next().expect("KEYS_DIR"));
    let material = std::path::PathBuf::from(args.next().expect("MATERIAL_DIR"));
    let mut names: Vec<_> = std::fs::read_dir(&keys)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    names.sort();
    let mut false_starts = 0;
    let mut delays = Vec::new();
    for path in names {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let (key, sr) = mono(&path);
        let (d, reduction) = decisions(&key, sr);
        if name.starts_with("ns_") {
            let starts: Vec<usize> = (1..d.len()).filter(|&i| d[i] && !d[i - 1]).collect();
            if !starts.is_empty() || d.first() == Some(&true) {
                false_starts += 1;
                println!(
                    "FALSE {name}: starts at {:?} ms",
                    &starts[..starts.len().min(5)]
                );
            }
            continue;
        }
        let scene = [
            "s1_drama_orchestral",
            "s2_pop_fast_speech",
            "s3_documentary_vo",
            "s5_breaths_false_trigger",
        ]
        .into_iter()
        .find(|s| name.starts_with(s));
        let gt_path = match scene {
            Some(s) if name.ends_with("overlap") => {
                keys.parent().unwrap().join(format!("{s}_overlap_gt.json"))
            }
            Some(s) => material.join(s).join("ground_truth.json"),
            None if name == "conversation" => keys.parent().unwrap().join("conversation_gt.json"),
            None => continue,
        };
        let gt = serde_like::Json(std::fs::read_to_string(&gt_path).expect("gt"));
        let iv = intervals(&gt);
        let mut row = Vec::new();
        let mut onsets = Vec::new();
        let mut flagged = 0;
        let mut total = 0;
        for &(s, e) in &iv {
            let a = (s * 1000.0) as usize;
            let b = ((e * 1000.0) as usize).min(d.len());
            total += b.saturating_sub(a);
            flagged += d[a.min(b)..b].iter().filter(|&&x| x).count();
            let first = (a.saturating_sub(50)..(a + 400).min(d.len())).find(|&i| d[i]);
            let delay = first.map_or(999, |i| i as i64 - a as i64);
            row.push(delay);
            delays.push(delay);
            let first = &reduction[a.min(reduction.len())..(a + 50).min(reduction.len())];
            let depth = -EngineParams::default().depth_db;
            onsets.push(
                (100.0 * first.iter().sum::<f32>() / first.len().max(1) as f32 / depth) as i32,
            );
        }
        println!(
            "{name:40} flagged {:.2}  delays ms {:?}  onset % {:?}",
            flagged as f32 / total.max(1) as f32,
            row,
            onsets
        );
    }
    delays.sort();
    let pct = |q: f32| delays[((delays.len() - 1) as f32 * q) as usize];
    println!(
        "false starts {false_starts}; phrase delays median {} p90 {} p95 {} max {} (n {}, >85: {})",
        pct(0.5),
        pct(0.9),
        pct(0.95),
        pct(1.0),
        delays.len(),
        delays.iter().filter(|&&d| d > 85).count()
    );
}
