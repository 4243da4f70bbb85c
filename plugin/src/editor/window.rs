//! The editor window's size and scale, persisted in the plugin state, and its frame clock.
//!
//! Sizes are egui points: the layout's own units, before the scale. The window itself is
//! `size x scale` logical pixels, so changing the scale grows or shrinks the window and keeps the
//! layout; dragging the resize corner changes the size in points. Both are saved with the session
//! (`#[persist = "editor"]` in [`crate::UnderscoreParams`]) so a project reopens the editor as it
//! was left.
//!
//! Everything here is atomics: the GUI thread writes, the host's state save reads, and the audio
//! thread only reads the open flag.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use nice_plug::params::persist::PersistentField;
use serde::{Deserialize, Serialize};

/// Size the editor opens at the first time, points.
pub const DEFAULT_WIDTH_PT: u32 = 900;
pub const DEFAULT_HEIGHT_PT: u32 = 560;
/// Smallest size, points: every parameter still fits without scrolling.
pub const MIN_WIDTH_PT: u32 = 720;
pub const MIN_HEIGHT_PT: u32 = 450;
/// Largest size, points (a 4K screen at 100 %).
pub const MAX_WIDTH_PT: u32 = 3840;
pub const MAX_HEIGHT_PT: u32 = 2160;
/// The scale choices, percent. Ctrl+plus / Ctrl+minus step through them, Ctrl+0 resets to 100.
pub const SCALES_PCT: [u32; 5] = [75, 100, 125, 150, 200];
pub const DEFAULT_SCALE_PCT: u32 = 100;

/// What is saved with the session: the size in points and the scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowLayout {
    pub width_pt: u32,
    pub height_pt: u32,
    pub scale_pct: u32,
}

impl Default for WindowLayout {
    fn default() -> Self {
        Self {
            width_pt: DEFAULT_WIDTH_PT,
            height_pt: DEFAULT_HEIGHT_PT,
            scale_pct: DEFAULT_SCALE_PCT,
        }
    }
}

impl WindowLayout {
    /// Within the size limits and on one of the scale choices (the nearest), whatever a session
    /// file says.
    pub fn sanitised(self) -> Self {
        let scale_pct = SCALES_PCT
            .iter()
            .copied()
            .min_by_key(|s| s.abs_diff(self.scale_pct))
            .unwrap_or(DEFAULT_SCALE_PCT);
        Self {
            width_pt: self.width_pt.clamp(MIN_WIDTH_PT, MAX_WIDTH_PT),
            height_pt: self.height_pt.clamp(MIN_HEIGHT_PT, MAX_HEIGHT_PT),
            scale_pct,
        }
    }

    /// The scale as a factor (1.0 = 100 %).
    pub fn scale(self) -> f32 {
        self.scale_pct as f32 / 100.0
    }
}

/// The scale choice next to `scale_pct`: `step` +1 for larger, -1 for smaller (stops at the
/// ends).
pub fn step_scale_pct(scale_pct: u32, step: i32) -> u32 {
    let i = SCALES_PCT
        .iter()
        .position(|&s| s >= scale_pct)
        .unwrap_or(SCALES_PCT.len() - 1) as i32;
    SCALES_PCT[(i + step).clamp(0, SCALES_PCT.len() as i32 - 1) as usize]
}

/// The editor window's shared state: persisted layout, open flag, host scale and frame clock.
pub struct WindowState {
    width_pt: AtomicU32,
    height_pt: AtomicU32,
    scale_pct: AtomicU32,
    /// The system (host or display) scale factor last seen, as `f32` bits; not persisted.
    system_scale: AtomicU32,
    /// True from the window's spawn until its handle is dropped.
    open: AtomicBool,
    /// Frame intervals and build times of the open window.
    pub frames: FrameClock,
}

impl Default for WindowState {
    fn default() -> Self {
        Self::new(WindowLayout::default())
    }
}

impl WindowState {
    pub fn new(layout: WindowLayout) -> Self {
        let layout = layout.sanitised();
        Self {
            width_pt: AtomicU32::new(layout.width_pt),
            height_pt: AtomicU32::new(layout.height_pt),
            scale_pct: AtomicU32::new(layout.scale_pct),
            system_scale: AtomicU32::new(1.0f32.to_bits()),
            open: AtomicBool::new(false),
            frames: FrameClock::default(),
        }
    }

