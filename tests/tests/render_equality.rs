//! The offline renderer (`underscore render`, crate `underscore-render`) and the plugin hosted
//! through the CLAP ABI give the same samples at the same settings and automation.
//!
//! The plugin's output is late by its reported latency; the renderer's is aligned with the
//! input. So the plugin gets the signals followed by `latency` samples of silence (what the
//! renderer feeds to flush its tail) and renderer sample `n` is compared with plugin sample
//! `n + latency`. The comparison is exact: the largest absolute difference must be 0.
//!
//! Both go through files the way users use them: the renderer reads float WAVs and a CSV
//! automation file (times in seconds that round to the event samples), the plugin gets the
//! same events as CLAP parameter events at those samples, in host blocks of irregular sizes.

use underscore_dsp::settings::{self, Kind};
use underscore_tests::*;

const SR: u32 = 48_000;

/// Dialogue the voice detector hears as speech (the bundled demo dialogue's continuous
/// stretch, looped) in phrases of 0.7 s with 0.45 s gaps, so the bed is ducked and released
/// again and again; stereo.
fn dialogue(n: usize) -> Vec<Vec<f32>> {
    let v: Vec<f32> = speech(SR as f64, n)
        .into_iter()
        .enumerate()
        .map(|(i, x)| if (i % 55_200) < 33_600 { x } else { 0.0 })
        .collect();
    let noise = noise(0.001, n, 7);
    vec![
        v.clone(),
        v.iter().zip(&noise).map(|(a, b)| a + b).collect(),
    ]
}

/// A music-like bed: tones across the speech band plus noise, different per side.
fn bed(n: usize) -> Vec<Vec<f32>> {
    let sr = SR as f64;
    let mix = |parts: &[Vec<f32>]| -> Vec<f32> {
        (0..n).map(|i| parts.iter().map(|p| p[i]).sum()).collect()
    };
    vec![
        mix(&[
            sine(220.0, 0.2, sr, n),
            sine(1_250.0, 0.1, sr, n),
            noise(0.05, n, 1),
        ]),
        mix(&[
            sine(330.0, 0.2, sr, n),
            sine(2_500.0, 0.08, sr, n),
            noise(0.05, n, 2),
        ]),
    ]
}

/// The CLAP value (normalised 0..1, what nice-plug exposes) of `value` (user units) for the
/// setting `id`, on its linear range from the parameter table; the plugin maps it back to
/// exactly `value` (checked), so both sides use the same number.
fn linear(id: &str, value: f32) -> f64 {
    let (min, max) = match settings::find(id).expect("known id").kind {
        Kind::Number { min, max, .. } => (min, max),
        Kind::Choice { ids, .. } => (0.0, (ids.len() - 1) as f32),
        Kind::Switch { .. } => (0.0, 1.0),
    };
    let n = (value - min) / (max - min);
    assert_eq!(
        n * (max - min) + min,
        value,
        "{value} does not round-trip on {min}..{max}"
    );
    n as f64
}

/// The CLAP (display) name of setting `id`.
fn name(id: &str) -> &'static str {
    settings::find(id).expect("known id").name
}

/// An automation change: sample, parameter id, value in user units.
struct Change {
    sample: u32,
    id: &'static str,
    value: f32,
}

fn changes() -> Vec<Change> {
    let c = |sample, id, value| Change { sample, id, value };
    vec![
        c(0, "clarity", 22.5),
        c(60_000, "depth", -20.0),
        c(100_001, "mix", 50.0),
        c(100_001, "threshold", -50.0),
        c(150_007, "output", -12.0),
        c(170_003, "depth", -5.0),
        c(190_000, "bypass", 1.0),
        c(200_500, "bypass", 0.0),
    ]
}

