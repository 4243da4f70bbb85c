//! Every user-facing setting of Underscore, declared once.
//!
//! [`settings_table!`](crate::settings_table) is the one declaration of each setting: its
//! engine field, host parameter id (fixed forever: sessions and presets refer to it), display
//! name, group, unit, range, slider skew, default, whether hosts may automate it, and the help
//! text users see. Everything else is generated from it:
//!
//! * here, in `underscore-dsp`: [`EngineParams`] (one field per setting, in the units users see)
//!   and its `Default`; [`SPECS`], the typed spec of each setting (`SPECS.lookahead_ms.max`);
//!   [`SETTINGS`], the same table as data for tools that go by id (presets, the render CLI's
//!   `--set` and automation files, JSON reports, the editor's rows and tooltips); [`sanitize`]
//!   and [`validate`], which apply the ranges and the cross-field [`RULES`];
//! * in the plugin crate, the host parameters: the plugin expands the same table with its own
//!   callback macro into a `#[derive(Params)]` struct, one typed nice-plug parameter per entry
//!   (`FloatParam`, `BoolParam`, `EnumParam`), built from [`SPECS`].
//!
//! Why a `macro_rules!` table expanded on both sides rather than a hand-written `Params`
//! implementation over [`SETTINGS`]: nice-plug's `EnumParam` needs a Rust type per choice list,
//! and nice-plug's derive gives the state format hosts already saved (choices stored by their
//! ids), so the host side is generated code checked by the compiler, with typed access
//! (`params.mode.value()` is a [`Mode`]) and no raw parameter pointers. Adding a setting is one
//! entry here plus the DSP that reads it.
//!
//! Engine values are in the units users see (dB, ms, %, Hz; choices as enums), so no setting
//! has a second scale to keep in step: the DSP converts where it reads a value (a share in %
//! becomes a factor with `/ 100.0` in [`crate::engine`]).

use std::fmt;

