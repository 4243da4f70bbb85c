//! [`ClapInstance`]: one plugin instance loaded from a `.clap` file and driven through the
//! CLAP ABI.

use crate::error::HostError;
use crate::host::{
    CallbackCounts, CallbackRecord, HarnessHost, HostMainThread, HostShared, LogEntry, Phase,
};
use clack_extensions::audio_ports::{AudioPortFlags, AudioPortInfoBuffer, PluginAudioPorts};
use clack_extensions::audio_ports_config::{AudioPortsConfigBuffer, PluginAudioPortsConfig};
use clack_extensions::latency::PluginLatency;
use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_extensions::state::PluginState;
use clack_host::events::Pckn;
use clack_host::events::event_types::ParamValueEvent;
use clack_host::events::io::{EventBuffer, InputEvents, OutputEvents};
use clack_host::prelude::{
    AudioPortBuffer, AudioPortBufferType, AudioPorts, HostInfo, InputChannel,
    PluginAudioConfiguration, PluginAudioProcessor, PluginEntry, PluginInstance, ProcessStatus,
};
use clack_host::utils::ClapId;
use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

/// What the plugin factory says about a plugin (`clap_plugin_descriptor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// Unique plugin id, e.g. `"com.example.underscore"`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Vendor name.
    pub vendor: String,
    /// Version string.
    pub version: String,
    /// Feature tags (`"audio-effect"`, `"stereo"`, ...).
    pub features: Vec<String>,
}

/// One audio port as declared by the plugin's audio-ports extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortInfo {
    /// The port's stable id.
    pub id: u32,
    /// Display name (e.g. `"Dialogue"` for Underscore's sidechain).
    pub name: String,
    /// Number of channels.
    pub channel_count: u32,
    /// `CLAP_AUDIO_PORT_IS_MAIN` is set.
    pub is_main: bool,
    /// The port type (`"mono"`, `"stereo"`, ...), if the plugin gave one.
    pub port_type: Option<String>,
}

/// One audio-ports configuration (layout) the plugin offers through the `audio-ports-config`
/// extension (`clap_audio_ports_config`). Select it with
/// [`ClapInstance::select_audio_port_config`] while the plugin is inactive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortConfig {
    /// The configuration's id, to pass to [`ClapInstance::select_audio_port_config`].
    pub id: u32,
    /// Display name (e.g. `"Stereo"`, or whatever the plugin generates).
    pub name: String,
    /// Number of input ports (main + auxiliary) in this configuration.
    pub input_port_count: u32,
    /// Number of output ports (main + auxiliary) in this configuration.
    pub output_port_count: u32,
    /// Channels of the main input port; 0 if the configuration has no main input.
    pub input_channels: u32,
    /// Channels of the main output port; 0 if the configuration has no main output.
    pub output_channels: u32,
    /// Port type of the main input (`"mono"`, `"stereo"`, ...), if the plugin gave one.
    pub input_port_type: Option<String>,
    /// Port type of the main output, if the plugin gave one.
    pub output_port_type: Option<String>,
}

/// One parameter as declared by the plugin's params extension.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamInfo {
    /// CLAP parameter id (for nice-plug plugins, a hash of the Rust-side id string).
    pub id: u32,
    /// Display name.
    pub name: String,
    /// Module path (`"Group/Sub"`), often empty.
    pub module: String,
    /// Minimum plain value.
    pub min: f64,
    /// Maximum plain value.
    pub max: f64,
    /// Default plain value.
    pub default: f64,
    /// Raw `CLAP_PARAM_*` flags.
    pub flags: u32,
}

impl ParamInfo {
    /// `CLAP_PARAM_IS_STEPPED` is set.
    pub fn is_stepped(&self) -> bool {
        self.flags & clack_extensions::params::ParamInfoFlags::IS_STEPPED.bits() != 0
    }

    /// `CLAP_PARAM_IS_BYPASS` is set.
    pub fn is_bypass(&self) -> bool {
        self.flags & clack_extensions::params::ParamInfoFlags::IS_BYPASS.bits() != 0
    }
}

/// A parameter change sent along with audio.
///
/// In [`ClapInstance::process`] `sample_offset` is relative to the start of the block; in
/// [`ClapInstance::render`] it is an absolute position in the whole signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamEvent {
    /// Sample position of the change.
    pub sample_offset: u32,
    /// CLAP parameter id.
    pub param_id: u32,
    /// New plain value (in the range of [`ParamInfo::min`]..=[`ParamInfo::max`]).
    pub value: f64,
}

impl ParamEvent {
    /// Shorthand constructor.
    pub fn new(sample_offset: u32, param_id: u32, value: f64) -> Self {
        Self {
            sample_offset,
            param_id,
            value,
        }
    }
}

/// How [`ClapInstance::render`] cuts a signal into blocks.
///
/// Implemented for `usize` (a fixed block size) and for any `FnMut() -> usize` (called once per
/// block, e.g. to produce irregular block sizes). Sizes are clamped to `1..=max_frames`, and the
/// last block is shorter if the signal runs out.
pub trait BlockSizes {
    /// The size of the next block.
    fn next_block_size(&mut self) -> usize;
}

impl BlockSizes for usize {
    fn next_block_size(&mut self) -> usize {
        *self
    }
}

