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
    /// The file is larger than the limit for its kind (see [`crate::limits`]).
    #[error(
        "{path} is {size} bytes, over the limit of {limit} bytes for a {what}; \
         it is not a file this program wrote (check the path)"
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The kind of file, e.g. `JSON file`.
        what: &'static str,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The file has more rows than the limit for its kind.
    #[error("{path} has more than {limit} rows, the limit for a {what}")]
    TooManyRows {
        /// The file.
        path: PathBuf,
        /// The kind of file.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
}

/// Shorthand for this crate's results.
pub type Result<T> = std::result::Result<T, FormatError>;
