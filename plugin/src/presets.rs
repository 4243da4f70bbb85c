//! Presets in the plugin: applying one as host-visible parameter changes, and reading the
//! current settings back in preset terms. The format, the factory set and the user folder live
//! in [`underscore_preset`]; the mapping of ids and units in [`underscore_dsp::param_table`].

use nice_plug::prelude::{ParamPtr, ParamSetter, Params};
use underscore_dsp::EngineParams;
use underscore_dsp::param_table::PARAMS;

use crate::UnderscoreParams;

/// Sets every parameter whose value differs from `target`, each as one host gesture (begin,
/// set, end) so hosts record the load as automation and can undo it. Returns how many
/// parameters changed.
pub fn apply(params: &UnderscoreParams, setter: &ParamSetter, target: &EngineParams) -> usize {
    let map = params.param_map();
    let current = params.engine_params();
    let mut changed = 0;
    for info in PARAMS {
        let (now, want) = (info.get(&current), info.get(target));
        if info.same(now, want) {
            continue;
        }
        let Some((_, ptr, _)) = map.iter().find(|(id, _, _)| id == info.id) else {
            continue;
        };
        set_plain(setter, *ptr, want);
        changed += 1;
    }
    changed
}

/// One gesture setting `ptr` to `plain` (in the parameter's display units; enum index; 0/1).
fn set_plain(setter: &ParamSetter, ptr: ParamPtr, plain: f32) {
    // SAFETY: `ptr` comes from `param_map()` of the plugin's parameters, which the editor keeps
    // alive (an `Arc`) for as long as it can call this.
    unsafe {
        let normalized = ptr.preview_normalized(plain);
        setter.raw_context.raw_begin_set_parameter(ptr);
        setter
            .raw_context
            .raw_set_parameter_normalized(ptr, normalized);
        setter.raw_context.raw_end_set_parameter(ptr);
    }
}

#[cfg(test)]
mod tests {
    use underscore_dsp::param_table::Kind;

    use super::*;
    use crate::test_host::{RecordingHost, Seen};

    #[test]
    fn every_factory_preset_applies_as_one_gesture_per_changed_parameter() {
        for preset in underscore_preset::factory() {
            let params = UnderscoreParams::default();
            let host = RecordingHost::default();
            let setter = ParamSetter::new(&host);
            let changed = apply(&params, &setter, &preset.params);
            assert!(
                preset.matches(&params.engine_params()),
                "{}: settings after loading differ",
                preset.name
            );
            let seen = host.seen.lock().unwrap().clone();
            assert_eq!(seen.len(), 3 * changed, "{}", preset.name);
            for triple in seen.chunks(3) {
                let Seen::Begin(a) = &triple[0] else { panic!() };
                assert!(matches!(&triple[1], Seen::Set(b, _) if b == a));
                assert!(matches!(&triple[2], Seen::End(c) if c == a));
            }
            // Loading it again changes nothing.
            assert_eq!(apply(&params, &setter, &preset.params), 0);
        }
    }

    #[test]
    fn plugin_parameters_match_the_parameter_table() {
        let params = UnderscoreParams::default();
        let map = params.param_map();
        assert_eq!(map.len(), PARAMS.len());
        for info in PARAMS {
            let (_, ptr, _) = map
                .iter()
                .find(|(id, _, _)| id == info.id)
                .unwrap_or_else(|| panic!("no plugin parameter {}", info.id));
            let default = unsafe { ptr.default_plain_value() };
            assert!(
                (default - info.default_value()).abs() < 1e-4,
                "{}: default {default} vs {}",
                info.id,
                info.default_value()
            );
            if let Kind::Number { spec, scale, .. } = info.kind {
                let (lo, hi) = unsafe { (ptr.preview_plain(0.0), ptr.preview_plain(1.0)) };
                assert!((lo - spec.min * scale).abs() < 1e-3, "{} min", info.id);
                assert!((hi - spec.max * scale).abs() < 1e-2, "{} max", info.id);
            }
        }
    }
}
