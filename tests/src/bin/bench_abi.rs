//! `bench-abi`: the CPU that Underscore costs a host, measured through the CLAP ABI beside a known
//! peer (ZamCompX2, a sidechain compressor from Debian's zam-plugins) in the same run.
//!
//! ```text
//! bench-abi [--clap FILE] [--zam FILE] [--fixture FILE | --no-fixture] [--material DIR]
//!           [--seconds S] [--runs N] [--block N] [--rate HZ] [--keys K,...] [--bed scenes|synth]
//!           [--set NAME=VALUE]... [--zam-set NAME=VALUE]... [--json FILE]
//! ```
//!
//! Every plugin is hosted as a DAW would: stereo bed on the main input and output, the key on the
//! sidechain port (stereo for Underscore, downmixed to ZamCompX2's mono port), activated at the
//! given rate with blocks of `--block` frames, parameters at their defaults (Underscore:
//! `--set`; ZamCompX2: its "Sidechain" switch on, so that it listens to the key). All audio is
//! prepared before the clock starts; only the plugin's `clap_plugin.process` call is timed, with
//! the thread's CPU clock (`CLOCK_THREAD_CPUTIME_ID`) and the monotonic wall clock, through the
//! harness' [`ProcessProbe`]. Each figure is the median (and minimum) of `--runs` runs, and the
//! plugins' runs are interleaved (key by key, in a rotating order) so that machine load affects
//! all of them alike. The Underscore / ZamCompX2 ratio is taken within each run.
//!
//! The harness' own work per block (copying inputs, events, main-thread callbacks) is timed
//! separately, and a trivial plugin (`tests/fixture-plugin`, release build) shows the floor of
//! a `process` call through the ABI.
//!
//! A plugin or material that cannot be loaded is an error (exit status 1), never a skip.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, ValueEnum};

use underscore_tests::audio_io::read_audio;
use underscore_tests::{ClapInstance, ProcessProbe, Rng, bundle_path, workspace_root};

/// Measures the CPU time Underscore spends inside the CLAP process() call, beside ZamCompX2 in
/// the same run, for several sidechain keys; prints a markdown table (and optionally JSON).
#[derive(Debug, Parser)]
#[command(name = "bench-abi")]
struct Options {
    /// Underscore's .clap [default: $UNDERSCORE_CLAP, else target/bundled/Underscore.clap].
    #[arg(long, value_name = "FILE")]
    clap: Option<PathBuf>,
    /// The peer plugin [default: $ZAM_CLAP_DIR/ZamCompX2.clap, else /usr/lib/clap/ZamCompX2.clap].
    #[arg(long, value_name = "FILE")]
    zam: Option<PathBuf>,
    /// The trivial harness fixture plugin, release build, for the ABI floor [default:
    /// <target>/harness-fixture/release/libharness_fixture_plugin.so].
    #[arg(long, value_name = "FILE", conflicts_with = "no_fixture")]
    fixture: Option<PathBuf>,
    /// Leave out the fixture plugin (no ABI-floor rows).
    #[arg(long)]
    no_fixture: bool,
    /// The scene folders' parent (dialogue.flac and music.flac in each) [default:
    /// ../shared/material beside the repository].
    #[arg(long, value_name = "DIR")]
    material: Option<PathBuf>,
    /// Seconds of audio per measurement.
    #[arg(long, value_name = "S", default_value_t = 60.0)]
    seconds: f64,
    /// Measurements per plugin and key (the median and minimum are reported).
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Frames per process call.
    #[arg(long, value_name = "N", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..))]
    block: u32,
    /// Sample rate in Hz (the material is resampled linearly if it differs).
    #[arg(long, value_name = "HZ", default_value_t = 48_000,
          value_parser = clap::value_parser!(u32).range(8_000..=768_000))]
    rate: u32,
    /// The sidechain keys to measure, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "synth-speech,speech,pink-noise,silence"
    )]
    keys: Vec<KeyKind>,
    /// The bed: the scenes' music stems, or a synthetic music-like signal.
    #[arg(long, value_enum, default_value_t = BedKind::Scenes)]
    bed: BedKind,
    /// An Underscore parameter by name, as its text field takes it (`Mode=Spectral`,
    /// `Depth=-15`); repeatable.
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = underscore_tests::name_value)]
    settings: Vec<(String, String)>,
    /// A ZamCompX2 parameter by name and plain value (`Threshold=-30`); repeatable. Its
    /// "Sidechain" switch is always set to 1 first (so that it listens to the key).
    #[arg(long = "zam-set", value_name = "NAME=VALUE", value_parser = underscore_tests::name_value)]
    zam_settings: Vec<(String, String)>,
    /// Linked buses: a second Underscore instance with the `--set` settings and then these
    /// (`Link=1`, `Role=Ambience`; repeatable) processes the bed with its channels swapped,
    /// untimed, before each timed block of the measured instance: the measured one is then a
    /// linked member (give it `--set Link=1` too). Only Underscore's passes get a partner.
    #[arg(long = "partner-set", value_name = "NAME=VALUE", value_parser = underscore_tests::name_value)]
    partner_settings: Vec<(String, String)>,
    /// Also write the figures to this JSON file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum KeyKind {
    /// Continuous speech-like synthesis: a glottal pulse train through formant resonances,
    /// syllables and pauses (deterministic).
    SynthSpeech,
    /// The scenes' dialogue stems, one after the other, looped to length.
    Speech,
    /// Pink noise at -30 dBFS RMS, independent per channel.
    PinkNoise,
    /// A silent key.
    Silence,
}

impl KeyKind {
    fn label(self) -> &'static str {
        match self {
            Self::SynthSpeech => "synthetic speech",
            Self::Speech => "speech (scenes)",
            Self::PinkNoise => "pink noise -30 dBFS",
            Self::Silence => "silence",
        }
    }

    fn id(self) -> &'static str {
        match self {
            Self::SynthSpeech => "synth-speech",
            Self::Speech => "speech",
            Self::PinkNoise => "pink-noise",
            Self::Silence => "silence",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BedKind {
    /// The scenes' music stems, one after the other, looped to length.
    Scenes,
    /// A synthetic music-like stereo signal (chords, bass, drums; deterministic).
    Synth,
}

// ---------------------------------------------------------------------------------------------
// Clocks
// ---------------------------------------------------------------------------------------------

fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; clock_gettime only writes into it.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        return 0;
    }
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

