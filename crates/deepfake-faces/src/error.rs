//! Why face detection or alignment failed.

use std::path::PathBuf;

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum FacesError {
    /// The MTCNN weights could not be written to or read from their temporary file.
    #[error("MTCNN weights: {0}")]
    Io(#[from] std::io::Error),
    /// A network's weights did not load (wrong file, shape or key).
    #[error("MTCNN weights {path}: {reason}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// What did not fit.
        reason: String,
    },
    /// The device did not return a network's outputs.
    #[error("MTCNN on the device: {0}")]
    Device(String),
    /// The host CPU engine has no kernel for a layer on this CPU (run the Burn networks).
    #[error("MTCNN on the host CPU engine: {0}")]
    Host(#[source] deepfake_cpu::Error),
}

/// This crate's result.
pub type Result<T, E = FacesError> = std::result::Result<T, E>;
