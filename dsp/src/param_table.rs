//! Every user-facing setting by its stable id, in the units users see.
//!
//! Presets, the render CLI's `--set` and automation files, and the plugin's consistency test all
//! name settings by the host parameter id (`depth`, `release`, ...) and give values as the host
//! shows them (dB, ms, %, Hz; choices by name). This table is the one place that maps those onto
//! [`EngineParams`], so the tools cannot drift apart.

use crate::channels::StereoMode;
use crate::params::{self as spec, EngineParams, Mode, Spec};

/// What kind of value a setting takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A number in `unit` (as shown to users); `spec` is in engine units, which are the user
    /// units divided by `scale` (percent settings are 0..1 in the engine, 0..100 for users).
    Number {
        spec: Spec,
        unit: &'static str,
        scale: f32,
    },
    /// One of a list of names; the value is the index.
    Choice(&'static [&'static str]),
    /// On/off; the value is 0 or 1.
    Switch,
}

/// One setting: its id (the host parameter id, fixed forever), display name, kind, and accessors
/// on [`EngineParams`] in user units.
pub struct ParamInfo {
    pub id: &'static str,
    pub name: &'static str,
    pub kind: Kind,
    get: fn(&EngineParams) -> f32,
    set: fn(&mut EngineParams, f32),
}

impl std::fmt::Debug for ParamInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParamInfo").field("id", &self.id).finish()
    }
}

impl ParamInfo {
    /// The current value in user units (choice index, 0/1 for switches).
    pub fn get(&self, p: &EngineParams) -> f32 {
        (self.get)(p)
    }

    /// Sets a value in user units after [`Self::check`]; an invalid value is an error and
    /// leaves `p` untouched.
    pub fn set(&self, p: &mut EngineParams, value: f32) -> Result<(), String> {
        let v = self.check(value)?;
        (self.set)(p, v);
        Ok(())
    }

    /// Whether two values in user units are the same setting: equal within 1e-4 of the range
    /// for numbers (a host's normalised round trip moves a value by far less), exactly for
    /// choices and switches.
    pub fn same(&self, a: f32, b: f32) -> bool {
        let tolerance = match self.kind {
            Kind::Number { spec, scale, .. } => (spec.max - spec.min) * scale * 1e-4,
            _ => 0.0,
        };
        (a - b).abs() <= tolerance
    }

    /// The default in user units.
    pub fn default_value(&self) -> f32 {
        self.get(&EngineParams::default())
    }

    /// Accepts a value in user units if it is in range (choices: a valid index; switches: 0 or
    /// 1), with a message naming the setting, the value and the range otherwise.
    pub fn check(&self, value: f32) -> Result<f32, String> {
        let id = self.id;
        if !value.is_finite() {
            return Err(format!("{id}: {value} is not a number"));
        }
        match self.kind {
            Kind::Number { spec, unit, scale } => {
                let (lo, hi) = (spec.min * scale, spec.max * scale);
                // A little slack for values written with rounded decimals.
                let slack = (hi - lo) * 1e-6;
                if value < lo - slack || value > hi + slack {
                    return Err(format!(
                        "{id} = {value}{unit} is outside its range {lo}..{hi}{unit}"
                    ));
                }
                Ok(value.clamp(lo, hi))
            }
            Kind::Choice(names) => {
                if value.fract() == 0.0 && value >= 0.0 && (value as usize) < names.len() {
                    Ok(value)
                } else {
                    Err(format!(
                        "{id} = {value} is not one of 0..{} ({})",
                        names.len() - 1,
                        names.join(", ")
                    ))
                }
            }
            Kind::Switch => {
                if value == 0.0 || value == 1.0 {
                    Ok(value)
                } else {
                    Err(format!("{id} = {value} must be 0 (off) or 1 (on)"))
                }
            }
        }
    }

    /// Reads a value as users type it: "-12", "-12 dB", "0.3 s" (time settings), "40 %",
    /// "2.5 kHz", a choice by name ("spectral", "mid_side") or a switch as on/off/true/false.
    pub fn parse(&self, text: &str) -> Result<f32, String> {
        let t = text.trim().to_ascii_lowercase();
        let bad = || format!("{}: cannot read \"{}\"", self.id, text.trim());
        let value = match self.kind {
            Kind::Number { unit, .. } => parse_number(text, unit).ok_or_else(bad)?,
            Kind::Choice(names) => match names.iter().position(|n| *n == t) {
                Some(i) => i as f32,
                None => t.parse::<f32>().map_err(|_| {
                    format!(
                        "{}: \"{}\" is not one of {}",
                        self.id,
                        text.trim(),
                        names.join(", ")
                    )
                })?,
            },
            Kind::Switch => match t.as_str() {
                "on" | "true" | "1" | "yes" => 1.0,
                "off" | "false" | "0" | "no" => 0.0,
                _ => return Err(bad()),
            },
        };
        self.check(value)
    }

