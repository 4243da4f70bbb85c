//! Harness fixture: a CLAP plugin with a stereo main input, a stereo "Dialogue" aux input and
//! a stereo main output. `out = main * Gain + aux * AuxMix`.
//!
//! * Params: 0 "Gain" (0..2, default 1), 1 "AuxMix" (0..1, default 1), 2 "Latency" (0..4096
//!   samples, stepped, default 0), 3 "ThreadCheckOk" (read-only: 1 once a process call saw
//!   `is_audio_thread && !is_main_thread` from the host's thread-check; -1 if it saw otherwise).
//! * Latency: reported from activation; when the "Latency" param changes while active the
//!   audio thread asks for `request_callback`, and `on_main_thread` asks for
//!   `request_restart`. `activate` calls `latency.changed` when the value differs.
//! * State: `b"FIXT"` + Gain (f64 LE) + AuxMix (f64 LE) + Latency (u32 LE); anything else is
//!   rejected.

use clack_extensions::audio_ports::{
    AudioPortFlags, AudioPortInfo, AudioPortInfoWriter, AudioPortType, PluginAudioPorts,
    PluginAudioPortsImpl,
};
use clack_extensions::latency::{HostLatency, PluginLatency, PluginLatencyImpl};
use clack_extensions::params::{
    ParamDisplayWriter, ParamInfo, ParamInfoFlags, ParamInfoWriter, PluginAudioProcessorParams,
    PluginMainThreadParams, PluginParams,
};
use clack_extensions::state::{PluginState, PluginStateImpl};
use clack_extensions::thread_check::HostThreadCheck;
use clack_plugin::events::event_types::ParamValueEvent;
use clack_plugin::prelude::*;
use clack_plugin::stream::{InputStream, OutputStream};
use clack_plugin::utils::Cookie;
use std::cell::Cell;
use std::ffi::CStr;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};

const GAIN: u32 = 0;
const AUX_MIX: u32 = 1;
const LATENCY: u32 = 2;
const THREAD_OK: u32 = 3;

pub struct Fixture;

pub struct Shared<'a> {
    _host: HostSharedHandle<'a>,
    gain: AtomicU64,
    aux_mix: AtomicU64,
    latency: AtomicU32,
    thread_ok: AtomicI32,
}

impl Shared<'_> {
    fn get(&self, id: u32) -> Option<f64> {
        match id {
            GAIN => Some(f64::from_bits(self.gain.load(Ordering::SeqCst))),
            AUX_MIX => Some(f64::from_bits(self.aux_mix.load(Ordering::SeqCst))),
            LATENCY => Some(f64::from(self.latency.load(Ordering::SeqCst))),
            THREAD_OK => Some(f64::from(self.thread_ok.load(Ordering::SeqCst))),
            _ => None,
        }
    }

    /// Returns true if the latency changed.
    fn set(&self, id: u32, v: f64) -> bool {
        match id {
            GAIN => self
                .gain
                .store(v.clamp(0.0, 2.0).to_bits(), Ordering::SeqCst),
            AUX_MIX => self
                .aux_mix
                .store(v.clamp(0.0, 1.0).to_bits(), Ordering::SeqCst),
            LATENCY => {
                let new = v.clamp(0.0, 4096.0).round() as u32;
                return self.latency.swap(new, Ordering::SeqCst) != new;
            }
            _ => {}
        }
        false
    }

    fn apply(&self, events: &InputEvents) -> bool {
        let mut latency_changed = false;
        for e in events {
            if let Some(p) = e.as_event::<ParamValueEvent>()
                && let Some(id) = p.param_id()
            {
                latency_changed |= self.set(id.get(), p.value());
            }
        }
        latency_changed
    }
}

impl<'a> PluginShared<'a> for Shared<'a> {}

pub struct MainThread<'a> {
    shared: &'a Shared<'a>,
    host: HostMainThreadHandle<'a>,
    reported_latency: Cell<u32>,
}

impl<'a> PluginMainThread<'a, Shared<'a>> for MainThread<'a> {
    fn on_main_thread(&self) {
        if self.shared.latency.load(Ordering::SeqCst) != self.reported_latency.get() {
            self.host.shared().request_restart();
        }
    }
}

pub struct Processor<'a> {
    shared: &'a Shared<'a>,
    host: HostAudioProcessorHandle<'a>,
}

