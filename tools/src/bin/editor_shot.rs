//! Opens the Underscore editor standalone, fed live by the engine, for the README picture.
//!
//! A feeder thread renders a scene (dialogue on the key, a bed ducked by it) through
//! [`underscore_dsp::Engine`] in 512-sample blocks paced to real time, publishing the band
//! analysis and the meters exactly as the plugin's `process()` does, while the main thread runs
//! the editor window. After `--seconds` it prints the window's measured frame times on stderr
//! and `ready` on stdout (the moment to take the picture), and keeps playing until killed or until
//! `--linger` more seconds have passed.
//!
//! ```text
//! editor_shot [--scene DIR | --dialogue FILE --bed FILE] [--preset NAME]
//!             [--mode broadband|spectral]
//!             [--start S] [--seconds S] [--linger S] [--size WxH] [--scale PCT] [--bench N]
//! ```
//!
//! (`editor_shot --help` lists them.) The blocks go through [`underscore::EditorFeed`], the
//! same code the plugin's `process()` runs, so what the picture shows is what a host shows.
//!
//! `--start` skips into the material (to catch a phrase in progress at `ready`). `--size` (points)
//! and `--scale` (percent) open the window as a saved session would.
//!
//! `--bench N` opens no window: it runs the whole editor UI headless (egui layout and
//! tessellation, no GPU) at 60 simulated frames per second with the engine feeding it, first 10 s
//! to fill the history, then N timed frames, at the minimum, default and a large size, and prints
//! the mean and 95th-percentile frame time.
//!
//! Without stems (the default scene is `../shared/material/s1_drama_orchestral`, which may be
//! absent) it falls back to generated signals: a vowel-like pulse train with pauses on the key
//! and a noise-and-sines bed.

use std::io::Write as _;
use std::path::PathBuf;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use underscore_io::{Audio, read_audio};

use nice_plug::context::gui::{GuiContext, GuiContextInner};
use nice_plug::editor::EditorHandle as _;
use nice_plug::prelude::*;
use underscore::editor::window::{
    DEFAULT_HEIGHT_PT, DEFAULT_WIDTH_PT, FrameStats, MIN_HEIGHT_PT, MIN_WIDTH_PT, WindowLayout,
    WindowState,
};
use underscore::params::HostChoice;
use underscore::{EditorFeed, SharedAnalysis, SharedMeters, UnderscoreEditor, UnderscoreParams};
use underscore_dsp::settings::{Choice, LinkGroupId, Mode, Role};
use underscore_dsp::{Engine, EngineParams};

const BLOCK: usize = 512;
const DEFAULT_SCENE: &str = "../shared/material/s1_drama_orchestral";