/// CPU time consumed by the calling thread (`CLOCK_THREAD_CPUTIME_ID`), in ns.
fn thread_cpu_ns() -> u64 {
    clock_ns(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time consumed by all threads of the process (`CLOCK_PROCESS_CPUTIME_ID`), in ns.
fn process_cpu_ns() -> u64 {
    clock_ns(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// Monotonic wall time, in ns.
fn wall_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

/// Times each `clap_plugin.process` call: the CPU interval is nested inside the wall interval,
/// so the CPU figure contains no wall-clock read. Stores nothing but integers.
#[derive(Default)]
struct ClockProbe {
    wall0: u64,
    cpu0: u64,
    last_cpu: u64,
    last_wall: u64,
}

impl ProcessProbe for ClockProbe {
    fn before(&mut self) {
        self.wall0 = wall_ns();
        self.cpu0 = thread_cpu_ns();
    }

    fn after(&mut self) {
        let cpu1 = thread_cpu_ns();
        let wall1 = wall_ns();
        self.last_cpu = cpu1.saturating_sub(self.cpu0);
        self.last_wall = wall1.saturating_sub(self.wall0);
    }
}

/// What the probe itself adds to one measured interval: the median CPU time of `before()`
/// immediately followed by `after()`.
fn timer_floor_ns() -> u64 {
    let mut probe = ClockProbe::default();
    let mut samples: Vec<u64> = (0..20_001)
        .map(|_| {
            probe.before();
            probe.after();
            probe.last_cpu
        })
        .collect();
    median_u64(&mut samples)
}

/// The CPU cost of one read of `clock`, ns: the mean over a run of reads.
fn clock_read_ns(clock: fn() -> u64) -> f64 {
    const N: u64 = 20_000;
    let t0 = thread_cpu_ns();
    let mut sink = 0u64;
    for _ in 0..N {
        sink = sink.wrapping_add(clock());
    }
    std::hint::black_box(sink);
    thread_cpu_ns().saturating_sub(t0) as f64 / N as f64
}

fn median_u64(v: &mut [u64]) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[v.len() / 2]
}

fn median_f64(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

fn min_f64(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

// ---------------------------------------------------------------------------------------------
// Signals (all generated or read before any timing)
// ---------------------------------------------------------------------------------------------

/// Scales every channel by one gain so that the RMS over all channels is `target_db` dBFS.
fn normalise(channels: &mut [Vec<f32>], target_db: f64) {
    let n: usize = channels.iter().map(Vec::len).sum();
    if n == 0 {
        return;
    }
    let energy: f64 = channels
        .iter()
        .flat_map(|c| c.iter())
        .map(|&s| f64::from(s) * f64::from(s))
        .sum();
    let level = (energy / n as f64).sqrt();
    if level > 0.0 {
        let g = (10f64.powf(target_db / 20.0) / level) as f32;
        for c in channels.iter_mut() {
            for s in c.iter_mut() {
                *s *= g;
            }
        }
    }
}

/// A two-pole resonator (a formant): centre `freq`, bandwidth `bw` (Hz).
struct Resonator {
    a1: f64,
    a2: f64,
    gain: f64,
    y1: f64,
    y2: f64,
}

impl Resonator {
    fn new() -> Self {
        Self {
            a1: 0.0,
            a2: 0.0,
            gain: 0.0,
            y1: 0.0,
            y2: 0.0,
        }
    }

    fn tune(&mut self, freq: f64, bw: f64, sr: f64) {
        let r = (-std::f64::consts::PI * bw / sr).exp();
        let theta = std::f64::consts::TAU * freq / sr;
        self.a1 = 2.0 * r * theta.cos();
        self.a2 = -r * r;
        // roughly unity peak gain
        self.gain = (1.0 - r) * 2.0;
    }

    fn run(&mut self, x: f64) -> f64 {
        let y = self.gain * x + self.a1 * self.y1 + self.a2 * self.y2;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }
}

/// Formant frequencies (F1, F2, F3 in Hz) of a few vowels, roughly an adult speaker's.
const VOWELS: [[f64; 3]; 6] = [
    [730.0, 1090.0, 2440.0], // a
    [530.0, 1840.0, 2480.0], // e
    [270.0, 2290.0, 3010.0], // i
    [570.0, 840.0, 2410.0],  // o
    [300.0, 870.0, 2240.0],  // u
    [640.0, 1190.0, 2390.0], // schwa-ish
];

/// Continuous speech-like key, `n` frames at `sr`, -20 dBFS RMS overall, the same on both
/// channels (a centred dialogue mic): phrases of 1-3.5 s with 0.3-1.5 s pauses; syllables of
/// 120-300 ms with a raised-sine envelope (about 4-6 per second), mostly voiced (a glottal pulse
/// train with a falling, jittered pitch of 95-230 Hz through three formant resonators), some
/// unvoiced (noise through a 3.5-6.5 kHz resonance). Deterministic.
fn synth_speech(n: usize, sr: f64) -> Vec<Vec<f32>> {
    let mut rng = Rng::new(0x5EEC);
    let mut out = vec![0.0f32; n];
    let mut formants = [Resonator::new(), Resonator::new(), Resonator::new()];
    let mut fric = Resonator::new();
    let mut glottal_lp = 0.0f64;
    let mut phase = 0.0f64;
    let mut pos = 0usize;
    while pos < n {
        // a phrase
        let phrase_len = ((1.0 + 2.5 * rng.unit()) * sr) as usize;
        let phrase_end = (pos + phrase_len).min(n);
        let base_f0 = 95.0 + 135.0 * rng.unit();
        let phrase_start = pos;
        while pos < phrase_end {
            let syl_len = (((0.12 + 0.18 * rng.unit()) * sr) as usize).max(16);
            let syl_end = (pos + syl_len).min(phrase_end);
            let voiced = rng.unit() < 0.8;
            let v = VOWELS[rng.range(0, VOWELS.len() - 1)];
            let bws = [80.0, 100.0, 140.0];
            for (f, (&freq, &bw)) in formants.iter_mut().zip(v.iter().zip(&bws)) {
                f.tune(freq * (0.9 + 0.2 * rng.unit()), bw, sr);
            }
            fric.tune(3_500.0 + 3_000.0 * rng.unit(), 1_500.0, sr);
            let jitter = 0.9 + 0.2 * rng.unit();
            let len = (syl_end - pos).max(1) as f64;
            for (k, o) in out[pos..syl_end].iter_mut().enumerate() {
                let t = k as f64 / len;
                let env = (std::f64::consts::PI * t).sin().powi(2);
                let s = if voiced {
                    // pitch falls by a third over the phrase
                    let through = (pos + k - phrase_start) as f64 / phrase_len as f64;
                    let f0 = base_f0 * jitter * (1.0 - 0.33 * through);
                    phase += f0 / sr;
                    let pulse = if phase >= 1.0 {
                        phase -= 1.0;
                        1.0
                    } else {
                        0.0
                    };
                    // spectral tilt of the glottal source
                    glottal_lp += 0.3 * (pulse - glottal_lp);
                    let x = glottal_lp + 0.01 * (2.0 * rng.unit() - 1.0);
                    formants[0].run(x) + 0.5 * formants[1].run(x) + 0.25 * formants[2].run(x)
                } else {
                    fric.run(2.0 * rng.unit() - 1.0)
                };
                *o = (env * s) as f32;
            }
            pos = syl_end;
        }
        // a pause: silence (the buffer is already zero)
        pos += ((0.3 + 1.2 * rng.unit()) * sr) as usize;
    }
    let mut ch = vec![out];
    normalise(&mut ch, -20.0);
    let mono = ch.pop().unwrap_or_default();
    vec![mono.clone(), mono]
}

/// Pink noise (Voss-McCartney: 16 octave rows plus a white row), `n` frames, RMS -30 dBFS,
/// an independent sequence per channel. Deterministic.
fn pink_noise(n: usize) -> Vec<Vec<f32>> {
    let mut channels: Vec<Vec<f32>> = (0..2u64)
        .map(|c| {
            let mut rng = Rng::new(0x0091_4C00 + c);
            let mut rows = [0.0f64; 16];
            for r in rows.iter_mut() {
                *r = 2.0 * rng.unit() - 1.0;
            }
            let mut sum: f64 = rows.iter().sum();
            (1..=n as u64)
                .map(|i| {
                    // row k changes every 2^k samples
                    let k = (i.trailing_zeros() as usize).min(rows.len() - 1);
                    let new = 2.0 * rng.unit() - 1.0;
                    sum += new - rows[k];
                    rows[k] = new;
                    (sum + 2.0 * rng.unit() - 1.0) as f32
                })
                .collect()
        })
        .collect();
    normalise(&mut channels, -30.0);
    channels
}

/// Music-like stereo bed, `n` frames at `sr`, -20 dBFS RMS: a four-chord progression (2 s per
/// chord, three harmonic-rich voices panned apart), a bass line, a kick on every beat at 120 BPM
/// and a noise hi-hat on the off-beats. Deterministic.
fn synth_music(n: usize, sr: f64) -> Vec<Vec<f32>> {
    const CHORDS: [[f64; 4]; 4] = [
        [220.0, 277.18, 329.63, 110.0],  // A
        [196.0, 246.94, 293.66, 98.0],   // G
        [174.61, 220.0, 261.63, 87.31],  // F
        [164.81, 207.65, 246.94, 82.41], // E
    ];
    let pans = [0.2f64, 0.5, 0.8, 0.5];
    let mut rng = Rng::new(0xBED);
    let mut left = vec![0.0f32; n];
    let mut right = vec![0.0f32; n];
    let beat = (0.5 * sr) as usize;
    let mut phases = [0.0f64; 4];
    for i in 0..n {
        let chord = CHORDS[(i / (2 * sr as usize)) % CHORDS.len()];
        let (mut l, mut r) = (0.0f64, 0.0f64);
        for (v, (&f, ph)) in chord.iter().zip(phases.iter_mut()).enumerate() {
            *ph = (*ph + f / sr).fract();
            let x: f64 = (1..=6)
                .map(|h| (std::f64::consts::TAU * h as f64 * *ph).sin() / h as f64)
                .sum();
            let amp = if v == 3 { 0.5 } else { 0.2 };
            l += amp * x * (1.0 - pans[v]);
            r += amp * x * pans[v];
        }
        let in_beat = i % beat;
        let t = in_beat as f64 / sr;
        let kick = (std::f64::consts::TAU * 55.0 * t).sin() * (-t * 18.0).exp();
        let hat = if in_beat >= beat / 2 {
            let th = (in_beat - beat / 2) as f64 / sr;
            (2.0 * rng.unit() - 1.0) * 0.3 * (-th * 60.0).exp()
        } else {
            0.0
        };
        left[i] = (l + kick + hat) as f32;
        right[i] = (r + kick + hat) as f32;
    }
    let mut ch = vec![left, right];
    normalise(&mut ch, -20.0);
    ch
}

/// Linear-interpolation resampling (only used when `--rate` differs from the material's rate;
/// the cost of a ducker hardly depends on the exact spectrum of its input).
fn resample(x: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to || x.is_empty() {
        return x.to_vec();
    }
    let n = (x.len() as f64 * f64::from(to) / f64::from(from)) as usize;
    let step = f64::from(from) / f64::from(to);
    (0..n)
        .map(|i| {
            let p = i as f64 * step;
            let k = p as usize;
            let f = (p - k as f64) as f32;
            let a = x[k.min(x.len() - 1)];
            let b = x[(k + 1).min(x.len() - 1)];
            a + f * (b - a)
        })
        .collect()
}

/// The scene folders under `material`, sorted.
fn scene_dirs(material: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(material).map_err(|e| {
        format!(
            "cannot read the material folder {}: {e} (pass --material DIR)",
            material.display()
        )
    })?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("dialogue.flac").is_file() || p.join("dialogue.wav").is_file())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(format!(
            "{}: no scene folders with a dialogue stem",
            material.display()
        ));
    }
    Ok(dirs)
}

/// `stem` (e.g. "dialogue") of every scene, one after the other, as stereo at `rate`, looped
/// to `n` frames.
fn scene_stems(dirs: &[PathBuf], stem: &str, rate: u32, n: usize) -> Result<Vec<Vec<f32>>, String> {
    let mut all = vec![Vec::new(), Vec::new()];
    for dir in dirs {
        let flac = dir.join(format!("{stem}.flac"));
        let path = if flac.exists() {
            flac
        } else {
            dir.join(format!("{stem}.wav"))
        };
        let audio =
            read_audio(&path).map_err(|e| format!("cannot load {}: {e}", path.display()))?;
        if audio.channels.is_empty() || audio.channels[0].is_empty() {
            return Err(format!("{}: no audio", path.display()));
        }
        for (c, dst) in all.iter_mut().enumerate() {
            // a mono stem goes to both channels
            let src = &audio.channels[c.min(audio.channels.len() - 1)];
            dst.extend(resample(src, audio.sample_rate, rate));
        }
    }
    Ok(all
        .into_iter()
        .map(|c| c.iter().copied().cycle().take(n).collect())
        .collect())
}

/// The mid (L+R)/2 of a stereo signal, as a host downmixes a stereo send into a mono sidechain.
fn downmix(signal: &[Vec<f32>]) -> Vec<Vec<f32>> {
    vec![
        signal[0]
            .iter()
            .zip(&signal[1])
            .map(|(l, r)| 0.5 * (l + r))
            .collect(),
    ]
}

/// Key `ki` in the layout of `spec`'s sidechain port: the stereo key, or its mono downmix.
fn port_key<'a>(
    spec: &PluginSpec,
    ki: usize,
    keys: &'a [(KeyKind, Vec<Vec<f32>>)],
    mono_keys: &'a [Vec<Vec<f32>>],
) -> &'a [Vec<f32>] {
    if spec.key_channels == 1 {
        &mono_keys[ki]
    } else {
        &keys[ki].1
    }
}

// ---------------------------------------------------------------------------------------------
// Plugins and measurements
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Underscore,
    Zam,
    Fixture,
}