/// The settings table, expanded by `$callback!` (a `macro_rules!` macro in scope at the call
/// site). Entry grammar, one per setting, in host parameter order (the order hosts list them):
///
/// ```text
/// /// doc comment: what the setting does and why its range and default
/// engine_field: number("host_id") { ...the fields of NumberSpec... },
/// engine_field: switch("host_id") { ...SwitchSpec... },
/// engine_field: choice<ChoiceEnum>("host_id") { ...ChoiceSpec... },
/// ```
///
/// Host ids and the order are fixed forever: saved sessions and presets refer to the ids, and
/// some hosts address parameters by index.
#[macro_export]
macro_rules! settings_table {
    ($callback:ident) => {
        $callback! {
            /// How far the bed goes down while dialogue speaks, dB. -10 dB is a clear but
            /// natural duck under dialogue; -40 dB is near mute.
            depth_db: number("depth") {
                name: "Depth",
                group: Group::Ducking,
                unit: Unit::Db,
                min: -40.0,
                max: 0.0,
                default: -10.0,
                skew: Skew::Linear,
                automatable: true,
                changes_latency: false,
                help: "How far the bed comes down under dialogue. -6 dB is a gentle dip; -15 dB clears the way.",
            },
            /// A floor, dBFS (the key's speech-band RMS): below it the key never counts as
            /// speech, whatever the detector says. Whether the key is speech is the voice
            /// detector's decision at any level above it; the floor only keeps faint bleed (a
            /// neighbouring microphone, a distant voice in the room tone) from ducking. -60
            /// dBFS is under the quietest production dialogue (-50..-40 dBFS RMS in the
            /// speech band when recorded low) and above a quiet room's tone.
            threshold_db: number("threshold") {
                name: "Threshold",
                group: Group::Ducking,
                unit: Unit::Db,
                min: -80.0,
                max: 0.0,
                default: -60.0,
                skew: Skew::Linear,
                automatable: true,
                changes_latency: false,
                help: "Floor: dialogue quieter than this never ducks (raise it to ignore bleed or distant voices). Above it, any level of speech ducks the same.",
            },
            /// Time of a full travel from 0 dB to Depth, ms. 10 ms is inside the default
            /// lookahead.
            attack_ms: number("attack") {
                name: "Attack",
                group: Group::Timing,
                unit: Unit::Ms,
                min: 0.0,
                max: 500.0,
                default: 10.0,
                skew: Skew::Exponent(-1.5),
                automatable: true,
                changes_latency: false,
                help: "How quickly the bed dips when a line starts. With Lookahead the dip lands before the first word.",
            },
            /// How long the bed stays down after the voice stops, ms: bridges the gaps between
            /// words (typically 50-300 ms).
            hold_ms: number("hold") {
                name: "Hold",
                group: Group::Timing,
                unit: Unit::Ms,
                min: 0.0,
                max: 2_000.0,
                default: 150.0,
                skew: Skew::Exponent(-1.5),
                automatable: true,
                changes_latency: false,
                help: "How long the bed stays down after speech stops, so it does not pump between words.",
            },
            /// Time of a full travel from Depth back to 0 dB, ms, on an S-curve: slow, so the
            /// bed glides back after a sentence.
            release_ms: number("release") {
                name: "Release",
                group: Group::Timing,
                unit: Unit::Ms,
                min: 1.0,
                max: 5_000.0,
                default: 500.0,
                skew: Skew::Exponent(-1.5),
                automatable: true,
                changes_latency: false,
                help: "How quickly the bed comes back after a line. Longer sounds like a mixer riding the fader.",
            },
            /// Bed delay, ms, reported to the host as latency, so the duck is in place before
            /// the onset. 100 ms (the range's top) covers the voice detector's confirmation: on
            /// the shared dialogue and its quiet, phone-band, noisy and overlapped transforms,
            /// 90 % of phrases are confirmed within 104 ms of their ground-truth start (which
            /// precedes the voice's rise; median 39 ms), and the onset attack shortens to fit.
            /// Not automatable, like Mode: it changes the latency, which a host may only take
            /// in with a restart (CLAP: inside `activate`), not from an automation lane.
            lookahead_ms: number("lookahead") {
                name: "Lookahead",
                group: Group::Timing,
                unit: Unit::Ms,
                min: 0.0,
                max: 100.0,
                default: 100.0,
                skew: Skew::Linear,
                automatable: false,
                changes_latency: true,
                help: "Delays the bed so the duck starts ahead of the first syllable. Adds this much latency.",
            },
            /// Share of the duck applied, % (parallel: 50 % is halfway in linear gain).
            mix_pct: number("mix") {
                name: "Mix",
                group: Group::Ducking,
                unit: Unit::Percent,
                min: 0.0,
                max: 100.0,
                default: 100.0,
                skew: Skew::Linear,
                automatable: true,
                changes_latency: false,
                help: "How much of the duck is applied: 100 % = the full Depth, 50 % = half of it.",
            },
            /// Gain after ducking, dB.
            output_gain_db: number("output") {
                name: "Output",
                group: Group::Ducking,
                unit: Unit::Db,
                min: -24.0,
                max: 24.0,
                default: 0.0,
                skew: Skew::Linear,
                automatable: true,
                changes_latency: false,
                help: "Trim or make-up on the bed after ducking.",
            },
            /// Passes the (delayed) bed untouched, with a click-free crossfade; keeps the
            /// latency. The host's bypass switch.
            bypass: switch("bypass") {
                name: "Bypass",
                group: Group::Main,
                default: false,
                host_bypass: true,
                help: "Passes the bed through untouched (still latency-compensated).",
            },
            /// How readily the key counts as speech, %: sets the voice detector's probability
            /// that starts a phrase (0 % -> 0.80, 50 % -> 0.55, 100 % -> 0.30, linear, see
            /// `speech::on_probability`; a phrase continues down to 0.15 under it). Higher catches whispers, distant and heavily
            /// processed voices; lower ignores more speech-like sounds (singing, some music).
            sensitivity_pct: number("sensitivity") {
                name: "Sensitivity",
                group: Group::Ducking,
                unit: Unit::Percent,
                min: 0.0,
                max: 100.0,
                default: 50.0,
                skew: Skew::Linear,
                automatable: true,
                changes_latency: false,
                help: "How readily the dialogue track counts as speech. Higher catches whispers and distant or processed voices; lower ignores more speech-like sounds such as singing.",
            },
            /// How a stereo bed is ducked: both sides alike, or the mid fully and the side by
            /// Side.
            stereo_mode: choice<$crate::settings::StereoMode>("stereo_mode") {
                name: "Stereo Mode",
                group: Group::Field,
                default: StereoMode::Linked,
                automatable: true,
                changes_latency: false,
                help: "Linked ducks left and right alike. Mid/Side ducks the centre (where the voice sits) fully and the sides by Side, keeping the width.",
            },
            /// Share of the duck (in dB) the side of a stereo bed gets in Mid/Side mode, %. The
            /// voice sits in the phantom centre; the side (width, reverb, panned instruments)
            /// masks it far less.
            side_pct: number("side") {
                name: "Side",
                group: Group::Field,
                unit: Unit::Percent,
                min: 0.0,
                max: 100.0,
                default: 50.0,
                skew: Skew::Linear,
                automatable: true,
                changes_latency: false,
                help: "Mid/Side: how much of the duck the sides get. Lower keeps stereo ambience wide under dialogue.",
            },
            /// 5.1 front left/right share of the duck, %: they carry some of the phantom centre
            /// of the score.
            front_pct: number("front") {
                name: "Front",
                group: Group::Field,
                unit: Unit::Percent,
                min: 0.0,
                max: 100.0,
                default: 60.0,
                skew: Skew::Linear,
                automatable: true,
                changes_latency: false,
                help: "5.1 beds: share of the duck for the front left/right pair.",
            },
            /// 5.1 centre share, %: the dialogue channel, where masking is worst.
            centre_pct: number("centre") {
                name: "Centre",
                group: Group::Field,
                unit: Unit::Percent,
                min: 0.0,
                max: 100.0,
                default: 100.0,
                skew: Skew::Linear,
                automatable: true,
                changes_latency: false,
                help: "5.1 beds: share of the duck for the centre channel (where dialogue usually sits).",
            },
            /// 5.1 surround share, %: spatially apart from the screen voice.
            surround_pct: number("surround") {
                name: "Surround",
                group: Group::Field,
                unit: Unit::Percent,
                min: 0.0,
                max: 100.0,
                default: 30.0,
                skew: Skew::Linear,
                automatable: true,
                changes_latency: false,
                help: "5.1 beds: share of the duck for the surrounds.",
            },
            /// 5.1 LFE share, %: below the speech band, it never masks it.
            lfe_pct: number("lfe") {
                name: "LFE",
                group: Group::Field,
                unit: Unit::Percent,
                min: 0.0,
                max: 100.0,
                default: 0.0,
                skew: Skew::Linear,
                automatable: true,
                changes_latency: false,
                help: "5.1 beds: share of the duck for the LFE.",
            },
            /// Broadband (one gain) or Spectral (per band). Not automatable: it changes the
            /// latency, which hosts handle with a restart.
            mode: choice<$crate::settings::Mode>("mode") {
                name: "Mode",
                group: Group::Main,
                default: Mode::Broadband,
                automatable: false,
                changes_latency: true,
                help: "Broadband: one gain for the whole bed. Spectral: only the bands where the bed masks the voice (adds one FFT window of latency).",
            },
            /// Spectral mode: target dialogue-over-bed ratio per auditory band while the
            /// dialogue speaks, dB: the dialogue's mean level over the bed as heard (see
            /// `spectral`). 25 dB is where Spectral mode, at Depth -10 dB, beats Broadband's
            /// intelligibility at equal loudness cost on every shared scene (ESTOI margin
            /// +0.010 to +0.126; at 20 dB one scene falls 0.002 short, at 15 dB 0.018): the
            /// masking bands need a deep cut for the voice's weak parts, which sit 20-28 dB
            /// under its mean level, to come through.
            clarity_db: number("clarity") {
                name: "Clarity",
                group: Group::Spectral,
                unit: Unit::Db,
                min: 0.0,
                max: 30.0,
                default: 25.0,
                skew: Skew::Linear,
                automatable: true,
                changes_latency: false,
                help: "Spectral mode: how far the dialogue (its average level) should stand above the bed in each band while it speaks. The bed is cut only where it misses this margin, never deeper than Depth.",
            },
            /// Spectral mode: below this the bed is never ducked, Hz (bass does not mask the
            /// voice's intelligibility cues).
            focus_low_hz: number("focus_low") {
                name: "Focus Low",
                group: Group::Spectral,
                unit: Unit::Hz,
                min: 50.0,
                max: 1_000.0,
                default: 120.0,
                skew: Skew::Exponent(-1.5),
                automatable: true,
                changes_latency: false,
                help: "Spectral mode: lowest frequency where the bed may be cut to clear the voice.",
            },
            /// Spectral mode: above this the bed is never ducked, Hz (air and sparkle).
            focus_high_hz: number("focus_high") {
                name: "Focus High",
                group: Group::Spectral,
                unit: Unit::Hz,
                min: 1_000.0,
                max: 20_000.0,
                default: 8_000.0,
                skew: Skew::Exponent(-1.5),
                automatable: true,
                changes_latency: false,
                help: "Spectral mode: highest frequency where the bed may be cut to clear the voice.",
            },
            /// Link group (issue 15): instances in the same group inside one host process share
            /// one masking budget (per band in Spectral mode, on the summed level in Broadband),
            /// so the *sum* of their beds is what clears the voice. Off: this instance ducks on
            /// its own.
            link_group: choice<$crate::settings::LinkGroupId>("link_group") {
                name: "Link",
                group: Group::Link,
                default: LinkGroupId::Off,
                automatable: false,
                changes_latency: false,
                help: "Put the music and ambience instances in the same group: their sum clears the voice, the music yielding first, and only one needs the dialogue on its sidechain. Off ducks this bed on its own.",
            },
            /// What this bed is in its link group, which sets who yields first: Music, then
            /// Effects, then Ambience (the frame of the scene, touched last).
            role: choice<$crate::settings::Role>("role") {
                name: "Role",
                group: Group::Link,
                default: Role::Music,
                automatable: false,
                changes_latency: false,
                help: "In a link group: music yields first, then effects; ambience is reduced only when the others are at their Depth.",
            },
        }
    };
}

