//! The editor (GUI), drawn with egui: a top bar (preset, Mode, Bypass), the masking overlap
//! view, the gain-reduction history with meters, and every parameter.
//!
//! Everything the audio thread hands over comes through atomics ([`SharedAnalysis`],
//! [`SharedMeters`]); the editor never blocks the audio thread. History and ballistics live here,
//! on the GUI thread.

mod history;
mod slider;
mod views;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use egui::{Color32, RichText, Ui, vec2};
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::*;
use nice_plug_egui::{EguiEditorState, EguiNiceSettings, NiceEguiApp, RepaintNotifier};
use underscore_dsp::spectral::BandAnalysis;

use crate::meters::SharedMeters;
use crate::params::ModeParam;
use crate::{SharedAnalysis, UnderscoreParams};
use history::{Ballistics, History, METER_FLOOR_DB};

/// Logical size the editor opens at.
pub const WIDTH: u32 = 900;
pub const HEIGHT: u32 = 560;

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

    pub fn grid() -> Stroke {
        Stroke::new(1.0, Color32::from_rgb(0xDD, 0xDD, 0xDD))
    }

    pub fn frame() -> Stroke {
        Stroke::new(1.0, Color32::from_rgb(0xA0, 0xA0, 0xA0))
    }
}

/// The editor's initial state: its size (not persisted yet) and whether it is open.
pub fn default_state() -> Arc<EguiEditorState> {
    EguiEditorState::from_size(LogicalSize::new(WIDTH, HEIGHT), 1.0)
}

/// Builds the editor for the plugin's shared state.
pub fn create(
    params: Arc<UnderscoreParams>,
    analysis: Arc<SharedAnalysis>,
    meters: Arc<SharedMeters>,
    state: Arc<EguiEditorState>,
) -> Option<nice_plug_egui::EguiEditor<UnderscoreEditor>> {
    nice_plug_egui::create_egui_editor(
        state,
        RepaintNotifier::new(),
        EguiNiceSettings::new().with_tile("Underscore"),
        UnderscoreEditor::new(params, analysis, meters),
    )
}

/// The editor application.
pub struct UnderscoreEditor {
    params: Arc<UnderscoreParams>,
    analysis: Arc<SharedAnalysis>,
    meters: Arc<SharedMeters>,
    gui: Option<GuiContext>,
    bands: BandAnalysis,
    history: History,
    opened: Instant,
    last_frame: f64,
    input: Ballistics,
    output: Ballistics,
    reduction: Ballistics,
}

impl UnderscoreEditor {
    fn new(
        params: Arc<UnderscoreParams>,
        analysis: Arc<SharedAnalysis>,
        meters: Arc<SharedMeters>,
    ) -> Self {
        Self {
            params,
            analysis,
            meters,
            gui: None,
            bands: BandAnalysis::default(),
            history: History::default(),
            opened: Instant::now(),
            last_frame: 0.0,
            input: Ballistics::new(METER_FLOOR_DB, 20.0),
            output: Ballistics::new(METER_FLOOR_DB, 20.0),
            reduction: Ballistics::new(0.0, 40.0),
        }
    }

    /// Pulls this frame's data from the audio thread.
    fn update_meters(&mut self) {
        let now = self.opened.elapsed().as_secs_f64();
        let dt = (now - self.last_frame).clamp(0.0, 0.5) as f32;
        self.last_frame = now;
        self.analysis.read(&mut self.bands);
        let r = self.meters.take();
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

    fn top_bar(&self, ui: &mut Ui, setter: &ParamSetter) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Underscore").strong().size(16.0));
            ui.separator();
            ui.label("Preset: (default)")
                .on_hover_text("Presets arrive in a later version.");
            ui.separator();
            ui.label("Mode:");
            let mode = self.params.mode.value();
            for (choice, text, tip) in [
                (
                    ModeParam::Broadband,
                    "Broadband",
                    "One gain for the whole bed: classic dialogue ducking.",
                ),
                (
                    ModeParam::Spectral,
                    "Spectral",
                    "Cuts the bed only in the bands where it masks the voice, so the music keeps \
                     its body. Adds one FFT window of latency (the host may restart the plugin).",
                ),
            ] {
                if ui
                    .selectable_label(mode == choice, text)
                    .on_hover_text(tip)
                    .clicked()
                    && mode != choice
                {
                    setter.begin_set_parameter(&self.params.mode);
                    setter.set_parameter(&self.params.mode, choice);
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
                .on_hover_text("Passes the bed through untouched (still latency-compensated).")
                .clicked()
            {
                setter.begin_set_parameter(&self.params.bypass);
                setter.set_parameter(&self.params.bypass, !bypassed);
                setter.end_set_parameter(&self.params.bypass);
            }
        });
    }

