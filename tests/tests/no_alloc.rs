//! Underscore's `process()` (and `start_processing()`/`reset()`) never touch the allocator.
//!
//! The plugin under test is the debug build with nice-plug's `assert_process_allocs` feature,
//! which installs nice-assert-no-alloc's global allocator and aborts the whole process on any
//! (de)allocation inside `process()`:
//!
//! ```sh
//! CARGO_TARGET_DIR=target/alloc-check cargo build -p underscore --features assert_process_allocs
//! ```
//!
//! `$UNDERSCORE_ALLOC_CLAP` overrides the default path
//! `<workspace>/target/alloc-check/debug/libunderscore.so` (a CLAP plugin loads from the bare
//! shared library as well as from a bundle).
//!
//! Because an allocation aborts the process, the workload runs in a child process: the test
//! re-executes its own test binary for just this test with `$UNDERSCORE_NO_ALLOC_CHILD` set, and
//! the parent checks that the child finished the workload and exited cleanly.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use underscore_tests::*;

/// Name of this test, as the test harness knows it (`--exact`).
const TEST_NAME: &str = "process_never_allocates";
/// Set in the child's environment: run the workload instead of spawning.
const CHILD_ENV: &str = "UNDERSCORE_NO_ALLOC_CHILD";
/// The line the child prints when the workload is complete.
const DONE_MARKER: &str = "NO-ALLOC WORKLOAD COMPLETE";
/// The abort message of nice-assert-no-alloc 1.0 (`AllocDisabler::check`, abort mode, with the
/// `log` feature nice-plug-core enables): `"Memory allocation of {} bytes failed from:\n{:?}"`.
/// Its pieces are only compiled in when the check is live (debug build + the feature).
const ABORT_MESSAGE_PIECES: [&[u8]; 2] = [b"Memory allocation of ", b" bytes failed from:\n"];
/// How long the child may run.
const CHILD_TIMEOUT: Duration = Duration::from_secs(300);

const SR: f64 = 48_000.0;
const MAX_BLOCK: usize = 4_096;

