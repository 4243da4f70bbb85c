//! Presets in the plugin: applying one as host-visible parameter changes, and reading the
//! current settings back in preset terms. The format, the factory set and the user folder live
//! in [`underscore_preset`]; the settings in [`underscore_dsp::settings`].

use nice_plug::prelude::ParamSetter;
use underscore_dsp::EngineParams;
use underscore_dsp::settings::SETTINGS;

use crate::UnderscoreParams;

/// Sets every parameter presets carry whose value differs from `target`, each as one host gesture (begin,
/// set, end) so hosts record the load as automation and can undo it. Returns how many
/// parameters changed.
pub fn apply(params: &UnderscoreParams, setter: &ParamSetter, target: &EngineParams) -> usize {
    let mut changed = 0;
    for (setting, host) in SETTINGS.iter().zip(params.host_params()) {
        // The Link group is the session's routing, not part of a preset: kept as it is.
        if !setting.in_presets() {
            continue;
        }
        let want = setting.get(target);
        if setting.same(host.table_value(), want) {
            continue;
        }
        host.set_table_value(setter, want);
        changed += 1;
    }
    changed
}

#[cfg(test)]
mod tests {
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
}
