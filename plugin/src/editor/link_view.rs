//! The link strip (issue 15): the instance's Link group and Role, and while it is in a group,
//! every member (the host's track name where the host gave it, else its role), each one's
//! share of the reduction now, and the dialogue-to-bed readout on the *sum* of the beds.
//!
//! It reads the members' published decisions straight from the process-wide link registry
//! (`underscore_dsp::link::registry`, lock-free seqlocks) by the Link parameter's group: no
//! plumbing through the audio thread beyond this instance's slot. The group readout is the
//! same code as the single-bed readout ([`SpeechBandRatio::add_group`]) with the same memory.

use egui::{RichText, Ui};
use nice_plug::prelude::ParamSetter;
use std::sync::atomic::Ordering;
use underscore_dsp::link::{self, MAX_MEMBERS, MemberStatus};
use underscore_dsp::settings::{self, Choice, LinkGroupId, Role};
use underscore_dsp::spectral::{BandAnalysis, SpeechBandRatio};

use super::{RATIO_MEMORY_SNAPSHOTS, palette};
use crate::analysis::NO_SLOT;
use crate::{SharedAnalysis, UnderscoreParams};

/// One member as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRow {
    pub slot: usize,
    /// The host's track name, or the role's name.
    pub name: String,
    pub role: Role,
    /// Mean reduction over the speech bands now, dB (>= 0).
    pub reduction_db: f32,
    /// This instance.
    pub own: bool,
}

/// What the strip shows, worked out once per frame (public for the headless tests).
#[derive(Debug, Clone, PartialEq)]
pub enum LinkState {
    /// Link is Off.
    Off,
    /// In a group but deciding alone, and why.
    Alone(String),
    /// Deciding with the others.
    Linked {
        members: Vec<MemberRow>,
        /// Dialogue over the summed beds, after and before ducking, dB.
        ratio_db: Option<f32>,
        unducked_db: Option<f32>,
    },
}

/// The strip's memory between frames.
pub struct LinkView {
    ratio: SpeechBandRatio,
    /// Status index last added to the readout, per slot.
    seen: [u64; MAX_MEMBERS],
    status: MemberStatus,
    frames: Vec<BandAnalysis>,
    group: Option<usize>,
}

impl Default for LinkView {
    fn default() -> Self {
        Self {
            ratio: SpeechBandRatio::new(Some(RATIO_MEMORY_SNAPSHOTS)),
            seen: [u64::MAX; MAX_MEMBERS],
            status: MemberStatus::default(),
            frames: Vec::with_capacity(MAX_MEMBERS),
            group: None,
        }
    }
}

impl LinkView {
    /// Reads the group this frame: the members, their shares and the group readout (a frame
    /// is added to the readout when the members published a new decision).
    pub fn update(
        &mut self,
        params: &UnderscoreParams,
        analysis: &SharedAnalysis,
        centres_hz: &[f32],
    ) -> LinkState {
        let Some(group) = params.link_group.value().0.group() else {
            self.group = None;
            return LinkState::Off;
        };
        if self.group != Some(group) {
            self.group = Some(group);
            self.ratio = SpeechBandRatio::new(Some(RATIO_MEMORY_SNAPSHOTS));
            self.seen = [u64::MAX; MAX_MEMBERS];
        }
        let own = analysis.link_slot.load(Ordering::Relaxed);
        if own == NO_SLOT {
            return LinkState::Alone(format!(
                "not linked: group {} is full ({MAX_MEMBERS} members) or the plugin is not \
                 processing",
                group + 1
            ));
        }
        let g = &link::registry()[group];
        let mut members = Vec::with_capacity(MAX_MEMBERS);
        self.frames.clear();
        let mut fresh = false;
        for slot in 0..MAX_MEMBERS {
            if !g.is_member(slot) || !g.status(slot, &mut self.status) {
                continue;
            }
            if g.sample_rate_hz(slot) != g.sample_rate_hz(own) {
                continue;
            }
            let role = Role::from_index(self.status.rank as usize);
            members.push(MemberRow {
                slot,
                name: shown_name(g.name(slot), role),
                role,
                reduction_db: self.status.reduction_db,
                own: slot == own,
            });
            fresh |= self.seen[slot] != self.status.index;
            self.seen[slot] = self.status.index;
            let mut frame = BandAnalysis::default();
            self.status.to_band_analysis(&mut frame);
            self.frames.push(frame);
        }
        if !analysis.link_linked.load(Ordering::Relaxed) || members.len() < 2 {
            let other_rate = analysis.link_other_rate.load(Ordering::Relaxed);
            return LinkState::Alone(if other_rate > 0 {
                format!(
                    "not linked: {other_rate} member(s) of group {} run at another sample rate",
                    group + 1
                )
            } else {
                "not linked: no other member found (in this host process)".to_owned()
            });
        }
        if fresh {
            let refs: Vec<&BandAnalysis> = self.frames.iter().collect();
            self.ratio.add_group(&refs);
        }
        LinkState::Linked {
            members,
            ratio_db: self.ratio.ratio_db(centres_hz, true),
            unducked_db: self.ratio.ratio_db(centres_hz, false),
        }
    }

