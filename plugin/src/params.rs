//! Host parameters. The string ids below are part of every saved session and preset: they are
//! fixed forever (renaming one silently resets users' settings). Ranges and defaults come from
//! [`underscore_dsp::params`], the single source of truth shared with the renderer.

use std::sync::Arc;

use nice_plug::prelude::*;
use underscore_dsp::EngineParams;
use underscore_dsp::param_table;
use underscore_dsp::params::{self as spec, FieldShares, Mode, Spec, StereoMode};

use crate::editor::window::WindowState;

/// All automatable parameters of Underscore.
#[derive(Params)]
pub struct UnderscoreParams {
    #[id = "depth"]
    pub depth_db: FloatParam,
    #[id = "threshold"]
    pub threshold_db: FloatParam,
    #[id = "attack"]
    pub attack_ms: FloatParam,
    #[id = "hold"]
    pub hold_ms: FloatParam,
    #[id = "release"]
    pub release_ms: FloatParam,
    #[id = "lookahead"]
    pub lookahead_ms: FloatParam,
    #[id = "mix"]
    pub mix_pct: FloatParam,
    #[id = "output"]
    pub output_gain_db: FloatParam,
    #[id = "bypass"]
    pub bypass: BoolParam,
    #[id = "sensitivity"]
    pub sensitivity_pct: FloatParam,
    #[id = "stereo_mode"]
    pub stereo_mode: EnumParam<StereoModeParam>,
    #[id = "side"]
    pub side_pct: FloatParam,
    #[id = "front"]
    pub front_pct: FloatParam,
    #[id = "centre"]
    pub centre_pct: FloatParam,
    #[id = "surround"]
    pub surround_pct: FloatParam,
    #[id = "lfe"]
    pub lfe_pct: FloatParam,
    #[id = "mode"]
    pub mode: EnumParam<ModeParam>,
    #[id = "clarity"]
    pub clarity_db: FloatParam,
    #[id = "focus_low"]
    pub focus_low_hz: FloatParam,
    #[id = "focus_high"]
    pub focus_high_hz: FloatParam,
    /// The editor window's size and scale, saved with the session (not a parameter).
    #[persist = "editor"]
    pub editor_window: Arc<WindowState>,
    /// Name of the preset last loaded or saved (the editor marks it modified once a parameter
    /// moves); saved with the session.
    #[persist = "preset"]
    pub preset_name: std::sync::RwLock<String>,
}

/// Host-facing choice of [`Mode`].
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeParam {
    /// One gain for the whole bed (latency: Lookahead).
    #[id = "broadband"]
    #[name = "Broadband"]
    Broadband,
    /// Per band, only where the bed masks the dialogue (latency: Lookahead + one FFT window).
    #[id = "spectral"]
    #[name = "Spectral"]
    Spectral,
}

/// A frequency parameter shown as "150 Hz" / "8.00 kHz" and typed as either.
fn hz_param(name: &str, spec: Spec) -> FloatParam {
    FloatParam::new(
        name,
        spec.default,
        FloatRange::Skewed {
            min: spec.min,
            max: spec.max,
            factor: FloatRange::skew_factor(-1.5),
        },
    )
    .with_value_to_string(formatters::v2s_f32_hz_then_khz(2))
    .with_string_to_value(formatters::s2v_f32_hz_then_khz())
}

/// Host-facing choice of [`StereoMode`].
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StereoModeParam {
    /// Left and right ducked alike.
    #[id = "linked"]
    #[name = "Linked"]
    Linked,
    /// The mid (phantom centre, where the voice sits) ducked fully, the side by Side.
    #[id = "mid_side"]
    #[name = "Mid/Side"]
    MidSide,
}

/// Which unit a parameter shows, and how typed text is read back.
#[derive(Clone, Copy)]
enum Unit {
    Db,
    Ms,
    Percent,
}

impl Unit {
    fn suffix(self) -> &'static str {
        match self {
            Unit::Db => " dB",
            Unit::Ms => " ms",
            Unit::Percent => " %",
        }
    }
}

fn float_param(name: &str, spec: Spec, unit: Unit, skew: Option<f32>) -> FloatParam {
    let (digits, scale) = match unit {
        Unit::Percent => (0, 100.0),
        Unit::Ms => (0, 1.0),
        Unit::Db => (1, 1.0),
    };
    let (min, max) = (spec.min * scale, spec.max * scale);
    let range = match skew {
        Some(factor) => FloatRange::Skewed { min, max, factor },
        None => FloatRange::Linear { min, max },
    };
    let suffix = unit.suffix();
    FloatParam::new(name, spec.default * scale, range)
        .with_unit(suffix)
        .with_value_to_string(Arc::new(move |v| format!("{v:.digits$}")))
        .with_string_to_value(Arc::new(move |s| param_table::parse_number(s, suffix)))
}

