//! The one error type of xtask: every failure names what was being done.

use std::path::PathBuf;
use std::process::ExitStatus;

/// Why an xtask command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum Error {
    /// Bad command line.
    #[error("{message}")]
    Usage {
        /// What was wrong, with a hint.
        message: String,
    },
    /// A child process could not be started.
    #[error("could not start `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A child process ran and failed.
    #[error("`{command}` failed ({status})")]
    Command {
        /// The command line.
        command: String,
        /// How it ended.
        status: ExitStatus,
    },
    /// `cargo metadata` printed something we cannot read.
    #[error("cargo metadata: {what}")]
    Metadata {
        /// What was missing or malformed.
        what: String,
    },
    /// The layering check found forbidden edges or unknown crates.
    #[error("layering check failed with {count} violation(s)")]
    Layering {
        /// Number of violations printed above.
        count: usize,
    },
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A tool the command needs is not installed.
    #[error("{message}")]
    MissingTool {
        /// What is missing and how to install it.
        message: String,
    },
    /// `cargo xtask ci` stopped at a failing step (the summary line says which).
    #[error("ci failed at step {step}")]
    Ci {
        /// Name of the failing step.
        step: String,
    },
}
