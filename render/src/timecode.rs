//! SMPTE timecode: `HH:MM:SS:FF` labels at a frame rate, to and from sample positions of a
//! bed, relative to the bed's time reference (the BWF `bext` TimeReference: the file's first
//! sample as a count of samples since midnight).
//!
//! **Frame rates** ([`FrameRate`]): 23.976, 24, 25, 29.97 (non-drop), 29.97 drop-frame, 30,
//! 48, 50, 59.94 (non-drop), 59.94 drop-frame and 60. The NTSC rates (23.976, 29.97, 59.94) run
//! at 1000/1001 of their nominal rate: a frame at 29.97 lasts 1001/30000 s. A label is a frame
//! count; the sample of frame `n` is `round(n x sample rate / fps)`, the same conversion a DAW
//! uses to write the time reference of a session that starts at that label (01:00:00:00 at 25
//! fps and 48 kHz = 172 800 000 samples). Drop-frame labels skip frame numbers 00 and 01 (00 to
//! 03 at 59.94) at the start of every minute except every tenth, so that the label keeps up
//! with the clock; they are written with `;` before the frames (`00:01:00;02`), and read with
//! `;` or `:`. Labels run from 00:00:00:00 to 23:59:59:FF and wrap at midnight.
//!
//! **Which rate**: `--fps` when given; otherwise the rate in the bed's iXML (`<SPEED>`
//! `<TIMECODE_RATE>` and `<TIMECODE_FLAG>`, as field recorders and DAWs write it), if any;
//! otherwise [`DEFAULT_FPS`] (25, the EBU rate). Timecode is shown in the outputs when the bed
//! has a time reference or `--fps` is given; otherwise times stay in seconds.

use std::fmt;

/// The frame rate used without `--fps` and without a rate in the bed's iXML: 25 fps (EBU).
pub const DEFAULT_FPS: FrameRate = FrameRate {
    nominal: 25,
    ntsc: false,
    drop_frame: false,
};

/// The frame rates accepted by `--fps`, as typed.
pub const FPS_IDS: &[&str] = &[
    "23.976", "24", "25", "29.97", "29.97df", "30", "48", "50", "59.94", "59.94df", "60",
];

/// A timecode frame rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRate {
    /// Frames counted per labelled second: 24, 25, 30, 48, 50 or 60.
    pub nominal: u32,
    /// Runs at 1000/1001 of `nominal` (23.976, 29.97, 59.94).
    pub ntsc: bool,
    /// Drop-frame labels (29.97 and 59.94 only).
    pub drop_frame: bool,
}