impl Which {
    fn label(self) -> &'static str {
        match self {
            Self::Underscore => "Underscore",
            Self::Zam => "ZamCompX2",
            Self::Fixture => "harness fixture (trivial)",
        }
    }
}

struct PluginSpec {
    which: Which,
    path: PathBuf,
    /// (CLAP id, plain value) set while inactive, before activation
    settings: Vec<(u32, f64)>,
    /// channels of the main input and of the sidechain port
    main_channels: u32,
    key_channels: u32,
    /// the latency reported after activation, samples
    latency: u32,
}

/// Instantiates a plugin and applies its settings (inactive), as a host restoring a project.
fn instantiate(spec: &PluginSpec) -> Result<ClapInstance, String> {
    let mut plugin =
        ClapInstance::new(&spec.path, None).map_err(|e| format!("{}: {e}", spec.which.label()))?;
    if !spec.settings.is_empty() {
        plugin
            .set_params_inactive(&spec.settings)
            .map_err(|e| format!("{}: {e}", spec.which.label()))?;
    }
    Ok(plugin)
}

/// Loads a plugin once to check it, resolve `settings` (name, text or plain value) and find its
/// port layout. Returns the spec and the parameters as the plugin displays them.
fn prepare(
    which: Which,
    path: &Path,
    settings: &[(String, String)],
    rate: f64,
    block: u32,
) -> Result<(PluginSpec, Vec<(String, String)>), String> {
    let label = which.label();
    let mut plugin = ClapInstance::new(path, None).map_err(|e| format!("{label}: {e}"))?;
    let mut resolved = Vec::new();
    for (name, value) in settings {
        let p = plugin
            .require_param(name)
            .map_err(|e| format!("{label}: {e}"))?;
        // nice-plug exposes normalised values over CLAP: let the plugin parse the text as a
        // host's text field would; plain numbers (ZamCompX2) are used as they are.
        let v = plugin
            .text_to_value(p.id, value)
            .or_else(|| value.parse::<f64>().ok())
            .ok_or(format!(
                "{label}: {name}: the plugin rejects the value {value:?}"
            ))?;
        resolved.push((p.id, v));
    }
    if !resolved.is_empty() {
        plugin
            .set_params_inactive(&resolved)
            .map_err(|e| format!("{label}: {e}"))?;
    }
    let mut shown = Vec::new();
    for p in plugin.params() {
        let v = plugin
            .param_value(p.id)
            .map_err(|e| format!("{label}: {e}"))?;
        let text = plugin
            .value_to_text(p.id, v)
            .unwrap_or_else(|_| format!("{v}"));
        shown.push((p.name.clone(), text));
    }
    plugin
        .activate(rate, 1, block)
        .map_err(|e| format!("{label}: {e}"))?;
    let (ports, main, aux) = plugin
        .input_routing()
        .ok_or(format!("{label}: not active after activate()"))?;
    let main = main.ok_or(format!("{label}: no main input port"))?;
    let aux = aux.ok_or(format!("{label}: no sidechain input port"))?;
    let spec = PluginSpec {
        which,
        path: path.to_path_buf(),
        settings: resolved,
        main_channels: ports[main].channel_count,
        key_channels: ports[aux].channel_count,
        latency: plugin.latency(),
    };
    if spec.main_channels != 2 {
        return Err(format!(
            "{label}: main input has {} channels, the bench feeds a stereo bed",
            spec.main_channels
        ));
    }
    Ok((spec, shown))
}

