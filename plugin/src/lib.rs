//! Underscore as a CLAP and VST3 plugin: parameter glue around [`underscore_dsp::Engine`].
//!
//! Main input/output is the bed (music or ambience) being ducked; the auxiliary input "Dialogue"
//! is the key. This crate holds no DSP: it maps host parameters onto [`EngineParams`], reports
//! the lookahead as latency and hands audio to the engine.

use std::num::NonZeroU32;
use std::sync::Arc;

use nice_plug::prelude::*;
use underscore_dsp::{Engine, EngineParams};

pub mod analysis;
pub mod editor;
pub mod feed;
pub mod meters;
pub mod params;
pub mod presets;
#[cfg(test)]
mod test_host;
pub use analysis::SharedAnalysis;
pub use editor::UnderscoreEditor;
pub use feed::EditorFeed;
pub use meters::SharedMeters;
pub use params::UnderscoreParams;

/// Name of the sidechain port, shown by hosts when routing.
pub const KEY_PORT_NAME: &str = "Dialogue";

/// The plugin instance.
pub struct Underscore {
    params: Arc<UnderscoreParams>,
    /// Built in `activate()` for the negotiated sample rate and channel count.
    engine: Option<Engine>,
    /// The latency changed while processing (Mode switched): the host restarts the plugin,
    /// and the engine, with the bed already heard, is kept across that restart.
    restart_keeps_engine: bool,
    /// The next `reset()` is the restart's: it must not silence the engine.
    skip_next_reset: bool,
    /// Band analysis and meters for the editor (computed only while it is open).
    feed: EditorFeed,
}

impl Default for Underscore {
    fn default() -> Self {
        Self {
            params: Arc::new(UnderscoreParams::default()),
            restart_keeps_engine: false,
            skip_next_reset: false,
            engine: None,
            feed: EditorFeed::new(
                Arc::new(SharedAnalysis::default()),
                Arc::new(SharedMeters::default()),
            ),
        }
    }
}

const MONO_KEY: &[NonZeroU32] = &[new_nonzero_u32(1)];
const STEREO_KEY: &[NonZeroU32] = &[new_nonzero_u32(2)];
const SURROUND_KEY: &[NonZeroU32] = &[new_nonzero_u32(6)];

/// A layout with a `bed`-channel main bus and one "Dialogue" aux input of `key` channels, named
/// so hosts' layout menus can tell them apart.
const fn ports(name: &'static str, bed: u32, key: &'static [NonZeroU32]) -> AudioIOLayout {
    AudioIOLayout {
        main_input_channels: NonZeroU32::new(bed),
        main_output_channels: NonZeroU32::new(bed),
        aux_input_ports: key,
        aux_output_ports: &[],
        names: PortNames {
            layout: Some(name),
            main_input: Some("Bed"),
            main_output: Some("Bed"),
            aux_inputs: &[KEY_PORT_NAME],
            aux_outputs: &[],
        },
    }
}

/// Whether a state's plugin version (`"0.1.0"`; empty in very old states) is older than 0.2.0.
fn saved_before_0_2(version: &str) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) < (0, 2)
}

