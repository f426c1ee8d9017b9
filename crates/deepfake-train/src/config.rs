//! Everything a run needs to be reproduced, saved as the run's `config.json`.

use std::path::PathBuf;

use deepfake_data::AugmentConfig;
use deepfake_model::DetectorConfig;
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};

/// A training run's settings. [`TrainConfig::seed_recipe`] gives the seed's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The architecture (includes the input size).
    pub model: DetectorConfig,
    /// The data set folder.
    pub data: PathBuf,
    /// Epochs to train (12).
    pub epochs: usize,
    /// Images per batch (64).
    pub batch_size: usize,
    /// Initial learning rate (1e-3).
    pub lr: f64,
    /// L2 weight decay added to the gradient, as torch's Adam (1e-4).
    pub weight_decay: f64,
    /// ReduceLROnPlateau patience in epochs (3).
    pub plateau_patience: usize,
    /// ReduceLROnPlateau factor (0.5).
    pub plateau_factor: f64,
    /// Seed of initialisation, shuffling, augmentation and dropout.
    pub seed: u64,
    /// Training augmentation (`None`: resize + normalise only).
    pub augment: Option<AugmentConfig>,
    /// First epochs with the backbone frozen (0: train everything from the start).
    pub freeze_backbone_epochs: usize,
    /// torchvision ImageNet weights to start the backbone from.
    pub pretrained: Option<PathBuf>,
    /// Stop once validation accuracy reaches this (seed: 0.93; off by default).
    pub target_accuracy: Option<f64>,
    /// Stop after this many epochs without a better validation accuracy.
    pub early_stopping_patience: Option<usize>,
    /// Global gradient-norm clipping (torch `clip_grad_norm_`).
    pub clip_grad_norm: Option<f64>,
    /// Cap on training batches per epoch (quick runs; `None`: all).
    pub max_batches_per_epoch: Option<usize>,
}

impl TrainConfig {
    /// The seed's recipe on `data` with `model`.
    pub fn seed_recipe(model: DetectorConfig, data: PathBuf) -> Self {
        Self {
            model,
            data,
            epochs: 12,
            batch_size: 64,
            lr: 1e-3,
            weight_decay: 1e-4,
            plateau_patience: 3,
            plateau_factor: 0.5,
            seed: 42,
            augment: Some(AugmentConfig::default()),
            freeze_backbone_epochs: 0,
            pretrained: None,
            target_accuracy: None,
            early_stopping_patience: None,
            clip_grad_norm: None,
            max_batches_per_epoch: None,
        }
    }

    /// Rejects settings that cannot work.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        let problem = if self.epochs == 0 {
            Some("epochs must be >= 1")
        } else if self.batch_size == 0 {
            Some("batch size must be >= 1")
        } else if !(self.lr > 0.0 && self.lr.is_finite()) {
            Some("learning rate must be > 0")
        } else if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            Some("weight decay must be >= 0")
        } else if !(self.plateau_factor > 0.0 && self.plateau_factor < 1.0) {
            Some("plateau factor must be in (0, 1)")
        } else if self.clip_grad_norm.is_some_and(|c| c.is_nan() || c <= 0.0) {
            Some("gradient clipping norm must be > 0")
        } else {
            None
        };
        match problem {
            Some(p) => Err(TrainError::Config(p.into())),
            None => Ok(()),
        }
    }
}