/// The linked partner of an Underscore pass (`--partner-set`), activated before the measured
/// instance so that it joins its Link group first.
fn start_partner(
    spec: &PluginSpec,
    partner: Option<&PluginSpec>,
    rate: f64,
    block: usize,
) -> Result<Option<ClapInstance>, String> {
    let Some(p) = partner.filter(|_| spec.which == Which::Underscore) else {
        return Ok(None);
    };
    let mut plugin = instantiate(p)?;
    plugin
        .activate(rate, 1, block as u32)
        .map_err(|e| format!("partner: {e}"))?;
    Ok(Some(plugin))
}

/// One untimed block of the partner, on the bed with its channels swapped.
fn run_partner(
    partner: &mut Option<ClapInstance>,
    bed: &[Vec<f32>],
    aux: &[&[f32]],
    s: usize,
    e: usize,
) -> Result<(), String> {
    if let Some(p) = partner {
        let main = [&bed[1][s..e], &bed[0][s..e]];
        p.process_probed(&main, aux, &[], &mut ())
            .map_err(|e| format!("partner: {e}"))?;
    }
    Ok(())
}

/// One timed pass of a plugin over the whole signal.
struct Pass {
    /// CPU inside process(), summed over blocks
    cpu_ns: u64,
    /// wall time inside process(), summed
    wall_ns: u64,
    /// 99th percentile and maximum of the per-block CPU inside process()
    p99_block_ns: u64,
    max_block_ns: u64,
    /// CPU used meanwhile by the process' other threads (a plugin's worker threads would show
    /// here; the thread clock alone would miss them)
    other_threads_cpu_ns: u64,
    /// output RMS minus bed RMS over the pass, dB (a check that the key had an effect)
    out_minus_bed_db: f64,
}