    /// The value as text in user units, readable back by [`Self::parse`].
    pub fn format(&self, value: f32) -> String {
        match self.kind {
            Kind::Number { unit, .. } => format!("{value}{unit}"),
            Kind::Choice(names) => names
                .get(value.max(0.0) as usize)
                .copied()
                .unwrap_or("?")
                .to_string(),
            Kind::Switch => if value >= 0.5 { "on" } else { "off" }.to_string(),
        }
    }
}

/// Reads a number as users type it for a setting shown in `unit` (" dB", " ms", " %", " Hz"):
/// "250", "250 ms", "-10dB", "50%"; seconds for milliseconds ("0.25 s") and kilohertz for hertz
/// ("6.5 kHz"). `None` unless it is a finite number. The plugin's host text fields use it too.
pub fn parse_number(text: &str, unit: &str) -> Option<f32> {
    let t = text.trim().to_ascii_lowercase();
    let unit = unit.trim().to_ascii_lowercase();
    let (number, scale) = if unit == "hz" && t.ends_with("khz") {
        (&t[..t.len() - 3], 1000.0)
    } else if let Some(n) = t.strip_suffix(unit.as_str()) {
        (n, 1.0)
    } else if unit == "ms" && t.ends_with('s') {
        (&t[..t.len() - 1], 1000.0)
    } else {
        (t.as_str(), 1.0)
    };
    let v: f32 = number.trim().parse().ok()?;
    v.is_finite().then_some(v * scale)
}

/// Names of [`Mode`] choices, in index order (the plugin's enum ids).
pub const MODE_NAMES: &[&str] = &["broadband", "spectral"];
/// Names of [`StereoMode`] choices, in index order (the plugin's enum ids).
pub const STEREO_MODE_NAMES: &[&str] = &["linked", "mid_side"];

const fn number(spec: Spec, unit: &'static str) -> Kind {
    Kind::Number {
        spec,
        unit,
        scale: 1.0,
    }
}

const fn percent(spec: Spec) -> Kind {
    Kind::Number {
        spec,
        unit: " %",
        scale: 100.0,
    }
}

