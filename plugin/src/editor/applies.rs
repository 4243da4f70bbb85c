//! Which settings act on the current bed and Mode: the editor greys out (disables, keeps
//! visible) the others and says why.
//!
//! Mode-only settings follow from the table's [`Group`]: every [`Group::Spectral`] setting
//! acts only in Spectral mode. The sound-field settings share [`Group::Field`] but each acts on
//! its own layouts, as `underscore_dsp::channels::FieldMap` applies them: Stereo Mode on stereo
//! beds, Side on stereo beds in Mid/Side, the 5.1 shares on 5.1 (six-channel) beds. The Role
//! of a link group acts only while Link is on.

use underscore_dsp::settings::{EngineParams, Group, LinkGroupId, Mode, Setting, StereoMode};

/// The [`Group::Field`] settings and the bed channel count each acts on (all of them: checked
/// by a test, so a new field setting gets a rule here).
pub const FIELD_LAYOUTS: [(&str, u32); 6] = [
    ("stereo_mode", 2),
    ("side", 2),
    ("front", 6),
    ("centre", 6),
    ("surround", 6),
    ("lfe", 6),
];

/// A bed layout in words: "mono", "stereo", "5.1", "4 channels".
pub fn layout_name(bed_channels: u32) -> String {
    match bed_channels {
        1 => "mono".to_owned(),
        2 => "stereo".to_owned(),
        6 => "5.1".to_owned(),
        n => format!("{n} channels"),
    }
}

/// Why `setting` does nothing with the settings `p` on a bed of `bed_channels` channels (0:
/// not known yet, before the plugin first activates: layout rules are not applied), or `None`
/// when it acts.
pub fn inapplicable(setting: &Setting, p: &EngineParams, bed_channels: u32) -> Option<String> {
    match setting.group {
        Group::Spectral if p.mode != Mode::Spectral => Some(
            "Spectral mode only: Mode is Broadband (one gain for the whole bed), so this \
             setting has no effect."
                .to_owned(),
        ),
        Group::Field => {
            let &(_, wanted) = FIELD_LAYOUTS.iter().find(|(id, _)| *id == setting.id)?;
            if bed_channels != 0 && bed_channels != wanted {
                let only = if wanted == 2 { "Stereo" } else { "5.1" };
                return Some(format!(
                    "{only} beds only: this bed is {}, so this setting has no effect.",
                    layout_name(bed_channels)
                ));
            }
            if setting.id == "side" && p.stereo_mode != StereoMode::MidSide {
                return Some(
                    "Mid/Side only: Stereo Mode is Linked (left and right ducked alike), so \
                     Side has no effect."
                        .to_owned(),
                );
            }
            None
        }
        Group::Link if setting.id == "role" && p.link_group == LinkGroupId::Off => {
            Some("In a link group only: Link is Off, so this instance ducks on its own.".to_owned())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use underscore_dsp::settings::{SETTINGS, find};

    fn greyed(p: &EngineParams, bed_channels: u32) -> Vec<&'static str> {
        SETTINGS
            .iter()
            .filter(|s| inapplicable(s, p, bed_channels).is_some())
            .map(|s| s.id)
            .collect()
    }

    #[test]
    fn every_field_setting_has_a_layout_rule() {
        let field: Vec<&str> = SETTINGS
            .iter()
            .filter(|s| s.group == Group::Field)
            .map(|s| s.id)
            .collect();
        let ruled: Vec<&str> = FIELD_LAYOUTS.iter().map(|(id, _)| *id).collect();
        assert_eq!(field, ruled);
    }

    #[test]
    fn greyed_by_layout_and_mode() {
        let broadband = EngineParams::default();
        assert_eq!(broadband.mode, Mode::Broadband);
        let spectral_ids = ["clarity", "focus_low", "focus_high"];
        // Stereo, Broadband, Linked, Link Off (the defaults).
        let mut want = ["side", "front", "centre", "surround", "lfe"].to_vec();
        want.extend(spectral_ids);
        want.push("role");
        let mut got = greyed(&broadband, 2);
        got.sort();
        want.sort();
        assert_eq!(got, want);

        let spectral_mid_side_linked = EngineParams {
            mode: Mode::Spectral,
            stereo_mode: StereoMode::MidSide,
            link_group: LinkGroupId::G1,
            ..broadband
        };
        assert_eq!(
            greyed(&spectral_mid_side_linked, 2),
            ["front", "centre", "surround", "lfe"]
        );
        assert_eq!(
            greyed(&spectral_mid_side_linked, 1),
            ["stereo_mode", "side", "front", "centre", "surround", "lfe"]
        );
        assert_eq!(
            greyed(&spectral_mid_side_linked, 6),
            ["stereo_mode", "side"]
        );
        // Layout not known yet: only the Mode rules.
        assert!(greyed(&spectral_mid_side_linked, 0).is_empty());

        let why = inapplicable(find("surround").unwrap(), &broadband, 2).unwrap();
        assert!(
            why.starts_with("5.1 beds only: this bed is stereo"),
            "{why}"
        );
        let why = inapplicable(find("clarity").unwrap(), &broadband, 2).unwrap();
        assert!(why.starts_with("Spectral mode only"), "{why}");
        let why = inapplicable(find("stereo_mode").unwrap(), &broadband, 1).unwrap();
        assert!(
            why.starts_with("Stereo beds only: this bed is mono"),
            "{why}"
        );
    }
}
