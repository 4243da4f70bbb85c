//! The editor (GUI), drawn with egui: a top bar (preset, Mode, Bypass, Scale), a status line
//! (what the sidechain carries, the bed layout, the latency reported to the host) with a banner
//! when no dialogue reaches the sidechain ([`key_status`]), the masking overlap view, the
//! gain-reduction history with meters on dB scales, and every parameter (choices as toggles or
//! menus; settings that do nothing on this bed or in this Mode greyed out, [`applies`]). The
//! window is resizable (corner handle or the host's frame) and scalable; both persist with the
//! session ([`window`]).
//!
//! Everything the audio thread hands over comes through atomics ([`SharedAnalysis`],
//! [`SharedMeters`]); the editor never blocks the audio thread. History and ballistics live here,
//! on the GUI thread.

pub mod applies;
pub mod choice;
mod history;
mod host;
pub mod key_status;
pub mod link_view;
mod preset_bar;
mod slider;
mod views;
pub mod window;

#[cfg(test)]
mod headless_tests;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use egui::{Color32, Key, Modifiers, Rect, RichText, Ui, vec2};
use nice_plug::context::gui::GuiContext;
use nice_plug::prelude::*;
use nice_plug_egui::NiceEguiApp;
use nice_plug_egui::baseview::WindowSize;
use nice_plug_egui::resizable_window::ResizableWindow;
use underscore_dsp::settings::{Choice, Group, Mode, SETTINGS, Setting};
use underscore_dsp::spectral::{BandAnalysis, SpeechBandRatio};

use crate::analysis::NO_SLOT;
use crate::meters::{Setup, SharedMeters};
use crate::params::HostChoice;
use crate::{SharedAnalysis, UnderscoreParams};
use history::{Ballistics, History, METER_FLOOR_DB};
pub use host::{PluginEditor, PluginEditorHandle};
use key_status::{KeyCheck, KeyStatus};
use window::{MIN_HEIGHT_PT, MIN_WIDTH_PT, SCALES_PCT, WindowState};

/// Okabe-Ito colours (safe for the common colour-vision deficiencies) and neutral greys.
mod palette {
    use egui::{Color32, Stroke};

    pub const DIALOGUE: Color32 = Color32::from_rgb(0x00, 0x72, 0xB2);
    pub const BED: Color32 = Color32::from_rgb(0xE6, 0x9F, 0x00);
    pub const REDUCTION: Color32 = Color32::from_rgb(0xD5, 0x5E, 0x00);
    pub const SPEECH: Color32 = Color32::from_rgb(0x00, 0x9E, 0x73);
    /// Reddish purple, translucent: where the bed masks the dialogue.
    pub const OVERLAP: Color32 = Color32::from_rgba_premultiplied(0x66, 0x3C, 0x53, 0x80);
    /// Sky blue, translucent: the key level behind the history.
    pub const KEY_FILL: Color32 = Color32::from_rgba_premultiplied(0x2B, 0x5A, 0x75, 0x80);
    pub const FOCUS: Color32 = Color32::from_rgb(0xEC, 0xEC, 0xE6);
    pub const PLOT_BG: Color32 = Color32::from_rgb(0xFA, 0xFA, 0xF7);
    pub const TEXT: Color32 = Color32::from_rgb(0x20, 0x20, 0x20);
    pub const TEXT_DIM: Color32 = Color32::from_rgb(0x60, 0x60, 0x60);
    /// The no-dialogue banner: a pale vermillion ground, a darker vermillion for its title
    /// (7:1 contrast on the ground).
    pub const WARNING_BG: Color32 = Color32::from_rgb(0xFC, 0xE9, 0xDC);
    pub const REDUCTION_TEXT: Color32 = Color32::from_rgb(0x8A, 0x30, 0x00);

    pub fn grid() -> Stroke {
        Stroke::new(1.0, Color32::from_rgb(0xDD, 0xDD, 0xDD))
    }

    pub fn frame() -> Stroke {
        Stroke::new(1.0, Color32::from_rgb(0xA0, 0xA0, 0xA0))
    }
}

/// Builds the editor for the plugin's shared state; its size and scale live in
/// `params.editor_window`.
pub fn create(
    params: Arc<UnderscoreParams>,
    analysis: Arc<SharedAnalysis>,
    meters: Arc<SharedMeters>,
) -> Option<PluginEditor> {
    Some(PluginEditor::new(params, analysis, meters))
}

