//! Self-test of the CLAP harness against a real third-party CLAP plugin with a sidechain:
//! ZamCompX2 from Debian's `zam-plugins` (`apt-get install -y zam-plugins`), a stereo
//! compressor with a mono "Sidechain Input" port and a "Sidechain" on/off parameter.
//!
//! Each test prints a message and returns early if the plugin is not installed.

use std::path::PathBuf;
use underscore_tests::*;

const SR: f64 = 48_000.0;
const MAX_BLOCK: u32 = 512;

/// The installed ZamCompX2 (`$ZAM_CLAP_DIR` overrides `/usr/lib/clap`). Missing, the test
/// fails with what to install: a self-test that cannot run must not pass.
fn zam_comp() -> PathBuf {
    let dir = std::env::var_os("ZAM_CLAP_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/clap"));
    let path = dir.join("ZamCompX2.clap");
    assert!(
        path.exists(),
        "{} not found: the harness self-tests need Debian's zam-plugins \
         (apt-get install -y zam-plugins) or $ZAM_CLAP_DIR",
        path.display()
    );
    path
}

fn param(plugin: &mut ClapInstance, name: &str) -> ParamInfo {
    plugin.require_param(name).unwrap()
}

/// A ZamCompX2 set up as a hard sidechain compressor: listens to the sidechain input,
/// threshold -20 dB, ratio 20:1, fast attack, no makeup gain.
fn sidechain_compressor(path: &PathBuf) -> ClapInstance {
    let mut plugin = ClapInstance::new(path, None).unwrap();
    let ids: Vec<(u32, f64)> = [
        ("Sidechain", 1.0),
        ("Threshold", -20.0),
        ("Ratio", 20.0),
        ("Attack", 1.0),
        ("Release", 50.0),
        ("Knee", 0.0),
        ("Makeup", 0.0),
    ]
    .iter()
    .map(|&(name, v)| (param(&mut plugin, name).id, v))
    .collect();
    for &(id, v) in &ids {
        plugin.set_param_inactive(id, v).unwrap();
    }
    plugin
}

#[test]
fn descriptor_ports_and_params() {
    let path = zam_comp();

    let listed = list_plugins(&path).unwrap();
    assert_eq!(listed.len(), 1);

    let mut plugin = ClapInstance::new(&path, None).unwrap();
    let d = plugin.descriptor().clone();
    println!("descriptor: {d:?}");
    assert_eq!(d.id, "com.zamaudio.ZamCompX2");
    assert_eq!(d.name, "ZamCompX2");
    assert!(d.features.iter().any(|f| f == "audio-effect"));
    assert_eq!(listed[0], d);

    // Selecting by id gives the same plugin; an unknown id is a clean error.
    let same = ClapInstance::new(&path, Some("com.zamaudio.ZamCompX2")).unwrap();
    assert_eq!(same.descriptor(), &d);
    match ClapInstance::new(&path, Some("no.such.plugin")) {
        Err(HostError::PluginNotFound { available, .. }) => {
            assert_eq!(available, vec![d.id.clone()])
        }
        other => panic!("expected PluginNotFound, got {:?}", other.err()),
    }

    let inputs = plugin.audio_ports(true);
    let outputs = plugin.audio_ports(false);
    println!("inputs: {inputs:?}\noutputs: {outputs:?}");
    assert_eq!(inputs.len(), 2);
    assert!(inputs[0].is_main);
    assert_eq!(inputs[0].channel_count, 2);
    assert!(!inputs[1].is_main);
    assert_eq!(inputs[1].channel_count, 1);
    assert!(inputs[1].name.to_lowercase().contains("sidechain"));
    assert_eq!(outputs.len(), 1);
    assert!(outputs[0].is_main);
    assert_eq!(outputs[0].channel_count, 2);

    let params = plugin.params();
    for p in &params {
        println!("param: {p:?}");
    }
    assert!(params.len() >= 9);
    let thr = param(&mut plugin, "Threshold");
    assert_eq!(
        plugin.param_by_name("threshold").map(|p| p.id),
        Some(thr.id)
    );
    assert!(plugin.param_by_name("No Such Param").is_none());
    assert!(matches!(
        plugin.require_param("No Such Param"),
        Err(HostError::UnknownParam(_))
    ));
    assert_eq!((thr.min, thr.max, thr.default), (-80.0, 0.0, 0.0));
    assert_eq!(plugin.param_value(thr.id).unwrap(), thr.default);

    let text = plugin.value_to_text(thr.id, -12.5).unwrap();
    println!("value_to_text(Threshold, -12.5) = {text:?}");
    assert!(text.starts_with("-12.5"), "{text}");
    // DPF's text_to_value may or may not parse; the harness must just not panic.
    println!(
        "text_to_value(Threshold, \"-20\") = {:?}",
        plugin.text_to_value(thr.id, "-20")
    );

    // No latency extension in ZamCompX2: the harness reports 0.
    assert!(!plugin.has_latency_extension());
    assert_eq!(plugin.latency(), 0);
}

