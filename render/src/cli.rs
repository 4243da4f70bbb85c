//! The `underscore` command line: argument parsing (clap), the lists of presets and
//! parameters, the printed summary and warnings, and exit codes. The work is done by
//! [`crate::run::run_group`].
//!
//! Exit codes (the same for every subcommand):
//!
//! | code | when |
//! |---|---|
//! | 0 | done (warnings, on stderr, do not change it); `--help`, `--version` |
//! | 1 | an input or output file problem: missing, unreadable, corrupt, unsupported, dialogue and bed not matching, a broken preset or automation file, a failed write |
//! | 2 | a command-line mistake: an unknown option or subcommand, a missing or bad option value, an unknown parameter id, choice or preset name, a value without its unit, outputs that overwrite inputs |

use std::io::Write;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use serde_json::{Value, json};
use underscore_dsp::EngineParams;
use underscore_dsp::settings::{Choice, Group, Kind, SETTINGS, Setting};
use underscore_preset::{Origin, Preset};

use crate::job::{GroupReport, RenderArgs, RenderReport};
use crate::run::{is_stdout, run_group};
use crate::settings::changed_by_group;

/// Short examples under `underscore --help`.
const MAIN_EXAMPLES: &str = "\
Examples:
  underscore render --dialogue dx.wav --bed mx.wav --preset drama -o mx_ducked.wav
  underscore presets           the factory and user presets, with their settings
  underscore params            every parameter: id, unit, range, default, help
  underscore render --help     all render options, how to write values, exit codes";

/// Examples under `underscore render -h`.
const RENDER_EXAMPLES: &str = "\
Examples:
  underscore render --dialogue dx.wav --bed mx.wav -o mx_ducked.wav
  underscore render --dialogue dx.flac --bed mx.wav --preset drama -o mx_ducked.wav \\
      --set depth=-12dB --set release=0.8s --set \"stereo mode=Mid/Side\"
  underscore render --dialogue dx.wav --bed mx.wav -o mx_ducked.wav --json - | jq .speech_share
  underscore render --dialogue dx.wav --set mode=spectral \\
      --bed music.wav --role music -o music_ducked.wav \\
      --bed amb.wav --role ambience -o amb_ducked.wav

`underscore render --help` also says how to write values, the units and the exit codes.";

/// Examples, values, units and exit codes under `underscore render --help`.
const RENDER_LONG_HELP: &str = "\
Examples:
  Duck a music bed under a dialogue stem at the plugin's defaults:
    underscore render --dialogue dx.wav --bed mx.wav -o mx_ducked.wav
  A preset (a unique start of its name is enough), two changes, the mix and a report:
    underscore render --dialogue dx.flac --bed mx.wav --preset drama -o mx_ducked.wav \\
        --set depth=-12dB --set release=0.8s --mix-output mix.wav --report report.png
  Automation and the figures as JSON on standard output (the summary goes to stderr):
    underscore render --dialogue dx.wav --bed mx.wav -o mx_ducked.wav \\
        --automation moves.csv --json - | jq .speech_share
  Music and ambience linked (each --role and -o belongs to the --bed before it):
    underscore render --dialogue dx.wav --set mode=spectral \\
        --bed music.wav --role music -o music_ducked.wav \\
        --bed amb.wav --role ambience -o amb_ducked.wav

Values for --set ID=VALUE (and automation files). Ids and display names in any case, with
spaces, - or _ between the words (depth, DEPTH, \"Stereo Mode\", focus-high):
  dB         depth=-12 or -12dB; threshold=-40dBFS
  times      with their unit, ms or s: release=800ms or release=0.8s
  shares     with their unit, %: mix=50%
  Hz         focus_high=6500, 6500Hz, 6.5kHz or 6.5k
  choices    by id or label: mode=spectral, stereo_mode=Mid/Side; switches on/off
A bare number for a time or a share is refused (lookahead=0.1: 0.1 ms or 0.1 s?  mix=0.5:
0.5 % or half?), except 0; the error says what to write. `underscore params` lists every
id with its unit, range and default; `underscore presets` lists the presets.

Units of the options: --block in frames per engine call (512 frames = 10.7 ms at 48 kHz);
--bit-depth in bits per sample (32f: 32-bit float). Outputs are WAV files.

Warnings (stderr; the render is written all the same): a dialogue with no speech, or loud
with something that is not speech (music, effects), or speech without pauses (singing, a
crowd); an output not named .wav, a report not named .png.

Exit codes: 0 done (also with warnings); 1 an input or output file problem (missing,
unreadable, unsupported, dialogue and bed not matching, a broken preset file or automation
file, a failed write); 2 a command-line mistake (an unknown option, parameter, choice or
preset name, a bad or unit-less value).";

/// Underscore: dialogue-aware ducking, offline.
#[derive(Debug, Parser)]
#[command(name = "underscore", version, about, long_about = None, after_help = MAIN_EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// The render's options are much larger than the lists' flag; the value is parsed once per
// process, so boxing it would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Duck a music or ambience bed under a dialogue stem, as the plugin would.
    #[command(after_help = RENDER_EXAMPLES, after_long_help = RENDER_LONG_HELP)]
    Render(RenderArgs),
    /// List the factory presets and your own (the plugin's user preset folder).
    Presets(ListArgs),
    /// List every parameter: id, name, unit, range, default, whether it can be automated, help.
    Params(ListArgs),
}

