//! The harness' error type.

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong while hosting a plugin through the harness.
///
/// Failures reported by the plugin through the CLAP ABI (a `false` return, a `NULL`
/// pointer, a process error, a rejected state, ...) always come back as one of these
/// variants; the harness never panics on them.
#[derive(Debug, Clone, PartialEq)]
pub enum HostError {
    /// The `.clap` file does not exist.
    BundleNotFound(PathBuf),
    /// The dynamic library could not be loaded, or its `clap_entry` failed.
    EntryLoad {
        /// The file that was loaded.
        path: PathBuf,
        /// The loader's message.
        message: String,
    },
    /// The entry exposes no plugin factory.
    NoPluginFactory(PathBuf),
    /// No plugin with the requested id is in the factory (or the factory is empty).
    PluginNotFound {
        /// The id that was asked for (`None`: the first plugin).
        requested: Option<String>,
        /// The ids that the factory does offer.
        available: Vec<String>,
    },
    /// The plugin could not be instantiated or initialized.
    Instantiation(String),
    /// The plugin does not implement a CLAP extension that the operation needs.
    MissingExtension(&'static str),
    /// The operation needs an active plugin, but it is not activated.
    NotActive,
    /// The operation needs an inactive plugin, but it is activated.
    AlreadyActive,
    /// The plugin's `activate()` returned false.
    Activation(String),
    /// The plugin's `start_processing()` returned false.
    StartProcessing,
    /// The plugin's `process()` returned `CLAP_PROCESS_ERROR`.
    Process(String),
    /// A buffer or event given to the harness does not fit the plugin's configuration.
    InvalidInput(String),
    /// No parameter with this id / name exists.
    UnknownParam(String),
    /// A parameter call (`get_value`, `value_to_text`, ...) was refused by the plugin.
    ParamCall {
        /// The parameter's CLAP id.
        id: u32,
        /// Which call failed.
        call: &'static str,
    },
    /// The plugin's `state.save()` returned false.
    StateSave,
    /// The plugin's `state.load()` returned false (e.g. the data was rejected).
    StateLoad,
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BundleNotFound(p) => write!(
                f,
                "CLAP bundle not found at {} (build it, or point $UNDERSCORE_CLAP at it)",
                p.display()
            ),
            Self::EntryLoad { path, message } => {
                write!(
                    f,
                    "failed to load CLAP entry from {}: {message}",
                    path.display()
                )
            }
            Self::NoPluginFactory(p) => write!(f, "{} exposes no CLAP plugin factory", p.display()),
            Self::PluginNotFound {
                requested,
                available,
            } => match requested {
                Some(id) => write!(
                    f,
                    "plugin id {id:?} not found; factory offers {available:?}"
                ),
                None => write!(f, "the plugin factory is empty"),
            },
            Self::Instantiation(m) => write!(f, "plugin instantiation failed: {m}"),
            Self::MissingExtension(e) => write!(f, "plugin does not implement the {e} extension"),
            Self::NotActive => write!(f, "plugin is not activated"),
            Self::AlreadyActive => write!(f, "plugin is already activated"),
            Self::Activation(m) => write!(f, "plugin activation failed: {m}"),
            Self::StartProcessing => write!(f, "plugin refused start_processing()"),
            Self::Process(m) => write!(f, "plugin process() failed: {m}"),
            Self::InvalidInput(m) => write!(f, "invalid input to the harness: {m}"),
            Self::UnknownParam(p) => write!(f, "unknown parameter {p}"),
            Self::ParamCall { id, call } => write!(f, "plugin refused params.{call} for id {id}"),
            Self::StateSave => write!(f, "plugin refused to save its state"),
            Self::StateLoad => write!(f, "plugin rejected the state it was given"),
        }
    }
}

impl std::error::Error for HostError {}
