//! The whole editor run headless (egui without a window), fed as the plugin feeds it: the
//! sidechain check end to end through the engine and [`EditorFeed`], greyed-out settings,
//! choice widgets, number formats and the latency line, read back from what was drawn.

use std::sync::Arc;

use egui::{Event, Modifiers, PointerButton, Pos2, RawInput, Rect, Shape, pos2, vec2};
use nice_plug::prelude::*;
use underscore_dsp::Engine;
use underscore_dsp::settings::{Kind, LinkGroupId, Mode, SETTINGS, StereoMode, Unit};

use super::key_status::{KeyStatus, NO_KEY_AFTER_S};
use super::window::WindowState;
use super::{BANNER_TITLE, RowRecord, UnderscoreEditor};
use crate::meters::Setup;
use crate::params::HostChoice;
use crate::test_host::{RecordingHost, Seen};
use crate::{EditorFeed, SharedAnalysis, SharedMeters, UnderscoreParams};

const SR: f32 = 48_000.0;
const BLOCK: usize = 512;
const FPS: f64 = 60.0;
/// The default window size, points.
const SIZE: egui::Vec2 = vec2(900.0, 560.0);

/// A text drawn in a frame and where.
#[derive(Debug, Clone)]
struct Drawn {
    text: String,
    rect: Rect,
}

fn collect_texts(shape: &Shape, out: &mut Vec<Drawn>) {
    match shape {
        Shape::Text(t) => out.push(Drawn {
            text: t.galley.text().to_owned(),
            rect: t.galley.rect.translate(t.pos.to_vec2()),
        }),
        Shape::Vec(shapes) => shapes.iter().for_each(|s| collect_texts(s, out)),
        _ => {}
    }
}

/// The editor with its shared state, a recording host and an egui context.
struct Rig {
    params: Arc<UnderscoreParams>,
    analysis: Arc<SharedAnalysis>,
    meters: Arc<SharedMeters>,
    app: UnderscoreEditor,
    ctx: egui::Context,
    host: RecordingHost,
    frame: u64,
    /// Window size, points.
    size: egui::Vec2,
    /// Texts of the last frame.
    texts: Vec<Drawn>,
}

impl Rig {
    fn new(params: Arc<UnderscoreParams>) -> Self {
        let analysis = Arc::new(SharedAnalysis::default());
        let meters = Arc::new(SharedMeters::default());
        let app = UnderscoreEditor::new(
            params.clone(),
            analysis.clone(),
            meters.clone(),
            Arc::new(WindowState::default()),
        );
        let ctx = egui::Context::default();
        ctx.set_theme(egui::Theme::Light);
        Self {
            params,
            analysis,
            meters,
            app,
            ctx,
            host: RecordingHost::default(),
            frame: 0,
            size: SIZE,
            texts: Vec::new(),
        }
    }

    /// A rig at the default parameters whose plugin has published a stereo bed at `SR` (4 800
    /// samples of latency), drawn twice so that the rows reflect the setup.
    fn stereo_bed() -> Self {
        let mut rig = Self::new(Arc::new(UnderscoreParams::default()));
        rig.meters.publish_setup(&Setup {
            bed_channels: 2,
            sample_rate_hz: SR,
            latency_samples: 4_800,
        });
        rig.draw(vec![]);
        rig.draw(vec![]);
        rig
    }

    /// A feed publishing to this editor, as the plugin's `process()` does.
    fn feed(&self) -> EditorFeed {
        EditorFeed::new(self.analysis.clone(), self.meters.clone())
    }

    /// Draws one frame at the next 1/60 s with `events`.
    fn draw(&mut self, events: Vec<Event>) {
        let t = self.frame as f64 / FPS;
        self.frame += 1;
        self.app.set_frame_time(t);
        let input = RawInput {
            screen_rect: Some(Rect::from_min_size(Pos2::ZERO, self.size)),
            time: Some(t),
            events,
            ..Default::default()
        };
        let setter = ParamSetter::new(&self.host);
        let app = &mut self.app;
        let mut output = self.ctx.run_ui(input, |ui| app.draw(ui, &setter));
        output.textures_delta.clear();
        self.texts.clear();
        for clipped in &output.shapes {
            collect_texts(&clipped.shape, &mut self.texts);
        }
    }