    fn parameters(&self, ui: &mut Ui, setter: &ParamSetter) {
        let p = &self.params;
        let row = |ui: &mut Ui, param: &dyn ParamRow, tip: &str| {
            ui.label(param.name());
            param.slider(ui, setter).on_hover_text(tip);
            ui.end_row();
        };
        egui::ScrollArea::vertical().show(ui, |ui| {
            group(ui, "Ducking", |ui| {
                row(ui, &p.depth_db, "How far the bed comes down under dialogue. -6 dB is a gentle dip; -15 dB clears the way.");
                row(ui, &p.threshold_db, "Dialogue level (speech band) that starts the duck. Lower it for quiet or distant voices.");
                row(ui, &p.sensitivity_pct, "How readily the dialogue track counts as speech. Higher catches soft or breathy lines; lower ignores effects and bleed.");
                row(ui, &p.mix_pct, "How much of the duck is applied: 100 % = the full Depth, 50 % = half of it.");
                row(ui, &p.output_gain_db, "Trim or make-up on the bed after ducking.");
            });
            group(ui, "Timing", |ui| {
                row(ui, &p.attack_ms, "How quickly the bed dips when a line starts. With Lookahead the dip lands before the first word.");
                row(ui, &p.hold_ms, "How long the bed stays down after speech stops, so it does not pump between words.");
                row(ui, &p.release_ms, "How quickly the bed comes back after a line. Longer sounds like a mixer riding the fader.");
                row(ui, &p.lookahead_ms, "Delays the bed so the duck starts ahead of the first syllable. Adds this much latency.");
            });
            group(ui, "Spectral", |ui| {
                row(ui, &p.clarity_db, "Spectral mode: how far the dialogue should stand above the bed in each band. The bed is cut only where it misses this margin.");
                row(ui, &p.focus_low_hz, "Spectral mode: lowest frequency where the bed may be cut to clear the voice.");
                row(ui, &p.focus_high_hz, "Spectral mode: highest frequency where the bed may be cut to clear the voice.");
            });
            group(ui, "Stereo and surround", |ui| {
                row(ui, &p.stereo_mode, "Linked ducks left and right alike. Mid/Side ducks the centre (where the voice sits) fully and the sides by Side, keeping the width.");
                row(ui, &p.side_pct, "Mid/Side: how much of the duck the sides get. Lower keeps stereo ambience wide under dialogue.");
                row(ui, &p.front_pct, "5.1 beds: share of the duck for the front left/right pair.");
                row(ui, &p.centre_pct, "5.1 beds: share of the duck for the centre channel (where dialogue usually sits).");
                row(ui, &p.surround_pct, "5.1 beds: share of the duck for the surrounds.");
                row(ui, &p.lfe_pct, "5.1 beds: share of the duck for the LFE.");
            });
            ui.label(
                RichText::new("Drag, double-click (or Ctrl+click) for default, click the value to type.")
                    .size(11.0)
                    .color(palette::TEXT_DIM),
            );
        });
    }
}

/// A parameter shown as a labelled [`slider::ParamBar`], whatever its type.
trait ParamRow {
    fn name(&self) -> &str;
    fn slider(&self, ui: &mut Ui, setter: &ParamSetter) -> egui::Response;
}

impl<P: Param> ParamRow for P {
    fn name(&self) -> &str {
        Param::name(self)
    }

    fn slider(&self, ui: &mut Ui, setter: &ParamSetter) -> egui::Response {
        ui.add(slider::ParamBar::new(self, setter, 130.0))
    }
}

