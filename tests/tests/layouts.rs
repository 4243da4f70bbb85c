//! Underscore's surround and mono layouts through the CLAP `audio-ports-config` extension:
//! which layouts are offered, and that each one ducks the right channels by the right amount.
//!
//! `cargo test -p underscore-tests --test layouts -- --nocapture` prints every figure.
//! Build the bundle first: `cargo xtask bundle underscore --release`.

use std::ops::Range;
use underscore_tests::*;

const SR: f64 = 48_000.0;
const N: usize = 72_000; // 1.5 s
/// The key is on from 0.1 s; the duck is measured once settled, from 0.6 s to the end.
const KEY_ON: usize = 4_800;
const SETTLED: Range<usize> = 28_800..N;
/// 5.1 channel names (L R C LFE Ls Rs).
const NAMES_51: [&str; 6] = ["L", "R", "C", "LFE", "Ls", "Rs"];

/// The latency of [`BASELINE`]'s 100 ms Lookahead at 48 kHz.
const LATENCY: u32 = 4_800;

/// Every parameter that matters here, set explicitly (the documented defaults).
const BASELINE: [(&str, &str); 15] = [
    ("Depth", "-10 dB"),
    ("Threshold", "-60 dB"),
    ("Attack", "10 ms"),
    ("Hold", "150 ms"),
    ("Release", "500 ms"),
    ("Lookahead", "100 ms"),
    ("Mix", "100 %"),
    ("Output", "0 dB"),
    ("Bypass", "Off"),
    ("Stereo Mode", "Linked"),
    ("Side", "50 %"),
    ("Front", "60 %"),
    ("Centre", "100 %"),
    ("Surround", "30 %"),
    ("LFE", "0 %"),
];

fn load() -> ClapInstance {
    pin_library();
    ClapInstance::new(bundle_path(), None).unwrap_or_else(|e| {
        panic!("{e}\n(build the bundle with `cargo xtask bundle underscore --release`)")
    })
}

/// Selects the configuration with a `bed`-channel main input/output whose aux ("Dialogue")
/// input has `key` channels; checks the ports the plugin then declares.
fn select_layout(plugin: &mut ClapInstance, bed: u32, key: u32) {
    for c in plugin.audio_port_configs() {
        if c.input_channels != bed || c.output_channels != bed {
            continue;
        }
        plugin.select_audio_port_config(c.id).unwrap();
        let inputs = plugin.audio_ports(true);
        let outputs = plugin.audio_ports(false);
        if inputs.iter().any(|p| !p.is_main && p.channel_count == key) {
            let main = inputs.iter().find(|p| p.is_main).expect("main input");
            assert_eq!(main.channel_count, bed);
            assert_eq!(outputs.len(), 1);
            assert_eq!(outputs[0].channel_count, bed);
            return;
        }
    }
    panic!("no layout with a {bed}-channel bed and a {key}-channel key");
}

/// A fresh instance in layout `bed` + `key` with [`BASELINE`] overridden by `settings`, activated
/// at 48 kHz like a host would (honouring the restart nice-plug asks for after the first
/// activation). Returns the instance and its latency.
fn activated(bed: u32, key: u32, settings: &[(&str, &str)]) -> (ClapInstance, usize) {
    let mut plugin = load();
    select_layout(&mut plugin, bed, key);
    set(&mut plugin, settings);
    activate(&mut plugin);
    let lat = plugin.latency() as usize;
    (plugin, lat)
}

fn set(plugin: &mut ClapInstance, settings: &[(&str, &str)]) {
    let all = BASELINE
        .iter()
        .filter(|(n, _)| !settings.iter().any(|(m, _)| m == n))
        .chain(settings);
    let mut changes = Vec::new();
    for &(name, text) in all {
        let id = plugin.require_param(name).unwrap().id;
        let v = plugin
            .text_to_value(id, text)
            .unwrap_or_else(|| panic!("{name} refused {text:?}"));
        changes.push((id, v));
    }
    plugin.set_params_inactive(&changes).unwrap();
}

fn activate(plugin: &mut ClapInstance) {
    plugin.activate(SR, 1, 512).unwrap();
    if plugin.restart_requested() {
        plugin.restart().unwrap();
    }
    assert_eq!(plugin.latency(), LATENCY, "100 ms lookahead at 48 kHz");
}

fn energy(x: &[f32]) -> f64 {
    x.iter().map(|&s| f64::from(s) * f64::from(s)).sum()
}

/// Gain in dB of `out[range]` against `inp` delayed by `lat`.
fn gain_db(out: &[f32], inp: &[f32], lat: usize, range: Range<usize>) -> f64 {
    let e_in = energy(&inp[range.start - lat..range.end - lat]);
    10.0 * (energy(&out[range]) / e_in).log10()
}

/// A different signal on each of `channels` bed channels.
fn bed(channels: usize) -> Vec<Vec<f32>> {
    (0..channels)
        .map(|c| noise(0.3, N, 100 + c as u64))
        .collect()
}