#[test]
fn set_param_inactive_and_events_reach_the_plugin() {
    let path = zam_comp();
    let mut plugin = ClapInstance::new(&path, None).unwrap();
    let thr = param(&mut plugin, "Threshold");
    let ratio = param(&mut plugin, "Ratio");

    // Flush while inactive.
    plugin.set_param_inactive(thr.id, -30.0).unwrap();
    assert_eq!(plugin.param_value(thr.id).unwrap(), -30.0);

    plugin.activate(SR, 1, MAX_BLOCK).unwrap();
    assert!(plugin.is_active());
    assert!(matches!(
        plugin.activate(SR, 1, MAX_BLOCK),
        Err(HostError::AlreadyActive)
    ));

    // Flush while active (between process calls).
    plugin.set_param_inactive(ratio.id, 8.0).unwrap();
    assert_eq!(plugin.param_value(ratio.id).unwrap(), 8.0);

    // In-process events, at absolute positions, routed into the right blocks.
    let n = 4_000;
    let main = stereo(&sine(440.0, 0.1, SR, n));
    let events = [
        ParamEvent::new(1_000, thr.id, -50.0),
        ParamEvent::new(3_999, ratio.id, 2.0),
    ];
    let out = plugin.render(&main, &[], 300usize, &events).unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].len(), n);
    assert_eq!(plugin.param_value(thr.id).unwrap(), -50.0);
    assert_eq!(plugin.param_value(ratio.id).unwrap(), 2.0);
    assert_eq!(plugin.steady_time(), n as u64);

    // Events outside the block / signal are rejected, not sent.
    let block = stereo(&sine(440.0, 0.1, SR, 64));
    assert!(matches!(
        plugin.process(&block, &[], &[ParamEvent::new(64, thr.id, -10.0)]),
        Err(HostError::InvalidInput(_))
    ));
    assert!(matches!(
        plugin.render(&block, &[], 16usize, &[ParamEvent::new(64, thr.id, -10.0)]),
        Err(HostError::InvalidInput(_))
    ));
    assert_eq!(plugin.param_value(thr.id).unwrap(), -50.0);

    plugin.deactivate();
    assert!(!plugin.is_active());
    // Flush works again once inactive.
    plugin.set_param_inactive(thr.id, -5.0).unwrap();
    assert_eq!(plugin.param_value(thr.id).unwrap(), -5.0);
}