    pub fn layout(&self) -> WindowLayout {
        WindowLayout {
            width_pt: self.width_pt.load(Ordering::Relaxed),
            height_pt: self.height_pt.load(Ordering::Relaxed),
            scale_pct: self.scale_pct.load(Ordering::Relaxed),
        }
    }

    pub fn set_layout(&self, layout: WindowLayout) {
        let layout = layout.sanitised();
        self.width_pt.store(layout.width_pt, Ordering::Relaxed);
        self.height_pt.store(layout.height_pt, Ordering::Relaxed);
        self.scale_pct.store(layout.scale_pct, Ordering::Relaxed);
    }

    /// Records the size in points (rounded, clamped to the limits) after a resize.
    pub fn set_size_pt(&self, width_pt: f32, height_pt: f32) {
        let layout = WindowLayout {
            width_pt: width_pt.round().max(0.0) as u32,
            height_pt: height_pt.round().max(0.0) as u32,
            ..self.layout()
        };
        self.set_layout(layout);
    }

    /// Records a new scale (snapped to the nearest choice).
    pub fn set_scale(&self, scale: f32) {
        let layout = WindowLayout {
            scale_pct: (scale * 100.0).round().max(0.0) as u32,
            ..self.layout()
        };
        self.set_layout(layout);
    }

    pub fn scale(&self) -> f32 {
        self.layout().scale()
    }

    pub fn system_scale(&self) -> f32 {
        f32::from_bits(self.system_scale.load(Ordering::Relaxed))
    }

    pub fn set_system_scale(&self, scale: f32) {
        if scale.is_finite() && scale > 0.0 {
            self.system_scale.store(scale.to_bits(), Ordering::Relaxed);
        }
    }

    /// Whether the editor window is open (read by the audio thread: an atomic load).
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    pub(crate) fn set_open(&self, open: bool) {
        self.open.store(open, Ordering::Release);
    }
}

impl<'a> PersistentField<'a, WindowLayout> for WindowState {
    fn set(&self, new_value: WindowLayout) {
        self.set_layout(new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&WindowLayout) -> R,
    {
        f(&self.layout())
    }
}

impl<'a> PersistentField<'a, WindowLayout> for Arc<WindowState> {
    fn set(&self, new_value: WindowLayout) {
        self.as_ref().set_layout(new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&WindowLayout) -> R,
    {
        f(&self.as_ref().layout())
    }
}

/// Frames kept by [`FrameClock`]: about 4 s at 60 frames per second.
const CLOCK_FRAMES: usize = 256;

/// The last [`CLOCK_FRAMES`] frames of the open editor: the interval since the previous frame
/// (the real redraw rate) and the time spent building the UI, in microseconds. Written by the GUI
/// thread, read by whoever reports them (`editor_shot`).
pub struct FrameClock {
    count: AtomicU64,
    interval_us: [AtomicU32; CLOCK_FRAMES],
    build_us: [AtomicU32; CLOCK_FRAMES],
}

impl Default for FrameClock {
    fn default() -> Self {
        Self {
            count: AtomicU64::new(0),
            interval_us: std::array::from_fn(|_| AtomicU32::new(0)),
            build_us: std::array::from_fn(|_| AtomicU32::new(0)),
        }
    }
}

impl FrameClock {
    /// Records one frame: `interval` since the previous frame (`None` for the first frame after
    /// opening) and the `build` time of the UI.
    pub fn record(&self, interval: Option<Duration>, build: Duration) {
        let Some(interval) = interval else {
            return;
        };
        let n = self.count.load(Ordering::Relaxed);
        let i = (n % CLOCK_FRAMES as u64) as usize;
        let us = |d: Duration| d.as_micros().min(u32::MAX as u128) as u32;
        self.interval_us[i].store(us(interval), Ordering::Relaxed);
        self.build_us[i].store(us(build), Ordering::Relaxed);
        self.count.store(n + 1, Ordering::Release);
    }

    /// Frames recorded since the window opened.
    pub fn frames(&self) -> u64 {
        self.count.load(Ordering::Acquire)
    }