    /// A click (press, release) at `at`, over three frames.
    fn click(&mut self, at: Pos2) {
        let button = |pressed| Event::PointerButton {
            pos: at,
            button: PointerButton::Primary,
            pressed,
            modifiers: Modifiers::NONE,
        };
        self.draw(vec![Event::PointerMoved(at)]);
        self.draw(vec![button(true)]);
        self.draw(vec![button(false)]);
    }

    /// Whether a drawn text contains `part`.
    fn shows(&self, part: &str) -> bool {
        self.texts.iter().any(|d| d.text.contains(part))
    }

    /// Where the text `text` (exactly) was drawn inside `within`.
    fn text_at(&self, text: &str, within: Rect) -> Option<Rect> {
        self.texts
            .iter()
            .find(|d| d.text == text && within.contains(d.rect.center()))
            .map(|d| d.rect)
    }

    fn row(&self, id: &str) -> RowRecord {
        *self
            .app
            .param_rows
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("no row {id}"))
    }

    fn status(&self) -> KeyStatus {
        self.app.key_check.status().clone()
    }

    fn set<P: Param>(&self, param: &P, value: P::Plain) {
        let setter = ParamSetter::new(&self.host);
        setter.begin_set_parameter(param);
        setter.set_parameter(param, value);
        setter.end_set_parameter(param);
    }
}

/// A stereo bed of noise around -20 dBFS, `frames` long, from `seed`.
fn noise(frames: usize, seed: &mut u32) -> Vec<Vec<f32>> {
    (0..2)
        .map(|_| {
            (0..frames)
                .map(|_| {
                    *seed ^= *seed << 13;
                    *seed ^= *seed >> 17;
                    *seed ^= *seed << 5;
                    0.1 * (*seed as f32 / u32::MAX as f32 * 2.0 - 1.0)
                })
                .collect()
        })
        .collect()
}

/// A 1 kHz tone at -20 dBFS on both key channels, starting at sample `start`.
fn tone(frames: usize, start: usize) -> Vec<Vec<f32>> {
    let ch: Vec<f32> = (0..frames)
        .map(|i| 0.1 * (std::f32::consts::TAU * 1000.0 * (start + i) as f32 / SR).sin())
        .collect();
    vec![ch.clone(), ch]
}

/// Plays blocks through `engine` and `feed` (the editor showing) up to `until_samples`.
struct Player {
    engine: Engine,
    feed: EditorFeed,
    played: usize,
    seed: u32,
}

impl Player {
    fn new(feed: EditorFeed, params: &UnderscoreParams) -> Self {
        let mut engine = Engine::new(SR, 2);
        engine.set_params(&params.engine_params());
        Self {
            engine,
            feed,
            played: 0,
            seed: 0x1234_5678,
        }
    }

    /// Processes blocks up to `until` samples, the bed `bed_on` (else digital silence) and
    /// the key a tone when `key_on` (else silence).
    fn play_until(&mut self, until: usize, params: &UnderscoreParams, bed_on: bool, key_on: bool) {
        while self.played + BLOCK <= until {
            let mut bed = if bed_on {
                noise(BLOCK, &mut self.seed)
            } else {
                vec![vec![0.0; BLOCK]; 2]
            };
            let key = if key_on {
                tone(BLOCK, self.played)
            } else {
                vec![vec![0.0; BLOCK]; 2]
            };
            let p = params.engine_params();
            self.engine.set_params(&p);
            self.feed
                .follow_link(&mut self.engine, p.link_group.group());
            let mut slices: Vec<&mut [f32]> = bed.iter_mut().map(|c| &mut c[..]).collect();
            self.feed.process(&mut self.engine, &mut slices, &key, true);
            self.played += BLOCK;
        }
    }

    fn played_s(&self) -> f32 {
        self.played as f32 / SR
    }
}