#[test]
fn passes_audio_with_the_right_shape() {
    let path = zam_comp();
    let mut plugin = ClapInstance::new(&path, None).unwrap();
    // Threshold 0 dB (default): a -20 dBFS sine is not compressed.
    plugin.activate(SR, 1, MAX_BLOCK).unwrap();
    let (ports, main_idx, aux_idx) = plugin.input_routing().unwrap();
    assert_eq!(ports.len(), 2);
    assert_eq!((main_idx, aux_idx), (Some(0), Some(1)));

    let n = MAX_BLOCK as usize;
    let input = stereo(&sine(1_000.0, 0.1, SR, n));
    // aux_in empty => silence of the sidechain's channel count.
    let out = plugin.process(&input, &[], &[]).unwrap();
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|c| c.len() == n));
    assert!(all_finite(&out));
    assert!(plugin.last_process_status().is_some());

    let mut levels = Vec::new();
    for _ in 0..20 {
        let out = plugin.process(&input, &[], &[]).unwrap();
        levels.push(rms_db(&out[0]));
    }
    let in_db = rms_db(&input[0]);
    let out_db = *levels.last().unwrap();
    println!("unity pass: in {in_db:.2} dB, out {out_db:.2} dB");
    assert!((out_db - in_db).abs() < 1.0, "in {in_db} out {out_db}");

    // Shape errors are reported, not panics.
    let mono = vec![sine(1_000.0, 0.1, SR, n)];
    assert!(matches!(
        plugin.process(&mono, &[], &[]),
        Err(HostError::InvalidInput(_))
    ));
    let stereo_sc = stereo(&sine(1_000.0, 0.1, SR, n));
    assert!(matches!(
        plugin.process(&input, &stereo_sc, &[]),
        Err(HostError::InvalidInput(_))
    ));
    let too_long = stereo(&sine(1_000.0, 0.1, SR, n + 1));
    assert!(matches!(
        plugin.process(&too_long, &[], &[]),
        Err(HostError::InvalidInput(_))
    ));
    let ragged = vec![vec![0.0; n], vec![0.0; n - 1]];
    assert!(matches!(
        plugin.process(&ragged, &[], &[]),
        Err(HostError::InvalidInput(_))
    ));

    // Short final blocks and irregular block sizes are fine.
    let sig = stereo(&sine(1_000.0, 0.1, SR, 10_007));
    let out = plugin.render(&sig, &[], 512usize, &[]).unwrap();
    assert_eq!(out[0].len(), 10_007);
    let mut k = 0usize;
    let out2 = plugin
        .render(
            &sig,
            &[],
            || {
                k += 1;
                [1, 17, 512, 100, 2000][k % 5]
            },
            &[],
        )
        .unwrap();
    assert_eq!(out2[1].len(), 10_007);
    assert!(all_finite(&out2));

    plugin.stop_processing();
    let out = plugin.process(&input, &[], &[]).unwrap();
    assert!(all_finite(&out));

    plugin.restart().unwrap();
    assert!(plugin.is_active());
    assert_eq!(plugin.audio_config(), Some((SR, 1, MAX_BLOCK)));
    plugin.deactivate();
    assert!(matches!(
        plugin.process(&input, &[], &[]),
        Err(HostError::NotActive)
    ));
}

#[test]
fn sidechain_signal_drives_gain_reduction() {
    let path = zam_comp();
    let mut plugin = sidechain_compressor(&path);
    plugin.activate(SR, 1, MAX_BLOCK).unwrap();

    let n = SR as usize; // 1 s
    let music = stereo(&sine(220.0, 0.05, SR, n)); // -29 dB RMS, below the threshold
    let loud_key = vec![sine(1_000.0, 0.9, SR, n)]; // ~ -4 dB RMS on the sidechain
    let tail = n / 2..n; // measure the settled second half

    let quiet_out = plugin.render(&music, &[], 256usize, &[]).unwrap();
    let quiet_db = rms_db(&quiet_out[0][tail.clone()]);

    let keyed_out = plugin.render(&music, &loud_key, 256usize, &[]).unwrap();
    let keyed_db = rms_db(&keyed_out[0][tail.clone()]);
    let gr_id = param(&mut plugin, "Gain Reduction").id;
    let gr = plugin.param_value(gr_id).unwrap();

    // And back: the key stops, the gain recovers.
    let recovered = plugin.render(&music, &[], 256usize, &[]).unwrap();
    let recovered_db = rms_db(&recovered[0][tail.clone()]);

    let in_db = rms_db(&music[0]);
    println!(
        "ZamCompX2 sidechain: in {in_db:.2} dB | no key {quiet_db:.2} dB | loud key \
         {keyed_db:.2} dB (reported GR {gr:.2} dB) | key off again {recovered_db:.2} dB"
    );
    assert!(all_finite(&keyed_out));
    assert!(
        (quiet_db - in_db).abs() < 1.0,
        "no key should leave the level alone"
    );
    assert!(
        quiet_db - keyed_db >= 10.0,
        "loud sidechain should duck by >= 10 dB: {quiet_db:.2} -> {keyed_db:.2}"
    );
    assert!(gr > 6.0, "plugin-reported gain reduction {gr}");
    // The measured ducking matches what the plugin itself reports, within 1.5 dB.
    assert!(
        (quiet_db - keyed_db - gr).abs() < 1.5,
        "measured vs reported GR"
    );
    assert!((recovered_db - quiet_db).abs() < 1.0);

    // With the Sidechain switch off the same key does nothing: the aux port really is the key.
    let sc = param(&mut plugin, "Sidechain");
    plugin.set_param_inactive(sc.id, 0.0).unwrap();
    let ignored = plugin.render(&music, &loud_key, 256usize, &[]).unwrap();
    let ignored_db = rms_db(&ignored[0][tail]);
    println!("ZamCompX2 sidechain switched off, loud key: {ignored_db:.2} dB");
    assert!((ignored_db - quiet_db).abs() < 1.0);
}

