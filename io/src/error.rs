//! [`Error`]: which audio file, what went wrong with it, and whether it was being read or
//! written.

use std::fmt;
use std::path::{Path, PathBuf};

/// Whether the file was being read or written: callers map it onto their own error classes
/// (the renderer's exit codes, for instance).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A file being read is missing, unreadable, not audio, truncated or of an unsupported
    /// format.
    Input,
    /// Writing a file failed.
    Output,
}

/// A problem with an audio file, in words a user can act on. Displayed as
/// `<path>: <problem>`, e.g. `mx.wav: truncated: the header announces 1200000 frames (25.00
/// s) but the file holds only 599994 (12.50 s)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    /// The file concerned (for an output, the final name, not the temporary one).
    pub path: PathBuf,
    /// What is wrong, without the path.
    pub problem: String,
}

impl Error {
    /// A problem reading `path`.
    pub fn input(path: &Path, problem: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Input,
            path: path.to_path_buf(),
            problem: problem.into(),
        }
    }

    /// A problem writing `path`.
    pub fn output(path: &Path, problem: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Output,
            path: path.to_path_buf(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.problem)
    }
}

impl std::error::Error for Error {}

/// The message, for tools whose errors are plain strings (`read_audio(path)?` in a function
/// returning `Result<_, String>`).
impl From<Error> for String {
    fn from(e: Error) -> String {
        e.to_string()
    }
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
