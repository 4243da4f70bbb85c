//! Underscore seen through the CLAP ABI, exactly as a host sees it: descriptor, ports,
//! parameters, latency, ducking, state, robustness, bypass and sample-accurate automation.
//!
//! Every test loads the built bundle (`underscore_tests::bundle_path()`, i.e.
//! `target/bundled/Underscore.clap` unless `$UNDERSCORE_CLAP` is set) and prints what it
//! measures, so `cargo test -p underscore-tests --test underscore_abi -- --nocapture` doubles
//! as a measurement report.

use std::ops::Range;
use underscore_tests::*;

const SR: f64 = 48_000.0;
/// The engine's control tick at 48 kHz (1 ms).
const TICK_48K: usize = 48;
/// Lookahead of [`BASELINE`], ms: the behavioural tests' latency is `latency_for(this, sr)`.
const BASELINE_LOOKAHEAD_MS: f64 = 100.0;
/// Bed tone: 200 Hz has a whole number of periods (240 samples) per 5 ms at 48 kHz.
const BED_HZ: f64 = 200.0;
const BED_AMP: f64 = 0.5;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The nine parameters, looked up by display name.
struct Params {
    depth: ParamInfo,
    threshold: ParamInfo,
    attack: ParamInfo,
    hold: ParamInfo,
    release: ParamInfo,
    lookahead: ParamInfo,
    mix: ParamInfo,
    output: ParamInfo,
    bypass: ParamInfo,
}

impl Params {
    fn of(plugin: &mut ClapInstance) -> Self {
        let mut p = |name: &str| {
            plugin
                .require_param(name)
                .unwrap_or_else(|e| panic!("parameter {name}: {e}"))
        };
        Self {
            depth: p("Depth"),
            threshold: p("Threshold"),
            attack: p("Attack"),
            hold: p("Hold"),
            release: p("Release"),
            lookahead: p("Lookahead"),
            mix: p("Mix"),
            output: p("Output"),
            bypass: p("Bypass"),
        }
    }

    fn all(&self) -> [&ParamInfo; 9] {
        [
            &self.depth,
            &self.threshold,
            &self.attack,
            &self.hold,
            &self.release,
            &self.lookahead,
            &self.mix,
            &self.output,
            &self.bypass,
        ]
    }
}

fn load() -> ClapInstance {
    pin_library();
    ClapInstance::new(bundle_path(), None).unwrap_or_else(|e| {
        panic!("{e}\n(build the bundle with `cargo xtask bundle underscore --release`)")
    })
}

/// The CLAP value of parameter `name` for the display text `text` (e.g. `"-25 dB"`), asked of
/// the plugin through `params.text_to_value`, as a host does when the user types a value.
///
/// nice-plug exposes *normalized* values (0..1) through CLAP, not plain dB/ms values, so plain
/// numbers must not be sent directly; converting through the plugin's own parser keeps these
/// tests independent of that choice.
fn clap_value(plugin: &mut ClapInstance, name: &str, text: &str) -> (u32, f64) {
    let id = plugin
        .require_param(name)
        .unwrap_or_else(|e| panic!("parameter {name}: {e}"))
        .id;
    let v = plugin
        .text_to_value(id, text)
        .unwrap_or_else(|| panic!("{name} refused the text {text:?}"));
    (id, v)
}

/// The display text of parameter `id`'s current value.
fn shown(plugin: &mut ClapInstance, id: u32) -> String {
    let v = plugin.param_value(id).unwrap();
    plugin.value_to_text(id, v).unwrap()
}

/// The documented defaults, which the behavioural tests set explicitly so that they test
/// behaviour, not the current choice of defaults (`parameters_ranges_defaults_and_text` checks
/// those). Threshold is a floor under which the key never counts as speech (the voice detector
/// decides above it); the demo dialogue the tests use as the key is 35 dB above it.
const BASELINE: [(&str, &str); 9] = [
    ("Depth", "-10 dB"),
    ("Threshold", "-60 dB"),
    ("Attack", "10 ms"),
    ("Hold", "150 ms"),
    ("Release", "500 ms"),
    ("Lookahead", "100 ms"),
    ("Mix", "100 %"),
    ("Output", "0 dB"),
    ("Bypass", "Off"),
];

/// A fresh instance with [`BASELINE`] overridden by `settings` (name, display text) flushed
/// before activation at `sr`. Returns the instance, its parameters and the reported latency.
fn activated(sr: f64, max_block: u32, settings: &[(&str, &str)]) -> (ClapInstance, Params, usize) {
    let mut plugin = load();
    let params = Params::of(&mut plugin);
    let settings: Vec<(&str, &str)> = BASELINE
        .iter()
        .filter(|(name, _)| !settings.iter().any(|(n, _)| n == name))
        .chain(settings)
        .copied()
        .collect();
    let changes: Vec<(u32, f64)> = settings
        .iter()
        .map(|&(name, text)| clap_value(&mut plugin, name, text))
        .collect();
    plugin.set_params_inactive(&changes).unwrap();
    for (&(name, text), &(id, v)) in settings.iter().zip(&changes) {
        let want = plugin.value_to_text(id, v).unwrap();
        assert_eq!(
            shown(&mut plugin, id),
            want,
            "{name} after setting {text:?}"
        );
    }
    activate_like_a_host(&mut plugin, sr, max_block);
    let lat = plugin.latency() as usize;
    (plugin, params, lat)
}

/// Activates, then honours a restart request the way a host does. Returns whether the plugin
/// asked for one: nice-plug's CLAP wrapper treats the latency reported from `activate()` as a
/// change made while active and requests a restart right after the first activation whenever
/// the latency is not 0.
fn activate_like_a_host(plugin: &mut ClapInstance, sr: f64, max_block: u32) -> bool {
    plugin.activate(sr, 1, max_block).unwrap();
    let requested = plugin.restart_requested();
    if requested {
        let lat = plugin.latency();
        plugin.restart().unwrap();
        assert_eq!(plugin.latency(), lat, "latency changed by the restart");
        assert!(!plugin.restart_requested(), "restart requested again");
    }
    requested
}

/// `round(ms * sr / 1000)`: the latency the plugin must report for a lookahead.
fn latency_for(ms: f64, sr: f64) -> u32 {
    (ms * sr / 1000.0).round() as u32
}

fn energy(x: &[f32]) -> f64 {
    x.iter().map(|&s| f64::from(s) * f64::from(s)).sum()
}

/// Gain in dB of `out[range]` against the input `inp` delayed by `lat` (ratio of energies,
/// exact for any constant gain).
fn gain_db(out: &[f32], inp: &[f32], lat: usize, range: Range<usize>) -> f64 {
    let e_out = energy(&out[range.clone()]);
    let e_in = energy(&inp[range.start - lat..range.end - lat]);
    10.0 * (e_out / e_in).log10()
}

/// Gain in dB per window of `win` samples, window `i` covering `lat + i*win ..`.
fn gain_curve(out: &[f32], inp: &[f32], lat: usize, win: usize) -> Vec<f64> {
    (0..(out.len() - lat) / win)
        .map(|i| {
            let s = lat + i * win;
            gain_db(out, inp, lat, s..s + win)
        })
        .collect()
}

