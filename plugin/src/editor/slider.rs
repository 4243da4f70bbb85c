//! A parameter slider whose host gestures always pair up.
//!
//! nice-plug-egui's `ParamSlider` begins a gesture on press but ends it only when egui reports
//! the end of a drag, which it never does for a click without movement: a plain click or a
//! double-click would leave the parameter "touched" in the host. This slider begins a gesture
//! when the pointer goes down on it and ends it as soon as no button is down.
//!
//! Drag (Shift for fine steps), double-click or Ctrl+click for the default, click the value text
//! to type one in (Enter applies, Escape cancels).

use egui::{Key, Response, Sense, Stroke, TextEdit, Ui, Widget, vec2};
use nice_plug::prelude::{Param, ParamSetter};

/// Normalised change per point dragged with Shift held.
const FINE_PER_POINT: f32 = 0.0015;

pub struct ParamBar<'a, P: Param> {
    param: &'a P,
    setter: &'a ParamSetter<'a>,
    width: f32,
}

impl<'a, P: Param> ParamBar<'a, P> {
    pub fn new(param: &'a P, setter: &'a ParamSetter<'a>, width: f32) -> Self {
        Self {
            param,
            setter,
            width,
        }
    }

    fn set_normalized(&self, normalized: f32) {
        let plain = self.param.preview_plain(normalized.clamp(0.0, 1.0));
        if plain != self.param.modulated_plain_value() {
            self.setter.set_parameter(self.param, plain);
        }
    }

    /// Pointer interaction on the bar: one host gesture from press to release.
    fn interact(&self, ui: &Ui, response: &Response) {
        let gesture_id = response.id.with("gesture");
        let fine_id = response.id.with("fine");
        let mut active = ui.data(|d| d.get_temp::<bool>(gesture_id).unwrap_or(false));
        let any_down = ui.input(|i| i.pointer.any_down());

        if response.is_pointer_button_down_on() && !active {
            self.setter.begin_set_parameter(self.param);
            active = true;
            let start = self.param.modulated_normalized_value();
            ui.data_mut(|d| d.insert_temp(fine_id, start));
        }
        if active {
            let (command, shift) = ui.input(|i| (i.modifiers.command, i.modifiers.shift));
            if response.double_clicked() || (command && response.is_pointer_button_down_on()) {
                self.setter
                    .set_parameter(self.param, self.param.default_plain_value());
            } else if shift && response.is_pointer_button_down_on() {
                let start: f32 = ui.data(|d| d.get_temp(fine_id).unwrap_or(0.5));
                let next = start + response.drag_delta().x * FINE_PER_POINT;
                ui.data_mut(|d| d.insert_temp(fine_id, next.clamp(0.0, 1.0)));
                self.set_normalized(next);
            } else if response.is_pointer_button_down_on()
                && let Some(pos) = response.interact_pointer_pos()
            {
                let t = (pos.x - response.rect.left()) / response.rect.width();
                self.set_normalized(t);
                ui.data_mut(|d| d.insert_temp(fine_id, t.clamp(0.0, 1.0)));
            }
            if !any_down {
                self.setter.end_set_parameter(self.param);
                active = false;
            }
        }
        ui.data_mut(|d| d.insert_temp(gesture_id, active));
    }

    fn draw(&self, ui: &Ui, response: &Response) {
        if !ui.is_rect_visible(response.rect) {
            return;
        }
        let visuals = ui.visuals();
        let painter = ui.painter();
        painter.rect_filled(response.rect, 2.0, visuals.widgets.inactive.bg_fill);
        let mut filled = response.rect;
        filled.set_width(response.rect.width() * self.param.modulated_normalized_value());
        let fill = if response.hovered() || response.is_pointer_button_down_on() {
            visuals.selection.bg_fill.gamma_multiply(0.8)
        } else {
            visuals.selection.bg_fill
        };
        painter.rect_filled(filled, 2.0, fill);
        painter.rect_stroke(
            response.rect,
            2.0,
            Stroke::new(1.0, visuals.widgets.active.bg_fill),
            egui::StrokeKind::Inside,
        );
    }

