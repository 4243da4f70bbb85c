//! [`RenderError`]: what went wrong, and with which file.
//!
//! Exit codes of `underscore` (see [`crate::cli`]): 0 done (warnings do not change it), 1 an
//! input or output file problem ([`ErrorKind::Input`], [`ErrorKind::Output`]: a missing,
//! unreadable, corrupt or unsupported file, dialogue and bed that do not match, a broken
//! preset *file* or automation file, a failed write), 2 a command-line mistake
//! ([`ErrorKind::Usage`], and clap's own parse errors: an unknown option, parameter, choice or
//! preset *name*, a bad or unit-less value, an output that would overwrite an input).

use std::fmt;
use std::path::{Path, PathBuf};

/// Whether an error is the command line's fault (exit code 2) or the inputs' (exit code 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A bad option value (`--set`, `--block`, ...): exit code 2.
    Usage,
    /// A file that is missing, unreadable or does not fit the render: exit code 1.
    Input,
    /// Writing an output failed: exit code 1.
    Output,
}

/// A render that could not run or finish: the file concerned (if any) and the problem, in
/// words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError {
    pub kind: ErrorKind,
    pub path: Option<PathBuf>,
    pub problem: String,
}

impl RenderError {
    /// A problem with the input file `path`.
    pub fn input(path: &Path, problem: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Input,
            path: Some(path.to_path_buf()),
            problem: problem.into(),
        }
    }

    /// A problem writing the output file `path`.
    pub fn output(path: &Path, problem: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Output,
            path: Some(path.to_path_buf()),
            problem: problem.into(),
        }
    }

    /// A bad command-line value.
    pub fn usage(problem: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Usage,
            path: None,
            problem: problem.into(),
        }
    }

    /// The process exit code for this error: 2 for usage errors, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::Usage => 2,
            ErrorKind::Input | ErrorKind::Output => 1,
        }
    }
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {}", p.display(), self.problem),
            None => write!(f, "{}", self.problem),
        }
    }
}

impl std::error::Error for RenderError {}

/// A problem with an audio file, a report or a JSON file: the same path and words, an input
/// or output error (exit code 1).
impl From<underscore_io::Error> for RenderError {
    fn from(e: underscore_io::Error) -> Self {
        Self {
            kind: match e.kind {
                underscore_io::ErrorKind::Input => ErrorKind::Input,
                underscore_io::ErrorKind::Output => ErrorKind::Output,
            },
            path: Some(e.path),
            problem: e.problem,
        }
    }
}
