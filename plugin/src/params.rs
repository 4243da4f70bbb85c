//! Host parameters, generated from the settings table.
//!
//! [`underscore_dsp::settings_table!`] declares every setting once; this module expands it with
//! its own callback ([`host_params!`]) into [`UnderscoreParams`], a `#[derive(Params)]` struct
//! with one typed nice-plug parameter per setting: a `FloatParam` for numbers, a `BoolParam`
//! for switches, an `EnumParam` for choices. Each is built from the setting's spec in
//! [`underscore_dsp::settings::SPECS`] (name, range, skew, default, unit, automatable, bypass)
//! and read back into [`EngineParams`] field by field. Nothing here names a particular
//! setting, so a new entry in the table becomes a host parameter with no code in this crate.
//!
//! The host ids are the table's ids, fixed forever: every saved session and preset refers to
//! them (CLAP and VST3 parameter ids are derived from them). Choices are saved by their ids
//! (`"spectral"`), as nice-plug's derive does for enums.

use std::sync::{Arc, RwLock};

use nice_plug::prelude::*;
use underscore_dsp::settings::{
    self, Choice, ChoiceSpec, EngineParams, NumberSpec, SPECS, Skew, SwitchSpec, Unit,
};

use crate::editor::ParamRow;
use crate::editor::window::WindowState;

/// A setting's choices as a nice-plug enum: ids saved in the state, names shown by hosts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostChoice<T: Choice>(pub T);

impl<T: Choice> Enum for HostChoice<T> {
    fn variants() -> &'static [&'static str] {
        T::NAMES
    }

    fn ids() -> Option<&'static [&'static str]> {
        Some(T::IDS)
    }

    fn to_index(self) -> usize {
        self.0.index()
    }

    fn from_index(index: usize) -> Self {
        HostChoice(T::from_index(index))
    }
}

/// A numeric setting as a host parameter: its range and skew, shown with its unit ("-12.0 dB",
/// "250 ms", "1500 ms", "120 Hz", "6.5 kHz": [`Unit::number`] before a fixed unit, Hz by
/// [`Unit::display`]), typed text read with [`settings::parse_number`].
fn number_param(spec: &NumberSpec) -> FloatParam {
    let (min, max) = (spec.min, spec.max);
    let range = match spec.skew {
        Skew::Linear => FloatRange::Linear { min, max },
        Skew::Exponent(e) => FloatRange::Skewed {
            min,
            max,
            factor: FloatRange::skew_factor(e),
        },
    };
    let param = FloatParam::new(spec.name, spec.default, range);
    let unit: Unit = spec.unit;
    let parse = Arc::new(move |s: &str| settings::parse_number(s, unit.suffix()));
    let param = match unit {
        // Hz switches to kHz ("120 Hz", "6.5 kHz"): the text carries its unit.
        Unit::Hz => param.with_value_to_string(Arc::new(move |v| unit.display(v))),
        // A fixed unit, which VST3 hosts also read as the parameter's unit (pedalboard names
        // the parameters after it: `depth_db`, `release_ms`), so times stay in ms here.
        _ => param
            .with_unit(unit.suffix())
            .with_value_to_string(Arc::new(move |v| unit.number(v))),
    };
    let param = param.with_string_to_value(parse);
    if spec.automatable {
        param
    } else {
        param.non_automatable()
    }
}

/// An on/off setting as a host parameter (the host's bypass switch if it is one).
fn switch_param(spec: &SwitchSpec) -> BoolParam {
    let param = BoolParam::new(spec.name, spec.default);
    if spec.host_bypass {
        param.make_bypass()
    } else {
        param
    }
}

/// A choice setting as a host parameter.
fn choice_param<T: Choice>(spec: &ChoiceSpec<T>) -> EnumParam<HostChoice<T>> {
    let param = EnumParam::new(spec.name, HostChoice(spec.default));
    if spec.automatable {
        param
    } else {
        param.non_automatable()
    }
}

/// A host parameter's value as the engine takes it.
pub trait EngineValue {
    type Value;
    fn engine_value(&self) -> Self::Value;
}

impl EngineValue for FloatParam {
    type Value = f32;
    fn engine_value(&self) -> f32 {
        self.value()
    }
}

impl EngineValue for BoolParam {
    type Value = bool;
    fn engine_value(&self) -> bool {
        self.value()
    }
}

impl<T: Choice> EngineValue for EnumParam<HostChoice<T>> {
    type Value = T;
    fn engine_value(&self) -> T {
        self.value().0
    }
}

/// A host parameter as the rest of the plugin uses it, whatever its type: read and set in the
/// table's terms (number, 0/1, choice index; see [`settings::Setting::get`]) and drawn as an
/// editor row.
pub trait HostParam: Sync {
    /// The value in the table's terms.
    fn table_value(&self) -> f32;
    /// Sets it as one host gesture (begin, set, end), so hosts record it and can undo it.
    fn set_table_value(&self, setter: &ParamSetter, value: f32);
    /// The parameter as an editor row.
    fn row(&self) -> &dyn ParamRow;
}

/// One gesture setting `param` to `plain`.
fn gesture<P: Param>(setter: &ParamSetter, param: &P, plain: P::Plain) {
    setter.begin_set_parameter(param);
    setter.set_parameter(param, plain);
    setter.end_set_parameter(param);
}