/// The banner appears once the bed has played NO_KEY_AFTER_S over a silent sidechain, not
/// before; a silent bed never raises it; it goes as soon as the key carries signal. Through
/// the real engine and feed, the editor drawing at 60 frames per second of audio.
#[test]
fn no_dialogue_banner_after_two_seconds_of_bed_without_a_key() {
    let mut rig = Rig::new(Arc::new(UnderscoreParams::default()));
    let params = rig.params.clone();
    let mut player = Player::new(rig.feed(), &params);
    let per_frame = (SR as f64 / FPS) as usize;
    let mut audio = 0usize;
    let mut frame = |rig: &mut Rig, player: &mut Player, bed: bool, key: bool| {
        audio += per_frame;
        player.play_until(audio, &params, bed, key);
        rig.draw(vec![]);
    };

    // 3 s of a silent bed and a silent key (transport running, nothing playing): nothing to
    // judge, no banner.
    for _ in 0..180 {
        frame(&mut rig, &mut player, false, false);
        assert!(!rig.status().is_missing());
    }
    assert_eq!(rig.status(), KeyStatus::BedSilent);
    assert!(!rig.shows(BANNER_TITLE));
    assert!(rig.shows("Sidechain:"));

    // The bed plays over the silent key: a pause first, the banner from NO_KEY_AFTER_S on.
    let bed_from_s = player.played_s();
    let mut banner_at_s = None;
    for _ in 0..240 {
        frame(&mut rig, &mut player, true, false);
        let bed_s = player.played_s() - bed_from_s;
        let missing = rig.status().is_missing();
        assert_eq!(rig.shows(BANNER_TITLE), missing, "banner drawn iff missing");
        if missing && banner_at_s.is_none() {
            banner_at_s = Some(bed_s);
        }
        if !missing {
            assert!(
                matches!(rig.status(), KeyStatus::Pause { .. }),
                "{:?}",
                rig.status()
            );
        }
    }
    let banner_at_s = banner_at_s.expect("the banner never appeared in 4 s");
    // Not before NO_KEY_AFTER_S of bed; at most one frame and one block after.
    let late_s = BLOCK as f32 / SR + 1.0 / FPS as f32;
    println!("banner after {banner_at_s:.3} s of bed over a silent key");
    assert!(
        banner_at_s >= NO_KEY_AFTER_S && banner_at_s <= NO_KEY_AFTER_S + late_s,
        "{banner_at_s}"
    );
    assert!(rig.shows("Route the dialogue track"));
    assert!(rig.shows("no dialogue for 4 s"), "status line");

    // The dialogue comes: the banner goes in the next frame.
    frame(&mut rig, &mut player, true, true);
    assert_eq!(rig.status(), KeyStatus::Present);
    assert!(!rig.shows(BANNER_TITLE));
    assert!(rig.shows("dialogue"));

    // The latency line shows what the engine reports to the host, in samples and ms.
    let latency = player.engine.latency_samples();
    assert!(latency > 0);
    let text = format!(
        "Latency {latency} samples ({:.1} ms)",
        latency as f32 * 1000.0 / SR
    );
    assert!(rig.shows(&text), "{text} not drawn");
    assert!(rig.shows("Bed stereo"));
}

/// A linked member without a key follows the group's dialogue: the editor names whom it
/// follows and never shows the banner, however long its own sidechain stays silent.
#[test]
fn a_linked_member_without_a_key_shows_whom_it_follows() {
    // Link group 8 of this test process' registry (no other test uses it).
    underscore_dsp::link::registry();
    let keyed_params = Arc::new(UnderscoreParams::default());
    let mut rig = Rig::new(Arc::new(UnderscoreParams::default()));
    let follower_params = rig.params.clone();
    for p in [&keyed_params, &follower_params] {
        rig.set(&p.link_group, HostChoice(LinkGroupId::G8));
    }
    let keyed_feed = EditorFeed::new(
        Arc::new(SharedAnalysis::default()),
        Arc::new(SharedMeters::default()),
    );
    keyed_feed.analysis.set_track_name("Dialogue bus");
    let mut keyed = Player::new(keyed_feed, &keyed_params);
    let mut follower = Player::new(rig.feed(), &follower_params);
    let per_frame = (SR as f64 / FPS) as usize;
    let mut audio = 0;
    for _ in 0..(3.0 * FPS) as usize {
        audio += per_frame;
        keyed.play_until(audio, &keyed_params, true, true);
        follower.play_until(audio, &follower_params, true, false);
        rig.draw(vec![]);
        assert!(!rig.shows(BANNER_TITLE));
    }
    assert_eq!(
        rig.status(),
        KeyStatus::Following {
            member: "Dialogue bus".to_owned(),
            group: 7
        }
    );
    assert!(rig.shows("following \"Dialogue bus\" (Link 8)"));
    // Its own sidechain has been silent for the whole 3 s of bed.
    let r = rig.meters.take();
    assert!(r.key_silent_s >= 2.9, "{}", r.key_silent_s);

    // The keyed member leaves the group: nobody to follow, and the banner names the group.
    let mut keyed_engine = keyed.engine;
    keyed.feed.leave_link(&mut keyed_engine);
    for _ in 0..30 {
        audio += per_frame;
        follower.play_until(audio, &follower_params, true, false);
        rig.draw(vec![]);
    }
    assert!(rig.status().is_missing(), "{:?}", rig.status());
    assert!(rig.shows("No member of Link group 8 hears a dialogue"));
}

