//! Why an evaluation could not run.

use std::path::PathBuf;

use crate::predict::PredictError;

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// No checkpoint was given and no run was found.
    #[error(
        "no training run with a best/ checkpoint under {0}; train one first \
         (cargo run --release --example train -- --data DATA --out runs/NAME) or pass --checkpoint DIR"
    )]
    NoRuns(PathBuf),
    /// The checkpoint folder is not a run or a saved model.
    #[error(
        "{0} is neither a training run (with best/) nor a saved model (config.json + model.bpk)"
    )]
    NotACheckpoint(PathBuf),
    /// The data set is unknown.
    #[error("no data set given and {0} records none; pass --data DIR")]
    NoData(PathBuf),
    /// The chosen split has no images.
    #[error("the {split} split of {data} has no images; choose another with --split")]
    EmptySplit {
        /// The split.
        split: &'static str,
        /// The data set.
        data: PathBuf,
    },
    /// `eval --inputs DIR` found no files in `DIR/real/` or `DIR/fake/`.
    #[error(
        "{0} has no labelled files: put real photos and videos in {0}/real/ and fakes in {0}/fake/"
    )]
    NoLabelledInputs(PathBuf),
    /// Loading the model failed.
    #[error(transparent)]
    Model(#[from] deepfake_model::Error),
    /// Loading the model for inference failed.
    #[error(transparent)]
    Predict(#[from] PredictError),
    /// Opening the data failed.
    #[error(transparent)]
    Data(#[from] deepfake_data::DataError),
    /// Computing a metric failed.
    #[error(transparent)]
    Metrics(#[from] deepfake_metrics::MetricsError),
    /// Reading or writing run files failed.
    #[error(transparent)]
    File(#[from] deepfake_formats::FormatError),
    /// Writing the report failed.
    #[error(transparent)]
    Report(#[from] deepfake_report::ReportError),
}

/// Result of this module.
pub type Result<T> = std::result::Result<T, EvalError>;