impl<F: FnMut() -> usize> BlockSizes for F {
    fn next_block_size(&mut self) -> usize {
        self()
    }
}

/// Hooks called immediately around the plugin's `clap_plugin.process` call, on the thread that
/// drives the instance (see [`ClapInstance::process_probed`]). Everything else the harness does
/// for a block (copying the inputs, building the event list, starting processing, servicing
/// main-thread callbacks) happens outside `before()`..`after()`, so a probe that reads a clock
/// measures the plugin's own work plus the ABI call itself.
pub trait ProcessProbe {
    /// Called right before `clap_plugin.process`, after the buffers and events are in place.
    fn before(&mut self);
    /// Called right after `clap_plugin.process` returned (also when it reported an error).
    fn after(&mut self);
}

/// The no-op probe.
impl ProcessProbe for () {
    fn before(&mut self) {}
    fn after(&mut self) {}
}

/// The plugin extensions the harness uses, queried once after instantiation.
#[derive(Clone, Copy)]
struct PluginExtensions {
    params: Option<PluginParams>,
    audio_ports: Option<PluginAudioPorts>,
    audio_ports_config: Option<PluginAudioPortsConfig>,
    state: Option<PluginState>,
    latency: Option<PluginLatency>,
}

/// Everything that exists only while the plugin is activated.
struct ActiveState {
    config: PluginAudioConfiguration,
    processor: PluginAudioProcessor<HarnessHost>,
    inputs: Vec<PortInfo>,
    outputs: Vec<PortInfo>,
    /// index of the main input port in `inputs`, if any.
    main_in: Option<usize>,
    /// index of the first non-main input port (the sidechain), if any.
    aux_in: Option<usize>,
    /// index of the main output port in `outputs`, if any.
    main_out: Option<usize>,
    /// per port, per channel, `max_frames` samples.
    in_bufs: Vec<Vec<Vec<f32>>>,
    out_bufs: Vec<Vec<Vec<f32>>>,
    in_ports: AudioPorts,
    out_ports: AudioPorts,
    in_events: EventBuffer,
    out_events: EventBuffer,
    /// frames of the last processed block (what `out_bufs` holds).
    last_frames: usize,
}

/// A CLAP plugin instance loaded from a `.clap` file, hosted through the real CLAP ABI.
///
/// Create and use it from a single thread: that thread is the host's main thread, and also
/// acts as the audio thread while [`process`](Self::process) runs (the host's thread-check
/// extension reports exactly that to the plugin).
///
/// Dropping the instance stops processing, deactivates and destroys the plugin.
pub struct ClapInstance {
    // `active` must be dropped (deactivated) before `instance`: see `Drop`.
    active: Option<ActiveState>,
    instance: PluginInstance<HarnessHost>,
    ext: PluginExtensions,
    descriptor: Descriptor,
    path: PathBuf,
    last_config: Option<PluginAudioConfiguration>,
    /// The audio-ports configuration last selected through the harness, if any.
    selected_port_config: Option<u32>,
    steady_time: u64,
    last_status: Option<ProcessStatus>,
    /// Whether `process` services main-thread requests after each block.
    pump_after_process: bool,
}