impl<'a> PluginAudioProcessor<'a, Shared<'a>, MainThread<'a>> for Processor<'a> {
    fn activate(
        host: HostAudioProcessorHandle<'a>,
        main_thread: &MainThread<'a>,
        shared: &'a Shared<'a>,
        _config: PluginAudioConfiguration,
    ) -> Result<Self, PluginError> {
        let latency = shared.latency.load(Ordering::SeqCst);
        if latency != main_thread.reported_latency.get() {
            main_thread.reported_latency.set(latency);
            if let Some(ext) = main_thread.host.get_extension::<HostLatency>() {
                ext.changed(&main_thread.host);
            }
        }
        Ok(Self { shared, host })
    }

    fn process(
        &mut self,
        _process: Process,
        mut audio: Audio,
        events: Events,
    ) -> Result<ProcessStatus, PluginError> {
        if let Some(tc) = self.host.shared().get_extension::<HostThreadCheck>() {
            let h = self.host.shared();
            let ok = tc.is_audio_thread(&h) == Some(true) && tc.is_main_thread(&h) == Some(false);
            let prev = self.shared.thread_ok.load(Ordering::SeqCst);
            if prev >= 0 {
                self.shared
                    .thread_ok
                    .store(if ok { 1 } else { -1 }, Ordering::SeqCst);
            }
        }
        if self.shared.apply(events.input) {
            self.host.shared().request_callback();
        }
        let gain = self.shared.get(GAIN).unwrap_or(1.0) as f32;
        let mix = self.shared.get(AUX_MIX).unwrap_or(1.0) as f32;
        let n = audio.frames_count() as usize;

        let mut main = [vec![0.0f32; n], vec![0.0f32; n]];
        if let Some(port) = audio.input_port(0)
            && let Some(ch) = port.channels()?.into_f32()
        {
            for (i, c) in ch.iter().enumerate().take(2) {
                for (d, s) in main[i].iter_mut().zip(c) {
                    *d = s * gain;
                }
            }
        }
        if let Some(port) = audio.input_port(1)
            && let Some(ch) = port.channels()?.into_f32()
        {
            for (i, c) in ch.iter().enumerate().take(2) {
                for (d, s) in main[i].iter_mut().zip(c) {
                    *d += s * mix;
                }
            }
        }
        let mut out = audio
            .output_port(0)
            .ok_or(PluginError::Message("no output port"))?;
        let mut ch = out
            .channels()?
            .into_f32()
            .ok_or(PluginError::Message("no f32 output"))?;
        for (i, o) in ch.iter_mut().enumerate().take(2) {
            o.copy_from_slice(&main[i][..o.len()]);
        }
        Ok(ProcessStatus::Continue)
    }
}

impl PluginAudioProcessorParams for Processor<'_> {
    fn flush(&mut self, input: &InputEvents, _output: &mut OutputEvents) {
        if self.shared.apply(input) {
            self.host.shared().request_callback();
        }
    }
}

impl PluginAudioPortsImpl for MainThread<'_> {
    fn count(&self, is_input: bool) -> u32 {
        if is_input { 2 } else { 1 }
    }

    fn get(&self, index: u32, is_input: bool, writer: &mut AudioPortInfoWriter) {
        let (name, flags): (&[u8], _) = match (is_input, index) {
            (true, 0) => (b"Main", AudioPortFlags::IS_MAIN),
            (true, 1) => (b"Dialogue", AudioPortFlags::empty()),
            (false, 0) => (b"Main Out", AudioPortFlags::IS_MAIN),
            _ => return,
        };
        writer.set(&AudioPortInfo {
            id: ClapId::new(index),
            name,
            channel_count: 2,
            flags,
            port_type: Some(AudioPortType::STEREO),
            in_place_pair: None,
        });
    }
}

