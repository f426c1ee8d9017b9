//! Errors of inference.

use std::path::PathBuf;

/// Why a model could not be loaded or an input could not be scored.
#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    /// The folder is not a saved model or a run.
    #[error(
        "{0} is not a saved model: expected config.json and model.bpk (a training run's best/ \
         folder, or the run folder itself)"
    )]
    NotAModel(PathBuf),
    /// Loading the model failed.
    #[error(transparent)]
    Model(#[from] deepfake_model::Error),
    /// The model's `model_info.json` is unreadable.
    #[error("{path}: {reason}")]
    ModelInfo {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The weights file differs from the one `model_info.json` recorded.
    #[error(
        "{path} changed after it was saved (its sha256 is {found}, model_info.json beside it \
         records {expected}): the file is damaged or was replaced. Retrain or re-copy the model; \
         if you edited the weights on purpose, pass --no-verify"
    )]
    WeightsChanged {
        /// The weights file.
        path: PathBuf,
        /// The recorded digest.
        expected: String,
        /// The file's digest now.
        found: String,
    },
    /// An input could not be read, decoded or preprocessed.
    #[error(transparent)]
    Input(#[from] deepfake_data::DataError),
    /// An input image has no pixels.
    #[error("image {index} has no pixels ({width}x{height})")]
    EmptyImage {
        /// Position in the batch.
        index: usize,
        /// Width.
        width: u32,
        /// Height.
        height: u32,
    },
    /// A frame sequence is empty.
    #[error("a frame sequence needs at least one frame")]
    NoFrames,
    /// The device did not return the model's output (a backend failure, e.g. a lost GPU).
    #[error("reading the model's output from the device failed: {0}")]
    Device(String),
    /// A heatmap image could not be drawn or encoded.
    #[error("drawing the heatmap: {0}")]
    Heatmap(String),
    /// Face detection failed (its weights or the device).
    #[error(transparent)]
    Faces(#[from] deepfake_faces::FacesError),
    /// A video in which no sampled frame shows a face (with faces on).
    #[error("{0}: no face found in any sampled frame; to score the whole frames, pass --faces off")]
    NoFaceInVideo(PathBuf),
    /// A list of inputs could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Result of inference.
pub type Result<T> = std::result::Result<T, PredictError>;
