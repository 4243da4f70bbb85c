//! The `underscore` binary, run as a user runs it, on small generated WAVs: outputs, alignment,
//! options, and every bad-input case (message names the file, non-zero exit, no output file
//! and no temporary file left behind).

mod common;

use std::path::{Path, PathBuf};

use common::{
    SR, folder, json_file, read_wav, render_args, run, run_ok, s, sine, stderr, voice, write_wav,
};
use underscore_io::testing::write_flac_verbatim;
use underscore_io::{SampleFormat, read_audio};

/// Files in `dir` whose names contain `.tmp-`.
fn temp_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().contains(".tmp-"))
        .collect()
}

/// A standard scene in `dir`: 2 s stereo bed, mono dialogue.
fn scene(dir: &Path) -> (PathBuf, PathBuf) {
    let n = 2 * SR as usize;
    let dx = dir.join("dx.wav");
    let mx = dir.join("mx.wav");
    write_wav(&dx, SR, &[voice(n)], SampleFormat::Int24);
    write_wav(
        &mx,
        SR,
        &[sine(300.0, 0.3, n), sine(450.0, 0.3, n)],
        SampleFormat::Int16,
    );
    (dx, mx)
}

/// Runs a render expected to fail: checks the exit code, that the message names `names_file`
/// and contains `problem`, and that neither the output nor a temporary file exists.
fn expect_failure(dir: &Path, args: &[&str], code: i32, names_file: &str, problem: &str) {
    let out = dir.join("out.wav");
    let mut all = vec!["render", "-o", s(&out)];
    all.extend_from_slice(args);
    let o = run(&all);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "{err}");
    assert!(
        err.contains(names_file),
        "message does not name {names_file}: {err}"
    );
    assert!(
        err.contains(problem),
        "message does not say {problem:?}: {err}"
    );
    assert!(!out.exists(), "an output file was left behind");
    assert!(
        temp_files(dir).is_empty(),
        "temporary files left: {:?}",
        temp_files(dir)
    );
}

#[test]
fn output_is_aligned_with_the_input_and_as_long() {
    let dir = folder("aligned");
    let n = 50_000;
    let dx = dir.join("dx.wav");
    let mx = dir.join("mx.wav");
    let bed = vec![sine(300.0, 0.3, n), sine(450.0, 0.3, n)];
    write_wav(&dx, SR, &[vec![0.0; n]], SampleFormat::Float32);
    write_wav(&mx, SR, &bed, SampleFormat::Float32);
    // A silent key leaves the bed untouched: the aligned output equals the input exactly.
    let out = dir.join("out.wav");
    run_ok(&render_args(&dx, &mx, s(&out), &["--quiet"]));
    let (format, sr, got) = read_wav(&out);
    assert_eq!(
        (got.len(), sr, format.sample_format()),
        (2, SR, Some(SampleFormat::Float32))
    );
    assert_eq!(got, bed);
    // Spectral mode (one more FFT window of latency) is aligned too: STFT resynthesis is exact
    // up to rounding.
    run_ok(&render_args(
        &dx,
        &mx,
        s(&out),
        &["--quiet", "--set", "mode=spectral"],
    ));
    let (_, _, got) = read_wav(&out);
    assert_eq!(got[0].len(), n);
    let worst = got
        .iter()
        .zip(&bed)
        .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()))
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "{worst}");
}