/// The editor application.
pub struct UnderscoreEditor {
    params: Arc<UnderscoreParams>,
    analysis: Arc<SharedAnalysis>,
    meters: Arc<SharedMeters>,
    /// Size, scale and frame clock of the window (shared with the host side and the state).
    window: Arc<WindowState>,
    gui: Option<GuiContext>,
    /// Start of the previous frame, for the frame clock.
    previous_frame: Option<Instant>,
    /// Simulated frame time for headless runs ([`Self::set_frame_time`]).
    frame_time_override: Option<f64>,
    /// Each parameter row of the last frame, as drawn; checked by the tests.
    param_rows: Vec<RowRecord>,
    /// The sidechain check ([`key_status`]).
    key_check: KeyCheck,
    /// The engine's set-up as last published (bed channels, rate, latency).
    setup: Setup,
    bands: BandAnalysis,
    /// The dialogue-to-bed readout over the last few seconds of speech.
    speech_band_ratio: SpeechBandRatio,
    /// Snapshot count of the latest snapshot added to it.
    analysis_version: u32,
    history: History,
    /// The preset menu, its list and messages.
    preset_bar: preset_bar::PresetBar,
    /// The link strip (group, members, group readout).
    link_view: link_view::LinkView,
    opened: Instant,
    last_frame: f64,
    input: Ballistics,
    output: Ballistics,
    reduction: Ballistics,
}

impl UnderscoreEditor {
    /// The editor application for one window. Public so tools can run it headless
    /// (`editor_shot --bench`).
    pub fn new(
        params: Arc<UnderscoreParams>,
        analysis: Arc<SharedAnalysis>,
        meters: Arc<SharedMeters>,
        window: Arc<WindowState>,
    ) -> Self {
        Self {
            params,
            analysis,
            meters,
            window,
            gui: None,
            previous_frame: None,
            frame_time_override: None,
            param_rows: Vec::with_capacity(32),
            key_check: KeyCheck::default(),
            setup: Setup::default(),
            bands: BandAnalysis::default(),
            speech_band_ratio: SpeechBandRatio::new(Some(RATIO_MEMORY_SNAPSHOTS)),
            analysis_version: 0,
            history: History::default(),
            preset_bar: preset_bar::PresetBar::default(),
            link_view: link_view::LinkView::default(),
            opened: Instant::now(),
            last_frame: 0.0,
            input: Ballistics::new(METER_FLOOR_DB, 20.0),
            output: Ballistics::new(METER_FLOOR_DB, 20.0),
            reduction: Ballistics::new(0.0, 40.0),
        }
    }

    /// Sets the time of the next frame, in seconds since opening, instead of the wall clock:
    /// headless runs (`editor_shot --bench`) simulate 60 frames per second faster than real time.
    pub fn set_frame_time(&mut self, seconds: f64) {
        self.frame_time_override = Some(seconds);
    }

    /// Pulls this frame's data from the audio thread.
    fn update_meters(&mut self) {
        let now = self
            .frame_time_override
            .unwrap_or_else(|| self.opened.elapsed().as_secs_f64());
        let dt = (now - self.last_frame).clamp(0.0, 0.5) as f32;
        self.last_frame = now;
        if self.analysis.read(&mut self.bands) && self.analysis.version() != self.analysis_version {
            self.analysis_version = self.analysis.version();
            self.speech_band_ratio.add(&self.bands);
        }
        let r = self.meters.take();
        self.setup = self.meters.setup();
        let link_group = self.params.link_group.value().0.group();
        let followed = self.analysis.link_followed.load(Ordering::Relaxed);
        let followed = match link_group {
            Some(group) if followed != NO_SLOT => {
                Some((link_view::member_name(group, followed), group))
            }
            _ => None,
        };
        self.key_check.update(now, &r, followed, link_group);
        self.history.push(now, &r);
        if r.blocks > 0 {
            self.input.update(r.input_peak_db.max(METER_FLOOR_DB), dt);
            self.output.update(r.output_peak_db.max(METER_FLOOR_DB), dt);
            self.reduction.update(-r.duck_min_db, dt);
        } else {
            self.input.update(METER_FLOOR_DB, dt);
            self.output.update(METER_FLOOR_DB, dt);
            self.reduction.update(-r.duck_db, dt);
        }
    }

