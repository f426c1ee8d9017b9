//! A saved model as found on disk: weights, architecture, and the calibration written beside
//! them by evaluation.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use deepfake_formats::{MODEL_INFO_FILE, ModelInfo, WEIGHTS_FILE, sha256_file};
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
    /// The weights file's SHA-256 when loading checked it against `model_info.json` (so
    /// nobody needs to hash the file again); `None` when no check ran.
    pub verified_sha256: Option<String>,
}

/// Whether loading checks the weights against the SHA-256 in `model_info.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightsCheck {
    /// Fail when the weights file's digest differs from the recorded one (the default).
    Verify,
    /// Load whatever the weights file holds (`--no-verify`: weights edited on purpose).
    Skip,
}

impl SavedModel {
    /// Opens a saved model folder or a training run folder (its `best/` checkpoint),
    /// verifying its weights when `model_info.json` records their SHA-256.
    pub fn load(path: impl AsRef<Path>, device: &Device) -> Result<Self> {
        Self::open(path, device, WeightsCheck::Verify)
    }

    /// [`Self::load`], with the weights check chosen by `check`.
    pub fn open(path: impl AsRef<Path>, device: &Device, check: WeightsCheck) -> Result<Self> {
        let path = path.as_ref();
        let dir =
            find_model_dir(path).ok_or_else(|| PredictError::NotAModel(path.to_path_buf()))?;
        let info_path = dir.join(MODEL_INFO_FILE);
        let recorded = if info_path.is_file() {
            Some(
                ModelInfo::read(&info_path).map_err(|e| PredictError::ModelInfo {
                    path: info_path.clone(),
                    reason: e.to_string(),
                })?,
            )
        } else {
            None
        };
        let expected = recorded.as_ref().and_then(|i| i.weights_sha256.clone());
        let mut verified_sha256 = None;
        if let (Some(expected), WeightsCheck::Verify) = (expected, check) {
            let weights = dir.join(WEIGHTS_FILE);
            let found = sha256_file(&weights).map_err(|e| PredictError::ModelInfo {
                path: weights.clone(),
                reason: e.to_string(),
            })?;
            if found != expected {
                return Err(PredictError::WeightsChanged {
                    path: weights,
                    expected,
                    found,
                });
            }
            verified_sha256 = Some(found);
        }
        let (model, config) = Model::load_dir(&dir, device)?;
        let info = recorded.unwrap_or_else(|| model.model_info(&config));
        Ok(Self {
            temperature: info.temperature_or_one(),
            threshold: info.threshold,
            info,
            model,
            config,
            dir,
            verified_sha256,
        })
    }
}