/// On a stereo bed in Broadband mode the 5.1 shares, Side (Stereo Mode Linked) and the
/// Spectral settings are greyed out: drawn, disabled, with the reason; a click on them changes
/// nothing and sends the host nothing. Switching Mode and Stereo Mode enables them.
#[test]
fn settings_that_do_nothing_here_are_greyed_out() {
    let mut rig = Rig::stereo_bed();
    let disabled: Vec<&str> = rig
        .app
        .param_rows
        .iter()
        .filter(|r| !r.enabled)
        .map(|r| r.id)
        .collect();
    let mut sorted = disabled.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "centre",
            "clarity",
            "focus_high",
            "focus_low",
            "front",
            "lfe",
            "side",
            "surround"
        ]
    );
    // Still drawn: names and values.
    for text in ["Surround", "LFE", "Clarity", "30 %", "120 Hz", "8 kHz"] {
        assert!(rig.shows(text), "{text} not drawn");
    }
    assert!(rig.shows("Latency 4800 samples (100.0 ms)"));

    // Hovering one says why it is greyed out.
    let r = rig.row("surround");
    rig.draw(vec![Event::PointerMoved(r.rect.center())]);
    for _ in 0..60 {
        rig.draw(vec![]);
    }
    assert!(
        rig.shows("5.1 beds only: this bed is stereo"),
        "no tooltip with the reason"
    );

    // Clicking a greyed-out slider does nothing.
    let surround = rig.params.surround_pct.value();
    let clarity = rig.params.clarity_db.value();
    for id in ["surround", "clarity"] {
        let r = rig.row(id);
        rig.click(pos2(
            r.rect.left() + 0.8 * (r.rect.width() - 72.0),
            r.rect.center().y,
        ));
    }
    assert_eq!(rig.params.surround_pct.value(), surround);
    assert_eq!(rig.params.clarity_db.value(), clarity);
    assert!(
        rig.host.seen.lock().unwrap().is_empty(),
        "{:?}",
        rig.host.seen.lock().unwrap()
    );

    // Spectral mode: the Spectral settings take clicks.
    rig.set(&rig.params.mode, HostChoice(Mode::Spectral));
    rig.draw(vec![]);
    assert!(rig.row("clarity").enabled);
    assert!(!rig.row("surround").enabled);
    let r = rig.row("clarity");
    rig.click(pos2(r.rect.left() + 10.0, r.rect.center().y));
    assert!(
        rig.params.clarity_db.value() < clarity - 5.0,
        "{}",
        rig.params.clarity_db.value()
    );

    // A 5.1 bed: the shares act, Stereo Mode and Side do not; mono: none of the field.
    rig.meters.publish_setup(&Setup {
        bed_channels: 6,
        sample_rate_hz: SR,
        latency_samples: 4_800,
    });
    rig.draw(vec![]);
    assert!(rig.row("surround").enabled && rig.row("lfe").enabled);
    assert!(!rig.row("stereo_mode").enabled && !rig.row("side").enabled);
    rig.meters.publish_setup(&Setup {
        bed_channels: 1,
        sample_rate_hz: SR,
        latency_samples: 4_800,
    });
    rig.draw(vec![]);
    for id in ["stereo_mode", "side", "front", "centre", "surround", "lfe"] {
        assert!(!rig.row(id).enabled, "{id} on a mono bed");
    }
    assert!(rig.shows("Bed mono"));
}