/// Generated stand-ins, 12 s at 48 kHz: a key of vowel-like phrases (a 130 Hz pulse train
/// through three formant-ish harmonic weightings, syllables at ~4 Hz, 1.8 s phrases with 1.2 s
/// pauses) and a stereo bed of pink-ish noise and low sines.
fn generated() -> (Audio, Audio) {
    let sr = 48_000u32;
    let n = sr as usize * 12;
    let mut key = vec![0.0f32; n];
    let (mut left, mut right) = (vec![0.0f32; n], vec![0.0f32; n]);
    let mut seed = 0x2545_f491u32;
    let mut noise = || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as f32 / u32::MAX as f32 * 2.0 - 1.0
    };
    let (mut pink_l, mut pink_r) = (0.0f32, 0.0f32);
    let tau = std::f32::consts::TAU;
    for i in 0..n {
        let t = i as f32 / sr as f32;
        // Speech: phrases, syllables, harmonics weighted by formants near 700, 1200, 2600 Hz.
        let in_phrase = t % 3.0 < 1.8;
        let syllable = 0.25 + 0.75 * (0.5 - 0.5 * (tau * 4.2 * t).cos()).powf(1.5);
        let f0 = 130.0 + 12.0 * (tau * 0.7 * t).sin();
        let mut v = 0.0;
        if in_phrase {
            for h in 1..40 {
                let f = f0 * h as f32;
                let formant = |c: f32, w: f32| (-((f - c) / w).powi(2)).exp();
                let weight = formant(700.0, 250.0)
                    + 0.6 * formant(1200.0, 300.0)
                    + 0.3 * formant(2600.0, 500.0)
                    + 0.05;
                v += weight * (tau * f0 * h as f32 * t).sin() / h as f32;
            }
        }
        key[i] = 0.25 * syllable * v;
        // Bed: leaky-integrated noise (tilted down) plus a low chord.
        pink_l = 0.97 * pink_l + 0.03 * noise();
        pink_r = 0.97 * pink_r + 0.03 * noise();
        let chord = (tau * 110.0 * t).sin()
            + 0.7 * (tau * 164.8 * t).sin()
            + 0.5 * (tau * 220.0 * t).sin()
            + 0.3 * (tau * 659.3 * t).sin();
        left[i] = 0.04 * chord + 0.4 * pink_l + 0.01 * noise();
        right[i] = 0.04 * chord + 0.4 * pink_r + 0.01 * noise();
    }
    (
        Audio {
            sample_rate: sr,
            channels: vec![key],
        },
        Audio {
            sample_rate: sr,
            channels: vec![left, right],
        },
    )
}

/// Opens the Underscore editor standalone, fed live by the engine (README picture), or
/// benchmarks its frame time headless.
#[derive(Debug, Parser)]
#[command(name = "editor_shot")]
struct Args {
    /// Dialogue stem (FLAC or WAV); with --bed.
    #[arg(long, value_name = "FILE", requires = "bed", conflicts_with = "scene")]
    dialogue: Option<PathBuf>,
    /// Bed stem (FLAC or WAV); with --dialogue.
    #[arg(long, value_name = "FILE", requires = "dialogue")]
    bed: Option<PathBuf>,
    /// Scene folder holding dialogue.flac and music.flac [default:
    /// ../shared/material/s1_drama_orchestral, else generated signals].
    #[arg(long, value_name = "DIR")]
    scene: Option<PathBuf>,
    /// A preset loaded before the window opens (as the preset bar loads it).
    #[arg(long, value_name = "NAME")]
    preset: Option<String>,
    /// The Mode parameter (after the preset), by its id.
    #[arg(long, value_name = "broadband|spectral", default_value = "spectral")]
    mode: String,
    /// Seconds to skip into the material (to catch a phrase in progress at `ready`).
    #[arg(long, value_name = "S", default_value_t = 0.0, value_parser = seconds)]
    start: f64,
    /// Seconds of playing before `ready`.
    #[arg(long, value_name = "S", default_value_t = 9.0, value_parser = seconds)]
    seconds: f64,
    /// Seconds to keep playing after `ready`.
    #[arg(long, value_name = "S", default_value_t = 60.0, value_parser = seconds)]
    linger: f64,
    /// Window size in points, WxH, as a saved session would open it.
    #[arg(long, value_name = "WxH", value_parser = size_pt)]
    size: Option<(u32, u32)>,
    /// Window scale, percent.
    #[arg(long, value_name = "PCT")]
    scale: Option<u32>,
    /// Run alone: without it, a scene's ambience.flac plays through a second engine linked
    /// with this one (Link group 1: this bed the Music, the ambience the Ambience), as two
    /// linked plugin instances in one host would, and the editor shows the group.
    #[arg(long)]
    unlinked: bool,
    /// Timed frames of a headless benchmark (no window).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    bench: Option<u64>,
}

fn seconds(v: &str) -> Result<f64, String> {
    v.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .ok_or_else(|| format!("bad number of seconds: {v}"))
}