/// Largest sample-to-sample step of a channel.
fn max_step(x: &[f32]) -> f64 {
    x.windows(2)
        .map(|w| f64::from((w[1] - w[0]).abs()))
        .fold(0.0, f64::max)
}

/// Largest |out[t] - inp[t - lat]| over `range`.
fn max_diff_delayed(out: &[f32], inp: &[f32], lat: usize, range: Range<usize>) -> f64 {
    range
        .map(|t| f64::from((out[t] - inp[t - lat]).abs()))
        .fold(0.0, f64::max)
}

/// A line of real speech on `on` (sample range: it starts at `on.start` and is cut off at
/// `on.end`) and silence elsewhere, `n` samples at `sr`, stereo. The voice detector decides
/// whether the key is speech: a tone or a buzz on the key is not (see
/// `tones_and_buzz_on_the_key_do_not_duck`), so every test that needs a duck keys it with the
/// bundled demo dialogue ([`speech_on`]: its continuous 3.0-6.4 s stretch, about -25 dBFS).
fn gated_key(n: usize, sr: f64, on: Range<usize>) -> Vec<Vec<f32>> {
    stereo(&speech_on(sr, n, on))
}

/// Feeds a unit impulse at sample `k` (both channels) with the key `key` (empty = silence) and
/// checks it comes out at exactly `k + lat` with amplitude 1.0 +/- 1e-6 and nothing else.
fn check_impulse(plugin: &mut ClapInstance, lat: usize, key: &[Vec<f32>], label: &str) {
    let k = 1_000;
    let n = key.first().map_or(k + lat + 2_000, Vec::len);
    let mut imp = vec![0.0f32; n];
    imp[k] = 1.0;
    let out = plugin.render(&stereo(&imp), key, 512usize, &[]).unwrap();
    for (ch, o) in out.iter().enumerate() {
        let (pos, peak) = o.iter().enumerate().fold((0, 0.0f32), |(bp, bv), (i, &v)| {
            if v.abs() > bv.abs() { (i, v) } else { (bp, bv) }
        });
        let rest = o
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != pos)
            .map(|(_, v)| v.abs())
            .fold(0.0f32, f32::max);
        println!(
            "{label}: impulse at {k} -> ch{ch} peak {peak:.7} at {pos} (expected {}), \
             largest other sample {rest:e}",
            k + lat
        );
        assert_eq!(pos, k + lat, "{label}: ch{ch} impulse position");
        assert!(
            (peak - 1.0).abs() <= 1e-6,
            "{label}: ch{ch} amplitude {peak}"
        );
        assert!(rest <= 1e-6, "{label}: ch{ch} stray output {rest}");
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Descriptor and ports
// ---------------------------------------------------------------------------------------------

#[test]
fn descriptor_and_ports() {
    pin_library();
    let listed = list_plugins(bundle_path()).unwrap();
    println!("factory: {listed:?}");
    assert_eq!(listed.len(), 1, "one plugin in the factory");

    let mut plugin = load();
    let d = plugin.descriptor().clone();
    println!("descriptor: {d:?}");
    assert_eq!(d.id, "audio.underscore.ducker");
    assert_eq!(d.name, "Underscore");
    for f in ["audio-effect", "stereo", "mono"] {
        assert!(d.features.iter().any(|x| x == f), "feature {f} missing");
    }

    let inputs = plugin.audio_ports(true);
    let outputs = plugin.audio_ports(false);
    println!("inputs:  {inputs:?}\noutputs: {outputs:?}");
    assert_eq!(inputs.len(), 2, "main bed input + Dialogue sidechain");
    let mains: Vec<&PortInfo> = inputs.iter().filter(|p| p.is_main).collect();
    assert_eq!(mains.len(), 1, "exactly one main input");
    assert_eq!(mains[0].name, "Bed");
    assert_eq!(mains[0].channel_count, 2);
    let aux: Vec<&PortInfo> = inputs.iter().filter(|p| !p.is_main).collect();
    assert_eq!(aux.len(), 1, "exactly one non-main input");
    assert_eq!(aux[0].name, "Dialogue");
    assert_eq!(aux[0].channel_count, 2);
    assert!(!aux[0].is_main);
    assert_ne!(mains[0].id, aux[0].id, "port ids are distinct");

    assert_eq!(outputs.len(), 1, "one output");
    assert!(outputs[0].is_main);
    assert_eq!(outputs[0].channel_count, 2);

    // The harness routes main_in to "Bed" and aux_in to "Dialogue".
    plugin.activate(SR, 1, 512).unwrap();
    let (ports, main_idx, aux_idx) = plugin.input_routing().unwrap();
    assert_eq!(ports[main_idx.unwrap()].name, "Bed");
    assert_eq!(ports[aux_idx.unwrap()].name, "Dialogue");
}

// ---------------------------------------------------------------------------------------------
// 2. Parameters
// ---------------------------------------------------------------------------------------------

#[test]
fn parameters_ranges_defaults_and_text() {
    let mut plugin = load();
    let all = plugin.params();
    for p in &all {
        println!(
            "param {:>10} id {:>10} CLAP range {} .. {} default {:.6} flags {:#x}",
            p.name, p.id, p.min, p.max, p.default, p.flags
        );
    }
    assert!(all.len() >= 9, "at least the nine documented parameters");
    let p = Params::of(&mut plugin);
    let ids: std::collections::HashSet<u32> = p.all().iter().map(|q| q.id).collect();
    assert_eq!(ids.len(), 9, "distinct ids");

    // Ranges and defaults as a host shows them: the texts of the CLAP min, max and default.
    // (nice-plug's CLAP values are normalized 0..1, so the plain range is only visible as text.)
    let expect = [
        (&p.depth, "-40.0 dB", "0.0 dB", "-10.0 dB"),
        (&p.threshold, "-80.0 dB", "0.0 dB", "-60.0 dB"),
        (&p.attack, "0 ms", "500 ms", "10 ms"),
        (&p.hold, "0 ms", "2000 ms", "150 ms"),
        (&p.release, "1 ms", "5000 ms", "500 ms"),
        (&p.lookahead, "0 ms", "100 ms", "100 ms"),
        (&p.mix, "0 %", "100 %", "100 %"),
        (&p.output, "-24.0 dB", "24.0 dB", "0.0 dB"),
    ];
    let mut wrong = Vec::new();
    for (info, min, max, default) in expect {
        let t_min = plugin.value_to_text(info.id, info.min).unwrap();
        let t_max = plugin.value_to_text(info.id, info.max).unwrap();
        let t_def = plugin.value_to_text(info.id, info.default).unwrap();
        let t_now = shown(&mut plugin, info.id);
        println!(
            "{:>10}: min {t_min:?} max {t_max:?} default {t_def:?} current {t_now:?}",
            info.name
        );
        if (t_min.as_str(), t_max.as_str(), t_def.as_str()) != (min, max, default) {
            wrong.push(format!(
                "{}: {t_min} .. {t_max}, default {t_def} (documented: {min} .. {max}, default \
                 {default})",
                info.name
            ));
        }
        assert!(info.min < info.max && (info.min..=info.max).contains(&info.default));
        // A fresh instance is at its defaults.
        assert_eq!(
            plugin.param_value(info.id).unwrap(),
            info.default,
            "{}",
            info.name
        );
        assert!(!info.is_stepped(), "{} is continuous", info.name);
    }
    assert!(wrong.is_empty(), "ranges/defaults differ: {wrong:#?}");
    let b = &p.bypass;
    assert!(b.is_bypass(), "Bypass carries CLAP_PARAM_IS_BYPASS");
    assert!(b.is_stepped(), "Bypass is stepped");
    assert_eq!(
        plugin.param_value(b.id).unwrap(),
        b.min,
        "Bypass defaults to off"
    );
    assert_eq!(b.default, b.min);
    println!(
        "    Bypass: off {:?}, on {:?}",
        plugin.value_to_text(b.id, b.min).unwrap(),
        plugin.value_to_text(b.id, b.max).unwrap()
    );

    // The strings hosts must show.
    assert_eq!(shown(&mut plugin, p.depth.id), "-10.0 dB");
    assert_eq!(shown(&mut plugin, p.release.id), "500 ms");

    // Typed values: parsed, and shown back as the same value. For the linear Depth range the
    // CLAP value must also be the right point of the range.
    let parses = [
        (&p.release, "250 ms", "250 ms"),
        (&p.release, "250", "250 ms"),
        (&p.release, "0.25 s", "250 ms"),
        (&p.depth, "-20 dB", "-20.0 dB"),
        (&p.depth, "-20dB", "-20.0 dB"),
        (&p.threshold, "-55.5 dB", "-55.5 dB"),
        (&p.lookahead, "37 ms", "37 ms"),
        (&p.mix, "50 %", "50 %"),
        (&p.output, "3.5 dB", "3.5 dB"),
    ];
    for (info, text, want) in parses {
        let v = plugin.text_to_value(info.id, text);
        let back = v.map(|v| plugin.value_to_text(info.id, v).unwrap());
        println!(
            "text_to_value({}, {text:?}) = {v:?} -> shown as {back:?}",
            info.name
        );
        assert_eq!(back.as_deref(), Some(want), "{}: {text:?}", info.name);
    }
    let depth_20 = plugin.text_to_value(p.depth.id, "-20 dB").unwrap();
    let expected = p.depth.min + (p.depth.max - p.depth.min) * (-20.0 - -40.0) / 40.0;
    assert!(
        (depth_20 - expected).abs() < 1e-6,
        "Depth -20 dB -> {depth_20}, expected {expected}"
    );
    assert_eq!(plugin.text_to_value(p.depth.id, "loud"), None);
    assert_eq!(plugin.text_to_value(p.release.id, "nan"), None);
}

// ---------------------------------------------------------------------------------------------
// 3. Silent key: exact delayed passthrough, latency = lookahead
// ---------------------------------------------------------------------------------------------

#[test]
fn silent_key_passes_the_bed_delayed_by_the_reported_latency() {
    // `None`: not set, the documented default of 100 ms (last, so a changed default does not
    // hide the other results).
    for setting in [
        Some(0.0),
        Some(20.0),
        Some(37.0),
        Some(80.0),
        Some(100.0),
        None,
    ] {
        // Lookahead set while inactive (params.flush), then activate.
        let mut plugin = load();
        let ms = setting.unwrap_or(100.0);
        if let Some(ms) = setting {
            let (id, v) = clap_value(&mut plugin, "Lookahead", &format!("{ms} ms"));
            plugin.set_param_inactive(id, v).unwrap();
            assert_eq!(shown(&mut plugin, id), format!("{ms} ms"));
        }
        let restarted = activate_like_a_host(&mut plugin, SR, 512);
        let lat = plugin.latency() as usize;
        println!(
            "Lookahead {ms} ms{}: latency {lat} samples (expected {}); restart requested right \
             after activation: {restarted}",
            if setting.is_none() { " (default)" } else { "" },
            latency_for(ms, SR)
        );
        assert_eq!(lat as u32, latency_for(ms, SR), "latency for {ms} ms");

        check_impulse(&mut plugin, lat, &[], &format!("lookahead {ms} ms"));

        // Stereo noise + sine bed (different per channel), silent key.
        let n = 24_000;
        let bed = vec![noise(0.4, n, 11), sine(BED_HZ, BED_AMP, SR, n)];
        let out = plugin.render(&bed, &[], 512usize, &[]).unwrap();
        for ch in 0..2 {
            let g = gain_db(&out[ch], &bed[ch], lat, lat..n);
            let d = max_diff_delayed(&out[ch], &bed[ch], lat, lat..n);
            println!("  ch{ch}: level change {g:+.5} dB, max |out - delayed in| {d:e}");
            assert!(g.abs() < 0.01, "ch{ch}: {g} dB");
            assert!(d < 1e-6, "ch{ch}: {d}");
        }
    }
}

#[test]
fn lookahead_change_while_processing_requests_restart_and_new_latency() {
    let (mut plugin, p, lat) = activated(SR, 512, &[]);
    assert_eq!(lat as u32, latency_for(BASELINE_LOOKAHEAD_MS, SR));
    let block = stereo(&sine(BED_HZ, BED_AMP, SR, 512));
    for _ in 0..4 {
        plugin.process(&block, &[], &[]).unwrap();
    }
    assert!(!plugin.restart_requested(), "no restart without a change");
    let before = plugin.callbacks();

    let (_, v37) = clap_value(&mut plugin, "Lookahead", "37 ms");
    plugin
        .process(&block, &[], &[ParamEvent::new(100, p.lookahead.id, v37)])
        .unwrap();
    assert_eq!(shown(&mut plugin, p.lookahead.id), "37 ms");
    let after = plugin.callbacks();
    println!(
        "after the Lookahead event: restart requested {}, request_restart calls {} -> {}, \
         latency() before restart {}",
        plugin.restart_requested(),
        before.request_restart,
        after.request_restart,
        plugin.latency()
    );
    assert!(
        plugin.restart_requested(),
        "latency change must request a restart"
    );

    plugin.restart().unwrap();
    let new_lat = plugin.latency();
    let changed = plugin.take_latency_changed();
    println!("after restart: latency {new_lat}, latency.changed called: {changed}");
    assert_eq!(new_lat, latency_for(37.0, SR));
    assert_eq!(new_lat, 1_776);
    assert!(changed, "host_latency.changed after the restart");
    // The restart keeps the engine (the audio goes on without a gap, see mode_switch.rs): what
    // the delay still holds of the bed plays out first, then the new latency is exact.
    let flush = vec![vec![0.0f32; new_lat as usize + 2_048]; 2];
    let tail = plugin.render(&flush, &[], 512usize, &[]).unwrap();
    let heard = tail[0][..512].iter().fold(0.0f32, |m, &x| m.max(x.abs()));
    println!("after restart: the bed played on, first block peak {heard:.3}");
    assert!(heard > 0.4, "the bed stopped at the restart (peak {heard})");
    check_impulse(&mut plugin, new_lat as usize, &[], "after restart (37 ms)");
    assert!(!plugin.restart_requested(), "no further restart requested");
}

// ---------------------------------------------------------------------------------------------
// 4. A line of speech: settles at Depth, returns within Hold + Release
// ---------------------------------------------------------------------------------------------

/// A lone line of continuous speech (1 s, after 2 s of silence) ducks the bed to Depth, and
/// the bed is back no later than 1.1 x (Hold + Release) after the key stops (on the key's
/// timeline, which is the output's). A line that stands apart like this keeps the user's
/// Hold: the conversation-aware hold, which extends Hold by up to 600 ms when the lines come in
/// quick succession, leaves it alone.
#[test]
fn speech_key_settles_at_depth_and_releases_in_time() {
    let hold_ms = 150.0;
    let release_ms = 500.0;
    for depth in [-10.0, -25.0] {
        let (mut plugin, _, lat) = activated(SR, 512, &[("Depth", &format!("{depth} dB"))]);
        let n = (4.5 * SR) as usize;
        let key_on = 96_000..144_000; // 2.0 s .. 3.0 s
        let key_stop = key_on.end;
        let bed = stereo(&sine(BED_HZ, BED_AMP, SR, n));
        let key = gated_key(n, SR, key_on.clone());
        let out = plugin.render(&bed, &key, 512usize, &[]).unwrap();
        assert!(all_finite(&out));

        // Before the key: untouched.
        let pre = gain_db(&out[0], &bed[0], lat, lat..key_on.start);
        // Settled, inside the line: 2.3 s .. 2.95 s, both channels.
        let settled = 110_400..141_600;
        let settled_l = gain_db(&out[0], &bed[0], lat, settled.clone());
        let settled_r = gain_db(&out[1], &bed[1], lat, settled);

        // Return to 0 dB: 1 ms windows; the first window from which on every window is
        // within 0.1 dB.
        let win = 48;
        let curve = gain_curve(&out[0], &bed[0], lat, win);
        let last_bad = curve
            .iter()
            .rposition(|g| g.abs() > 0.1)
            .expect("the bed was ducked at some point");
        let back_at = lat + (last_bad + 1) * win; // output sample index
        let back_ms = (back_at - key_stop) as f64 * 1000.0 / SR;
        let back_ms_compensated = back_ms - lat as f64 * 1000.0 / SR;
        // Hold honoured: still at depth 0.9 x Hold after the key stops.
        let t_hold = key_stop + (0.9 * hold_ms * SR / 1000.0) as usize;
        let held = gain_db(&out[0], &bed[0], lat, t_hold..t_hold + 240);

        println!(
            "Depth {depth} dB: before key {pre:+.3} dB | settled L {settled_l:+.3} dB, R \
             {settled_r:+.3} dB | 0.9 x Hold after key stop {held:+.3} dB | back within 0.1 dB \
             {back_ms:.1} ms after the key stopped ({back_ms_compensated:.1} ms in the \
             latency-compensated timeline; limit {:.0} ms)",
            1.1 * (hold_ms + release_ms)
        );
        assert!(pre.abs() < 0.01, "{pre}");
        assert!((settled_l - depth).abs() <= 0.5, "{settled_l}");
        assert!((settled_r - depth).abs() <= 0.5, "{settled_r}");
        assert!((held - depth).abs() <= 0.5, "hold not honoured: {held}");
        assert!(back_ms > hold_ms, "released before Hold ran out: {back_ms}");
        assert!(
            back_ms <= 1.1 * (hold_ms + release_ms),
            "back to 0 dB after {back_ms} ms"
        );
        let tail = gain_db(&out[0], &bed[0], lat, back_at..n);
        assert!(tail.abs() < 0.1, "{tail}");
    }
}

/// Periodic keys that are not speech leave the bed alone: a 1 kHz tone at -9 dBFS RMS, a
/// 120 Hz buzz (a harmonic series, -15 dBFS) and a synthetic "vowel" (a 140 Hz pulse train
/// through a resonance, -35 dBFS), 25-50 dB above the Threshold floor. Each starts after 0.5 s
/// of silence, lasts 1.5 s and stops abruptly, as a buzz or a beep on a dialogue track does
/// (the onset and the end are where a detector is most easily fooled). Before the voice
/// detector decided, keys like these were this suite's "voice" and ducked the bed.
#[test]
fn tones_and_buzz_on_the_key_do_not_duck() {
    let n = 3 * SR as usize;
    let on = 24_000..96_000; // 0.5 s .. 2.0 s
    let gate = |x: Vec<f32>| -> Vec<f32> {
        x.into_iter()
            .enumerate()
            .map(|(i, v)| if on.contains(&i) { v } else { 0.0 })
            .collect()
    };
    let tone = gate(sine(1_000.0, 0.5, SR, n));
    let buzz = gate(
        (0..n)
            .map(|i| {
                let t = i as f64 / SR;
                let x: f64 = (1..20)
                    .map(|h| (std::f64::consts::TAU * 120.0 * h as f64 * t).sin() / h as f64)
                    .sum();
                (0.2 * x) as f32
            })
            .collect(),
    );
    let period = (SR / 140.0) as usize;
    let mut y = 0.0f32;
    let vowel = gate(
        (0..n)
            .map(|i| {
                y = 0.9 * y + if i % period == 0 { 0.5 } else { 0.0 };
                0.3 * y
            })
            .collect(),
    );
    let bed = stereo(&sine(BED_HZ, BED_AMP, SR, n));
    let mut ducked = Vec::new();
    for (label, key) in [
        ("1 kHz tone", tone),
        ("120 Hz buzz", buzz),
        ("140 Hz pulse-train vowel", vowel),
    ] {
        let (mut plugin, _, lat) = activated(SR, 512, &[("Depth", "-20 dB")]);
        let out = plugin.render(&bed, &stereo(&key), 512usize, &[]).unwrap();
        assert!(all_finite(&out));
        // The lowest gain in 10 ms windows, and how long the bed was down by more than 0.5 dB.
        let curve = gain_curve(&out[0], &bed[0], lat, 480);
        let worst = curve.iter().copied().fold(f64::INFINITY, f64::min);
        let down_ms = 10 * curve.iter().filter(|&&g| g < -0.5).count();
        println!(
            "{label} on the key ({:.1} dBFS RMS while on): lowest 10 ms gain {worst:+.3} dB, \
             down by more than 0.5 dB for {down_ms} ms (Depth -20 dB)",
            rms_db(&key[on.clone()])
        );
        if worst <= -0.5 {
            ducked.push(format!("{label}: {worst:+.1} dB for {down_ms} ms"));
        }
    }
    assert!(ducked.is_empty(), "not speech, but ducked: {ducked:?}");
}

// ---------------------------------------------------------------------------------------------
// 5. State
// ---------------------------------------------------------------------------------------------

/// Expected settled gain for a fully active key, in dB.
fn expected_duck_db(depth_db: f64, mix_pct: f64, output_db: f64) -> f64 {
    let duck = db_to_gain(depth_db);
    db((1.0 + mix_pct / 100.0 * (duck - 1.0)) * db_to_gain(output_db))
}

/// Renders 1 s of bed with a line of speech on the key (from 0.1 s) and returns the settled gain
/// (0.6 .. 1.0 s).
fn measure_duck(plugin: &mut ClapInstance) -> f64 {
    let lat = plugin.latency() as usize;
    let n = SR as usize;
    let bed = stereo(&sine(BED_HZ, BED_AMP, SR, n));
    let key = gated_key(n, SR, 4_800..n);
    let out = plugin.render(&bed, &key, 512usize, &[]).unwrap();
    assert!(all_finite(&out));
    gain_db(&out[0], &bed[0], lat, 28_800..n)
}

#[test]
fn state_round_trip_and_rejection() {
    let settings = [
        ("Depth", "-23.5 dB"),
        ("Threshold", "-55 dB"),
        ("Attack", "35 ms"),
        ("Hold", "400 ms"),
        ("Release", "1200 ms"),
        ("Lookahead", "12 ms"),
        ("Mix", "75 %"),
        ("Output", "3.5 dB"),
    ];
    let mut a = load();
    let pa = Params::of(&mut a);
    let changes: Vec<(u32, f64)> = settings
        .iter()
        .map(|&(name, text)| clap_value(&mut a, name, text))
        .collect();
    a.set_params_inactive(&changes).unwrap();
    for &(name, text) in &settings {
        let id = a.require_param(name).unwrap().id;
        let now = shown(&mut a, id);
        println!("  set {name:>10} to {text:?}: shows {now:?}");
        let want = a.text_to_value(id, text).unwrap();
        assert_eq!(now, a.value_to_text(id, want).unwrap());
        let default = a.require_param(name).unwrap().default;
        assert_ne!(
            a.param_value(id).unwrap(),
            default,
            "{name} is not at its default"
        );
    }
    let values_a: Vec<f64> = pa
        .all()
        .iter()
        .map(|q| a.param_value(q.id).unwrap())
        .collect();
    let saved = a.save_state().unwrap();
    println!(
        "state: {} bytes: {}",
        saved.len(),
        String::from_utf8_lossy(&saved[8.min(saved.len())..])
    );

    let mut b = load();
    let pb = Params::of(&mut b);
    b.load_state(&saved).unwrap();
    let values_b: Vec<f64> = pb
        .all()
        .iter()
        .map(|q| b.param_value(q.id).unwrap())
        .collect();
    for (q, (va, vb)) in pa.all().iter().zip(values_a.iter().zip(&values_b)) {
        println!("  {:>10}: saved {va} loaded {vb}", q.name);
        assert_eq!(va, vb, "{} after load", q.name);
    }
    let saved_again = b.save_state().unwrap();
    println!(
        "second save: {} bytes, byte-identical: {}",
        saved_again.len(),
        saved_again == saved
    );
    assert_eq!(saved_again, saved, "save -> load -> save is byte-identical");

    // Bad states: empty, truncated, random, random behind a plausible length prefix.
    let mut rng = Rng::new(0x5eed);
    let random: Vec<u8> = (0..4_096).map(|_| rng.next_u64() as u8).collect();
    let mut prefixed = (random.len() as u64 - 8).to_le_bytes().to_vec();
    prefixed.extend_from_slice(&random[8..]);
    let bad: [(&str, &[u8]); 4] = [
        ("empty", &[]),
        ("truncated", &saved[..saved.len() / 2]),
        ("random", &random),
        ("random, valid length prefix", &prefixed),
    ];
    let expected = expected_duck_db(-23.5, 75.0, 3.5);

    let check_intact = |plugin: &mut ClapInstance, when: &str| {
        let now: Vec<f64> = pb
            .all()
            .iter()
            .map(|q| plugin.param_value(q.id).unwrap())
            .collect();
        assert_eq!(now, values_b, "values changed by a rejected load ({when})");
    };

    for (what, bytes) in bad {
        let r = b.load_state(bytes);
        println!("load {what} ({} bytes) while inactive: {r:?}", bytes.len());
        assert_eq!(r, Err(HostError::StateLoad), "{what} must be rejected");
        check_intact(&mut b, what);
    }

    b.activate(SR, 1, 512).unwrap();
    let lat = b.latency();
    assert_eq!(lat, latency_for(12.0, SR));
    let duck = measure_duck(&mut b);
    println!(
        "after rejected loads: latency {lat}, settled gain {duck:+.3} dB (expected {expected:+.3} \
         dB from Depth -23.5, Mix 75 %, Output +3.5)"
    );
    assert!((duck - expected).abs() <= 0.5, "{duck} vs {expected}");

    for (what, bytes) in bad {
        let r = b.load_state(bytes);
        assert_eq!(
            r,
            Err(HostError::StateLoad),
            "{what} (active) must be rejected"
        );
        check_intact(&mut b, what);
    }
    let duck2 = measure_duck(&mut b);
    println!("after rejected loads while active: settled gain {duck2:+.3} dB");
    assert!((duck2 - expected).abs() <= 0.5, "{duck2} vs {expected}");
}

// ---------------------------------------------------------------------------------------------
// 6. Robustness
// ---------------------------------------------------------------------------------------------

#[test]
fn random_block_sizes_at_all_sample_rates() {
    let mut rng = Rng::new(42);
    for sr in [44_100.0, 48_000.0, 96_000.0, 192_000.0] {
        let (mut plugin, _, lat) = activated(sr, 8_192, &[]);
        assert_eq!(
            lat as u32,
            latency_for(BASELINE_LOOKAHEAD_MS, sr),
            "latency at {sr}"
        );
        let n = (1.2 * sr) as usize;
        // The same signal on both channels: a centred (mid-only) bed is ducked by Depth
        // whatever the stereo handling.
        let mono: Vec<f32> = sine(BED_HZ, 0.35, sr, n)
            .iter()
            .zip(noise(0.15, n, 7))
            .map(|(a, b)| a + b)
            .collect();
        let bed = stereo(&mono);
        let key = gated_key(n, sr, (0.25 * sr) as usize..n);
        let mut sizes = Vec::new();
        let out = plugin
            .render(
                &bed,
                &key,
                || {
                    let s = rng.range(1, 8_192);
                    sizes.push(s);
                    s
                },
                &[],
            )
            .unwrap();
        assert!(all_finite(&out), "non-finite output at {sr}");
        let pre = gain_db(&out[0], &bed[0], lat, lat..(0.25 * sr) as usize);
        let settled = (0.75 * sr) as usize..n;
        let l = gain_db(&out[0], &bed[0], lat, settled.clone());
        let r = gain_db(&out[1], &bed[1], lat, settled);
        println!(
            "{sr} Hz: latency {lat}, {} blocks ({}..{} frames), before key {pre:+.4} dB, \
             settled L {l:+.3} dB R {r:+.3} dB",
            sizes.len(),
            sizes.iter().min().unwrap(),
            sizes.iter().max().unwrap()
        );
        assert!(pre.abs() < 0.01, "{pre}");
        assert!((l + 10.0).abs() <= 0.5, "{sr}: {l}");
        assert!((r + 10.0).abs() <= 0.5, "{sr}: {r}");
    }
}

/// A cycle of hostile sample values: NaN, +-Inf, +-denormals and, if `with_huge`, +-1e30.
fn hostile(i: usize, with_huge: bool) -> f32 {
    let base = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e-40, -1e-40];
    if with_huge && i % 7 == 3 {
        if i.is_multiple_of(2) { 1e30 } else { -1e30 }
    } else {
        base[i % base.len()]
    }
}

