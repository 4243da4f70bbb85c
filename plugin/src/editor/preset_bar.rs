//! The preset bar at the top of the editor: previous / menu / next, a "modified" marker, Save
//! as a user preset, and the problems of any unreadable user preset file.

use egui::{RichText, Ui};
use nice_plug::prelude::ParamSetter;
use underscore_preset::{Origin, Preset};

use super::palette;
use crate::UnderscoreParams;
use crate::presets::apply;

/// What the bar shows after an action: a confirmation or a problem.
struct Message {
    text: String,
    problem: bool,
}

/// The preset bar's state: the list (factory, then the user folder's), the save field and the
/// last message.
pub struct PresetBar {
    presets: Vec<Preset>,
    factory_count: usize,
    /// Files in the user folder that could not be read, with their problems.
    problems: Vec<String>,
    message: Option<Message>,
    /// The name being typed for Save, while the field is open.
    save_name: Option<String>,
}

impl Default for PresetBar {
    fn default() -> Self {
        let mut bar = Self {
            presets: Vec::new(),
            factory_count: 0,
            problems: Vec::new(),
            message: None,
            save_name: None,
        };
        bar.reload();
        bar
    }
}

impl PresetBar {
    /// Reads the factory set and the user folder again.
    pub fn reload(&mut self) {
        self.presets = underscore_preset::factory();
        self.factory_count = self.presets.len();
        self.problems.clear();
        if let Some(dir) = underscore_preset::user_dir() {
            let (ok, bad) = underscore_preset::load_dir(&dir);
            self.presets.extend(ok);
            self.problems = bad.iter().map(ToString::to_string).collect();
        }
    }

    /// Names of the presets offered, in menu order.
    #[cfg(test)]
    fn names(&self) -> Vec<&str> {
        self.presets.iter().map(|p| p.name.as_str()).collect()
    }

    /// Index of the preset last loaded, if it is still in the list.
    fn current(&self, params: &UnderscoreParams) -> Option<usize> {
        let name = params.preset_name.read().ok()?.clone();
        self.presets.iter().position(|p| p.name == name)
    }

    /// Loads preset `index`: its settings as host gestures, its name into the session state.
    pub fn load(&mut self, index: usize, params: &UnderscoreParams, setter: &ParamSetter) {
        let Some(preset) = self.presets.get(index) else {
            return;
        };
        apply(params, setter, &preset.params);
        if let Ok(mut name) = params.preset_name.write() {
            name.clone_from(&preset.name);
        }
        self.message = None;
    }

    /// Saves the current settings as a user preset called `name`.
    fn save(&mut self, name: &str, params: &UnderscoreParams) {
        let preset = Preset::from_params(name, &params.engine_params());
        let result = match underscore_preset::user_dir() {
            Some(dir) => underscore_preset::save(&dir, &preset),
            None => Err(underscore_preset::PresetError {
                origin: preset.name.clone(),
                problem: "no user preset folder (HOME or APPDATA is not set)".into(),
            }),
        };
        self.message = Some(match result {
            Ok(path) => {
                if let Ok(mut current) = params.preset_name.write() {
                    current.clone_from(&preset.name);
                }
                self.reload();
                Message {
                    text: format!("Saved {}", path.display()),
                    problem: false,
                }
            }
            Err(e) => Message {
                text: e.to_string(),
                problem: true,
            },
        });
    }