    /// Draws the strip: Link and Role menus, then the state.
    pub fn show(
        &mut self,
        ui: &mut Ui,
        params: &UnderscoreParams,
        analysis: &SharedAnalysis,
        setter: &ParamSetter,
        centres_hz: &[f32],
    ) {
        let state = self.update(params, analysis, centres_hz);
        ui.horizontal(|ui| {
            choice_menu::<LinkGroupId>(ui, params, setter, "link_group", "Link");
            choice_menu::<Role>(ui, params, setter, "role", "Role");
            match &state {
                LinkState::Off => {
                    ui.label(RichText::new("ducks this bed on its own").color(palette::TEXT_DIM));
                }
                LinkState::Alone(why) => {
                    ui.label(RichText::new(why).color(palette::REDUCTION));
                }
                LinkState::Linked {
                    members,
                    ratio_db,
                    unducked_db,
                } => {
                    for m in members {
                        let text = format!("{} -{:.1}", m.name, m.reduction_db.max(0.0));
                        let text = RichText::new(text).color(palette::TEXT);
                        ui.label(if m.own { text.strong() } else { text })
                            .on_hover_text(format!(
                                "{} ({}): mean cut over 500 Hz-4 kHz now{}",
                                m.name,
                                Role::NAMES[m.role.index()],
                                if m.own { ", this instance" } else { "" }
                            ));
                    }
                    if let (Some(r), Some(u)) = (ratio_db, unducked_db) {
                        ui.label(
                            RichText::new(format!("sum {r:+.1} dB"))
                                .strong()
                                .color(palette::DIALOGUE),
                        )
                        .on_hover_text(format!(
                            "Dialogue-to-bed on the sum of the linked beds, 500 Hz-4 kHz, over \
                             the last few seconds of speech (unducked {u:+.1} dB): what the \
                             group's budget sets."
                        ));
                    }
                }
            }
        })
        .response
        .on_hover_text(
            "Linked buses: instances in the same Link group share one masking budget in \
             Spectral mode; the music yields first, the ambience last.",
        );
    }
}

/// A member as the strip names it: the host's track name, else its role's name.
fn shown_name(track_name: String, role: Role) -> String {
    if track_name.is_empty() {
        Role::NAMES[role.index()].to_owned()
    } else {
        track_name
    }
}

/// The name the editor shows for member `slot` of link group `group` (0-based): its track name,
/// else its role, else "member N" (it published nothing yet).
pub fn member_name(group: usize, slot: usize) -> String {
    let Some(g) = link::registry().get(group) else {
        return format!("member {}", slot + 1);
    };
    let mut status = MemberStatus::default();
    if g.is_member(slot) && g.status(slot, &mut status) {
        shown_name(g.name(slot), Role::from_index(status.rank as usize))
    } else {
        let name = g.name(slot);
        if name.is_empty() {
            format!("member {}", slot + 1)
        } else {
            name
        }
    }
}

