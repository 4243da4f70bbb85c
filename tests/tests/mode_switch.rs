//! Switching Broadband -> Spectral while playing, through the CLAP ABI as a host does it: the
//! Mode change arrives as a parameter event, the plugin asks for a restart (its latency grows by
//! one FFT window), the host restarts it and goes on playing. The audio the host hears after
//! the restart has no gap: the engine, with the bed already heard, is kept across the restart
//! (issue 13: it used to output 1024 zero samples).

use underscore_tests::*;

const SR: f64 = 48_000.0;
const BLOCK: usize = 512;

fn bed_block(start: usize) -> Vec<Vec<f32>> {
    let ch: Vec<f32> = (start..start + BLOCK)
        .map(|i| (0.5 * (2.0 * std::f64::consts::PI * 200.0 * i as f64 / SR).sin()) as f32)
        .collect();
    vec![ch.clone(), ch]
}

#[test]
fn broadband_to_spectral_while_playing_leaves_no_gap() {
    pin_library();
    let mut plugin = ClapInstance::new(bundle_path(), None).expect("load the bundle");
    plugin.activate(SR, 1, BLOCK as u32).unwrap();
    if plugin.restart_requested() {
        plugin.restart().unwrap();
    }
    let broadband_latency = plugin.latency() as usize;
    let mode = plugin.require_param("Mode").unwrap().id;
    let spectral = plugin
        .text_to_value(mode, "Spectral")
        .expect("Mode takes Spectral");
    let silent_key = vec![vec![0.0f32; BLOCK]; 2];
    let mut out: Vec<f32> = Vec::new();
    let mut restarted_at = None;
    for b in 0..120 {
        let events = if b == 40 {
            vec![ParamEvent::new(0, mode, spectral)]
        } else {
            Vec::new()
        };
        let o = plugin
            .process(&bed_block(b * BLOCK), &silent_key, &events)
            .unwrap();
        out.extend_from_slice(&o[0]);
        if plugin.restart_requested() && restarted_at.is_none() {
            // The host restarts the plugin between two blocks and plays on.
            plugin.restart().unwrap();
            restarted_at = Some(out.len());
        }
    }
    let restarted_at = restarted_at.expect("the Mode change asked for a restart");
    let spectral_latency = plugin.latency() as usize;
    println!(
        "latency {broadband_latency} -> {spectral_latency} samples; restart after sample \
         {restarted_at}"
    );
    assert!(spectral_latency > broadband_latency);
    // Every 5 ms window after the first latency is at the bed's level (-9.0 dB RMS): a gap
    // reads -150 dB. (The window that holds the splice, where one FFT window of the bed is
    // heard again, reads about 1 dB off: the tone's phase jumps there.)
    let bed_db = 20.0 * (0.5f64 / 2f64.sqrt()).log10();
    let mut lowest = f64::MAX;
    for w in out[broadband_latency + 1_000..].chunks(240) {
        let rms = (w.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / w.len() as f64).sqrt();
        lowest = lowest.min(20.0 * rms.max(1e-12).log10() - bed_db);
    }
    println!("lowest 5 ms window after the switch: {lowest:+.2} dB against the bed");
    assert!(lowest > -3.0, "a gap or dip: {lowest:.1} dB");
}