/// Expands the table into [`EngineParams`], [`Specs`]/[`SPECS`] and [`SETTINGS`].
macro_rules! define_settings {
    ($(
        $(#[$attr:meta])*
        $field:ident : $kind:ident $(<$choice:ty>)? ($id:tt) { $($body:tt)* }
    ),* $(,)?) => {
        /// Every user-facing setting of the chain, in the units users see (generated from
        /// [`settings_table!`](crate::settings_table)).
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct EngineParams {
            $( $(#[$attr])* pub $field: define_settings!(@value $kind $($choice)?), )*
        }

        /// The typed spec of every setting, by engine field name.
        #[derive(Debug, Clone, Copy)]
        pub struct Specs {
            $( $(#[$attr])* pub $field: define_settings!(@spec $kind $($choice)?), )*
        }

        /// The typed spec of every setting: `SPECS.depth_db.min`, `SPECS.mode.default`.
        pub const SPECS: Specs = Specs {
            $( $field: define_settings!(@literal $kind $($choice)? { $($body)* }), )*
        };

        impl Default for EngineParams {
            fn default() -> Self {
                Self { $( $field: SPECS.$field.default, )* }
            }
        }

        /// Number of settings.
        pub const COUNT: usize = [$($id),*].len();

        /// Every setting as data, in host parameter order.
        pub static SETTINGS: [Setting; COUNT] = [$(
            Setting {
                id: $id,
                field: stringify!($field),
                name: SPECS.$field.name,
                group: SPECS.$field.group,
                help: SPECS.$field.help,
                automatable: SPECS.$field.automatable(),
                changes_latency: SPECS.$field.changes_latency(),
                kind: SPECS.$field.kind(),
                get: |p| SettingValue::to_user(p.$field),
                put: |p, v| p.$field = SettingValue::from_user(v),
            },
        )*];
    };
    (@value number) => { f32 };
    (@value switch) => { bool };
    (@value choice $t:ty) => { $t };
    (@spec number) => { NumberSpec };
    (@spec switch) => { SwitchSpec };
    (@spec choice $t:ty) => { ChoiceSpec<$t> };
    (@literal number { $($body:tt)* }) => { NumberSpec { $($body)* } };
    (@literal switch { $($body:tt)* }) => { SwitchSpec { $($body)* } };
    (@literal choice $t:ty { $($body:tt)* }) => { ChoiceSpec::<$t> { $($body)* } };
}

settings_table!(define_settings);

/// Where a setting is shown: the editor's top bar or one of its parameter groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// The top bar (Mode, Bypass).
    Main,
    /// How deep and on what.
    Ducking,
    /// Attack, hold, release, lookahead.
    Timing,
    /// Spectral mode only.
    Spectral,
    /// Stereo and 5.1 shares.
    Field,
    /// Linked buses (group and role).
    Link,
}

impl Group {
    /// The editor's parameter panel groups, in the order shown (Main is the top bar, Link
    /// the link strip under the masking view).
    pub const PANELS: [Group; 4] = [Group::Ducking, Group::Timing, Group::Spectral, Group::Field];

    /// The group's heading in the editor.
    pub fn title(self) -> &'static str {
        match self {
            Group::Main => "Main",
            Group::Ducking => "Ducking",
            Group::Timing => "Timing",
            Group::Spectral => "Spectral",
            Group::Field => "Stereo and surround",
            Group::Link => "Linked buses",
        }
    }
}

/// The unit a number is shown and typed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Decibels (levels and gains; dBFS for Threshold).
    Db,
    /// Milliseconds; typed also in seconds ("0.3 s").
    Ms,
    /// Percent.
    Percent,
    /// Hertz; typed also in kilohertz ("6.5 kHz").
    Hz,
}

impl Unit {
    /// The suffix shown after a value, with its leading space (" dB").
    pub fn suffix(self) -> &'static str {
        match self {
            Unit::Db => " dB",
            Unit::Ms => " ms",
            Unit::Percent => " %",
            Unit::Hz => " Hz",
        }
    }

    /// Decimals shown: a tenth of a dB is the smallest level step anyone hears; 1 ms and 1 %
    /// are finer than any of these settings needs; Hz is shown by the host's Hz/kHz formatter.
    pub fn digits(self) -> usize {
        match self {
            Unit::Db => 1,
            Unit::Ms | Unit::Percent => 0,
            Unit::Hz => 2,
        }
    }

    /// The value as the editor shows it, readable back by [`parse_number`]: "-12.0 dB", "50 %",
    /// "2.5 ms" under 10 ms, "250 ms", "1.25 s" from a second, "120 Hz", "6.5 kHz": about three
    /// significant figures, enough for any of these settings, with trailing zeros after the
    /// point dropped ("2 s", "8 kHz", "50 Hz"); dB always keep their tenth, the smallest level
    /// step anyone hears.
    pub fn display(self, value: f32) -> String {
        match self {
            Unit::Ms if value.abs() >= 999.5 => format!("{} s", trimmed(value / 1000.0, 2)),
            Unit::Hz if value.abs() >= 9_995.0 => format!("{} kHz", trimmed(value / 1000.0, 1)),
            Unit::Hz if value.abs() >= 999.5 => format!("{} kHz", trimmed(value / 1000.0, 2)),
            Unit::Hz if value.abs() < 99.95 => format!("{} Hz", trimmed(value, 1)),
            Unit::Hz => format!("{value:.0} Hz"),
            unit => format!("{}{}", unit.number(value), unit.suffix()),
        }
    }

    /// The number alone, in this unit (no switch to s or kHz), as [`Self::display`] writes it:
    /// "-12.0" dB, "50" %, "2.5" / "250" / "1500" ms, "120" / "6500" Hz. Hosts show it before
    /// the parameter's fixed unit (VST3's `units` field, which some hosts, e.g. pedalboard,
    /// build their parameter names from).
    pub fn number(self, value: f32) -> String {
        match self {
            Unit::Db => format!("{value:.1}"),
            Unit::Percent => format!("{value:.0}"),
            Unit::Ms | Unit::Hz if value.abs() < 9.95 => trimmed(value, 1),
            Unit::Ms | Unit::Hz => format!("{value:.0}"),
        }
    }
}

/// `v` with at most `decimals` decimals, trailing zeros dropped ("1.50" -> "1.5").
fn trimmed(v: f32, decimals: usize) -> String {
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// How a number maps onto a slider or a host's normalised 0..1 range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Skew {
    /// Even travel over the range.
    Linear,
    /// Slider position `((v - min) / (max - min)) ^ (2 ^ e)`: a negative `e` gives the low end
    /// more travel (times and frequencies, where the small values need the resolution). This
    /// is nice-plug's `FloatRange::Skewed` with `skew_factor(e)`.
    Exponent(f32),
}

/// A numeric setting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumberSpec {
    pub name: &'static str,
    pub group: Group,
    pub unit: Unit,
    pub min: f32,
    pub max: f32,
    pub default: f32,
    pub skew: Skew,
    pub automatable: bool,
    /// Changing it changes the plugin's latency (hosts must be told; a file render cannot
    /// follow it mid-file).
    pub changes_latency: bool,
    pub help: &'static str,
}

impl NumberSpec {
    const fn changes_latency(&self) -> bool {
        self.changes_latency
    }

    /// Clamps `v` into range; a non-finite value becomes the default.
    pub fn clamp(&self, v: f32) -> f32 {
        if v.is_finite() {
            v.clamp(self.min, self.max)
        } else {
            self.default
        }
    }

    const fn automatable(&self) -> bool {
        self.automatable
    }

    const fn kind(&self) -> Kind {
        Kind::Number {
            unit: self.unit,
            min: self.min,
            max: self.max,
            skew: self.skew,
        }
    }
}