#[test]
fn renders_with_summary_mix_report_and_json() {
    let dir = folder("full");
    let (dx, mx) = scene(&dir);
    let out = dir.join("sub/mx_ducked.wav");
    let mix = dir.join("mix.wav");
    let png = dir.join("report.png");
    let json = dir.join("r.json");
    let o = run(&render_args(
        &dx,
        &mx,
        s(&out),
        &[
            "--preset",
            "drama",
            "--set",
            "depth=-12",
            "--set",
            "release=0.3s",
            "--mix-output",
            s(&mix),
            "--report",
            s(&png),
            "--json",
            s(&json),
            "--bit-depth",
            "24",
        ],
    ));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", stderr(&o));
    // Not a terminal: no progress bar on stderr.
    assert_eq!(stderr(&o), "");
    for want in [
        "speech",
        "reduction",
        "dialogue - bed",
        "x realtime",
        "wrote",
    ] {
        assert!(text.contains(want), "summary lacks {want:?}:\n{text}");
    }
    let (format, _, ducked) = read_wav(&out);
    assert_eq!(format.sample_format(), Some(SampleFormat::Int24));
    assert_eq!(ducked[0].len(), 2 * SR as usize);
    // The mix is the ducked bed plus the dialogue at -3 dB per side (within 24-bit rounding).
    let (_, _, m) = read_wav(&mix);
    let (_, _, d) = read_wav(&dx);
    for ch in 0..2 {
        for i in (0..m[ch].len()).step_by(97) {
            let want = ducked[ch][i] + d[0][i] * std::f32::consts::FRAC_1_SQRT_2;
            assert!((m[ch][i] - want).abs() < 1e-6, "{ch} {i}");
        }
    }
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let v = json_file(&json);
    assert_eq!(v["settings"]["depth"], "-12 dB");
    assert_eq!(v["settings"]["mode"], "spectral");
    assert!(v["speech_share"].as_f64().unwrap() > 0.3, "{v}");
    assert!(
        v["reduction_db"]["mean_speech"].as_f64().unwrap() > 0.5,
        "{v}"
    );
    assert!(!v["bands"].as_array().unwrap().is_empty());
    let before = v["loudness"]["dialogue_to_bed_before_lu"].as_f64().unwrap();
    let after = v["loudness"]["dialogue_to_bed_after_lu"].as_f64().unwrap();
    assert!(after > before, "{before} -> {after}");
    assert!(temp_files(&dir).is_empty());
}

#[test]
fn automation_csv_and_json_agree_and_block_size_does_not_matter() {
    let dir = folder("automation");
    let (dx, mx) = scene(&dir);
    let csv = dir.join("a.csv");
    std::fs::write(
        &csv,
        "time_s,param,value\n0.5,depth,-20 dB\n1.25,mix,50%\n1.5,bypass,on\n",
    )
    .unwrap();
    let json = dir.join("a.json");
    std::fs::write(
        &json,
        r#"[{"time_s": 0.5, "param": "depth", "value": -20},
            {"time_s": 1.25, "param": "mix", "value": "50 %"},
            {"time_s": 1.5, "param": "bypass", "value": true}]"#,
    )
    .unwrap();
    let render = |auto: &Path, block: &str, out: &str| {
        let out = dir.join(out);
        run_ok(&render_args(
            &dx,
            &mx,
            s(&out),
            &["--automation", s(auto), "--block", block, "-q"],
        ));
        read_wav(&out).2
    };
    let a = render(&csv, "512", "a.wav");
    let b = render(&json, "37", "b.wav");
    let c = render(&csv, "4096", "c.wav");
    assert!(a == b && a == c);
    // Without automation the result differs (the events did something).
    let out = dir.join("plain.wav");
    run_ok(&render_args(&dx, &mx, s(&out), &["-q"]));
    assert_ne!(read_wav(&out).2, a);
}

#[test]
fn missing_file() {
    let dir = folder("missing");
    let (_, mx) = scene(&dir);
    let nope = dir.join("nope.wav");
    expect_failure(
        &dir,
        &["--dialogue", s(&nope), "--bed", s(&mx)],
        1,
        "nope.wav",
        "file not found",
    );
}

#[test]
fn not_a_wav_and_corrupt_header() {
    let dir = folder("notwav");
    let (dx, _) = scene(&dir);
    let text = dir.join("notes.wav");
    std::fs::write(&text, "these are not samples\n".repeat(10)).unwrap();
    expect_failure(
        &dir,
        &["--dialogue", s(&dx), "--bed", s(&text)],
        1,
        "notes.wav",
        "not a WAV file",
    );
    // A RIFF/WAVE file whose fmt chunk is garbage.
    let bad = dir.join("corrupt.wav");
    let mut bytes = std::fs::read(&dx).unwrap();
    bytes[20..36].fill(0xAB);
    std::fs::write(&bad, bytes).unwrap();
    expect_failure(
        &dir,
        &["--dialogue", s(&bad), "--bed", s(&dx)],
        1,
        "corrupt.wav",
        "WAV",
    );
}