#[test]
fn block_size_does_not_change_the_result() {
    let path = zam_comp();
    let n = 20_000;
    let music = stereo(&noise(0.3, n, 1));
    let key = vec![sine(3.0, 0.9, SR, n)]; // slow swell on the key
    let run = |blocks: &mut dyn FnMut() -> usize| {
        let mut plugin = sidechain_compressor(&path);
        plugin.activate(SR, 1, MAX_BLOCK).unwrap();
        plugin.render(&music, &key, &mut *blocks, &[]).unwrap()
    };
    let a = run(&mut || 512);
    let mut i = 0usize;
    let b = run(&mut || {
        i += 1;
        [7, 333, 1, 512, 64][i % 5]
    });
    let max_diff = a
        .iter()
        .zip(&b)
        .flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs()))
        .fold(0.0f32, f32::max);
    println!("max |diff| between 512-blocks and irregular blocks: {max_diff:e}");
    assert!(max_diff < 1e-6, "{max_diff}");
}

#[test]
fn render_routes_events_to_the_right_block() {
    // This DPF build applies a parameter event at the start of the block that carries it
    // (not at the event's sample). So the first sample where a Threshold change shows in the
    // output is the start of the block the harness put the event in: with 1-frame blocks the
    // event's own sample, with 100-frame blocks the enclosing multiple of 100.
    let path = zam_comp();
    let n = 20_000;
    let music = stereo(&noise(0.3, n, 1));
    let run = |block: usize, at: u32| {
        let mut plugin = ClapInstance::new(&path, None).unwrap();
        let thr = param(&mut plugin, "Threshold").id;
        plugin.set_param_inactive(thr, -10.0).unwrap();
        plugin.activate(SR, 1, MAX_BLOCK).unwrap();
        plugin
            .render(&music, &[], block, &[ParamEvent::new(at, thr, -40.0)])
            .unwrap()
    };
    let reference = run(512, (n - 1) as u32);
    let first_change =
        |out: &[Vec<f32>]| out[0].iter().zip(&reference[0]).position(|(a, b)| a != b);
    for (block, at, expect) in [(1, 7_777, 7_777), (100, 7_777, 7_700), (512, 7_777, 7_680)] {
        let got = first_change(&run(block, at));
        println!("event at {at}, blocks of {block}: output changes from sample {got:?}");
        assert_eq!(got, Some(expect));
    }
}

#[test]
fn state_without_the_extension_is_a_clean_error() {
    let path = zam_comp();
    let mut plugin = ClapInstance::new(&path, None).unwrap();
    // ZamCompX2's CLAP build exposes no clap.state extension (checked: clap.audio-ports,
    // clap.params, clap.timer-support, clap.gui only). The round trip must fail cleanly.
    assert_eq!(
        plugin.save_state(),
        Err(HostError::MissingExtension("state"))
    );
    assert_eq!(
        plugin.load_state(b"garbage"),
        Err(HostError::MissingExtension("state"))
    );
}

#[test]
fn missing_bundle_is_a_clean_error() {
    let bogus = PathBuf::from("/nonexistent/Nothing.clap");
    assert_eq!(
        ClapInstance::new(&bogus, None).err(),
        Some(HostError::BundleNotFound(bogus.clone()))
    );
    // A file that is not a shared library.
    let not_a_lib = std::env::temp_dir().join("underscore-harness-not-a-lib.clap");
    std::fs::write(&not_a_lib, b"not an ELF file").unwrap();
    let err = ClapInstance::new(&not_a_lib, None).err();
    println!("loading garbage: {}", err.as_ref().unwrap());
    assert!(matches!(err, Some(HostError::EntryLoad { .. })));
}