/// An on/off setting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SwitchSpec {
    pub name: &'static str,
    pub group: Group,
    pub default: bool,
    /// The plugin's bypass: hosts show it as their bypass switch.
    pub host_bypass: bool,
    pub help: &'static str,
}

impl SwitchSpec {
    const fn automatable(&self) -> bool {
        true
    }

    const fn changes_latency(&self) -> bool {
        false
    }

    const fn kind(&self) -> Kind {
        Kind::Switch {
            host_bypass: self.host_bypass,
        }
    }
}

/// A setting that is one of a list ([`Choice`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChoiceSpec<T: Choice> {
    pub name: &'static str,
    pub group: Group,
    pub default: T,
    pub automatable: bool,
    /// Changing it changes the plugin's latency.
    pub changes_latency: bool,
    pub help: &'static str,
}

impl<T: Choice> ChoiceSpec<T> {
    const fn automatable(&self) -> bool {
        self.automatable
    }

    const fn changes_latency(&self) -> bool {
        self.changes_latency
    }

    const fn kind(&self) -> Kind {
        Kind::Choice {
            ids: T::IDS,
            names: T::NAMES,
            help: T::HELP,
        }
    }
}

/// An enum whose values are a setting's choices: stable ids (saved in sessions and presets),
/// display names and help, in index order. Declared with [`choice_enum!`].
pub trait Choice: Copy + PartialEq + fmt::Debug + Send + Sync + 'static {
    const IDS: &'static [&'static str];
    const NAMES: &'static [&'static str];
    const HELP: &'static [&'static str];
    /// Position in [`Self::IDS`].
    fn index(self) -> usize;
    /// The choice at `index` (the first one if out of range).
    fn from_index(index: usize) -> Self;
    /// Its stable id ("spectral").
    fn id(self) -> &'static str {
        Self::IDS[self.index()]
    }
}

/// Declares a [`Choice`] enum: each variant with its id, display name and help.
macro_rules! choice_enum {
    (
        $(#[$attr:meta])*
        pub enum $name:ident {
            $( $(#[$vattr:meta])* $variant:ident = ($id:literal, $label:literal, $help:literal), )*
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $( $(#[$vattr])* $variant, )*
        }

        impl Choice for $name {
            const IDS: &'static [&'static str] = &[$($id),*];
            const NAMES: &'static [&'static str] = &[$($label),*];
            const HELP: &'static [&'static str] = &[$($help),*];

            fn index(self) -> usize {
                const ALL: &[$name] = &[$($name::$variant),*];
                ALL.iter().position(|&c| c == self).unwrap_or(0)
            }

            fn from_index(index: usize) -> Self {
                const ALL: &[$name] = &[$($name::$variant),*];
                ALL.get(index).copied().unwrap_or(ALL[0])
            }
        }

        impl SettingValue for $name {
            fn to_user(self) -> f32 {
                self.index() as f32
            }

            fn from_user(v: f32) -> Self {
                Self::from_index(v.max(0.0).round() as usize)
            }
        }
    };
}

choice_enum! {
    /// How the bed is ducked.
    pub enum Mode {
        /// The whole bed, by one gain: lowest latency (Lookahead only), lowest CPU.
        Broadband = ("broadband", "Broadband",
                     "One gain for the whole bed: classic dialogue ducking."),
        /// Per auditory band, only where the bed masks the dialogue (adds one FFT window of
        /// latency).
        Spectral = ("spectral", "Spectral",
                    "Cuts the bed only in the bands where it masks the voice, so the music keeps                      its body. Adds one FFT window of latency (the host may restart the plugin)."),
    }
}

choice_enum! {
    /// How a stereo bed is ducked.
    pub enum StereoMode {
        /// Left and right get the same gain.
        Linked = ("linked", "Linked", "Left and right ducked alike."),
        /// The mid (L+R) gets the full duck, the side (L-R) its share.
        MidSide = ("mid_side", "Mid/Side",
                   "The mid (phantom centre, where the voice sits) ducked fully, the side by                     Side."),
    }
}

choice_enum! {
    /// The link group an instance is in.
    pub enum LinkGroupId {
        /// Not linked.
        Off = ("off", "Off", "Ducks this bed on its own."),
        G1 = ("1", "1", "Link group 1."),
        G2 = ("2", "2", "Link group 2."),
        G3 = ("3", "3", "Link group 3."),
        G4 = ("4", "4", "Link group 4."),
        G5 = ("5", "5", "Link group 5."),
        G6 = ("6", "6", "Link group 6."),
        G7 = ("7", "7", "Link group 7."),
        G8 = ("8", "8", "Link group 8."),
    }
}

impl LinkGroupId {
    /// The group's index (0..8), `None` when Off.
    pub fn group(self) -> Option<usize> {
        Choice::index(self).checked_sub(1)
    }
}

choice_enum! {
    /// What a linked bed is, which sets the order in which the members of a link group yield.
    pub enum Role {
        /// Score and source music: yields first (music under dialogue is the usual first move).
        Music = ("music", "Music", "Yields first: the score comes down before anything else."),
        /// Sound-effects beds: yield after the music.
        Effects = ("effects", "Effects", "Yields after the music."),
        /// Ambience and room tone: yields last (it frames the scene and masks little at its
        /// level).
        Ambience = ("ambience", "Ambience", "Yields last: reduced only when the others are at their Depth."),
    }
}

/// An engine value's conversion to and from the number tools exchange: the value itself for
/// numbers, 0/1 for switches, the index for choices.
pub trait SettingValue: Copy {
    fn to_user(self) -> f32;
    fn from_user(v: f32) -> Self;
}

impl SettingValue for f32 {
    fn to_user(self) -> f32 {
        self
    }

    fn from_user(v: f32) -> Self {
        v
    }
}

impl SettingValue for bool {
    fn to_user(self) -> f32 {
        if self { 1.0 } else { 0.0 }
    }

    fn from_user(v: f32) -> Self {
        v >= 0.5
    }
}

/// What kind of value a setting takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A number in `unit`, `min..=max`.
    Number {
        unit: Unit,
        min: f32,
        max: f32,
        skew: Skew,
    },
    /// One of a list; the value is the index into `ids`.
    Choice {
        ids: &'static [&'static str],
        names: &'static [&'static str],
        help: &'static [&'static str],
    },
    /// On/off; the value is 0 or 1.
    Switch { host_bypass: bool },
}

/// One setting as data: id (the host parameter id, fixed forever), engine field, display name,
/// group, help, kind, and access to its value in [`EngineParams`] as a number (the value for
/// numbers, 0/1 for switches, the index for choices).
pub struct Setting {
    pub id: &'static str,
    /// The [`EngineParams`] field it sets.
    pub field: &'static str,
    pub name: &'static str,
    pub group: Group,
    pub help: &'static str,
    pub kind: Kind,
    /// Whether hosts may automate it.
    pub automatable: bool,
    /// Whether changing it changes the latency (Lookahead, Mode).
    pub changes_latency: bool,
    get: fn(&EngineParams) -> f32,
    put: fn(&mut EngineParams, f32),
}

impl fmt::Debug for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Setting").field("id", &self.id).finish()
    }
}

impl Setting {
    /// The current value (choice index, 0/1 for switches).
    pub fn get(&self, p: &EngineParams) -> f32 {
        (self.get)(p)
    }

