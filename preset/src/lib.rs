//! # underscore-preset
//!
//! Scene presets: a small human-readable JSON file per scene type, embedded in the plugin and
//! the renderer at build time (the factory set, from `presets/`), plus user presets in the
//! user's config folder.
//!
//! ```json
//! {
//!   "schema": 2,
//!   "name": "Drama under score",
//!   "scene": "what it is for",
//!   "why": "why these values",
//!   "params": { "depth": -10, "release": 600, "mode": "spectral", "bypass": false }
//! }
//! ```
//!
//! Parameter keys are the host parameter ids, values are in the units the plugin shows (dB, ms,
//! %, Hz; choices by name). A parameter a file leaves out takes its default, so loading a preset
//! always gives the same settings whatever was set before. Every problem (syntax, unknown key,
//! out-of-range value, newer schema) is an error naming the file and the problem; nothing is
//! applied from a file with any problem.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use underscore_dsp::EngineParams;
use underscore_dsp::settings::{self, Kind, SETTINGS};

include!(concat!(env!("OUT_DIR"), "/factory.rs"));

/// The file format version this build writes and reads. Files with a higher version are
/// rejected (they may mean something this build cannot do); lower ones are read.
pub const SCHEMA_VERSION: u64 = 2;

/// Keys allowed at the top level of a preset file.
const TOP_KEYS: &[&str] = &["schema", "name", "scene", "why", "params"];

/// A complete set of settings with a name and the reasons for its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    pub name: String,
    /// The scene type it is for, in a sentence.
    pub scene: String,
    /// Why its values, in a sentence or two.
    pub why: String,
    /// Every setting, in engine units.
    pub params: EngineParams,
    /// Where it came from.
    pub origin: Origin,
}

/// Where a preset was read from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// Built in; the file stem in `presets/` (e.g. `drama_under_score`).
    Factory(String),
    /// A file on disk.
    File(PathBuf),
    /// Made from the current settings, not yet saved.
    Unsaved,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Factory(stem) => write!(f, "factory preset presets/{stem}.json"),
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Unsaved => write!(f, "unsaved preset"),
        }
    }
}

/// A preset that could not be read or written: which file, and what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct PresetError {
    pub origin: String,
    pub problem: String,
}

impl fmt::Display for PresetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.problem)
    }
}

impl std::error::Error for PresetError {}