#[test]
fn bundle_path_honours_the_environment() {
    // Only reads the variable; the default must point into the workspace target dir.
    if std::env::var_os("UNDERSCORE_CLAP").is_none() {
        let p = bundle_path();
        assert!(
            p.ends_with("target/bundled/Underscore.clap"),
            "{}",
            p.display()
        );
        assert_eq!(
            p.parent().unwrap().parent().unwrap().parent().unwrap(),
            workspace_root()
        );
    }
}

#[test]
fn signal_helpers() {
    let s = sine(1_000.0, 0.5, SR, 48_000);
    assert!((rms_db(&s) - (db(0.5) - 3.0103)).abs() < 0.01);
    assert!((peak_db(&s) - db(0.5)).abs() < 0.01);
    assert_eq!(stereo(&s).len(), 2);
    assert_eq!(slice_frames(&stereo(&s), 10, 20)[1].len(), 10);
}

// ---------------------------------------------------------------------------------------------
// The zam-plugins implement neither state nor latency and never call back into the host, so the
// harness' handling of those is checked against `fixture-plugin/`, a tiny CLAP plugin (also
// loaded through the ABI) that this test builds with cargo.
// ---------------------------------------------------------------------------------------------

/// Builds `tests/fixture-plugin` once per test process and returns the `.so` path.
fn fixture() -> PathBuf {
    static BUILT: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("fixture-plugin")
                .join("Cargo.toml");
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace_root().join("target"))
                .join("harness-fixture");
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = std::process::Command::new(cargo)
                .args(["build", "--quiet", "--manifest-path"])
                .arg(&manifest)
                .arg("--target-dir")
                .arg(&target)
                .status()
                .map_err(|e| format!("cannot run cargo: {e}"))?;
            if !status.success() {
                return Err(format!("building {} failed: {status}", manifest.display()));
            }
            let lib = target.join("debug").join(format!(
                "{}harness_fixture_plugin{}",
                std::env::consts::DLL_PREFIX,
                std::env::consts::DLL_SUFFIX
            ));
            if lib.exists() {
                Ok(lib)
            } else {
                Err(format!("{} was not produced", lib.display()))
            }
        })
        .clone()
        .unwrap()
}

#[test]
fn fixture_state_round_trip_and_rejection() {
    let path = fixture();
    let mut plugin = ClapInstance::new(&path, None).unwrap();
    assert_eq!(plugin.descriptor().id, "dev.underscore.harness-fixture");
    let gain = param(&mut plugin, "Gain");
    let mix = param(&mut plugin, "AuxMix");

    plugin
        .set_params_inactive(&[(gain.id, 0.25), (mix.id, 0.5)])
        .unwrap();
    let saved = plugin.save_state().unwrap();
    println!("fixture state: {} bytes", saved.len());
    assert_eq!(&saved[..4], b"FIXT");

    plugin.set_param_inactive(gain.id, 2.0).unwrap();
    assert_eq!(plugin.param_value(gain.id).unwrap(), 2.0);
    plugin.load_state(&saved).unwrap();
    assert_eq!(plugin.param_value(gain.id).unwrap(), 0.25);
    assert_eq!(plugin.param_value(mix.id).unwrap(), 0.5);

    // The state moves to a fresh instance too.
    let mut other = ClapInstance::new(&path, None).unwrap();
    other.load_state(&saved).unwrap();
    assert_eq!(other.param_value(gain.id).unwrap(), 0.25);
    assert_eq!(other.save_state().unwrap(), saved);

    // Rejected loads come back as errors and leave the plugin usable.
    assert_eq!(plugin.load_state(b"garbage"), Err(HostError::StateLoad));
    assert_eq!(plugin.load_state(&[]), Err(HostError::StateLoad));
    assert_eq!(plugin.load_state(&saved[..10]), Err(HostError::StateLoad));
    assert_eq!(plugin.param_value(gain.id).unwrap(), 0.25);

    // Loading while active works as well (CLAP allows it on the main thread).
    plugin.activate(SR, 1, MAX_BLOCK).unwrap();
    plugin.set_param_inactive(gain.id, 1.0).unwrap();
    plugin.load_state(&saved).unwrap();
    assert_eq!(plugin.param_value(gain.id).unwrap(), 0.25);
}