/// All settings, in the plugin's parameter order.
pub const PARAMS: &[ParamInfo] = &[
    ParamInfo {
        id: "depth",
        name: "Depth",
        kind: number(spec::DEPTH_DB, " dB"),
        get: |p| p.depth_db,
        set: |p, v| p.depth_db = v,
    },
    ParamInfo {
        id: "threshold",
        name: "Threshold",
        kind: number(spec::THRESHOLD_DB, " dB"),
        get: |p| p.threshold_db,
        set: |p, v| p.threshold_db = v,
    },
    ParamInfo {
        id: "attack",
        name: "Attack",
        kind: number(spec::ATTACK_MS, " ms"),
        get: |p| p.attack_ms,
        set: |p, v| p.attack_ms = v,
    },
    ParamInfo {
        id: "hold",
        name: "Hold",
        kind: number(spec::HOLD_MS, " ms"),
        get: |p| p.hold_ms,
        set: |p, v| p.hold_ms = v,
    },
    ParamInfo {
        id: "release",
        name: "Release",
        kind: number(spec::RELEASE_MS, " ms"),
        get: |p| p.release_ms,
        set: |p, v| p.release_ms = v,
    },
    ParamInfo {
        id: "lookahead",
        name: "Lookahead",
        kind: number(spec::LOOKAHEAD_MS, " ms"),
        get: |p| p.lookahead_ms,
        set: |p, v| p.lookahead_ms = v,
    },
    ParamInfo {
        id: "mix",
        name: "Mix",
        kind: percent(spec::MIX),
        get: |p| p.mix * 100.0,
        set: |p, v| p.mix = v / 100.0,
    },
    ParamInfo {
        id: "output",
        name: "Output",
        kind: number(spec::OUTPUT_GAIN_DB, " dB"),
        get: |p| p.output_gain_db,
        set: |p, v| p.output_gain_db = v,
    },
    ParamInfo {
        id: "bypass",
        name: "Bypass",
        kind: Kind::Switch,
        get: |p| p.bypass as u8 as f32,
        set: |p, v| p.bypass = v >= 0.5,
    },
    ParamInfo {
        id: "sensitivity",
        name: "Sensitivity",
        kind: percent(spec::SENSITIVITY),
        get: |p| p.sensitivity * 100.0,
        set: |p, v| p.sensitivity = v / 100.0,
    },
    ParamInfo {
        id: "stereo_mode",
        name: "Stereo Mode",
        kind: Kind::Choice(STEREO_MODE_NAMES),
        get: |p| match p.field.stereo_mode {
            StereoMode::Linked => 0.0,
            StereoMode::MidSide => 1.0,
        },
        set: |p, v| {
            p.field.stereo_mode = if v >= 0.5 {
                StereoMode::MidSide
            } else {
                StereoMode::Linked
            }
        },
    },
    ParamInfo {
        id: "side",
        name: "Side",
        kind: percent(spec::SIDE_SHARE),
        get: |p| p.field.side * 100.0,
        set: |p, v| p.field.side = v / 100.0,
    },
    ParamInfo {
        id: "front",
        name: "Front",
        kind: percent(spec::FRONT_SHARE),
        get: |p| p.field.front * 100.0,
        set: |p, v| p.field.front = v / 100.0,
    },
    ParamInfo {
        id: "centre",
        name: "Centre",
        kind: percent(spec::CENTRE_SHARE),
        get: |p| p.field.centre * 100.0,
        set: |p, v| p.field.centre = v / 100.0,
    },
    ParamInfo {
        id: "surround",
        name: "Surround",
        kind: percent(spec::SURROUND_SHARE),
        get: |p| p.field.surround * 100.0,
        set: |p, v| p.field.surround = v / 100.0,
    },
    ParamInfo {
        id: "lfe",
        name: "LFE",
        kind: percent(spec::LFE_SHARE),
        get: |p| p.field.lfe * 100.0,
        set: |p, v| p.field.lfe = v / 100.0,
    },
    ParamInfo {
        id: "mode",
        name: "Mode",
        kind: Kind::Choice(MODE_NAMES),
        get: |p| match p.mode {
            Mode::Broadband => 0.0,
            Mode::Spectral => 1.0,
        },
        set: |p, v| {
            p.mode = if v >= 0.5 {
                Mode::Spectral
            } else {
                Mode::Broadband
            }
        },
    },
    ParamInfo {
        id: "clarity",
        name: "Clarity",
        kind: number(spec::CLARITY_DB, " dB"),
        get: |p| p.clarity_db,
        set: |p, v| p.clarity_db = v,
    },
    ParamInfo {
        id: "focus_low",
        name: "Focus Low",
        kind: number(spec::FOCUS_LOW_HZ, " Hz"),
        get: |p| p.focus_low_hz,
        set: |p, v| p.focus_low_hz = v,
    },
    ParamInfo {
        id: "focus_high",
        name: "Focus High",
        kind: number(spec::FOCUS_HIGH_HZ, " Hz"),
        get: |p| p.focus_high_hz,
        set: |p, v| p.focus_high_hz = v,
    },
];

/// The setting with this id, if any.
pub fn find(id: &str) -> Option<&'static ParamInfo> {
    PARAMS.iter().find(|p| p.id == id)
}

/// An unknown id's message, listing the known ones.
pub fn unknown(id: &str) -> String {
    let known: Vec<&str> = PARAMS.iter().map(|p| p.id).collect();
    format!("unknown parameter \"{id}\" (known: {})", known.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_defaults_round_trip() {
        for (i, a) in PARAMS.iter().enumerate() {
            assert!(PARAMS[i + 1..].iter().all(|b| b.id != a.id), "{}", a.id);
            let mut p = EngineParams::default();
            a.set(&mut p, a.default_value()).unwrap();
            assert_eq!(p, EngineParams::default(), "{}", a.id);
            let text = a.format(a.default_value());
            assert_eq!(a.parse(&text).unwrap(), a.default_value(), "{text}");
        }
    }

    #[test]
    fn parses_units_and_names() {
        assert_eq!(find("release").unwrap().parse("0.3 s"), Ok(300.0));
        assert_eq!(find("depth").unwrap().parse("-12 dB"), Ok(-12.0));
        assert_eq!(find("focus_high").unwrap().parse("6.5 kHz"), Ok(6500.0));
        assert_eq!(find("mix").unwrap().parse("40 %"), Ok(40.0));
        assert_eq!(find("mode").unwrap().parse("Spectral"), Ok(1.0));
        assert_eq!(find("bypass").unwrap().parse("on"), Ok(1.0));
        let mut p = EngineParams::default();
        find("mix").unwrap().set(&mut p, 40.0).unwrap();
        assert!((p.mix - 0.4).abs() < 1e-7);
    }

    #[test]
    fn rejects_out_of_range_with_the_range() {
        let e = find("depth").unwrap().parse("-50").unwrap_err();
        assert!(e.contains("-40..0 dB"), "{e}");
        assert!(find("mode").unwrap().parse("loud").is_err());
        assert!(find("bypass").unwrap().check(0.5).is_err());
        let mut p = EngineParams::default();
        assert!(find("depth").unwrap().set(&mut p, f32::NAN).is_err());
        assert_eq!(p, EngineParams::default());
    }
}