fn size_pt(v: &str) -> Result<(u32, u32), String> {
    v.split_once('x')
        .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
        .ok_or_else(|| format!("bad size {v} (WxH in points)"))
}

impl Args {
    /// The window as a restored session would open it.
    fn layout(&self) -> WindowLayout {
        let mut layout = WindowLayout::default();
        if let Some((w, h)) = self.size {
            (layout.width_pt, layout.height_pt) = (w, h);
        }
        if let Some(scale) = self.scale {
            layout.scale_pct = scale;
        }
        layout
    }
}

/// The key and the bed to play: named files, a scene folder, or the generated fallback.
/// The scene's ambience (ambience.flac beside music.flac), to link with, unless `--unlinked`.
fn ambience(args: &Args) -> Option<Audio> {
    if args.unlinked || args.dialogue.is_some() {
        return None;
    }
    let scene = args.scene.clone().unwrap_or_else(|| DEFAULT_SCENE.into());
    read_audio(&scene.join("ambience.flac")).ok()
}

fn material(args: &Args) -> Result<(Audio, Audio), String> {
    if let (Some(d), Some(b)) = (&args.dialogue, &args.bed) {
        return Ok((read_audio(d)?, read_audio(b)?));
    }
    let scene = args.scene.clone().unwrap_or_else(|| DEFAULT_SCENE.into());
    let (d, m) = (scene.join("dialogue.flac"), scene.join("music.flac"));
    if d.is_file() && m.is_file() {
        eprintln!("editor_shot: scene {}", scene.display());
        return Ok((read_audio(&d)?, read_audio(&m)?));
    }
    if args.scene.is_some() {
        return Err(format!(
            "{}: needs dialogue.flac and music.flac",
            scene.display()
        ));
    }
    eprintln!(
        "editor_shot: {} not found, using generated signals",
        scene.display()
    );
    Ok(generated())
}

/// A GUI context with no host behind it: parameter changes go straight to the parameters.
struct NoHost {
    params: Arc<UnderscoreParams>,
}

impl GuiContextInner for NoHost {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    unsafe fn raw_begin_set_parameter(&self, _param: ParamPtr) {}
    unsafe fn raw_set_parameter_normalized(&self, param: ParamPtr, normalized: f32) {
        // SAFETY: `param` points into `self.params`, which this context keeps alive.
        unsafe { param._internal_set_normalized_value(normalized) };
    }
    unsafe fn raw_end_set_parameter(&self, _param: ParamPtr) {}
    /// The editor never asks for the state (no preset handling yet); answer with the current
    /// parameter values anyway rather than panic.
    fn get_state(&self) -> nice_plug::plugin::PluginState {
        let params = self
            .params
            .param_map()
            .into_iter()
            .map(|(id, ptr, _)| {
                // SAFETY: as above.
                let v = unsafe { ptr.modulated_plain_value() };
                (id, nice_plug::plugin::ParamValue::F32(v))
            })
            .collect();
        nice_plug::plugin::PluginState {
            version: String::new(),
            params,
            fields: Default::default(),
        }
    }
    fn set_state(&self, _state: nice_plug::plugin::PluginState) {}
    fn request_restart(&self) {}
}

/// Plays `key` against `bed` in a loop through the engine, publishing through the plugin's
/// own [`EditorFeed`].
struct Player {
    key: Audio,
    bed: Audio,
    frames: usize,
    pos: usize,
    engine: Engine,
    bed_block: Vec<Vec<f32>>,
    key_block: Vec<Vec<f32>>,
    params: Arc<UnderscoreParams>,
    feed: EditorFeed,
    /// A second, linked instance's engine and its bed (the scene's ambience).
    partner: Option<(Engine, Audio, Vec<Vec<f32>>)>,
}

/// Name the partner shows in the editor's link strip (a host would give its track name).
const PARTNER_NAME: &str = "Night ambience";
/// This instance's track name in the picture.
const OWN_NAME: &str = "Score";