fn cstr_to_string(s: Option<&CStr>) -> String {
    s.map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn bytes_to_string(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn load_entry(path: &Path) -> Result<PluginEntry, HostError> {
    if !path.exists() {
        return Err(HostError::BundleNotFound(path.to_path_buf()));
    }
    // SAFETY: loading a dynamic library runs its initialisers; the harness trusts the plugin
    // under test, which is the whole point of the harness.
    unsafe { PluginEntry::load(path) }.map_err(|e| HostError::EntryLoad {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn descriptors_of(entry: &PluginEntry, path: &Path) -> Result<Vec<Descriptor>, HostError> {
    let factory = entry
        .get_plugin_factory()
        .ok_or_else(|| HostError::NoPluginFactory(path.to_path_buf()))?;
    Ok(factory
        .plugin_descriptors()
        .map(|d| Descriptor {
            id: cstr_to_string(d.id()),
            name: cstr_to_string(d.name()),
            vendor: cstr_to_string(d.vendor()),
            version: cstr_to_string(d.version()),
            features: d
                .features()
                .map(|f| f.to_string_lossy().into_owned())
                .collect(),
        })
        .collect())
}

/// Lists the plugins in a `.clap` file's factory, without instantiating any.
pub fn list_plugins(path: impl AsRef<Path>) -> Result<Vec<Descriptor>, HostError> {
    let path = path.as_ref();
    let entry = load_entry(path)?;
    descriptors_of(&entry, path)
}

/// Runs `f` with the host's "in audio thread" flag set, so the thread-check extension reports
/// the calling thread as the audio thread (and not the main thread) meanwhile.
fn as_audio_thread<R>(instance: &PluginInstance<HarnessHost>, f: impl FnOnce() -> R) -> R {
    instance.access_shared_handler(|s: &HostShared| s.in_audio.store(true, Ordering::SeqCst));
    let r = f();
    instance.access_shared_handler(|s: &HostShared| s.in_audio.store(false, Ordering::SeqCst));
    r
}

/// Copies `signal` (channels of `frames` samples) into input port `port`'s buffers.
fn fill_port<S: AsRef<[f32]>>(
    active: &mut ActiveState,
    port: Option<usize>,
    signal: &[S],
    frames: usize,
    what: &str,
) -> Result<(), HostError> {
    if signal.is_empty() {
        return Ok(());
    }
    let Some(p) = port else {
        return Err(HostError::InvalidInput(format!(
            "{what} signal given, but the plugin declares no such input port"
        )));
    };
    let bufs = &mut active.in_bufs[p];
    if bufs.len() != signal.len() {
        return Err(HostError::InvalidInput(format!(
            "{what} signal has {} channels, the port {:?} has {}",
            signal.len(),
            active.inputs[p].name,
            bufs.len()
        )));
    }
    for (ch, src) in bufs.iter_mut().zip(signal) {
        ch[..frames].copy_from_slice(src.as_ref());
    }
    Ok(())
}

impl ClapInstance {
    /// Loads the `.clap` file at `path` and instantiates the plugin `plugin_id`, or the first
    /// plugin in the factory if `None`.
    ///
    /// The calling thread becomes the host's main thread for this instance.
    pub fn new(path: impl AsRef<Path>, plugin_id: Option<&str>) -> Result<Self, HostError> {
        let path = path.as_ref();
        let entry = load_entry(path)?;
        let descriptors = descriptors_of(&entry, path)?;
        let descriptor = match plugin_id {
            Some(id) => descriptors.iter().find(|d| d.id == id),
            None => descriptors.first(),
        }
        .cloned()
        .ok_or_else(|| HostError::PluginNotFound {
            requested: plugin_id.map(str::to_owned),
            available: descriptors.iter().map(|d| d.id.clone()).collect(),
        })?;

        let host_info = HostInfo::new(
            "underscore-tests",
            "Underscore developers",
            "https://example.invalid/underscore",
            env!("CARGO_PKG_VERSION"),
        )
        .map_err(|e| HostError::Instantiation(e.to_string()))?;
        let id = CString::new(descriptor.id.clone())
            .map_err(|e| HostError::Instantiation(e.to_string()))?;

        let instance = PluginInstance::<HarnessHost>::new(
            |_| HostShared::new(),
            |shared| HostMainThread { shared },
            &entry,
            &id,
            &host_info,
        )
        .map_err(|e| HostError::Instantiation(e.to_string()))?;

        let handle = instance.plugin_shared_handle();
        let ext = PluginExtensions {
            params: handle.get_extension(),
            audio_ports: handle.get_extension(),
            audio_ports_config: handle.get_extension(),
            state: handle.get_extension(),
            latency: handle.get_extension(),
        };

        let mut this = Self {
            active: None,
            instance,
            ext,
            descriptor,
            path: path.to_path_buf(),
            last_config: None,
            selected_port_config: None,
            steady_time: 0,
            last_status: None,
            pump_after_process: true,
        };
        this.pump_main_thread();
        Ok(this)
    }

    /// The descriptor of the instantiated plugin.
    pub fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    /// The `.clap` file this instance was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True between [`activate`](Self::activate) and [`deactivate`](Self::deactivate).
    pub fn is_active(&self) -> bool {
        self.active.is_some()
    }

    /// The audio ports the plugin declares (inputs if `is_input`, else outputs), in port order.
    /// Empty if the plugin has no audio-ports extension.
    pub fn audio_ports(&mut self, is_input: bool) -> Vec<PortInfo> {
        let Some(ports) = self.ext.audio_ports else {
            return Vec::new();
        };
        let handle = self.instance.plugin_handle();
        let count = ports.count(&handle, is_input);
        let mut buf = AudioPortInfoBuffer::new();
        (0..count)
            .filter_map(|i| {
                ports.get(&handle, i, is_input, &mut buf).map(|p| PortInfo {
                    id: p.id.get(),
                    name: bytes_to_string(p.name),
                    channel_count: p.channel_count,
                    is_main: p.flags.contains(AudioPortFlags::IS_MAIN),
                    port_type: p.port_type.map(|t| t.0.to_string_lossy().into_owned()),
                })
            })
            .collect()
    }

    /// Whether the plugin implements the `audio-ports-config` extension.
    pub fn has_audio_ports_config_extension(&self) -> bool {
        self.ext.audio_ports_config.is_some()
    }

    /// The audio-ports configurations (layouts) the plugin offers through the
    /// `audio-ports-config` extension, in the plugin's order. Empty if the plugin does not
    /// implement the extension.
    ///
    /// Only the main ports' channel counts are part of a configuration; the auxiliary ports'
    /// channel counts are visible through [`audio_ports`](Self::audio_ports) once the
    /// configuration is selected.
    pub fn audio_port_configs(&mut self) -> Vec<PortConfig> {
        let Some(configs) = self.ext.audio_ports_config else {
            return Vec::new();
        };
        let handle = self.instance.plugin_handle();
        let mut buf = AudioPortsConfigBuffer::new();
        (0..configs.count(&handle))
            .filter_map(|i| {
                configs.get(&handle, i, &mut buf).map(|c| {
                    let port_type =
                        |p: Option<clack_extensions::audio_ports_config::MainPortInfo<'_>>| {
                            p.and_then(|p| p.port_type)
                                .map(|t| t.0.to_string_lossy().into_owned())
                        };
                    PortConfig {
                        id: c.id.get(),
                        name: bytes_to_string(c.name),
                        input_port_count: c.input_port_count,
                        output_port_count: c.output_port_count,
                        input_channels: c.main_input.map_or(0, |p| p.channel_count),
                        output_channels: c.main_output.map_or(0, |p| p.channel_count),
                        input_port_type: port_type(c.main_input),
                        output_port_type: port_type(c.main_output),
                    }
                })
            })
            .collect()
    }

    /// Selects the audio-ports configuration `id` (`clap_plugin_audio_ports_config.select`).
    ///
    /// Only allowed while the plugin is inactive ([`HostError::AlreadyActive`] otherwise, and
    /// the plugin is not called). [`HostError::MissingExtension`] if the plugin does not
    /// implement `audio-ports-config`; [`HostError::InvalidInput`] if `id` is not one of
    /// [`audio_port_configs`](Self::audio_port_configs) or the plugin refuses it.
    ///
    /// Afterwards [`audio_ports`](Self::audio_ports) shows the new ports, and the next
    /// [`activate`](Self::activate) allocates a buffer with the new channel count for every
    /// port, so `main_in`/`aux_in` given to [`process`](Self::process) must then have the new
    /// channel counts.
    pub fn select_audio_port_config(&mut self, id: u32) -> Result<(), HostError> {
        if self.active.is_some() {
            return Err(HostError::AlreadyActive);
        }
        let configs = self
            .ext
            .audio_ports_config
            .ok_or(HostError::MissingExtension("audio-ports-config"))?;
        let offered: Vec<u32> = self.audio_port_configs().iter().map(|c| c.id).collect();
        if !offered.contains(&id) {
            return Err(HostError::InvalidInput(format!(
                "audio-ports configuration {id} is not offered (the plugin offers {offered:?})"
            )));
        }
        let cid = ClapId::from_raw(id)
            .ok_or_else(|| HostError::InvalidInput(format!("{id} is not a valid CLAP id")))?;
        let result = configs
            .select(&self.instance.plugin_handle(), cid)
            .map_err(|_| {
                HostError::InvalidInput(format!(
                    "the plugin refused audio-ports configuration {id}"
                ))
            });
        if result.is_ok() {
            self.selected_port_config = Some(id);
        }
        self.pump_main_thread();
        result
    }

    /// The audio-ports configuration last selected successfully through
    /// [`select_audio_port_config`](Self::select_audio_port_config) on this instance (`None`:
    /// never selected, i.e. the plugin's default layout).
    pub fn selected_audio_port_config(&self) -> Option<u32> {
        self.selected_port_config
    }

    /// All parameters the plugin declares, in the plugin's order.
    pub fn params(&mut self) -> Vec<ParamInfo> {
        let Some(params) = self.ext.params else {
            return Vec::new();
        };
        let handle = self.instance.plugin_handle();
        let mut buf = ParamInfoBuffer::new();
        (0..params.count(&handle))
            .filter_map(|i| {
                params.get_info(&handle, i, &mut buf).map(|p| ParamInfo {
                    id: p.id.get(),
                    name: bytes_to_string(p.name),
                    module: bytes_to_string(p.module),
                    min: p.min_value,
                    max: p.max_value,
                    default: p.default_value,
                    flags: p.flags.bits(),
                })
            })
            .collect()
    }

    /// The parameter whose display name is `name` (exact match first, then case-insensitive).
    pub fn param_by_name(&mut self, name: &str) -> Option<ParamInfo> {
        let all = self.params();
        all.iter()
            .find(|p| p.name == name)
            .or_else(|| all.iter().find(|p| p.name.eq_ignore_ascii_case(name)))
            .cloned()
    }

    /// Like [`param_by_name`](Self::param_by_name), but an error naming the available
    /// parameters if there is none.
    pub fn require_param(&mut self, name: &str) -> Result<ParamInfo, HostError> {
        self.param_by_name(name).ok_or_else(|| {
            let names: Vec<String> = self.params().into_iter().map(|p| p.name).collect();
            HostError::UnknownParam(format!("{name:?} (available: {names:?})"))
        })
    }

    fn params_ext(&self) -> Result<PluginParams, HostError> {
        self.ext.params.ok_or(HostError::MissingExtension("params"))
    }

    fn clap_id(id: u32) -> Result<ClapId, HostError> {
        ClapId::from_raw(id).ok_or_else(|| HostError::UnknownParam(format!("id {id}")))
    }

    /// The current plain value of parameter `id` (`clap_plugin_params.get_value`).
    pub fn param_value(&mut self, id: u32) -> Result<f64, HostError> {
        let params = self.params_ext()?;
        let cid = Self::clap_id(id)?;
        params
            .get_value(&self.instance.plugin_handle(), cid)
            .ok_or(HostError::ParamCall {
                id,
                call: "get_value",
            })
    }

    /// The plugin's text for plain value `value` of parameter `id`.
    pub fn value_to_text(&mut self, id: u32, value: f64) -> Result<String, HostError> {
        let params = self.params_ext()?;
        let cid = Self::clap_id(id)?;
        let mut buf = [0u8; 256];
        let text = params
            .value_to_text(&self.instance.plugin_handle(), cid, value, &mut buf)
            .map_err(|_| HostError::ParamCall {
                id,
                call: "value_to_text",
            })?;
        Ok(bytes_to_string(text))
    }

    /// The plain value the plugin parses from `text` for parameter `id`, or `None` if the
    /// plugin refuses the text (or has no params extension).
    pub fn text_to_value(&mut self, id: u32, text: &str) -> Option<f64> {
        let params = self.ext.params?;
        let cid = ClapId::from_raw(id)?;
        let text = CString::new(text).ok()?;
        params.text_to_value(&self.instance.plugin_handle(), cid, &text)
    }

    /// Sets parameter `id` to plain `value` outside of `process`, through
    /// `clap_plugin_params.flush` (on the main thread while inactive; while active, on the
    /// "audio thread" between process calls, as CLAP requires).
    ///
    /// Use this to configure the plugin before [`activate`](Self::activate) or between
    /// blocks. Main-thread callbacks the plugin requests meanwhile are serviced.
    pub fn set_param_inactive(&mut self, id: u32, value: f64) -> Result<(), HostError> {
        self.set_params_inactive(&[(id, value)])
    }

    /// Several [`set_param_inactive`](Self::set_param_inactive) changes in one flush.
    pub fn set_params_inactive(&mut self, changes: &[(u32, f64)]) -> Result<(), HostError> {
        let params = self.params_ext()?;
        let mut input = EventBuffer::with_capacity(changes.len());
        for &(id, value) in changes {
            let cid = Self::clap_id(id)?;
            input.push(&ParamValueEvent::new(0, cid, Pckn::match_all(), value));
        }
        let mut output = EventBuffer::new();
        if let Some(active) = self.active.as_mut() {
            let instance = &self.instance;
            let processor = &mut active.processor;
            as_audio_thread(instance, || {
                let mut handle = processor.plugin_handle();
                params.flush_active(
                    &mut handle,
                    &input.as_input(),
                    &mut OutputEvents::from_buffer(&mut output),
                );
            });
        } else {
            let mut handle = self
                .instance
                .inactive_plugin_handle()
                .ok_or(HostError::AlreadyActive)?;
            params.flush(
                &mut handle,
                &input.as_input(),
                &mut OutputEvents::from_buffer(&mut output),
            );
        }
        self.pump_main_thread();
        Ok(())
    }

    /// Activates the plugin (`clap_plugin.activate`) and allocates buffers for every audio
    /// port it declares. Processing starts lazily at the first [`process`](Self::process).
    pub fn activate(
        &mut self,
        sample_rate: f64,
        min_frames: u32,
        max_frames: u32,
    ) -> Result<(), HostError> {
        if self.active.is_some() {
            return Err(HostError::AlreadyActive);
        }
        if min_frames == 0 || max_frames == 0 || min_frames > max_frames || sample_rate <= 0.0 {
            return Err(HostError::InvalidInput(format!(
                "bad audio configuration: sr={sample_rate} min={min_frames} max={max_frames}"
            )));
        }
        let config = PluginAudioConfiguration {
            sample_rate,
            min_frames_count: min_frames,
            max_frames_count: max_frames,
        };
        let inputs = self.audio_ports(true);
        let outputs = self.audio_ports(false);
        let frames = max_frames as usize;
        let alloc = |ports: &[PortInfo]| -> Vec<Vec<Vec<f32>>> {
            ports
                .iter()
                .map(|p| vec![vec![0.0f32; frames]; p.channel_count as usize])
                .collect()
        };
        let in_bufs = alloc(&inputs);
        let out_bufs = alloc(&outputs);
        let total_in: usize = inputs.iter().map(|p| p.channel_count as usize).sum();
        let total_out: usize = outputs.iter().map(|p| p.channel_count as usize).sum();

        let main_in = inputs
            .iter()
            .position(|p| p.is_main)
            .or(if inputs.is_empty() { None } else { Some(0) });
        let aux_in = inputs
            .iter()
            .enumerate()
            .position(|(i, _)| Some(i) != main_in);
        let main_out = outputs
            .iter()
            .position(|p| p.is_main)
            .or(if outputs.is_empty() { None } else { Some(0) });

        self.shared(|s| s.set_phase(Phase::Activating));
        let stopped = self.instance.activate(|_, _| (), config);
        self.shared(|s| {
            s.set_phase(if stopped.is_ok() {
                Phase::Active
            } else {
                Phase::Inactive
            })
        });
        let stopped = stopped.map_err(|e| HostError::Activation(e.to_string()))?;

        self.active = Some(ActiveState {
            config,
            processor: stopped.into(),
            in_ports: AudioPorts::with_capacity(total_in, inputs.len()),
            out_ports: AudioPorts::with_capacity(total_out, outputs.len()),
            inputs,
            outputs,
            main_in,
            aux_in,
            main_out,
            in_bufs,
            out_bufs,
            in_events: EventBuffer::with_capacity(64),
            out_events: EventBuffer::with_capacity(64),
            last_frames: 0,
        });
        self.last_config = Some(config);
        self.pump_main_thread();
        Ok(())
    }

    /// Stops processing (if started) and deactivates the plugin. Does nothing if inactive.
    pub fn deactivate(&mut self) {
        if let Some(active) = self.active.take() {
            let instance = &self.instance;
            let stopped = as_audio_thread(instance, || active.processor.into_stopped());
            self.shared(|s| s.set_phase(Phase::Deactivating));
            self.instance.deactivate(stopped);
            self.shared(|s| s.set_phase(Phase::Inactive));
        }
        self.pump_main_thread();
    }

    /// Calls `stop_processing` if processing was started; the next
    /// [`process`](Self::process) starts it again (a discontinuity, like a transport stop).
    pub fn stop_processing(&mut self) {
        if let Some(active) = self.active.as_mut() {
            let instance = &self.instance;
            let processor = &mut active.processor;
            as_audio_thread(instance, || {
                processor.ensure_processing_stopped();
            });
        }
        self.pump_main_thread();
    }

    /// Deactivates and re-activates with the configuration of the last
    /// [`activate`](Self::activate), e.g. after the plugin asked for a restart because a
    /// parameter changed its latency. Clears [`restart_requested`](Self::restart_requested).
    pub fn restart(&mut self) -> Result<(), HostError> {
        let config = self.last_config.ok_or(HostError::NotActive)?;
        self.deactivate();
        self.shared(|s| s.restart_pending.store(false, Ordering::SeqCst));
        self.activate(
            config.sample_rate,
            config.min_frames_count,
            config.max_frames_count,
        )
    }

    /// The audio configuration of the current activation.
    pub fn audio_config(&self) -> Option<(f64, u32, u32)> {
        self.active.as_ref().map(|a| {
            (
                a.config.sample_rate,
                a.config.min_frames_count,
                a.config.max_frames_count,
            )
        })
    }

    /// The plugin's latency in samples (`clap_plugin_latency.get`; 0 without the extension).
    pub fn latency(&mut self) -> u32 {
        match self.ext.latency {
            Some(l) => l.get(&self.instance.plugin_handle()),
            None => 0,
        }
    }

    /// Whether the plugin implements the latency extension.
    pub fn has_latency_extension(&self) -> bool {
        self.ext.latency.is_some()
    }

    fn shared<R>(&self, f: impl FnOnce(&HostShared) -> R) -> R {
        self.instance.access_shared_handler(|s: &HostShared| f(s))
    }

    /// True if the plugin called `request_restart` since the last [`restart`](Self::restart).
    pub fn restart_requested(&self) -> bool {
        self.shared(|s| s.restart_pending.load(Ordering::SeqCst))
    }

    /// True if `clap_host_latency.changed` was called since the last call of this method
    /// (reading clears it).
    pub fn take_latency_changed(&self) -> bool {
        self.shared(|s| s.latency_changed_pending.swap(false, Ordering::SeqCst))
    }

    /// How often the plugin called each host callback so far.
    pub fn callbacks(&self) -> CallbackCounts {
        self.shared(HostShared::counts)
    }

    /// Every host callback the plugin made so far, in order, with the instance's phase and the
    /// calling thread (the first 16384; see [`records_dropped`](Self::records_dropped)).
    pub fn callback_records(&self) -> Vec<CallbackRecord> {
        self.shared(|s| s.records.lock().map(|r| r.clone()).unwrap_or_default())
    }

    /// Callbacks made after the record buffer was full (counted, not recorded).
    pub fn records_dropped(&self) -> u32 {
        self.shared(|s| s.records_dropped.load(Ordering::SeqCst))
    }

    /// Whether the harness services the plugin's main-thread requests after every `process`
    /// (default: yes). Off, they wait for the next [`pump_main_thread`](Self::pump_main_thread)
    /// or [`deactivate`](Self::deactivate), as in a host whose main thread runs late: a
    /// request made while processing may then be serviced after the plugin was deactivated.
    pub fn set_pump_after_process(&mut self, on: bool) {
        self.pump_after_process = on;
    }

    /// Everything the plugin logged through `clap_host_log` so far.
    pub fn log_messages(&self) -> Vec<LogEntry> {
        self.shared(|s| s.log.lock().map(|l| l.clone()).unwrap_or_default())
    }

    /// Services what the plugin asked of the main thread: calls `on_main_thread` while a
    /// `request_callback` is pending, and flushes parameters when an inactive plugin asked for
    /// it with `request_flush`. The harness calls this after every operation; tests rarely need
    /// to.
    pub fn pump_main_thread(&mut self) {
        // A callback may request another one; bound the loop in case a plugin always does.
        for _ in 0..16 {
            let callback = self.shared(|s| s.callback_pending.swap(false, Ordering::SeqCst));
            let flush = self.active.is_none()
                && self.shared(|s| s.flush_pending.swap(false, Ordering::SeqCst));
            if !callback && !flush {
                break;
            }
            if callback {
                self.instance.call_on_main_thread_callback();
            }
            if flush
                && let Some(params) = self.ext.params
                && let Some(mut handle) = self.instance.inactive_plugin_handle()
            {
                let mut out = EventBuffer::new();
                params.flush(
                    &mut handle,
                    &InputEvents::empty(),
                    &mut OutputEvents::from_buffer(&mut out),
                );
            }
        }
    }

    /// The [`ProcessStatus`] the last successful `process` call returned.
    pub fn last_process_status(&self) -> Option<ProcessStatus> {
        self.last_status
    }

    /// The steady-time counter: total frames processed since instantiation.
    pub fn steady_time(&self) -> u64 {
        self.steady_time
    }

    /// Processes one block. `main_in` goes to the main input port and `aux_in` to the first
    /// non-main input port (the sidechain); either may be an empty slice, meaning silence with
    /// the port's channel count. Every other declared port gets silence, every output port a
    /// buffer. All given channels must have the same length, at most `max_frames`.
    ///
    /// `events` carry block-relative sample offsets (`< frames`); they are sorted by offset
    /// before they are sent.
    ///
    /// Returns the main output port's channels (channels x frames).
    pub fn process(
        &mut self,
        main_in: &[Vec<f32>],
        aux_in: &[Vec<f32>],
        events: &[ParamEvent],
    ) -> Result<Vec<Vec<f32>>, HostError> {
        self.process_slices(main_in, aux_in, events)
    }

    fn process_slices<M: AsRef<[f32]>, A: AsRef<[f32]>>(
        &mut self,
        main_in: &[M],
        aux_in: &[A],
        events: &[ParamEvent],
    ) -> Result<Vec<Vec<f32>>, HostError> {
        self.process_probed(main_in, aux_in, events, &mut ())?;
        let active = self.active.as_ref().ok_or(HostError::NotActive)?;
        let frames = active.last_frames;
        Ok(match active.main_out {
            Some(p) => active.out_bufs[p]
                .iter()
                .map(|ch| ch[..frames].to_vec())
                .collect(),
            None => Vec::new(),
        })
    }

    /// Like [`process`](Self::process), for benchmarks: the inputs may be borrowed slices (no
    /// copy into owned vectors needed), `probe` is called immediately before and after the
    /// plugin's `clap_plugin.process` (see [`ProcessProbe`]), and the output stays in the
    /// harness' buffers instead of being copied out: read it with
    /// [`main_output`](Self::main_output). Without events nothing is allocated.
    ///
    /// Returns the number of frames processed.
    pub fn process_probed<M: AsRef<[f32]>, A: AsRef<[f32]>, P: ProcessProbe>(
        &mut self,
        main_in: &[M],
        aux_in: &[A],
        events: &[ParamEvent],
        probe: &mut P,
    ) -> Result<usize, HostError> {
        let active = self.active.as_mut().ok_or(HostError::NotActive)?;

        // Frame count: common length of all given channels.
        let mut lens = main_in
            .iter()
            .map(|c| c.as_ref().len())
            .chain(aux_in.iter().map(|c| c.as_ref().len()));
        let frames = match lens.next() {
            Some(first) => {
                if lens.any(|l| l != first) {
                    return Err(HostError::InvalidInput(
                        "all input channels must have the same length".into(),
                    ));
                }
                first
            }
            None => {
                return Err(HostError::InvalidInput(
                    "no input signal given: cannot tell the block length".into(),
                ));
            }
        };
        let max = active.config.max_frames_count as usize;
        if frames > max {
            return Err(HostError::InvalidInput(format!(
                "block of {frames} frames exceeds max_frames {max}"
            )));
        }
        let frames_u32 =
            u32::try_from(frames).map_err(|_| HostError::InvalidInput("block too long".into()))?;
        if let Some(e) = events.iter().find(|e| e.sample_offset >= frames_u32) {
            return Err(HostError::InvalidInput(format!(
                "event at offset {} is outside the block of {frames} frames",
                e.sample_offset
            )));
        }

        // Fill the input buffers.
        for port in active.in_bufs.iter_mut() {
            for ch in port.iter_mut() {
                ch[..frames].fill(0.0);
            }
        }
        let (main_port, aux_port) = (active.main_in, active.aux_in);
        fill_port(active, main_port, main_in, frames, "main")?;
        fill_port(active, aux_port, aux_in, frames, "aux")?;
        for port in active.out_bufs.iter_mut() {
            for ch in port.iter_mut() {
                ch[..frames].fill(0.0);
            }
        }

        // Events, sorted by time (no allocation for an empty list).
        let mut sorted: Vec<ParamEvent> = events.to_vec();
        sorted.sort_by_key(|e| e.sample_offset);
        active.in_events.clear();
        for e in &sorted {
            let cid = Self::clap_id(e.param_id)?;
            active.in_events.push(&ParamValueEvent::new(
                e.sample_offset,
                cid,
                Pckn::match_all(),
                e.value,
            ));
        }
        active.out_events.clear();

        let instance = &self.instance;
        let steady_time = self.steady_time;
        let ActiveState {
            processor,
            in_bufs,
            out_bufs,
            in_ports,
            out_ports,
            in_events,
            out_events,
            ..
        } = active;

        let result = as_audio_thread(instance, || {
            let started = processor
                .ensure_processing_started()
                .map_err(|_| HostError::StartProcessing)?;
            let inputs = in_ports.with_input_buffers(in_bufs.iter_mut().map(|port| {
                AudioPortBuffer {
                    latency: 0,
                    channels: AudioPortBufferType::f32_input_only(
                        port.iter_mut()
                            .map(|ch| InputChannel::variable(&mut ch[..frames])),
                    ),
                }
            }));
            let mut outputs =
                out_ports.with_output_buffers(out_bufs.iter_mut().map(|port| AudioPortBuffer {
                    latency: 0,
                    channels: AudioPortBufferType::f32_output_only(
                        port.iter_mut().map(|ch| &mut ch[..frames]),
                    ),
                }));
            let input_events = in_events.as_input();
            let mut output_events = OutputEvents::from_buffer(out_events);
            probe.before();
            let status = started.process(
                &inputs,
                &mut outputs,
                &input_events,
                &mut output_events,
                Some(steady_time),
                None,
            );
            probe.after();
            status.map_err(|e| HostError::Process(e.to_string()))
        });

        self.steady_time += frames as u64;
        active.last_frames = frames;
        let status = result?;
        self.last_status = Some(status);
        if self.pump_after_process {
            self.pump_main_thread();
        }
        Ok(frames)
    }

    /// Channel `channel` of the main output port after the last processed block (its frames
    /// only); `None` if inactive or there is no such channel.
    pub fn main_output(&self, channel: usize) -> Option<&[f32]> {
        let active = self.active.as_ref()?;
        let port = active.out_bufs.get(active.main_out?)?;
        port.get(channel).map(|ch| &ch[..active.last_frames])
    }

    /// Renders whole signals block by block: `main_in`/`aux_in` (as in
    /// [`process`](Self::process), but of any length) are cut into blocks of the sizes
    /// `blocks` gives (see [`BlockSizes`]; the last block is shorter), and each event, whose
    /// `sample_offset` is an absolute position, is sent in the block containing it with a
    /// block-relative offset.
    ///
    /// Returns the concatenated main output (channels x total frames).
    pub fn render(
        &mut self,
        main_in: &[Vec<f32>],
        aux_in: &[Vec<f32>],
        mut blocks: impl BlockSizes,
        events: &[ParamEvent],
    ) -> Result<Vec<Vec<f32>>, HostError> {
        let max = self
            .active
            .as_ref()
            .ok_or(HostError::NotActive)?
            .config
            .max_frames_count as usize;
        let total = main_in
            .first()
            .or(aux_in.first())
            .map(Vec::len)
            .ok_or_else(|| HostError::InvalidInput("render needs a non-empty signal".into()))?;
        if main_in.iter().chain(aux_in).any(|c| c.len() != total) {
            return Err(HostError::InvalidInput(
                "all input channels must have the same length".into(),
            ));
        }
        if let Some(e) = events.iter().find(|e| e.sample_offset as usize >= total) {
            return Err(HostError::InvalidInput(format!(
                "event at sample {} is past the end of the {total}-sample signal",
                e.sample_offset
            )));
        }
        let mut sorted = events.to_vec();
        sorted.sort_by_key(|e| e.sample_offset);

        let mut out: Vec<Vec<f32>> = Vec::new();
        let mut pos = 0usize;
        let mut next_event = 0usize;
        let mut block_events = Vec::new();
        while pos < total {
            let n = blocks.next_block_size().clamp(1, max).min(total - pos);
            let end = pos + n;
            block_events.clear();
            while next_event < sorted.len() && (sorted[next_event].sample_offset as usize) < end {
                let e = sorted[next_event];
                // pos <= offset < end, so the relative offset fits in u32.
                let rel = u32::try_from(e.sample_offset as usize - pos).unwrap_or(u32::MAX);
                block_events.push(ParamEvent {
                    sample_offset: rel,
                    ..e
                });
                next_event += 1;
            }
            let m: Vec<&[f32]> = main_in.iter().map(|c| &c[pos..end]).collect();
            let a: Vec<&[f32]> = aux_in.iter().map(|c| &c[pos..end]).collect();
            let block = self.process_slices(&m, &a, &block_events)?;
            if out.is_empty() {
                out = block.iter().map(|_| Vec::with_capacity(total)).collect();
            }
            for (o, b) in out.iter_mut().zip(block) {
                o.extend_from_slice(&b);
            }
            pos = end;
        }
        Ok(out)
    }

    fn state_ext(&self) -> Result<PluginState, HostError> {
        self.ext.state.ok_or(HostError::MissingExtension("state"))
    }

    /// The plugin's state (`clap_plugin_state.save`) as bytes.
    pub fn save_state(&mut self) -> Result<Vec<u8>, HostError> {
        let state = self.state_ext()?;
        let mut bytes = Vec::new();
        state
            .save(&self.instance.plugin_handle(), &mut bytes)
            .map_err(|_| HostError::StateSave)?;
        self.pump_main_thread();
        Ok(bytes)
    }

    /// Loads a state (`clap_plugin_state.load`); `Err(HostError::StateLoad)` if the plugin
    /// rejects it.
    pub fn load_state(&mut self, bytes: &[u8]) -> Result<(), HostError> {
        let state = self.state_ext()?;
        let mut reader = bytes;
        let result = state
            .load(&self.instance.plugin_handle(), &mut reader)
            .map_err(|_| HostError::StateLoad);
        self.pump_main_thread();
        result
    }

    /// The input ports of the current activation and the indices the harness routes
    /// `main_in`/`aux_in` to: `(ports, main index, aux index)`.
    pub fn input_routing(&self) -> Option<(Vec<PortInfo>, Option<usize>, Option<usize>)> {
        self.active
            .as_ref()
            .map(|a| (a.inputs.clone(), a.main_in, a.aux_in))
    }

    /// The output ports of the current activation.
    pub fn output_ports_active(&self) -> Option<Vec<PortInfo>> {
        self.active.as_ref().map(|a| a.outputs.clone())
    }
}

impl Drop for ClapInstance {
    fn drop(&mut self) {
        // A PluginInstance dropped while its audio processor lives is leaked, not destroyed:
        // deactivate first so the plugin is destroyed properly.
        self.deactivate();
    }
}
