//! The host side of the CLAP ABI: callbacks the plugin may call, recorded for the tests.

use clack_extensions::audio_ports::{AudioPortRescanFlags, HostAudioPorts, HostAudioPortsImpl};
use clack_extensions::latency::{HostLatency, HostLatencyImpl};
use clack_extensions::log::{HostLog, HostLogImpl, LogSeverity};
use clack_extensions::params::{
    HostParams, HostParamsImplMainThread, HostParamsImplShared, ParamClearFlags, ParamRescanFlags,
};
use clack_extensions::state::{HostState, HostStateImpl};
use clack_extensions::thread_check::{HostThreadCheck, HostThreadCheckImpl};
use clack_host::prelude::{HostExtensions, HostHandlers, MainThreadHandler, SharedHandler};
use clack_host::utils::ClapId;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};
use std::thread::ThreadId;

/// How many times the plugin called each host callback since the instance was created.
///
/// Obtained with [`ClapInstance::callbacks`](crate::ClapInstance::callbacks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallbackCounts {
    /// `clap_host.request_restart()`.
    pub request_restart: u32,
    /// `clap_host.request_process()`.
    pub request_process: u32,
    /// `clap_host.request_callback()`.
    pub request_callback: u32,
    /// `clap_host_latency.changed()`.
    pub latency_changed: u32,
    /// `clap_host_params.rescan()`.
    pub params_rescan: u32,
    /// Union of all flags passed to `clap_host_params.rescan()` (`CLAP_PARAM_RESCAN_*`).
    pub params_rescan_flags: u32,
    /// `clap_host_params.clear()`.
    pub params_clear: u32,
    /// `clap_host_params.request_flush()`.
    pub params_request_flush: u32,
    /// `clap_host_audio_ports.rescan()`.
    pub audio_ports_rescan: u32,
    /// `clap_host_state.mark_dirty()`.
    pub state_mark_dirty: u32,
}

/// One message the plugin sent through `clap_host_log`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The severity's name (e.g. `"Warning"`).
    pub severity: String,
    /// The message text.
    pub message: String,
}

/// Where the plugin instance is in its life cycle, as the harness drives it: recorded with every
/// host callback so a test can check the CLAP rules on when each callback may come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Created or deactivated.
    Inactive,
    /// Inside `clap_plugin.activate`.
    Activating,
    /// Activated (processing or not).
    Active,
    /// Inside `clap_plugin.deactivate`.
    Deactivating,
}

impl Phase {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Activating,
            2 => Self::Active,
            3 => Self::Deactivating,
            _ => Self::Inactive,
        }
    }
}

/// The host callbacks a record names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callback {
    RequestRestart,
    RequestProcess,
    RequestCallback,
    LatencyChanged,
    ParamsRescan,
    ParamsClear,
    ParamsRequestFlush,
    AudioPortsRescan,
    StateMarkDirty,
}

/// The thread a callback came from, as the harness' thread-check extension tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerThread {
    /// The creating thread, outside the audio calls.
    Main,
    /// The creating thread inside `start_processing`/`process`/`stop_processing`.
    Audio,
    /// Any other thread (a plugin's own thread).
    Other,
}

/// One host callback: which, in what phase of the instance, from which thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackRecord {
    pub callback: Callback,
    pub phase: Phase,
    pub thread: CallerThread,
}

/// Records kept per instance; later ones are counted in `records_dropped` (the buffer is
/// allocated up front so that a callback from the audio thread does not allocate).
const RECORD_CAPACITY: usize = 16_384;

/// Host data shared between all threads the plugin may call from.
pub(crate) struct HostShared {
    /// The thread that created the instance: the "main thread" of this host.
    pub main_thread: ThreadId,
    /// Set while the harness is inside `start_processing`/`process`/`stop_processing`/an
    /// active `flush`, i.e. while the creating thread acts as the audio thread.
    pub in_audio: AtomicBool,

    pub restart_pending: AtomicBool,
    pub callback_pending: AtomicBool,
    pub flush_pending: AtomicBool,
    pub latency_changed_pending: AtomicBool,

    pub request_restart: AtomicU32,
    pub request_process: AtomicU32,
    pub request_callback: AtomicU32,
    pub latency_changed: AtomicU32,
    pub params_rescan: AtomicU32,
    pub params_rescan_flags: AtomicU32,
    pub params_clear: AtomicU32,
    pub params_request_flush: AtomicU32,
    pub audio_ports_rescan: AtomicU32,
    pub state_mark_dirty: AtomicU32,

    pub log: Mutex<Vec<LogEntry>>,
    pub echo_log: bool,

    /// [`Phase`] as a number, set by the harness around activate and deactivate.
    pub phase: AtomicU8,
    pub records: Mutex<Vec<CallbackRecord>>,
    pub records_dropped: AtomicU32,
}

impl HostShared {
    pub fn new() -> Self {
        Self {
            main_thread: std::thread::current().id(),
            in_audio: AtomicBool::new(false),
            restart_pending: AtomicBool::new(false),
            callback_pending: AtomicBool::new(false),
            flush_pending: AtomicBool::new(false),
            latency_changed_pending: AtomicBool::new(false),
            request_restart: AtomicU32::new(0),
            request_process: AtomicU32::new(0),
            request_callback: AtomicU32::new(0),
            latency_changed: AtomicU32::new(0),
            params_rescan: AtomicU32::new(0),
            params_rescan_flags: AtomicU32::new(0),
            params_clear: AtomicU32::new(0),
            params_request_flush: AtomicU32::new(0),
            audio_ports_rescan: AtomicU32::new(0),
            state_mark_dirty: AtomicU32::new(0),
            log: Mutex::new(Vec::new()),
            echo_log: std::env::var_os("UNDERSCORE_CLAP_QUIET").is_none(),
            phase: AtomicU8::new(Phase::Inactive as u8),
            records: Mutex::new(Vec::with_capacity(RECORD_CAPACITY)),
            records_dropped: AtomicU32::new(0),
        }
    }

