//! Automation files: parameter changes at given times, in user units.
//!
//! CSV, with a header line `time_s,param,value`:
//!
//! ```text
//! time_s,param,value
//! 0,depth,-12
//! 12.5,depth,-6 dB
//! 30,release,0.8s
//! ```
//!
//! or JSON, a list of objects: `[{"time_s": 12.5, "param": "depth", "value": -6}, ...]`
//! (`value` a number, or text as in CSV: `"0.8 s"`, `"spectral"`, `"on"`).
//!
//! Times may be given as timecode instead, relative to the bed's time reference (its BWF
//! `bext` start): CSV with the header `timecode,param,value` and `HH:MM:SS:FF` times
//! (`HH:MM:SS;FF` at a drop-frame rate), JSON with `"timecode": "01:00:12:10"` in place of
//! `"time_s"`. The frame rate is `--fps`, else the bed's iXML rate, else 25 (see
//! [`crate::timecode`]). An event at the bed's start timecode lands on its first sample; one
//! before the bed's start is an error naming its line.
//!
//! Parameters are the host ids of [`underscore_dsp::settings`], values are read with its
//! parser (dB, ms or s, %, Hz or kHz, choice names). Each change applies from the sample
//! `round(time_s x sample rate)` on, exactly as a host's sample-accurate automation event at
//! that sample. Settings that change the latency (`mode`, `lookahead`) cannot be automated: a
//! file render compensates the latency once, for the whole file. The settings in force after
//! every change must pass [`settings::validate`] (e.g. Focus Low below Focus High), as a preset
//! must.

use std::path::Path;

use serde_json::Value;
use underscore_dsp::EngineParams;
use underscore_dsp::settings::{self, Setting};

use crate::error::RenderError;
use crate::timecode::{Timecode, Timing};

/// One parameter change, at an input sample position.
#[derive(Debug, Clone)]
pub struct AutomationEvent {
    /// Sample position (frames from the start of the input) where the value applies.
    pub sample: u64,
    /// The setting.
    pub param: &'static Setting,
    /// The new value in user units (checked against the range).
    pub value: f32,
    /// Where it was read: "line 5" (CSV) or "entry 3 (of 10)" (JSON).
    pub place: String,
}

/// When an event applies, as written.
enum EventTime<'a> {
    Seconds(f64),
    Timecode(&'a str),
}

impl EventTime<'_> {
    /// The bed sample position.
    fn sample(&self, timing: &Timing) -> Result<u64, String> {
        match *self {
            EventTime::Seconds(time_s) => {
                if !time_s.is_finite() || time_s < 0.0 {
                    return Err(format!("time {time_s} s must be a number >= 0"));
                }
                Ok((time_s * timing.sample_rate_hz as f64).round() as u64)
            }
            EventTime::Timecode(text) => timing.position_of(&Timecode::parse(text)?),
        }
    }
}

/// Builds one event from its text fields; `place` names it in errors.
fn event(
    time: EventTime<'_>,
    param: &str,
    value: EventValue<'_>,
    timing: &Timing,
    place: String,
) -> Result<AutomationEvent, String> {
    let sample = time.sample(timing)?;
    let id = param.trim();
    let info = settings::find(id).ok_or_else(|| settings::unknown(id))?;
    if info.changes_latency {
        return Err(format!(
            "{} cannot be automated in a file render (it changes the latency); \
             set it with --preset or --set",
            info.id
        ));
    }
    let value = match value {
        EventValue::Text(t) => info.parse(t)?,
        EventValue::Number(v) => info.check(v as f32)?,
        EventValue::Bool(b) => info.check(b as u8 as f32)?,
    };
    Ok(AutomationEvent {
        sample,
        param: info,
        value,
        place,
    })
}

enum EventValue<'a> {
    Text(&'a str),
    Number(f64),
    Bool(bool),
}

