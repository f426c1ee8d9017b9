//! Why a file could not be read or written.

use std::path::PathBuf;

/// A file operation that failed, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// Reading, writing or renaming failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done (`read`, `create`, `write`, `sync`, `rename into place`).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not the JSON it should be.
    #[error("{path} is not valid: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse or encode error.
        source: serde_json::Error,
    },
}

/// Shorthand for this crate's results.
pub type Result<T> = std::result::Result<T, FormatError>;
