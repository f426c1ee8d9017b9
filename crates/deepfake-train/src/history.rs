//! Per-epoch records (`history.json`) and the run's summary (`training_results.json`).

use serde::{Deserialize, Serialize};

/// One epoch, as written to `history.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy (argmax, on augmented images).
    pub train_accuracy: f64,
    /// Mean validation loss.
    pub val_loss: f64,
    /// Validation accuracy.
    pub val_accuracy: f64,
    /// Learning rate used during the epoch.
    pub lr: f64,
    /// Wall time of the epoch, in seconds.
    pub seconds: f64,
    /// Training throughput (wall time of the epoch's training part).
    pub images_per_second: f64,
    /// What the training steps alone ran at (waiting for the loader not counted).
    #[serde(default)]
    pub step_images_per_second: f64,
    /// What the loader could deliver (decode + augment + normalise, all loader threads); below
    /// `step_images_per_second` the loader is the bottleneck.
    #[serde(default)]
    pub loader_images_per_second: f64,
}

/// The run's outcome, written as `training_results.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingResults {
    /// Epoch of the best validation accuracy.
    pub best_epoch: usize,
    /// That accuracy.
    pub best_val_accuracy: f64,
    /// Validation loss at that epoch.
    pub best_val_loss: f64,
    /// Epochs run.
    pub epochs_run: usize,
    /// Why the run ended: "completed", "target accuracy reached", "no improvement".
    pub stopped: String,
    /// Files skipped as unreadable during the run.
    pub skipped_files: usize,
}
