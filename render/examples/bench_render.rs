//! Benchmark of the offline renderer, disk to disk: `scripts/bench-render.sh`, or
//! `cargo run --release -p underscore-render --example bench_render -- [MINUTES...] [--dir DIR]`
//! (default: 5 and 60 minutes in `$TMPDIR/underscore-bench`; `--help` lists the options).
//!
//! For each length it writes a stereo 48 kHz 32-bit float bed (music-like: tones and noise)
//! and a mono float dialogue (voiced phrases with gaps), then runs, each in a fresh child
//! process so peak memory is per run:
//!
//! * **baseline**: a plain copy of the bed (streaming read + write, no DSP): the I/O share;
//! * **spectral**: `underscore render --set mode=spectral` (the CLI's code path);
//! * **spectral + report**: the same with `--report` and `--json` (band analysis on).
//!
//! and prints wall time, times realtime and peak RSS (`VmHWM`). The input files were just
//! written, so they are read from the page cache (as on a machine with enough RAM).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use clap::{Parser, Subcommand};
use underscore_io::{AudioReader, SampleFormat, WavWriter};

/// Benchmark of `underscore render`, disk to disk: generated stereo 48 kHz float bed and mono
/// dialogue; a plain copy, a spectral render, and one with --report --json, each in a fresh
/// process; prints wall time, times realtime and peak memory.
#[derive(Debug, Parser)]
#[command(name = "bench_render", args_conflicts_with_subcommands = true)]
struct Args {
    /// Lengths to benchmark, minutes [default: 5 60].
    #[arg(value_name = "MINUTES", value_parser = clap::value_parser!(u64).range(1..))]
    minutes: Vec<u64>,
    /// Folder for the generated inputs and the outputs [default: $TMPDIR/underscore-bench;
    /// an hour needs about 3.5 GB].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// One measured run (what the benchmark spawns).
    #[command(subcommand)]
    child: Option<Measured>,
}

/// The runs, each in a child process of its own so its peak memory is its own.
#[derive(Debug, Subcommand)]
enum Measured {
    /// Copy the bed through the streaming reader and writer (no DSP).
    #[command(name = "child-copy", hide = true)]
    Copy { bed: PathBuf, out: PathBuf },
    /// The CLI's render, spectral mode.
    #[command(name = "child-render", hide = true)]
    Render {
        bed: PathBuf,
        dialogue: PathBuf,
        out: PathBuf,
    },
    /// The same with --report and --json.
    #[command(name = "child-render-report", hide = true)]
    RenderWithReport {
        bed: PathBuf,
        dialogue: PathBuf,
        out: PathBuf,
    },
}

const SR: u32 = 48_000;
/// Generation block, frames.
const BLOCK: usize = 48_000;

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Writes `minutes` of bed (stereo) and dialogue (mono) as float WAVs, streaming.
fn generate(dir: &Path, minutes: u64) -> (PathBuf, PathBuf) {
    let bed = dir.join(format!("bed_{minutes}min.wav"));
    let dx = dir.join(format!("dialogue_{minutes}min.wav"));
    if bed.exists() && dx.exists() {
        return (bed, dx);
    }
    let frames = minutes * 60 * SR as u64;
    let mut b = WavWriter::create(&bed, 2, SR, SampleFormat::Float32).expect("bed");
    let mut d = WavWriter::create(&dx, 1, SR, SampleFormat::Float32).expect("dialogue");
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let (mut l, mut r, mut k) = (
        vec![0.0f32; BLOCK],
        vec![0.0f32; BLOCK],
        vec![0.0f32; BLOCK],
    );
    let tau = std::f64::consts::TAU;
    let mut pos = 0u64;
    while pos < frames {
        let n = BLOCK.min((frames - pos) as usize);
        for i in 0..n {
            let t = (pos + i as u64) as f64 / SR as f64;
            l[i] = (0.2 * (tau * 220.0 * t).sin() + 0.08 * (tau * 1_250.0 * t).sin()) as f32
                + 0.1 * noise();
            r[i] = (0.2 * (tau * 330.0 * t).sin() + 0.06 * (tau * 2_500.0 * t).sin()) as f32
                + 0.1 * noise();
            // Phrases of 2.5 s with 1.5 s gaps, a 9-harmonic voice gliding around 140 Hz.
            let on = (t % 4.0) < 2.5;
            let f0 = 140.0 + 25.0 * (t * 0.9).sin();
            let v: f64 = (1..10)
                .map(|h| (tau * f0 * h as f64 * t).sin() / h as f64)
                .sum();
            k[i] = if on {
                (0.12 * v) as f32
            } else {
                0.0005 * noise()
            };
        }
        b.write(&[&l[..n], &r[..n]]).expect("write bed");
        d.write(&[&k[..n]]).expect("write dialogue");
        pos += n as u64;
    }
    b.finish().expect("bed");
    d.finish().expect("dialogue");
    (bed, dx)
}