    /// Sets a value after [`Self::check`]; an invalid value is an error and leaves `p`
    /// untouched.
    pub fn set(&self, p: &mut EngineParams, value: f32) -> Result<(), String> {
        let v = self.check(value)?;
        (self.put)(p, v);
        Ok(())
    }

    /// The default value.
    pub fn default_value(&self) -> f32 {
        self.get(&EngineParams::default())
    }

    /// Whether presets carry this setting. Not the Link group: it is how a session routes its
    /// instances, not how a bed should sound, so loading a preset keeps an instance in its
    /// group (and a preset file naming it is refused, see `underscore_preset`).
    pub fn in_presets(&self) -> bool {
        self.id != "link_group"
    }

    /// Whether two values are the same setting: equal within 1e-4 of the range for numbers (a
    /// host's normalised round trip moves a value by far less), exactly for choices and
    /// switches.
    pub fn same(&self, a: f32, b: f32) -> bool {
        let tolerance = match self.kind {
            Kind::Number { min, max, .. } => (max - min) * 1e-4,
            _ => 0.0,
        };
        (a - b).abs() <= tolerance
    }

    /// Accepts a value if it is in range (choices: a valid index; switches: 0 or 1), with a
    /// message naming the setting, the value and the range otherwise.
    pub fn check(&self, value: f32) -> Result<f32, String> {
        let id = self.id;
        if !value.is_finite() {
            return Err(format!("{id}: {value} is not a number"));
        }
        match self.kind {
            Kind::Number { unit, min, max, .. } => {
                let unit = unit.suffix();
                // A little slack for values written with rounded decimals.
                let slack = (max - min) * 1e-6;
                if value < min - slack || value > max + slack {
                    return Err(format!(
                        "{id} = {value}{unit} is outside its range {min}..{max}{unit}"
                    ));
                }
                Ok(value.clamp(min, max))
            }
            Kind::Choice { ids, .. } => {
                if value.fract() == 0.0 && value >= 0.0 && (value as usize) < ids.len() {
                    Ok(value)
                } else {
                    Err(format!(
                        "{id} = {value} is not one of 0..{} ({})",
                        ids.len() - 1,
                        ids.join(", ")
                    ))
                }
            }
            Kind::Switch { .. } => {
                if value == 0.0 || value == 1.0 {
                    Ok(value)
                } else {
                    Err(format!("{id} = {value} must be 0 (off) or 1 (on)"))
                }
            }
        }
    }

    /// Reads a value as users type it (the render CLI's `--set`, automation files, text values
    /// in presets):
    ///
    /// * numbers with their unit, in any case, with or without a space: "-12dB", "-40 dBFS",
    ///   "300 ms", "0.3s", "50%", "120 Hz", "6.5kHz" (or "6.5k");
    /// * a bare number where it cannot be misread: dB settings ("-12") and Hz settings ("8000";
    ///   the ranges of the Hz settings do not overlap their kHz readings). Times and shares
    ///   need their unit ("lookahead=0.1" could mean 0.1 ms or 0.1 s, "mix=0.5" a fraction or
    ///   0.5 %), except 0, which means the same in every unit: the error lists what to write;
    /// * a choice by id or display label, in any case ("spectral", "Mid/Side", "mid-side"), or
    ///   by its index;
    /// * a switch as on/off, true/false, yes/no or 1/0.
    ///
    /// The plugin's host text fields, which show the unit beside the value, read bare numbers
    /// in that unit with [`parse_number`] instead.
    pub fn parse(&self, text: &str) -> Result<f32, String> {
        let shown = text.trim();
        let id = self.id;
        let value = match self.kind {
            Kind::Number { unit, min, max, .. } => {
                let (number, unit_text) = split_unit(shown);
                let Ok(v) = number.parse::<f32>() else {
                    return Err(format!(
                        "{id}: cannot read \"{shown}\": write a number in {} (e.g. \"{}\")",
                        unit.word(),
                        unit.example(self.default_value())
                    ));
                };
                if !v.is_finite() {
                    return Err(format!("{id}: \"{shown}\" is not a finite number"));
                }
                if let Some(message) = unit_text
                    .is_empty()
                    .then(|| bare_number_problem(self, unit, v, min, max))
                    .flatten()
                {
                    return Err(format!("{id}: {message}"));
                }
                match unit_scale(unit, &unit_text) {
                    Some(scale) => v * scale,
                    None => {
                        return Err(format!(
                            "{id}: \"{shown}\": {} is in {}, not \"{unit_text}\" (e.g. \"{}\")",
                            self.name,
                            unit.word(),
                            unit.example(self.default_value())
                        ));
                    }
                }
            }
            Kind::Choice { ids, names, .. } => {
                let folded = fold(shown);
                match (0..ids.len()).find(|&i| fold(ids[i]) == folded || fold(names[i]) == folded) {
                    Some(i) => i as f32,
                    None => match shown.parse::<f32>() {
                        Ok(index) => index,
                        Err(_) => {
                            let listed: Vec<String> = (0..ids.len())
                                .map(|i| {
                                    if ids[i].eq_ignore_ascii_case(names[i]) {
                                        ids[i].to_string()
                                    } else {
                                        format!("{} ({})", ids[i], names[i])
                                    }
                                })
                                .collect();
                            let hint = did_you_mean(shown, ids.iter().chain(names.iter()).copied())
                                .map(|i| ids[i % ids.len()])
                                .collect::<Vec<_>>();
                            return Err(format!(
                                "{id}: \"{shown}\" is not one of {}{}",
                                listed.join(", "),
                                suggestion(&hint)
                            ));
                        }
                    },
                }
            }
            Kind::Switch { .. } => match shown.to_ascii_lowercase().as_str() {
                "on" | "true" | "1" | "yes" => 1.0,
                "off" | "false" | "0" | "no" => 0.0,
                _ => return Err(format!("{id}: cannot read \"{shown}\": write on or off")),
            },
        };
        self.check(value).map_err(|e| match self.kind {
            // A frequency typed in kHz without its unit ("focus_high=8"): say how to write it.
            Kind::Number {
                unit: Unit::Hz,
                min,
                max,
                ..
            } if split_unit(shown).1.is_empty() && (min..=max).contains(&(value * 1000.0)) => {
                let v = num(value);
                format!("{e} (for {v} kHz write \"{v}kHz\")")
            }
            _ => e,
        })
    }

    /// The value as text, readable back by [`Self::parse`].
    pub fn format(&self, value: f32) -> String {
        match self.kind {
            Kind::Number { unit, .. } => format!("{value}{}", unit.suffix()),
            Kind::Choice { ids, .. } => ids
                .get(value.max(0.0) as usize)
                .copied()
                .unwrap_or("?")
                .to_string(),
            Kind::Switch { .. } => if value >= 0.5 { "on" } else { "off" }.to_string(),
        }
    }

    /// Clamps the value in `p` into range (a non-finite value becomes the default).
    fn clamp_in(&self, p: &mut EngineParams) {
        if let Kind::Number { min, max, .. } = self.kind {
            let v = self.get(p);
            let clamped = if v.is_finite() {
                v.clamp(min, max)
            } else {
                self.default_value()
            };
            (self.put)(p, clamped);
        }
    }
}

