//! A training run's records: one [`EpochRecord`] per epoch (`history.json`, a JSON array)
//! and the run's outcome ([`TrainingResults`], `training_results.json`). Training writes them;
//! the report's curves and `eval` read them: one schema for both.

use serde::{Deserialize, Serialize};

/// One epoch, as written to `history.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy (argmax, on augmented images), in [0, 1].
    pub train_accuracy: f64,
    /// Mean validation loss.
    pub val_loss: f64,
    /// Validation accuracy, in [0, 1].
    pub val_accuracy: f64,
    /// Learning rate used during the epoch.
    pub lr: f64,
    /// Wall time of the epoch, in seconds.
    #[serde(default)]
    pub seconds: f64,
    /// Training throughput (wall time of the epoch's training part), images per second.
    #[serde(default)]
    pub images_per_second: f64,
    /// What the training steps alone ran at (waiting for the loader not counted).
    #[serde(default)]
    pub step_images_per_second: f64,
    /// What the loader could deliver (decode + augment + normalise, all loader threads);
    /// below `step_images_per_second` the loader is the bottleneck.
    #[serde(default)]
    pub loader_images_per_second: f64,
}

/// Why a training run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopReason {
    /// Every epoch ran.
    #[serde(rename = "completed")]
    Completed,
    /// Validation accuracy reached `target_accuracy`.
    #[serde(rename = "target accuracy reached")]
    TargetAccuracyReached,
    /// `early_stopping_patience` epochs passed without a better validation accuracy.
    #[serde(rename = "no improvement")]
    NoImprovement,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Completed => "completed",
            Self::TargetAccuracyReached => "target accuracy reached",
            Self::NoImprovement => "no improvement",
        })
    }
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
    /// Why the run ended.
    pub stopped: StopReason,
    /// Distinct files skipped as unreadable during the run (training and validation).
    pub skipped_files: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_reasons_keep_their_file_names() {
        for (reason, text) in [
            (StopReason::Completed, "\"completed\""),
            (
                StopReason::TargetAccuracyReached,
                "\"target accuracy reached\"",
            ),
            (StopReason::NoImprovement, "\"no improvement\""),
        ] {
            assert_eq!(serde_json::to_string(&reason).unwrap(), text);
            assert_eq!(serde_json::from_str::<StopReason>(text).unwrap(), reason);
            assert_eq!(format!("\"{reason}\""), text);
        }
    }

    #[test]
    fn a_history_without_timings_still_reads() {
        let json = r#"[{"epoch":1,"train_loss":0.7,"train_accuracy":0.5,"val_loss":0.69,
                       "val_accuracy":0.52,"lr":0.001}]"#;
        let history: Vec<EpochRecord> = serde_json::from_str(json).unwrap();
        assert_eq!(history[0].val_accuracy, 0.52);
        assert_eq!(history[0].loader_images_per_second, 0.0);
    }
}
