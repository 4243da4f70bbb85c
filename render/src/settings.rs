//! The settings a render starts with: the preset (or the defaults) and the `--set`
//! overrides.

use underscore_dsp::EngineParams;
use underscore_dsp::settings;

use crate::error::RenderError;
use crate::job::RenderArgs;

/// Settings from the preset (or defaults) and the `--set` overrides.
pub fn resolve_params(args: &RenderArgs) -> Result<(String, EngineParams), RenderError> {
    let (name, mut params) = match &args.preset {
        Some(p) => {
            let preset = underscore_preset::find(p).map_err(|e| {
                // A missing file or a broken preset is an input problem; the message names it.
                RenderError {
                    kind: crate::error::ErrorKind::Input,
                    path: None,
                    problem: format!("preset {e}"),
                }
            })?;
            (preset.name.clone(), preset.params)
        }
        None => ("(defaults)".to_string(), EngineParams::default()),
    };
    for s in &args.set {
        let (id, value) = s.split_once('=').ok_or_else(|| {
            RenderError::usage(format!("--set {s}: expected ID=VALUE, e.g. depth=-12"))
        })?;
        let info = settings::find(id.trim()).ok_or_else(|| {
            RenderError::usage(format!("--set {s}: {}", settings::unknown(id.trim())))
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