/// Renders `bed`/`key` in 256-frame blocks after corrupting `region` of the bed and/or key, and
/// checks: never non-finite output; from 100 ms + latency after the region, exact delayed
/// passthrough (the key is otherwise silent).
fn corrupt_and_check(label: &str, bed_bad: bool, key_bad: bool, key_huge: bool) {
    let (mut plugin, _, lat) = activated(SR, 1_024, &[]);
    let n = SR as usize;
    let region = 12_288..12_288 + 512; // two whole 256-frame blocks
    let mut bed = vec![sine(BED_HZ, 0.25, SR, n), noise(0.25, n, 3)];
    let mut key = stereo(&silence(n));
    for i in region.clone() {
        for ch in 0..2 {
            if bed_bad {
                bed[ch][i] = hostile(i + ch, true);
            }
            if key_bad {
                key[ch][i] = hostile(i + 3 * ch, key_huge);
            }
        }
    }
    let out = plugin.render(&bed, &key, 256usize, &[]).unwrap();
    let non_finite = out.iter().flatten().filter(|s| !s.is_finite()).count();
    let first_clean = region.end;
    let recover = first_clean + lat + (0.1 * SR) as usize;
    let peak_after = out
        .iter()
        .map(|o| peak(&o[first_clean..]))
        .fold(0.0, f64::max);
    // Levels per channel from 100 ms + latency after the bad region.
    let mut worst_db = 0.0f64;
    let mut worst_diff = 0.0f64;
    for ch in 0..2 {
        worst_db = worst_db.max(gain_db(&out[ch], &bed[ch], lat, recover..n).abs());
        worst_diff = worst_diff.max(max_diff_delayed(&out[ch], &bed[ch], lat, recover..n));
    }
    // When does it really come back (1 ms windows within 0.1 dB from then on)?
    let curve = gain_curve(&out[0], &bed[0], lat, 48);
    let back = curve
        .iter()
        .rposition(|g| g.abs() > 0.1)
        .map_or(0, |i| lat + (i + 1) * 48);
    let back_ms = back.saturating_sub(first_clean + lat) as f64 * 1000.0 / SR;
    println!(
        "{label}: non-finite samples {non_finite}, peak after the bad region {peak_after:.3e}, \
         from 100 ms + latency on: level {worst_db:.4} dB, max |diff| {worst_diff:.2e}; back \
         within 0.1 dB {back_ms:.1} ms after the bad region (+ latency)"
    );
    assert_eq!(non_finite, 0, "{label}: output contains NaN/Inf");
    assert!(
        worst_db < 0.1,
        "{label}: bed level off by {worst_db} dB 100 ms + latency after the bad data"
    );
}