/// Options of `underscore presets` and `underscore params`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Print JSON (for scripts) instead of text.
    #[arg(long)]
    pub json: bool,
}

fn db(v: Option<f64>, unit: &str) -> String {
    match v {
        Some(v) => format!("{v:.1} {unit}"),
        None => "n/a".into(),
    }
}

/// The settings block of the summary: those that differ from the plugin's defaults, grouped
/// as in the editor.
fn format_settings(p: &EngineParams) -> String {
    let groups = changed_by_group(p);
    if groups.is_empty() {
        return "  settings          all at the plugin's defaults\n".into();
    }
    let mut t = String::from(
        "  settings          not at the plugin's defaults (`underscore params` lists all):\n",
    );
    for (title, items) in groups {
        t.push_str(&format!("    {title}: {}\n", items.join(", ")));
    }
    t
}

/// The summary as printed at the end of a render.
pub fn format_summary(r: &RenderReport) -> String {
    let s = &r.summary;
    let mut t = String::new();
    let p = &r.params;
    t.push_str(&format!(
        "rendered {:.1} s ({} Hz, {} ch bed, {} ch dialogue), preset {}, mode {}, depth {} dB\n",
        s.duration_s,
        s.sample_rate_hz,
        r.bed_channels,
        r.dialogue_channels,
        r.preset,
        p.mode.id(),
        p.depth_db
    ));
    t.push_str(&format_settings(p));
    t.push_str(&format!(
        "  speech            {:.1} % of the time\n",
        100.0 * s.speech_share
    ));
    t.push_str(&format!(
        "  reduction         mean {} during speech, {} overall, max {}\n",
        db(s.mean_reduction_speech_db, "dB"),
        db(s.mean_reduction_all_db, "dB"),
        db(s.max_reduction_db, "dB")
    ));
    t.push_str(&format!(
        "  dialogue - bed    {} before, {} after (BS.1770, speech-gated; dialogue {})\n",
        db(s.dialogue_to_bed_before_lu(), "LU"),
        db(s.dialogue_to_bed_after_lu(), "LU"),
        db(s.dialogue_lufs, "LUFS")
    ));
    t.push_str(&format!(
        "  dialogue / bed    {} before, {} after (500 Hz-4 kHz bands, what Clarity sets)\n",
        db(s.speech_band_ratio_before_db, "dB"),
        db(s.speech_band_ratio_after_db, "dB")
    ));
    t.push_str(&format!(
        "  bed loudness      {} before, {} after (integrated)\n",
        db(s.bed_integrated_before_lufs, "LUFS"),
        db(s.bed_integrated_after_lufs, "LUFS")
    ));
    t.push_str(&format!(
        "  latency           {} samples compensated (output aligned with the input)\n",
        s.latency_samples
    ));
    if r.timing.show_timecode {
        let (start, fps) = (r.timing.start_timecode(), r.timing.fps);
        t.push_str(&format!(
            "  timecode          bed starts at {start} ({fps})\n"
        ));
    }
    if s.clipped_samples > 0 {
        t.push_str(&format!(
            "  warning           {} samples clipped at full scale (use --bit-depth 32f)\n",
            s.clipped_samples
        ));
    }
    if r.ignored_events > 0 {
        t.push_str(&format!(
            "  warning           {} automation events after the end were ignored\n",
            r.ignored_events
        ));
    }
    t.push_str(&format!(
        "  elapsed           {:.2} s, {:.0}x realtime\n",
        s.elapsed_s, s.times_realtime
    ));
    t.push_str(&format!("wrote {}\n", r.output.display()));
    let written = [&r.mix_output, &r.report, &r.json].into_iter().flatten();
    for p in written.chain(&r.envelopes).filter(|p| !is_stdout(p)) {
        t.push_str(&format!("wrote {}\n", p.display()));
    }
    t
}

