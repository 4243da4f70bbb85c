//! The sidechain check: does this instance hear a dialogue, and if not, what should the user do?
//!
//! A sidechain that is not routed ducks nothing, silently: the most common reason "Underscore
//! does nothing". The audio thread publishes the facts ([`MeterReading`]: the key's raw peak,
//! how long the bed has played over a silent key, the key channels the host gave) and, when
//! linked, whom the engine follows; this module decides, once per editor frame, what to show.
//!
//! "No dialogue" needs [`NO_KEY_AFTER_S`] of bed *playing* over a key under
//! [`KEY_SIGNAL_DB`]: a silent bed (transport stopped, a gap between cues) proves nothing, so
//! it neither starts nor clears the count. A linked member without a key of its own is not
//! missing anything: it follows the group's dialogue, and says whose.

use underscore_dsp::engine::KEY_ABSENT_MS;

use crate::meters::{BED_PLAYING_DB, KEY_SIGNAL_DB, MeterReading};

/// Seconds of bed over a silent key before the editor says "no dialogue": 2 s, the moment a
/// linked engine gives up its own key and follows the group's (`engine::KEY_ABSENT_MS`), so the
/// two agree. Longer than any pause inside a line (those are room tone, far above the floor
/// anyway), short enough that a user who presses play sees the reason before wondering.
pub const NO_KEY_AFTER_S: f32 = KEY_ABSENT_MS / 1000.0;

/// Without audio blocks for this long the transport counts as stopped, seconds (hosts deliver
/// blocks every 1-50 ms; editor frames come every ~16 ms).
const STOPPED_AFTER_S: f64 = 0.3;

/// What the sidechain carries, as shown.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyStatus {
    /// No audio since the editor opened, or the transport stopped.
    Waiting,
    /// Bed and key both silent: nothing to duck, nothing to judge.
    BedSilent,
    /// The key carries signal.
    Present,
    /// The bed plays over a silent key, for less than [`NO_KEY_AFTER_S`] so far (a pause).
    Pause { silent_s: f32 },
    /// The bed has played over a silent key for [`NO_KEY_AFTER_S`] or more: nothing ducks.
    Missing {
        silent_s: f32,
        /// Key channels the host gives (0: no sidechain buffer at all).
        key_channels: u32,
        /// The Link group (0-based) the instance is in, if any: none of its members has one.
        link_group: Option<usize>,
    },
    /// Linked, no key of its own: follows `member`'s dialogue in Link group `group` (0-based).
    Following { member: String, group: usize },
}

impl KeyStatus {
    /// The editor's banner: nothing ducks.
    pub fn is_missing(&self) -> bool {
        matches!(self, KeyStatus::Missing { .. })
    }

    /// The short status line ("dialogue", "silent for 1.2 s").
    pub fn summary(&self) -> String {
        match self {
            KeyStatus::Waiting => "waiting for audio".to_owned(),
            KeyStatus::BedSilent => "quiet (the bed is silent too)".to_owned(),
            KeyStatus::Present => "dialogue".to_owned(),
            KeyStatus::Pause { silent_s } => format!("silent for {silent_s:.1} s"),
            KeyStatus::Missing { silent_s, .. } => format!("no dialogue for {silent_s:.0} s"),
            KeyStatus::Following { member, group } => {
                format!("following \"{member}\" (Link {})", group + 1)
            }
        }
    }

    /// The banner's explanation and what to do (only for [`KeyStatus::Missing`]).
    pub fn advice(&self) -> Option<String> {
        let KeyStatus::Missing {
            key_channels,
            link_group,
            ..
        } = self
        else {
            return None;
        };
        Some(match (key_channels, link_group) {
            (0, _) => "The host gives this instance no sidechain input. Choose a plugin layout \
                 with a \"Dialogue\" input, or render offline with the underscore CLI."
                .to_owned(),
            (_, Some(g)) => format!(
                "No member of Link group {} hears a dialogue either. Route the dialogue track to \
                 the sidechain input \"Dialogue\" of this instance or of any member of the \
                 group.",
                g + 1
            ),
            (_, None) => "Route the dialogue track to Underscore's sidechain input \"Dialogue\" \
                 (a send, or the host's sidechain menu on this plugin), or link this instance \
                 to one that hears the dialogue (Link)."
                .to_owned(),
        })
    }
}

/// The check's memory between editor frames.
#[derive(Debug, Clone)]
pub struct KeyCheck {
    status: KeyStatus,
    /// Whether any audio block arrived since the editor opened (until then the published
    /// count may be an old one).
    heard_audio: bool,
    /// Editor time of the last frame with audio blocks, seconds.
    last_audio_s: f64,
}

impl Default for KeyCheck {
    fn default() -> Self {
        Self {
            status: KeyStatus::Waiting,
            heard_audio: false,
            last_audio_s: f64::NEG_INFINITY,
        }
    }
}

