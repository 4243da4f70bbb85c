//! One engine block and what the editor sees of it: the step the plugin's `process()` takes
//! and the development binary `editor_shot` repeats, so the picture and the frame-time
//! benchmark show exactly what a host would.
//!
//! While the editor shows, the engine runs its band analysis and the block's meters (input and
//! output peaks, duck, key level, speech decision and probability, the key's raw peak and how
//! long the bed has played over a silent key) are published through [`SharedMeters`], the band
//! analysis through [`SharedAnalysis`] whenever a new frame completed. With the editor closed
//! the block costs nothing extra beyond a few atomic stores (the engine's set-up and link
//! state). No allocation, no locks.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use underscore_dsp::Engine;
use underscore_dsp::link;

use crate::analysis::NO_SLOT;

use crate::SharedAnalysis;
use crate::editor::window::WindowState;
use crate::meters::{self, BED_PLAYING_DB, BlockMeter, KEY_SIGNAL_DB, Setup, SharedMeters};

/// The audio side of the editor's data.
pub struct EditorFeed {
    pub analysis: Arc<SharedAnalysis>,
    pub meters: Arc<SharedMeters>,
    /// Analysis frames already published.
    published_frames: u32,
    /// The link group the engine is a member of (`None`: Link Off, or not joined).
    link_group: Option<usize>,
    /// The track-name version last handed to the link group (`u32::MAX`: none yet).
    link_name_version: u32,
    /// Samples the bed played over a silent key since the key last carried signal (counted
    /// while the editor shows; restarted when it opens).
    key_silent_samples: u64,
    /// Whether the previous block was published (the editor showing).
    was_showing: bool,
}

impl EditorFeed {
    pub fn new(analysis: Arc<SharedAnalysis>, meters: Arc<SharedMeters>) -> Self {
        Self {
            analysis,
            meters,
            published_frames: 0,
            link_group: None,
            link_name_version: u32::MAX,
            key_silent_samples: 0,
            was_showing: false,
        }
    }

    /// Keeps `engine` in the link group the Link parameter names (`group`; `None`: Off):
    /// leaves and joins when it changes, and retries a full group. Joining is a compare-and-
    /// swap on a slot of the process-wide registry, which must exist already
    /// (`link::registry()`, created on the main thread when the plugin activates): no
    /// allocation, no lock, so it runs on the audio thread. Then hands the track name to the
    /// group when it changed and tells the editor the instance's slot and link state, whom it
    /// follows (no key of its own), and the engine's set-up (bed channels, sample rate, the
    /// latency reported to the host). Called on activation and every block.
    pub fn follow_link(&mut self, engine: &mut Engine, group: Option<usize>) {
        self.meters.publish_setup(&Setup {
            bed_channels: engine.bed_channels() as u32,
            sample_rate_hz: engine.sample_rate_hz(),
            latency_samples: engine.latency_samples() as u32,
        });
        if group != self.link_group || (group.is_some() && engine.link().is_none()) {
            engine.set_link(None);
            let sample_rate_hz = engine.sample_rate_hz();
            engine.set_link(group.and_then(|g| link::registry()[g].join(sample_rate_hz)));
            self.link_group = group;
            self.link_name_version = u32::MAX;
        }
        let a = &self.analysis;
        match engine.link() {
            Some(member) => {
                let version = a.track_name_version.load(Ordering::Acquire);
                if version != self.link_name_version {
                    let (len, words) = a.track_name();
                    member.set_name(len, &words);
                    self.link_name_version = version;
                }
                let (linked, peers) = engine.link_status();
                a.link_slot.store(member.slot(), Ordering::Relaxed);
                a.link_linked.store(linked, Ordering::Relaxed);
                a.link_other_rate.store(peers.other_rate, Ordering::Relaxed);
                a.link_followed.store(
                    engine.followed_member().unwrap_or(NO_SLOT),
                    Ordering::Relaxed,
                );
            }
            None => {
                a.link_slot.store(NO_SLOT, Ordering::Relaxed);
                a.link_linked.store(false, Ordering::Relaxed);
                a.link_other_rate.store(0, Ordering::Relaxed);
                a.link_followed.store(NO_SLOT, Ordering::Relaxed);
            }
        }
    }

    /// Leaves the link group (the instance stops processing: deactivated).
    pub fn leave_link(&mut self, engine: &mut Engine) {
        engine.set_link(None);
        self.link_group = None;
        self.analysis.link_slot.store(NO_SLOT, Ordering::Relaxed);
        self.analysis
            .link_followed
            .store(NO_SLOT, Ordering::Relaxed);
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
        let opened = show && !self.was_showing;
        self.was_showing = show;
        if !show {
            return;
        }
        // The sidechain check: how long the bed has played over a silent key. A silent bed
        // neither proves nor clears anything: the count holds.
        let key_peak_db = meters::peak_db(key);
        if opened || key_peak_db > KEY_SIGNAL_DB {
            self.key_silent_samples = 0;
        }
        if key_peak_db <= KEY_SIGNAL_DB && input_peak_db >= BED_PLAYING_DB {
            let frames = bed.first().map_or(0, |c| c.len());
            self.key_silent_samples += frames as u64;
        }
        let key_silent_s = self.key_silent_samples as f32 / engine.sample_rate_hz().max(1.0);
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
            key_peak_db,
            key_silent_s,
            key_channels: key.len() as u32,
        });
    }
}
