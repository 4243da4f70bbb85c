//! Lines the gain stage's control values up with the delayed audio they act on.
//!
//! The bed reaches the gain stage Lookahead (plus one FFT window in Spectral mode) after the
//! key. Two things must therefore be read from the past, per control tick:
//! * **Parameters** (Depth, Mix, Output, Bypass): an automation point at host time T must act on
//!   the bed sample of time T, which leaves the plugin one latency later. So they are delayed by
//!   the whole latency.
//! * **The duck envelope** is computed from the key ahead of the bed on purpose (that is the
//!   lookahead), for the bed as it leaves the lookahead delay. In Spectral mode the bed is one
//!   window later still, so the envelope is delayed by that window.
//!
//! A ring of per-tick values sized for the longest latency at the engine's rate; delays are
//! whole ticks (within half a tick, 0.5 ms, of the sample latency).

/// The values the gain stage needs for one tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ControlValues {
    /// Duck envelope, 0..=1.
    pub amount: f32,
    /// Depth, dB (<= 0).
    pub depth_db: f32,
    /// Mix, 0..=1.
    pub mix: f32,
    /// Output gain, dB.
    pub output_gain_db: f32,
    /// Bypass crossfade, 0..=1.
    pub bypass: f32,
}

/// A fixed-capacity history of [`ControlValues`], one per tick.
#[derive(Debug, Clone)]
pub struct ControlDelay {
    ring: Vec<ControlValues>,
    /// Index of the newest entry.
    newest: usize,
}

impl ControlDelay {
    /// A history able to look `max_delay_ticks` back, filled with `initial`.
    pub fn new(max_delay_ticks: usize, initial: ControlValues) -> Self {
        Self {
            ring: vec![initial; max_delay_ticks + 1],
            newest: 0,
        }
    }

    /// Longest delay available, ticks.
    pub fn max_delay_ticks(&self) -> usize {
        self.ring.len() - 1
    }

    /// Appends this tick's values.
    pub fn push(&mut self, values: ControlValues) {
        self.newest = (self.newest + 1) % self.ring.len();
        self.ring[self.newest] = values;
    }

    /// The values of `delay_ticks` ticks ago (0 = the newest), clamped to the capacity.
    pub fn get(&self, delay_ticks: usize) -> ControlValues {
        let n = self.ring.len();
        let d = delay_ticks.min(n - 1);
        self.ring[(self.newest + n - d) % n]
    }

    /// Forgets the history: every entry becomes `values` (before the first sample, or after a
    /// reset, there is no past to delay).
    pub fn fill(&mut self, values: ControlValues) {
        self.ring.fill(values);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: f32) -> ControlValues {
        ControlValues {
            amount: x,
            depth_db: -x,
            mix: 1.0,
            output_gain_db: 0.0,
            bypass: 0.0,
        }
    }

    #[test]
    fn returns_the_value_of_n_ticks_ago() {
        let mut d = ControlDelay::new(5, v(0.0));
        for i in 1..=12 {
            d.push(v(i as f32));
        }
        assert_eq!(d.get(0), v(12.0));
        assert_eq!(d.get(3), v(9.0));
        assert_eq!(d.get(5), v(7.0));
        // Beyond the capacity: the oldest kept.
        assert_eq!(d.get(50), v(7.0));
        d.fill(v(1.0));
        assert_eq!(d.get(4), v(1.0));
    }
}