    fn top_bar(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        // Below this width the title and the Scale label give way, and the preset menu
        // narrows, so Mode, Bypass and Scale stay whole down to the minimum width.
        let narrow = ui.available_width() < TOP_BAR_FULL_WIDTH;
        ui.horizontal(|ui| {
            if !narrow {
                ui.label(RichText::new("Underscore").strong().size(16.0));
                ui.separator();
            }
            ui.label("Preset:");
            let preset_width = if narrow { 140.0 } else { 190.0 };
            self.preset_bar.ui(ui, &self.params, setter, preset_width);
            ui.separator();
            ui.label("Mode:");
            let mode = self.params.mode.value().0;
            for (index, (name, tip)) in Mode::NAMES.iter().zip(Mode::HELP).enumerate() {
                let choice = Mode::from_index(index);
                if ui
                    .selectable_label(mode == choice, *name)
                    .on_hover_text(*tip)
                    .clicked()
                    && mode != choice
                {
                    setter.begin_set_parameter(&self.params.mode);
                    setter.set_parameter(&self.params.mode, HostChoice(choice));
                    setter.end_set_parameter(&self.params.mode);
                }
            }
            ui.separator();
            let bypassed = self.params.bypass.value();
            let text = if bypassed {
                RichText::new("Bypassed").color(Color32::WHITE)
            } else {
                RichText::new("Bypass")
            };
            let button = egui::Button::new(text)
                .selected(bypassed)
                .fill(if bypassed {
                    palette::REDUCTION
                } else {
                    ui.visuals().widgets.inactive.weak_bg_fill
                });
            if ui
                .add(button)
                .on_hover_text(underscore_dsp::settings::SPECS.bypass.help)
                .clicked()
            {
                setter.begin_set_parameter(&self.params.bypass);
                setter.set_parameter(&self.params.bypass, !bypassed);
                setter.end_set_parameter(&self.params.bypass);
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                self.scale_choice(ui, !narrow);
            });
        });
    }

    /// The Scale menu (right end of the top bar).
    fn scale_choice(&self, ui: &mut Ui, labelled: bool) {
        let current = self.window.layout().scale_pct;
        let mut chosen = current;
        egui::ComboBox::from_id_salt("scale")
            .selected_text(format!("{current} %"))
            .width(64.0)
            .show_ui(ui, |ui| {
                for pct in SCALES_PCT {
                    ui.selectable_value(&mut chosen, pct, format!("{pct} %"));
                }
            })
            .response
            .on_hover_text(
                "Size of everything in the editor (Ctrl+plus / Ctrl+minus, Ctrl+0 for 100 %). \
                 Drag the bottom-right corner to resize the window. Both are saved with the \
                 session.",
            );
        if labelled {
            ui.label("Scale:");
        }
        if chosen != current {
            self.set_scale_pct(ui.ctx(), chosen);
        }
    }

    /// Applies a scale: egui zooms, nice-plug-egui resizes the window to keep the layout.
    fn set_scale_pct(&self, ctx: &egui::Context, scale_pct: u32) {
        self.window.set_scale(scale_pct as f32 / 100.0);
        ctx.set_zoom_factor(self.window.scale());
    }

    /// Ctrl+plus / Ctrl+minus step through the scales, Ctrl+0 returns to 100 %.
    fn scale_keys(&self, ui: &Ui) {
        let current = self.window.layout().scale_pct;
        let next = ui.input_mut(|i| {
            if i.consume_key(Modifiers::COMMAND, Key::Plus)
                || i.consume_key(Modifiers::COMMAND, Key::Equals)
            {
                Some(window::step_scale_pct(current, 1))
            } else if i.consume_key(Modifiers::COMMAND, Key::Minus) {
                Some(window::step_scale_pct(current, -1))
            } else if i.consume_key(Modifiers::COMMAND, Key::Num0) {
                Some(window::DEFAULT_SCALE_PCT)
            } else {
                None
            }
        });
        if let Some(next) = next.filter(|&n| n != current) {
            self.set_scale_pct(ui.ctx(), next);
        }
    }

    /// Every parameter of the table's editor groups ([`Group::PANELS`]), with its help text. Sliders stretch with the panel; rows tighten on short
    /// windows so all of them stay visible down to the minimum size (a scroll bar appears only
    /// if the host forces the window smaller still).
    fn parameters(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let p = self.params.clone();
        let rows = std::cell::RefCell::new(std::mem::take(&mut self.param_rows));
        rows.borrow_mut().clear();
        // Label column, value button, spacing and the scroll bar's room.
        let slider_width = (ui.available_width() - LABEL_WIDTH - 64.0 - 40.0).max(80.0);
        let compact = ui.available_height() < PARAMS_COMFORTABLE_HEIGHT;
        if compact {
            let spacing = ui.spacing_mut();
            spacing.interact_size.y = 16.0;
            spacing.item_spacing.y = 2.0;
            spacing.button_padding.y = 0.0;
        }
        let row_spacing = if compact { 1.0 } else { 3.0 };
        let engine_params = p.engine_params();
        let bed_channels = self.setup.bed_channels;
        let row = |ui: &mut Ui, setting: &Setting, param: &dyn ParamRow| {
            // Greyed out (disabled, still shown) where it does nothing, with the reason.
            let why = applies::inapplicable(setting, &engine_params, bed_channels);
            let enabled = why.is_none();
            let why = why.unwrap_or_default();
            let label = ui.add_enabled(enabled, egui::Label::new(param.name()));
            if !enabled {
                label.on_disabled_hover_text(&why);
            }
            let response = ui
                .horizontal(|ui| {
                    if !enabled {
                        ui.disable();
                    }
                    param
                        .widget(ui, setter, slider_width)
                        .on_hover_text(setting.help)
                        .on_disabled_hover_text(format!("{why}\n\n{}", setting.help))
                })
                .response;
            let visible = response.rect.intersect(ui.clip_rect());
            rows.borrow_mut().push(RowRecord {
                id: setting.id,
                rect: response.rect,
                visible,
                enabled,
            });
            ui.end_row();
        };
        let group = |ui: &mut Ui, title: &str, add_rows: &dyn Fn(&mut Ui)| {
            ui.add_space(if compact { 0.0 } else { 2.0 });
            ui.label(RichText::new(title).strong());
            egui::Grid::new(title)
                .num_columns(2)
                .min_col_width(LABEL_WIDTH)
                .spacing(vec2(8.0, row_spacing))
                .show(ui, add_rows);
        };
        let hosts = p.host_params();
        egui::ScrollArea::vertical().show(ui, |ui| {
            for panel in Group::PANELS {
                group(ui, panel.title(), &|ui| {
                    for (setting, host) in SETTINGS.iter().zip(hosts) {
                        if setting.group == panel {
                            row(ui, setting, host.row());
                        }
                    }
                });
            }
            // Settings that break a rule between settings (a host can set them; the engine
            // resolves them as the rule documents): say so where the settings are.
            if let Err(problem) = underscore_dsp::settings::validate(&p.engine_params()) {
                ui.label(RichText::new(problem).size(11.0).color(palette::REDUCTION));
            }
            ui.label(
                RichText::new(
                    "Drag, double-click (or Ctrl+click) for default, click the value to type.",
                )
                .size(11.0)
                .color(palette::TEXT_DIM),
            );
        });
        self.param_rows = rows.into_inner();
    }
}

