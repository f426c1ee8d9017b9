//! Errors of report writing.

use std::path::PathBuf;

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A figure could not be drawn.
    #[error("drawing figure `{figure}`: {reason}")]
    Draw {
        /// The figure's file stem.
        figure: String,
        /// What the plotting backend said.
        reason: String,
    },
    /// A JSON input (e.g. `history.json`) is malformed.
    #[error("{path}: {reason}")]
    BadInput {
        /// The file.
        path: PathBuf,
        /// What is wrong, and how to fix it.
        reason: String,
    },
    /// Serialising the report failed.
    #[error("serialising the report: {0}")]
    Json(#[from] serde_json::Error),
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, ReportError>;