impl FrameRate {
    /// Reads a `--fps` value: one of [`FPS_IDS`] (also `23.98`, `29.97ndf`, `29.97 DF`,
    /// `59.94ndf`, in any case).
    pub fn parse(text: &str) -> Result<Self, String> {
        let t: String = text
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '_'))
            .collect();
        let (number, drop_frame) = match t.strip_suffix("ndf") {
            Some(n) => (n, false),
            None => match t.strip_suffix("df") {
                Some(n) => (n, true),
                None => (t.as_str(), false),
            },
        };
        let (nominal, ntsc): (u32, bool) = match number.strip_suffix("fps").unwrap_or(number) {
            "23.976" | "23.98" => (24, true),
            "24" => (24, false),
            "25" => (25, false),
            "29.97" => (30, true),
            "30" => (30, false),
            "48" => (48, false),
            "50" => (50, false),
            "59.94" => (60, true),
            "60" => (60, false),
            _ => {
                return Err(format!(
                    "unknown frame rate '{text}' (accepted: {})",
                    FPS_IDS.join(", ")
                ));
            }
        };
        if drop_frame && !(ntsc && nominal.is_multiple_of(30)) {
            return Err(format!(
                "frame rate '{text}': drop-frame exists only at 29.97 and 59.94"
            ));
        }
        Ok(Self {
            nominal,
            ntsc,
            drop_frame,
        })
    }

    /// The rate in an iXML document (`<TIMECODE_RATE>25/1</TIMECODE_RATE>`, `30000/1001`, with
    /// `<TIMECODE_FLAG>DF</TIMECODE_FLAG>` for drop-frame), if it names one of the rates here.
    pub fn from_ixml(ixml: &[u8]) -> Option<Self> {
        let text = String::from_utf8_lossy(ixml);
        let tag = |name: &str| -> Option<String> {
            let open = format!("<{name}>");
            let start = text.find(&open)? + open.len();
            let end = text[start..].find('<')? + start;
            Some(text[start..end].trim().to_string())
        };
        let rate = tag("TIMECODE_RATE")?;
        let (num, den) = rate.split_once('/').unwrap_or((rate.as_str(), "1"));
        let (num, den): (u64, u64) = (num.trim().parse().ok()?, den.trim().parse().ok()?);
        let drop_frame = tag("TIMECODE_FLAG").is_some_and(|f| f.eq_ignore_ascii_case("DF"));
        [24u32, 25, 30, 48, 50, 60].into_iter().find_map(|nominal| {
            let n = nominal as u64;
            let (ntsc, matches) = if den > 0 && num == n * den {
                (false, true)
            } else {
                // 30000/1001, also written 2997/100 or 29970/1000.
                (
                    true,
                    den > 0 && (num * 1001).abs_diff(n * 1000 * den) * 1000 <= n * den * 1001,
                )
            };
            (matches && (!drop_frame || (ntsc && nominal.is_multiple_of(30)))).then_some(Self {
                nominal,
                ntsc,
                drop_frame,
            })
        })
    }

    /// Frames per second as a fraction (numerator, denominator): 25/1, 30000/1001.
    pub fn fraction(self) -> (u64, u64) {
        if self.ntsc {
            (self.nominal as u64 * 1000, 1001)
        } else {
            (self.nominal as u64, 1)
        }
    }

    /// Frames per second.
    pub fn fps(self) -> f64 {
        let (n, d) = self.fraction();
        n as f64 / d as f64
    }

    /// Frame numbers skipped at the start of a dropping minute (2 at 29.97, 4 at 59.94; 0
    /// non-drop).
    fn dropped_per_minute(self) -> u64 {
        if self.drop_frame {
            self.nominal as u64 / 15
        } else {
            0
        }
    }

    /// Frames from 00:00:00:00 to 24:00:00:00 (where labels wrap).
    pub fn frames_per_day(self) -> u64 {
        let ten_minutes = 600 * self.nominal as u64 - 9 * self.dropped_per_minute();
        144 * ten_minutes
    }

    /// The label of frame `frame` (counted from 00:00:00:00, wrapping at 24 hours).
    pub fn label(self, frame: u64) -> Timecode {
        let mut f = frame % self.frames_per_day();
        let drop = self.dropped_per_minute();
        let n = self.nominal as u64;
        if drop > 0 {
            // Add back the frame numbers skipped so far, then count as non-drop.
            let per_ten = 600 * n - 9 * drop;
            let per_minute = 60 * n - drop;
            let (tens, rest) = (f / per_ten, f % per_ten);
            f += 9 * drop * tens;
            if rest >= drop {
                f += drop * ((rest - drop) / per_minute);
            }
        }
        Timecode {
            hours: (f / (3600 * n)) as u8,
            minutes: (f / (60 * n) % 60) as u8,
            seconds: (f / n % 60) as u8,
            frames: (f % n) as u8,
            drop_frame: self.drop_frame,
        }
    }

    /// The frame count of `tc` (from 00:00:00:00); an error for a label that does not exist at
    /// this rate (frames >= the nominal rate, or a dropped number).
    pub fn frame_of(self, tc: &Timecode) -> Result<u64, String> {
        if tc.frames as u32 >= self.nominal {
            return Err(format!(
                "{tc}: frame {} does not exist at {self} (frames 0 to {})",
                tc.frames,
                self.nominal - 1
            ));
        }
        let drop = self.dropped_per_minute();
        if drop > 0
            && !tc.minutes.is_multiple_of(10)
            && tc.seconds == 0
            && (tc.frames as u64) < drop
        {
            return Err(format!(
                "{tc}: frame numbers 00 to {:02} are dropped at the start of minute {} at {self}",
                drop - 1,
                tc.minutes
            ));
        }
        let n = self.nominal as u64;
        let minutes = 60 * tc.hours as u64 + tc.minutes as u64;
        let counted = (60 * minutes + tc.seconds as u64) * n + tc.frames as u64;
        Ok(counted - drop * (minutes - minutes / 10))
    }

    /// The sample (at `sample_rate_hz`) where frame `frame` starts: `round(frame x rate /
    /// fps)`, exact in integers.
    pub fn frame_to_samples(self, frame: u64, sample_rate_hz: u32) -> u64 {
        let (num, den) = self.fraction();
        let x = frame as u128 * sample_rate_hz as u128 * den as u128;
        ((2 * x + num as u128) / (2 * num as u128)) as u64
    }

    /// The frame that contains sample `sample`: the last frame starting at or before it.
    pub fn samples_to_frame(self, sample: u64, sample_rate_hz: u32) -> u64 {
        let (num, den) = self.fraction();
        let mut f = (sample as u128 * num as u128 / (sample_rate_hz as u128 * den as u128)) as u64;
        // Frame starts are rounded to samples: step over a rounding at the edge.
        if self.frame_to_samples(f + 1, sample_rate_hz) <= sample {
            f += 1;
        } else if f > 0 && self.frame_to_samples(f, sample_rate_hz) > sample {
            f -= 1;
        }
        f
    }
}

