use underscore_dsp::detector::KeyAnalyser;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let upto: f32 = std::env::args().nth(2).map_or(0.3, |s| s.parse().unwrap());
    let a = underscore_io::read_audio(std::path::Path::new(&path)).unwrap();
    let key = &a.channels[0];
    let sr = a.sample_rate as f32;
    let mut k = KeyAnalyser::new(sr, 48);
    for (i, c) in key.chunks(48).enumerate() {
        let t = k.process_tick(&[c], 0, c.len());
        if let Some(f) = t.frame {
            if (i as f32) / 1000.0 < upto {
                println!(
                    "{:5} ms p {:.2} steady {:?} level {:.1}",
                    i + 1,
                    f.probability,
                    f.steadiness,
                    t.level_db()
                );
            }
        }
    }
}