impl Preset {
    /// Reads a preset from its JSON text; `origin` names it in errors.
    pub fn parse(text: &str, origin: Origin) -> Result<Preset, PresetError> {
        let fail = |problem: String| PresetError {
            origin: origin.to_string(),
            problem,
        };
        let root: Value = serde_json::from_str(text).map_err(|e| {
            fail(format!(
                "not valid JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ))
        })?;
        let Value::Object(root) = root else {
            return Err(fail("the file must be a JSON object {...}".into()));
        };
        if let Some(key) = root.keys().find(|k| !TOP_KEYS.contains(&k.as_str())) {
            return Err(fail(format!(
                "unknown key \"{key}\" (allowed: {})",
                TOP_KEYS.join(", ")
            )));
        }
        let schema = root
            .get("schema")
            .ok_or_else(|| fail("missing \"schema\" (the format version, 1)".into()))?
            .as_u64()
            .ok_or_else(|| fail("\"schema\" must be a whole number".into()))?;
        if schema > SCHEMA_VERSION {
            return Err(fail(format!(
                "schema {schema} is newer than this Underscore reads ({SCHEMA_VERSION}); \
                 update Underscore to use it"
            )));
        }
        if schema == 0 {
            return Err(fail("schema 0 does not exist (the first is 1)".into()));
        }
        let text_field = |key: &str, required: bool| -> Result<String, PresetError> {
            match root.get(key) {
                Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                None if !required => Ok(String::new()),
                None => Err(fail(format!("missing \"{key}\""))),
                Some(_) => Err(fail(format!("\"{key}\" must be a non-empty text"))),
            }
        };
        let name = text_field("name", true)?;
        let scene = text_field("scene", false)?;
        let why = text_field("why", false)?;
        let values = match root.get("params") {
            Some(Value::Object(map)) => map,
            Some(_) => return Err(fail("\"params\" must be an object {\"id\": value}".into())),
            None => return Err(fail("missing \"params\"".into())),
        };
        let mut params = read_params(values).map_err(fail)?;
        if schema == 1 {
            // Schema 1 (plugin 0.1) measured Clarity against the dialogue's soft level.
            let saved = values.contains_key("clarity").then_some(params.clarity_db);
            params.clarity_db = settings::clarity_from_v1(saved);
        }
        Ok(Preset {
            name,
            scene,
            why,
            params,
            origin,
        })
    }

    /// Reads a preset file.
    pub fn load(path: &Path) -> Result<Preset, PresetError> {
        let text = std::fs::read_to_string(path).map_err(|e| PresetError {
            origin: path.display().to_string(),
            problem: format!("cannot read the file: {e}"),
        })?;
        Preset::parse(&text, Origin::File(path.to_path_buf()))
    }

    /// A preset holding `params`, to be saved.
    pub fn from_params(name: &str, params: &EngineParams) -> Preset {
        Preset {
            name: name.trim().to_string(),
            scene: String::new(),
            why: String::new(),
            params: *params,
            origin: Origin::Unsaved,
        }
    }

    /// The file text: every setting, in user units, in parameter order.
    pub fn to_json(&self) -> String {
        let mut values = Map::new();
        for info in SETTINGS.iter().filter(|s| s.in_presets()) {
            let v = info.get(&self.params);
            let json = match info.kind {
                Kind::Number { .. } => {
                    // Six significant digits keep files readable and round-trip f32 values
                    // within the table's check slack.
                    let rounded: f64 = format!("{:.6}", v).parse().unwrap_or(0.0);
                    Value::from(rounded)
                }
                Kind::Choice { .. } => Value::from(info.format(v)),
                Kind::Switch { .. } => Value::from(v >= 0.5),
            };
            values.insert(info.id.to_string(), json);
        }
        let mut root = Map::new();
        root.insert("schema".into(), SCHEMA_VERSION.into());
        root.insert("name".into(), self.name.clone().into());
        if !self.scene.is_empty() {
            root.insert("scene".into(), self.scene.clone().into());
        }
        if !self.why.is_empty() {
            root.insert("why".into(), self.why.clone().into());
        }
        root.insert("params".into(), Value::Object(values));
        let mut text = serde_json::to_string_pretty(&Value::Object(root)).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Whether `params` still equal this preset's settings (within display rounding), so the
    /// editor can mark the preset "modified" once any parameter moves.
    pub fn matches(&self, params: &EngineParams) -> bool {
        SETTINGS
            .iter()
            .filter(|s| s.in_presets())
            .all(|info| info.same(info.get(&self.params), info.get(params)))
    }

    /// What users type to pick it: the factory file stem (`drama_under_score`), a file's
    /// stem, or for an unsaved preset the stem of its name.
    pub fn id(&self) -> String {
        match &self.origin {
            Origin::Factory(stem) => stem.clone(),
            Origin::File(path) => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| self.file_stem()),
            Origin::Unsaved => self.file_stem(),
        }
    }

    /// A file name for this preset: its name in lower case, words joined by `_`.
    pub fn file_stem(&self) -> String {
        slug(&self.name)
    }
}

/// Applies a `params` object onto the defaults, checking every key and value.
fn read_params(values: &Map<String, Value>) -> Result<EngineParams, String> {
    let mut params = EngineParams::default();
    for (id, value) in values {
        let info = settings::find(id).ok_or_else(|| settings::unknown(id))?;
        if !info.in_presets() {
            return Err(format!(
                "{id}: not stored in presets (the link group is the session's routing; set it \
                 on the instance)"
            ));
        }
        let v = match (value, info.kind) {
            (Value::Number(n), _) => info.check(n.as_f64().unwrap_or(f64::NAN) as f32)?,
            (Value::Bool(b), Kind::Switch { .. }) => *b as u8 as f32,
            (Value::String(s), _) => info.parse(s)?,
            _ => return Err(format!("{id}: {value} is not a valid value")),
        };
        info.set(&mut params, v)?;
    }
    settings::validate(&params)?;
    Ok(params)
}

fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    if out.is_empty() { "preset".into() } else { out }
}

/// The factory presets, in file-name order. A file that fails to parse is left out (the
/// `factory_presets_are_valid` test keeps that from shipping).
pub fn factory() -> Vec<Preset> {
    FACTORY_FILES
        .iter()
        .filter_map(|(stem, text)| Preset::parse(text, Origin::Factory(stem.to_string())).ok())
        .collect()
}

/// Whether `--preset`-style text names a file (a `.json` name, a path with a folder, or an
/// existing file) rather than a preset by name. A file's problems are the file's; a name that
/// matches no preset is the user's typing.
pub fn is_file(name_or_path: &str) -> bool {
    let path = Path::new(name_or_path);
    name_or_path.ends_with(".json") || path.components().count() > 1 || path.exists()
}

/// Finds a preset by what a user types: a file path ([`is_file`]), or a name: a factory or
/// user preset's file stem (`drama_under_score`), its name (`Drama under score`, in any case,
/// with spaces, `-` or `_` between the words), or a unique start of a stem or name (`drama`).
/// Factory presets win over user presets of the same name. An unknown name's error offers the
/// closest names ("did you mean") and lists the known ones.
pub fn find(name_or_path: &str) -> Result<Preset, PresetError> {
    if is_file(name_or_path) {
        return Preset::load(Path::new(name_or_path));
    }
    let mut all = factory();
    all.extend(user().0);
    find_in(name_or_path, &all)
}

/// [`find`] by name among `presets` (in priority order).
pub fn find_in(name: &str, presets: &[Preset]) -> Result<Preset, PresetError> {
    let wanted = settings::fold(name);
    let keys = |p: &Preset| [settings::fold(&p.id()), settings::fold(&p.name)];
    if let Some(p) = presets.iter().find(|p| keys(p).contains(&wanted)) {
        return Ok(p.clone());
    }
    let mut starts: Vec<&Preset> = presets
        .iter()
        .filter(|p| !wanted.is_empty() && keys(p).iter().any(|k| k.starts_with(&wanted)))
        .collect();
    starts.dedup_by_key(|p| p.id());
    let ids: Vec<String> = presets.iter().map(Preset::id).collect();
    let fail = |problem: String| PresetError {
        origin: name.to_string(),
        problem,
    };
    match starts.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let names: Vec<String> = ids
                .iter()
                .cloned()
                .chain(presets.iter().map(|p| p.name.clone()))
                .collect();
            let hint: Vec<&str> = settings::did_you_mean(name, names.iter().map(String::as_str))
                .map(|i| ids[i % ids.len()].as_str())
                .collect();
            Err(fail(format!(
                "no such preset{} (known: {}; `underscore presets` lists them)",
                settings::suggestion(&hint),
                ids.join(", ")
            )))
        }
        many => {
            let matching: Vec<String> = many.iter().map(|p| p.id()).collect();
            Err(fail(format!(
                "more than one preset starts so ({}); type more of the name",
                matching.join(", ")
            )))
        }
    }
}