impl fmt::Display for FrameRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let number = match (self.nominal, self.ntsc) {
            (24, true) => "23.976".to_string(),
            (30, true) => "29.97".to_string(),
            (60, true) => "59.94".to_string(),
            (n, _) => n.to_string(),
        };
        let flag = match (
            self.ntsc && self.nominal.is_multiple_of(30),
            self.drop_frame,
        ) {
            (true, true) => " DF",
            (true, false) => " NDF",
            _ => "",
        };
        write!(f, "{number}{flag} fps")
    }
}

/// A timecode label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timecode {
    pub hours: u8,
    pub minutes: u8,
    pub seconds: u8,
    pub frames: u8,
    /// Written with `;` before the frames.
    pub drop_frame: bool,
}

impl Timecode {
    /// Reads `HH:MM:SS:FF` (or `HH:MM:SS;FF`, `HH;MM;SS;FF` for drop-frame). Hours 0-23,
    /// minutes and seconds 0-59; frames are checked against a rate by [`FrameRate::frame_of`].
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let bad = || format!("timecode '{t}' is not HH:MM:SS:FF (or HH:MM:SS;FF for drop-frame)");
        let parts: Vec<&str> = t.split([':', ';', '.']).collect();
        if parts.len() != 4
            || parts
                .iter()
                .any(|p| p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(bad());
        }
        let n = |i: usize| parts[i].parse::<u8>().map_err(|_| bad());
        let tc = Self {
            hours: n(0)?,
            minutes: n(1)?,
            seconds: n(2)?,
            frames: n(3)?,
            drop_frame: t.contains(';'),
        };
        if tc.hours > 23 || tc.minutes > 59 || tc.seconds > 59 {
            return Err(format!(
                "timecode '{t}': hours 00-23, minutes and seconds 00-59"
            ));
        }
        Ok(tc)
    }

    /// Whether `text` looks like a timecode (four groups of digits) rather than seconds.
    pub fn looks_like(text: &str) -> bool {
        let t = text.trim();
        t.split([':', ';']).count() == 4
    }
}

impl fmt::Display for Timecode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = if self.drop_frame { ';' } else { ':' };
        write!(
            f,
            "{:02}:{:02}:{:02}{sep}{:02}",
            self.hours, self.minutes, self.seconds, self.frames
        )
    }
}

