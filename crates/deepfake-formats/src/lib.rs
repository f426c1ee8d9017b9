//! The vocabulary every crate of the detector shares, and the files they exchange, in one
//! small crate with no Burn in it: the class [`Label`]s, the input normalisation
//! ([`IMAGENET_MEAN`], [`IMAGENET_STD`]), a saved model's [`ModelInfo`] (`model_info.json`),
//! the run directory's layout ([`RunDir`]), the per-epoch history ([`EpochRecord`]) and the
//! run's outcome ([`TrainingResults`], [`StopReason`]), and atomic (temp file + rename) JSON
//! writes. A crate that only needs one of these depends on this one, not on the crate that
//! happens to produce it.

mod atomic;
mod digest;
mod error;
mod history;
mod label;
pub mod limits;
mod model_info;
mod normalisation;
mod run_dir;

pub use atomic::{read_json, temp_path_for, write_atomic, write_json};
pub use digest::{sha256_bytes, sha256_file};
pub use error::{FormatError, Result};
pub use history::{EpochRecord, StopReason, TrainingResults};
pub use label::{CLASS_NAMES, Label};
pub use limits::{MAX_CSV_BYTES, MAX_CSV_ROWS, MAX_JSON_BYTES, check_file_size, read_limited};
pub use model_info::{ModelInfo, OnnxFile, TensorSpec};
pub use normalisation::{IMAGENET_MEAN, IMAGENET_STD, SEED_IMAGE_SIZE, TINY_IMAGE_SIZE};
pub use run_dir::{
    CONFIG_FILE, HISTORY_FILE, MODEL_INFO_FILE, RESULTS_FILE, RunDir, WEIGHTS_FILE, model_files,
};