#[test]
fn hostile_samples_in_bed_and_key_never_reach_the_output() {
    corrupt_and_check("bed: NaN/+-Inf/+-1e30/denormals", true, false, false);
    corrupt_and_check("key: NaN/+-Inf/denormals", false, true, false);
    corrupt_and_check(
        "bed + key: NaN/+-Inf/denormals, bed 1e30",
        true,
        true,
        false,
    );
}

#[test]
fn huge_key_samples_do_not_trigger_a_long_duck() {
    // A corrupt key stream with +-1e30 samples (plus NaN/Inf/denormals): the output must stay
    // finite and return to passthrough within 100 ms + latency like any other corrupt data.
    corrupt_and_check("key: NaN/+-Inf/+-1e30/denormals", false, true, true);

    // The same corrupt block 250 ms after real dialogue stopped must not re-arm the duck: the
    // bed is back to 0 dB within Hold + Release (+10 %) of the end of the dialogue (a lone
    // line, 0.7 s after 2 s of silence: the conversation-aware hold does not extend Hold).
    let (mut plugin, _, lat) = activated(SR, 1_024, &[]);
    let n = 4 * SR as usize;
    let key_stop = 129_600; // 2.7 s
    let bad = key_stop + 12_000..key_stop + 12_000 + 256;
    let bed = stereo(&sine(BED_HZ, BED_AMP, SR, n));
    let mut key = gated_key(n, SR, 96_000..key_stop);
    for i in bad.clone() {
        for (ch, k) in key.iter_mut().enumerate() {
            k[i] = hostile(i + 3 * ch, true);
        }
    }
    let out = plugin.render(&bed, &key, 256usize, &[]).unwrap();
    assert!(all_finite(&out));
    let curve = gain_curve(&out[0], &bed[0], lat, 48);
    let last_bad = curve.iter().rposition(|g| g.abs() > 0.1).unwrap();
    let back_ms = (lat + (last_bad + 1) * 48 - key_stop) as f64 * 1000.0 / SR;
    let limit = 1.1 * (150.0 + 500.0);
    println!(
        "dialogue stops, corrupt key block 250 ms later: back within 0.1 dB {back_ms:.1} ms after \
         the dialogue stopped (limit {limit:.0} ms)"
    );
    assert!(
        back_ms <= limit,
        "a corrupt key block re-armed the duck: back to 0 dB only {back_ms:.1} ms after the \
         dialogue stopped"
    );
}

