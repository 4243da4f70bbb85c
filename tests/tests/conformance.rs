//! Host-callback rules of the CLAP ABI, checked the way clap-validator checks them (issue 14):
//! every host callback is recorded with the instance's phase and the calling thread, through a
//! run that fuzzes every parameter (Lookahead and Mode included, which change the latency) at
//! random sample offsets with random block sizes, and a host that services the plugin's
//! main-thread requests late (after a deactivation, as the validator does).
//!
//! The rules (CLAP 1.2 `ext/latency.h`): `clap_host_latency.changed` may only be called inside
//! `clap_plugin.activate`; while active, a plugin whose latency changes asks for a restart. And a
//! normal load (create, restore a session, activate, play) asks for no restart at all.

use underscore_tests::*;

const SR: f64 = 48_000.0;

fn load() -> ClapInstance {
    pin_library();
    ClapInstance::new(bundle_path(), None).expect("load the bundle")
}

/// Samples `range` of every channel of `signal`, as one block for [`ClapInstance::process`].
fn block(signal: &[Vec<f32>], range: std::ops::Range<usize>) -> Vec<Vec<f32>> {
    signal.iter().map(|c| c[range.clone()].to_vec()).collect()
}

/// `changed` records outside `activate` or off the main thread, for the failure message.
fn latency_violations(records: &[CallbackRecord]) -> Vec<String> {
    records
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.callback == Callback::LatencyChanged
                && (r.phase != Phase::Activating || r.thread != CallerThread::Main)
        })
        .map(|(i, r)| {
            format!(
                "callback #{i}: latency.changed in {:?} on {:?}",
                r.phase, r.thread
            )
        })
        .collect()
}

#[test]
fn latency_and_mode_are_not_automatable() {
    let mut plugin = load();
    let automatable = clack_extensions::params::ParamInfoFlags::IS_AUTOMATABLE.bits();
    for name in ["Lookahead", "Mode"] {
        let p = plugin.require_param(name).unwrap();
        assert_eq!(p.flags & automatable, 0, "{name} is flagged automatable");
    }
    let depth = plugin.require_param("Depth").unwrap();
    assert_ne!(depth.flags & automatable, 0, "Depth stays automatable");
}

#[test]
fn a_normal_load_asks_for_no_restart() {
    // A session saved with non-default settings (Spectral, 40 ms), restored the way hosts do:
    // create, set the state, activate, play.
    let saved = {
        let mut p = load();
        let mode = p.require_param("Mode").unwrap().id;
        let spectral = p.text_to_value(mode, "Spectral").unwrap();
        let lookahead = p.require_param("Lookahead").unwrap().id;
        p.set_params_inactive(&[(mode, spectral), (lookahead, 0.4)])
            .unwrap();
        p.save_state().unwrap()
    };
    for state in [None, Some(&saved)] {
        let mut plugin = load();
        if let Some(s) = state {
            plugin.load_state(s).unwrap();
        }
        plugin.activate(SR, 1, 512).unwrap();
        let expected = if state.is_some() { 1920 + 1024 } else { 4800 };
        assert_eq!(
            plugin.latency(),
            expected,
            "40 ms and one FFT window, or 100 ms"
        );
        let bed = stereo(&noise(0.1, 512, 1));
        let key = stereo(&speech(SR, 512));
        for _ in 0..50 {
            plugin.process(&bed, &key, &[]).unwrap();
        }
        plugin.deactivate();
        let counts = plugin.callbacks();
        let records = plugin.callback_records();
        println!(
            "load {}: {} callbacks, latency {} samples, {counts:?}",
            if state.is_some() {
                "of a session"
            } else {
                "fresh"
            },
            records.len(),
            plugin.latency()
        );
        assert_eq!(
            counts.request_restart, 0,
            "restart requested on a normal load"
        );
        assert_eq!(
            counts.latency_changed, 1,
            "the latency is reported once, in activate"
        );
        assert_eq!(latency_violations(&records), Vec::<String>::new());
    }
}