impl PluginMainThreadParams for MainThread<'_> {
    fn count(&self) -> u32 {
        4
    }

    fn get_info(&self, index: u32, info: &mut ParamInfoWriter) {
        let auto = ParamInfoFlags::IS_AUTOMATABLE;
        let (name, min, max, default, flags): (&[u8], f64, f64, f64, _) = match index {
            GAIN => (b"Gain", 0.0, 2.0, 1.0, auto),
            AUX_MIX => (b"AuxMix", 0.0, 1.0, 1.0, auto),
            LATENCY => (
                b"Latency",
                0.0,
                4096.0,
                0.0,
                auto | ParamInfoFlags::IS_STEPPED,
            ),
            THREAD_OK => (
                b"ThreadCheckOk",
                -1.0,
                1.0,
                0.0,
                ParamInfoFlags::IS_READONLY,
            ),
            _ => return,
        };
        info.set(&ParamInfo {
            id: ClapId::new(index),
            flags,
            cookie: Cookie::empty(),
            name,
            module: b"",
            min_value: min,
            max_value: max,
            default_value: default,
        });
    }

    fn get_value(&self, id: ClapId) -> Option<f64> {
        self.shared.get(id.get())
    }

    fn value_to_text(
        &self,
        id: ClapId,
        value: f64,
        writer: &mut ParamDisplayWriter,
    ) -> std::fmt::Result {
        match id.get() {
            LATENCY => write!(writer, "{} smp", value.round()),
            _ => write!(writer, "{value:.3}"),
        }
    }

    fn text_to_value(&self, _id: ClapId, text: &CStr) -> Option<f64> {
        text.to_str()
            .ok()?
            .trim()
            .trim_end_matches("smp")
            .trim()
            .parse()
            .ok()
    }

    fn flush(&self, input: &InputEvents, _output: &mut OutputEvents) {
        // Inactive: latency changes are picked up by the next activate().
        self.shared.apply(input);
    }
}

impl PluginLatencyImpl for MainThread<'_> {
    fn get(&self) -> u32 {
        self.reported_latency.get()
    }
}

impl PluginStateImpl for MainThread<'_> {
    fn save(&self, output: &mut OutputStream) -> Result<(), PluginError> {
        let mut bytes = Vec::with_capacity(24);
        bytes.extend_from_slice(b"FIXT");
        bytes.extend_from_slice(&self.shared.get(GAIN).unwrap_or(1.0).to_le_bytes());
        bytes.extend_from_slice(&self.shared.get(AUX_MIX).unwrap_or(1.0).to_le_bytes());
        bytes.extend_from_slice(&self.shared.latency.load(Ordering::SeqCst).to_le_bytes());
        output
            .write_all(&bytes)
            .map_err(|_| PluginError::Message("write failed"))
    }

    fn load(&self, input: &mut InputStream) -> Result<(), PluginError> {
        let mut bytes = Vec::new();
        input
            .read_to_end(&mut bytes)
            .map_err(|_| PluginError::Message("read failed"))?;
        if bytes.len() != 24 || &bytes[..4] != b"FIXT" {
            return Err(PluginError::Message("not a fixture state"));
        }
        let f = |r: std::ops::Range<usize>| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&bytes[r]);
            f64::from_le_bytes(a)
        };
        let mut l = [0u8; 4];
        l.copy_from_slice(&bytes[20..24]);
        self.shared.set(GAIN, f(4..12));
        self.shared.set(AUX_MIX, f(12..20));
        self.shared.set(LATENCY, f64::from(u32::from_le_bytes(l)));
        Ok(())
    }
}

impl Plugin for Fixture {
    type AudioProcessor<'a> = Processor<'a>;
    type Shared<'a> = Shared<'a>;
    type MainThread<'a> = MainThread<'a>;

    fn declare_extensions(builder: &mut PluginExtensions<Self>, _shared: Option<&Shared<'_>>) {
        builder
            .register::<PluginAudioPorts>()
            .register::<PluginParams>()
            .register::<PluginLatency>()
            .register::<PluginState>();
    }
}

impl DefaultPluginFactory for Fixture {
    fn get_descriptor() -> PluginDescriptor {
        PluginDescriptor::new("dev.underscore.harness-fixture", "Harness Fixture")
            .with_vendor("Underscore developers")
            .with_version("0.0.0")
            .with_features([c"audio-effect", c"stereo"])
    }

    fn new_shared(host: HostSharedHandle<'_>) -> Result<Shared<'_>, PluginError> {
        Ok(Shared {
            _host: host,
            gain: AtomicU64::new(1.0f64.to_bits()),
            aux_mix: AtomicU64::new(1.0f64.to_bits()),
            latency: AtomicU32::new(0),
            thread_ok: AtomicI32::new(0),
        })
    }

    fn new_main_thread<'a>(
        host: HostMainThreadHandle<'a>,
        shared: &'a Shared<'a>,
    ) -> Result<MainThread<'a>, PluginError> {
        Ok(MainThread {
            shared,
            host,
            reported_latency: Cell::new(0),
        })
    }
}

clack_export_entry!(SinglePluginEntry<Fixture>);
