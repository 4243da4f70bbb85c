//! The editor as the host sees it: a thin wrapper around nice-plug-egui's editor that opens each
//! window at the persisted size and scale.
//!
//! nice-plug builds the plugin's editor once, before the host restores a session, and
//! nice-plug-egui's `EguiEditorState` cannot be changed from outside. So every `spawn()` here
//! builds a fresh egui editor from [`WindowState`] (which the session restore has written by
//! then); the size and scale then flow back into it from the window (see `UnderscoreEditor`'s
//! `resized()` and `zoom_factor_changed()`).

use std::error::Error;
use std::sync::Arc;

use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::{LogicalSize, NativeSize, Size};
use nice_plug::editor::{
    Editor, EditorHandle, HostMethods, Modifiers, ParentWindowHandle, ResizeHint, SpawnedEditor,
    VirtualKeyCode,
};
use nice_plug_egui::{EguiEditorHandle, EguiEditorState, EguiNiceSettings, RepaintNotifier};

use super::UnderscoreEditor;
use super::window::{MIN_HEIGHT_PT, MIN_WIDTH_PT, WindowState};
use crate::{SharedAnalysis, SharedMeters, UnderscoreParams};

/// The plugin's editor (`Plugin::Editor`).
pub struct PluginEditor {
    params: Arc<UnderscoreParams>,
    analysis: Arc<SharedAnalysis>,
    meters: Arc<SharedMeters>,
    window: Arc<WindowState>,
}

impl PluginEditor {
    pub fn new(
        params: Arc<UnderscoreParams>,
        analysis: Arc<SharedAnalysis>,
        meters: Arc<SharedMeters>,
    ) -> Self {
        let window = params.editor_window.clone();
        Self {
            params,
            analysis,
            meters,
            window,
        }
    }
}

/// Resizable in both directions, no smaller than the minimum layout at the current scale.
fn resize_hint(window: &WindowState) -> ResizeHint {
    let scale = window.scale();
    ResizeHint::resizable().with_min_logical_size(LogicalSize::new(
        MIN_WIDTH_PT as f32 * scale,
        MIN_HEIGHT_PT as f32 * scale,
    ))
}

impl Editor for PluginEditor {
    type Handle = PluginEditorHandle;

    fn spawn(
        &self,
        parent: Option<ParentWindowHandle>,
        wait_for_parent: bool,
        fallback_scale_factor: Option<f64>,
        gui_context: GuiContext,
        host: Option<HostMethods>,
    ) -> Result<SpawnedEditor<Self::Handle>, Box<dyn Error>> {
        if let Some(scale) = fallback_scale_factor {
            self.window.set_system_scale(scale as f32);
        }
        let layout = self.window.layout();
        // nice-plug-egui opens the window at this size (points) times the zoom factor.
        let state = EguiEditorState::from_size(
            LogicalSize::new(layout.width_pt, layout.height_pt),
            layout.scale(),
        );
        let settings = EguiNiceSettings::new()
            .with_tile("Underscore")
            .with_resize_hint(resize_hint(&self.window));
        let app = UnderscoreEditor::new(
            self.params.clone(),
            self.analysis.clone(),
            self.meters.clone(),
            self.window.clone(),
        );
        let editor =
            nice_plug_egui::create_egui_editor(state, RepaintNotifier::new(), settings, app)
                .ok_or("the egui editor could not be created")?;
        let spawned = editor.spawn(
            parent,
            wait_for_parent,
            fallback_scale_factor,
            gui_context,
            host,
        )?;
        self.window.set_open(true);
        Ok(SpawnedEditor {
            handle: PluginEditorHandle {
                inner: spawned.handle,
                window: self.window.clone(),
            },
            window: spawned.window,
        })
    }

    /// The window's size in native pixels: the persisted size in points times the scale and the
    /// system scale.
    fn size(&self) -> NativeSize<u32> {
        let layout = self.window.layout();
        let scale = layout.scale() as f64;
        NativeSize::from_size(
            Size::Logical(LogicalSize::new(
                layout.width_pt as f64 * scale,
                layout.height_pt as f64 * scale,
            )),
            self.window.system_scale() as f64,
        )
    }

    fn resize_hint(&self) -> ResizeHint {
        resize_hint(&self.window)
    }

    /// The host's track name: the name linked instances show for this one (see `link`).
    fn track_info_updated(&self, info: nice_plug::prelude::TrackInfo) {
        self.analysis.set_track_name(info.name());
    }
}

/// An open editor window. Dropping it (the host closed the window) lowers the open flag, which
/// stops the analysis on the audio thread.
pub struct PluginEditorHandle {
    inner: EguiEditorHandle,
    window: Arc<WindowState>,
}

impl Drop for PluginEditorHandle {
    fn drop(&mut self) {
        self.window.set_open(false);
    }
}

impl EditorHandle for PluginEditorHandle {
    type Window = <EguiEditorHandle as EditorHandle>::Window;
    type Error = <EguiEditorHandle as EditorHandle>::Error;

    fn run_until_closed(window: Self::Window) -> Result<(), Self::Error> {
        EguiEditorHandle::run_until_closed(window)
    }

    fn set_parent(
        &self,
        parent: ParentWindowHandle,
        window: &Self::Window,
    ) -> Result<(), Self::Error> {
        self.inner.set_parent(parent, window)
    }

    fn show(&self, window: &Self::Window) -> Result<(), Self::Error> {
        self.inner.show(window)
    }

    fn hide(&self, window: &Self::Window) -> Result<(), Self::Error> {
        self.inner.hide(window)
    }

    fn set_size(
        &self,
        new_size: NativeSize<u32>,
        window: &Self::Window,
    ) -> Result<(), Self::Error> {
        self.inner.set_size(new_size, window)
    }

    fn host_main_thread_callback(&self, window: &Self::Window) {
        self.inner.host_main_thread_callback(window);
    }

    /// The closest size at or above the minimum for the current scale (the scale may have changed
    /// since the window opened, so this does not use the window's own hint).
    fn adjust_size(
        &self,
        new_size: NativeSize<u32>,
        window: &Self::Window,
    ) -> Option<NativeSize<u32>> {
        let current = window.size();
        Some(resize_hint(&self.window).adjust_size(
            new_size,
            NativeSize::from_logical_or_physical(current.logical, current.physical),
            current.scale_factor,
        ))
    }

    fn set_fallback_scale_factor(
        &self,
        scale_factor: f64,
        window: &Self::Window,
    ) -> Result<(), Self::Error> {
        self.window.set_system_scale(scale_factor as f32);
        self.inner.set_fallback_scale_factor(scale_factor, window)
    }

    fn on_virtual_key_from_host(
        &self,
        key_code: VirtualKeyCode,
        is_down: bool,
        modifiers: Modifiers,
    ) -> bool {
        self.inner
            .on_virtual_key_from_host(key_code, is_down, modifiers)
    }

    fn state_changed(&self) {
        self.inner.state_changed();
    }

    fn param_value_changed(&self, id: &str, normalized_value: f32) {
        self.inner.param_value_changed(id, normalized_value);
    }

    fn param_modulation_changed(&self, id: &str, modulation_offset: f32) {
        self.inner.param_modulation_changed(id, modulation_offset);
    }
}