#[test]
fn silent_key_equals_zeroed_aux_buffer() {
    let n = 30_000;
    let bed = vec![noise(0.5, n, 21), sine(BED_HZ, BED_AMP, SR, n)];
    let run = |key: &[Vec<f32>]| {
        let (mut plugin, _, _) = activated(SR, 512, &[("Threshold", "-80 dB")]);
        plugin.render(&bed, key, 333usize, &[]).unwrap()
    };
    let empty = run(&[]);
    let zeros = run(&stereo(&silence(n)));
    let denormal = run(&stereo(&vec![1e-40f32; n]));
    let same = empty == zeros;
    let same_denormal = empty == denormal;
    println!(
        "no key signal vs explicit silent key: bit-identical {same}; vs denormal key: \
         bit-identical {same_denormal}"
    );
    assert!(same);
    assert!(same_denormal);
    let lat = latency_for(BASELINE_LOOKAHEAD_MS, SR) as usize;
    for ch in 0..2 {
        assert_eq!(max_diff_delayed(&empty[ch], &bed[ch], lat, lat..n), 0.0);
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Bypass
// ---------------------------------------------------------------------------------------------

#[test]
fn bypass_is_click_free_and_keeps_latency() {
    let (mut plugin, p, lat) = activated(SR, 512, &[("Depth", "-20 dB")]);
    assert_eq!(lat as u32, latency_for(BASELINE_LOOKAHEAD_MS, SR));
    let n = SR as usize;
    let bed = stereo(&sine(BED_HZ, BED_AMP, SR, n));
    let key = gated_key(n, SR, 0..n);
    let switch_at = 24_123; // inside a 512-frame block
    let out = plugin
        .render(
            &bed,
            &key,
            512usize,
            &[ParamEvent::new(switch_at as u32, p.bypass.id, p.bypass.max)],
        )
        .unwrap();
    assert!(all_finite(&out));
    assert_eq!(plugin.param_value(p.bypass.id).unwrap(), p.bypass.max);

    let ducked = gain_db(&out[0], &bed[0], lat, 14_400..switch_at);
    let in_step = max_step(&bed[0]);
    let out_step = (0..2)
        .map(|ch| max_step(&out[ch][lat..]))
        .fold(0.0, f64::max);
    // The switch acts on the bed sample of its time (one latency later at the output); after
    // the 10 ms fade (+ a tick either way) the output is the dry, delayed bed.
    let settled = switch_at + lat + 480 + 2 * TICK_48K;
    let dry_db = (0..2)
        .map(|ch| gain_db(&out[ch], &bed[ch], lat, settled..n).abs())
        .fold(0.0, f64::max);
    let dry_diff = (0..2)
        .map(|ch| max_diff_delayed(&out[ch], &bed[ch], lat, settled..n))
        .fold(0.0, f64::max);
    let margin = 0.002;
    println!(
        "bypass: ducked {ducked:+.3} dB before the switch; max step in {in_step:.5}, out \
         {out_step:.5} (limit {:.5}); after the fade: level {dry_db:.5} dB off dry, max |diff| \
         {dry_diff:.2e}; latency while bypassed {}",
        in_step + margin,
        plugin.latency()
    );
    assert!((ducked + 20.0).abs() <= 0.5, "{ducked}");
    assert!(out_step <= in_step + margin, "click: step {out_step}");
    assert!(dry_db <= 0.05, "{dry_db}");
    assert_eq!(plugin.latency() as usize, lat, "bypass keeps the latency");
    assert!(
        !plugin.restart_requested(),
        "bypass must not ask for a restart"
    );

    // Impulse while bypassed, with the dialogue still speaking: dry, same delay.
    // Flush the delay line with silence (the key keeps speaking), then the impulse.
    let flush = plugin
        .render(
            &stereo(&silence(2 * lat)),
            &gated_key(2 * lat, SR, 0..2 * lat),
            512usize,
            &[],
        )
        .unwrap();
    assert!(all_finite(&flush));
    let m = 1_000 + lat + 2_000;
    let key = gated_key(m, SR, 0..m);
    check_impulse(&mut plugin, lat, &key, "bypassed, speech on the key");
}

// ---------------------------------------------------------------------------------------------
// 8. Sample-accurate automation
// ---------------------------------------------------------------------------------------------

#[test]
fn depth_automation_is_sample_accurate() {
    let n = 48_000;
    let bed = stereo(&sine(BED_HZ, BED_AMP, SR, n));
    // Speech throughout: the bed is at Depth when the event comes.
    let key = gated_key(n, SR, 0..n);
    let at = 30_007u32;
    let lat = latency_for(BASELINE_LOOKAHEAD_MS, SR) as usize;
    let run = |events: &[ParamEvent], seed: Option<u64>| {
        let (mut plugin, _, latency) = activated(SR, 4_096, &[]);
        assert_eq!(latency, lat);
        match seed {
            None => plugin.render(&bed, &key, 512usize, events).unwrap(),
            Some(s) => {
                let mut rng = Rng::new(s);
                plugin
                    .render(&bed, &key, || rng.range(1, 4_096), events)
                    .unwrap()
            }
        }
    };
    let (depth_id, minus_30) = clap_value(&mut load(), "Depth", "-30 dB");
    let ev = [ParamEvent::new(at, depth_id, minus_30)];

    let reference = run(&[], None);
    let a = run(&ev, None);
    let b = run(&ev, Some(7));
    let c = run(&ev, Some(99));
    let first_change = a[0]
        .iter()
        .zip(&reference[0])
        .position(|(x, y)| x != y)
        .expect("the Depth event changed nothing");
    let identical_b = a == b;
    let identical_c = a == c;
    let max_ab = a
        .iter()
        .zip(&b)
        .flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs()))
        .fold(0.0f32, f32::max);
    let end_gain = gain_db(&a[0], &bed[0], lat, n - 4_800..n);
    // The event acts on the bed sample of its own time, which leaves the plugin one latency
    // later (the host compensates that latency, so the change lands where it was drawn).
    let due = at as usize + lat;
    println!(
        "Depth -10 -> -30 at sample {at}: output first changes at {first_change} ({} samples \
         after the event's audio reaches the output at {due}; tick = {TICK_48K}); 512-blocks \
         vs random blocks identical: {identical_b} / {identical_c} (max |diff| {max_ab:e}); \
         gain at the end {end_gain:+.3} dB",
        first_change as i64 - due as i64
    );
    // Control values move on 1 ms ticks: within one tick of the event's audio.
    assert!(
        first_change.abs_diff(due) <= TICK_48K,
        "changed {} samples from the event's audio",
        first_change as i64 - due as i64
    );
    assert!(identical_b && identical_c, "block size changed the result");
    assert!((end_gain + 30.0).abs() <= 0.5, "{end_gain}");
}