/// Renders through the CLAP plugin; returns (output, latency).
fn plugin_render(
    mode_spectral: bool,
    bed: &[Vec<f32>],
    key: &[Vec<f32>],
) -> (Vec<Vec<f32>>, usize) {
    pin_library();
    let mut plugin = ClapInstance::new(bundle_path(), None).unwrap_or_else(|e| {
        panic!("{e}\n(build the bundle with `cargo xtask bundle underscore --release`)")
    });
    let mut id = |name: &str| plugin.require_param(name).unwrap().id;
    let (mode, depth, threshold) = (id("Mode"), id("Depth"), id("Threshold"));
    plugin
        .set_params_inactive(&[
            (mode, if mode_spectral { 1.0 } else { 0.0 }),
            (depth, linear("depth", -15.0)),
            (threshold, linear("threshold", -40.0)),
        ])
        .unwrap();
    plugin.activate(SR as f64, 1, 1_024).unwrap();
    if plugin.restart_requested() {
        plugin.restart().unwrap();
    }
    let latency = plugin.latency() as usize;
    let events: Vec<ParamEvent> = changes()
        .iter()
        .map(|c| {
            let pid = plugin.require_param(name(c.id)).unwrap().id;
            ParamEvent::new(c.sample, pid, linear(c.id, c.value))
        })
        .collect();
    let pad = |x: &[Vec<f32>]| with_silence(x, latency);
    // Irregular host blocks: the result must not depend on them.
    let sizes = [512usize, 100, 1_024, 7, 333];
    let mut k = 0;
    let blocks = move || {
        k += 1;
        sizes[k % sizes.len()]
    };
    let out = plugin
        .render(&pad(bed), &pad(key), blocks, &events)
        .unwrap();
    (out, latency)
}

/// Renders through the renderer's command-line entry point, from files.
fn cli_render(
    mode_spectral: bool,
    bed: &[Vec<f32>],
    key: &[Vec<f32>],
    tag: &str,
) -> (Vec<Vec<f32>>, usize) {
    let dir =
        std::env::temp_dir().join(format!("underscore-equality-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (dx, mx, out, auto) = (
        dir.join("dx.wav"),
        dir.join("mx.wav"),
        dir.join("out.wav"),
        dir.join("automation.csv"),
    );
    audio_io::write_wav(&dx, SR, key).unwrap();
    audio_io::write_wav(&mx, SR, bed).unwrap();
    let mut csv = String::from("time_s,param,value\n");
    for c in changes() {
        // Values with their unit, as the renderer's parser asks for times and shares.
        let value = settings::find(c.id).expect("known id").format(c.value);
        csv += &format!("{:.9},{},{value}\n", c.sample as f64 / SR as f64, c.id);
    }
    std::fs::write(&auto, csv).unwrap();
    let mut args = underscore_render::RenderArgs::new(&dx, &mx, &out);
    args.set = vec![
        format!(
            "mode={}",
            if mode_spectral {
                "spectral"
            } else {
                "broadband"
            }
        ),
        "depth=-15".into(),
        "threshold=-40".into(),
    ];
    args.automation = Some(auto);
    args.block = 256;
    let report = underscore_render::run_render(&args).unwrap();
    let got = audio_io::read_audio(&out).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (got.channels, report.summary.latency_samples)
}

fn assert_equal(mode_spectral: bool) {
    let n = 5 * SR as usize + 123;
    let (bed, key) = (bed(n), dialogue(n));
    let tag = if mode_spectral {
        "spectral"
    } else {
        "broadband"
    };
    let (plugin, latency) = plugin_render(mode_spectral, &bed, &key);
    let (cli, cli_latency) = cli_render(mode_spectral, &bed, &key, tag);
    assert_eq!(latency, cli_latency, "latency");
    assert_eq!(cli.len(), 2);
    assert_eq!(cli[0].len(), n, "the render is as long as the input");
    let mut max_diff = 0.0f32;
    let mut first = None;
    for (c, p) in cli.iter().zip(&plugin) {
        for (i, (a, b)) in c.iter().zip(&p[latency..]).enumerate() {
            let d = (a - b).abs();
            if d > 0.0 && first.is_none() {
                first = Some(i);
            }
            max_diff = max_diff.max(d);
        }
    }
    // The comparison is not between two untouched beds: the first phrase ducks the bed, to
    // Depth (-15 dB) in Broadband mode, in the bands the voice needs in Spectral mode.
    let ducked = rms_db(&cli[0][14_400..31_200]) - rms_db(&bed[0][14_400..31_200]);
    println!(
        "{tag}: latency {latency} samples, max |renderer - plugin| = {max_diff} over {n} x 2 \
         samples; duck at 0.3-0.65 s {ducked:.2} dB"
    );
    assert_eq!(max_diff, 0.0, "first difference at sample {first:?}");
    if mode_spectral {
        assert!(ducked < -6.0, "{ducked} dB");
    } else {
        assert!((ducked + 15.0).abs() < 0.5, "{ducked} dB");
    }
}

#[test]
fn renderer_equals_plugin_broadband() {
    assert_equal(false);
}

#[test]
fn renderer_equals_plugin_spectral() {
    assert_equal(true);
}