/// The summary of a render of one or more beds.
pub fn format_group(g: &GroupReport) -> String {
    let mut t = String::new();
    if g.linked {
        t.push_str(&format!(
            "linked render of {} beds (one masking budget for their sum)\n",
            g.beds.len()
        ));
    }
    for r in &g.beds {
        if g.linked {
            t.push_str(&format!(
                "bed {} (role {})\n",
                r.bed.display(),
                r.params.role.id()
            ));
        }
        t.push_str(&format_summary(r));
    }
    if g.linked {
        t.push_str(&format!(
            "  dialogue / sum    {} before, {} after (500 Hz-4 kHz bands, all beds together)\n",
            db(g.figures.combined_ratio_before_db, "dB"),
            db(g.figures.combined_ratio_after_db, "dB")
        ));
        if let Some(p) = g.json.as_ref().filter(|p| !is_stdout(p)) {
            t.push_str(&format!("wrote {}\n", p.display()));
        }
    }
    t
}

/// `text` wrapped at `width` columns, each line after `indent`.
fn wrap(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.len() > width {
            out.push_str(&format!("{indent}{line}\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&format!("{indent}{line}\n"));
    }
    out
}

/// The groups in the order `underscore params` lists them (the editor's: top bar, panels,
/// link strip).
fn groups_in_order() -> impl Iterator<Item = Group> {
    [Group::Main]
        .into_iter()
        .chain(Group::PANELS)
        .chain([Group::Link])
}

/// One parameter's kind, unit, range and default in words: "dB, -40..0, default -10 dB".
fn describe_values(s: &Setting) -> String {
    let default = s.format(s.default_value());
    match s.kind {
        Kind::Number { unit, min, max, .. } => {
            let u = unit.suffix().trim();
            format!("{min}..{max} {u}, default {default}")
        }
        Kind::Choice { ids, names, .. } => {
            let choices: Vec<String> = ids
                .iter()
                .zip(names)
                .map(|(id, name)| {
                    if id.eq_ignore_ascii_case(name) {
                        id.to_string()
                    } else {
                        format!("{id} ({name})")
                    }
                })
                .collect();
            format!("one of {}, default {default}", choices.join(", "))
        }
        Kind::Switch { .. } => format!("on or off, default {default}"),
    }
}

/// `underscore params`: every setting by group, as text.
pub fn format_params() -> String {
    let mut t = wrap(
        "Parameters, for --set ID=VALUE, automation files and preset files. Ids and names in \
         any case; times and shares need their unit (800ms, 0.8s, 50%); `underscore render \
         --help` says how to write values.",
        "",
        92,
    );
    for group in groups_in_order() {
        t.push_str(&format!("\n{}\n", group.title()));
        for s in SETTINGS.iter().filter(|s| s.group == group) {
            let automation = if s.automatable {
                "automatable"
            } else if s.changes_latency {
                "not automatable (changes the latency)"
            } else {
                "not automatable"
            };
            t.push_str(&format!(
                "  {:<12} {:<12} {}; {automation}\n",
                s.id,
                s.name,
                describe_values(s)
            ));
            t.push_str(&wrap(s.help, "      ", 92));
        }
    }
    t
}

/// `underscore params --json`: every setting as data.
pub fn params_json() -> Value {
    let list: Vec<Value> = SETTINGS
        .iter()
        .map(|s| {
            let mut v = json!({
                "id": s.id,
                "name": s.name,
                "group": s.group.title(),
                "automatable": s.automatable,
                "changes_latency": s.changes_latency,
                "in_presets": s.in_presets(),
                "default_text": s.format(s.default_value()),
                "help": s.help,
            });
            let extra = match s.kind {
                Kind::Number { unit, min, max, .. } => json!({
                    "kind": "number",
                    "unit": unit.suffix().trim(),
                    "min": min,
                    "max": max,
                    "default": s.default_value(),
                }),
                Kind::Choice { ids, names, help } => json!({
                    "kind": "choice",
                    "default": s.format(s.default_value()),
                    "choices": ids.iter().zip(names).zip(help).map(|((id, name), help)| {
                        json!({"id": id, "name": name, "help": help})
                    }).collect::<Vec<_>>(),
                }),
                Kind::Switch { .. } => json!({
                    "kind": "switch",
                    "default": s.default_value() >= 0.5,
                }),
            };
            if let (Some(map), Value::Object(extra)) = (v.as_object_mut(), extra) {
                map.extend(extra);
            }
            v
        })
        .collect();
    json!({ "parameters": list })
}

/// A preset's key settings in a line: mode, depth, hold, release, stereo mode, and Clarity in
/// Spectral mode.
fn key_settings(p: &Preset) -> String {
    let spectral = p.params.mode == underscore_dsp::Mode::Spectral;
    ["mode", "depth", "hold", "release", "stereo_mode", "clarity"]
        .iter()
        .filter(|id| spectral || **id != "clarity")
        .filter_map(|id| underscore_dsp::settings::find(id))
        .map(|s| format!("{} {}", s.id, s.format(s.get(&p.params))))
        .collect::<Vec<_>>()
        .join(", ")
}

fn format_preset(p: &Preset, t: &mut String) {
    t.push_str(&format!("  {:<28} {}\n", p.id(), p.name));
    if !p.scene.is_empty() {
        t.push_str(&wrap(&p.scene, "      ", 92));
    }
    t.push_str(&wrap(&key_settings(p), "      ", 92));
}

/// `underscore presets`: the factory presets and the user's, as text.
pub fn format_presets() -> String {
    let mut t = String::from(
        "Factory presets (--preset ID, its name, or a unique start of either: --preset drama):\n",
    );
    for p in underscore_preset::factory() {
        format_preset(&p, &mut t);
    }
    match underscore_preset::user_dir() {
        Some(dir) => {
            t.push_str(&format!("\nUser presets ({}):\n", dir.display()));
            let (ok, bad) = underscore_preset::load_dir(&dir);
            if ok.is_empty() && bad.is_empty() {
                t.push_str("  none (the plugin's Save button puts presets there)\n");
            }
            for p in &ok {
                format_preset(p, &mut t);
            }
            for e in &bad {
                t.push_str(&format!("  unreadable: {e}\n"));
            }
        }
        None => {
            t.push_str("\nUser presets: no folder (set UNDERSCORE_PRESET_DIR, or HOME / APPDATA)\n")
        }
    }
    t
}

fn preset_json(p: &Preset) -> Value {
    let settings: serde_json::Map<String, Value> = SETTINGS
        .iter()
        .filter(|s| s.in_presets())
        .map(|s| (s.id.to_string(), json!(s.format(s.get(&p.params)))))
        .collect();
    json!({
        "id": p.id(),
        "name": p.name,
        "scene": p.scene,
        "why": p.why,
        "file": match &p.origin {
            Origin::File(path) => Some(path.display().to_string()),
            _ => None,
        },
        "settings": settings,
    })
}

/// `underscore presets --json`.
pub fn presets_json() -> Value {
    let dir = underscore_preset::user_dir();
    let (ok, bad) = match &dir {
        Some(d) => underscore_preset::load_dir(d),
        None => (Vec::new(), Vec::new()),
    };
    json!({
        "factory": underscore_preset::factory().iter().map(preset_json).collect::<Vec<_>>(),
        "user_dir": dir.map(|d| d.display().to_string()),
        "user": ok.iter().map(preset_json).collect::<Vec<_>>(),
        "user_errors": bad.iter().map(|e| json!({"file": e.origin, "problem": e.problem})).collect::<Vec<_>>(),
    })
}

/// Writes `text` to stdout; a closed pipe (`| head`) is not an error worth a panic.
fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Writes `text` to stderr.
fn print_err(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

fn json_text(v: &Value) -> String {
    let mut t = serde_json::to_string_pretty(v).unwrap_or_default();
    t.push('\n');
    t
}

/// Which `--bed` each occurrence of a per-bed option belongs to: the last `--bed` before it
/// on the command line (`bed_indices` and `indices` are clap's argument positions).
/// `Err(position)` for an occurrence before the first `--bed`.
fn owning_beds(bed_indices: &[usize], indices: &[usize]) -> Result<Vec<usize>, usize> {
    indices
        .iter()
        .map(|&i| bed_indices.iter().rposition(|&b| b < i).ok_or(i))
        .collect()
}

/// Ties each `--role` and `-o` to the `--bed` before it (a single bed takes its `-o` anywhere)
/// and puts the outputs in bed order. Errors are usage errors, in words.
fn group_per_bed(args: &mut RenderArgs, m: &clap::ArgMatches) -> Result<(), String> {
    let indices =
        |id: &str| -> Vec<usize> { m.indices_of(id).map(|i| i.collect()).unwrap_or_default() };
    let beds = indices("bed");
    let outputs = indices("output");
    let roles = indices("role");
    let n = beds.len();
    args.roles_by_bed = vec![None; n];
    if n <= 1 {
        if args.role.len() > 1 {
            return Err("one --bed takes one --role".into());
        }
        args.roles_by_bed = vec![args.role.first().copied(); n];
        return Ok(());
    }
    let owners = owning_beds(&beds, &roles)
        .map_err(|_| "--role before the first --bed: each --role belongs to the --bed before it")?;
    for (role, bed) in args.role.iter().zip(owners) {
        if args.roles_by_bed[bed].replace(*role).is_some() {
            return Err(format!("two --role for --bed {}", args.bed[bed].display()));
        }
    }
    let owners = owning_beds(&beds, &outputs).map_err(
        |_| "-o before the first --bed: with several beds each -o belongs to the --bed before it",
    )?;
    let mut by_bed: Vec<Option<std::path::PathBuf>> = vec![None; n];
    for (out, bed) in args.output.iter().zip(owners) {
        if by_bed[bed].replace(out.clone()).is_some() {
            return Err(format!("two -o for --bed {}", args.bed[bed].display()));
        }
    }
    args.output = by_bed
        .into_iter()
        .enumerate()
        .map(|(i, o)| o.ok_or_else(|| format!("no -o for --bed {}", args.bed[i].display())))
        .collect::<Result<_, _>>()?;
    Ok(())
}

/// Parses the command line, runs it, prints the output (stdout), the warnings and errors
/// (stderr), and returns the exit code: 0, 1 (input or output problem) or 2 (usage; clap's
/// own parse errors are 2 as well). The summary goes to stderr when `--json -` takes stdout.
pub fn main_with_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    let parsed = Cli::command()
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m).map(|c| (c, m)));
    let (cli, matches) = match parsed {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    match cli.command {
        Command::Presets(list) => {
            print_out(&if list.json {
                json_text(&presets_json())
            } else {
                format_presets()
            });
            0
        }
        Command::Params(list) => {
            print_out(&if list.json {
                json_text(&params_json())
            } else {
                format_params()
            });
            0
        }
        Command::Render(mut args) => {
            let Some(sub) = matches.subcommand_matches("render") else {
                return 2;
            };
            if let Err(e) = group_per_bed(&mut args, sub) {
                print_err(&format!("underscore render: error: {e}\n"));
                return 2;
            }
            match run_group(&args) {
                Ok(report) => {
                    for w in &report.warnings {
                        print_err(&format!("underscore render: warning: {w}\n"));
                    }
                    if !args.quiet {
                        let summary = format_group(&report);
                        if args.json.as_deref().is_some_and(is_stdout) {
                            print_err(&summary);
                        } else {
                            print_out(&summary);
                        }
                    }
                    0
                }
                Err(e) => {
                    print_err(&format!("underscore render: error: {e}\n"));
                    e.exit_code()
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_bed_options_belong_to_the_bed_before_them() {
        assert_eq!(owning_beds(&[2, 8], &[4, 10, 9]), Ok(vec![0, 1, 1]));
        assert_eq!(owning_beds(&[2, 8], &[1]), Err(1));
    }

    #[test]
    fn a_linked_command_line_groups_roles_and_outputs_by_bed() {
        let argv = [
            "underscore",
            "render",
            "--dialogue",
            "d.wav",
            "--bed",
            "m.wav",
            "--role",
            "music",
            "-o",
            "m_out.wav",
            "--bed",
            "a.wav",
            "-o",
            "a_out.wav",
            "--role",
            "Ambience",
        ];
        let m = Cli::command().try_get_matches_from(argv).unwrap();
        let Command::Render(mut args) = Cli::from_arg_matches(&m).unwrap().command else {
            panic!("render")
        };
        group_per_bed(&mut args, m.subcommand_matches("render").unwrap()).unwrap();
        assert_eq!(
            args.output,
            [std::path::PathBuf::from("m_out.wav"), "a_out.wav".into()]
        );
        assert_eq!(
            args.roles_by_bed,
            [
                Some(underscore_dsp::settings::Role::Music),
                Some(underscore_dsp::settings::Role::Ambience)
            ]
        );
        // An -o missing for the second bed is a usage error naming it.
        let argv = [
            "underscore",
            "render",
            "--dialogue",
            "d",
            "--bed",
            "m",
            "-o",
            "x",
            "--bed",
            "a",
            "-o",
            "y",
            "-o",
            "z",
        ];
        let m = Cli::command().try_get_matches_from(argv).unwrap();
        let Command::Render(mut args) = Cli::from_arg_matches(&m).unwrap().command else {
            panic!("render")
        };
        let e = group_per_bed(&mut args, m.subcommand_matches("render").unwrap()).unwrap_err();
        assert!(e.contains("two -o for --bed a"), "{e}");
    }
}
