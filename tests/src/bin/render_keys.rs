//! Ducks arbitrary beds under arbitrary keys through the built Underscore `.clap` (the real CLAP
//! ABI, as a DAW would), for test corpora such as `tests/corpus/corpus.py`.
//!
//! ```text
//! render-keys --manifest in.json --out DIR [--clap FILE] [--block N] [--jobs N]
//!             [--set NAME=VALUE]...
//! ```
//!
//! `in.json` is a list of renders, `[{"name": "tone_440hz_-30dbfs", "key": "k.wav", "bed":
//! "b.wav"}, ...]` (WAV or FLAC; relative paths are relative to the manifest's folder; any other
//! fields are copied to the output manifest unchanged). Each render gets a fresh plugin instance
//! at the key's sample rate with the default parameters (or `--set`), the key on the "Dialogue"
//! sidechain and the bed on the main input, and writes `<out>/<name>.wav` (32-bit float).
//!
//! * The key fixes the length: the bed must be at least as long (a longer bed is cut to the
//!   key's length, so one long steady bed serves keys of any length) and have the same rate.
//! * A mono key or bed is copied to every channel of a wider port (a mono file on the stereo
//!   "Dialogue" input is the same voice on both sides); other channel mismatches are errors.
//! * The output is the plugin's raw output, **not** latency-compensated: `frames +
//!   latency_samples` frames long (the last `latency_samples` frames are rendered from silence
//!   to flush the delay line), so the bed's frame `n` is output frame `n + latency_samples`.
//!
//! `<out>/manifest.json` holds the plugin path, block size, settings, every parameter's value
//! as the plugin displays it (`"Depth": "-10.0 dB"`: what the renders ran with), the latency,
//! and per render the input entry plus `ducked`, `frames`, `sample_rate` and `latency_samples`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::Parser;
use serde_json::{Map, Value, json};

use underscore_tests::audio_io::{read_audio, write_wav};
use underscore_tests::{ClapInstance, bundle_path};

/// Ducks each bed of a manifest under its key through the built Underscore `.clap` (the CLAP
/// ABI, as a DAW would) and writes the ducked beds and an output manifest with the latency.
#[derive(Debug, Parser)]
#[command(name = "render-keys")]
struct Options {
    /// JSON list of renders: `[{"name": ..., "key": PATH, "bed": PATH}, ...]`.
    #[arg(long, value_name = "FILE")]
    manifest: PathBuf,
    /// Where `<name>.wav` and manifest.json go (created).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The plugin [default: $UNDERSCORE_CLAP, else target/bundled/Underscore.clap].
    #[arg(long, value_name = "FILE")]
    clap: Option<PathBuf>,
    /// Frames per process call.
    #[arg(long, value_name = "N", default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(1..))]
    block: u32,
    /// Renders run in parallel, each on its own thread with its own plugin instances.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    jobs: u32,
    /// A plugin parameter by display name, as the plugin's text field takes it (`Depth=-15`,
    /// `Mode=Spectral`); repeatable.
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = underscore_tests::name_value)]
    settings: Vec<(String, String)>,
}

/// One render of the input manifest.
struct Job {
    /// Output file stem (letters, digits, `.`, `_`, `-`).
    name: String,
    key: PathBuf,
    bed: PathBuf,
    /// The entry as given, copied into the output manifest.
    entry: Map<String, Value>,
}

/// Reads and checks the input manifest; relative paths are taken from its folder.
fn read_jobs(path: &Path) -> Result<Vec<Job>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let list = doc.as_array().ok_or(format!(
        "{}: expected a JSON list of renders",
        path.display()
    ))?;
    let mut jobs = Vec::with_capacity(list.len());
    let mut names = std::collections::HashSet::new();
    for (i, item) in list.iter().enumerate() {
        let entry = item
            .as_object()
            .ok_or(format!("render {i}: expected an object"))?
            .clone();
        let field = |k: &str| -> Result<String, String> {
            entry
                .get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or(format!("render {i}: missing string field {k:?}"))
        };
        let name = field("name")?;
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(format!(
                "render {i}: name {name:?} must be letters, digits, '.', '_' or '-'"
            ));
        }
        if !names.insert(name.clone()) {
            return Err(format!("render {i}: name {name:?} used twice"));
        }
        jobs.push(Job {
            key: base.join(field("key")?),
            bed: base.join(field("bed")?),
            name,
            entry,
        });
    }
    Ok(jobs)
}

/// A fresh instance with the settings applied (each value through the plugin's own text
/// parser, as a host's text field does: nice-plug exposes normalised values over CLAP).
fn instance(clap: &Path, settings: &[(String, String)]) -> Result<ClapInstance, String> {
    let mut plugin = ClapInstance::new(clap, None).map_err(|e| e.to_string())?;
    for (name, value) in settings {
        let p = plugin.require_param(name).map_err(|e| e.to_string())?;
        let clap_value = plugin
            .text_to_value(p.id, value)
            .ok_or(format!("{name}: the plugin rejects the value {value:?}"))?;
        plugin
            .set_param_inactive(p.id, clap_value)
            .map_err(|e| e.to_string())?;
    }
    Ok(plugin)
}