/// Issue 6: automating Depth from -20 dB to 0 dB within 1 ms (one event per sample) on a sine
/// bed steps the gain by less than 0.1 dB per sample. Broadband mode, where the bed gets one
/// gain per sample; Spectral mode applies the same ramped gain to the bed's masking part (the
/// engine's `spectral_mode_ducks_in_time_exactly_like_broadband` test), but its output is not a
/// scaled copy of the input sample by sample, so a per-sample gain is not defined there.
#[test]
fn depth_automation_within_1_ms_has_no_zipper_steps() {
    {
        let mode = "Broadband";
        let n = 48_000;
        let bed = stereo(&sine(BED_HZ, BED_AMP, SR, n));
        let key = gated_key(n, SR, 0..n);
        let (mut plugin, _, lat) = activated(SR, 1_024, &[("Depth", "-20 dB"), ("Mode", mode)]);
        let depth = plugin.require_param("Depth").unwrap().id;
        let at = 30_000u32;
        let steps = 48u32;
        let events: Vec<ParamEvent> = (0..=steps)
            .map(|k| {
                let db = -20.0 + 20.0 * f64::from(k) / f64::from(steps);
                let v = plugin.text_to_value(depth, &format!("{db} dB")).unwrap();
                ParamEvent::new(at + k, depth, v)
            })
            .collect();
        let out = plugin.render(&bed, &key, 512usize, &events).unwrap();
        // Per-sample gain against the delayed input, where the sine is far from zero.
        let gains: Vec<Option<f64>> = (lat..n)
            .map(|t| {
                let x = f64::from(bed[0][t - lat]);
                (x.abs() > 0.25 * BED_AMP).then(|| f64::from(out[0][t]) / x)
            })
            .collect();
        let worst = gains
            .windows(2)
            .filter_map(|w| Some((20.0 * (w[1]? / w[0]?).abs().log10()).abs()))
            .fold(0.0, f64::max);
        let before = gain_db(&out[0], &bed[0], lat, at as usize..at as usize + 480);
        let after = gain_db(&out[0], &bed[0], lat, n - 4_800..n);
        println!(
            "{mode}: Depth -20 -> 0 dB over 1 ms: largest per-sample gain step {worst:.4} dB; \
             gain {before:+.2} dB before, {after:+.2} dB after"
        );
        assert!(worst < 0.1, "{mode}: step {worst} dB");
        assert!(
            (before + 20.0).abs() < 0.5 && after.abs() < 0.3,
            "{before} {after}"
        );
    }
}