/// Memory of the editor's dialogue-to-bed readout, in analysis snapshots (one per drawn frame,
/// about 60 a second): about 5 s of speech, long enough to read steadily over words and
/// pauses, short enough to follow a change of scene.
const RATIO_MEMORY_SNAPSHOTS: f32 = 300.0;

/// The top bar's width with the title, the Scale label and the wide preset menu, points.
const TOP_BAR_FULL_WIDTH: f32 = 880.0;

/// Width of the parameter names' column, points.
const LABEL_WIDTH: f32 = 84.0;
/// Width of the value button after a slider, points (choices span slider and value).
const VALUE_WIDTH: f32 = 64.0;
/// Below this panel height the parameter rows tighten, points.
const PARAMS_COMFORTABLE_HEIGHT: f32 = 500.0;

/// One parameter row as drawn in the last frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowRecord {
    /// The setting's id.
    pub id: &'static str,
    /// Where the widget (slider and value, or the choices) was drawn.
    pub rect: Rect,
    /// The part of it inside the visible area.
    pub visible: Rect,
    /// Whether it could be used (else greyed out: it does nothing on this bed or Mode).
    pub enabled: bool,
}

/// A parameter as an editor row: a number as a [`slider::ParamBar`] (slider and value), a
/// choice or a switch as [`choice::choice`] (two values: a segmented toggle; more: a menu).
pub trait ParamRow {
    fn name(&self) -> &str;
    /// Draws the widget; `slider_width` is the slider's part of the row (a choice spans the
    /// slider and the value button).
    fn widget(&self, ui: &mut Ui, setter: &ParamSetter, slider_width: f32) -> egui::Response;
}

