//! The model crate's error type.

use std::path::PathBuf;

/// Errors from building, loading and saving models.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file the model needs is not there.
    #[error("{what} not found at {path}: {hint}")]
    MissingFile {
        /// What the file is (e.g. "model config").
        what: &'static str,
        /// Where it was looked for.
        path: PathBuf,
        /// How to fix it.
        hint: &'static str,
    },
    /// Reading or writing a file failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done ("read", "write", ...).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A config file could not be parsed.
    #[error("invalid config {path}: {reason}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Writing a file atomically failed.
    #[error(transparent)]
    File(#[from] deepfake_formats::FormatError),
    /// A config describes an impossible architecture.
    #[error("invalid architecture: {0}")]
    Architecture(String),
    /// Weights could not be read, or do not fit the architecture.
    #[error("cannot load weights from {path}: {reason}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// What went wrong, with the offending tensor names where known.
        reason: String,
    },
    /// Saving weights failed.
    #[error("cannot save weights to {path}: {reason}")]
    Save {
        /// The weights file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// An input tensor has the wrong shape.
    #[error("bad input shape {got:?}: expected {expected}")]
    InputShape {
        /// The shape given.
        got: Vec<usize>,
        /// The shape expected, in words.
        expected: &'static str,
    },
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
