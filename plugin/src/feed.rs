//! One engine block and what the editor sees of it: the step the plugin's `process()` takes
//! and the development binary `editor_shot` repeats, so the picture and the frame-time
//! benchmark show exactly what a host would.
//!
//! While the editor shows, the engine runs its band analysis and the block's meters (input and
//! output peaks, duck, key level, speech decision and probability) are published through [`SharedMeters`], the band
//! analysis through [`SharedAnalysis`] whenever a new frame completed. With the editor closed
//! the block costs nothing extra. No allocation, no locks.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use underscore_dsp::Engine;

use crate::SharedAnalysis;
use crate::editor::window::WindowState;
use crate::meters::{self, BlockMeter, SharedMeters};

/// The audio side of the editor's data.
pub struct EditorFeed {
    pub analysis: Arc<SharedAnalysis>,
    pub meters: Arc<SharedMeters>,
    /// Analysis frames already published.
    published_frames: u32,
}

impl EditorFeed {
    pub fn new(analysis: Arc<SharedAnalysis>, meters: Arc<SharedMeters>) -> Self {
        Self {
            analysis,
            meters,
            published_frames: 0,
        }
    }

    /// Whether an editor is showing the data now. The editor raises `editor_open` while it
    /// draws; no close callback reaches it, so the window's own open state gates the flag (a
    /// closed editor costs nothing). The allocation-checking test build always runs the
    /// editor's analysis and metering path, so `tests/tests/no_alloc.rs` proves it
    /// allocation-free without a window.
    pub fn showing(&self, window: &WindowState) -> bool {
        let open = self.analysis.editor_open.load(Ordering::Relaxed) && window.is_open();
        open || cfg!(feature = "assert_process_allocs")
    }

    /// Ducks `bed` keyed by `key` (empty: no sidechain) through `engine` and, if `show`,
    /// publishes the block's meters and any new band analysis.
    pub fn process<K: AsRef<[f32]>>(
        &mut self,
        engine: &mut Engine,
        bed: &mut [&mut [f32]],
        key: &[K],
        show: bool,
    ) {
        engine.set_analysis_enabled(show);
        let input_peak_db = if show { meters::peak_db(bed) } else { 0.0 };
        engine.process_block(bed, key);
        if !show {
            return;
        }
        if engine.band_analysis_frames() != self.published_frames {
            self.published_frames = engine.band_analysis_frames();
            self.analysis.publish(engine.band_analysis());
        }
        let meter = engine.meter();
        self.meters.publish(&BlockMeter {
            duck_db: meter.duck_gain_db(),
            key_db: meter.key_level_db(),
            speech: meter.speech_active,
            speech_probability: meter.speech_probability,
            input_peak_db,
            output_peak_db: meters::peak_db(bed),
        });
    }
}
