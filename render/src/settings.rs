//! The settings a render starts with: the preset (or the defaults) and the `--set`
//! overrides; and which of them differ from the plugin's defaults (the summary and `--json`
//! show those).

use underscore_dsp::EngineParams;
use underscore_dsp::settings::{self, Group, SETTINGS, Setting};

use crate::error::{ErrorKind, RenderError};
use crate::job::RenderArgs;

/// Settings from the preset (or defaults) and the `--set` overrides. A preset name that
/// matches nothing, an unknown id or an unreadable value is a usage error (exit code 2, with
/// "did you mean" where something is close); a preset *file* that is missing or broken is an
/// input error (exit code 1).
pub fn resolve_params(args: &RenderArgs) -> Result<(String, EngineParams), RenderError> {
    let (name, mut params) = match &args.preset {
        Some(p) => {
            let preset = underscore_preset::find(p).map_err(|e| RenderError {
                kind: if underscore_preset::is_file(p) {
                    ErrorKind::Input
                } else {
                    ErrorKind::Usage
                },
                path: None,
                problem: format!("--preset {e}"),
            })?;
            (preset.name.clone(), preset.params)
        }
        None => ("(defaults)".to_string(), EngineParams::default()),
    };
    for s in &args.set {
        let (id, value) = s.split_once('=').ok_or_else(|| {
            RenderError::usage(format!(
                "--set {s}: expected ID=VALUE, e.g. depth=-12dB (`underscore params` lists the \
                 ids)"
            ))
        })?;
        let info = settings::find(id.trim()).ok_or_else(|| {
            RenderError::usage(format!(
                "--set {s}: {}; `underscore params` lists them",
                settings::unknown(id.trim())
            ))
        })?;
        let v = info
            .parse(value)
            .map_err(|e| RenderError::usage(format!("--set {s}: {e}")))?;
        info.set(&mut params, v)
            .map_err(|e| RenderError::usage(format!("--set {s}: {e}")))?;
    }
    if params.link_group != settings::LinkGroupId::Off {
        return Err(RenderError::usage(
            "link_group: a render links the beds given as several --bed (each with its own -o \
             and --role); the Link group is for plugin instances",
        ));
    }
    settings::validate(&params).map_err(RenderError::usage)?;
    Ok((name, params))
}

/// The settings in `params` that differ from the plugin's defaults, in parameter order.
pub fn changed_settings(params: &EngineParams) -> Vec<&'static Setting> {
    SETTINGS
        .iter()
        .filter(|s| !s.same(s.get(params), s.default_value()))
        .collect()
}

/// The settings that differ from the defaults, grouped as the editor groups them (Main first):
/// each group's title and its settings as `id value` (the value as `--set` reads it).
pub fn changed_by_group(params: &EngineParams) -> Vec<(&'static str, Vec<String>)> {
    let changed = changed_settings(params);
    [Group::Main]
        .into_iter()
        .chain(Group::PANELS)
        .chain([Group::Link])
        .filter_map(|group| {
            let items: Vec<String> = changed
                .iter()
                .filter(|s| s.group == group)
                .map(|s| format!("{} {}", s.id, s.format(s.get(params))))
                .collect();
            (!items.is_empty()).then_some((group.title(), items))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use underscore_dsp::Mode;

    fn args(preset: Option<&str>, set: &[&str]) -> RenderArgs {
        let mut a = RenderArgs::new(Path::new("d.wav"), Path::new("b.wav"), Path::new("o.wav"));
        a.preset = preset.map(String::from);
        a.set = set.iter().map(|s| s.to_string()).collect();
        a
    }

    #[test]
    fn sets_by_any_spelling_and_reports_what_changed() {
        let (name, p) = resolve_params(&args(
            None,
            &[
                "DEPTH=-12dB",
                "Stereo Mode=Mid/Side",
                "release=0.8s",
                "Focus-High=6.5kHz",
            ],
        ))
        .unwrap();
        assert_eq!(name, "(defaults)");
        assert_eq!(
            (p.depth_db, p.release_ms, p.focus_high_hz),
            (-12.0, 800.0, 6_500.0)
        );
        let groups = changed_by_group(&p);
        assert_eq!(
            groups,
            [
                ("Ducking", vec!["depth -12 dB".to_string()]),
                ("Timing", vec!["release 800 ms".to_string()]),
                ("Spectral", vec!["focus_high 6500 Hz".to_string()]),
                (
                    "Stereo and surround",
                    vec!["stereo_mode mid_side".to_string()]
                ),
            ]
        );
        assert!(changed_settings(&EngineParams::default()).is_empty());
        let (_, p) = resolve_params(&args(Some("Drama Under Score"), &["mode=broadband"])).unwrap();
        assert_eq!(p.mode, Mode::Broadband);
    }

    #[test]
    fn names_are_usage_errors_and_files_input_errors() {
        let e = resolve_params(&args(Some("dramaa"), &[])).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.problem.starts_with(
                "--preset dramaa: no such preset; did you mean \"drama_under_score\"?"
            ),
            "{e}"
        );
        let e = resolve_params(&args(Some("/nonexistent/mine.json"), &[])).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(e.problem.contains("cannot read the file"), "{e}");
        let e = resolve_params(&args(None, &["dept=-12"])).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.problem.contains("did you mean \"depth\"?"), "{e}");
        let e = resolve_params(&args(None, &["lookahead=0.1"])).unwrap_err();
        assert!(
            e.problem.contains("write \"0.1ms\" for 0.1 ms or \"0.1s\""),
            "{e}"
        );
    }
}