/// Splits "-12.5 dBFS" into the number ("-12.5") and the unit in lower case without spaces
/// ("dbfs"): the unit is the trailing run of letters and `%`.
fn split_unit(text: &str) -> (&str, String) {
    let t = text.trim();
    let number_end = t
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphabetic() || *c == '%' || c.is_whitespace())
        .last()
        .map_or(t.len(), |(i, _)| i);
    let unit: String = t[number_end..]
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    (t[..number_end].trim(), unit)
}

/// The factor from a typed unit to the setting's `unit` (`""`, a bare number, reads in the
/// setting's unit); `None` for a unit that does not fit.
fn unit_scale(unit: Unit, typed: &str) -> Option<f32> {
    match (unit, typed) {
        (_, "") => Some(1.0),
        (Unit::Db, "db" | "dbfs") => Some(1.0),
        (Unit::Ms, "ms" | "msec") => Some(1.0),
        (Unit::Ms, "s" | "sec" | "secs") => Some(1_000.0),
        (Unit::Percent, "%" | "pct" | "percent") => Some(1.0),
        (Unit::Hz, "hz") => Some(1.0),
        (Unit::Hz, "khz" | "k") => Some(1_000.0),
        _ => None,
    }
}

/// Why a bare number (no unit) cannot be read for `setting`, if it cannot: times (ms or s?)
/// and shares (% or a fraction?) need their unit, except 0. The message lists each reading
/// inside the range as what to write.
fn bare_number_problem(
    setting: &Setting,
    unit: Unit,
    v: f32,
    min: f32,
    max: f32,
) -> Option<String> {
    let in_range = |x: f32| x >= min && x <= max;
    let n = num(v);
    // Each reading: what to write, what it means, the value it gives.
    let readings: Vec<(String, String, f32)> = match unit {
        _ if v == 0.0 => return None,
        Unit::Ms => vec![
            (format!("{n}ms"), format!("{n} ms"), v),
            (
                format!("{n}s"),
                format!("{} ms", num(v * 1000.0)),
                v * 1000.0,
            ),
        ],
        Unit::Percent => vec![
            (
                format!("{}%", num(v * 100.0)),
                format!("{n} is a fraction"),
                v * 100.0,
            ),
            (format!("{n}%"), format!("{n} is a percentage"), v),
        ],
        Unit::Db | Unit::Hz => return None,
    };
    let readings: Vec<_> = readings.into_iter().filter(|r| in_range(r.2)).collect();
    let (what, units) = match unit {
        Unit::Ms => ("a time", "ms or s"),
        _ => ("a share", "%"),
    };
    let name = setting.name;
    Some(match readings.as_slice() {
        [] => format!(
            "\"{n}\" needs a unit ({name} is {what}, in {units}) and is outside its range \
             {}..{}{} either way",
            num(min),
            num(max),
            unit.suffix()
        ),
        [(write, _, _)] => {
            format!("\"{n}\" needs a unit ({name} is {what}, in {units}): write \"{write}\"")
        }
        _ => {
            let options: Vec<String> = readings
                .iter()
                .map(|(write, means, _)| match unit {
                    Unit::Ms => format!("\"{write}\" for {means}"),
                    _ => format!("\"{write}\" if {means}"),
                })
                .collect();
            format!(
                "\"{n}\" needs a unit ({name} is {what}, in {units}): write {}",
                options.join(" or ")
            )
        }
    })
}

/// Reads a number as users type it for a setting shown with `unit_suffix` (" dB", " ms",
/// " %", " Hz"), where a bare number is in that unit: "250", "250 ms", "-10dB", "-40 dBFS",
/// "50%"; seconds for milliseconds ("0.25 s") and kilohertz for hertz ("6.5 kHz"). `None`
/// unless it is a finite number in a unit that fits. The plugin's host text fields use it
/// (the field shows the unit, so a bare number is unambiguous there; [`Setting::parse`],
/// for text without that context, asks for the unit of times and shares).
pub fn parse_number(text: &str, unit_suffix: &str) -> Option<f32> {
    let unit = match unit_suffix.trim().to_ascii_lowercase().as_str() {
        "db" => Unit::Db,
        "ms" => Unit::Ms,
        "%" => Unit::Percent,
        "hz" => Unit::Hz,
        _ => return None,
    };
    let (number, typed) = split_unit(text);
    let v: f32 = number.parse().ok()?;
    let scale = unit_scale(unit, &typed)?;
    (v * scale).is_finite().then_some(v * scale)
}

/// A name folded for comparison as users type it: lower case, letters and digits only
/// ("Stereo Mode", "stereo-mode" and "STEREO_MODE" all fold to "stereomode").
pub fn fold(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The setting a user means: its id ("stereo_mode") or display name ("Stereo Mode"), in any
/// case, with `_`, `-` or spaces between the words, if any.
pub fn find(id: &str) -> Option<&'static Setting> {
    if let Some(s) = SETTINGS.iter().find(|s| s.id == id) {
        return Some(s);
    }
    let wanted = fold(id);
    SETTINGS
        .iter()
        .find(|s| fold(s.id) == wanted || fold(s.name) == wanted)
}

/// An unknown id's message: the closest ids ("did you mean"), and the known ones.
pub fn unknown(id: &str) -> String {
    let known: Vec<&str> = SETTINGS.iter().map(|s| s.id).collect();
    let names = SETTINGS
        .iter()
        .map(|s| s.id)
        .chain(SETTINGS.iter().map(|s| s.name));
    let hint: Vec<&str> = did_you_mean(id, names)
        .map(|i| known[i % known.len()])
        .collect();
    format!(
        "unknown parameter \"{id}\"{} (known: {})",
        suggestion(&hint),
        known.join(", ")
    )
}

/// "; did you mean "x"?" or "; did you mean "x" or "y"?" (nothing for no candidates);
/// duplicates are dropped.
pub fn suggestion(candidates: &[&str]) -> String {
    let mut unique: Vec<&str> = Vec::new();
    for c in candidates {
        if !unique.contains(c) {
            unique.push(c);
        }
    }
    if unique.is_empty() {
        return String::new();
    }
    let quoted: Vec<String> = unique.iter().map(|c| format!("\"{c}\"")).collect();
    format!("; did you mean {}?", quoted.join(" or "))
}

/// The positions of the candidates closest to what a user typed, best first, at most three:
/// compared folded ([`fold`]), by the edit distance (insertions, deletions, substitutions and
/// swaps of neighbours) to the whole candidate or to its start as long as the typed text, so a
/// misspelt start finds the long name ("dramaa" -> "drama_under_score"). Only candidates within
/// one edit per three letters typed (at least one) count; none when nothing is that close.
pub fn did_you_mean<'a>(
    typed: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> impl Iterator<Item = usize> {
    let typed = fold(typed);
    let limit = (typed.chars().count() / 3).max(1);
    let mut scored: Vec<(usize, usize)> = candidates
        .into_iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let c = fold(c);
            let start: String = c.chars().take(typed.chars().count()).collect();
            let d = edit_distance(&typed, &c).min(edit_distance(&typed, &start) + 1);
            (d <= limit && !typed.is_empty()).then_some((d, i))
        })
        .collect();
    scored.sort();
    let best = scored.first().map_or(0, |s| s.0);
    scored
        .into_iter()
        .take_while(move |s| s.0 == best)
        .map(|s| s.1)
        .take(3)
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of
/// neighbouring characters each count 1.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i * w + j] = if i == 0 || j == 0 {
                i + j
            } else {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut best = (d[(i - 1) * w + j] + 1)
                    .min(d[i * w + j - 1] + 1)
                    .min(d[(i - 1) * w + j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    best = best.min(d[(i - 2) * w + j - 2] + 1);
                }
                best
            };
        }
    }
    d[a.len() * w + b.len()]
}