/// Issue 6: every factory preset, applied the way a host applies an editor's changes (one
/// event per parameter, values converted by the plugin's own text parser), sets every
/// parameter to the value written in its file, as the plugin displays it back.
#[test]
fn every_factory_preset_sets_the_parameters_as_written() {
    use underscore_dsp::settings::{Kind, SETTINGS};
    let mut checked = 0;
    for preset in underscore_preset::factory() {
        let mut plugin = load();
        let infos = plugin.params();
        let mut changes = Vec::new();
        for info in &SETTINGS {
            let clap = infos
                .iter()
                .find(|p| p.name == info.name)
                .unwrap_or_else(|| panic!("no CLAP parameter {}", info.name));
            let value = info.get(&preset.params);
            let text = match info.kind {
                Kind::Number { .. } => info.format(value).trim().to_string(),
                Kind::Choice { .. } => {
                    let names = plugin_choice_texts(&mut plugin, clap.id);
                    names[value as usize].clone()
                }
                Kind::Switch { .. } => if value >= 0.5 { "On" } else { "Off" }.to_string(),
            };
            let v = plugin
                .text_to_value(clap.id, &text)
                .unwrap_or_else(|| panic!("{}: {} refused {text:?}", preset.name, info.name));
            changes.push((clap.id, v, info, value));
        }
        let events: Vec<(u32, f64)> = changes.iter().map(|&(id, v, _, _)| (id, v)).collect();
        plugin.set_params_inactive(&events).unwrap();
        for &(id, _, info, want) in &changes {
            let shown_text = shown(&mut plugin, id);
            let got = match info.kind {
                Kind::Number { .. } => info.parse(&shown_text).unwrap_or(f32::NAN),
                Kind::Choice { .. } => {
                    let names = plugin_choice_texts(&mut plugin, id);
                    names.iter().position(|n| *n == shown_text).unwrap_or(99) as f32
                }
                Kind::Switch { .. } => (shown_text == "On") as u8 as f32,
            };
            // The plugin shows 0-1 decimals: within half a display step.
            let step = if info.id == "depth" || info.id == "threshold" {
                0.05
            } else {
                0.5
            };
            assert!(
                (got - want).abs() <= step
                    || (info.id.starts_with("focus") && (got / want - 1.0).abs() < 0.005),
                "{}: {} shows {shown_text:?}, file says {}",
                preset.name,
                info.id,
                info.format(want)
            );
            checked += 1;
        }
    }
    println!("factory presets: {checked} parameter values set through CLAP and read back");
    assert!(checked >= 8 * SETTINGS.len());
}