impl Player {
    fn new(
        start_at: f64,
        key: Audio,
        bed: Audio,
        params: Arc<UnderscoreParams>,
        feed: EditorFeed,
    ) -> Self {
        let sr = bed.sample_rate as f32;
        let frames = bed.frames().min(key.frames());
        feed.analysis.set_track_name(OWN_NAME);
        Self {
            partner: None,
            engine: Engine::new(sr, bed.channels.len()),
            bed_block: vec![vec![0.0f32; BLOCK]; bed.channels.len()],
            key_block: vec![vec![0.0f32; BLOCK]; key.channels.len()],
            pos: (start_at * sr as f64) as usize % frames,
            frames,
            key,
            bed,
            params,
            feed,
        }
    }

    /// Links `ambience` through a second engine: Spectral, Role Ambience, in Link group 1.
    fn link_ambience(&mut self, ambience: Audio) {
        let sr = self.bed.sample_rate as f32;
        let mut engine = Engine::new(sr, ambience.channels.len());
        engine.set_params(&EngineParams {
            role: Role::Ambience,
            mode: Mode::Spectral,
            ..self.params.engine_params()
        });
        engine.set_link(underscore_dsp::link::registry()[0].join(sr));
        if let Some(m) = engine.link() {
            let (len, words) = underscore_dsp::link::encode_name(PARTNER_NAME);
            m.set_name(len, &words);
        }
        let block = vec![vec![0.0f32; BLOCK]; ambience.channels.len()];
        self.partner = Some((engine, ambience, block));
    }

    fn sample_rate(&self) -> f64 {
        self.bed.sample_rate as f64
    }

    /// One block of `BLOCK` samples, as the plugin's `process()` runs it; `show` as its
    /// "editor open" condition.
    fn block(&mut self, show: bool) {
        let frames = self.frames;
        for (dst, src) in self.bed_block.iter_mut().zip(&self.bed.channels) {
            for (i, d) in dst.iter_mut().enumerate() {
                *d = src[(self.pos + i) % frames];
            }
        }
        for (dst, src) in self.key_block.iter_mut().zip(&self.key.channels) {
            for (i, d) in dst.iter_mut().enumerate() {
                *d = src[(self.pos + i) % frames];
            }
        }
        if let Some((engine, amb, block)) = &mut self.partner {
            let n = amb.frames();
            for (dst, src) in block.iter_mut().zip(&amb.channels) {
                for (i, d) in dst.iter_mut().enumerate() {
                    *d = src[(self.pos + i) % frames % n];
                }
            }
            let mut bed: Vec<&mut [f32]> = block.iter_mut().map(|c| &mut c[..]).collect();
            engine.process_block(&mut bed, &self.key_block);
        }
        self.pos = (self.pos + BLOCK) % frames;
        let params = self.params.engine_params();
        self.engine.set_params(&params);
        self.feed
            .follow_link(&mut self.engine, params.link_group.group());
        let mut bed: Vec<&mut [f32]> = self.bed_block.iter_mut().map(|c| &mut c[..]).collect();
        self.feed
            .process(&mut self.engine, &mut bed, &self.key_block, show);
    }
}

/// Plays in real time while the window is open; reports the window's frame times at `ready`.
fn play(mut player: Player, window: Arc<WindowState>, ready_after: f64, linger: f64) {
    let sr = player.sample_rate();
    let start = Instant::now();
    let mut played = 0u64;
    let mut ready = false;
    loop {
        let show = player.feed.showing(&window);
        player.block(show);
        played += BLOCK as u64;
        let due = Duration::from_secs_f64(played as f64 / sr);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        let elapsed = start.elapsed().as_secs_f64();
        if !ready && elapsed >= ready_after {
            ready = true;
            report_window_frames(&window);
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "ready");
            let _ = out.flush();
        }
        if elapsed >= ready_after + linger {
            std::process::exit(0);
        }
    }
}