impl HostParam for FloatParam {
    fn table_value(&self) -> f32 {
        self.value()
    }

    fn set_table_value(&self, setter: &ParamSetter, value: f32) {
        gesture(setter, self, value);
    }

    fn row(&self) -> &dyn ParamRow {
        self
    }
}

impl HostParam for BoolParam {
    fn table_value(&self) -> f32 {
        if self.value() { 1.0 } else { 0.0 }
    }

    fn set_table_value(&self, setter: &ParamSetter, value: f32) {
        gesture(setter, self, value >= 0.5);
    }

    fn row(&self) -> &dyn ParamRow {
        self
    }
}

impl<T: Choice> HostParam for EnumParam<HostChoice<T>> {
    fn table_value(&self) -> f32 {
        self.value().0.index() as f32
    }

    fn set_table_value(&self, setter: &ParamSetter, value: f32) {
        let index = value.max(0.0).round() as usize;
        gesture(setter, self, HostChoice(T::from_index(index)));
    }

    fn row(&self) -> &dyn ParamRow {
        self
    }
}

/// Expands the settings table into [`UnderscoreParams`].
macro_rules! host_params {
    ($(
        $(#[$attr:meta])*
        $field:ident : $kind:ident $(<$choice:ty>)? ($id:tt) { $($body:tt)* }
    ),* $(,)?) => {
        /// Every host parameter of Underscore, one per setting of the table, plus the editor
        /// state saved with the session.
        #[derive(Params)]
        pub struct UnderscoreParams {
            $( $(#[$attr])* #[id = $id] pub $field: host_params!(@host $kind $($choice)?), )*
            /// The editor window's size and scale, saved with the session (not a parameter).
            #[persist = "editor"]
            pub editor_window: Arc<WindowState>,
            /// Name of the preset last loaded or saved (the editor marks it modified once a
            /// parameter moves); saved with the session.
            #[persist = "preset"]
            pub preset_name: RwLock<String>,
        }

        impl Default for UnderscoreParams {
            fn default() -> Self {
                Self {
                    $( $field: host_params!(@build $kind $($choice)?)(&SPECS.$field), )*
                    editor_window: Arc::new(WindowState::default()),
                    preset_name: RwLock::new(String::new()),
                }
            }
        }

        impl UnderscoreParams {
            /// The current values as engine settings. No allocation (called in `process()`).
            pub fn engine_params(&self) -> EngineParams {
                EngineParams { $( $field: self.$field.engine_value(), )* }
            }

            /// Every host parameter, in the order of [`settings::SETTINGS`].
            pub fn host_params(&self) -> [&dyn HostParam; settings::COUNT] {
                [ $( &self.$field, )* ]
            }
        }
    };
    (@host number) => { FloatParam };
    (@host switch) => { BoolParam };
    (@host choice $t:ty) => { EnumParam<HostChoice<$t>> };
    (@build number) => { number_param };
    (@build switch) => { switch_param };
    (@build choice $t:ty) => { choice_param::<$t> };
}

underscore_dsp::settings_table!(host_params);

impl UnderscoreParams {
    /// The host parameter of the setting with this id.
    pub fn host_param(&self, id: &str) -> Option<&dyn HostParam> {
        let index = settings::SETTINGS.iter().position(|s| s.id == id)?;
        Some(self.host_params()[index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_with_units() {
        let p = UnderscoreParams::default();
        assert_eq!(p.depth_db.to_string(), "-10.0 dB");
        assert_eq!(p.release_ms.to_string(), "500 ms");
        assert_eq!(p.mix_pct.to_string(), "100 %");
        assert_eq!(p.focus_low_hz.to_string(), "120 Hz");
        assert_eq!(p.focus_high_hz.to_string(), "8 kHz");
        assert_eq!(p.mode.to_string(), "Broadband");
        assert_eq!(p.engine_params(), EngineParams::default());
    }

    /// The generated parameters are the table: same ids in the same order, names, defaults,
    /// ranges and automation flags.
    #[test]
    fn generated_parameters_are_the_table() {
        let params = UnderscoreParams::default();
        let map = params.param_map();
        assert_eq!(map.len(), settings::COUNT);
        let hosts = params.host_params();
        for ((setting, (id, ptr, _)), host) in settings::SETTINGS.iter().zip(&map).zip(hosts) {
            assert_eq!(setting.id, id);
            // SAFETY: the pointers come from `params`, alive for the whole test.
            let (name, default, flags) =
                unsafe { (ptr.name(), ptr.default_plain_value(), ptr.flags()) };
            assert_eq!(setting.name, name);
            assert_eq!(setting.default_value(), default, "{id}");
            assert_eq!(host.table_value(), default, "{id}");
            assert_eq!(
                setting.automatable,
                !flags.contains(ParamFlags::NON_AUTOMATABLE),
                "{id}"
            );
            if let settings::Kind::Number { min, max, .. } = setting.kind {
                let (lo, hi) = unsafe { (ptr.preview_plain(0.0), ptr.preview_plain(1.0)) };
                assert_eq!((lo, hi), (min, max), "{id}");
            }
        }
    }
}
