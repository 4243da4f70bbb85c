//! Saved sessions and presets keep working: what the build before the settings table
//! (`tests/fixtures/compat/v0.1.0`, written by `compat-fixture` and the preset crate of commit
//! 13118f9; see `tests/fixtures/compat/README.md`) saved loads into this build with identical
//! values, and hosts see the same parameters (ids, names, ranges, flags). The defaults are the
//! same too, except the two changed on purpose since ([`CHANGED_DEFAULTS`]); a session keeps
//! the values it saved, whatever the defaults are now.

use std::path::PathBuf;

use serde_json::Value;
use underscore_dsp::settings::{self, Kind, SETTINGS, Unit};
use underscore_tests::{ClapInstance, bundle_path, pin_library};

fn fixture(name: &str) -> PathBuf {
    underscore_tests::workspace_root()
        .join("tests/fixtures/compat/v0.1.0")
        .join(name)
}

fn read_json(name: &str) -> Value {
    let path = fixture(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn read_bytes(name: &str) -> Vec<u8> {
    let path = fixture(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// Where in each range `compat-fixture` recorded the parameter's text.
const RANGE_POINTS: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

/// Defaults changed on purpose since v0.1.0: (setting id, old default as the old build showed
/// it, new default as this build shows it, why). Every other default must be unchanged.
/// Both came with the trained voice detector (issue 12), which decides whether the key is
/// speech:
const CHANGED_DEFAULTS: [(&str, &str, &str, &str); 3] = [
    (
        "threshold",
        "-45.0 dB",
        "-60.0 dB",
        "Threshold is now a floor under which the key never counts as speech, not the level \
         that makes it speech: -60 dBFS is under the quietest production dialogue and above a \
         quiet room's tone",
    ),
    (
        "lookahead",
        "80 ms",
        "100 ms",
        "the detector needs time to confirm speech: 100 ms covers 90 % of phrase onsets on the \
         shared dialogue and its transforms, with the shortest onset attack after it",
    ),
    (
        "clarity",
        "15.0 dB",
        "25.0 dB",
        "Clarity is now measured against the dialogue's mean level, not its soft level (issue \
         13): 25 dB is where Spectral mode beats Broadband at equal loudness on every scene",
    ),
];

/// A value saved by the old build as this build loads it: Clarity is migrated to its new
/// meaning (`settings::clarity_from_v1`), everything else is kept.
fn migrated(id: &str, old: f64) -> f64 {
    if id == "clarity" {
        settings::clarity_from_v1(Some(old as f32)) as f64
    } else {
        old
    }
}

/// [`migrated`] for a host's normalised value (Clarity's range is linear).
fn migrated_normalised(id: &str, old: f64) -> f64 {
    let spec = settings::SPECS.clarity_db;
    let (lo, hi) = (spec.min as f64, spec.max as f64);
    if id == "clarity" {
        (migrated(id, lo + old * (hi - lo)) - lo) / (hi - lo)
    } else {
        old
    }
}

/// The id of the host parameter called `name`.
fn id_of(name: &str) -> &'static str {
    SETTINGS
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no setting {name}"))
        .id
}

fn load() -> ClapInstance {
    pin_library();
    ClapInstance::new(bundle_path(), None).expect("load the Underscore bundle")
}

/// nice-plug's parameter hash (`wrapper/util.rs` of nice-plug 0.4.2): both its CLAP and its VST3
/// wrapper number a parameter by this hash of its string id, top bit cleared (VST3 reserves it
/// for the host).
fn nice_plug_param_hash(id: &str) -> u32 {
    let hash = id
        .bytes()
        .fold(0u32, |h, c| h.wrapping_mul(31).wrapping_add(c as u32));
    hash & !(1 << 31)
}

/// Flags removed on purpose since v0.1.0: (setting id, CLAP flag bits removed, why).
const CHANGED_FLAGS: [(&str, u32, &str); 1] = [(
    "lookahead",
    // nice-plug sets IS_MODULATABLE with IS_AUTOMATABLE (and drops both), as for Mode.
    clack_extensions::params::ParamInfoFlags::IS_AUTOMATABLE.bits()
        | clack_extensions::params::ParamInfoFlags::IS_MODULATABLE.bits(),
    "Lookahead changes the latency, which a host may only take in with a restart (issue 14): \
     not automatable, like Mode",
)];

/// Parameters added since v0.1.0, at the end of the list (ids never reused), with why. An old
/// session or preset does not have them: they load at their defaults (Link Off: the instance
/// ducks on its own, as it did).
const ADDED: [(&str, &str); 2] = [
    ("link_group", "issue 15: linked buses (Link group)"),
    ("role", "issue 15: linked buses (Role in the group)"),
];

/// The same parameters as before, in the same order: CLAP ids (and with them the VST3 ids,
/// the same hash of the same string ids), names, flags, normalised range and default; and each
/// text the old build showed at 0, 25, 50, 75 and 100 % of a range still means that point.
#[test]
fn parameters_keep_ids_names_ranges_and_flags() {
    let old = read_json("params.json");
    let old = old.as_array().expect("a list");
    let mut plugin = load();
    let new = plugin.params();
    assert_eq!(new.len(), old.len() + ADDED.len(), "number of parameters");
    assert_eq!(SETTINGS.len(), new.len(), "settings in the table");
    for ((id, why), (n, setting)) in ADDED
        .iter()
        .zip(new[old.len()..].iter().zip(&SETTINGS[old.len()..]))
    {
        assert_eq!(setting.id, *id, "added parameters come last, in order");
        assert_eq!(nice_plug_param_hash(id), n.id, "{id}: id");
        println!("  added {id} ({why})");
    }
    for ((o, n), setting) in old.iter().zip(&new).zip(&SETTINGS) {
        let name = o["name"].as_str().unwrap();
        assert_eq!(n.name, name);
        assert_eq!(n.id as u64, o["id"].as_u64().unwrap(), "{name}: CLAP id");
        assert_eq!(
            nice_plug_param_hash(setting.id),
            n.id,
            "{name}: id {} (VST3 id)",
            setting.id
        );
        let old_flags = o["flags"].as_u64().unwrap() as u32;
        match CHANGED_FLAGS.iter().find(|c| c.0 == setting.id) {
            None => assert_eq!(n.flags, old_flags, "{name}: flags"),
            Some((_, removed, why)) => {
                assert_eq!(old_flags & removed, *removed, "{name}: had the flags");
                assert_eq!(n.flags, old_flags & !removed, "{name}: flags ({why})");
            }
        }
        assert_eq!(n.min, o["min"].as_f64().unwrap(), "{name}: min");
        assert_eq!(n.max, o["max"].as_f64().unwrap(), "{name}: max");
        let default = o["default"].as_f64().unwrap();
        match CHANGED_DEFAULTS.iter().find(|c| c.0 == setting.id) {
            None => assert!(
                (n.default - default).abs() < 1e-6,
                "{name}: default {} was {default}",
                n.default
            ),
            Some(&(_, old_text, new_text, why)) => {
                // Changed on purpose: from exactly the old default to exactly the new one.
                let old_shown = plugin.value_to_text(n.id, default).unwrap();
                let new_shown = plugin.value_to_text(n.id, n.default).unwrap();
                println!("  {name:>11}: default {old_shown} -> {new_shown} ({why})");
                assert_eq!(old_shown, old_text, "{name}: the fixture's default");
                assert_eq!(new_shown, new_text, "{name}: this build's default");
                assert_eq!(
                    setting.parse(&new_shown),
                    Ok(setting.default_value()),
                    "{name}: the table's default"
                );
            }
        }
        let texts = o["texts"].as_array().unwrap();
        for (&t, text) in RANGE_POINTS.iter().zip(texts) {
            let text = text.as_str().unwrap();
            let at = n.min + t * (n.max - n.min);
            if n.is_stepped() {
                // Choices and switches: the same name at the same point.
                assert_eq!(
                    plugin.value_to_text(n.id, at).unwrap(),
                    text,
                    "{name} at {t}"
                );
            } else {
                // Numbers: the old text reads back within display rounding of the point.
                let v = plugin
                    .text_to_value(n.id, text)
                    .unwrap_or_else(|| panic!("{name}: {text:?} no longer reads"));
                assert!(
                    (v - at).abs() < 0.01,
                    "{name}: {text:?} is at {v}, was {at}"
                );
            }
        }
        println!(
            "  {name:>11}: id {:>10}, flags {:>4}, default {:.6}, texts {:?}",
            n.id, n.flags, n.default, texts
        );
    }
}

/// A state blob's JSON (after its 8-byte length).
fn state_json(blob: &[u8]) -> Value {
    serde_json::from_slice(&blob[8..]).expect("state JSON")
}

/// A session saved by the old build (every parameter moved, editor size and scale, preset
/// name) loads with identical values (Clarity migrated: [`migrated`]): the same value through
/// the CLAP ABI for every parameter, and saved again, the same parameter values and fields in
/// the JSON.
#[test]
fn old_sessions_load_with_identical_values() {
    let saved = read_bytes("state.bin");
    let values = read_json("state_values.json");
    let mut plugin = load();
    plugin.load_state(&saved).expect("the old state loads");
    for p in plugin.params() {
        if is_added(&p.name) {
            assert_eq!(
                plugin.param_value(p.id).unwrap(),
                p.default,
                "{}: default",
                p.name
            );
            continue;
        }
        let want = values[&p.name]["value"]
            .as_f64()
            .unwrap_or_else(|| panic!("{} missing from the fixture", p.name));
        let want = migrated_normalised(id_of(&p.name), want);
        // nice-plug keeps values as f32: compare them as such (the JSON reader may be one f64
        // step off the f64 it wrote).
        let got = plugin.param_value(p.id).unwrap();
        assert_eq!(got as f32, want as f32, "{}", p.name);
    }
    let again = state_json(&plugin.save_state().unwrap());
    let old = state_json(&saved);
    assert_eq!(
        without_clarity(&again["params"]),
        without_clarity(&old["params"]),
        "parameters saved again"
    );
    assert_eq!(again["fields"], old["fields"], "editor fields saved again");
    println!(
        "  state: {} parameters and {} fields identical",
        values.as_object().unwrap().len(),
        old["fields"].as_object().unwrap().len()
    );

    // A session saved with everything at the old build's defaults: it keeps those values
    // (params.json's normalised defaults), the two changed defaults ([`CHANGED_DEFAULTS`])
    // included: a saved session never moves to new defaults.
    let fresh = read_bytes("state_default.bin");
    let old_params = read_json("params.json");
    let old_default = |name: &str| {
        old_params
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .and_then(|o| o["default"].as_f64())
            .unwrap_or_else(|| panic!("{name} missing from params.json"))
    };
    let mut plugin = load();
    plugin
        .load_state(&fresh)
        .expect("the old default state loads");
    let mut kept_old = Vec::new();
    for p in plugin.params() {
        let got = plugin.param_value(p.id).unwrap();
        if is_added(&p.name) {
            assert_eq!(got, p.default, "{}: default", p.name);
            continue;
        }
        let want = migrated_normalised(id_of(&p.name), old_default(&p.name));
        assert_eq!(got as f32, want as f32, "{}", p.name);
        if got != p.default {
            kept_old.push(format!(
                "{} {} (default now {})",
                p.name,
                plugin.value_to_text(p.id, got).unwrap(),
                plugin.value_to_text(p.id, p.default).unwrap()
            ));
        }
    }
    println!("  old default state: every value kept; off today's defaults: {kept_old:?}");
    assert_eq!(kept_old.len(), CHANGED_DEFAULTS.len(), "{kept_old:?}");
    assert_eq!(
        without_clarity(&state_json(&plugin.save_state().unwrap())["params"]),
        without_clarity(&state_json(&fresh)["params"])
    );
}

/// A state's parameter map without Clarity (migrated on load, so saved again it differs) and
/// without the parameters added since ([`ADDED`]: saved again at their defaults).
fn without_clarity(params: &Value) -> Value {
    let mut p = params.clone();
    let map = p.as_object_mut().unwrap();
    map.remove("clarity");
    for (id, _) in ADDED {
        map.remove(id);
    }
    p
}

/// Whether the host parameter called `name` was added since v0.1.0.
fn is_added(name: &str) -> bool {
    ADDED.iter().any(|(id, _)| id_of(name) == *id)
}

/// The value an old dump holds for `setting`, compared with this build's: exactly, except
/// that the old build kept percentages as fractions and so wrote e.g. 60 % as 60.000004; the
/// engine's fraction (`/ 100`) is compared there, which is what the DSP uses.
fn same_value(setting: &settings::Setting, old: f64, new: f32) -> bool {
    match setting.kind {
        Kind::Number {
            unit: Unit::Percent,
            ..
        } => (old as f32) / 100.0 == new / 100.0,
        _ => old as f32 == new,
    }
}

/// A user preset saved by the old build and the factory presets as the old build read them:
/// this build reads the same values, except the factory presets' Threshold and Lookahead,
/// retuned with the changed defaults ([`CHANGED_DEFAULTS`]).
#[test]
fn old_presets_load_with_identical_values() {
    let expected = read_json("preset_values.json");
    let expected = expected.as_object().unwrap();
    let user = underscore_preset::Preset::load(&fixture("user_preset.json")).expect("loads");
    let factory = underscore_preset::factory();
    let (mut checked, mut retuned_count) = (0, 0);
    for (file, values) in expected {
        let params = if file == "user_preset.json" {
            user.params
        } else {
            let stem = file
                .strip_prefix("presets/")
                .and_then(|f| f.strip_suffix(".json"))
                .unwrap();
            factory
                .iter()
                .find(|p| p.file_stem() == stem)
                .unwrap_or_else(|| panic!("factory preset {stem} is gone"))
                .params
        };
        for setting in &SETTINGS {
            if ADDED.iter().any(|(id, _)| *id == setting.id) {
                continue;
            }
            let old = values[setting.id].as_f64().unwrap();
            let new = setting.get(&params);
            // The factory presets were retuned with the changed defaults (Threshold a floor,
            // Lookahead for the detector); a user's preset never changes.
            let retuned =
                file != "user_preset.json" && CHANGED_DEFAULTS.iter().any(|c| c.0 == setting.id);
            if retuned {
                if !same_value(setting, old, new) {
                    println!("  {file}: {} {old} -> {new} (retuned)", setting.id);
                }
                retuned_count += 1;
            } else {
                let old = migrated(setting.id, old);
                assert!(
                    same_value(setting, old, new),
                    "{file}: {} was {old}, now {new}",
                    setting.id
                );
                checked += 1;
            }
        }
    }
    println!(
        "  {checked} preset values identical ({} files), {retuned_count} factory values free to be retuned",
        expected.len()
    );
    assert_eq!(
        checked + retuned_count,
        expected.len() * (SETTINGS.len() - ADDED.len())
    );
    assert_eq!(
        retuned_count,
        (expected.len() - 1) * CHANGED_DEFAULTS.len(),
        "only the factory presets' changed-default settings may differ"
    );
}
