//! A one-line progress bar on stderr, drawn only when stderr is a terminal.

use std::io::Write;
use std::time::{Duration, Instant};

/// Redraw at most this often.
const REDRAW: Duration = Duration::from_millis(100);
/// Bar width, characters.
const BAR_CHARS: usize = 30;

/// Progress of a render.
pub struct Progress {
    enabled: bool,
    sample_rate_hz: u32,
    started: Instant,
    last: Option<Instant>,
    drawn: bool,
}

impl Progress {
    /// A bar for audio at `sample_rate_hz`; `enabled` false draws nothing.
    pub fn new(enabled: bool, sample_rate_hz: u32) -> Self {
        Self {
            enabled,
            sample_rate_hz,
            started: Instant::now(),
            last: None,
            drawn: false,
        }
    }

    /// Shows `done` of `total` frames (rate-limited).
    pub fn update(&mut self, done: u64, total: u64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self.last.is_some_and(|t| now - t < REDRAW) && done < total {
            return;
        }
        self.last = Some(now);
        let share = if total > 0 {
            done as f64 / total as f64
        } else {
            1.0
        };
        let filled = ((share * BAR_CHARS as f64) as usize).min(BAR_CHARS);
        let sr = self.sample_rate_hz.max(1) as f64;
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-9);
        let speed = done as f64 / sr / elapsed;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r[{}{}] {:5.1} %  {:.0} / {:.0} s  {:.0}x realtime ",
            "#".repeat(filled),
            ".".repeat(BAR_CHARS - filled),
            100.0 * share,
            done as f64 / sr,
            total as f64 / sr,
            speed
        );
        let _ = err.flush();
        self.drawn = true;
    }

    /// Ends the line, if one was drawn.
    pub fn finish(&mut self) {
        if self.drawn {
            eprintln!();
            self.drawn = false;
        }
    }
}