/// Child: copies `bed` to `out` through the same streaming reader and writer (no DSP).
fn child_copy(bed: &Path, out: &Path) {
    let t = Instant::now();
    let mut src = AudioReader::open(bed).expect("open");
    let ch = src.channels();
    let mut sink =
        WavWriter::create(out, ch, src.sample_rate_hz(), SampleFormat::Float32).expect("create");
    let mut buf = vec![vec![0.0f32; 8_192]; ch];
    loop {
        let n = src.read(&mut buf, 8_192).expect("read");
        if n == 0 {
            break;
        }
        let slices: Vec<&[f32]> = buf.iter().map(|c| &c[..n]).collect();
        sink.write(&slices).expect("write");
    }
    sink.finish().expect("finish");
    println!(
        "elapsed_s={} vmhwm_kb={}",
        t.elapsed().as_secs_f64(),
        vm_hwm_kb()
    );
}

/// Child: the CLI's render, spectral mode, optionally with report and JSON.
fn child_render(bed: &Path, dx: &Path, out: &Path, report: bool) {
    let t = Instant::now();
    let mut args = underscore_render::RenderArgs::new(dx, bed, out);
    args.set = vec!["mode=spectral".into()];
    if report {
        args.report = Some(out.with_extension("png"));
        args.json = Some(out.with_extension("json"));
    }
    let r = underscore_render::run_render(&args).expect("render");
    println!(
        "elapsed_s={} vmhwm_kb={} speech={:.3}",
        t.elapsed().as_secs_f64(),
        vm_hwm_kb(),
        r.summary.speech_share
    );
}

/// Runs this program as a child with `args`; returns (elapsed s, peak RSS kB).
fn spawn(args: &[&str]) -> (f64, u64) {
    let exe = std::env::current_exe().expect("exe");
    let o = Command::new(exe).args(args).output().expect("spawn");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let get = |key: &str| -> f64 {
        text.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    };
    (get("elapsed_s="), get("vmhwm_kb=") as u64)
}

fn main() {
    let args = Args::parse();
    match &args.child {
        Some(Measured::Copy { bed, out }) => return child_copy(bed, out),
        Some(Measured::Render { bed, dialogue, out }) => {
            return child_render(bed, dialogue, out, false);
        }
        Some(Measured::RenderWithReport { bed, dialogue, out }) => {
            return child_render(bed, dialogue, out, true);
        }
        None => {}
    }
    let minutes = if args.minutes.is_empty() {
        vec![5, 60]
    } else {
        args.minutes.clone()
    };
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("underscore-bench"));
    std::fs::create_dir_all(&dir).expect("dir");
    println!(
        "bench_render: stereo 48 kHz float bed, mono float dialogue, in {}",
        dir.display()
    );
    println!("| length | run | wall s | x realtime | peak RSS MB |");
    println!("|---|---|---|---|---|");
    for m in minutes {
        let t = Instant::now();
        let (bed, dx) = generate(&dir, m);
        eprintln!("generated {m} min in {:.1} s", t.elapsed().as_secs_f64());
        let audio_s = (m * 60) as f64;
        let out = dir.join(format!("out_{m}min.wav"));
        let p = |x: &Path| x.to_str().expect("utf-8 path").to_string();
        let runs: [(&str, Vec<String>); 3] = [
            (
                "baseline: copy (read + write, no DSP)",
                vec!["child-copy".into(), p(&bed), p(&out)],
            ),
            (
                "render, spectral",
                vec!["child-render".into(), p(&bed), p(&dx), p(&out)],
            ),
            (
                "render, spectral + --report --json",
                vec!["child-render-report".into(), p(&bed), p(&dx), p(&out)],
            ),
        ];
        for (name, a) in runs {
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            let (elapsed, rss_kb) = spawn(&a);
            println!(
                "| {m} min | {name} | {elapsed:.2} | {:.0}x | {:.1} |",
                audio_s / elapsed,
                rss_kb as f64 / 1024.0
            );
            let _ = std::fs::remove_file(&out);
        }
    }
}