/// The user presets (every `*.json` in [`user_dir`]) and the files there that failed.
pub fn user() -> (Vec<Preset>, Vec<PresetError>) {
    match user_dir() {
        Some(dir) => load_dir(&dir),
        None => (Vec::new(), Vec::new()),
    }
}

/// The user preset folder, per OS convention: `$XDG_CONFIG_HOME/underscore/presets` (or
/// `~/.config/...`) on Linux, `~/Library/Application Support/Underscore/Presets` on macOS,
/// `%APPDATA%\Underscore\Presets` on Windows. `UNDERSCORE_PRESET_DIR` overrides it.
pub fn user_dir() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("UNDERSCORE_PRESET_DIR") {
        return Some(dir);
    }
    if cfg!(target_os = "windows") {
        var("APPDATA").map(|d| d.join("Underscore").join("Presets"))
    } else if cfg!(target_os = "macos") {
        var("HOME").map(|h| h.join("Library/Application Support/Underscore/Presets"))
    } else {
        var("XDG_CONFIG_HOME")
            .or_else(|| var("HOME").map(|h| h.join(".config")))
            .map(|d| d.join("underscore").join("presets"))
    }
}

/// Every `*.json` in `dir`, sorted by name, with the files that failed and why. A missing
/// folder is simply empty.
pub fn load_dir(dir: &Path) -> (Vec<Preset>, Vec<PresetError>) {
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(_) => Vec::new(),
    };
    paths.sort();
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    for path in paths {
        match Preset::load(&path) {
            Ok(p) => ok.push(p),
            Err(e) => bad.push(e),
        }
    }
    (ok, bad)
}