/// The open window's last ~4 s of frames: the real redraw interval and the UI build time.
fn report_window_frames(window: &WindowState) {
    let layout = window.layout();
    match window.frames.stats() {
        Some((interval, build)) => eprintln!(
            "editor_shot: window {}x{} pt at {} %: frame interval mean {:.2} ms, p95 {:.2} ms \
             ({:.1} fps); UI build mean {:.2} ms, p95 {:.2} ms ({} frames)",
            layout.width_pt,
            layout.height_pt,
            layout.scale_pct,
            interval.mean_ms,
            interval.p95_ms,
            interval.mean_fps(),
            build.mean_ms,
            build.p95_ms,
            interval.frames,
        ),
        None => eprintln!("editor_shot: the window has drawn no frames"),
    }
}

/// Simulated GUI frame rate of the benchmark, frames per second.
const BENCH_FPS: f64 = 60.0;

/// Headless benchmark: the whole editor UI through `egui::Context::run_ui` and tessellation,
/// fed by the engine in simulated real time (one GUI frame per 1/60 s of audio).
fn bench(mut player: Player, params: Arc<UnderscoreParams>, timed_frames: usize) {
    let analysis = player.feed.analysis.clone();
    let meters_shared = player.feed.meters.clone();
    let gui = GuiContext::new(Arc::new(NoHost {
        params: params.clone(),
    }));
    let setter = gui.param_setter();
    let samples_per_frame = player.sample_rate() / BENCH_FPS;
    let warm_up_frames = (10.0 * BENCH_FPS) as usize;
    println!(
        "editor_shot --bench: {timed_frames} frames per size after {warm_up_frames} warm-up \
         frames (history full), headless egui layout + tessellation"
    );
    println!("| size (pt) | mean ms | p95 ms | max ms | fps at mean | vertices |");
    println!("|---|---|---|---|---|---|");
    let sizes = [
        (MIN_WIDTH_PT, MIN_HEIGHT_PT),
        (DEFAULT_WIDTH_PT, DEFAULT_HEIGHT_PT),
        (1920, 1080),
    ];
    let mut worst_p95_ms = 0.0f64;
    for (width_pt, height_pt) in sizes {
        let window = Arc::new(WindowState::default());
        let mut app = UnderscoreEditor::new(
            params.clone(),
            analysis.clone(),
            meters_shared.clone(),
            window,
        );
        let ctx = egui::Context::default();
        ctx.set_theme(egui::Theme::Light);
        let screen = egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(width_pt as f32, height_pt as f32),
        );
        let mut played = 0.0f64;
        let mut times_ms = Vec::with_capacity(timed_frames);
        let mut vertices = 0;
        for frame in 0..warm_up_frames + timed_frames {
            let t = frame as f64 / BENCH_FPS;
            while played < (frame as f64 + 1.0) * samples_per_frame {
                player.block(true);
                played += BLOCK as f64;
            }
            app.set_frame_time(t);
            let input = egui::RawInput {
                screen_rect: Some(screen),
                time: Some(t),
                ..Default::default()
            };
            let started = Instant::now();
            let mut output = ctx.run_ui(input, |ui| app.draw(ui, &setter));
            let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
            output.textures_delta.clear();
            let elapsed = started.elapsed();
            vertices = primitives
                .iter()
                .map(|p| match &p.primitive {
                    egui::epaint::Primitive::Mesh(m) => m.vertices.len(),
                    _ => 0,
                })
                .sum();
            if frame >= warm_up_frames {
                times_ms.push(elapsed.as_secs_f64() * 1000.0);
            }
        }
        let s = FrameStats::of_ms(&times_ms).expect("at least one frame");
        worst_p95_ms = worst_p95_ms.max(s.p95_ms);
        println!(
            "| {width_pt} x {height_pt} | {:.2} | {:.2} | {:.2} | {:.0} | {vertices} |",
            s.mean_ms,
            s.p95_ms,
            s.max_ms,
            s.mean_fps()
        );
    }
    // The editor must redraw at 30 fps or more: its UI work has to fit in 1/30 s.
    let budget_ms = 1000.0 / 30.0;
    if worst_p95_ms > budget_ms {
        eprintln!(
            "editor_shot --bench: p95 frame time {worst_p95_ms:.2} ms exceeds {budget_ms:.1} ms \
             (30 fps)"
        );
        std::process::exit(1);
    }
}

