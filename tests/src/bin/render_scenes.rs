//! Renders the development scenes through the built Underscore `.clap` (the real CLAP ABI, as a
//! DAW would) and writes the ducked beds for evaluation.
//!
//! ```text
//! render-scenes [--material DIR] [--out DIR] [--clap FILE] [--block N] [--set NAME=VALUE]...
//! ```
//! For every scene folder (one holding `ground_truth.json`) and both beds (music, ambience) it
//! writes `<out>/<scene>/<bed>_ducked.wav` and `<out>/manifest.json` (paths, latency, settings),
//! which `tests/scenes/evaluate_scenes.py` scores with the shared `evaluate.py`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use underscore_tests::audio_io::{read_audio, write_wav};
use underscore_tests::{ClapInstance, bundle_path, workspace_root};

/// Renders the development scenes through the built Underscore `.clap` (the CLAP ABI, as a DAW
/// would) and writes the ducked beds and a manifest for tests/scenes/evaluate_scenes.py.
#[derive(Debug, Parser)]
#[command(name = "render-scenes")]
struct Options {
    /// The scene folders' parent (each scene: dialogue, music, ambience as FLAC or WAV, and
    /// ground_truth.json) [default: ../shared/material beside the repository].
    #[arg(long, value_name = "DIR")]
    material: Option<PathBuf>,
    /// Where the ducked beds and manifest.json go [default: out/scenes].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The plugin [default: target/bundled/Underscore.clap].
    #[arg(long, value_name = "FILE")]
    clap: Option<PathBuf>,
    /// Frames per process call.
    #[arg(long, value_name = "N", default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(1..))]
    block: u32,
    /// A plugin parameter by name, as the plugin's text field takes it (`Depth=-15`,
    /// `Mode=Spectral`); repeatable.
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = underscore_tests::name_value)]
    settings: Vec<(String, String)>,
}

/// The options with their defaults filled in.
struct Run {
    material: PathBuf,
    out: PathBuf,
    clap: PathBuf,
    block: usize,
    settings: Vec<(String, String)>,
}

impl Run {
    fn new(o: Options) -> Self {
        Self {
            material: o
                .material
                .unwrap_or_else(|| workspace_root().join("..").join("shared").join("material")),
            out: o
                .out
                .unwrap_or_else(|| workspace_root().join("out").join("scenes")),
            clap: o.clap.unwrap_or_else(bundle_path),
            block: o.block as usize,
            settings: o.settings,
        }
    }
}

/// Renders one bed keyed by `dialogue` at the given settings; returns (ducked bed, latency).
fn render(
    o: &Run,
    sample_rate: u32,
    bed: &[Vec<f32>],
    dialogue: &[Vec<f32>],
) -> Result<(Vec<Vec<f32>>, u32), String> {
    let mut plugin = ClapInstance::new(&o.clap, None).map_err(|e| e.to_string())?;
    for (name, value) in &o.settings {
        // nice-plug exposes normalised values over CLAP: let the plugin parse the plain value,
        // exactly as a host's text field would.
        let p = plugin.require_param(name).map_err(|e| e.to_string())?;
        let clap_value = plugin
            .text_to_value(p.id, value)
            .ok_or(format!("{name}: the plugin rejects the value {value}"))?;
        plugin
            .set_param_inactive(p.id, clap_value)
            .map_err(|e| e.to_string())?;
    }
    plugin
        .activate(sample_rate as f64, 1, o.block as u32)
        .map_err(|e| e.to_string())?;
    let latency = plugin.latency();
    let out = plugin
        .render(bed, dialogue, o.block, &[])
        .map_err(|e| e.to_string())?;
    Ok((out, latency))
}

fn scene_dirs(material: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(material)
        .map_err(|e| format!("{}: {e} (pass --material DIR)", material.display()))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("ground_truth.json").is_file())
        .collect();
    dirs.sort();
    Ok(dirs)
}

fn stem(dir: &Path, name: &str) -> PathBuf {
    let flac = dir.join(format!("{name}.flac"));
    if flac.exists() {
        flac
    } else {
        dir.join(format!("{name}.wav"))
    }
}

fn run(o: Run) -> Result<(), String> {
    let scenes = scene_dirs(&o.material)?;
    if scenes.is_empty() {
        return Err(format!("{}: no scene folders", o.material.display()));
    }
    let mut manifest = Vec::new();
    for dir in &scenes {
        let name = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let dialogue = read_audio(&stem(dir, "dialogue"))?;
        let out_dir = o.out.join(&name);
        std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
        for bed_name in ["music", "ambience"] {
            let bed_path = stem(dir, bed_name);
            let bed = read_audio(&bed_path)?;
            if bed.sample_rate != dialogue.sample_rate {
                return Err(format!(
                    "{}: sample rate differs from the dialogue",
                    bed_path.display()
                ));
            }
            let started = std::time::Instant::now();
            let (ducked, latency) = render(&o, bed.sample_rate, &bed.channels, &dialogue.channels)?;
            let out_path = out_dir.join(format!("{bed_name}_ducked.wav"));
            write_wav(&out_path, bed.sample_rate, &ducked)?;
            println!(
                "{name}/{bed_name}: {} s rendered in {:.2} s, latency {latency} samples -> {}",
                bed.channels[0].len() / bed.sample_rate as usize,
                started.elapsed().as_secs_f64(),
                out_path.display()
            );
            manifest.push(serde_json::json!({
                "scene": name,
                "bed": bed_name,
                "dialogue": stem(dir, "dialogue"),
                "bed_original": bed_path,
                "bed_ducked": out_path,
                "ground_truth": dir.join("ground_truth.json"),
                "latency_samples": latency,
            }));
        }
    }
    let manifest_path = o.out.join("manifest.json");
    let settings: serde_json::Map<String, serde_json::Value> = o
        .settings
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::json!(v)))
        .collect();
    let doc = serde_json::json!({ "settings": settings, "renders": manifest });
    std::fs::write(
        &manifest_path,
        serde_json::to_string_pretty(&doc).unwrap_or_default(),
    )
    .map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    println!("manifest: {}", manifest_path.display());
    Ok(())
}

fn main() -> ExitCode {
    match run(Run::new(Options::parse())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("render-scenes: {e}");
            ExitCode::FAILURE
        }
    }
}
