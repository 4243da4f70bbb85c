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
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
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
        Self::bump(&self.request_restart);
        self.restart_pending.store(true, Ordering::SeqCst);
    }

    fn request_process(&self) {
        Self::bump(&self.request_process);
    }

    fn request_callback(&self) {
        Self::bump(&self.request_callback);
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
        Self::bump(&self.params_request_flush);
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
        HostShared::bump(&self.shared.latency_changed);
        self.shared
            .latency_changed_pending
            .store(true, Ordering::SeqCst);
    }
}

impl HostParamsImplMainThread for HostMainThread<'_> {
    fn rescan(&self, flags: ParamRescanFlags) {
        HostShared::bump(&self.shared.params_rescan);
        self.shared
            .params_rescan_flags
            .fetch_or(flags.bits(), Ordering::SeqCst);
    }

    fn clear(&self, _param_id: ClapId, _flags: ParamClearFlags) {
        HostShared::bump(&self.shared.params_clear);
    }
}

impl HostAudioPortsImpl for HostMainThread<'_> {
    fn is_rescan_flag_supported(&self, _flag: AudioPortRescanFlags) -> bool {
        true
    }

    fn rescan(&self, _flags: AudioPortRescanFlags) {
        HostShared::bump(&self.shared.audio_ports_rescan);
    }
}

impl HostStateImpl for HostMainThread<'_> {
    fn mark_dirty(&self) {
        HostShared::bump(&self.shared.state_mark_dirty);
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