/// A labelled choice (a menu for Link's and Role's lists, see [`super::choice`]) for the
/// parameter `id`, set as one host gesture; greyed out with the reason when it does nothing.
fn choice_menu<C: Choice>(
    ui: &mut Ui,
    params: &UnderscoreParams,
    setter: &ParamSetter,
    id: &str,
    label: &str,
) {
    let (Some(host), Some(setting)) = (params.host_param(id), settings::find(id)) else {
        return;
    };
    let why = super::applies::inapplicable(setting, &params.engine_params(), 0);
    let current = host.table_value().round().max(0.0) as usize;
    ui.add_enabled(why.is_none(), egui::Label::new(label));
    let (response, clicked) = ui
        .add_enabled_ui(why.is_none(), |ui| {
            super::choice::choice(ui, id, C::NAMES, C::HELP, current, 72.0)
        })
        .inner;
    let response = response.on_hover_text(setting.help);
    if let Some(why) = why {
        response.on_disabled_hover_text(format!("{why}\n\n{}", setting.help));
    }
    if let Some(i) = clicked {
        host.set_table_value(setter, i as f32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_host::RecordingHost;
    use underscore_dsp::bands::MAX_BANDS;

    /// A status with the dialogue `dialogue_db` over every band, the bed at 0 dB and a cut of
    /// `cut_db` in every band.
    fn status(index: u64, rank: u8, cut_db: f32) -> MemberStatus {
        MemberStatus {
            index,
            rank,
            speech: true,
            linked: true,
            reduction_db: cut_db,
            bands: 30,
            dialogue_power: [10.0; MAX_BANDS],
            bed_power: [1.0; MAX_BANDS],
            band_reduction_db: [cut_db; MAX_BANDS],
        }
    }

    #[test]
    fn the_strip_shows_the_group_members_shares_and_the_summed_readout() {
        // Group 7 of this test process' registry (no other test uses it).
        let group = 6;
        let params = UnderscoreParams::default();
        let analysis = SharedAnalysis::default();
        let centres: Vec<f32> = (0..30).map(|b| 200.0 * 1.12f32.powi(b)).collect();
        let mut view = LinkView::default();
        assert_eq!(view.update(&params, &analysis, &centres), LinkState::Off);

        // Set through the editor's own path (a host gesture), as the Link menu does.
        let host = RecordingHost::default();
        let setter = ParamSetter::new(&host);
        let set = |v: LinkGroupId| {
            params
                .host_param("link_group")
                .unwrap()
                .set_table_value(&setter, v.index() as f32);
        };
        set(LinkGroupId::G7);
        let g = &link::registry()[group];
        let music = g.join(48_000.0).unwrap();
        analysis.link_slot.store(music.slot(), Ordering::Relaxed);
        // Alone in the group: says so.
        match view.update(&params, &analysis, &centres) {
            LinkState::Alone(why) => assert!(why.contains("no other member"), "{why}"),
            s => panic!("{s:?}"),
        }
        let amb = g.join(48_000.0).unwrap();
        let (len, words) = link::encode_name("Night ambience");
        amb.set_name(len, &words);
        analysis.link_linked.store(true, Ordering::Relaxed);
        // The music cuts 6 dB, the ambience 1 dB: the sum of two 0 dB beds 10 dB under the
        // dialogue (+7 dB unducked) comes to 10 - 10 log10(10^-0.6 + 10^-0.1) after.
        for index in 0..50 {
            music.publish_status(&status(index, Role::Music.yield_rank(), 6.0));
            amb.publish_status(&status(index, Role::Ambience.yield_rank(), 1.0));
            view.update(&params, &analysis, &centres);
        }
        let LinkState::Linked {
            members,
            ratio_db,
            unducked_db,
        } = view.update(&params, &analysis, &centres)
        else {
            panic!("not linked");
        };
        let names: Vec<(&str, bool)> = members.iter().map(|m| (m.name.as_str(), m.own)).collect();
        assert_eq!(names, [("Music", true), ("Night ambience", false)]);
        assert_eq!(
            members.iter().map(|m| m.reduction_db).collect::<Vec<_>>(),
            [6.0, 1.0]
        );
        let want_after = 10.0 - 10.0 * (10f32.powf(-0.6) + 10f32.powf(-0.1)).log10();
        let want_before = 10.0 - 10.0 * 2f32.log10();
        assert!(
            (ratio_db.unwrap() - want_after).abs() < 0.01,
            "{ratio_db:?}"
        );
        assert!(
            (unducked_db.unwrap() - want_before).abs() < 0.01,
            "{unducked_db:?}"
        );
        // A member at another sample rate is not summed, and the strip says so.
        drop(amb);
        let _other = g.join(44_100.0).unwrap();
        analysis.link_linked.store(false, Ordering::Relaxed);
        analysis.link_other_rate.store(1, Ordering::Relaxed);
        match view.update(&params, &analysis, &centres) {
            LinkState::Alone(why) => assert!(why.contains("another sample rate"), "{why}"),
            s => panic!("{s:?}"),
        }
        set(LinkGroupId::Off);
        assert_eq!(view.update(&params, &analysis, &centres), LinkState::Off);
    }
}