    /// Statistics of the kept frames: (intervals, build times), or `None` before two frames.
    pub fn stats(&self) -> Option<(FrameStats, FrameStats)> {
        let n = (self.frames() as usize).min(CLOCK_FRAMES);
        let read = |a: &[AtomicU32; CLOCK_FRAMES]| -> Vec<f64> {
            a[..n]
                .iter()
                .map(|v| v.load(Ordering::Relaxed) as f64 / 1000.0)
                .collect()
        };
        Some((
            FrameStats::of_ms(&read(&self.interval_us))?,
            FrameStats::of_ms(&read(&self.build_us))?,
        ))
    }
}

/// Mean, 95th percentile and maximum of a set of frame times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameStats {
    pub frames: usize,
    pub mean_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

impl FrameStats {
    /// Statistics of `times_ms` (`None` if empty). The 95th percentile is the nearest rank.
    pub fn of_ms(times_ms: &[f64]) -> Option<Self> {
        if times_ms.is_empty() {
            return None;
        }
        let mut sorted = times_ms.to_vec();
        sorted.sort_by(f64::total_cmp);
        let rank = ((0.95 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        Some(Self {
            frames: sorted.len(),
            mean_ms: sorted.iter().sum::<f64>() / sorted.len() as f64,
            p95_ms: sorted[rank - 1],
            max_ms: sorted[sorted.len() - 1],
        })
    }

    /// Frames per second at the mean frame time.
    pub fn mean_fps(&self) -> f64 {
        1000.0 / self.mean_ms.max(1e-6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The persisted fields round-trip through the JSON nice-plug writes into the state.
    #[test]
    fn layout_round_trips_through_json() {
        let layout = WindowLayout {
            width_pt: 1280,
            height_pt: 777,
            scale_pct: 150,
        };
        let json = serde_json::to_string(&layout).unwrap();
        let back: WindowLayout = serde_json::from_str(&json).unwrap();
        assert_eq!(back, layout);

        let state = WindowState::default();
        PersistentField::set(&state, back);
        assert_eq!(PersistentField::map(&state, |l| *l), layout);
        assert_eq!(state.scale(), 1.5);
    }

    /// Whatever a session file holds, the editor opens within its limits at a listed scale.
    #[test]
    fn odd_saved_layouts_are_sanitised() {
        let l = WindowLayout {
            width_pt: 10,
            height_pt: 100_000,
            scale_pct: 140,
        }
        .sanitised();
        assert_eq!((l.width_pt, l.height_pt), (MIN_WIDTH_PT, MAX_HEIGHT_PT));
        assert_eq!(l.scale_pct, 150);
        let state = WindowState::default();
        state.set_scale(0.7);
        assert_eq!(state.layout().scale_pct, 75);
        state.set_size_pt(1000.4, 600.6);
        assert_eq!(
            (state.layout().width_pt, state.layout().height_pt),
            (1000, 601)
        );
    }

    #[test]
    fn scale_steps_stop_at_the_ends() {
        assert_eq!(step_scale_pct(100, 1), 125);
        assert_eq!(step_scale_pct(100, -1), 75);
        assert_eq!(step_scale_pct(75, -1), 75);
        assert_eq!(step_scale_pct(200, 1), 200);
    }

    #[test]
    fn frame_stats_mean_and_p95() {
        let times: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = FrameStats::of_ms(&times).unwrap();
        assert_eq!(s.frames, 100);
        assert!((s.mean_ms - 50.5).abs() < 1e-9);
        assert_eq!(s.p95_ms, 95.0);
        assert_eq!(s.max_ms, 100.0);
        assert!(FrameStats::of_ms(&[]).is_none());

        let clock = FrameClock::default();
        clock.record(None, Duration::from_millis(1));
        assert!(clock.stats().is_none());
        for _ in 0..300 {
            clock.record(Some(Duration::from_millis(16)), Duration::from_millis(2));
        }
        let (interval, build) = clock.stats().unwrap();
        assert_eq!(interval.frames, CLOCK_FRAMES);
        assert!((interval.mean_ms - 16.0).abs() < 1e-9);
        assert!((build.p95_ms - 2.0).abs() < 1e-9);
    }
}