#[test]
fn truncated_wav() {
    let dir = folder("truncated");
    let (dx, mx) = scene(&dir);
    let cut = dir.join("cut.wav");
    let bytes = std::fs::read(&mx).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    expect_failure(
        &dir,
        &["--dialogue", s(&dx), "--bed", s(&cut)],
        1,
        "cut.wav",
        "truncated",
    );
    // Cut inside the header.
    std::fs::write(&cut, &bytes[..30]).unwrap();
    expect_failure(
        &dir,
        &["--dialogue", s(&dx), "--bed", s(&cut)],
        1,
        "cut.wav",
        "truncated",
    );
}

#[test]
fn mismatched_sample_rates() {
    let dir = folder("rates");
    let (_, mx) = scene(&dir);
    let dx = dir.join("dx44.wav");
    write_wav(&dx, 44_100, &[voice(88_200)], SampleFormat::Int16);
    expect_failure(
        &dir,
        &["--dialogue", s(&dx), "--bed", s(&mx)],
        1,
        "dx44.wav",
        "sample rate 44100 Hz does not match",
    );
}

#[test]
fn unsupported_sample_rate() {
    let dir = folder("rate22");
    let dx = dir.join("dx.wav");
    let mx = dir.join("mx22.wav");
    write_wav(&dx, 22_050, &[voice(22_050)], SampleFormat::Int16);
    write_wav(
        &mx,
        22_050,
        &[sine(300.0, 0.3, 22_050)],
        SampleFormat::Int16,
    );
    expect_failure(
        &dir,
        &["--dialogue", s(&dx), "--bed", s(&mx)],
        1,
        "mx22.wav",
        "unsupported sample rate",
    );
}

#[test]
fn mismatched_lengths() {
    let dir = folder("lengths");
    let (_, mx) = scene(&dir);
    let dx = dir.join("short.wav");
    write_wav(&dx, SR, &[voice(SR as usize)], SampleFormat::Int16);
    expect_failure(
        &dir,
        &["--dialogue", s(&dx), "--bed", s(&mx)],
        1,
        "short.wav",
        "does not match the bed's",
    );
}

#[test]
fn unsupported_channel_counts() {
    let dir = folder("channels");
    let (dx, mx) = scene(&dir);
    for ch in [3usize, 4] {
        let bad = dir.join(format!("bed{ch}.wav"));
        write_wav(
            &bad,
            SR,
            &vec![sine(300.0, 0.1, 2 * SR as usize); ch],
            SampleFormat::Int16,
        );
        expect_failure(
            &dir,
            &["--dialogue", s(&dx), "--bed", s(&bad)],
            1,
            &format!("bed{ch}.wav"),
            &format!("unsupported channel count {ch}"),
        );
        expect_failure(
            &dir,
            &["--dialogue", s(&bad), "--bed", s(&mx)],
            1,
            &format!("bed{ch}.wav"),
            "for the dialogue",
        );
    }
}

#[test]
fn bad_preset_and_bad_settings() {
    let dir = folder("preset");
    let (dx, mx) = scene(&dir);
    let io = ["--dialogue", s(&dx), "--bed", s(&mx)];
    let broken = dir.join("broken.json");
    std::fs::write(
        &broken,
        "{\"schema\": 1, \"name\": \"x\", \"params\": {\"depth\": -99}}",
    )
    .unwrap();
    let mut a = io.to_vec();
    a.extend(["--preset", s(&broken)]);
    expect_failure(&dir, &a, 1, "broken.json", "depth");
    let mut a = io.to_vec();
    // A name that matches no preset is a command-line mistake (2), as the README says.
    a.extend(["--preset", "no_such_preset"]);
    expect_failure(&dir, &a, 2, "no_such_preset", "no such preset");
    let mut a = io.to_vec();
    a.extend(["--set", "depth=-99"]);
    expect_failure(&dir, &a, 2, "depth", "-40..0");
    let mut a = io.to_vec();
    a.extend(["--set", "loudness=3"]);
    expect_failure(&dir, &a, 2, "loudness", "unknown parameter");
    let mut a = io.to_vec();
    a.extend(["--bit-depth", "12"]);
    expect_failure(&dir, &a, 2, "12", "bit depth");
}

