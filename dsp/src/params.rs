//! The user-facing settings of the chain, their units, ranges and defaults. The plugin builds its
//! host parameters from these specs and the renderer validates presets against them, so the
//! three can never disagree.

pub use crate::channels::{FieldShares, StereoMode};

/// Range and default of one continuous setting, in its display unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spec {
    pub min: f32,
    pub max: f32,
    pub default: f32,
}

impl Spec {
    /// Clamps `v` into range; a non-finite value becomes the default.
    pub fn clamp(&self, v: f32) -> f32 {
        if v.is_finite() {
            v.clamp(self.min, self.max)
        } else {
            self.default
        }
    }
}

/// Depth, dB: -10 dB is a clear but natural duck under dialogue; -40 dB is near mute.
pub const DEPTH_DB: Spec = Spec {
    min: -40.0,
    max: 0.0,
    default: -10.0,
};
/// Threshold, dBFS (speech-band RMS of the key). -45 dBFS sits below normal dialogue
/// (-30..-15 dBFS RMS) and above typical room tone (-60..-50 dBFS); breaths and clicks above it
/// are rejected by the speech detector, so it can sit low enough to catch soft onsets.
pub const THRESHOLD_DB: Spec = Spec {
    min: -80.0,
    max: 0.0,
    default: -45.0,
};
/// Attack, ms: full travel 0 dB -> Depth. 10 ms is inside the default lookahead.
pub const ATTACK_MS: Spec = Spec {
    min: 0.0,
    max: 500.0,
    default: 10.0,
};
/// Hold, ms: bridges gaps between words (typically 50-300 ms).
pub const HOLD_MS: Spec = Spec {
    min: 0.0,
    max: 2_000.0,
    default: 150.0,
};
/// Release, ms: full travel Depth -> 0 dB; slow so the bed glides back after a sentence.
pub const RELEASE_MS: Spec = Spec {
    min: 1.0,
    max: 5_000.0,
    default: 500.0,
};
/// Lookahead, ms: bed delay (reported latency), so the duck is in place before the onset. 80 ms
/// covers the speech detector's confirmation (20-50 ms after a phrase's level onset: voicing
/// needs a pitch period or two), the onset pre-roll and the attack.
pub const LOOKAHEAD_MS: Spec = Spec {
    min: 0.0,
    max: 100.0,
    default: 80.0,
};
/// Mix, 0..1 (shown as %): share of the duck applied.
pub const MIX: Spec = Spec {
    min: 0.0,
    max: 1.0,
    default: 1.0,
};
/// Output gain, dB.
pub const OUTPUT_GAIN_DB: Spec = Spec {
    min: -24.0,
    max: 24.0,
    default: 0.0,
};

/// Sensitivity of the speech detector, 0..1 (shown as %): higher accepts breathier or noisier
/// voices, lower rejects more non-speech. 50 % is tuned for clean production dialogue.
pub const SENSITIVITY: Spec = Spec {
    min: 0.0,
    max: 1.0,
    default: 0.5,
};
/// Share of the duck applied to the side of a stereo bed in Mid/Side mode, 0..1. The voice sits
/// in the phantom centre; the side (width, reverb, panned instruments) masks it far less.
pub const SIDE_SHARE: Spec = Spec {
    min: 0.0,
    max: 1.0,
    default: 0.5,
};
/// 5.1 front left/right share, 0..1: they carry some of the phantom centre of the score.
pub const FRONT_SHARE: Spec = Spec {
    min: 0.0,
    max: 1.0,
    default: 0.6,
};
/// 5.1 centre share, 0..1: the dialogue channel, where masking is worst.
pub const CENTRE_SHARE: Spec = Spec {
    min: 0.0,
    max: 1.0,
    default: 1.0,
};
/// 5.1 surround share, 0..1: spatially apart from the screen voice.
pub const SURROUND_SHARE: Spec = Spec {
    min: 0.0,
    max: 1.0,
    default: 0.3,
};
/// 5.1 LFE share, 0..1: below the speech band, never masks it.
pub const LFE_SHARE: Spec = Spec {
    min: 0.0,
    max: 1.0,
    default: 0.0,
};

/// Clarity, dB: target dialogue-over-bed ratio per band in Spectral mode, against the
/// dialogue's long-term band level. Broadcast guidance asks for at least 10 LU of commentary over
/// music (15 LU over ambience) broadband; per band the voice's weak consonants sit ~15 dB under
/// its long-term level (the range the ANSI SII counts), so 15 dB is the default.
pub const CLARITY_DB: Spec = Spec {
    min: 0.0,
    max: 30.0,
    default: 15.0,
};
/// Focus low edge, Hz: below it the bed is never ducked in Spectral mode (bass does not mask the
/// voice's intelligibility cues).
pub const FOCUS_LOW_HZ: Spec = Spec {
    min: 50.0,
    max: 1_000.0,
    default: 120.0,
};
/// Focus high edge, Hz: above it the bed is never ducked in Spectral mode (air and sparkle).
pub const FOCUS_HIGH_HZ: Spec = Spec {
    min: 1_000.0,
    max: 20_000.0,
    default: 8_000.0,
};

