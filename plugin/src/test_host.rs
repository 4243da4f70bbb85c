//! A GUI host for tests: records the gestures the editor sends and applies the values, as a
//! real host does.

use std::sync::Mutex;

use nice_plug::context::gui::GuiContextInner;
use nice_plug::prelude::{ParamPtr, PluginApi};

/// What a host saw from the editor.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    Begin(String),
    Set(String, f32),
    End(String),
}

/// A host that records gestures and applies the values, as a real host does.
#[derive(Default)]
pub struct RecordingHost {
    pub seen: Mutex<Vec<Seen>>,
}

fn name(ptr: ParamPtr) -> String {
    unsafe { ptr.name().to_string() }
}

impl GuiContextInner for RecordingHost {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    unsafe fn raw_begin_set_parameter(&self, p: ParamPtr) {
        self.seen.lock().unwrap().push(Seen::Begin(name(p)));
    }
    unsafe fn raw_set_parameter_normalized(&self, p: ParamPtr, v: f32) {
        unsafe { p._internal_set_normalized_value(v) };
        self.seen.lock().unwrap().push(Seen::Set(name(p), v));
    }
    unsafe fn raw_end_set_parameter(&self, p: ParamPtr) {
        self.seen.lock().unwrap().push(Seen::End(name(p)));
    }
    fn get_state(&self) -> nice_plug::plugin::PluginState {
        unimplemented!()
    }
    fn set_state(&self, _: nice_plug::plugin::PluginState) {}
    fn request_restart(&self) {}
}

impl RecordingHost {
    /// The kinds of call seen, in order: "begin", "set", "end".
    pub fn kinds(&self) -> Vec<&'static str> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .map(|s| match s {
                Seen::Begin(_) => "begin",
                Seen::Set(..) => "set",
                Seen::End(_) => "end",
            })
            .collect()
    }
}
