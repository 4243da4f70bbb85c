//! Editor-side meter state: the scrolling gain-reduction history and meter ballistics. Lives
//! on the GUI thread only; the audio thread never sees it.

use std::collections::VecDeque;

use crate::meters::MeterReading;

/// Seconds of history shown.
pub const HISTORY_SECONDS: f64 = 10.0;
/// Upper bound on stored points (10 s at up to ~200 frames per second); allocated once.
const HISTORY_CAPACITY: usize = 2048;
/// Lowest level any meter shows, dB.
pub const METER_FLOOR_DB: f32 = -90.0;

/// One GUI frame's worth of history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistoryPoint {
    /// Seconds since the editor opened.
    pub t: f64,
    /// Deepest duck during the frame, dB (<= 0).
    pub duck_db: f32,
    /// Loudest speech-band key level during the frame, dBFS.
    pub key_db: f32,
    /// Speech detected at any time during the frame.
    pub speech: bool,
    /// Highest speech probability of the voice detector during the frame, 0..=1.
    pub speech_probability: f32,
}

/// The last [`HISTORY_SECONDS`] of readings.
pub struct History {
    points: VecDeque<HistoryPoint>,
}

impl Default for History {
    fn default() -> Self {
        Self {
            points: VecDeque::with_capacity(HISTORY_CAPACITY),
        }
    }
}

impl History {
    /// Adds a reading taken at `t` and forgets what scrolled out of view.
    pub fn push(&mut self, t: f64, r: &MeterReading) {
        let point = if r.blocks == 0 {
            // No audio since the last frame (transport stopped): the duck stays where it was.
            HistoryPoint {
                t,
                duck_db: r.duck_db,
                key_db: METER_FLOOR_DB,
                speech: false,
                speech_probability: 0.0,
            }
        } else {
            HistoryPoint {
                t,
                duck_db: r.duck_min_db,
                key_db: r.key_max_db.max(METER_FLOOR_DB),
                speech: r.speech,
                speech_probability: r.speech_probability,
            }
        };
        if self.points.len() == HISTORY_CAPACITY {
            self.points.pop_front();
        }
        self.points.push_back(point);
        while self
            .points
            .front()
            .is_some_and(|p| p.t < t - HISTORY_SECONDS - 0.5)
        {
            self.points.pop_front();
        }
    }

    pub fn points(&self) -> &VecDeque<HistoryPoint> {
        &self.points
    }

    pub fn clear(&mut self) {
        self.points.clear();
    }
}

/// A bar meter with a falling bar and a held peak marker, in dB where larger is "more".
#[derive(Debug, Clone, Copy)]
pub struct Ballistics {
    /// What the bar shows now.
    pub value: f32,
    /// The held peak.
    pub peak: f32,
    peak_age: f32,
    /// How fast the bar falls, dB per second.
    fall_db_per_s: f32,
}

/// How long a peak marker stays before it falls, seconds.
const PEAK_HOLD_S: f32 = 1.5;

impl Ballistics {
    pub fn new(rest: f32, fall_db_per_s: f32) -> Self {
        Self {
            value: rest,
            peak: rest,
            peak_age: 0.0,
            fall_db_per_s,
        }
    }

    /// Feeds the highest value since the last frame, `dt` seconds later.
    pub fn update(&mut self, input: f32, dt: f32) {
        self.value = input.max(self.value - self.fall_db_per_s * dt);
        if input >= self.peak {
            self.peak = input;
            self.peak_age = 0.0;
        } else {
            self.peak_age += dt;
            if self.peak_age > PEAK_HOLD_S {
                self.peak = (self.peak - self.fall_db_per_s * dt).max(self.value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(duck: f32, speech: bool, blocks: u32) -> MeterReading {
        MeterReading {
            duck_db: 0.0,
            duck_min_db: duck,
            key_max_db: -20.0,
            speech,
            speech_probability: if speech { 0.9 } else { 0.1 },
            input_peak_db: -6.0,
            output_peak_db: -6.0,
            key_peak_db: -20.0,
            key_silent_s: 0.0,
            key_channels: 1,
            blocks,
        }
    }

    #[test]
    fn history_keeps_ten_seconds() {
        let mut h = History::default();
        for i in 0..1200 {
            h.push(i as f64 / 60.0, &reading(-6.0, i % 2 == 0, 1));
        }
        let pts = h.points();
        let span = pts.back().unwrap().t - pts.front().unwrap().t;
        assert!(
            span <= HISTORY_SECONDS + 0.5 && span > HISTORY_SECONDS,
            "{span}"
        );
        assert_eq!(pts.back().unwrap().duck_db, -6.0);
    }

    #[test]
    fn stopped_transport_shows_the_resting_duck() {
        let mut h = History::default();
        h.push(0.0, &reading(-12.0, true, 0));
        let p = h.points()[0];
        assert_eq!(p.duck_db, 0.0);
        assert!(!p.speech);
    }

    #[test]
    fn peak_holds_then_falls() {
        let mut b = Ballistics::new(-90.0, 20.0);
        b.update(-6.0, 0.02);
        assert_eq!(b.value, -6.0);
        assert_eq!(b.peak, -6.0);
        for _ in 0..50 {
            b.update(-90.0, 0.02); // 1 s
        }
        assert!((b.value - (-26.0)).abs() < 0.01, "{}", b.value);
        assert_eq!(b.peak, -6.0);
        for _ in 0..100 {
            b.update(-90.0, 0.02);
        }
        assert!(b.peak < -6.0);
        assert!(b.peak >= b.value);
    }
}