impl Plugin for Underscore {
    const NAME: &'static str = "Underscore";
    const VENDOR: &'static str = "Underscore developers";
    const URL: &'static str = "https://example.invalid/underscore";
    const EMAIL: &'static str = "underscore@example.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    /// Stereo bed with stereo dialogue is the first (default) layout. 5.1 beds are L R C LFE
    /// Ls Rs; a 5.1 key is read from its centre channel.
    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        ports("Stereo bed, stereo dialogue", 2, STEREO_KEY),
        ports("Stereo bed, mono dialogue", 2, MONO_KEY),
        ports("Mono bed, mono dialogue", 1, MONO_KEY),
        ports("Mono bed, stereo dialogue", 1, STEREO_KEY),
        ports("5.1 bed, mono dialogue", 6, MONO_KEY),
        ports("5.1 bed, stereo dialogue", 6, STEREO_KEY),
        ports("5.1 bed, 5.1 dialogue", 6, SURROUND_KEY),
    ];

    const SAMPLE_ACCURATE_AUTOMATION: bool = true;

    type Editor = editor::PluginEditor;
    type SysExMessage = ();
    type BackgroundTask = ();

    /// Sessions saved before 0.2.0 measured Clarity against the dialogue's soft level: their
    /// value is migrated to today's meaning (see `settings::clarity_from_v1`). Nothing else
    /// changed meaning in a way a saved value must follow.
    fn filter_state(state: &mut PluginState) {
        if saved_before_0_2(&state.version)
            && let Some(nice_plug::plugin::ParamValue::F32(clarity)) =
                state.params.get_mut("clarity")
        {
            *clarity = underscore_dsp::settings::clarity_from_v1(Some(*clarity));
        }
    }

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        editor::create(
            self.params.clone(),
            self.feed.analysis.clone(),
            self.feed.meters.clone(),
        )
    }

    fn activate(
        &mut self,
        layout: &AudioIOLayout,
        config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let channels = layout.main_output_channels.map_or(0, NonZeroU32::get) as usize;
        // A restart the plugin asked for (its latency changed) at the same rate and layout
        // keeps the engine: the audio goes on without a gap. Anything else starts afresh.
        let keep = std::mem::take(&mut self.restart_keeps_engine)
            && self.engine.as_ref().is_some_and(|e| {
                e.sample_rate_hz() == config.sample_rate && e.bed_channels() == channels
            });
        let mut engine = match self.engine.take() {
            Some(engine) if keep => engine,
            _ => Engine::new(config.sample_rate, channels),
        };
        self.skip_next_reset = keep;
        let params = self.params.engine_params();
        engine.set_params(&params);
        // The process-wide link groups are created here, on the main thread, the first time
        // any instance activates; joining (here, or on a Link change while processing) is then
        // a compare-and-swap on a preallocated slot.
        underscore_dsp::link::registry();
        self.feed
            .follow_link(&mut engine, params.link_group.group());
        context.set_latency_samples(engine.latency_samples() as u32);
        self.engine = Some(engine);
        true
    }

    /// A deactivated instance processes nothing: it leaves its link group at once (the
    /// others would drop it after `link::DROPOUT_MS` anyway), and joins again on activation.
    fn deactivate(&mut self) {
        if let Some(engine) = &mut self.engine {
            self.feed.leave_link(engine);
        }
    }

    fn reset(&mut self) {
        if std::mem::take(&mut self.skip_next_reset) {
            return;
        }
        if let Some(engine) = &mut self.engine {
            engine.reset();
        }
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let Some(engine) = &mut self.engine else {
            return ProcessStatus::Error("process() called before activate()");
        };
        let params: EngineParams = self.params.engine_params();
        let latency_before = engine.latency_samples();
        engine.set_params(&params);
        if engine.latency_samples() != latency_before {
            context.set_latency_samples(engine.latency_samples() as u32);
            self.restart_keeps_engine = true;
        }
        self.feed.follow_link(engine, params.link_group.group());
        let show = self.feed.showing(&self.params.editor_window);
        match aux.inputs.first() {
            Some(key) => {
                self.feed
                    .process(engine, buffer.as_slice(), key.as_slice_immutable(), show)
            }
            None => self
                .feed
                .process::<&[f32]>(engine, buffer.as_slice(), &[], show),
        }
        ProcessStatus::Normal
    }
}

impl ClapPlugin for Underscore {
    const CLAP_ID: &'static str = "audio.underscore.ducker";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Dialogue-aware ducking for music and ambience beds");
    const CLAP_MANUAL_URL: Option<&'static str> = Some(Self::URL);
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Stereo,
        ClapFeature::Mono,
        ClapFeature::Compressor,
        ClapFeature::Utility,
    ];
}

impl Vst3Plugin for Underscore {
    /// Fixed forever: hosts identify saved instances by it.
    const VST3_CLASS_ID: [u8; 16] = *b"UnderscoreDuck01";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Dynamics];
}

nice_export_clap!(Underscore);
nice_export_vst3!(Underscore);
