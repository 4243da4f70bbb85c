//! Choice parameters drawn as choices: a segmented toggle for two values (Stereo Mode's
//! Linked | Mid/Side, a switch's Off | On), a menu for more (Link, Role). One click is one host
//! gesture (begin, set, end), so hosts record and undo it.

use egui::{Response, Ui, vec2};

/// How a choice of `count` values is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChoiceStyle {
    /// All values side by side, the current one selected.
    Segmented,
    /// A drop-down menu.
    Menu,
}

impl ChoiceStyle {
    /// Two values fit side by side and read at a glance; more go into a menu.
    pub fn for_count(count: usize) -> Self {
        if count <= 2 {
            ChoiceStyle::Segmented
        } else {
            ChoiceStyle::Menu
        }
    }
}

/// One help text on one line (the table's texts may carry line-continuation spaces).
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Gives value `i`'s widget `r` its help text (if any) on hover; true when `r` was clicked
/// and `i` is not the `current` value (a click on the current value changes nothing).
fn picked(r: Response, help: &[&str], i: usize, current: usize) -> bool {
    let r = match help.get(i) {
        Some(tip) => r.on_hover_text(one_line(tip)),
        None => r,
    };
    r.clicked() && i != current
}

/// Draws the choice `names` (index `current` selected; `help` per value as hover text) in
/// `width` points; returns the widget's response and the index clicked, if another one.
pub fn choice(
    ui: &mut Ui,
    id: &str,
    names: &[&str],
    help: &[&str],
    current: usize,
    width: f32,
) -> (Response, Option<usize>) {
    match ChoiceStyle::for_count(names.len()) {
        ChoiceStyle::Segmented => segmented(ui, names, help, current, width),
        ChoiceStyle::Menu => menu(ui, id, names, help, current, width),
    }
}

/// The values side by side as one bar of buttons.
fn segmented(
    ui: &mut Ui,
    names: &[&str],
    help: &[&str],
    current: usize,
    width: f32,
) -> (Response, Option<usize>) {
    let mut clicked = None;
    let response = ui
        .horizontal(|ui| {
            ui.spacing_mut().item_spacing.x = 1.0;
            let count = names.len().max(1) as f32;
            let each = ((width - (count - 1.0)) / count).max(24.0);
            let height = ui.spacing().interact_size.y;
            for (i, name) in names.iter().enumerate() {
                // Framed buttons, the current one filled: reads as one switch, not as text.
                let button = egui::Button::new(*name)
                    .selected(i == current)
                    .min_size(vec2(each, height));
                if picked(ui.add(button), help, i, current) {
                    clicked = Some(i);
                }
            }
        })
        .response;
    (response, clicked)
}

/// The values in a drop-down menu.
fn menu(
    ui: &mut Ui,
    id: &str,
    names: &[&str],
    help: &[&str],
    current: usize,
    width: f32,
) -> (Response, Option<usize>) {
    let mut clicked = None;
    let response = egui::ComboBox::from_id_salt(("choice", id))
        .width(width)
        .selected_text(names.get(current).copied().unwrap_or("?"))
        .show_ui(ui, |ui| {
            for (i, name) in names.iter().enumerate() {
                if picked(ui.selectable_label(i == current, *name), help, i, current) {
                    clicked = Some(i);
                }
            }
        })
        .response;
    (response, clicked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_values_toggle_more_values_menu() {
        assert_eq!(ChoiceStyle::for_count(2), ChoiceStyle::Segmented);
        assert_eq!(ChoiceStyle::for_count(3), ChoiceStyle::Menu);
        assert_eq!(ChoiceStyle::for_count(9), ChoiceStyle::Menu);
        assert_eq!(
            one_line("ducked fully, the side by                     Side."),
            "ducked fully, the side by Side."
        );
    }
}