impl ParamRow for FloatParam {
    fn name(&self) -> &str {
        Param::name(self)
    }

    fn widget(&self, ui: &mut Ui, setter: &ParamSetter, slider_width: f32) -> egui::Response {
        ui.add(slider::ParamBar::new(self, setter, slider_width))
    }
}

/// The width a choice takes in a row: the slider's, the gap and the value button's.
fn choice_width(ui: &Ui, slider_width: f32) -> f32 {
    slider_width + ui.spacing().item_spacing.x + VALUE_WIDTH
}

impl ParamRow for BoolParam {
    fn name(&self) -> &str {
        Param::name(self)
    }

    fn widget(&self, ui: &mut Ui, setter: &ParamSetter, slider_width: f32) -> egui::Response {
        let width = choice_width(ui, slider_width);
        let current = usize::from(self.value());
        let (response, clicked) =
            choice::choice(ui, Param::name(self), &["Off", "On"], &[], current, width);
        if let Some(i) = clicked {
            setter.begin_set_parameter(self);
            setter.set_parameter(self, i == 1);
            setter.end_set_parameter(self);
        }
        response
    }
}

impl<T: Choice> ParamRow for EnumParam<HostChoice<T>> {
    fn name(&self) -> &str {
        Param::name(self)
    }

    fn widget(&self, ui: &mut Ui, setter: &ParamSetter, slider_width: f32) -> egui::Response {
        let width = choice_width(ui, slider_width);
        let current = self.value().0.index();
        let (response, clicked) =
            choice::choice(ui, Param::name(self), T::NAMES, T::HELP, current, width);
        if let Some(i) = clicked {
            setter.begin_set_parameter(self);
            setter.set_parameter(self, HostChoice(T::from_index(i)));
            setter.end_set_parameter(self);
        }
        response
    }
}

impl NiceEguiApp for UnderscoreEditor {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        egui_ctx.set_theme(egui::Theme::Light);
        // Ctrl+plus/minus step through the listed scales instead (see `scale_keys`).
        egui_ctx.options_mut(|o| o.zoom_with_keyboard = false);
        self.gui = Some(nice_gui_ctx);
        self.history.clear();
        self.key_check.clear();
        self.opened = Instant::now();
        self.last_frame = 0.0;
        self.previous_frame = None;
        self.analysis.editor_open.store(true, Ordering::Relaxed);
        Ok(())
    }

    fn ui(&mut self, ui: &mut Ui, _frame: &mut nice_plug_egui::Frame) {
        let Some(gui) = self.gui.clone() else {
            return;
        };
        let started = Instant::now();
        let setter = gui.param_setter();
        self.draw(ui, &setter);
        self.window.frames.record(
            self.previous_frame.map(|p| started.duration_since(p)),
            started.elapsed(),
        );
        self.previous_frame = Some(started);
    }

    /// The window's new size in points (nice-plug-egui reports it already divided by the
    /// scale), kept for the session.
    fn resized(&mut self, new_size: WindowSize) {
        self.window.set_size_pt(
            new_size.logical.width as f32,
            new_size.logical.height as f32,
        );
        self.window
            .set_system_scale(new_size.scale_factor as f32 / self.window.scale());
    }

    fn zoom_factor_changed(&mut self, zoom_factor: f32) {
        self.window.set_scale(zoom_factor);
    }

    fn editor_closed(&mut self) {
        self.gui = None;
        self.analysis.editor_open.store(false, Ordering::Relaxed);
    }
}