impl Default for UnderscoreParams {
    fn default() -> Self {
        let time_skew = Some(FloatRange::skew_factor(-1.5));
        Self {
            depth_db: float_param("Depth", spec::DEPTH_DB, Unit::Db, None),
            threshold_db: float_param("Threshold", spec::THRESHOLD_DB, Unit::Db, None),
            attack_ms: float_param("Attack", spec::ATTACK_MS, Unit::Ms, time_skew),
            hold_ms: float_param("Hold", spec::HOLD_MS, Unit::Ms, time_skew),
            release_ms: float_param("Release", spec::RELEASE_MS, Unit::Ms, time_skew),
            lookahead_ms: float_param("Lookahead", spec::LOOKAHEAD_MS, Unit::Ms, None),
            mix_pct: float_param("Mix", spec::MIX, Unit::Percent, None),
            output_gain_db: float_param("Output", spec::OUTPUT_GAIN_DB, Unit::Db, None),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
            sensitivity_pct: float_param("Sensitivity", spec::SENSITIVITY, Unit::Percent, None),
            stereo_mode: EnumParam::new("Stereo Mode", StereoModeParam::Linked),
            side_pct: float_param("Side", spec::SIDE_SHARE, Unit::Percent, None),
            front_pct: float_param("Front", spec::FRONT_SHARE, Unit::Percent, None),
            centre_pct: float_param("Centre", spec::CENTRE_SHARE, Unit::Percent, None),
            surround_pct: float_param("Surround", spec::SURROUND_SHARE, Unit::Percent, None),
            lfe_pct: float_param("LFE", spec::LFE_SHARE, Unit::Percent, None),
            // Changing the mode changes the latency (hosts restart the plugin): not automatable.
            mode: EnumParam::new("Mode", ModeParam::Broadband).non_automatable(),
            clarity_db: float_param("Clarity", spec::CLARITY_DB, Unit::Db, None),
            focus_low_hz: hz_param("Focus Low", spec::FOCUS_LOW_HZ),
            focus_high_hz: hz_param("Focus High", spec::FOCUS_HIGH_HZ),
            editor_window: Arc::new(WindowState::default()),
            preset_name: std::sync::RwLock::new(String::new()),
        }
    }
}

impl UnderscoreParams {
    /// The current values as engine settings (in the engine's units).
    pub fn engine_params(&self) -> EngineParams {
        EngineParams {
            depth_db: self.depth_db.value(),
            threshold_db: self.threshold_db.value(),
            attack_ms: self.attack_ms.value(),
            hold_ms: self.hold_ms.value(),
            release_ms: self.release_ms.value(),
            lookahead_ms: self.lookahead_ms.value(),
            mix: self.mix_pct.value() / 100.0,
            output_gain_db: self.output_gain_db.value(),
            bypass: self.bypass.value(),
            sensitivity: self.sensitivity_pct.value() / 100.0,
            field: FieldShares {
                stereo_mode: match self.stereo_mode.value() {
                    StereoModeParam::Linked => StereoMode::Linked,
                    StereoModeParam::MidSide => StereoMode::MidSide,
                },
                side: self.side_pct.value() / 100.0,
                front: self.front_pct.value() / 100.0,
                centre: self.centre_pct.value() / 100.0,
                lfe: self.lfe_pct.value() / 100.0,
                surround: self.surround_pct.value() / 100.0,
            },
            mode: match self.mode.value() {
                ModeParam::Broadband => Mode::Broadband,
                ModeParam::Spectral => Mode::Spectral,
            },
            clarity_db: self.clarity_db.value(),
            focus_low_hz: self.focus_low_hz.value(),
            focus_high_hz: self.focus_high_hz.value(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_typed_values() {
        assert_eq!(param_table::parse_number("250", " ms"), Some(250.0));
        assert_eq!(param_table::parse_number("250 ms", " ms"), Some(250.0));
        assert_eq!(param_table::parse_number("0.25 s", " ms"), Some(250.0));
        assert_eq!(param_table::parse_number("-10dB", " dB"), Some(-10.0));
        assert_eq!(param_table::parse_number(" -10.5 dB ", " dB"), Some(-10.5));
        assert_eq!(param_table::parse_number("50%", " %"), Some(50.0));
        assert_eq!(param_table::parse_number("loud", " dB"), None);
        assert_eq!(param_table::parse_number("nan", " dB"), None);
    }

    #[test]
    fn displays_with_units() {
        let p = UnderscoreParams::default();
        assert_eq!(p.depth_db.to_string(), "-10.0 dB");
        assert_eq!(p.release_ms.to_string(), "500 ms");
        assert_eq!(p.mix_pct.to_string(), "100 %");
        assert_eq!(p.engine_params(), EngineParams::default());
    }
}