fn group(ui: &mut Ui, title: &str, rows: impl FnOnce(&mut Ui)) {
    ui.add_space(2.0);
    ui.label(RichText::new(title).strong());
    egui::Grid::new(title)
        .num_columns(2)
        .min_col_width(84.0)
        .spacing(vec2(8.0, 3.0))
        .show(ui, rows);
}

impl NiceEguiApp for UnderscoreEditor {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        egui_ctx.set_theme(egui::Theme::Light);
        self.gui = Some(nice_gui_ctx);
        self.history.clear();
        self.opened = Instant::now();
        self.last_frame = 0.0;
        self.analysis.editor_open.store(true, Ordering::Relaxed);
        Ok(())
    }

    fn ui(&mut self, ui: &mut Ui, _frame: &mut nice_plug_egui::Frame) {
        // Raised every frame: the audio thread also checks the window state, so a closed window
        // stops the analysis even though no close callback reaches the editor.
        self.analysis.editor_open.store(true, Ordering::Relaxed);
        self.update_meters();
        let Some(gui) = self.gui.clone() else {
            return;
        };
        let setter = gui.param_setter();

        egui::Panel::top("top_bar").show(ui, |ui| {
            ui.add_space(4.0);
            self.top_bar(ui, &setter);
            ui.add_space(2.0);
        });
        egui::Panel::right("parameters")
            .resizable(false)
            .exact_size(330.0)
            .show(ui, |ui| self.parameters(ui, &setter));
        egui::CentralPanel::default().show(ui, |ui| self.views(ui));

        // Meters move continuously: about 60 frames per second while open.
        ui.ctx().request_repaint();
    }

    fn editor_closed(&mut self) {
        self.gui = None;
        self.analysis.editor_open.store(false, Ordering::Relaxed);
    }
}

impl UnderscoreEditor {
    fn views(&mut self, ui: &mut Ui) {
        let width = ui.available_width();
        let p = &self.params;
        let spectral = p.mode.value() == ModeParam::Spectral;
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
        views::overlap_view(
            ui,
            vec2(width, 236.0),
            &self.bands,
            &views::OverlapSettings {
                clarity_db: p.clarity_db.value(),
                focus_low_hz: p.focus_low_hz.value(),
                focus_high_hz: p.focus_high_hz.value(),
                spectral,
            },
        );
        let ratio = match views::speech_band_ratio_db(&self.bands) {
            Some(r) => format!("{r:+.1} dB"),
            None => "n/a".to_owned(),
        };
        ui.horizontal(|ui| {
            ui.label("Dialogue-to-bed, 500 Hz-4 kHz:");
            ui.label(RichText::new(ratio).strong().color(palette::DIALOGUE));
        })
        .response
        .on_hover_text(
            "Average level difference between dialogue and bed in the bands that carry speech \
             intelligibility. Positive: the voice sits above the bed.",
        );
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            ui.label(RichText::new("Gain reduction").strong());
            legend(ui, palette::REDUCTION, "duck");
            legend(ui, palette::KEY_FILL, "dialogue level");
            legend(ui, palette::SPEECH, "speech detected");
        });
        let meters_width = 3.0 * (40.0 + ui.spacing().item_spacing.x);
        let height = (ui.available_height() - 4.0).max(120.0);
        ui.horizontal(|ui| {
            let now = self.last_frame;
            views::history_view(
                ui,
                vec2(width - meters_width, height),
                self.history.points(),
                now,
                p.threshold_db.value(),
            );
            views::bar_meter(
                ui,
                vec2(40.0, height),
                "IN",
                &self.input,
                -METER_FLOOR_DB.max(-60.0),
                false,
                palette::BED.gamma_multiply(0.7),
            );
            views::bar_meter(
                ui,
                vec2(40.0, height),
                "GR",
                &self.reduction,
                views::GR_RANGE_DB,
                true,
                palette::REDUCTION,
            );
            views::bar_meter(
                ui,
                vec2(40.0, height),
                "OUT",
                &self.output,
                -METER_FLOOR_DB.max(-60.0),
                false,
                palette::BED,
            );
        });
    }
}

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