#[test]
fn bad_automation_file_names_the_line() {
    let dir = folder("badauto");
    let (dx, mx) = scene(&dir);
    let csv = dir.join("auto.csv");
    std::fs::write(&csv, "time_s,param,value\n0.5,depth,-10\n1.0,depth,loud\n").unwrap();
    expect_failure(
        &dir,
        &[
            "--dialogue",
            s(&dx),
            "--bed",
            s(&mx),
            "--automation",
            s(&csv),
        ],
        1,
        "auto.csv",
        "line 3",
    );
    let missing = dir.join("none.csv");
    expect_failure(
        &dir,
        &[
            "--dialogue",
            s(&dx),
            "--bed",
            s(&mx),
            "--automation",
            s(&missing),
        ],
        1,
        "none.csv",
        "not found",
    );
}

#[test]
fn usage_errors_exit_with_2() {
    let o = run(&["render", "--bed", "x.wav"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn output_over_an_input_is_refused() {
    let dir = folder("overwrite");
    let (dx, mx) = scene(&dir);
    let before = std::fs::read(&mx).unwrap();
    let o = run(&render_args(&dx, &mx, s(&mx), &["-q"]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("must not overwrite an input"));
    assert_eq!(std::fs::read(&mx).unwrap(), before);
}

#[test]
fn surround_and_mono_layouts() {
    let dir = folder("layouts");
    let n = SR as usize;
    let v = voice(n);
    let silent = vec![0.0; n];
    let dx51 = dir.join("dx51.wav");
    write_wav(
        &dx51,
        SR,
        &[
            silent.clone(),
            silent.clone(),
            v.clone(),
            silent.clone(),
            silent.clone(),
            silent.clone(),
        ],
        SampleFormat::Float32,
    );
    let dx_mono = dir.join("dxm.wav");
    write_wav(
        &dx_mono,
        SR,
        std::slice::from_ref(&v),
        SampleFormat::Float32,
    );
    let bed51 = dir.join("bed51.wav");
    write_wav(
        &bed51,
        SR,
        &vec![sine(500.0, 0.3, n); 6],
        SampleFormat::Float32,
    );
    let bed_mono = dir.join("bedm.wav");
    write_wav(&bed_mono, SR, &[sine(500.0, 0.3, n)], SampleFormat::Float32);
    // A 5.1 key is read from its centre: the same render as the mono key on its own.
    let render = |dx: &Path, bed: &Path, out: &str| {
        let out = dir.join(out);
        let mix = dir.join(format!(
            "mix_{}",
            out.file_name().unwrap().to_str().unwrap()
        ));
        run_ok(&render_args(
            dx,
            bed,
            s(&out),
            &["--mix-output", s(&mix), "-q"],
        ));
        (read_wav(&out).2, read_wav(&mix).2)
    };
    let (a, mix) = render(&dx51, &bed51, "a.wav");
    let (b, _) = render(&dx_mono, &bed51, "b.wav");
    assert_eq!(a.len(), 6);
    assert_eq!(a, b);
    // Default 5.1 shares: the centre is ducked most, the LFE not at all.
    let tail = 14_400..24_000; // inside the first line (0.11-1.13 s)
    let level = |x: &[f32]| x[tail.clone()].iter().map(|v| v * v).sum::<f32>();
    assert!(level(&a[2]) < 0.5 * level(&a[0]) && level(&a[3]) > 0.99 * level(&sine(500.0, 0.3, n)));
    // The 5.1 dialogue goes to the mix's centre channel unchanged.
    assert!((mix[2][n / 4] - (a[2][n / 4] + v[n / 4])).abs() < 1e-6);
    let (c, _) = render(&dx51, &bed_mono, "c.wav");
    assert_eq!(c.len(), 1);
}

/// The development material: `$UNDERSCORE_MATERIAL`, else `../shared/material` beside the
/// repository. Tests that use it fail (they do not skip) when it is missing.
fn material() -> PathBuf {
    let dir = std::env::var_os("UNDERSCORE_MATERIAL")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/material"));
    assert!(
        dir.join("s1_drama_orchestral/dialogue.flac").is_file(),
        "the development material is missing: {} (set UNDERSCORE_MATERIAL=DIR)",
        dir.display()
    );
    dir
}

/// Renders `dx` + `mx` with `extra` options into `dir/out`, returns the output samples.
fn render_to(dir: &Path, dx: &Path, mx: &Path, out: &str, extra: &[&str]) -> Vec<Vec<f32>> {
    let out = dir.join(out);
    let args = [&["-q"][..], extra].concat();
    run_ok(&render_args(dx, mx, s(&out), &args));
    read_wav(&out).2
}

#[test]
fn flac_inputs_render_like_the_same_samples_in_wav() {
    let dir = folder("flac");
    let (dx, mx) = scene(&dir);
    // The same samples as the WAVs (24-bit dialogue, 16-bit bed), as FLAC.
    let dx_flac = dir.join("dx.flac");
    let mx_flac = dir.join("mx.flac");
    write_flac_verbatim(&dx_flac, SR, 24, &read_wav(&dx).2).unwrap();
    write_flac_verbatim(&mx_flac, SR, 16, &read_wav(&mx).2).unwrap();
    let spectral = ["--set", "mode=spectral"];
    let wav = render_to(&dir, &dx, &mx, "wav.wav", &spectral);
    assert_eq!(
        render_to(&dir, &dx_flac, &mx_flac, "flac.wav", &spectral),
        wav
    );
    assert_eq!(render_to(&dir, &dx_flac, &mx, "mixed.wav", &spectral), wav);
}

#[test]
fn truncated_and_mismatched_flac() {
    let dir = folder("badflac");
    let (dx, mx) = scene(&dir);
    let mx_flac = dir.join("mx.flac");
    write_flac_verbatim(&mx_flac, SR, 16, &read_wav(&mx).2).unwrap();
    // Cut in the middle of the audio: found while rendering; nothing is left behind.
    let cut = dir.join("cut.flac");
    let bytes = std::fs::read(&mx_flac).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    expect_failure(
        &dir,
        &["--dialogue", s(&dx), "--bed", s(&cut)],
        1,
        "cut.flac",
        "truncated: the data ends after about",
    );
    // Cut inside the header.
    std::fs::write(&cut, &bytes[..20]).unwrap();
    expect_failure(
        &dir,
        &["--dialogue", s(&dx), "--bed", s(&cut)],
        1,
        "cut.flac",
        "truncated: the file ends inside the FLAC header",
    );
    // A FLAC key at another rate is refused like a WAV one.
    let dx44 = dir.join("dx44.flac");
    write_flac_verbatim(&dx44, 44_100, 16, &[voice(2 * 44_100)]).unwrap();
    expect_failure(
        &dir,
        &["--dialogue", s(&dx44), "--bed", s(&mx_flac)],
        1,
        "dx44.flac",
        "sample rate 44100 Hz does not match",
    );
}

#[test]
fn material_flac_stems_render_like_their_wav_copies() {
    // Real FLAC files from an encoder (LPC subframes, stereo decorrelation), 24-bit stereo.
    let scene = material().join("s1_drama_orchestral");
    let dir = folder("material");
    let dx_flac = scene.join("dialogue.flac");
    let mx_flac = scene.join("music.flac");
    let dx = dir.join("dialogue.wav");
    let mx = dir.join("music.wav");
    for (flac, wav) in [(&dx_flac, &dx), (&mx_flac, &mx)] {
        let audio = read_audio(flac).unwrap();
        assert_eq!(audio.channels.len(), 2);
        write_wav(wav, audio.sample_rate, &audio.channels, SampleFormat::Int24);
    }
    let from_flac = render_to(&dir, &dx_flac, &mx_flac, "flac.wav", &[]);
    let from_wav = render_to(&dir, &dx, &mx, "wav.wav", &[]);
    assert_eq!(from_flac, from_wav);
    assert!(temp_files(&dir).is_empty());
}