/// Where a bed sits in time: its sample rate, its start (time reference) and the frame rate
/// its timecode is counted in. Positions are samples from the bed's first sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub sample_rate_hz: u32,
    pub fps: FrameRate,
    /// The bed's first sample as samples since midnight (BWF time reference); 0 without one.
    pub start_samples: u64,
    /// Whether the outputs show timecode: the bed has a time reference or `--fps` was given.
    pub show_timecode: bool,
}

impl Timing {
    /// The timing of a bed at `sample_rate_hz` with an optional time reference (samples since
    /// midnight), counted at `fps` (`--fps`), else at the rate in the bed's `ixml`, else at
    /// [`DEFAULT_FPS`].
    pub fn new(
        sample_rate_hz: u32,
        fps: Option<FrameRate>,
        time_reference_samples: Option<u64>,
        ixml: Option<&[u8]>,
    ) -> Self {
        Self {
            sample_rate_hz,
            fps: fps
                .or_else(|| ixml.and_then(FrameRate::from_ixml))
                .unwrap_or(DEFAULT_FPS),
            start_samples: time_reference_samples.unwrap_or(0),
            show_timecode: fps.is_some() || time_reference_samples.is_some(),
        }
    }

    /// Seconds only: no time reference, no `--fps`.
    pub fn seconds(sample_rate_hz: u32) -> Self {
        Self::new(sample_rate_hz, None, None, None)
    }

    /// The timecode of bed sample `position` (the frame that contains it).
    pub fn timecode_at(&self, position: u64) -> Timecode {
        let absolute = self.start_samples + position;
        self.fps
            .label(self.fps.samples_to_frame(absolute, self.sample_rate_hz))
    }

    /// The bed's start timecode (of its first sample).
    pub fn start_timecode(&self) -> Timecode {
        self.timecode_at(0)
    }

    /// The bed sample position of timecode `tc`: where its frame starts, counted from the bed's
    /// first sample. An error if the label does not exist at the frame rate or lies before the
    /// bed's start.
    pub fn position_of(&self, tc: &Timecode) -> Result<u64, String> {
        if tc.drop_frame && !self.fps.drop_frame {
            return Err(format!(
                "{tc} is a drop-frame timecode (';') but the frame rate is {}: give --fps \
                 29.97df or 59.94df",
                self.fps
            ));
        }
        let frame = self.fps.frame_of(tc)?;
        let absolute = self.fps.frame_to_samples(frame, self.sample_rate_hz);
        absolute.checked_sub(self.start_samples).ok_or_else(|| {
            format!(
                "{tc} is before the bed's start ({} at {})",
                self.start_timecode(),
                self.fps
            )
        })
    }