impl UnderscoreEditor {
    /// One frame of the whole editor: pulls the audio thread's data and lays out every view in
    /// the space `ui` offers. Headless callers (tests, `editor_shot --bench`) call this inside
    /// `egui::Context::run_ui`.
    pub fn draw(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        // Raised every frame: the audio thread also checks the window state, so a closed window
        // stops the analysis even though no close callback reaches the editor.
        self.analysis.editor_open.store(true, Ordering::Relaxed);
        self.update_meters();
        self.scale_keys(ui);

        let min_size = vec2(MIN_WIDTH_PT as f32, MIN_HEIGHT_PT as f32);
        ResizableWindow::new("underscore-editor")
            .min_size(min_size)
            .max_size(vec2(
                window::MAX_WIDTH_PT as f32,
                window::MAX_HEIGHT_PT as f32,
            ))
            .show(ui, |ui| {
                egui::Panel::top("top_bar").show(ui, |ui| {
                    ui.add_space(4.0);
                    self.top_bar(ui, setter);
                    ui.add_space(2.0);
                });
                // The parameter panel grows a little with the window; the views take the rest.
                let panel_width = (ui.available_width() * 0.36).clamp(300.0, 460.0);
                egui::Panel::right("parameters")
                    .resizable(false)
                    .exact_size(panel_width)
                    .show(ui, |ui| self.parameters(ui, setter));
                egui::CentralPanel::default().show(ui, |ui| self.views(ui, setter));
            });

        // Meters move continuously: about 60 frames per second while open.
        ui.ctx().request_repaint();
    }
}