/// How the bed is ducked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The whole bed, by one gain: lowest latency (Lookahead only), lowest CPU.
    Broadband,
    /// Per auditory band, only where the bed masks the dialogue (adds one FFT window of latency).
    Spectral,
}

/// Every user-facing setting of the chain, in the units shown to the user.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineParams {
    /// How far the bed goes down while the key is active, in dB ([`DEPTH_DB`]).
    pub depth_db: f32,
    /// Key level (speech-band RMS, dBFS) above which the key counts as active.
    pub threshold_db: f32,
    /// Time of a full travel from 0 dB to Depth, in ms.
    pub attack_ms: f32,
    /// Time the bed stays down after the key goes quiet, in ms.
    pub hold_ms: f32,
    /// Time of a full travel from Depth back to 0 dB, in ms.
    pub release_ms: f32,
    /// How far the bed is delayed behind the key, in ms; reported as latency.
    pub lookahead_ms: f32,
    /// Share of the duck applied, 0..=1 (parallel: 0.5 = halfway in linear gain).
    pub mix: f32,
    /// Gain after ducking, in dB.
    pub output_gain_db: f32,
    /// Passes the (delayed) bed untouched.
    pub bypass: bool,
    /// Speech detector sensitivity, 0..=1.
    pub sensitivity: f32,
    /// Where in the sound field the duck acts (stereo mode and per-group shares).
    pub field: FieldShares,
    /// Broadband or Spectral.
    pub mode: Mode,
    /// Spectral mode: target dialogue-over-bed ratio per band, dB.
    pub clarity_db: f32,
    /// Spectral mode: lowest frequency ducking may touch, Hz.
    pub focus_low_hz: f32,
    /// Spectral mode: highest frequency ducking may touch, Hz.
    pub focus_high_hz: f32,
}

impl Default for EngineParams {
    fn default() -> Self {
        Self {
            depth_db: DEPTH_DB.default,
            threshold_db: THRESHOLD_DB.default,
            attack_ms: ATTACK_MS.default,
            hold_ms: HOLD_MS.default,
            release_ms: RELEASE_MS.default,
            lookahead_ms: LOOKAHEAD_MS.default,
            mix: MIX.default,
            output_gain_db: OUTPUT_GAIN_DB.default,
            bypass: false,
            sensitivity: SENSITIVITY.default,
            field: FieldShares {
                stereo_mode: StereoMode::Linked,
                side: SIDE_SHARE.default,
                front: FRONT_SHARE.default,
                centre: CENTRE_SHARE.default,
                lfe: LFE_SHARE.default,
                surround: SURROUND_SHARE.default,
            },
            mode: Mode::Broadband,
            clarity_db: CLARITY_DB.default,
            focus_low_hz: FOCUS_LOW_HZ.default,
            focus_high_hz: FOCUS_HIGH_HZ.default,
        }
    }
}

/// Clamps every setting into its range and replaces non-finite values by defaults, so a corrupt
/// preset or automation lane cannot push the chain outside its design.
pub fn sanitize_params(p: &EngineParams) -> EngineParams {
    EngineParams {
        depth_db: DEPTH_DB.clamp(p.depth_db),
        threshold_db: THRESHOLD_DB.clamp(p.threshold_db),
        attack_ms: ATTACK_MS.clamp(p.attack_ms),
        hold_ms: HOLD_MS.clamp(p.hold_ms),
        release_ms: RELEASE_MS.clamp(p.release_ms),
        lookahead_ms: LOOKAHEAD_MS.clamp(p.lookahead_ms),
        mix: MIX.clamp(p.mix),
        output_gain_db: OUTPUT_GAIN_DB.clamp(p.output_gain_db),
        bypass: p.bypass,
        sensitivity: SENSITIVITY.clamp(p.sensitivity),
        field: FieldShares {
            stereo_mode: p.field.stereo_mode,
            side: SIDE_SHARE.clamp(p.field.side),
            front: FRONT_SHARE.clamp(p.field.front),
            centre: CENTRE_SHARE.clamp(p.field.centre),
            lfe: LFE_SHARE.clamp(p.field.lfe),
            surround: SURROUND_SHARE.clamp(p.field.surround),
        },
        mode: p.mode,
        clarity_db: CLARITY_DB.clamp(p.clarity_db),
        focus_low_hz: FOCUS_LOW_HZ.clamp(p.focus_low_hz),
        focus_high_hz: FOCUS_HIGH_HZ.clamp(p.focus_high_hz),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_clamps_and_replaces_nan() {
        let p = EngineParams {
            depth_db: -100.0,
            attack_ms: f32::NAN,
            mix: 2.0,
            ..Default::default()
        };
        let s = sanitize_params(&p);
        assert_eq!(s.depth_db, -40.0);
        assert_eq!(s.attack_ms, ATTACK_MS.default);
        assert_eq!(s.mix, 1.0);
    }
}