/// A number for messages: at most four decimals, trailing zeros dropped ("100", "0.25").
fn num(x: f32) -> String {
    let text = format!("{:.4}", x);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

impl Unit {
    /// The unit in words for messages: what a value may be written in.
    pub fn word(self) -> &'static str {
        match self {
            Unit::Db => "dB",
            Unit::Ms => "ms or s",
            Unit::Percent => "%",
            Unit::Hz => "Hz or kHz",
        }
    }

    /// `value` written with its unit as a user would type it for [`Setting::parse`]: "-10dB",
    /// "150ms", "0.8s" (from a second), "50%", "120Hz", "8kHz" (from 1 kHz).
    pub fn example(self, value: f32) -> String {
        match self {
            Unit::Db => format!("{}dB", num(value)),
            Unit::Ms if value >= 1_000.0 => format!("{}s", num(value / 1_000.0)),
            Unit::Ms => format!("{}ms", num(value)),
            Unit::Percent => format!("{}%", num(value)),
            Unit::Hz if value >= 1_000.0 => format!("{}kHz", num(value / 1_000.0)),
            Unit::Hz => format!("{}Hz", num(value)),
        }
    }
}

/// A rule between settings that no single range can express.
pub struct Rule {
    /// Whether it holds.
    pub holds: fn(&EngineParams) -> bool,
    /// The problem in users' words, when it does not hold.
    pub message: fn(&EngineParams) -> String,
    /// What the engine does when it cannot refuse the settings (a host set them): the nearest
    /// settings that obey the rule, documented with the rule.
    pub resolve: fn(&mut EngineParams),
}

/// The cross-field rules. Presets, the render CLI and automation files refuse settings that
/// break one ([`validate`]); the plugin cannot refuse what a host sets, so the engine resolves
/// them ([`sanitize`]) and the editor shows the problem.
pub static RULES: &[Rule] = &[
    // Focus Low below Focus High. The ranges meet only at 1 kHz; there, Focus is empty and
    // Spectral mode ducks nothing (the high edge is raised to the low one, no further).
    Rule {
        holds: |p| p.focus_low_hz < p.focus_high_hz,
        message: |p| {
            format!(
                "focus_low ({} Hz) must be below focus_high ({} Hz)",
                p.focus_low_hz, p.focus_high_hz
            )
        },
        resolve: |p| p.focus_high_hz = p.focus_high_hz.max(p.focus_low_hz),
    },
];

/// Every setting in range and finite, and every [`RULES`] entry holding; else the first
/// problem, in users' words (naming the setting, its value and its range).
pub fn validate(p: &EngineParams) -> Result<(), String> {
    for s in &SETTINGS {
        s.check(s.get(p))?;
    }
    match RULES.iter().find(|r| !(r.holds)(p)) {
        Some(rule) => Err((rule.message)(p)),
        None => Ok(()),
    }
}

/// The settings the engine runs with: every number clamped into its range (a non-finite one
/// replaced by its default) and every rule resolved, so a corrupt preset, state or automation
/// lane cannot push the chain outside its design. No allocation (runs in `process()`).
pub fn sanitize(p: &EngineParams) -> EngineParams {
    let mut s = *p;
    for setting in &SETTINGS {
        setting.clamp_in(&mut s);
    }
    for rule in RULES {
        if !(rule.holds)(&s) {
            (rule.resolve)(&mut s);
        }
    }
    s
}

/// How far the dialogue's mean level lies over its soft level (the 20th percentile of its
/// frame levels while it speaks, pauses skipped) in the speech bands, dB: 24-28 dB on the four
/// shared dialogue stems (ERB bands 500 Hz-4 kHz). Clarity was measured against the soft level
/// before plugin 0.2.0 (preset schema 1); a value saved then means this much more against the
/// mean level today.
pub const CLARITY_V1_OFFSET_DB: f32 = 25.0;

/// Clarity's default before plugin 0.2.0, dB (against the soft level).
pub const CLARITY_V1_DEFAULT_DB: f32 = 15.0;