/// Reads an automation file (CSV or JSON, by extension; `.json` is JSON, anything else CSV)
/// into events sorted by sample position (changes at the same position keep file order), and
/// checks that the settings in force after each change, starting from `initial`, are valid.
/// Times in seconds count from the bed's first sample; timecode from `timing`'s time reference.
pub fn load(
    path: &Path,
    timing: &Timing,
    initial: &EngineParams,
) -> Result<Vec<AutomationEvent>, RenderError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        RenderError::input(
            path,
            match e.kind() {
                std::io::ErrorKind::NotFound => "automation file not found".to_string(),
                _ => format!("cannot read the automation file: {e}"),
            },
        )
    })?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let mut events = if is_json {
        parse_json_at(&text, timing)
    } else {
        parse_csv_at(&text, timing)
    }
    .map_err(|problem| RenderError::input(path, problem))?;
    events.sort_by_key(|e| e.sample);
    check(&events, initial).map_err(|problem| RenderError::input(path, problem))?;
    Ok(events)
}

/// Applies sorted `events` to `initial` in order and validates the settings in force after
/// the last change at each sample position (changes at one position land together, so a
/// move of both Focus edges at once is judged as a whole); the error names the change.
pub fn check(events: &[AutomationEvent], initial: &EngineParams) -> Result<(), String> {
    let mut params = *initial;
    for (i, e) in events.iter().enumerate() {
        e.param.set(&mut params, e.value)?;
        let last_at_position = events.get(i + 1).is_none_or(|next| next.sample != e.sample);
        if last_at_position {
            settings::validate(&params).map_err(|problem| {
                format!(
                    "{}: after the changes at sample {}, {problem}",
                    e.place, e.sample
                )
            })?;
        }
    }
    Ok(())
}

/// Parses CSV text with times in seconds (header `time_s,param,value`); errors name the line.
pub fn parse_csv(text: &str, sample_rate_hz: u32) -> Result<Vec<AutomationEvent>, String> {
    parse_csv_at(text, &Timing::seconds(sample_rate_hz))
}

/// Parses CSV text, header `time_s,param,value` or `timecode,param,value` (timecode relative
/// to `timing`'s time reference); errors name the line.
pub fn parse_csv_at(text: &str, timing: &Timing) -> Result<Vec<AutomationEvent>, String> {
    let mut events = Vec::new();
    let mut header_seen = false;
    let mut timecode = false;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if !header_seen {
            let header: Vec<String> = fields.iter().map(|f| f.to_ascii_lowercase()).collect();
            timecode = header[0] == "timecode";
            if header.len() != 3
                || header[1..] != ["param", "value"]
                || !["time_s", "timecode"].contains(&header[0].as_str())
            {
                return Err(format!(
                    "line {line_no}: the first line must be the header \"time_s,param,value\" \
                     or \"timecode,param,value\", found \"{line}\""
                ));
            }
            header_seen = true;
            continue;
        }
        let columns = if timecode {
            "timecode,param,value"
        } else {
            "time_s,param,value"
        };
        if fields.len() != 3 {
            return Err(format!(
                "line {line_no}: expected 3 fields ({columns}), found {}",
                fields.len()
            ));
        }
        let time = if timecode {
            EventTime::Timecode(fields[0])
        } else {
            EventTime::Seconds(fields[0].parse().map_err(|_| {
                if Timecode::looks_like(fields[0]) {
                    format!(
                        "line {line_no}: \"{}\" is a timecode: name the column \"timecode\" \
                         (header \"timecode,param,value\")",
                        fields[0]
                    )
                } else {
                    format!("line {line_no}: time \"{}\" is not a number", fields[0])
                }
            })?)
        };
        let e = event(
            time,
            fields[1],
            EventValue::Text(fields[2]),
            timing,
            format!("line {line_no}"),
        )
        .map_err(|p| format!("line {line_no}: {p}"))?;
        events.push(e);
    }
    if !header_seen {
        return Err(
            "empty automation file (expected the header \"time_s,param,value\" or \
             \"timecode,param,value\")"
                .into(),
        );
    }
    Ok(events)
}