    /// Draws the bar, the preset menu `combo_width` points wide.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        params: &UnderscoreParams,
        setter: &ParamSetter,
        combo_width: f32,
    ) {
        let current = self.current(params);
        let modified = current.is_some_and(|i| !self.presets[i].matches(&params.engine_params()));
        let count = self.presets.len();
        let step = |delta: isize| match current {
            Some(i) => (i as isize + delta).rem_euclid(count as isize) as usize,
            None if delta > 0 => 0,
            None => count.saturating_sub(1),
        };
        let mut chosen = None;
        if ui
            .small_button("<")
            .on_hover_text("Previous preset")
            .clicked()
            && count > 0
        {
            chosen = Some(step(-1));
        }
        let title = match current {
            Some(i) if modified => format!("{} *", self.presets[i].name),
            Some(i) => self.presets[i].name.clone(),
            None => "(no preset)".to_string(),
        };
        let combo = egui::ComboBox::from_id_salt("preset")
            .selected_text(title)
            .width(combo_width)
            .show_ui(ui, |ui| {
                ui.label(RichText::new("Factory").small().weak());
                for (i, p) in self.presets.iter().enumerate() {
                    if i == self.factory_count {
                        ui.separator();
                        ui.label(RichText::new("User").small().weak());
                    }
                    let tip = match &p.origin {
                        Origin::File(path) => format!("{}\n{}", p.scene, path.display()),
                        _ => format!("{}\n\n{}", p.scene, p.why),
                    };
                    if ui
                        .selectable_label(current == Some(i), &p.name)
                        .on_hover_text(tip.trim().to_string())
                        .clicked()
                    {
                        chosen = Some(i);
                    }
                }
                ui.separator();
                if ui
                    .button("Reload user presets")
                    .on_hover_text(user_dir_text())
                    .clicked()
                {
                    self.reload();
                }
            });
        combo.response.on_hover_text(
            "Scene presets: each sets every parameter, as one undoable change per parameter. \
             * means a parameter was changed since the preset was loaded.",
        );
        if ui.small_button(">").on_hover_text("Next preset").clicked() && count > 0 {
            chosen = Some(step(1));
        }
        if let Some(i) = chosen {
            self.load(i, params, setter);
        }
        self.save_ui(ui, params, current);
        if !self.problems.is_empty() {
            let n = self.problems.len();
            ui.label(
                RichText::new(format!("{n} bad file{}", if n == 1 { "" } else { "s" }))
                    .color(palette::REDUCTION),
            )
            .on_hover_text(format!(
                "{n} user preset file{} could not be read (left unchanged):\n{}",
                if n == 1 { "" } else { "s" },
                self.problems.join("\n")
            ));
        }
        if let Some(m) = &self.message {
            let colour = if m.problem {
                palette::REDUCTION
            } else {
                ui.visuals().weak_text_color()
            };
            let short: String = m.text.chars().take(40).collect();
            ui.label(RichText::new(short).small().color(colour))
                .on_hover_text(m.text.clone());
        }
    }

    /// The Save button, and the name field once it is pressed.
    fn save_ui(&mut self, ui: &mut Ui, params: &UnderscoreParams, current: Option<usize>) {
        match self.save_name.take() {
            None => {
                if ui
                    .small_button("Save…")
                    .on_hover_text(format!(
                        "Save the current settings as a user preset.\n{}",
                        user_dir_text()
                    ))
                    .clicked()
                {
                    let suggestion = current
                        .filter(|&i| i >= self.factory_count)
                        .map(|i| self.presets[i].name.clone())
                        .unwrap_or_default();
                    self.save_name = Some(suggestion);
                }
            }
            Some(mut name) => {
                let field = ui.add(
                    egui::TextEdit::singleline(&mut name)
                        .hint_text("Preset name")
                        .desired_width(120.0),
                );
                let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                let ok = ui.small_button("Save").clicked() || enter;
                let cancel = ui.small_button("Cancel").clicked();
                if ok && !name.trim().is_empty() {
                    self.save(name.trim(), params);
                } else if !cancel {
                    self.save_name = Some(name);
                }
            }
        }
    }
}

fn user_dir_text() -> String {
    match underscore_preset::user_dir() {
        Some(dir) => format!("User presets: {}", dir.display()),
        None => "No user preset folder (HOME or APPDATA is not set).".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_host::RecordingHost;

    #[test]
    fn loading_marks_modified_and_next_wraps() {
        let dir = std::env::temp_dir().join(format!("underscore-bar-{}", std::process::id()));
        // SAFETY (test): the variable is read by this process's preset code only.
        unsafe { std::env::set_var("UNDERSCORE_PRESET_DIR", &dir) };
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("broken.json"), "{\"schema\": 9}").unwrap();
        let params = UnderscoreParams::default();
        let host = RecordingHost::default();
        let setter = ParamSetter::new(&host);
        let mut bar = PresetBar::default();
        assert!(bar.names().len() >= 8);
        assert_eq!(bar.problems.len(), 1);
        assert!(
            bar.problems[0].contains("broken.json"),
            "{:?}",
            bar.problems
        );
        bar.load(0, &params, &setter);
        assert_eq!(bar.current(&params), Some(0));
        assert!(bar.presets[0].matches(&params.engine_params()));
        // Any parameter moved: modified.
        let depth = params.depth_db.value();
        setter.begin_set_parameter(&params.depth_db);
        setter.set_parameter(&params.depth_db, depth - 3.0);
        setter.end_set_parameter(&params.depth_db);
        assert!(!bar.presets[0].matches(&params.engine_params()));
        // Save as a user preset: written, listed, selected.
        bar.save("Scene 12 night", &params);
        assert!(bar.message.as_ref().is_some_and(|m| !m.problem));
        assert!(dir.join("scene_12_night.json").exists());
        let i = bar.current(&params).unwrap();
        assert!(i >= bar.factory_count);
        assert!(bar.presets[i].matches(&params.engine_params()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