fn main() {
    let args = Args::parse();
    let (key, bed) = material(&args).unwrap_or_else(|e| {
        eprintln!("editor_shot: {e}");
        std::process::exit(1);
    });
    if key.sample_rate != bed.sample_rate || key.frames() == 0 || bed.frames() == 0 {
        eprintln!("editor_shot: dialogue and bed must be non-empty at the same sample rate");
        std::process::exit(1);
    }

    let params = Arc::new(UnderscoreParams::default());
    let host = NoHost {
        params: params.clone(),
    };
    let setter = ParamSetter::new(&host);
    if let Some(name) = &args.preset {
        let preset = underscore_preset::find(name).unwrap_or_else(|e| {
            eprintln!("editor_shot: {e}");
            std::process::exit(1);
        });
        underscore::presets::apply(&params, &setter, &preset.params);
        if let Ok(mut current) = params.preset_name.write() {
            current.clone_from(&preset.name);
        }
    }
    // Through the host parameter, so the editor's Mode switch and the engine agree.
    let Some(index) = Mode::IDS.iter().position(|id| *id == args.mode) else {
        eprintln!(
            "editor_shot: --mode {} is not one of {}",
            args.mode,
            Mode::IDS.join(", ")
        );
        std::process::exit(2);
    };
    let mode = Mode::from_index(index);
    setter.begin_set_parameter(&params.mode);
    setter.set_parameter(&params.mode, HostChoice(mode));
    setter.end_set_parameter(&params.mode);
    assert_eq!(params.engine_params().mode, mode, "Mode parameter not set");
    let feed = EditorFeed::new(
        Arc::new(SharedAnalysis::default()),
        Arc::new(SharedMeters::default()),
    );
    let (analysis, meters_shared) = (feed.analysis.clone(), feed.meters.clone());
    let mut player = Player::new(args.start, key, bed, params.clone(), feed);
    underscore_dsp::link::registry();
    if let Some(amb) = ambience(&args).filter(|a| a.sample_rate == player.bed.sample_rate) {
        // Link group 1 for this instance too (the editor's Link menu shows it).
        setter.begin_set_parameter(&params.link_group);
        setter.set_parameter(&params.link_group, HostChoice(LinkGroupId::G1));
        setter.end_set_parameter(&params.link_group);
        player.link_ambience(amb);
    }
    if let Some(frames) = args.bench {
        bench(player, params, frames as usize);
        return;
    }
    // As a restored session would: the window opens at this size and scale.
    params.editor_window.set_layout(args.layout());
    let window = params.editor_window.clone();
    let Some(editor) =
        underscore::editor::create(params.clone(), analysis.clone(), meters_shared.clone())
    else {
        eprintln!("editor_shot: the editor could not be created");
        std::process::exit(1);
    };

    {
        let (seconds, linger) = (args.seconds, args.linger);
        std::thread::spawn(move || play(player, window, seconds, linger));
    }

    let context = GuiContext::new(Arc::new(NoHost { params }));
    let spawned = match editor.spawn(None, false, Some(1.0), context, None) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("editor_shot: the editor window could not be opened: {e}");
            std::process::exit(1);
        }
    };
    let _handle = spawned.handle;
    if let Err(e) = underscore::editor::PluginEditorHandle::run_until_closed(spawned.window) {
        eprintln!("editor_shot: {e:?}");
        std::process::exit(1);
    }
}
