//! A saved model as found on disk: weights, architecture, and the calibration written beside
//! them by evaluation.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use deepfake_formats::{MODEL_INFO_FILE, ModelInfo};
use deepfake_model::saved::find_model_dir;
use deepfake_model::{Detector as Model, DetectorConfig};

use super::error::{PredictError, Result};

/// The model of a saved folder (or of a run's `best/`) with its calibration temperature
/// and decision threshold from `model_info.json` (1 and 0.5 when absent).
#[derive(Debug)]
pub struct SavedModel {
    /// The detector as trained.
    pub model: Model,
    /// Its architecture.
    pub config: DetectorConfig,
    /// Calibration temperature (1 = none).
    pub temperature: f64,
    /// Decision threshold on P(fake).
    pub threshold: f64,
    /// Its `model_info.json` (or, when the folder has none, the one its architecture gives).
    pub info: ModelInfo,
    /// The folder it was read from (`config.json`, `model.bpk`).
    pub dir: PathBuf,
}

impl SavedModel {
    /// Opens a saved model folder or a training run folder (its `best/` checkpoint).
    pub fn load(path: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let path = path.as_ref();
        let dir =
            find_model_dir(path).ok_or_else(|| PredictError::NotAModel(path.to_path_buf()))?;
        let (model, config) = Model::load_dir(&dir, device)?;
        let info_path = dir.join(MODEL_INFO_FILE);
        let info = if info_path.is_file() {
            ModelInfo::read(&info_path).map_err(|e| PredictError::ModelInfo {
                path: info_path.clone(),
                reason: e.to_string(),
            })?
        } else {
            model.model_info(&config)
        };
        Ok(Self {
            temperature: info.temperature_or_one(),
            threshold: info.threshold,
            info,
            model,
            config,
            dir,
        })
    }
}