impl UnderscoreEditor {
    fn views(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let width = ui.available_width();
        let top = ui.available_height();
        self.status_line(ui);
        if self.key_check.status().is_missing() {
            self.no_dialogue_banner(ui);
        }
        // What the status line and banner took, out of the plots' share.
        let used_above = top - ui.available_height();
        let p = &self.params;
        let spectral = p.mode.value().0 == Mode::Spectral;
        ui.horizontal(|ui| {
            ui.label(RichText::new("Masking overlap").strong());
            legend(ui, palette::DIALOGUE, "dialogue");
            legend(ui, palette::BED, "bed");
            legend(ui, palette::OVERLAP, "overlap");
            legend(ui, palette::REDUCTION, "reduction");
        })
        .response
        .on_hover_text(
            "Per band: the dialogue (blue) and the bed (orange). Shaded: where the bed comes \
             within Clarity of the dialogue (dashed) and masks it. Vermillion: the cut applied \
             per band (right-hand scale). Grey: the Focus range.",
        );
        // The overlap view takes a little over half of the plot height, the history the rest
        // (each stretches with the window). Rows of text around them: about 5 x 22 points.
        // At the minimum size with the no-dialogue banner both plots shrink to fit.
        let plots_height = (top - used_above - 112.0).max(140.0);
        views::overlap_view(
            ui,
            vec2(width, (plots_height * 0.55).round()),
            &self.bands,
            &views::OverlapSettings {
                clarity_db: p.clarity_db.value(),
                focus_low_hz: p.focus_low_hz.value(),
                focus_high_hz: p.focus_high_hz.value(),
                spectral,
            },
        );
        let centres = &self.bands.centre_hz[..self.bands.bands];
        let (now, unducked) = (
            self.speech_band_ratio.ratio_db(centres, true),
            self.speech_band_ratio.ratio_db(centres, false),
        );
        let ratio = match (now, unducked) {
            (Some(r), Some(u)) => format!("{r:+.1} dB (unducked {u:+.1} dB)"),
            _ => "n/a".to_owned(),
        };
        ui.horizontal(|ui| {
            ui.label("Dialogue-to-bed, 500 Hz-4 kHz:");
            ui.label(RichText::new(ratio).strong().color(palette::DIALOGUE));
        })
        .response
        .on_hover_text(
            "The quantity Clarity sets: the dialogue's mean level over the bed as heard, per \
             auditory band, over the last few seconds of speech, averaged over the bands that \
             carry speech intelligibility. Positive: the voice sits above the bed.",
        );
        self.link_view
            .show(ui, &self.params, &self.analysis, setter, centres);
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            ui.label(RichText::new("Gain reduction").strong());
            legend(ui, palette::REDUCTION, "duck");
            legend(ui, palette::KEY_FILL, "dialogue level");
            legend(
                ui,
                palette::SPEECH.gamma_multiply(0.35),
                "speech probability",
            );
            legend(ui, palette::SPEECH, "speech detected");
        });
        let meters_width = views::METER_STRIP_WIDTH + ui.spacing().item_spacing.x;
        let height = (ui.available_height() - 4.0).max(60.0);
        ui.horizontal(|ui| {
            let now = self.last_frame;
            views::history_view(
                ui,
                vec2(width - meters_width, height),
                self.history.points(),
                now,
                p.threshold_db.value(),
                underscore_dsp::speech::on_probability(p.sensitivity_pct.value()),
            );
            views::meter_strip(
                ui,
                vec2(views::METER_STRIP_WIDTH, height),
                &self.input,
                &self.output,
                &self.reduction,
            );
        });
    }

    /// One line: what the sidechain carries now, the bed layout and the latency the plugin
    /// reports to the host.
    fn status_line(&self, ui: &mut Ui) {
        let status = self.key_check.status();
        let colour = match status {
            KeyStatus::Present => palette::SPEECH,
            KeyStatus::Following { .. } => palette::DIALOGUE,
            KeyStatus::Missing { .. } => palette::REDUCTION,
            _ => palette::TEXT_DIM,
        };
        ui.horizontal(|ui| {
            let (dot, _) = ui.allocate_exact_size(vec2(10.0, 10.0), egui::Sense::hover());
            ui.painter().circle_filled(dot.center(), 4.5, colour);
            ui.label(RichText::new("Sidechain:").strong());
            ui.label(RichText::new(status.summary()).color(colour))
                .on_hover_text(format!(
                    "What reaches the sidechain input \"{}\". Underscore ducks only while it \
                     hears dialogue there (or, in a link group, on another member's). It says \
                     \"no dialogue\" after {:.0} s of the bed playing over a silent sidechain.",
                    crate::KEY_PORT_NAME,
                    key_status::NO_KEY_AFTER_S
                ));
            let setup = self.setup;
            let (latency, layout) = if setup.known() {
                (
                    format!(
                        "Latency {} samples ({:.1} ms)",
                        setup.latency_samples,
                        setup.latency_ms()
                    ),
                    format!(
                        "Bed {} · {}",
                        applies::layout_name(setup.bed_channels),
                        underscore_dsp::settings::Unit::Hz.display(setup.sample_rate_hz)
                    ),
                )
            } else {
                ("Latency: not active yet".to_owned(), String::new())
            };
            // Right-aligned in the room left; the bed layout gives way first on narrow windows.
            let width_of = |text: &str| {
                let font = egui::TextStyle::Body.resolve(ui.style());
                ui.painter()
                    .layout_no_wrap(text.to_owned(), font, palette::TEXT)
                    .size()
                    .x
            };
            let gap = ui.spacing().item_spacing.x;
            let room = ui.available_width();
            let show_layout =
                !layout.is_empty() && width_of(&latency) + gap + width_of(&layout) + gap < room;
            // Last resort (a long "following ..." at the minimum width): the milliseconds only.
            let latency = if width_of(&latency) + gap < room || !setup.known() {
                latency
            } else {
                format!("{:.1} ms", setup.latency_ms())
            };
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.label(RichText::new(latency).color(palette::TEXT))
                    .on_hover_text(
                        "The delay Underscore reports to the host: Lookahead, plus one FFT \
                         window in Spectral mode. Hosts with delay compensation play every \
                         other track that much later, so the bed stays in sync.",
                    );
                if show_layout {
                    ui.label(RichText::new(layout).color(palette::TEXT_DIM))
                        .on_hover_text(
                            "The bed's channels and sample rate, as the host set them up. \
                             Settings for other layouts are greyed out.",
                        );
                }
            });
        });
    }

    /// The banner shown while no dialogue reaches the sidechain: nothing ducks.
    fn no_dialogue_banner(&self, ui: &mut Ui) {
        let Some(advice) = self.key_check.status().advice() else {
            return;
        };
        egui::Frame::new()
            .fill(palette::WARNING_BG)
            .stroke(egui::Stroke::new(1.0, palette::REDUCTION))
            .corner_radius(3.0)
            .inner_margin(egui::Margin::symmetric(8, 4))
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.label(
                    RichText::new(BANNER_TITLE)
                        .strong()
                        .color(palette::REDUCTION_TEXT),
                );
                ui.label(RichText::new(advice).size(11.5).color(palette::TEXT));
            });
        ui.add_space(2.0);
    }
}