#[test]
fn latency_changes_only_inside_activate_under_parameter_fuzzing() {
    let mut plugin = load();
    let params = plugin.params();
    let max_block = 2048u32;
    plugin.activate(SR, 1, max_block).unwrap();
    plugin.set_pump_after_process(false);
    let mut rng = Rng::new(0x14);
    let bed_src = stereo(&noise(0.2, 1 << 16, 2));
    let key_src = stereo(&speech(SR, 1 << 16));
    let (mut restarts, mut reactivations, mut latency_values) = (0, 0, Vec::new());
    let mut pos = 0usize;
    for _ in 0..3_000 {
        let frames = rng.range(1, max_block as usize);
        if pos + frames > bed_src[0].len() {
            pos = 0;
        }
        let (bed, key) = (
            block(&bed_src, pos..pos + frames),
            block(&key_src, pos..pos + frames),
        );
        pos += frames;
        // Up to four changes of random parameters at random offsets in a third of the blocks.
        let mut events = Vec::new();
        if rng.unit() < 0.33 {
            for _ in 0..rng.range(1, 4) {
                let p = &params[rng.range(0, params.len() - 1)];
                let mut value = p.min + rng.unit() * (p.max - p.min);
                if p.is_stepped() {
                    value = value.round();
                }
                events.push(ParamEvent::new(
                    rng.range(0, frames - 1) as u32,
                    p.id,
                    value,
                ));
            }
        }
        let out = plugin.process(&bed, &key, &events).unwrap();
        assert!(
            out.iter().flatten().all(|x| x.is_finite()),
            "non-finite output"
        );
        // A host whose main thread runs late: sometimes it services the plugin right away,
        // sometimes only after deactivating it (what clap-validator does).
        if rng.unit() < 0.2 {
            plugin.pump_main_thread();
        }
        if plugin.restart_requested() {
            plugin.restart().unwrap();
            restarts += 1;
            latency_values.push(plugin.latency());
        } else if rng.unit() < 0.03 {
            plugin.deactivate();
            plugin.activate(SR, 1, max_block).unwrap();
            reactivations += 1;
        }
    }
    plugin.deactivate();
    let records = plugin.callback_records();
    let counts = plugin.callbacks();
    latency_values.sort_unstable();
    latency_values.dedup();
    println!(
        "{} callbacks recorded ({} dropped); {restarts} restarts on request, {reactivations} \
         other re-activations; {} distinct latencies after restarts; {counts:?}",
        records.len(),
        plugin.records_dropped(),
        latency_values.len()
    );
    assert_eq!(plugin.records_dropped(), 0);
    assert!(
        restarts >= 20,
        "the fuzzing changed the latency only {restarts} times"
    );
    assert!(latency_values.len() >= 10, "{latency_values:?}");
    assert!(counts.latency_changed > 0);
    assert_eq!(latency_violations(&records), Vec::<String>::new());
}

#[test]
fn a_lookahead_change_keeps_the_duck_through_the_restart() {
    let mut plugin = load();
    let block_len = 480usize;
    plugin.activate(SR, 1, block_len as u32).unwrap();
    let lookahead = plugin.require_param("Lookahead").unwrap().id;
    let n = (SR as usize) * 6;
    let bed_src = stereo(&sine(200.0, 0.5, SR, n));
    let key_src = stereo(&speech(SR, n));
    let mut levels = Vec::new();
    let mut restarted_at = None;
    for b in 0..n / block_len {
        let r = b * block_len..(b + 1) * block_len;
        let (bed, key) = (block(&bed_src, r.clone()), block(&key_src, r));
        let events = if b == 300 {
            // Lookahead's CLAP value is normalised: 0.6 of 0-100 ms.
            vec![ParamEvent::new(0, lookahead, 0.6)]
        } else {
            Vec::new()
        };
        let out = plugin.process(&bed, &key, &events).unwrap();
        levels.push(rms_db(&out[0]));
        if plugin.restart_requested() {
            plugin.restart().unwrap();
            restarted_at = Some(b);
        }
    }
    let at = restarted_at.expect("a Lookahead change asks for a restart");
    let undisturbed_db = rms_db(&bed_src[0][..block_len]);
    let loudest = |r: &[f64]| r.iter().cloned().fold(f64::MIN, f64::max);
    let (before, after) = (
        loudest(&levels[at - 20..=at]),
        loudest(&levels[at + 1..at + 21]),
    );
    println!(
        "restart after block {at}: bed {undisturbed_db:.2} dB, highest block before {before:.2} \
         dB, after {after:.2} dB"
    );
    // The continuous speech keeps the bed ducked: before the change it is well down, and
    // across the restart it stays down (a fresh engine would let the bed back up to its
    // undisturbed level for the new lookahead).
    assert!(before < undisturbed_db - 6.0, "{before:.2}");
    assert!(after < undisturbed_db - 6.0, "{after:.2}");
    assert!((after - before).abs() < 3.0, "{before:.2} -> {after:.2}");
}