/// A voice on the key channels in `voiced` (continuous speech from the bundled demo dialogue,
/// from [`KEY_ON`]: the voice detector must hear speech, a tone would not duck), silence on
/// the others.
fn key(channels: usize, voiced: &[usize]) -> Vec<Vec<f32>> {
    let voice = speech_on(SR, N, KEY_ON..N);
    (0..channels)
        .map(|c| {
            if voiced.contains(&c) {
                voice.clone()
            } else {
                silence(N)
            }
        })
        .collect()
}

/// Settled gain per bed channel, in dB.
fn settled(out: &[Vec<f32>], bed: &[Vec<f32>], lat: usize) -> Vec<f64> {
    assert!(all_finite(out));
    out.iter()
        .zip(bed)
        .map(|(o, b)| gain_db(o, b, lat, SETTLED))
        .collect()
}

fn fmt_gains(gains: &[f64], names: &[&str]) -> String {
    gains
        .iter()
        .zip(names)
        .map(|(g, n)| format!("{n} {g:+.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// 5.1 shares of a -10 dB duck: L R -6, C -10, LFE 0, Ls Rs -3 dB.
const EXPECTED_51: [f64; 6] = [-6.0, -6.0, -10.0, 0.0, -3.0, -3.0];

fn check_51(gains: &[f64], expected: &[f64; 6], label: &str) {
    println!("{label}: {} dB", fmt_gains(gains, &NAMES_51));
    for ((g, e), n) in gains.iter().zip(expected).zip(NAMES_51) {
        assert!(
            (g - e).abs() <= 0.3,
            "{label}: {n} {g:+.3} dB, expected {e} dB"
        );
    }
}

#[test]
fn the_seven_layouts_are_offered_and_selectable_only_while_inactive() {
    let mut plugin = load();
    assert!(plugin.has_audio_ports_config_extension());
    let configs = plugin.audio_port_configs();
    let mut found = Vec::new();
    for c in &configs {
        plugin.select_audio_port_config(c.id).unwrap();
        let inputs = plugin.audio_ports(true);
        let key: Vec<&PortInfo> = inputs.iter().filter(|p| !p.is_main).collect();
        println!(
            "config {} {:?}: main in {} ({:?}), main out {} ({:?}), {} in / {} out ports; \
             aux inputs {:?}",
            c.id,
            c.name,
            c.input_channels,
            c.input_port_type,
            c.output_channels,
            c.output_port_type,
            c.input_port_count,
            c.output_port_count,
            key.iter()
                .map(|p| (p.name.as_str(), p.channel_count))
                .collect::<Vec<_>>()
        );
        assert_eq!(c.input_channels, c.output_channels);
        assert_eq!((c.input_port_count, c.output_port_count), (2, 1));
        assert_eq!(key.len(), 1);
        assert_eq!(key[0].name, "Dialogue");
        assert_eq!(plugin.selected_audio_port_config(), Some(c.id));
        found.push((c.input_channels, key[0].channel_count));
    }
    let expected = [(2, 2), (2, 1), (1, 1), (1, 2), (6, 1), (6, 2), (6, 6)];
    assert_eq!(
        found, expected,
        "(bed, key) channels of the offered layouts"
    );

    let unknown = plugin.select_audio_port_config(99);
    println!("select(99): {unknown:?}");
    assert!(matches!(unknown, Err(HostError::InvalidInput(_))));

    // Active: refused by the harness, the layout stays.
    select_layout(&mut plugin, 6, 6);
    plugin.activate(SR, 1, 512).unwrap();
    let active = plugin.select_audio_port_config(0);
    println!("select(0) while active: {active:?}");
    assert_eq!(active, Err(HostError::AlreadyActive));
    let outputs = plugin.output_ports_active().unwrap();
    assert_eq!(outputs[0].channel_count, 6);
    let out = plugin.process(&bed(6)[..], &[], &[]);
    assert!(out.is_err(), "a 72000-frame block is more than max_frames");
    let out = plugin
        .process(&slice_frames(&bed(6), 0, 512), &[], &[])
        .unwrap();
    assert_eq!(out.len(), 6, "six output channels");
    let wrong = plugin.process(&slice_frames(&bed(2), 0, 512), &[], &[]);
    println!("stereo signal into the 5.1 layout: {wrong:?}");
    assert!(matches!(wrong, Err(HostError::InvalidInput(_))));
}

#[test]
fn mono_bed_mono_key_ducks_to_depth_and_passes_bit_exact_without_key() {
    let (mut plugin, lat) = activated(1, 1, &[]);
    let (ports, _, _) = plugin.input_routing().unwrap();
    println!("mono layout, latency {lat}: inputs {ports:?}");

    let b = bed(1);
    let out = plugin.render(&b, &[], 512usize, &[]).unwrap();
    assert_eq!(out.len(), 1);
    let head = out[0][..lat].iter().fold(0.0f32, |m, &x| m.max(x.abs()));
    let mismatches = (lat..N).filter(|&t| out[0][t] != b[0][t - lat]).count();
    println!(
        "silent key: first {lat} samples peak {head:e}; samples != input delayed by {lat}: \
         {mismatches} of {}",
        N - lat
    );
    assert_eq!(head, 0.0);
    assert_eq!(mismatches, 0, "not bit-exact");

    plugin.restart().unwrap();
    let out = plugin.render(&b, &key(1, &[0]), 512usize, &[]).unwrap();
    let g = settled(&out, &b, lat)[0];
    println!("mono key (speech, about -25 dBFS RMS): settled {g:+.3} dB (Depth -10 dB)");
    assert!((g + 10.0).abs() <= 0.5, "{g}");
}

#[test]
fn surround_bed_surround_key_ducks_by_the_shares_and_reads_the_key_centre() {
    let (mut plugin, lat) = activated(6, 6, &[]);
    let b = bed(6);
    let out = plugin.render(&b, &key(6, &[2]), 512usize, &[]).unwrap();
    check_51(
        &settled(&out, &b, lat),
        &EXPECTED_51,
        "5.1 bed, voice on key C",
    );

    plugin.restart().unwrap();
    let out = plugin.render(&b, &key(6, &[0]), 512usize, &[]).unwrap();
    let gains = settled(&out, &b, lat);
    println!(
        "5.1 bed, voice on key L only: {} dB",
        fmt_gains(&gains, &NAMES_51)
    );
    for (g, n) in gains.iter().zip(NAMES_51) {
        assert!(
            g.abs() < 0.5,
            "{n} ducked by {g} dB: the key is not read from C"
        );
    }
}

#[test]
fn surround_bed_with_stereo_or_mono_key_ducks_by_the_shares() {
    for key_ch in [2usize, 1] {
        let (mut plugin, lat) = activated(6, key_ch as u32, &[]);
        let b = bed(6);
        let voiced: Vec<usize> = (0..key_ch).collect();
        let out = plugin
            .render(&b, &key(key_ch, &voiced), 512usize, &[])
            .unwrap();
        check_51(
            &settled(&out, &b, lat),
            &EXPECTED_51,
            &format!("5.1 bed, {key_ch}-channel key"),
        );
    }
}

#[test]
fn stereo_bed_mid_side_ducks_centre_by_depth_and_side_by_its_share() {
    let tone = sine(200.0, 0.5, SR, N);
    let neg: Vec<f32> = tone.iter().map(|&x| -x).collect();
    let centred = vec![tone.clone(), tone.clone()];
    let side = vec![tone.clone(), neg];
    for (mode, want_centre, want_side) in [("Mid/Side", -10.0, -5.0), ("Linked", -10.0, -10.0)] {
        let (mut plugin, lat) = activated(2, 2, &[("Stereo Mode", mode), ("Side", "50 %")]);
        let k = key(2, &[0, 1]);
        let mut results = Vec::new();
        for (label, b, want) in [
            ("centred (L=R)", &centred, want_centre),
            ("side-only (L=-R)", &side, want_side),
        ] {
            let out = plugin.render(b, &k, 512usize, &[]).unwrap();
            let g = settled(&out, b, lat);
            println!(
                "{mode}, Side 50 %, {label} bed: L {:+.3} dB, R {:+.3} dB (expected {want})",
                g[0], g[1]
            );
            results.push((label, g, want));
            plugin.restart().unwrap();
        }
        for (label, g, want) in results {
            for (ch, g) in g.iter().enumerate() {
                assert!((g - want).abs() <= 0.5, "{mode} {label} ch{ch}: {g}");
            }
        }
    }
}

#[test]
fn state_round_trip_keeps_the_selected_layout_working() {
    let settings = [("Depth", "-16 dB"), ("Surround", "50 %")];
    let mut source = load();
    select_layout(&mut source, 6, 6);
    set(&mut source, &settings);
    let state = source.save_state().unwrap();
    drop(source);

    // A host restores the layout it saved itself, then the plugin state.
    let mut plugin = load();
    select_layout(&mut plugin, 6, 6);
    plugin.load_state(&state).unwrap();
    let inputs = plugin.audio_ports(true);
    let outputs = plugin.audio_ports(false);
    let chans = |p: &[PortInfo]| p.iter().map(|p| p.channel_count).collect::<Vec<_>>();
    println!(
        "after load_state ({} bytes): inputs {:?}, outputs {:?}",
        state.len(),
        chans(&inputs),
        chans(&outputs)
    );
    assert_eq!(chans(&inputs), [6, 6]);
    assert_eq!(chans(&outputs), [6]);
    activate(&mut plugin);
    let lat = plugin.latency() as usize;
    let b = bed(6);
    let out = plugin.render(&b, &key(6, &[2]), 512usize, &[]).unwrap();
    // -16 dB: L R 60 % -> -9.6, C -16, LFE 0, Ls Rs 50 % -> -8.
    check_51(
        &settled(&out, &b, lat),
        &[-9.6, -9.6, -16.0, 0.0, -8.0, -8.0],
        "5.1 after state round trip (Depth -16, Surround 50 %)",
    );

    // The layout is not part of the plugin state: a fresh instance stays in its default.
    let mut fresh = load();
    fresh.load_state(&state).unwrap();
    let inputs = fresh.audio_ports(true);
    println!(
        "fresh instance after load_state, no layout selected: inputs {:?}",
        chans(&inputs)
    );
}