    pub fn set_phase(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::SeqCst);
    }

    /// Counts `callback` and records it with the phase and calling thread.
    fn record(&self, callback: Callback, counter: &AtomicU32) {
        Self::bump(counter);
        // As the thread-check extension answers the plugin.
        let thread = if self.is_main_thread() {
            CallerThread::Main
        } else if self.is_audio_thread() {
            CallerThread::Audio
        } else {
            CallerThread::Other
        };
        let record = CallbackRecord {
            callback,
            phase: Phase::from_u8(self.phase.load(Ordering::SeqCst)),
            thread,
        };
        match self.records.lock() {
            Ok(mut r) if r.len() < r.capacity() => r.push(record),
            _ => Self::bump(&self.records_dropped),
        }
    }

    pub fn counts(&self) -> CallbackCounts {
        let l = |a: &AtomicU32| a.load(Ordering::SeqCst);
        CallbackCounts {
            request_restart: l(&self.request_restart),
            request_process: l(&self.request_process),
            request_callback: l(&self.request_callback),
            latency_changed: l(&self.latency_changed),
            params_rescan: l(&self.params_rescan),
            params_rescan_flags: l(&self.params_rescan_flags),
            params_clear: l(&self.params_clear),
            params_request_flush: l(&self.params_request_flush),
            audio_ports_rescan: l(&self.audio_ports_rescan),
            state_mark_dirty: l(&self.state_mark_dirty),
        }
    }

    fn bump(counter: &AtomicU32) {
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

impl<'a> SharedHandler<'a> for HostShared {
    fn request_restart(&self) {
        self.record(Callback::RequestRestart, &self.request_restart);
        self.restart_pending.store(true, Ordering::SeqCst);
    }

    fn request_process(&self) {
        self.record(Callback::RequestProcess, &self.request_process);
    }

    fn request_callback(&self) {
        self.record(Callback::RequestCallback, &self.request_callback);
        self.callback_pending.store(true, Ordering::SeqCst);
    }
}

impl HostLogImpl for HostShared {
    fn log(&self, severity: LogSeverity, message: &str) {
        if self.echo_log {
            eprintln!("[plugin log {severity}] {message}");
        }
        if let Ok(mut log) = self.log.lock() {
            log.push(LogEntry {
                severity: format!("{severity:?}"),
                message: message.to_owned(),
            });
        }
    }
}

impl HostThreadCheckImpl for HostShared {
    fn is_main_thread(&self) -> bool {
        std::thread::current().id() == self.main_thread && !self.in_audio.load(Ordering::SeqCst)
    }

    fn is_audio_thread(&self) -> bool {
        std::thread::current().id() == self.main_thread && self.in_audio.load(Ordering::SeqCst)
    }
}

impl HostParamsImplShared for HostShared {
    fn request_flush(&self) {
        self.record(Callback::ParamsRequestFlush, &self.params_request_flush);
        self.flush_pending.store(true, Ordering::SeqCst);
    }
}

/// Main-thread host data: just a view of [`HostShared`].
pub(crate) struct HostMainThread<'a> {
    pub shared: &'a HostShared,
}

impl<'a> MainThreadHandler<'a> for HostMainThread<'a> {}

impl HostLatencyImpl for HostMainThread<'_> {
    fn changed(&self) {
        let s = self.shared;
        s.record(Callback::LatencyChanged, &s.latency_changed);
        s.latency_changed_pending.store(true, Ordering::SeqCst);
    }
}

impl HostParamsImplMainThread for HostMainThread<'_> {
    fn rescan(&self, flags: ParamRescanFlags) {
        let s = self.shared;
        s.record(Callback::ParamsRescan, &s.params_rescan);
        s.params_rescan_flags
            .fetch_or(flags.bits(), Ordering::SeqCst);
    }

    fn clear(&self, _param_id: ClapId, _flags: ParamClearFlags) {
        let s = self.shared;
        s.record(Callback::ParamsClear, &s.params_clear);
    }
}

impl HostAudioPortsImpl for HostMainThread<'_> {
    fn is_rescan_flag_supported(&self, _flag: AudioPortRescanFlags) -> bool {
        true
    }

    fn rescan(&self, _flags: AudioPortRescanFlags) {
        let s = self.shared;
        s.record(Callback::AudioPortsRescan, &s.audio_ports_rescan);
    }
}

impl HostStateImpl for HostMainThread<'_> {
    fn mark_dirty(&self) {
        let s = self.shared;
        s.record(Callback::StateMarkDirty, &s.state_mark_dirty);
    }
}

/// The harness' [`HostHandlers`]: ties the handler types together and declares the host
/// extensions offered to the plugin (log, thread-check, latency, params, audio-ports, state).
pub(crate) struct HarnessHost;

impl HostHandlers for HarnessHost {
    type Shared<'a> = HostShared;
    type MainThread<'a> = HostMainThread<'a>;
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder
            .register::<HostLog>()
            .register::<HostThreadCheck>()
            .register::<HostLatency>()
            .register::<HostParams>()
            .register::<HostAudioPorts>()
            .register::<HostState>();
    }
}
