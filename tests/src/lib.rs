//! # underscore-tests: a CLAP-ABI test harness
//!
//! This crate hosts a built `.clap` file through the real CLAP C ABI (loaded with
//! `dlopen`, never linked as Rust code), so tests see the plugin exactly as a DAW does:
//! descriptor, audio ports, parameters (by CLAP id, which for nice-plug plugins is a hash,
//! so tests look parameters up by name), activation, processing with a main input and a
//! sidechain ("aux") input, latency, state save/load, and the host callbacks the plugin makes.
//!
//! It is built on `clack-host` 0.2 and `clack-extensions` 0.2.
//!
//! ## Usage
//!
//! ```no_run
//! use underscore_tests::{ClapInstance, ParamEvent, bundle_path, rms_db, sine, speech, stereo};
//!
//! let mut plugin = ClapInstance::new(bundle_path(), None)?;
//! println!("{:?}", plugin.descriptor());
//! let depth = plugin.require_param("Depth")?;
//! plugin.set_param_inactive(depth.id, depth.min)?;  // -40 dB, before activation, via params.flush
//! plugin.activate(48_000.0, 1, 512)?;
//!
//! let sr = 48_000.0;
//! let bed = stereo(&sine(220.0, 0.5, sr, 48_000));
//! // real speech (the bundled demo dialogue): the voice detector takes a tone for a tone
//! let voice = stereo(&speech(sr, 48_000));
//! // whole signals, cut into 512-frame blocks; event positions are absolute
//! let out = plugin.render(&bed, &voice, 512, &[ParamEvent::new(24_000, depth.id, 0.0)])?;
//! println!("out: {:.1} dB", rms_db(&out[0]));
//!
//! if plugin.restart_requested() {
//!     plugin.restart()?;  // deactivate + activate with the same configuration
//! }
//! let saved = plugin.save_state()?;
//! plugin.load_state(&saved)?;
//! # Ok::<(), underscore_tests::HostError>(())
//! ```
//!
//! ## Rules of the road
//!
//! * Create and drive each [`ClapInstance`] from one thread. That thread is the host's main
//!   thread; while [`ClapInstance::process`] runs, the host's thread-check extension reports it
//!   as the audio thread instead (so a plugin that asks "am I on the main thread?" from its
//!   process callback hears "no", as in a real host, and defers main-thread work through
//!   `request_callback`, which the harness services after each call).
//! * The plugin gets a buffer for every input and output port it declares. `main_in` feeds the
//!   main input port, `aux_in` the first non-main input port; an empty slice means silence.
//! * No failure the plugin reports panics: everything returns [`HostError`].
//! * The plugin's log messages are echoed to stderr (captured by the test runner) unless
//!   `$UNDERSCORE_CLAP_QUIET` is set, and kept for [`ClapInstance::log_messages`].
//!
//! The signal helpers ([`sine`], [`noise`], [`rms_db`], ...) and the speech keys ([`speech`],
//! [`speech_after_silence`], [`speech_on`], from the bundled demo dialogue) live in [`signal`]
//! and are re-exported here.

pub use underscore_io as audio_io;
mod error;
mod host;
mod instance;
pub mod signal;

pub use error::HostError;
pub use host::{Callback, CallbackCounts, CallbackRecord, CallerThread, LogEntry, Phase};
pub use instance::{
    BlockSizes, ClapInstance, Descriptor, ParamEvent, ParamInfo, PortConfig, PortInfo,
    ProcessProbe, list_plugins,
};
pub use signal::*;

pub use clack_host::process::ProcessStatus;

use std::path::PathBuf;

/// The file name the bundler gives the Underscore plugin.
pub const BUNDLE_FILE_NAME: &str = "Underscore.clap";

/// A command-line `NAME=VALUE` (a plugin parameter by display name and its text, as the
/// development binaries' `--set` take it), split at the first `=`, trimmed.
pub fn name_value(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or(format!("{text}: expected NAME=VALUE"))?;
    Ok((name.trim().to_string(), value.trim().to_string()))
}

/// The workspace root: the parent of this crate's directory.
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Where the Underscore `.clap` file under test is: `$UNDERSCORE_CLAP` if set, else
/// `<workspace root>/target/bundled/Underscore.clap` (where `cargo xtask bundle` puts it).
pub fn bundle_path() -> PathBuf {
    match std::env::var_os("UNDERSCORE_CLAP") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => workspace_root()
            .join("target")
            .join("bundled")
            .join(BUNDLE_FILE_NAME),
    }
}

/// Keeps the Underscore library under test loaded for the rest of the test process. Before the
/// plugin linked with `-z nodelete`, unloading it after a worker thread had used it crashed at
/// that thread's exit (rust-lang/rust#91979); pinning keeps test binaries immune to any plugin
/// with that problem. Idempotent.
pub fn pin_library() {
    static PIN: std::sync::Once = std::sync::Once::new();
    PIN.call_once(|| {
        // SAFETY: loading the plugin under test runs its initialisers, as every test does.
        if let Ok(entry) = unsafe { clack_host::prelude::PluginEntry::load(bundle_path()) } {
            std::mem::forget(entry);
        }
    });
}