    /// Seconds from the bed's start to sample `position`.
    pub fn seconds_at(&self, position: u64) -> f64 {
        position as f64 / self.sample_rate_hz as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fps(s: &str) -> FrameRate {
        FrameRate::parse(s).unwrap()
    }

    fn tc(s: &str) -> Timecode {
        Timecode::parse(s).unwrap()
    }

    #[test]
    fn one_hour_at_48k_is_172_800_000_samples_at_every_integer_rate() {
        for rate in ["24", "25", "30", "48", "50", "60"] {
            let r = fps(rate);
            let frame = r.frame_of(&tc("01:00:00:00")).unwrap();
            assert_eq!(frame, 3600 * r.nominal as u64, "{rate}");
            assert_eq!(r.frame_to_samples(frame, 48_000), 172_800_000, "{rate}");
            assert_eq!(r.label(frame).to_string(), "01:00:00:00");
        }
        // 25 fps at 48 kHz: 1920 samples a frame; 01:00:12:10 = 1 h 12.4 s.
        let r = fps("25");
        let f = r.frame_of(&tc("01:00:12:10")).unwrap();
        assert_eq!(
            r.frame_to_samples(f, 48_000),
            172_800_000 + 12 * 48_000 + 10 * 1_920
        );
    }

    #[test]
    fn ntsc_rates_run_1000_over_1001_slow() {
        // 23.976 at 48 kHz: exactly 2002 samples a frame; one labelled hour is 3603.6 s.
        let r = fps("23.976");
        assert_eq!(r.frame_to_samples(1, 48_000), 2_002);
        let hour = r.frame_of(&tc("01:00:00:00")).unwrap();
        assert_eq!(hour, 86_400);
        assert_eq!(r.frame_to_samples(hour, 48_000), 172_972_800);
        // 29.97 NDF: 1601.6 samples a frame, rounded to the nearest sample.
        let r = fps("29.97");
        assert!(!r.drop_frame);
        assert_eq!(r.frame_to_samples(1, 48_000), 1_602);
        assert_eq!(r.frame_to_samples(2, 48_000), 3_203);
        assert_eq!(r.frame_to_samples(5, 48_000), 8_008);
        assert_eq!(r.frame_to_samples(108_000, 48_000), 172_972_800);
        assert_eq!(r.to_string(), "29.97 NDF fps");
    }

    #[test]
    fn drop_frame_labels_skip_two_numbers_a_minute_except_every_tenth() {
        let r = fps("29.97df");
        assert!(r.drop_frame && r.ntsc);
        // The frame after 00:00:59;29 is 00:01:00;02.
        assert_eq!(r.frame_of(&tc("00:00:59;29")).unwrap(), 1_799);
        assert_eq!(r.frame_of(&tc("00:01:00;02")).unwrap(), 1_800);
        assert_eq!(r.label(1_800).to_string(), "00:01:00;02");
        assert_eq!(r.label(1_799).to_string(), "00:00:59;29");
        // Minute 10 keeps its 00 and 01: 10 minutes = 17 982 frames.
        assert_eq!(r.frame_of(&tc("00:10:00;00")).unwrap(), 17_982);
        assert_eq!(r.label(17_982).to_string(), "00:10:00;00");
        assert_eq!(r.label(17_981).to_string(), "00:09:59;29");
        // One labelled hour: 107 892 frames = 3600.0 s to within 3.6 ms.
        let hour = r.frame_of(&tc("01:00:00;00")).unwrap();
        assert_eq!(hour, 107_892);
        let s = r.frame_to_samples(hour, 48_000);
        assert!((s as f64 / 48_000.0 - 3_600.0).abs() < 0.004, "{s}");
        let e = r.frame_of(&tc("00:02:00;01")).unwrap_err();
        assert!(e.contains("dropped"), "{e}");
        // Labels and frames round-trip over a day's span.
        for f in (0..r.frames_per_day()).step_by(997) {
            assert_eq!(r.frame_of(&r.label(f)).unwrap(), f);
        }
        // 59.94 DF drops four.
        let r = fps("59.94df");
        assert_eq!(r.frame_of(&tc("00:01:00;04")).unwrap(), 3_600);
        assert_eq!(r.label(3_599).to_string(), "00:00:59;59");
        assert!(r.frame_of(&tc("00:01:00;03")).is_err());
        for f in (0..r.frames_per_day()).step_by(1_009) {
            assert_eq!(r.frame_of(&r.label(f)).unwrap(), f);
        }
    }

    #[test]
    fn samples_to_frame_is_the_frame_containing_the_sample() {
        for rate in FPS_IDS {
            let r = fps(rate);
            for sr in [44_100, 48_000, 96_000] {
                for f in [0u64, 1, 2, 3, 1_000, 107_892, 2_000_001] {
                    let s = r.frame_to_samples(f, sr);
                    assert_eq!(r.samples_to_frame(s, sr), f, "{rate} {sr} {f}");
                    assert_eq!(
                        r.samples_to_frame(s.saturating_sub(1), sr),
                        f.saturating_sub(1)
                    );
                }
            }
        }
    }

    #[test]
    fn labels_wrap_at_midnight() {
        let r = fps("25");
        assert_eq!(r.frames_per_day(), 2_160_000);
        assert_eq!(r.label(2_160_000 + 25).to_string(), "00:00:01:00");
        assert_eq!(r.label(2_159_999).to_string(), "23:59:59:24");
    }

    #[test]
    fn rates_and_labels_are_read_leniently_and_checked() {
        assert_eq!(fps("29.97 DF"), fps("29.97df"));
        assert_eq!(fps("23.98"), fps("23.976"));
        assert_eq!(fps("29.97NDF"), fps("29.97"));
        assert!(
            FrameRate::parse("30df")
                .unwrap_err()
                .contains("29.97 and 59.94")
        );
        assert!(
            FrameRate::parse("12")
                .unwrap_err()
                .contains("23.976, 24, 25")
        );
        assert!(Timecode::parse("1:00:00").is_err());
        assert!(Timecode::parse("24:00:00:00").is_err());
        assert!(Timecode::parse("01:00:00:0x").is_err());
        assert!(fps("25").frame_of(&tc("00:00:00:25")).is_err());
        assert!(tc("01:00:00;00").drop_frame);
        assert!(Timecode::looks_like("01:00:00:00") && !Timecode::looks_like("12.5"));
    }

    #[test]
    fn ixml_names_the_rate() {
        let doc = b"<BWFXML><SPEED><TIMECODE_RATE>30000/1001</TIMECODE_RATE>\
                    <TIMECODE_FLAG>DF</TIMECODE_FLAG></SPEED></BWFXML>";
        assert_eq!(FrameRate::from_ixml(doc), Some(fps("29.97df")));
        let doc = b"<SPEED><TIMECODE_RATE>25/1</TIMECODE_RATE><TIMECODE_FLAG>NDF</TIMECODE_FLAG>";
        assert_eq!(FrameRate::from_ixml(doc), Some(fps("25")));
        let doc = b"<TIMECODE_RATE>24000/1001</TIMECODE_RATE>";
        assert_eq!(FrameRate::from_ixml(doc), Some(fps("23.976")));
        assert_eq!(
            FrameRate::from_ixml(b"<TIMECODE_RATE>15/1</TIMECODE_RATE>"),
            None
        );
        assert_eq!(FrameRate::from_ixml(b"<BWFXML/>"), None);
    }

    #[test]
    fn a_bed_with_a_time_reference_places_timecode_relative_to_its_start() {
        // A bed starting at 01:00:00:00 (48 kHz, 25 fps).
        let t = Timing::new(48_000, None, Some(172_800_000), None);
        assert!(t.show_timecode);
        assert_eq!(t.fps, DEFAULT_FPS);
        assert_eq!(t.start_timecode().to_string(), "01:00:00:00");
        assert_eq!(t.position_of(&tc("01:00:00:00")), Ok(0));
        assert_eq!(
            t.position_of(&tc("01:00:12:10")),
            Ok(12 * 48_000 + 10 * 1_920)
        );
        assert_eq!(
            t.timecode_at(12 * 48_000 + 10 * 1_920 + 1_919).to_string(),
            "01:00:12:10"
        );
        let e = t.position_of(&tc("00:59:59:24")).unwrap_err();
        assert!(
            e.contains("before the bed's start (01:00:00:00 at 25 fps)"),
            "{e}"
        );
        // A drop-frame label at a non-drop rate is refused with the fix.
        assert!(
            t.position_of(&tc("01:00:00;00"))
                .unwrap_err()
                .contains("29.97df")
        );
        // Without a time reference or --fps: seconds, timecode from 00:00:00:00 if asked.
        let t = Timing::seconds(44_100);
        assert!(!t.show_timecode);
        assert_eq!(t.start_timecode().to_string(), "00:00:00:00");
        let t = Timing::new(48_000, Some(fps("29.97df")), None, None);
        assert!(t.show_timecode);
        assert_eq!(t.timecode_at(48_000 * 60).to_string(), "00:00:59;28");
    }
}