    /// The value as text; click it to type a new one.
    fn value_ui(&self, ui: &mut Ui, id: egui::Id) {
        let edit_id = id.with("edit");
        let text_id = id.with("text");
        let editing = ui.memory(|m| m.has_focus(edit_id));
        if editing {
            let mut text: String = ui.data(|d| d.get_temp(text_id).unwrap_or_default());
            let response = ui.add(
                TextEdit::singleline(&mut text)
                    .id(edit_id)
                    .desired_width(80.0),
            );
            ui.data_mut(|d| d.insert_temp(text_id, text.clone()));
            if ui.input(|i| i.key_pressed(Key::Escape)) {
                ui.memory_mut(|m| m.surrender_focus(edit_id));
            } else if response.lost_focus() || ui.input(|i| i.key_pressed(Key::Enter)) {
                if let Some(normalized) = self.param.string_to_normalized_value(&text) {
                    self.setter.begin_set_parameter(self.param);
                    self.set_normalized(normalized);
                    self.setter.end_set_parameter(self.param);
                }
                ui.memory_mut(|m| m.surrender_focus(edit_id));
            }
        } else {
            let response =
                ui.add(egui::Button::new(self.param.to_string()).min_size(vec2(64.0, 0.0)));
            if response.on_hover_cursor(egui::CursorIcon::Text).clicked() {
                ui.data_mut(|d| d.insert_temp(text_id, self.param.to_string()));
                ui.memory_mut(|m| m.request_focus(edit_id));
            }
        }
    }
}

impl<P: Param> Widget for ParamBar<'_, P> {
    fn ui(self, ui: &mut Ui) -> Response {
        ui.horizontal(|ui| {
            let height = ui.spacing().interact_size.y * 0.75;
            let (_, response) =
                ui.allocate_exact_size(vec2(self.width, height), Sense::click_and_drag());
            self.interact(ui, &response);
            self.draw(ui, &response);
            self.value_ui(ui, response.id);
            response
        })
        .inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_host::RecordingHost;
    use egui::{Event, Modifiers, PointerButton, Pos2, RawInput, Rect, pos2};
    use nice_plug::prelude::{FloatParam, FloatRange};

    fn frame(ctx: &egui::Context, param: &FloatParam, setter: &ParamSetter, events: Vec<Event>) {
        let input = RawInput {
            screen_rect: Some(Rect::from_min_size(Pos2::ZERO, vec2(400.0, 100.0))),
            events,
            ..Default::default()
        };
        let mut output = ctx.run_ui(input, |ui| {
            ui.add(ParamBar::new(param, setter, 130.0));
        });
        output.textures_delta.clear();
    }

    fn button(pos: Pos2, pressed: bool) -> Event {
        Event::PointerButton {
            pos,
            button: PointerButton::Primary,
            pressed,
            modifiers: Modifiers::NONE,
        }
    }

    /// Gestures pair up for a plain click and a double-click, the cases egui reports no end of
    /// drag for.
    #[test]
    fn clicks_begin_and_end_one_gesture_each() {
        let host = RecordingHost::default();
        let setter = ParamSetter::new(&host);
        let param = FloatParam::new(
            "Depth",
            -10.0,
            FloatRange::Linear {
                min: -40.0,
                max: 0.0,
            },
        );
        let ctx = egui::Context::default();
        let at = pos2(60.0, 8.0);
        frame(&ctx, &param, &setter, vec![]);
        frame(&ctx, &param, &setter, vec![Event::PointerMoved(at)]);
        for _ in 0..2 {
            frame(&ctx, &param, &setter, vec![button(at, true)]);
            frame(&ctx, &param, &setter, vec![button(at, false)]);
            frame(&ctx, &param, &setter, vec![]);
        }
        let log = host.kinds();
        let begins = log.iter().filter(|&&e| e == "begin").count();
        let ends = log.iter().filter(|&&e| e == "end").count();
        assert_eq!(begins, 2, "{log:?}");
        assert_eq!(ends, 2, "{log:?}");
        assert_eq!(log.first(), Some(&"begin"));
        assert_eq!(log.last(), Some(&"end"));
    }
}