/// Parses JSON text with times in seconds (a list of `{"time_s", "param", "value"}`); errors
/// name the entry and, for syntax errors, the line.
pub fn parse_json(text: &str, sample_rate_hz: u32) -> Result<Vec<AutomationEvent>, String> {
    parse_json_at(text, &Timing::seconds(sample_rate_hz))
}

/// Parses JSON text, a list of `{"time_s" or "timecode", "param", "value"}` (timecode relative
/// to `timing`'s time reference); errors name the entry and, for syntax errors, the line.
pub fn parse_json_at(text: &str, timing: &Timing) -> Result<Vec<AutomationEvent>, String> {
    let root: Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        )
    })?;
    let Value::Array(items) = root else {
        return Err(
            "the file must be a JSON list [{\"time_s\", \"param\", \"value\"}, ...]".into(),
        );
    };
    let mut events = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("entry {} (of {})", i + 1, items.len());
        let Value::Object(map) = item else {
            return Err(format!(
                "{at}: must be an object {{\"time_s\", \"param\", \"value\"}}"
            ));
        };
        if let Some(k) = map
            .keys()
            .find(|k| !["time_s", "timecode", "param", "value"].contains(&k.as_str()))
        {
            return Err(format!(
                "{at}: unknown key \"{k}\" (allowed: time_s or timecode, param, value)"
            ));
        }
        let time = match (map.get("time_s"), map.get("timecode")) {
            (Some(t), None) => EventTime::Seconds(
                t.as_f64()
                    .ok_or_else(|| format!("{at}: \"time_s\" must be a number"))?,
            ),
            (None, Some(t)) => EventTime::Timecode(
                t.as_str()
                    .ok_or_else(|| format!("{at}: \"timecode\" must be a text \"HH:MM:SS:FF\""))?,
            ),
            _ => {
                return Err(format!(
                    "{at}: give the time as \"time_s\" (seconds) or \"timecode\", one of them"
                ));
            }
        };
        let param = map
            .get("param")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{at}: \"param\" must be a text (a parameter id)"))?;
        let value = match map.get("value") {
            Some(Value::Number(n)) => EventValue::Number(n.as_f64().unwrap_or(f64::NAN)),
            Some(Value::String(s)) => EventValue::Text(s),
            Some(Value::Bool(b)) => EventValue::Bool(*b),
            _ => return Err(format!("{at}: \"value\" must be a number or a text")),
        };
        let e = event(time, param, value, timing, at.clone());
        events.push(e.map_err(|p| format!("{at}: {p}"))?);
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_reads_units_and_sample_positions() {
        let text = "time_s,param,value\n# comment\n0,depth,-12\n0.5,release,0.8s\n1,mode2,1\n";
        let err = parse_csv(text, 48_000).unwrap_err();
        assert!(
            err.starts_with("line 5:") && err.contains("unknown parameter"),
            "{err}"
        );
        let ev = parse_csv(
            "time_s,param,value\n0,depth,-12 dB\n0.5,release,0.8s\n",
            48_000,
        )
        .unwrap();
        assert_eq!(ev.len(), 2);
        assert_eq!((ev[0].sample, ev[0].value), (0, -12.0));
        assert_eq!(
            (ev[1].param.id, ev[1].sample, ev[1].value),
            ("release", 24_000, 800.0)
        );
    }

    #[test]
    fn csv_errors_name_the_line() {
        let e = parse_csv("t,p,v\n", 48_000).unwrap_err();
        assert!(e.contains("line 1"), "{e}");
        let e = parse_csv("time_s,param,value\n1,depth,-99\n", 48_000).unwrap_err();
        assert!(e.starts_with("line 2:") && e.contains("-40..0"), "{e}");
        let e = parse_csv("time_s,param,value\n1,depth\n", 48_000).unwrap_err();
        assert!(e.starts_with("line 2:"), "{e}");
        let e = parse_csv("time_s,param,value\n1,mode,spectral\n", 48_000).unwrap_err();
        assert!(e.contains("cannot be automated"), "{e}");
    }

    #[test]
    fn json_reads_numbers_and_texts() {
        let ev = parse_json(
            r#"[{"time_s": 1.0, "param": "mix", "value": 50}, {"time_s": 2, "param": "bypass", "value": "on"}]"#,
            44_100,
        )
        .unwrap();
        assert_eq!((ev[0].sample, ev[0].value), (44_100, 50.0));
        assert_eq!((ev[1].sample, ev[1].value), (88_200, 1.0));
        let e = parse_json("[{\"time_s\": 1, \"param\": \"mix\"}]", 48_000).unwrap_err();
        assert!(e.starts_with("entry 1"), "{e}");
        let e = parse_json("[\n{]", 48_000).unwrap_err();
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn timecode_is_relative_to_the_beds_time_reference() {
        use crate::timecode::FrameRate;
        // A bed starting at 01:00:00:00 (48 kHz, 25 fps: 1920 samples a frame).
        let t = Timing::new(48_000, None, Some(172_800_000), None);
        let text = "timecode,param,value\n01:00:00:00,depth,-12\n01:00:12:10,mix,50%\n";
        let ev = parse_csv_at(text, &t).unwrap();
        assert_eq!(ev[0].sample, 0);
        assert_eq!(
            (ev[1].sample, ev[1].value),
            (12 * 48_000 + 10 * 1_920, 50.0)
        );
        let e = parse_csv_at("timecode,param,value\n\n00:59:59:24,depth,-6\n", &t).unwrap_err();
        assert!(
            e.starts_with("line 3:") && e.contains("before the bed's start"),
            "{e}"
        );
        let e = parse_csv_at("timecode,param,value\n01:00:00:25,depth,-6\n", &t).unwrap_err();
        assert!(e.starts_with("line 2:") && e.contains("frame 25"), "{e}");
        // A timecode under a time_s header says which header to use.
        let e = parse_csv_at("time_s,param,value\n01:00:01:00,depth,-6\n", &t).unwrap_err();
        assert!(e.contains("timecode,param,value"), "{e}");
        // JSON: "timecode" in place of "time_s"; at 29.97 DF with a drop-frame label.
        let t = Timing::new(
            48_000,
            Some(FrameRate::parse("29.97df").unwrap()),
            None,
            None,
        );
        let ev = parse_json_at(
            r#"[{"timecode": "00:01:00;02", "param": "depth", "value": -6},
                {"time_s": 1.5, "param": "depth", "value": -8}]"#,
            &t,
        )
        .unwrap();
        // Frame 1800 at 30000/1001 fps: 1800 x 1601.6 samples.
        assert_eq!(ev[0].sample, 2_882_880);
        assert_eq!(ev[1].sample, 72_000);
        let e = parse_json_at(
            r#"[{"timecode": "00:00:01:00", "time_s": 1, "param": "depth", "value": -6}]"#,
            &t,
        )
        .unwrap_err();
        assert!(e.starts_with("entry 1") && e.contains("one of them"), "{e}");
    }

    #[test]
    fn settings_after_each_change_must_be_valid() {
        // Focus Low up to 1 kHz with Focus High at 1 kHz: an empty Focus range, refused with
        // the line; the same move with Focus High raised at the same time is fine.
        let text = "time_s,param,value\n1,focus_high,1000\n2,focus_low,1000\n";
        let ev = parse_csv(text, 48_000).unwrap();
        let e = check(&ev, &EngineParams::default()).unwrap_err();
        assert!(
            e.starts_with("line 3:") && e.contains("must be below focus_high"),
            "{e}"
        );
        let text = "time_s,param,value\n1,focus_low,1000\n1,focus_high,5000\n";
        let ev = parse_csv(text, 48_000).unwrap();
        assert_eq!(check(&ev, &EngineParams::default()), Ok(()));
    }
}