#[test]
fn fixture_routes_main_and_aux_exactly() {
    let mut plugin = ClapInstance::new(fixture(), None).unwrap();
    let inputs = plugin.audio_ports(true);
    assert_eq!(inputs[1].name, "Dialogue");
    assert_eq!(inputs[1].port_type.as_deref(), Some("stereo"));
    let gain = param(&mut plugin, "Gain");
    let mix = param(&mut plugin, "AuxMix");
    plugin
        .set_params_inactive(&[(gain.id, 0.5), (mix.id, 0.25)])
        .unwrap();
    plugin.activate(SR, 1, 256).unwrap();

    let n = 1_000;
    let main = vec![sine(100.0, 0.5, SR, n), sine(200.0, 0.5, SR, n)];
    let aux = vec![noise(0.5, n, 3), noise(0.5, n, 4)];
    let out = plugin.render(&main, &aux, 256usize, &[]).unwrap();
    for ch in 0..2 {
        for i in 0..n {
            let want = main[ch][i] * 0.5 + aux[ch][i] * 0.25;
            assert!((out[ch][i] - want).abs() < 1e-6, "ch {ch} sample {i}");
        }
    }
    // Empty aux = silence.
    let out = plugin.render(&main, &[], 256usize, &[]).unwrap();
    assert!((out[1][123] - main[1][123] * 0.5).abs() < 1e-6);
    // An event at an absolute position changes the gain from exactly that block on.
    let out = plugin
        .render(&main, &[], 100usize, &[ParamEvent::new(500, gain.id, 1.0)])
        .unwrap();
    assert!((out[0][499] - main[0][499] * 0.5).abs() < 1e-6);
    assert!((out[0][500] - main[0][500]).abs() < 1e-6);
}

#[test]
fn fixture_latency_change_restart_and_callbacks() {
    let mut plugin = ClapInstance::new(fixture(), None).unwrap();
    assert!(plugin.has_latency_extension());
    let latency = param(&mut plugin, "Latency");
    let thread_ok = param(&mut plugin, "ThreadCheckOk");
    assert!(latency.is_stepped());
    assert_eq!(plugin.value_to_text(latency.id, 128.0).unwrap(), "128 smp");
    assert_eq!(plugin.text_to_value(latency.id, "64 smp"), Some(64.0));

    // Latency set while inactive shows at activation, with latency.changed.
    plugin.set_param_inactive(latency.id, 64.0).unwrap();
    plugin.activate(SR, 1, MAX_BLOCK).unwrap();
    assert!(plugin.take_latency_changed());
    assert_eq!(plugin.latency(), 64);
    assert!(!plugin.restart_requested());

    // Changing it while processing: the plugin asks for a main-thread callback from the audio
    // thread, the harness runs on_main_thread, the plugin asks for a restart there.
    let block = stereo(&sine(440.0, 0.5, SR, 256));
    plugin
        .process(&block, &[], &[ParamEvent::new(10, latency.id, 480.0)])
        .unwrap();
    let cb = plugin.callbacks();
    println!("callbacks after the latency change: {cb:?}");
    assert!(cb.request_callback >= 1);
    assert!(plugin.restart_requested());
    assert_eq!(
        plugin.latency(),
        64,
        "latency only changes on re-activation"
    );

    plugin.restart().unwrap();
    assert!(!plugin.restart_requested());
    assert!(plugin.take_latency_changed());
    assert_eq!(plugin.latency(), 480);
    assert_eq!(plugin.callbacks().latency_changed, 2);

    // While process ran, the host's thread-check said "audio thread, not main thread".
    plugin.process(&block, &[], &[]).unwrap();
    assert_eq!(plugin.param_value(thread_ok.id).unwrap(), 1.0);
}

#[test]
fn instances_on_parallel_threads_are_independent() {
    let path = fixture();
    let handles: Vec<_> = (0..4)
        .map(|k| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut plugin = ClapInstance::new(&path, None).unwrap();
                let gain = plugin.require_param("Gain").unwrap();
                let g = 0.25 * f64::from(k + 1);
                plugin.set_param_inactive(gain.id, g).unwrap();
                plugin.activate(SR, 1, 128).unwrap();
                let sig = stereo(&sine(300.0, 0.5, SR, 5_000));
                let out = plugin.render(&sig, &[], 128usize, &[]).unwrap();
                (g, rms_db(&out[0]) - rms_db(&sig[0]))
            })
        })
        .collect();
    for h in handles {
        let (g, got) = h.join().unwrap();
        assert!((got - db(g)).abs() < 0.01, "gain {g}: {got} dB");
    }
}
