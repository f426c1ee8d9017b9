//! A saved detector: a directory holding `config.json` (the [`DetectorConfig`]) and
//! `model.bpk` (the weights in Burn's burnpack format), loadable with one call.

use std::path::{Path, PathBuf};

use burn::config::Config;
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::Device;

use crate::detector::{Detector, DetectorConfig};
use crate::error::{Error, Result};
pub use deepfake_formats::{CONFIG_FILE, WEIGHTS_FILE};
use deepfake_formats::{temp_path_for, write_atomic};

impl Detector {
    /// Writes `config.json` and `model.bpk` into `dir` (created if needed). Each file is written
    /// to a temporary name and renamed, so a crash never leaves a half-written model.
    pub fn save(&self, config: &DetectorConfig, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            action: "create directory",
            path: dir.to_path_buf(),
            source,
        })?;
        let weights = dir.join(WEIGHTS_FILE);
        let temp = temp_path_for(&weights);
        let mut store = BurnpackStore::from_file(&temp)
            .auto_extension(false)
            .overwrite(true);
        self.save_into(&mut store).map_err(|e| Error::Save {
            path: weights.clone(),
            reason: e.to_string(),
        })?;
        std::fs::rename(&temp, &weights).map_err(|source| Error::Io {
            action: "rename into place",
            path: weights.clone(),
            source,
        })?;
        Ok(write_atomic(
            &dir.join(CONFIG_FILE),
            config.to_string().as_bytes(),
        )?)
    }

    /// Opens a directory written by [`save`](Self::save): reads its config, builds the
    /// architecture and loads the weights, failing with the file name and the mismatch when
    /// they disagree.
    pub fn load_dir(dir: impl AsRef<Path>, device: &Device) -> Result<(Detector, DetectorConfig)> {
        let dir = dir.as_ref();
        let config = read_config(dir)?;
        let weights = required_file(
            dir,
            WEIGHTS_FILE,
            "model weights",
            "a saved model directory holds config.json and model.bpk",
        )?;
        let mut detector = config.init(device)?;
        let mut store = BurnpackStore::from_file(&weights)
            .auto_extension(false)
            .allow_partial(true)
            .validate(false);
        let result = detector.load_from(&mut store).map_err(|e| Error::Weights {
            path: weights.clone(),
            reason: e.to_string(),
        })?;
        if !result.errors.is_empty() || !result.missing.is_empty() || !result.unused.is_empty() {
            return Err(Error::Weights {
                path: weights,
                reason: format!(
                    "the weights do not match {}: {} shape errors, {} missing, {} unexpected tensors \
                     (first: {})",
                    dir.join(CONFIG_FILE).display(),
                    result.errors.len(),
                    result.missing.len(),
                    result.unused.len(),
                    result
                        .errors
                        .first()
                        .map(|e| e.to_string())
                        .or_else(|| result.missing.first().map(|(k, _)| k.clone()))
                        .or_else(|| result.unused.first().cloned())
                        .unwrap_or_default()
                ),
            });
        }
        Ok((detector, config))
    }
}

/// Reads and validates `config.json` of a saved model directory.
pub fn read_config(dir: &Path) -> Result<DetectorConfig> {
    let path = required_file(
        dir,
        CONFIG_FILE,
        "model config",
        "a saved model directory holds config.json and model.bpk",
    )?;
    deepfake_formats::check_file_size(&path, deepfake_formats::MAX_JSON_BYTES, "JSON file")
        .map_err(|e| Error::Config {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    let config = DetectorConfig::load(&path).map_err(|e| Error::Config {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    config.validate()?;
    Ok(config)
}

fn required_file(
    dir: &Path,
    name: &str,
    what: &'static str,
    hint: &'static str,
) -> Result<PathBuf> {
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::MissingFile { what, path, hint })
    }
}

/// Whether `dir` holds a saved model (`config.json` and `model.bpk`).
pub fn is_saved_model(dir: &Path) -> bool {
    dir.join("config.json").is_file() && dir.join("model.bpk").is_file()
}

/// The saved model at `path`, or in `path/best` (a training run's best checkpoint); `None`
/// when neither holds one.
pub fn find_model_dir(path: &Path) -> Option<PathBuf> {
    [path.to_path_buf(), path.join("best")]
        .into_iter()
        .find(|dir| is_saved_model(dir))
}