/// Instantiates, activates and runs one plugin over `bed` and `key` (already in the plugin's
/// channel layout), doing nothing but the host loop: returns the thread's CPU time for the
/// whole loop of harness calls and the part of it measured inside process(), so that the
/// harness' own work is their difference (less the clock reads, see `run`).
fn harness_pass(
    spec: &PluginSpec,
    partner: Option<&PluginSpec>,
    bed: &[Vec<f32>],
    key: &[Vec<f32>],
    rate: f64,
    block: usize,
) -> Result<(u64, u64), String> {
    let label = spec.which.label();
    let mut partner = start_partner(spec, partner, rate, block)?;
    let mut plugin = instantiate(spec)?;
    plugin
        .activate(rate, 1, block as u32)
        .map_err(|e| format!("{label}: {e}"))?;
    let blocks = bed[0].len() / block;
    let empty: &[f32] = &[];
    let mut probe = ClockProbe::default();
    let mut inside = 0u64;
    let t0 = thread_cpu_ns();
    for b in 0..blocks {
        let (s, e) = (b * block, (b + 1) * block);
        let main = [&bed[0][s..e], &bed[1][s..e]];
        let mut aux = [empty, empty];
        for (a, k) in aux.iter_mut().zip(key) {
            *a = &k[s..e];
        }
        run_partner(&mut partner, bed, &aux[..key.len()], s, e)?;
        plugin
            .process_probed(&main, &aux[..key.len()], &[], &mut probe)
            .map_err(|e| format!("{label}: {e}"))?;
        inside += probe.last_cpu;
    }
    Ok((thread_cpu_ns().saturating_sub(t0), inside))
}

/// Instantiates, activates and runs one plugin over `bed` and `key` (already in the plugin's
/// channel layout), timing each process call. `per_block` is scratch space of `blocks` entries.
fn timed_pass(
    spec: &PluginSpec,
    partner: Option<&PluginSpec>,
    bed: &[Vec<f32>],
    key: &[Vec<f32>],
    rate: f64,
    block: usize,
    per_block: &mut Vec<u64>,
) -> Result<Pass, String> {
    let label = spec.which.label();
    let mut partner = start_partner(spec, partner, rate, block)?;
    let mut plugin = instantiate(spec)?;
    plugin
        .activate(rate, 1, block as u32)
        .map_err(|e| format!("{label}: {e}"))?;
    let frames = bed[0].len();
    let blocks = frames / block;
    per_block.clear();
    per_block.resize(blocks, 0);
    let empty: &[f32] = &[];
    let mut probe = ClockProbe::default();
    let (mut cpu, mut wall) = (0u64, 0u64);
    let (mut out_energy, mut bed_energy) = (0.0f64, 0.0f64);
    let (process0, thread0) = (process_cpu_ns(), thread_cpu_ns());
    for (b, slot) in per_block.iter_mut().enumerate() {
        let (s, e) = (b * block, (b + 1) * block);
        let main = [&bed[0][s..e], &bed[1][s..e]];
        let mut aux = [empty, empty];
        for (a, k) in aux.iter_mut().zip(key) {
            *a = &k[s..e];
        }
        run_partner(&mut partner, bed, &aux[..key.len()], s, e)?;
        plugin
            .process_probed(&main, &aux[..key.len()], &[], &mut probe)
            .map_err(|e| format!("{label}: {e}"))?;
        cpu += probe.last_cpu;
        wall += probe.last_wall;
        *slot = probe.last_cpu;
        // untimed: what came out
        for (c, bed_channel) in bed.iter().enumerate() {
            if let Some(o) = plugin.main_output(c) {
                out_energy += o.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>();
            }
            bed_energy += bed_channel[s..e]
                .iter()
                .map(|&x| f64::from(x) * f64::from(x))
                .sum::<f64>();
        }
    }
    let (process1, thread1) = (process_cpu_ns(), thread_cpu_ns());
    drop(plugin);
    let other = process1
        .saturating_sub(process0)
        .saturating_sub(thread1.saturating_sub(thread0));
    let mut sorted = per_block.clone();
    sorted.sort_unstable();
    let p99 = sorted
        .get((sorted.len() * 99 / 100).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0);
    let max = sorted.last().copied().unwrap_or(0);
    Ok(Pass {
        cpu_ns: cpu,
        wall_ns: wall,
        p99_block_ns: p99,
        max_block_ns: max,
        other_threads_cpu_ns: other,
        out_minus_bed_db: 10.0 * (out_energy.max(1e-30) / bed_energy.max(1e-30)).log10(),
    })
}

