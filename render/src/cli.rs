//! The `underscore` command line: argument parsing (clap), the printed summary, and exit
//! codes. The work is done by [`crate::run::run_render`].

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use underscore_dsp::settings::Choice;

use crate::job::{GroupReport, RenderArgs, RenderReport};
use crate::run::run_group;

/// Underscore: dialogue-aware ducking, offline.
#[derive(Debug, Parser)]
#[command(name = "underscore", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Duck a music or ambience bed under a dialogue stem, as the plugin would.
    Render(RenderArgs),
}

fn db(v: Option<f64>, unit: &str) -> String {
    match v {
        Some(v) => format!("{v:.1} {unit}"),
        None => "n/a".into(),
    }
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
    for p in [&r.mix_output, &r.report, &r.json].into_iter().flatten() {
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
        if let Some(p) = &g.json {
            t.push_str(&format!("wrote {}\n", p.display()));
        }
    }
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

/// Parses the command line, runs it, prints the summary (stdout) or the error (stderr), and
/// returns the exit code: 0, 1 (input or output problem) or 2 (usage).
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
        Command::Render(mut args) => {
            let sub = matches
                .subcommand_matches("render")
                .expect("the render subcommand");
            if let Err(e) = group_per_bed(&mut args, sub) {
                eprintln!("underscore render: error: {e}");
                return 2;
            }
            match run_group(&args) {
                Ok(report) => {
                    if !args.quiet {
                        print!("{}", format_group(&report));
                    }
                    0
                }
                Err(e) => {
                    eprintln!("underscore render: error: {e}");
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
        let Command::Render(mut args) = Cli::from_arg_matches(&m).unwrap().command;
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
        let Command::Render(mut args) = Cli::from_arg_matches(&m).unwrap().command;
        let e = group_per_bed(&mut args, m.subcommand_matches("render").unwrap()).unwrap_err();
        assert!(e.contains("two -o for --bed a"), "{e}");
    }
}
