//! Writes the compatibility fixtures of a built Underscore `.clap`, as a host would see and save
//! them, so later builds can be checked against what this one saved
//! (`tests/tests/compat.rs`):
//!
//! * `params.json`: every parameter as listed through the CLAP ABI (id, name, range, default,
//!   flags), in order, with the text it shows at five points of its range (which pins the
//!   plain range, the skew and the display);
//! * `state_default.bin`: the state of a fresh instance;
//! * `state.bin` and `state_values.json`: the state after every parameter was moved away from
//!   its default (each value typed into the plugin's own text parser, as a user would) and
//!   the editor's persisted fields (window size and scale, preset name) changed, and the value
//!   of every parameter as the plugin then reported it.
//!
//! The persisted fields cannot be set through the CLAP ABI; the state saved with the new
//! parameters is edited to hold them, loaded into the plugin, and saved again, so the file is
//! the plugin's own serialisation.
//!
//! ```text
//! compat-fixture --clap target/bundled/Underscore.clap --out tests/fixtures/compat/v0.1.0
//! ```

use std::path::PathBuf;

use clap::Parser;
use serde_json::{Value, json};
use underscore_tests::{ClapInstance, HostError};

/// Values typed into each parameter, by display name: all away from the defaults.
const SETTINGS: &[(&str, &str)] = &[
    ("Depth", "-23.5 dB"),
    ("Threshold", "-55 dB"),
    ("Attack", "35 ms"),
    ("Hold", "400 ms"),
    ("Release", "1200 ms"),
    ("Lookahead", "12 ms"),
    ("Mix", "75 %"),
    ("Output", "3.5 dB"),
    ("Bypass", "On"),
    ("Sensitivity", "65 %"),
    ("Stereo Mode", "Mid/Side"),
    ("Side", "37 %"),
    ("Front", "45 %"),
    ("Centre", "90 %"),
    ("Surround", "20 %"),
    ("LFE", "10 %"),
    ("Mode", "Spectral"),
    ("Clarity", "12.5 dB"),
    ("Focus Low", "180 Hz"),
    ("Focus High", "6.5 kHz"),
];

/// Where in each parameter's range its text is recorded.
pub const RANGE_POINTS: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

/// The editor fields written into the state: a 1280 x 800 point window at 150 %, and a preset
/// name.
const EDITOR_FIELD: &str = r#"{"width_pt":1280,"height_pt":800,"scale_pct":150}"#;
const PRESET_FIELD: &str = "\"Drama under score\"";

#[derive(Parser)]
#[command(name = "compat-fixture")]
struct Args {
    /// The `.clap` bundle whose saved state and parameters become the fixtures.
    #[arg(long, value_name = "PATH")]
    clap: PathBuf,
    /// Folder to write into (created).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// A CLAP state blob: an 8-byte little-endian length, then JSON.
fn state_json(blob: &[u8]) -> Result<Value, String> {
    let json = blob
        .get(8..)
        .ok_or("state shorter than its length prefix")?;
    serde_json::from_slice(json).map_err(|e| format!("state is not JSON: {e}"))
}

fn state_blob(state: &Value) -> Vec<u8> {
    let json = serde_json::to_vec(state).expect("JSON");
    let mut blob = (json.len() as u64).to_le_bytes().to_vec();
    blob.extend(json);
    blob
}

fn run(args: &Args) -> Result<(), String> {
    let err = |e: HostError| e.to_string();
    std::fs::create_dir_all(&args.out).map_err(|e| e.to_string())?;
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(args.out.join(name), bytes).map_err(|e| format!("{name}: {e}"))
    };

    let mut fresh = ClapInstance::new(&args.clap, None).map_err(err)?;
    let mut params = Vec::new();
    for p in fresh.params() {
        let texts = RANGE_POINTS
            .iter()
            .map(|&t| fresh.value_to_text(p.id, p.min + t * (p.max - p.min)))
            .collect::<Result<Vec<String>, HostError>>()
            .map_err(err)?;
        params.push(
            json!({"id": p.id, "name": p.name, "min": p.min, "max": p.max,
                           "default": p.default, "flags": p.flags, "texts": texts}),
        );
    }
    write(
        "params.json",
        serde_json::to_string_pretty(&params).unwrap().as_bytes(),
    )?;
    write("state_default.bin", &fresh.save_state().map_err(err)?)?;

    let mut plugin = ClapInstance::new(&args.clap, None).map_err(err)?;
    let mut changes = Vec::new();
    for &(name, text) in SETTINGS {
        let info = plugin.require_param(name).map_err(err)?;
        let value = plugin
            .text_to_value(info.id, text)
            .ok_or_else(|| format!("{name}: the plugin does not read {text:?}"))?;
        if value == info.default {
            return Err(format!("{name}: {text} is the default"));
        }
        changes.push((info.id, value));
    }
    if changes.len() != plugin.params().len() {
        return Err(format!(
            "{} parameters set, the plugin has {}",
            changes.len(),
            plugin.params().len()
        ));
    }
    plugin.set_params_inactive(&changes).map_err(err)?;
    let mut state = state_json(&plugin.save_state().map_err(err)?)?;
    state["fields"]["editor"] = Value::String(EDITOR_FIELD.into());
    state["fields"]["preset"] = Value::String(PRESET_FIELD.into());
    plugin.load_state(&state_blob(&state)).map_err(err)?;
    let saved = plugin.save_state().map_err(err)?;
    let fields = &state_json(&saved)?["fields"];
    if fields["editor"] != EDITOR_FIELD || fields["preset"] != PRESET_FIELD {
        return Err(format!(
            "the plugin did not keep the editor fields: {fields}"
        ));
    }
    write("state.bin", &saved)?;
    let mut values = serde_json::Map::new();
    for p in plugin.params() {
        let value = plugin.param_value(p.id).map_err(err)?;
        let text = plugin.value_to_text(p.id, value).map_err(err)?;
        values.insert(p.name.clone(), json!({"value": value, "text": text}));
    }
    write(
        "state_values.json",
        serde_json::to_string_pretty(&Value::Object(values))
            .unwrap()
            .as_bytes(),
    )?;
    println!(
        "wrote the fixtures of {} into {}",
        args.clap.display(),
        args.out.display()
    );
    Ok(())
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("compat-fixture: {e}");
        std::process::exit(1);
    }
}