/// Stereo Mode is a two-way toggle: clicking "Mid/Side" sets it in one host gesture and
/// enables Side. Link, nine values, is a menu: open it, pick "2"; Role, greyed out while Link
/// is Off, then takes clicks.
#[test]
fn choices_are_toggles_and_menus() {
    let mut rig = Rig::stereo_bed();
    let row = rig.row("stereo_mode");
    assert!(row.enabled && !rig.row("side").enabled);
    // Both values are drawn in the row, side by side.
    let linked = rig
        .text_at("Linked", row.rect)
        .expect("Linked drawn in the row");
    let mid_side = rig
        .text_at("Mid/Side", row.rect)
        .expect("Mid/Side drawn in the row");
    assert!(linked.right() < mid_side.left());
    rig.click(mid_side.center());
    assert_eq!(rig.params.stereo_mode.value().0, StereoMode::MidSide);
    let seen = rig.host.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[0], Seen::Begin("Stereo Mode".to_owned()));
    assert!(matches!(&seen[1], Seen::Set(name, v) if name == "Stereo Mode" && *v == 1.0));
    assert_eq!(seen[2], Seen::End("Stereo Mode".to_owned()));
    rig.draw(vec![]);
    assert!(rig.row("side").enabled);

    // Link: a menu showing "Off".
    let window = Rect::from_min_size(Pos2::ZERO, SIZE);
    let link_label = rig.text_at("Link", window).expect("Link label");
    let off = rig
        .texts
        .iter()
        .find(|d| {
            d.text == "Off"
                && d.rect.left() > link_label.right()
                && (d.rect.center().y - link_label.center().y).abs() < 4.0
        })
        .map(|d| d.rect)
        .expect("the Link menu shows Off");
    rig.click(off.center());
    rig.draw(vec![]);
    let two = rig
        .texts
        .iter()
        .find(|d| d.text == "2" && d.rect.top() > off.bottom())
        .map(|d| d.rect)
        .expect("the open Link menu lists 2");
    rig.click(two.center());
    assert_eq!(rig.params.link_group.value().0, LinkGroupId::G2);
}

/// Numbers read as a mixer writes them ("120 Hz", "6.5 kHz", "-12.0 dB", "250 ms", "1.5 s")
/// and every text the host shows reads back to the same text, and to a value the CLI reads too.
#[test]
fn numbers_read_as_a_mixer_writes_them_and_round_trip() {
    let cases: [(Unit, f32, &str); 16] = [
        (Unit::Db, -12.0, "-12.0 dB"),
        (Unit::Db, 0.0, "0.0 dB"),
        (Unit::Db, 6.54, "6.5 dB"),
        (Unit::Hz, 120.0, "120 Hz"),
        (Unit::Hz, 50.0, "50 Hz"),
        (Unit::Hz, 57.34, "57.3 Hz"),
        (Unit::Hz, 6_500.0, "6.5 kHz"),
        (Unit::Hz, 8_000.0, "8 kHz"),
        (Unit::Hz, 1_234.5, "1.23 kHz"),
        (Unit::Hz, 12_345.0, "12.3 kHz"),
        (Unit::Ms, 250.0, "250 ms"),
        (Unit::Ms, 800.0, "800 ms"),
        (Unit::Ms, 2.5, "2.5 ms"),
        (Unit::Ms, 1_500.0, "1.5 s"),
        (Unit::Ms, 2_000.0, "2 s"),
        (Unit::Percent, 50.0, "50 %"),
    ];
    for (unit, value, text) in cases {
        assert_eq!(unit.display(value), text, "{unit:?} {value}");
    }
    let params = UnderscoreParams::default();
    assert_eq!(params.focus_low_hz.to_string(), "120 Hz");
    assert_eq!(params.release_ms.to_string(), "500 ms");
    assert_eq!(params.depth_db.to_string(), "-10.0 dB");

    let map = params.param_map();
    for (setting, (id, ptr, _)) in SETTINGS.iter().zip(&map) {
        let Kind::Number { unit, .. } = setting.kind else {
            continue;
        };
        // SAFETY: the pointers come from `params`, alive for the whole test.
        unsafe {
            for step in 0..=200 {
                let n = step as f32 / 200.0;
                let text = ptr.normalized_value_to_string(n, true);
                let back = ptr
                    .string_to_normalized_value(&text)
                    .unwrap_or_else(|| panic!("{id}: {text:?} does not read back"));
                let again = ptr.normalized_value_to_string(back, true);
                assert_eq!(again, text, "{id} at {n}: {text:?} reads back as {again:?}");
                // The CLI reads the same text to the same value.
                let cli = setting.parse(&text).unwrap();
                let host = ptr.preview_plain(back);
                assert!(
                    (cli - host).abs() <= 1e-3 * host.abs().max(1.0),
                    "{id}: {text:?}: CLI {cli}, host {host}"
                );
                assert!(
                    text.ends_with(unit.suffix().trim())
                        || text.ends_with(" s")
                        || text.ends_with(" kHz"),
                    "{id}: {text}"
                );
            }
            // Defaults are round numbers: their text reads back exactly.
            let default = ptr.default_normalized_value();
            let text = ptr.normalized_value_to_string(default, true);
            assert_eq!(
                setting.parse(&text),
                Ok(setting.default_value()),
                "{id}: default {text:?}"
            );
        }
    }
}

