//! The training crate's error type.

use std::path::PathBuf;

/// Why training could not go on.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The device did not return a result (a backend failure, e.g. a lost GPU).
    #[error("reading the model's output from the device failed: {0}")]
    Device(String),
    /// A run file could not be read or written.
    #[error(transparent)]
    Format(#[from] deepfake_formats::FormatError),
    /// The model could not be built or loaded.
    #[error(transparent)]
    Model(#[from] deepfake_model::Error),
    /// The data could not be read.
    #[error(transparent)]
    Data(#[from] deepfake_data::DataError),
    /// A run-directory file could not be read or written.
    #[error("cannot {action} {path}: {reason}")]
    File {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The loss became NaN or infinite.
    #[error(
        "loss is {loss} at epoch {epoch}, step {step} (step 0: validation): stopping; the last \
         good checkpoint is kept (try a lower --lr or --clip-grad-norm)"
    )]
    NonFiniteLoss {
        /// Epoch (1-based).
        epoch: usize,
        /// Step within the epoch (1-based; 0 for the validation pass).
        step: usize,
        /// The loss value.
        loss: f32,
    },
    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    Config(String),
}

/// Result alias for this crate.
pub type Result<T, E = TrainError> = std::result::Result<T, E>;