/// The display texts of a choice parameter's options, in order.
fn plugin_choice_texts(plugin: &mut ClapInstance, id: u32) -> Vec<String> {
    let info = plugin.params().into_iter().find(|p| p.id == id).unwrap();
    let steps = (info.max - info.min).round() as usize;
    (0..=steps)
        .map(|i| {
            let v = info.min + (info.max - info.min) * i as f64 / steps.max(1) as f64;
            plugin.value_to_text(id, v).unwrap()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Unloading: a host may dlclose the plugin after use
// ---------------------------------------------------------------------------------------------

const UNLOAD_CHILD_ENV: &str = "UNDERSCORE_UNLOAD_CHILD";
const UNLOAD_TEST: &str = "library_can_be_unloaded_after_use_on_a_worker_thread";
/// Rounds of worker threads in the child; each round races thread exits with `dlclose`.
const UNLOAD_ROUNDS: usize = 20;
const UNLOAD_THREADS: usize = 4;

/// Worker threads create, run and drop instances (each drop is a `dlclose`; the last one
/// unloads the library) and then exit, as a host's worker or audio threads do. Runs in a child
/// process because the failure is a crash. The library is not pinned in the child.
#[test]
fn library_can_be_unloaded_after_use_on_a_worker_thread() {
    if std::env::var_os(UNLOAD_CHILD_ENV).is_some() {
        let use_plugin = || {
            let mut plugin = ClapInstance::new(bundle_path(), None).unwrap();
            plugin.activate(SR, 1, 512).unwrap();
            if plugin.restart_requested() {
                plugin.restart().unwrap();
            }
            let n = 24_000;
            let bed = stereo(&sine(BED_HZ, BED_AMP, SR, n));
            let out = plugin
                .render(&bed, &gated_key(n, SR, 0..n), 512usize, &[])
                .unwrap();
            assert!(all_finite(&out));
        };
        for round in 0..UNLOAD_ROUNDS {
            let workers: Vec<_> = (0..UNLOAD_THREADS)
                .map(|_| {
                    std::thread::spawn(move || {
                        use_plugin();
                        use_plugin();
                    })
                })
                .collect();
            for w in workers {
                w.join().unwrap();
            }
            println!("round {round}: {UNLOAD_THREADS} threads used, dropped and exited");
        }
        println!("UNLOAD CHILD COMPLETE");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(&exe)
        .args([UNLOAD_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(UNLOAD_CHILD_ENV, "1")
        .env("UNDERSCORE_CLAP_QUIET", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rounds = stdout.lines().filter(|l| l.starts_with("round ")).count();
    println!(
        "child: {} after {rounds} of {UNLOAD_ROUNDS} rounds\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "a thread that had used the plugin crashed at exit because another thread unloaded the \
         library meanwhile ({}, after {rounds} of {UNLOAD_ROUNDS} rounds): the plugin's Rust std \
         leaves a pthread-key destructor in the library (rust-lang/rust#91979); link the plugin \
         with -z nodelete",
        out.status
    );
    assert!(
        stdout.contains("UNLOAD CHILD COMPLETE"),
        "child did not run"
    );
}

#[test]
fn spectral_mode_reports_lookahead_plus_one_window_and_passes_a_silent_key_bed() {
    for (sr, window) in [(44_100.0, 1_024usize), (48_000.0, 1_024), (96_000.0, 2_048)] {
        let (mut plugin, _, lat) = activated(sr, 512, &[("Mode", "Spectral")]);
        let expected = latency_for(BASELINE_LOOKAHEAD_MS, sr) as usize + window;
        println!(
            "Spectral mode at {sr} Hz: latency {lat} samples (Lookahead {BASELINE_LOOKAHEAD_MS} \
             ms + {window})"
        );
        assert_eq!(lat, expected, "latency at {sr}");
        check_impulse(&mut plugin, lat, &[], &format!("spectral, {sr} Hz"));
    }
}

#[test]
fn spectral_mode_ducks_a_masked_band_and_spares_the_bass() {
    let n = 96_000;
    let (mut plugin, _, lat) = activated(SR, 512, &[("Mode", "Spectral"), ("Depth", "-20 dB")]);
    // A bed of 60 Hz (below Focus) and 1 kHz (in the speech band, where it masks the voice).
    let bass = sine(60.0, 0.2, SR, n);
    let mid = sine(1_000.0, 0.2, SR, n);
    let bed: Vec<f32> = bass.iter().zip(&mid).map(|(a, b)| a + b).collect();
    let key = gated_key(n, SR, 0..n);
    let out = plugin.render(&stereo(&bed), &key, 512usize, &[]).unwrap();
    let component = |x: &[f32], f: f64| {
        let (mut c, mut s) = (0.0f64, 0.0f64);
        for (i, &v) in x.iter().enumerate() {
            let ph = std::f64::consts::TAU * f * i as f64 / SR;
            c += v as f64 * ph.cos();
            s += v as f64 * ph.sin();
        }
        10.0 * (c * c + s * s).log10()
    };
    let range = 60_000..90_000;
    let d = |f: f64| {
        component(&out[0][range.start..range.end], f)
            - component(&bed[range.start - lat..range.end - lat], f)
    };
    println!(
        "spectral: 60 Hz {:+.2} dB, 1 kHz {:+.2} dB",
        d(60.0),
        d(1_000.0)
    );
    assert!(d(60.0).abs() < 0.5, "bass moved {} dB", d(60.0));
    assert!(
        d(1_000.0) < -6.0,
        "masked band moved only {} dB",
        d(1_000.0)
    );
}