impl KeyCheck {
    /// Decides this frame's status at editor time `now_s` from the frame's reading, whom the
    /// engine follows (`followed`: the member's name and Link group, when it follows one) and
    /// the Link group the instance is in.
    pub fn update(
        &mut self,
        now_s: f64,
        r: &MeterReading,
        followed: Option<(String, usize)>,
        link_group: Option<usize>,
    ) -> &KeyStatus {
        if r.blocks > 0 {
            self.heard_audio = true;
            self.last_audio_s = now_s;
        }
        self.status = if let Some((member, group)) = followed {
            KeyStatus::Following { member, group }
        } else if self.heard_audio && r.key_silent_s >= NO_KEY_AFTER_S {
            // Held while the transport stops: the routing is still what it was.
            KeyStatus::Missing {
                silent_s: r.key_silent_s,
                key_channels: r.key_channels,
                link_group,
            }
        } else if r.blocks > 0 {
            if r.key_peak_db > KEY_SIGNAL_DB {
                KeyStatus::Present
            } else if r.input_peak_db >= BED_PLAYING_DB {
                KeyStatus::Pause {
                    silent_s: r.key_silent_s,
                }
            } else {
                KeyStatus::BedSilent
            }
        } else if now_s - self.last_audio_s > STOPPED_AFTER_S {
            KeyStatus::Waiting
        } else {
            // A frame between two audio blocks: the last block's status stands.
            match &self.status {
                s @ (KeyStatus::Present | KeyStatus::Pause { .. } | KeyStatus::BedSilent) => {
                    s.clone()
                }
                _ => KeyStatus::Waiting,
            }
        };
        &self.status
    }

    /// The status decided last.
    pub fn status(&self) -> &KeyStatus {
        &self.status
    }

    /// Forgets everything (the editor opened again).
    pub fn clear(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use underscore_dsp::units::FLOOR_DB;

    fn reading(blocks: u32, key_db: f32, bed_db: f32, silent_s: f32) -> MeterReading {
        MeterReading {
            duck_db: 0.0,
            duck_min_db: 0.0,
            key_max_db: FLOOR_DB,
            speech: false,
            speech_probability: 0.0,
            input_peak_db: bed_db,
            output_peak_db: bed_db,
            key_peak_db: key_db,
            key_silent_s: silent_s,
            key_channels: 2,
            blocks,
        }
    }

    #[test]
    fn statuses_from_the_facts() {
        let mut c = KeyCheck::default();
        // Nothing yet: waiting, even with an old count published before the editor opened.
        assert_eq!(
            c.update(0.0, &reading(0, FLOOR_DB, FLOOR_DB, 9.0), None, None),
            &KeyStatus::Waiting
        );
        assert_eq!(
            c.update(0.1, &reading(2, -20.0, -10.0, 0.0), None, None),
            &KeyStatus::Present
        );
        // Between blocks the last status stands; after STOPPED_AFTER_S it is Waiting.
        assert_eq!(
            c.update(0.2, &reading(0, FLOOR_DB, FLOOR_DB, 0.0), None, None),
            &KeyStatus::Present
        );
        assert_eq!(
            c.update(0.5, &reading(0, FLOOR_DB, FLOOR_DB, 0.0), None, None),
            &KeyStatus::Waiting
        );
        assert_eq!(
            c.update(0.6, &reading(1, -120.0, -10.0, 1.9), None, None),
            &KeyStatus::Pause { silent_s: 1.9 }
        );
        assert_eq!(
            c.update(0.7, &reading(1, -120.0, -100.0, 1.9), None, None),
            &KeyStatus::BedSilent
        );
        let missing = c
            .update(0.8, &reading(1, -120.0, -10.0, 2.0), None, Some(2))
            .clone();
        assert!(missing.is_missing());
        assert!(
            missing.advice().unwrap().contains("Link group 3"),
            "{missing:?}"
        );
        // Held while the transport stops.
        assert!(
            c.update(5.0, &reading(0, FLOOR_DB, FLOOR_DB, 2.0), None, None)
                .is_missing()
        );
        // A follower is never "missing".
        assert_eq!(
            c.update(
                5.1,
                &reading(1, FLOOR_DB, -10.0, 30.0),
                Some(("Dialogue".into(), 0)),
                Some(0)
            ),
            &KeyStatus::Following {
                member: "Dialogue".into(),
                group: 0
            }
        );
        assert_eq!(c.status().summary(), "following \"Dialogue\" (Link 1)");
    }

    #[test]
    fn no_sidechain_buffer_says_so() {
        let mut c = KeyCheck::default();
        let mut r = reading(3, FLOOR_DB, -6.0, 4.0);
        r.key_channels = 0;
        let advice = c.update(1.0, &r, None, None).advice().unwrap();
        assert!(advice.contains("no sidechain input"), "{advice}");
    }
}
