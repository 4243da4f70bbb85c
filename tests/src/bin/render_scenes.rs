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

use underscore_tests::audio_io::{read_audio, write_wav};
use underscore_tests::{ClapInstance, bundle_path, workspace_root};

struct Options {
    material: PathBuf,
    out: PathBuf,
    clap: PathBuf,
    block: usize,
    settings: Vec<(String, String)>,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        material: workspace_root().join("..").join("shared").join("material"),
        out: workspace_root().join("out").join("scenes"),
        clap: bundle_path(),
        block: 512,
        settings: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--material" => o.material = value()?.into(),
            "--out" => o.out = value()?.into(),
            "--clap" => o.clap = value()?.into(),
            "--block" => {
                o.block = value()?
                    .parse()
                    .map_err(|_| "--block takes a whole number".to_string())?
            }
            "--set" => {
                let v = value()?;
                let (name, text) = v
                    .split_once('=')
                    .ok_or(format!("--set {v}: expected NAME=VALUE"))?;
                o.settings.push((name.to_string(), text.to_string()));
            }
            "-h" | "--help" => {
                println!(
                    "render-scenes [--material DIR] [--out DIR] [--clap FILE] [--block N] [--set NAME=VALUE]..."
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if o.block == 0 {
        return Err("--block must be at least 1".into());
    }
    Ok(o)
}

/// Renders one bed keyed by `dialogue` at the given settings; returns (ducked bed, latency).
fn render(
    o: &Options,
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

fn run() -> Result<(), String> {
    let o = parse_args()?;
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
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("render-scenes: {e}");
            ExitCode::FAILURE
        }
    }
}