/// Clarity saved by plugin 0.1 or in a schema-1 preset (`None`: not saved, the old default),
/// dB, as this build means it: the same target, now against the dialogue's mean level
/// ([`CLARITY_V1_OFFSET_DB`] higher, at most the range's top). On real material the old target
/// was out of reach and every band sat at the Depth limit; the migrated values (25-30 dB for
/// anything from 0 dB up) do nearly the same.
pub fn clarity_from_v1(clarity_db: Option<f32>) -> f32 {
    (clarity_db.unwrap_or(CLARITY_V1_DEFAULT_DB) + CLARITY_V1_OFFSET_DB)
        .clamp(SPECS.clarity_db.min, SPECS.clarity_db.max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_defaults_round_trip() {
        for (i, a) in SETTINGS.iter().enumerate() {
            assert!(SETTINGS[i + 1..].iter().all(|b| b.id != a.id), "{}", a.id);
            let mut p = EngineParams::default();
            a.set(&mut p, a.default_value()).unwrap();
            assert_eq!(p, EngineParams::default(), "{}", a.id);
            let text = a.format(a.default_value());
            assert_eq!(a.parse(&text).unwrap(), a.default_value(), "{text}");
            assert!(!a.help.is_empty(), "{}: no help text", a.id);
        }
        assert_eq!(validate(&EngineParams::default()), Ok(()));
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
        assert_eq!(p.mix_pct, 40.0);
        find("stereo_mode").unwrap().set(&mut p, 1.0).unwrap();
        assert_eq!(p.stereo_mode, StereoMode::MidSide);
    }

    #[test]
    fn finds_ids_in_any_case_and_by_display_name() {
        for typed in [
            "stereo_mode",
            "Stereo_Mode",
            "STEREO-MODE",
            "Stereo Mode",
            "stereo mode",
        ] {
            assert_eq!(find(typed).map(|s| s.id), Some("stereo_mode"), "{typed}");
        }
        assert_eq!(find("DEPTH").map(|s| s.id), Some("depth"));
        assert_eq!(find("Focus High").map(|s| s.id), Some("focus_high"));
        assert_eq!(find("focus-low").map(|s| s.id), Some("focus_low"));
        assert_eq!(find("Link").map(|s| s.id), Some("link_group"));
        assert!(find("loudness").is_none());
    }

    #[test]
    fn unknown_ids_suggest_the_closest() {
        let e = unknown("dept");
        assert!(
            e.starts_with("unknown parameter \"dept\"; did you mean \"depth\"?"),
            "{e}"
        );
        assert!(unknown("streo_mode").contains("did you mean \"stereo_mode\"?"));
        assert!(unknown("relase").contains("did you mean \"release\"?"));
        // Both Focus edges start alike: both are offered.
        let e = unknown("focus");
        assert!(e.contains("\"focus_low\" or \"focus_high\""), "{e}");
        let e = unknown("xyzzy");
        assert!(
            !e.contains("did you mean") && e.contains("known: depth,"),
            "{e}"
        );
        assert_eq!(edit_distance("hold", "hodl"), 1);
        assert_eq!(edit_distance("depth", "dpth"), 1);
        assert_eq!(edit_distance("", "mix"), 3);
        let presets = [
            "drama_under_score",
            "documentary_vo_over_music",
            "trailer_promo",
        ];
        assert_eq!(did_you_mean("dramaa", presets).collect::<Vec<_>>(), [0]);
        assert_eq!(
            did_you_mean("trailer promo", presets).collect::<Vec<_>>(),
            [2]
        );
        assert_eq!(did_you_mean("zzz", presets).count(), 0);
    }

    #[test]
    fn reads_units_as_users_write_them() {
        let parse = |id: &str, text: &str| find(id).unwrap().parse(text);
        assert_eq!(parse("threshold", "-40dBFS"), Ok(-40.0));
        assert_eq!(parse("threshold", "-40 dBFS"), Ok(-40.0));
        assert_eq!(parse("threshold", "-40 dB"), Ok(-40.0));
        assert_eq!(parse("depth", "-12"), Ok(-12.0));
        assert_eq!(parse("release", "0.3s"), Ok(300.0));
        assert_eq!(parse("release", "300 ms"), Ok(300.0));
        assert_eq!(parse("release", "1.5 sec"), Ok(1_500.0));
        assert_eq!(parse("mix", "50%"), Ok(50.0));
        assert_eq!(parse("mix", "50 %"), Ok(50.0));
        assert_eq!(parse("focus_high", "6.5kHz"), Ok(6_500.0));
        assert_eq!(parse("focus_high", "6.5 k"), Ok(6_500.0));
        assert_eq!(parse("focus_low", "150"), Ok(150.0));
        assert_eq!(parse("stereo_mode", "Mid/Side"), Ok(1.0));
        assert_eq!(parse("stereo_mode", "mid-side"), Ok(1.0));
        assert_eq!(parse("stereo_mode", "LINKED"), Ok(0.0));
        assert_eq!(parse("mode", "Spectral"), Ok(1.0));
        assert_eq!(parse("link_group", "3"), Ok(3.0));
        assert_eq!(parse("bypass", "On"), Ok(1.0));
        // 0 is 0 in every unit.
        assert_eq!(parse("attack", "0"), Ok(0.0));
        assert_eq!(parse("lfe", "0"), Ok(0.0));
        let e = parse("depth", "-12ms").unwrap_err();
        assert!(
            e.contains("Depth is in dB") && e.contains("\"-10dB\""),
            "{e}"
        );
        let e = parse("stereo_mode", "midsde").unwrap_err();
        assert!(
            e.contains("not one of linked, mid_side (Mid/Side); did you mean \"mid_side\"?"),
            "{e}"
        );
        let e = parse("bypass", "maybe").unwrap_err();
        assert!(e.contains("write on or off"), "{e}");
    }

    #[test]
    fn bare_times_and_shares_are_refused_with_what_to_write() {
        let parse = |id: &str, text: &str| find(id).unwrap().parse(text).unwrap_err();
        assert_eq!(
            parse("lookahead", "0.1"),
            "lookahead: \"0.1\" needs a unit (Lookahead is a time, in ms or s): write \"0.1ms\" \
             for 0.1 ms or \"0.1s\" for 100 ms"
        );
        // Only the readings inside the range are offered.
        assert_eq!(
            parse("release", "800"),
            "release: \"800\" needs a unit (Release is a time, in ms or s): write \"800ms\""
        );
        assert_eq!(
            parse("mix", "0.5"),
            "mix: \"0.5\" needs a unit (Mix is a share, in %): write \"50%\" if 0.5 is a \
             fraction or \"0.5%\" if 0.5 is a percentage"
        );
        assert_eq!(
            parse("mix", "50"),
            "mix: \"50\" needs a unit (Mix is a share, in %): write \"50%\""
        );
        assert!(parse("hold", "9000").contains("outside its range 0..2000 ms either way"));
        // A frequency typed in kHz without the unit: out of range, with the fix.
        let e = parse("focus_high", "8");
        assert!(
            e.contains("outside its range") && e.contains("write \"8kHz\""),
            "{e}"
        );
        // The plugin's host fields show the unit, so they keep reading bare numbers in it.
        assert_eq!(parse_number("0.1", " ms"), Some(0.1));
        assert_eq!(parse_number("50", " %"), Some(50.0));
        assert_eq!(parse_number("-40 dBFS", " dB"), Some(-40.0));
        assert_eq!(parse_number("-40 ms", " dB"), None);
    }

    #[test]
    fn parses_typed_numbers() {
        assert_eq!(parse_number("250", " ms"), Some(250.0));
        assert_eq!(parse_number("250 ms", " ms"), Some(250.0));
        assert_eq!(parse_number("0.25 s", " ms"), Some(250.0));
        assert_eq!(parse_number("-10dB", " dB"), Some(-10.0));
        assert_eq!(parse_number(" -10.5 dB ", " dB"), Some(-10.5));
        assert_eq!(parse_number("50%", " %"), Some(50.0));
        assert_eq!(parse_number("loud", " dB"), None);
        assert_eq!(parse_number("nan", " dB"), None);
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

    #[test]
    fn sanitize_clamps_replaces_nan_and_resolves_rules() {
        let p = EngineParams {
            depth_db: -100.0,
            attack_ms: f32::NAN,
            mix_pct: 200.0,
            ..Default::default()
        };
        let s = sanitize(&p);
        assert_eq!(s.depth_db, -40.0);
        assert_eq!(s.attack_ms, SPECS.attack_ms.default);
        assert_eq!(s.mix_pct, 100.0);
        assert_eq!(validate(&s), Ok(()));
        assert!(validate(&p).unwrap_err().contains("depth"));
        // Focus: the ranges meet at 1 kHz; an empty range is refused by validate and resolved
        // to an empty Focus (nothing ducked) by sanitize.
        let empty = EngineParams {
            focus_low_hz: 1_000.0,
            focus_high_hz: 1_000.0,
            ..Default::default()
        };
        assert_eq!(
            validate(&empty),
            Err("focus_low (1000 Hz) must be below focus_high (1000 Hz)".into())
        );
        let resolved = sanitize(&empty);
        assert_eq!(resolved.focus_high_hz, 1_000.0);
        assert_eq!(sanitize(&resolved), resolved);
    }

    #[test]
    fn specs_and_table_agree() {
        // The typed specs and the data table are generated from one entry each; spot-check
        // that the generator wires them to the right fields.
        let depth = find("depth").unwrap();
        assert_eq!(depth.field, "depth_db");
        assert!(
            matches!(depth.kind, Kind::Number { min, max, .. } if min == SPECS.depth_db.min && max == SPECS.depth_db.max)
        );
        let mode = find("mode").unwrap();
        assert!(!mode.automatable && mode.changes_latency);
        let latency: Vec<&str> = SETTINGS
            .iter()
            .filter(|s| s.changes_latency)
            .map(|s| s.id)
            .collect();
        assert_eq!(latency, ["lookahead", "mode"]);
        assert_eq!(mode.default_value(), 0.0);
        assert!(matches!(mode.kind, Kind::Choice { ids, .. } if ids == ["broadband", "spectral"]));
        assert!(matches!(
            find("bypass").unwrap().kind,
            Kind::Switch { host_bypass: true }
        ));
        assert_eq!(COUNT, 22);
        let link = find("link_group").unwrap();
        assert!(!link.automatable && !link.in_presets());
        assert!(matches!(link.kind, Kind::Choice { ids, .. } if ids.len() == 9 && ids[0] == "off"));
    }
}