fn alloc_check_plugin() -> PathBuf {
    match std::env::var_os("UNDERSCORE_ALLOC_CLAP") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => workspace_root()
            .join("target")
            .join("alloc-check")
            .join("debug")
            .join(format!(
                "{}underscore{}",
                std::env::consts::DLL_PREFIX,
                std::env::consts::DLL_SUFFIX
            )),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn process_never_allocates() {
    if std::env::var_os(CHILD_ENV).is_some() {
        workload();
        return;
    }

    let path = alloc_check_plugin();
    assert!(
        path.exists(),
        "the allocation-checking plugin build is missing: {}\nbuild it with\n  \
         CARGO_TARGET_DIR=target/alloc-check cargo build -p underscore --features \
         assert_process_allocs\n(or point $UNDERSCORE_ALLOC_CLAP at such a build)",
        path.display()
    );

    // The check must be live: a release build (or a build without the feature) compiles the
    // assertion out, and would pass this test without checking anything.
    let bytes = std::fs::read(&path).unwrap();
    for piece in ABORT_MESSAGE_PIECES {
        assert!(
            contains(&bytes, piece),
            "{} does not contain nice-assert-no-alloc's abort message {:?}: it is not a debug \
             build with the `assert_process_allocs` feature, so allocations would go unnoticed",
            path.display(),
            String::from_utf8_lossy(piece)
        );
    }
    println!(
        "{} ({} bytes) contains the no-alloc abort machinery",
        path.display(),
        bytes.len()
    );
    // ...and the marker does discriminate: the ordinary release bundle lacks it.
    if let Ok(release) = std::fs::read(bundle_path()) {
        let has = contains(&release, ABORT_MESSAGE_PIECES[0]);
        println!("release bundle contains the abort message: {has}");
        assert!(
            !has,
            "the release bundle unexpectedly contains the no-alloc check"
        );
    }

    let exe = std::env::current_exe().unwrap();
    let started = Instant::now();
    let mut child = Command::new(&exe)
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .env("UNDERSCORE_ALLOC_CLAP", &path)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot re-run {}: {e}", exe.display()));
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > CHILD_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the no-alloc child did not finish within {CHILD_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out.join().unwrap();
    let stderr = err.join().unwrap();
    println!(
        "child finished in {:.1} s with {status}\n--- child stdout ---\n{stdout}\n--- child \
         stderr ---\n{stderr}--- end ---",
        started.elapsed().as_secs_f64()
    );

    let lower = stderr.to_lowercase();
    assert!(
        !lower.contains("allocation") && !lower.contains("allocate"),
        "the plugin allocated inside process() (see the child's stderr above)"
    );
    assert!(
        status.success(),
        "the no-alloc child failed ({status}); an abort (SIGABRT) means an allocation inside \
         process()"
    );
    assert!(
        stdout.contains(DONE_MARKER),
        "the child exited cleanly but did not run the workload (test filtered out?)"
    );
}

/// A dialogue track the voice detector hears as speech: lines of real speech (the bundled demo
/// dialogue's continuous stretch) of 0.4-3 s at -20..+6 dB from its level (about -25 dBFS),
/// with pauses of 0.3-1.5 s between them. A synthetic voice (a harmonic tone with a gliding
/// pitch) would not do: the detector rightly takes it for a buzz, and the duck path would not
/// run.
fn dialogue_key(n: usize, rng: &mut Rng) -> Vec<f32> {
    let voice = speech(SR, n);
    let mut out = vec![0.0f32; n];
    let mut t = (0.2 * SR) as usize;
    while t < n {
        let len = rng
            .range((0.4 * SR) as usize, (3.0 * SR) as usize)
            .min(n - t);
        let gain = db_to_gain(-20.0 + 26.0 * rng.unit()) as f32;
        for i in t..t + len {
            out[i] = gain * voice[i];
        }
        t += len + rng.range((0.3 * SR) as usize, (1.5 * SR) as usize);
    }
    out
}

/// The child's workload: first 2 s of speech at the default settings, which must duck the bed
/// (so the voice detector, the envelope and the gain stage all ran in the checked `process()`);
/// then many blocks of random sizes with lines of speech on the key and parameter events on
/// every parameter (Lookahead and Bypass included), restarts when the plugin asks, transport
/// stops, and parameter flushes while active.
fn workload() {
    let path = alloc_check_plugin();
    let mut plugin = ClapInstance::new(&path, None).unwrap();
    let params = plugin.params();
    println!(
        "child: {} with {} parameters: {:?}",
        path.display(),
        params.len(),
        params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>()
    );
    for name in ["Depth", "Lookahead", "Bypass"] {
        assert!(params.iter().any(|p| p.name == name), "{name} missing");
    }
    plugin.activate(SR, 1, MAX_BLOCK as u32).unwrap();
    if plugin.restart_requested() {
        plugin.restart().unwrap();
    }

    // The duck path runs: the demo's first line (1 s) from 0.5 s, the bed measured at 1.0-1.45
    // s (defaults: Depth -10 dB; the bed is delayed by the reported latency).
    let lat = plugin.latency() as usize;
    let m = (2.0 * SR) as usize;
    let voice = speech_after_silence(SR, (0.5 * SR) as usize, m);
    let tone = sine(220.0, 0.3, SR, m);
    let out = plugin
        .render(&stereo(&tone), &stereo(&voice), 512usize, &[])
        .unwrap();
    let (from, to) = ((1.0 * SR) as usize, (1.45 * SR) as usize);
    let duck = rms_db(&out[0][from..to]) - rms_db(&tone[from - lat..to - lat]);
    println!("child: speech at the default settings ducks the bed by {duck:+.2} dB");
    assert!(duck < -6.0, "speech did not duck the bed: {duck:+.2} dB");

    // Linked buses: a second instance in Link group 1 (Spectral, Ambience) runs beside this
    // one through the rest of the workload; this one joins group 1 now (Spectral, on the
    // audio thread: the join is a compare-and-swap on a preallocated slot) and later moves
    // between groups as the random events below set Link.
    let mut partner = ClapInstance::new(&path, None).unwrap();
    let find = |p: &[ParamInfo], name: &str| p.iter().find(|x| x.name == name).unwrap().clone();
    let partner_params = partner.params();
    let (mode, link, role) = (
        find(&partner_params, "Mode"),
        find(&partner_params, "Link"),
        find(&partner_params, "Role"),
    );
    // Choices are exposed as their steps: Spectral is the second of two, group 1 the second
    // of nine (Off, 1..8), Ambience the third of three.
    partner
        .set_params_inactive(&[
            (mode.id, mode.max),
            (link.id, link.min + 1.0),
            (role.id, role.max),
        ])
        .unwrap();
    partner.activate(SR, 1, MAX_BLOCK as u32).unwrap();
    if partner.restart_requested() {
        partner.restart().unwrap();
    }
    let join = [
        ParamEvent::new(0, mode.id, mode.max),
        ParamEvent::new(0, link.id, link.min + 1.0),
    ];
    let m = (3.0 * SR) as usize;
    let linked_voice = speech_after_silence(SR, (0.5 * SR) as usize, m);
    let music = sine(440.0, 0.2, SR, m);
    let amb = noise(0.05, m, 3);
    for (i, start) in (0..m).step_by(512).enumerate() {
        let end = (start + 512).min(m);
        let k = linked_voice[start..end].to_vec();
        let events: &[ParamEvent] = if i == 0 { &join } else { &[] };
        let a = plugin
            .process(&stereo(&music[start..end]), &[k.clone(), k.clone()], events)
            .unwrap();
        let b = partner
            .process(&stereo(&amb[start..end]), &[k.clone(), k], &[])
            .unwrap();
        assert!(all_finite(&a) && all_finite(&b), "non-finite linked output");
        if plugin.restart_requested() {
            plugin.restart().unwrap();
        }
    }
    println!("child: 3 s with two instances linked in group 1 (Spectral)");

    let mut rng = Rng::new(0x00A1_10C5_EED5);
    let seconds = 30.0;
    let n = (seconds * SR) as usize;
    let key = dialogue_key(n, &mut rng);
    let bed_l = noise(0.3, n, 1);
    let bed_r = sine(220.0, 0.3, SR, n);

    let mut pos = 0usize;
    let mut blocks = 0usize;
    let mut events_sent = 0usize;
    let mut per_param = vec![0usize; params.len()];
    let mut restarts = 0usize;
    let mut stops = 0usize;
    let mut flushes = 0usize;
    let mut peak = 0.0f64;
    let mut next_param = 0usize;
    while pos < n {
        let len = rng.range(1, MAX_BLOCK).min(n - pos);
        let main = vec![
            bed_l[pos..pos + len].to_vec(),
            bed_r[pos..pos + len].to_vec(),
        ];
        let k = key[pos..pos + len].to_vec();
        let aux = vec![k.clone(), k];

        // 0..4 events at random offsets, cycling through every parameter.
        let mut events = Vec::new();
        for _ in 0..rng.range(0, 4) {
            let i = next_param % params.len();
            next_param += 1;
            let p = &params[i];
            let mut v = p.min + (p.max - p.min) * rng.unit();
            if p.is_stepped() {
                v = v.round();
            }
            if p.is_bypass() {
                // Keep Bypass mostly off so the ducking path runs too.
                v = if rng.unit() < 0.25 { p.max } else { p.min };
            }
            events.push(ParamEvent::new(rng.range(0, len - 1) as u32, p.id, v));
            per_param[i] += 1;
        }
        events_sent += events.len();

        let out = plugin.process(&main, &aux, &events).unwrap();
        assert!(all_finite(&out), "non-finite output in block {blocks}");
        let other = vec![
            bed_r[pos..pos + len].to_vec(),
            bed_l[pos..pos + len].to_vec(),
        ];
        let partner_out = partner.process(&other, &aux, &[]).unwrap();
        assert!(
            all_finite(&partner_out),
            "non-finite partner output in block {blocks}"
        );
        peak = out
            .iter()
            .map(|c| underscore_tests::peak(c))
            .fold(peak, f64::max);
        blocks += 1;
        pos += len;

        // Host duties between blocks (main thread; allocating here is allowed).
        if plugin.restart_requested() {
            plugin.restart().unwrap();
            restarts += 1;
        } else if rng.unit() < 0.01 {
            plugin.stop_processing(); // the next process() starts (and resets) again
            stops += 1;
        } else if rng.unit() < 0.01 {
            let p = &params[rng.range(0, params.len() - 1)];
            if !p.is_bypass() && !p.is_stepped() {
                let v = p.min + (p.max - p.min) * rng.unit();
                plugin.set_param_inactive(p.id, v).unwrap();
                flushes += 1;
            }
        }
    }
    for (p, count) in params.iter().zip(&per_param) {
        assert!(*count > 0, "no event for {}", p.name);
    }
    println!(
        "child: {blocks} blocks, {pos} frames ({seconds} s at {SR} Hz), {events_sent} parameter \
         events (each parameter at least {}), {restarts} restarts, {stops} transport stops, \
         {flushes} active flushes, output peak {peak:.3}",
        per_param.iter().min().unwrap()
    );
    plugin.deactivate();
    partner.deactivate();
    println!("{DONE_MARKER}");
}