/// At the minimum window size the banner fits with every view: the history's time axis
/// ("now") is still inside the window, and every parameter row still shows.
#[test]
fn the_banner_fits_at_the_minimum_size() {
    use super::window::{MIN_HEIGHT_PT, MIN_WIDTH_PT};
    let mut rig = Rig::new(Arc::new(UnderscoreParams::default()));
    rig.size = vec2(MIN_WIDTH_PT as f32, MIN_HEIGHT_PT as f32);
    // The facts of a bed playing over a silent, unrouted sidechain for 3 s.
    let block = crate::meters::BlockMeter {
        duck_db: 0.0,
        key_db: underscore_dsp::units::FLOOR_DB,
        speech: false,
        speech_probability: 0.0,
        input_peak_db: -12.0,
        output_peak_db: -12.0,
        key_peak_db: underscore_dsp::units::FLOOR_DB,
        key_silent_s: 3.0,
        key_channels: 2,
    };
    rig.meters.publish_setup(&Setup {
        bed_channels: 2,
        sample_rate_hz: SR,
        latency_samples: 5_824,
    });
    for _ in 0..3 {
        rig.meters.publish(&block);
        rig.draw(vec![]);
    }
    assert!(rig.status().is_missing());
    // Nothing overlaps in the top bar and the status line (texts on the rows of "Preset:" and
    // "Sidechain:").
    for row in ["Preset:", "Sidechain:"] {
        let y = rig.text_at(row, Rect::EVERYTHING).expect(row).center().y;
        let on_row: Vec<&Drawn> = rig
            .texts
            .iter()
            .filter(|d| (d.rect.center().y - y).abs() < 6.0)
            .collect();
        assert!(on_row.len() >= 3, "{row}: {on_row:?}");
        for (i, a) in on_row.iter().enumerate() {
            assert!(rig.size.x >= a.rect.right(), "{a:?} leaves the window");
            for b in &on_row[i + 1..] {
                assert!(
                    !a.rect.shrink(0.5).intersects(b.rect.shrink(0.5)),
                    "{row}: {a:?} overlaps {b:?}"
                );
            }
        }
    }
    assert!(rig.shows(BANNER_TITLE));
    let window = Rect::from_min_size(Pos2::ZERO, rig.size);
    let now = rig.text_at("now", window).expect("the history's time axis");
    assert!(now.bottom() <= window.bottom(), "{now:?} leaves {window:?}");
    let shown = SETTINGS
        .iter()
        .filter(|s| underscore_dsp::settings::Group::PANELS.contains(&s.group))
        .count();
    assert_eq!(rig.app.param_rows.len(), shown);
    for r in &rig.app.param_rows {
        assert!(window.contains_rect(r.rect) && r.visible == r.rect, "{r:?}");
    }
}