/// Writes `preset` into `dir` as `<name>.json` (creating the folder), through a temporary file
/// and a rename so a crash never leaves half a preset. Returns the path written.
pub fn save(dir: &Path, preset: &Preset) -> Result<PathBuf, PresetError> {
    let path = dir.join(format!("{}.json", preset.file_stem()));
    let fail = |problem: String| PresetError {
        origin: path.display().to_string(),
        problem,
    };
    if preset.name.is_empty() {
        return Err(fail("a preset needs a name".into()));
    }
    std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create the folder: {e}")))?;
    let tmp = dir.join(format!(".{}.json.tmp", preset.file_stem()));
    std::fs::write(&tmp, preset.to_json()).map_err(|e| fail(format!("cannot write: {e}")))?;
    std::fs::rename(&tmp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(format!("cannot rename into place: {e}"))
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use underscore_dsp::Mode;

    #[test]
    fn factory_presets_are_valid_and_complete() {
        assert!(FACTORY_FILES.len() >= 8, "{} presets", FACTORY_FILES.len());
        for (stem, text) in FACTORY_FILES {
            let p = Preset::parse(text, Origin::Factory(stem.to_string()))
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(
                !p.scene.is_empty() && !p.why.is_empty(),
                "{stem}: scene and why"
            );
            // Every setting is written out, so a preset does not depend on defaults.
            let root: Value = serde_json::from_str(text).unwrap();
            for info in SETTINGS.iter().filter(|s| s.in_presets()) {
                assert!(
                    root["params"].get(info.id).is_some(),
                    "{stem} lacks {}",
                    info.id
                );
            }
            assert_eq!(p.file_stem(), *stem, "file name follows the preset name");
        }
        assert_eq!(factory().len(), FACTORY_FILES.len());
    }

    #[test]
    fn round_trips_through_json() {
        let mut params = EngineParams {
            depth_db: -13.5,
            release_ms: 812.0,
            mode: Mode::Spectral,
            bypass: true,
            ..Default::default()
        };
        params.side_pct = 37.0;
        let p = Preset::from_params("My Mix 1", &params);
        let back = Preset::parse(&p.to_json(), Origin::Unsaved).unwrap();
        assert_eq!(back.name, "My Mix 1");
        assert!(back.matches(&params));
        assert_eq!(back.file_stem(), "my_mix_1");
    }

    fn problem(text: &str) -> String {
        let e = Preset::parse(text, Origin::File("x/bad.json".into())).unwrap_err();
        assert_eq!(e.origin, "x/bad.json");
        e.problem
    }

    #[test]
    fn schema_1_clarity_is_migrated_to_the_mean_level_meaning() {
        let read = |text: &str| {
            Preset::parse(text, Origin::Unsaved)
                .unwrap()
                .params
                .clarity_db
        };
        // Saved against the soft level: +25 dB, at most 30 dB; not saved: the old default's.
        assert_eq!(
            read(r#"{"schema":1,"name":"a","params":{"clarity":3}}"#),
            28.0
        );
        assert_eq!(
            read(r#"{"schema":1,"name":"a","params":{"clarity":15}}"#),
            30.0
        );
        assert_eq!(read(r#"{"schema":1,"name":"a","params":{}}"#), 30.0);
        // Schema 2 means what it says.
        assert_eq!(
            read(r#"{"schema":2,"name":"a","params":{"clarity":3}}"#),
            3.0
        );
        assert_eq!(read(r#"{"schema":2,"name":"a","params":{}}"#), 25.0);
    }

    #[test]
    fn bad_files_name_the_problem() {
        assert!(problem("{\"schema\": 1, \"name\": ").contains("not valid JSON (line 1"));
        assert!(
            problem(r#"{"schema":1,"name":"a","params":{"loudness":3}}"#)
                .contains("unknown parameter \"loudness\"")
        );
        assert!(
            problem(r#"{"schema":1,"name":"a","params":{"depth":-60}}"#)
                .contains("outside its range -40..0 dB")
        );
        assert!(
            problem(r#"{"schema":3,"name":"a","params":{}}"#)
                .contains("newer than this Underscore")
        );
        assert!(
            problem(r#"{"schema":1,"name":"a","params":{},"colour":1}"#)
                .contains("unknown key \"colour\"")
        );
        assert!(
            problem(r#"{"schema":1,"name":"a","params":{"mode":"loud"}}"#)
                .contains("not one of broadband, spectral")
        );
        assert!(problem(r#"{"name":"a","params":{}}"#).contains("missing \"schema\""));
        assert!(
            problem(r#"{"schema":1,"name":"a","params":{"focus_low":1000,"focus_high":1000}}"#)
                .contains("must be below")
        );
        assert!(problem(r#"[1,2]"#).contains("JSON object"));
    }

    #[test]
    fn missing_values_take_defaults_and_text_values_read() {
        let p = Preset::parse(
            r#"{"schema":1,"name":"a","params":{"release":"0.8 s","mode":"spectral","bypass":"off"}}"#,
            Origin::Unsaved,
        )
        .unwrap();
        assert_eq!(p.params.release_ms, 800.0);
        assert_eq!(p.params.mode, Mode::Spectral);
        assert_eq!(p.params.depth_db, EngineParams::default().depth_db);
    }

    #[test]
    fn finds_by_stem_name_and_prefix() {
        let first = &factory()[0];
        let stem = first.file_stem();
        assert_eq!(find(&stem).unwrap().name, first.name);
        assert_eq!(find(&first.name.to_uppercase()).unwrap().name, first.name);
        let e = find("no_such_scene").unwrap_err();
        assert!(e.problem.contains("known:"), "{e}");
    }

    #[test]
    fn names_match_in_any_case_and_typos_get_a_suggestion() {
        let mut all = factory();
        let mine = Preset {
            origin: Origin::File("/u/night_cue.json".into()),
            ..Preset::from_params("Night Cue", &EngineParams::default())
        };
        all.push(mine);
        let find = |name: &str| find_in(name, &all);
        assert_eq!(find("Drama-Under-Score").unwrap().id(), "drama_under_score");
        assert_eq!(find("DRAMA UNDER SCORE").unwrap().id(), "drama_under_score");
        assert_eq!(find("drama").unwrap().id(), "drama_under_score");
        // A user preset, by its name or its file's stem.
        assert_eq!(find("night cue").unwrap().id(), "night_cue");
        assert_eq!(find("Night").unwrap().name, "Night Cue");
        let e = find("dramaa").unwrap_err();
        assert_eq!(e.origin, "dramaa");
        assert!(
            e.problem
                .starts_with("no such preset; did you mean \"drama_under_score\"? (known: "),
            "{e}"
        );
        assert!(e.problem.contains("night_cue"), "{e}");
        let e = find("trailer promotion").unwrap_err();
        assert!(e.problem.contains("did you mean \"trailer_promo\"?"), "{e}");
        let e = find("in").unwrap_err();
        assert!(
            e.problem.contains(
                "more than one preset starts so (interior_room_tone_bed, \
                 interview_podcast_bed)"
            ),
            "{e}"
        );
        assert!(is_file("x.json") && is_file("dir/x") && !is_file("drama"));
    }

    #[test]
    fn saves_and_lists_user_presets() {
        let dir = std::env::temp_dir().join(format!("underscore-presets-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let p = Preset::from_params("Night Cue", &EngineParams::default());
        let path = save(&dir, &p).unwrap();
        assert!(path.ends_with("night_cue.json"));
        std::fs::write(dir.join("broken.json"), "{").unwrap();
        let (ok, bad) = load_dir(&dir);
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].name, "Night Cue");
        assert_eq!(bad.len(), 1);
        assert!(bad[0].origin.ends_with("broken.json"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
