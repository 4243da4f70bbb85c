//! Speed of the broadband and spectral engines against a plain sidechain compressor, per stereo instance at
//! 48 kHz in 64-sample blocks. Throughput is in samples (frames) per second: divide by 48 000
//! for "times realtime".
//!
//! `cargo bench -p underscore-dsp --bench engine`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use underscore_dsp::Mode;
use underscore_dsp::{Engine, EngineParams};

mod baseline;
use baseline::PlainSidechainCompressor;

const SR: f32 = 48_000.0;

/// A processor of (bed channels, key channels) blocks.
trait StereoProcessor: FnMut(&mut [&mut [f32]], &[&[f32]]) {}
impl<F: FnMut(&mut [&mut [f32]], &[&[f32]])> StereoProcessor for F {}
const BLOCK: usize = 64;
const SECONDS: usize = 2;

/// A speech-like key: 300 ms vowels (a 140 Hz pulse train through a resonance) alternating with
/// 200 ms of silence, so detection, onsets and releases all run.
fn speech_like_key(n: usize) -> Vec<f32> {
    let period = (SR / 140.0) as usize;
    let mut y = 0.0f32;
    (0..n)
        .map(|i| {
            let t = i % 24_000;
            let x = if t < 14_400 && i % period == 0 {
                0.5
            } else {
                0.0
            };
            y = 0.9 * y + x;
            y * 0.3
        })
        .collect()
}

fn music_like_bed(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| 0.3 * (i as f32 * 0.031).sin() + 0.1 * (i as f32 * 0.173).sin())
        .collect()
}

fn bench(c: &mut Criterion) {
    let n = SECONDS * SR as usize;
    let key = speech_like_key(n);
    let bed = music_like_bed(n);
    let mut group = c.benchmark_group("stereo_48k_block64");
    group.throughput(Throughput::Elements(n as u64));

    let mut left = bed.clone();
    let mut right = bed.clone();
    // Runs one stereo processor over the whole signal in 64-sample blocks.
    let mut run = |process: &mut dyn StereoProcessor| {
        for start in (0..n).step_by(BLOCK) {
            let end = (start + BLOCK).min(n);
            let k = &key[start..end];
            process(
                &mut [&mut left[start..end], &mut right[start..end]],
                &[k, k],
            );
        }
        black_box(&left);
    };

    let mut engine = Engine::new(SR, 2);
    engine.set_params(&EngineParams::default());
    group.bench_function("underscore_broadband", |b| {
        b.iter(|| run(&mut |bed, key| engine.process_block(bed, key)))
    });
    // What an open editor costs the audio thread: the per-band analysis in Broadband mode.
    let mut shown = Engine::new(SR, 2);
    shown.set_params(&EngineParams::default());
    shown.set_analysis_enabled(true);
    group.bench_function("underscore_broadband_editor_open", |b| {
        b.iter(|| run(&mut |bed, key| shown.process_block(bed, key)))
    });
    let mut spectral = Engine::new(SR, 2);
    spectral.set_params(&EngineParams {
        mode: Mode::Spectral,
        ..Default::default()
    });
    group.bench_function("underscore_spectral", |b| {
        b.iter(|| run(&mut |bed, key| spectral.process_block(bed, key)))
    });
    let mut comp = PlainSidechainCompressor::new(SR);
    group.bench_function("baseline_plain_sidechain_compressor", |b| {
        b.iter(|| run(&mut |bed, key| comp.process_block(bed, key)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
