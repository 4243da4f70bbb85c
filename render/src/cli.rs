//! The `underscore` command line: argument parsing (clap), the printed summary, and exit
//! codes. The work is done by [`crate::run::run_render`].

use clap::{Parser, Subcommand};
use underscore_dsp::settings::Choice;

use crate::job::{RenderArgs, RenderReport};
use crate::run::run_render;

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

/// Parses the command line, runs it, prints the summary (stdout) or the error (stderr), and
/// returns the exit code: 0, 1 (input or output problem) or 2 (usage).
pub fn main_with_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    match cli.command {
        Command::Render(args) => match run_render(&args) {
            Ok(report) => {
                if !args.quiet {
                    print!("{}", format_summary(&report));
                }
                0
            }
            Err(e) => {
                eprintln!("underscore render: error: {e}");
                e.exit_code()
            }
        },
    }
}
