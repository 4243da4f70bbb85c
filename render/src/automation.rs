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

/// Builds one event from its text fields; `at` names the place in errors.
fn event(
    time_s: f64,
    param: &str,
    value: EventValue<'_>,
    sample_rate_hz: u32,
    place: String,
) -> Result<AutomationEvent, String> {
    if !time_s.is_finite() || time_s < 0.0 {
        return Err(format!("time {time_s} s must be a number >= 0"));
    }
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
        sample: (time_s * sample_rate_hz as f64).round() as u64,
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
pub fn load(
    path: &Path,
    sample_rate_hz: u32,
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
        parse_json(&text, sample_rate_hz)
    } else {
        parse_csv(&text, sample_rate_hz)
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

/// Parses CSV text (header `time_s,param,value`); errors name the line.
pub fn parse_csv(text: &str, sample_rate_hz: u32) -> Result<Vec<AutomationEvent>, String> {
    let mut events = Vec::new();
    let mut header_seen = false;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if !header_seen {
            let header: Vec<String> = fields.iter().map(|f| f.to_ascii_lowercase()).collect();
            if header != ["time_s", "param", "value"] {
                return Err(format!(
                    "line {line_no}: the first line must be the header \"time_s,param,value\", \
                     found \"{line}\""
                ));
            }
            header_seen = true;
            continue;
        }
        if fields.len() != 3 {
            return Err(format!(
                "line {line_no}: expected 3 fields (time_s,param,value), found {}",
                fields.len()
            ));
        }
        let time_s: f64 = fields[0]
            .parse()
            .map_err(|_| format!("line {line_no}: time \"{}\" is not a number", fields[0]))?;
        let e = event(
            time_s,
            fields[1],
            EventValue::Text(fields[2]),
            sample_rate_hz,
            format!("line {line_no}"),
        )
        .map_err(|p| format!("line {line_no}: {p}"))?;
        events.push(e);
    }
    if !header_seen {
        return Err("empty automation file (expected the header \"time_s,param,value\")".into());
    }
    Ok(events)
}

/// Parses JSON text (a list of `{"time_s", "param", "value"}`); errors name the entry and, for
/// syntax errors, the line.
pub fn parse_json(text: &str, sample_rate_hz: u32) -> Result<Vec<AutomationEvent>, String> {
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
            .find(|k| !["time_s", "param", "value"].contains(&k.as_str()))
        {
            return Err(format!(
                "{at}: unknown key \"{k}\" (allowed: time_s, param, value)"
            ));
        }
        let time_s = map
            .get("time_s")
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("{at}: \"time_s\" must be a number"))?;
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
        let e = event(time_s, param, value, sample_rate_hz, at.clone());
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
