//! Benchmark of the WAV reader: `cargo run --release -p underscore-io --example read_bench --
//! [--minutes M] [--runs N] [--dir DIR]`.
//!
//! Writes a stereo 48 kHz WAV of `M` minutes (default 10) as 32-bit float and as 24-bit
//! integer, then reads each file to the end into planar 8192-frame blocks, alternating, `N`
//! times (default 5) in two ways:
//!
//! * **raw blocks**: [`AudioReader`], which reads the data chunk in raw byte blocks and
//!   converts whole blocks;
//! * **hound iterator**: `hound::WavReader::samples`, one sample per iterator step, through
//!   a reader with the same 1 MiB buffer.
//!
//! It prints the best and median time of each and their ratio, and checks both give the same
//! samples (a checksum). The files were just written, so they come from the page cache: this
//! measures decoding, not the disk.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Instant;

use underscore_io::{AudioReader, SampleFormat, WavWriter};

const SR: u32 = 48_000;
const BLOCK: usize = 8_192;

/// Writes `minutes` of stereo music-like signal (two tones and noise) in `format`.
fn generate(path: &Path, minutes: u64, format: SampleFormat) {
    let frames = minutes * 60 * SR as u64;
    let mut w = WavWriter::create(path, 2, SR, format).expect("create");
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let (mut l, mut r) = (vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]);
    let mut pos = 0u64;
    while pos < frames {
        let n = BLOCK.min((frames - pos) as usize);
        for i in 0..n {
            let t = (pos + i as u64) as f32 / SR as f32;
            l[i] = 0.3 * (std::f32::consts::TAU * 220.0 * t).sin() + 0.1 * noise();
            r[i] = 0.3 * (std::f32::consts::TAU * 330.0 * t).sin() + 0.1 * noise();
        }
        w.write(&[&l[..n], &r[..n]]).expect("write");
        pos += n as u64;
    }
    w.finish().expect("finish");
}

/// Sum of all samples read, to compare the two readers and keep the work observable.
fn checksum(block: &[Vec<f32>], n: usize) -> f64 {
    block
        .iter()
        .map(|c| c[..n].iter().map(|&v| v as f64).sum::<f64>())
        .sum()
}

/// Reads `path` with [`AudioReader`] (raw blocks); returns (seconds, checksum).
fn read_raw_blocks(path: &Path) -> (f64, f64) {
    let t = Instant::now();
    let mut r = AudioReader::open(path).expect("open");
    let mut block = vec![vec![0.0f32; BLOCK]; r.channels()];
    let mut sum = 0.0;
    loop {
        let n = r.read(&mut block, BLOCK).expect("read");
        if n == 0 {
            break;
        }
        sum += checksum(&block, n);
    }
    (t.elapsed().as_secs_f64(), sum)
}

/// Reads `path` with hound's per-sample iterator into the same planar blocks.
fn read_hound_iterator(path: &Path) -> (f64, f64) {
    let t = Instant::now();
    let file = BufReader::with_capacity(1 << 20, File::open(path).expect("open"));
    let mut r = hound::WavReader::new(file).expect("header");
    let spec = r.spec();
    let ch = spec.channels as usize;
    let mut block = vec![vec![0.0f32; BLOCK]; ch];
    let mut sum = 0.0;
    let mut left = r.duration() as usize;
    match spec.sample_format {
        hound::SampleFormat::Float => {
            let mut it = r.samples::<f32>();
            while left > 0 {
                let n = left.min(BLOCK);
                for i in 0..n {
                    for c in block.iter_mut() {
                        c[i] = it.next().expect("sample").expect("read");
                    }
                }
                sum += checksum(&block, n);
                left -= n;
            }
        }
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            let mut it = r.samples::<i32>();
            while left > 0 {
                let n = left.min(BLOCK);
                for i in 0..n {
                    for c in block.iter_mut() {
                        c[i] = it.next().expect("sample").expect("read") as f32 * scale;
                    }
                }
                sum += checksum(&block, n);
                left -= n;
            }
        }
    }
    (t.elapsed().as_secs_f64(), sum)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut minutes = 10u64;
    let mut runs = 5usize;
    let mut dir = std::env::temp_dir().join("underscore-io-bench");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--minutes" => minutes = value().parse().expect("--minutes M"),
            "--runs" => runs = value().parse().expect("--runs N"),
            "--dir" => dir = PathBuf::from(value()),
            other => panic!("unknown argument {other} (--minutes M, --runs N, --dir DIR)"),
        }
    }
    std::fs::create_dir_all(&dir).expect("dir");
    println!(
        "read_bench: {minutes} min stereo 48 kHz WAV, {runs} runs each, best / median seconds"
    );
    println!("| file | raw blocks (AudioReader) | hound iterator | hound / raw (best) |");
    println!("|---|---|---|---|");
    for format in [SampleFormat::Float32, SampleFormat::Int24] {
        let path = dir.join(format!("bench_{minutes}min_{}.wav", format.bits()));
        generate(&path, minutes, format);
        let (mut raw, mut iter) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let (t_raw, sum_raw) = read_raw_blocks(&path);
            let (t_iter, sum_iter) = read_hound_iterator(&path);
            assert_eq!(sum_raw, sum_iter, "the two readers disagree");
            raw.push(t_raw);
            iter.push(t_iter);
        }
        let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
        println!(
            "| {} | {:.3} / {:.3} | {:.3} / {:.3} | {:.2}x |",
            format.describe(),
            best(&raw),
            median(raw.clone()),
            best(&iter),
            median(iter.clone()),
            best(&iter) / best(&raw)
        );
        let _ = std::fs::remove_file(&path);
    }
}