/// All passes of one plugin with one key.
struct Series {
    which: Which,
    key: KeyKind,
    passes: Vec<Pass>,
}

impl Series {
    /// CPU inside process() per pass, ms, less the timer's own share (`floor_ns` per pass).
    fn cpu_ms(&self, floor_ns: u64) -> Vec<f64> {
        self.passes
            .iter()
            .map(|p| p.cpu_ns.saturating_sub(floor_ns) as f64 / 1e6)
            .collect()
    }

    fn field(&self, f: impl Fn(&Pass) -> f64) -> Vec<f64> {
        self.passes.iter().map(f).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Machine
// ---------------------------------------------------------------------------------------------

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

fn default_zam() -> PathBuf {
    std::env::var_os("ZAM_CLAP_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/clap"))
        .join("ZamCompX2.clap")
}

fn default_fixture() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("harness-fixture")
        .join("release")
        .join(format!(
            "{}harness_fixture_plugin{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        ))
}

fn require_file(path: &Path, what: &str, hint: &str) -> Result<(), String> {
    if path.exists() {
        Ok(())
    } else {
        Err(format!("{what} not found at {} ({hint})", path.display()))
    }
}

fn run(o: Options) -> Result<(), String> {
    if !(o.seconds.is_finite() && o.seconds > 0.0) {
        return Err(format!("--seconds {}: must be positive", o.seconds));
    }
    let rate = f64::from(o.rate);
    let block = o.block as usize;
    let blocks = ((o.seconds * rate / block as f64).ceil() as usize).max(1);
    let frames = blocks * block;
    let audio_seconds = frames as f64 / rate;

    let clap = o.clap.clone().unwrap_or_else(bundle_path);
    let zam = o.zam.clone().unwrap_or_else(default_zam);
    require_file(
        &clap,
        "Underscore's .clap",
        "pass --clap FILE or set $UNDERSCORE_CLAP",
    )?;
    require_file(
        &zam,
        "ZamCompX2",
        "apt-get install -y zam-plugins, or pass --zam FILE",
    )?;
    let fixture = if o.no_fixture {
        None
    } else {
        let f = o.fixture.clone().unwrap_or_else(default_fixture);
        require_file(
            &f,
            "the harness fixture plugin",
            "cargo build --release --manifest-path tests/fixture-plugin/Cargo.toml \
             --target-dir target/harness-fixture; or pass --fixture FILE or --no-fixture",
        )?;
        Some(f)
    };

    // --- plugins, checked and configured once (untimed)
    let (u_spec, u_shown) = prepare(Which::Underscore, &clap, &o.settings, rate, o.block)?;
    let mut zam_settings = vec![("Sidechain".to_string(), "1".to_string())];
    zam_settings.extend(o.zam_settings.iter().cloned());
    let (z_spec, z_shown) = prepare(Which::Zam, &zam, &zam_settings, rate, o.block)?;
    let partner = if o.partner_settings.is_empty() {
        None
    } else {
        let mut settings = o.settings.clone();
        settings.extend(o.partner_settings.iter().cloned());
        let (spec, shown) = prepare(Which::Underscore, &clap, &settings, rate, o.block)?;
        let shown: Vec<String> = shown
            .iter()
            .filter(|(n, _)| settings.iter().any(|(s, _)| s.eq_ignore_ascii_case(n)))
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        println!("linked partner (untimed): {}", shown.join(", "));
        Some(spec)
    };
    let partner = partner.as_ref();
    let mut specs = vec![u_spec, z_spec];
    if let Some(f) = &fixture {
        specs.push(prepare(Which::Fixture, f, &[], rate, o.block)?.0);
    }

    // --- audio, all in memory before any timing
    let material = o
        .material
        .clone()
        .unwrap_or_else(|| workspace_root().join("..").join("shared").join("material"));
    let needs_material = o.bed == BedKind::Scenes || o.keys.contains(&KeyKind::Speech);
    let scenes = if needs_material {
        scene_dirs(&material)?
    } else {
        Vec::new()
    };
    let bed = match o.bed {
        BedKind::Scenes => scene_stems(&scenes, "music", o.rate, frames)?,
        BedKind::Synth => synth_music(frames, rate),
    };
    let mut keys: Vec<(KeyKind, Vec<Vec<f32>>)> = Vec::new();
    for &k in &o.keys {
        if keys.iter().any(|(kk, _)| *kk == k) {
            continue;
        }
        let signal = match k {
            KeyKind::SynthSpeech => synth_speech(frames, rate),
            KeyKind::Speech => scene_stems(&scenes, "dialogue", o.rate, frames)?,
            KeyKind::PinkNoise => pink_noise(frames),
            KeyKind::Silence => vec![vec![0.0; frames]; 2],
        };
        keys.push((k, signal));
    }
    // the keys for mono sidechain ports (ZamCompX2's), downmixed once
    if let Some(spec) = specs.iter().find(|s| !matches!(s.key_channels, 1 | 2)) {
        return Err(format!(
            "{}: a {}-channel sidechain port; the bench feeds mono or stereo keys",
            spec.which.label(),
            spec.key_channels
        ));
    }
    let mono_keys: Vec<Vec<Vec<f32>>> = if specs.iter().any(|s| s.key_channels == 1) {
        keys.iter().map(|(_, signal)| downmix(signal)).collect()
    } else {
        Vec::new()
    };

    let load_before = loadavg();
    println!(
        "bench-abi: {audio_seconds:.1} s of audio per pass ({blocks} blocks of {block} at {} Hz), \
         {} runs, {} CPUs ({}), load average before: {load_before}",
        o.rate,
        o.runs,
        cpus(),
        cpu_model()
    );
    println!("Underscore: {}", clap.display());
    let u_settings: Vec<String> = u_shown.iter().map(|(n, v)| format!("{n}={v}")).collect();
    println!(
        "  settings: {}; latency {} samples",
        u_settings.join(", "),
        specs[0].latency
    );
    // what the plugin reads back for the parameters set
    let z_settings: Vec<String> = z_shown
        .iter()
        .filter(|(n, _)| zam_settings.iter().any(|(s, _)| s.eq_ignore_ascii_case(n)))
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    println!(
        "ZamCompX2: {} ({}, other parameters at their defaults)",
        zam.display(),
        z_settings.join(", ")
    );
    if let Some(f) = &fixture {
        println!("fixture: {}", f.display());
    }

    let floor = timer_floor_ns();
    let thread_read = clock_read_ns(thread_cpu_ns);
    let wall_read = clock_read_ns(wall_ns);
    // the probe's clock reads that fall outside the measured interval, per block: two
    // thread-clock reads less the part inside (the floor), and both wall-clock reads
    let probe_outside_ns = (2.0 * thread_read - floor as f64).max(0.0) + 2.0 * wall_read;
    let mut per_block: Vec<u64> = Vec::with_capacity(blocks);

    // --- warm-up: page in each plugin's code (2 s, untimed figures discarded)
    let warm_frames = ((2.0 * rate) as usize / block).clamp(1, blocks) * block;
    for spec in &specs {
        let b: Vec<Vec<f32>> = bed.iter().map(|c| c[..warm_frames].to_vec()).collect();
        let k: Vec<Vec<f32>> = port_key(spec, 0, &keys, &mono_keys)
            .iter()
            .map(|c| c[..warm_frames].to_vec())
            .collect();
        timed_pass(spec, partner, &b, &k, rate, block, &mut per_block)?;
    }

    // --- the runs, interleaved: per run, per key, every plugin in a rotating order
    let mut series: Vec<Series> = Vec::new();
    for (k, _) in &keys {
        for spec in &specs {
            series.push(Series {
                which: spec.which,
                key: *k,
                passes: Vec::new(),
            });
        }
    }
    // (whole host loop, inside process()) CPU, first key, per plugin and run
    let mut loop_ns: Vec<Vec<(u64, u64)>> = vec![Vec::new(); specs.len()];
    let started = std::time::Instant::now();
    for r in 0..o.runs as usize {
        for j in 0..specs.len() {
            let si = (j + r) % specs.len();
            loop_ns[si].push(harness_pass(
                &specs[si],
                partner,
                &bed,
                port_key(&specs[si], 0, &keys, &mono_keys),
                rate,
                block,
            )?);
        }
        for (ki, (k, _)) in keys.iter().enumerate() {
            for j in 0..specs.len() {
                let si = (j + r + ki) % specs.len();
                let spec = &specs[si];
                let key = port_key(spec, ki, &keys, &mono_keys);
                let pass = timed_pass(spec, partner, &bed, key, rate, block, &mut per_block)?;
                eprintln!(
                    "  run {}/{} {:<22} {:<20} {:8.1} ms CPU",
                    r + 1,
                    o.runs,
                    spec.which.label(),
                    k.label(),
                    pass.cpu_ns as f64 / 1e6
                );
                series[ki * specs.len() + si].passes.push(pass);
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let load_after = loadavg();

    // --- figures
    let runs = o.runs as usize;
    // the timer's own share of each pass, taken off every CPU figure
    let floor_pass = floor.saturating_mul(blocks as u64);
    let ratio_runs = |key: KeyKind, which: Which| -> Option<Vec<f64>> {
        let a = series.iter().find(|s| s.key == key && s.which == which)?;
        let z = series
            .iter()
            .find(|s| s.key == key && s.which == Which::Zam)?;
        let (a, z) = (a.cpu_ms(floor_pass), z.cpu_ms(floor_pass));
        Some(a.iter().zip(&z).map(|(a, z)| a / z.max(1e-9)).collect())
    };
    let mut table = String::new();
    let _ = writeln!(
        table,
        "| plugin | key | blocks | audio s | CPU ms | CPU ms (min) | wall ms | x realtime, one core \
         | / ZamCompX2 CPU | us per block | p99 block us | max block us | out - bed dB |"
    );
    let _ = writeln!(
        table,
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let mut json_rows = Vec::new();
    let mut other_threads_ms = 0.0f64;
    for s in &series {
        let cpu = s.cpu_ms(floor_pass);
        let raw = s.field(|p| p.cpu_ns as f64 / 1e6);
        let med = median_f64(&cpu);
        let min = min_f64(&cpu);
        let wall = median_f64(&s.field(|p| p.wall_ns as f64 / 1e6));
        let xrt = audio_seconds / (med / 1e3);
        let per_block = med * 1e3 / blocks as f64;
        let ratios = if s.which == Which::Fixture {
            None
        } else {
            ratio_runs(s.key, s.which)
        };
        let ratio = ratios.as_deref().map(median_f64);
        let p99 = median_f64(&s.field(|p| p.p99_block_ns as f64 / 1e3));
        let max = s
            .field(|p| p.max_block_ns as f64 / 1e3)
            .into_iter()
            .fold(0.0, f64::max);
        let other = s.field(|p| p.other_threads_cpu_ns as f64 / 1e6);
        other_threads_ms = other.iter().copied().fold(other_threads_ms, f64::max);
        let change = median_f64(&s.field(|p| p.out_minus_bed_db));
        let _ = writeln!(
            table,
            "| {} | {} | {blocks} | {audio_seconds:.1} | {med:.1} | {min:.1} | {wall:.1} | {xrt:.0} \
             | {} | {per_block:.2} | {p99:.1} | {max:.0} | {change:+.1} |",
            s.which.label(),
            s.key.label(),
            ratio.map_or("-".to_string(), |r| format!("{r:.2}")),
        );
        json_rows.push(serde_json::json!({
            "plugin": s.which.label(),
            "key": s.key.id(),
            "blocks": blocks,
            "audio_seconds": audio_seconds,
            "cpu_ms_runs": cpu,
            "cpu_ms_median": med,
            "cpu_ms_min": min,
            "cpu_ms_runs_raw_with_timer": raw,
            "wall_ms_median": wall,
            "x_realtime_one_core": xrt,
            "cpu_percent_of_one_core": 100.0 / xrt,
            "ratio_to_zamcompx2_median": ratio,
            "ratio_to_zamcompx2_runs": ratios,
            "cpu_us_per_block_median": per_block,
            "p99_block_cpu_us": p99,
            "max_block_cpu_us": max,
            "other_threads_cpu_ms_runs": other,
            "out_minus_bed_db": change,
        }));
    }
    // The harness' own work per block, from passes doing nothing but the host loop: the whole
    // loop's CPU less what was measured inside process(), less the probe's clock reads outside
    // the measured interval.
    let mut harness = Vec::new();
    for (si, spec) in specs.iter().enumerate() {
        let per_block = |ns: u64| ns as f64 / blocks as f64 / 1e3;
        let loop_us = median_f64(
            &loop_ns[si]
                .iter()
                .map(|&(t, _)| per_block(t))
                .collect::<Vec<_>>(),
        );
        let inside_us = median_f64(
            &loop_ns[si]
                .iter()
                .map(|&(_, i)| per_block(i.saturating_sub(floor_pass)))
                .collect::<Vec<_>>(),
        );
        let outside_us = median_f64(
            &loop_ns[si]
                .iter()
                .map(|&(t, i)| per_block(t.saturating_sub(i)) - probe_outside_ns / 1e3)
                .collect::<Vec<_>>(),
        );
        harness.push((spec.which, loop_us, inside_us, outside_us));
    }
    let harness_us = median_f64(&harness.iter().map(|h| h.3).collect::<Vec<_>>());
    let fixture_us: Vec<f64> = series
        .iter()
        .filter(|s| s.which == Which::Fixture)
        .map(|s| median_f64(&s.cpu_ms(floor_pass)) * 1e3 / blocks as f64)
        .collect();
    let fixture_us = (!fixture_us.is_empty()).then(|| median_f64(&fixture_us));
    let budget_us = block as f64 / rate * 1e6;

    println!();
    print!("{table}");
    println!();
    println!(
        "CPU = the thread's CPU time inside clap_plugin.process only, summed over the blocks, \
         median (and min) of {runs} interleaved runs, less the timer's own {floor} ns per block \
         ({:.2} ms per pass); x realtime = audio seconds / CPU seconds; ratio = Underscore / \
         ZamCompX2 CPU with the same key in the same run, median over runs. Budget per block: \
         {budget_us:.0} us.",
        floor_pass as f64 / 1e6
    );
    for (which, loop_us, inside_us, outside_us) in &harness {
        println!(
            "Harness, {} ({}): the host loop costs {loop_us:.2} us CPU per block with the clock \
             reads, {inside_us:.2} us of it inside process(); the harness' own work around \
             process() (input copies, event list, callbacks; not counted) is {outside_us:.2} us \
             per block.",
            which.label(),
            keys[0].0.label(),
        );
    }
    if let Some(f) = fixture_us {
        println!(
            "A trivial plugin through the ABI (the fixture: out = main + aux, two small \
             allocations per block): {f:.2} us CPU per block inside process()."
        );
    }
    println!(
        "Clock reads: thread CPU clock {thread_read:.0} ns, wall clock {wall_read:.0} ns each; \
         the probe's reads outside the measured interval ({probe_outside_ns:.0} ns per block) \
         are taken off the harness figures."
    );
    println!(
        "CPU on the process' other threads during a pass: at most {other_threads_ms:.2} ms \
         (a plugin's worker threads would show here)."
    );
    println!(
        "Machine: {} CPUs, {}; load average before {load_before}, after {load_after}; \
         {elapsed:.0} s wall for all runs.",
        cpus(),
        cpu_model(),
    );

    if let Some(path) = &o.json {
        let settings: serde_json::Map<String, serde_json::Value> = u_shown
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::json!(v)))
            .collect();
        let doc = serde_json::json!({
            "bench": "bench-abi",
            "underscore": clap,
            "underscore_set": o.settings.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
            "underscore_settings": settings,
            "underscore_latency_samples": specs[0].latency,
            "zamcompx2": zam,
            "zamcompx2_set": z_settings,
            "fixture": fixture,
            "bed": match o.bed { BedKind::Scenes => "scenes music stems", BedKind::Synth => "synthetic music" },
            "material": if needs_material { Some(&material) } else { None },
            "sample_rate": o.rate,
            "block": block,
            "blocks": blocks,
            "audio_seconds": audio_seconds,
            "runs": runs,
            "block_budget_us": budget_us,
            "timer_floor_ns_per_block": floor,
            "thread_clock_read_ns": thread_read,
            "wall_clock_read_ns": wall_read,
            "harness_cpu_us_per_block_outside_process": harness_us,
            "harness": harness.iter().map(|(w, l, i, h)| serde_json::json!({
                "plugin": w.label(),
                "key": keys[0].0.id(),
                "loop_cpu_us_per_block_with_clock_reads": l,
                "inside_process_cpu_us_per_block": i,
                "outside_process_cpu_us_per_block": h,
            })).collect::<Vec<_>>(),
            "fixture_cpu_us_per_block": fixture_us,
            "other_threads_cpu_ms_max": other_threads_ms,
            "machine": {
                "cpus": cpus(),
                "cpu_model": cpu_model(),
                "loadavg_before": load_before,
                "loadavg_after": load_after,
                "wall_seconds_all_runs": elapsed,
            },
            "results": json_rows,
        });
        let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("JSON: {}", path.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Options::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-abi: {e}");
            ExitCode::FAILURE
        }
    }
}