/// The banner's first line.
pub const BANNER_TITLE: &str = "No dialogue on the sidechain: nothing ducks";

fn legend(ui: &mut Ui, colour: Color32, text: &str) {
    let (rect, _) = ui.allocate_exact_size(vec2(12.0, 12.0), egui::Sense::hover());
    ui.painter().rect_filled(rect, 2.0, colour);
    ui.label(RichText::new(text).size(11.0));
}

impl Drop for UnderscoreEditor {
    fn drop(&mut self) {
        self.analysis.editor_open.store(false, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::window::WindowLayout;
    use super::*;
    use egui::{Pos2, RawInput};

    /// Runs the whole editor headless at `width` x `height` points for a few frames (panels
    /// settle in the second) and returns the parameter rows of the last one.
    fn layout_at(width: f32, height: f32) -> Vec<RowRecord> {
        let params = Arc::new(UnderscoreParams::default());
        let mut app = UnderscoreEditor::new(
            params,
            Arc::new(SharedAnalysis::default()),
            Arc::new(SharedMeters::default()),
            Arc::new(WindowState::default()),
        );
        let host = crate::test_host::RecordingHost::default();
        let setter = ParamSetter::new(&host);
        let ctx = egui::Context::default();
        ctx.set_theme(egui::Theme::Light);
        for frame in 0..3 {
            app.set_frame_time(frame as f64 / 60.0);
            let input = RawInput {
                screen_rect: Some(Rect::from_min_size(Pos2::ZERO, vec2(width, height))),
                ..Default::default()
            };
            let mut output = ctx.run_ui(input, |ui| app.draw(ui, &setter));
            output.textures_delta.clear();
        }
        app.param_rows.clone()
    }

    /// At the minimum size, the default size and a large one, every parameter's slider and value
    /// are drawn wholly inside the window and unclipped (no scrolling needed), with a slider
    /// wide enough to drag.
    #[test]
    fn every_parameter_is_inside_the_window_from_minimum_to_large() {
        for (width, height) in [
            (MIN_WIDTH_PT as f32, MIN_HEIGHT_PT as f32),
            (900.0, 560.0),
            (2560.0, 1440.0),
        ] {
            let rows = layout_at(width, height);
            let shown = SETTINGS
                .iter()
                .filter(|s| Group::PANELS.contains(&s.group))
                .count();
            assert_eq!(rows.len(), shown, "{width}x{height}: parameter rows drawn");
            let window = Rect::from_min_size(Pos2::ZERO, vec2(width, height));
            for (i, RowRecord { rect, visible, .. }) in rows.iter().enumerate() {
                assert!(
                    window.contains_rect(*rect),
                    "{width}x{height}: row {i} at {rect:?} leaves the window"
                );
                assert_eq!(
                    visible, rect,
                    "{width}x{height}: row {i} is clipped (scrolled out of view)"
                );
                assert!(
                    rect.width() >= 150.0,
                    "{width}x{height}: row {i} too narrow: {rect:?}"
                );
            }
        }
    }

    /// A session saved with a size and scale restores them through the plugin's state fields,
    /// and the editor then reports that size to the host.
    #[test]
    fn saved_size_and_scale_restore_through_the_plugin_state() {
        let saved = WindowLayout {
            width_pt: 1280,
            height_pt: 800,
            scale_pct: 150,
        };
        let params = UnderscoreParams::default();
        params.editor_window.set_layout(saved);
        let fields = params.serialize_fields();
        assert!(fields.contains_key("editor"), "{fields:?}");

        let restored = Arc::new(UnderscoreParams::default());
        assert_ne!(restored.editor_window.layout(), saved);
        restored.deserialize_fields(&fields);
        assert_eq!(restored.editor_window.layout(), saved);

        let editor = create(
            restored,
            Arc::new(SharedAnalysis::default()),
            Arc::new(SharedMeters::default()),
        )
        .unwrap();
        let size = editor.size();
        assert_eq!((size.width, size.height), (1920, 1200));

        // A session from before the editor was resizable has no "editor" field: defaults.
        let old = UnderscoreParams::default();
        old.deserialize_fields(&Default::default());
        assert_eq!(old.editor_window.layout(), WindowLayout::default());
    }
}