/// `signal` laid out on a port of `port_channels` channels (mono is copied to every channel),
/// cut to `frames` and followed by `tail` frames of silence.
fn fit(
    signal: Vec<Vec<f32>>,
    port_channels: usize,
    frames: usize,
    tail: usize,
    what: &str,
) -> Result<Vec<Vec<f32>>, String> {
    let channels = match (signal.len(), port_channels) {
        (n, p) if n == p => signal,
        (1, p) => vec![signal[0].clone(); p],
        (n, p) => return Err(format!("{what} has {n} channels, the plugin's port {p}")),
    };
    Ok(channels
        .into_iter()
        .map(|mut c| {
            c.truncate(frames);
            c.resize(frames + tail, 0.0);
            c
        })
        .collect())
}

/// Renders one job; returns its output-manifest entry.
fn render(o: &Options, clap: &Path, job: &Job) -> Result<Value, String> {
    let key = read_audio(&job.key)?;
    let bed = read_audio(&job.bed)?;
    let (sample_rate, frames) = (key.sample_rate, key.frames());
    if bed.sample_rate != sample_rate {
        return Err(format!(
            "{}: {} Hz, the key {} Hz",
            job.bed.display(),
            bed.sample_rate,
            sample_rate
        ));
    }
    if bed.frames() < frames {
        return Err(format!(
            "{}: {} frames, shorter than the key's {frames}",
            job.bed.display(),
            bed.frames()
        ));
    }
    let mut plugin = instance(clap, &o.settings)?;
    let inputs = plugin.audio_ports(true);
    let main_channels = inputs
        .iter()
        .find(|p| p.is_main)
        .map(|p| p.channel_count as usize)
        .ok_or("the plugin has no main input port")?;
    let key_channels = inputs
        .iter()
        .find(|p| !p.is_main)
        .map(|p| p.channel_count as usize)
        .ok_or("the plugin has no sidechain input port")?;
    plugin
        .activate(f64::from(sample_rate), 1, o.block)
        .map_err(|e| e.to_string())?;
    let latency = plugin.latency();
    let tail = latency as usize;
    let bed_in = fit(bed.channels, main_channels, frames, tail, "the bed")?;
    let key_in = fit(key.channels, key_channels, frames, tail, "the key")?;
    let out = plugin
        .render(&bed_in, &key_in, o.block as usize, &[])
        .map_err(|e| e.to_string())?;
    let path = o.out.join(format!("{}.wav", job.name));
    write_wav(&path, sample_rate, &out)?;
    let mut entry = job.entry.clone();
    entry.insert("key".into(), json!(job.key));
    entry.insert("bed".into(), json!(job.bed));
    entry.insert("ducked".into(), json!(path));
    entry.insert("frames".into(), json!(frames));
    entry.insert("sample_rate".into(), json!(sample_rate));
    entry.insert("latency_samples".into(), json!(latency));
    Ok(Value::Object(entry))
}

/// Every parameter of `plugin` as it displays its current value, by display name.
fn displayed_parameters(plugin: &mut ClapInstance) -> Result<Map<String, Value>, String> {
    let mut shown = Map::new();
    for p in plugin.params() {
        let value = plugin.param_value(p.id).map_err(|e| e.to_string())?;
        let text = plugin
            .value_to_text(p.id, value)
            .map_err(|e| e.to_string())?;
        shown.insert(p.name, json!(text));
    }
    Ok(shown)
}

fn run(o: Options) -> Result<(), String> {
    let clap = o.clap.clone().unwrap_or_else(bundle_path);
    let jobs = read_jobs(&o.manifest)?;
    std::fs::create_dir_all(&o.out).map_err(|e| format!("{}: {e}", o.out.display()))?;
    // This instance reports what the renders run with, and keeps the library loaded on the
    // main thread until every worker has finished (the last unload happens here, not on a
    // worker thread).
    let mut probe = instance(&clap, &o.settings)?;
    let parameters = displayed_parameters(&mut probe)?;

    let started = std::time::Instant::now();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Value, String>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    let worker = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = jobs.get(i) else { break };
            let result = render(&o, &clap, job).map_err(|e| format!("{}: {e}", job.name));
            if let Ok(mut all) = results.lock() {
                all[i] = Some(result);
            }
        }
    };
    std::thread::scope(|s| {
        for _ in 0..o.jobs {
            s.spawn(worker);
        }
    });
    let results = results
        .into_inner()
        .map_err(|_| "a render thread panicked")?;
    let mut renders = Vec::with_capacity(results.len());
    for r in results {
        renders.push(r.ok_or("a render thread panicked")??);
    }
    let seconds: f64 = renders
        .iter()
        .map(|r| r["frames"].as_f64().unwrap_or(0.0) / r["sample_rate"].as_f64().unwrap_or(1.0))
        .sum();
    println!(
        "render-keys: {} renders, {seconds:.0} s of audio in {:.1} s ({} jobs)",
        renders.len(),
        started.elapsed().as_secs_f64(),
        o.jobs
    );

    let settings: Map<String, Value> = o
        .settings
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let latency = renders.first().map(|r| r["latency_samples"].clone());
    let doc = json!({
        "clap": clap,
        "block": o.block,
        "settings": settings,
        "parameters": parameters,
        "latency_samples": latency,
        "renders": renders,
    });
    let path = o.out.join("manifest.json");
    let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("manifest: {}", path.display());
    drop(probe);
    Ok(())
}

fn main() -> ExitCode {
    match run(Options::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("render-keys: {e}");
            ExitCode::FAILURE
        }
    }
}
