//! The model an evaluation scores: a saved model folder, and its training run when it has one.

use std::path::{Path, PathBuf};

use deepfake_formats::{RunDir, read_json};
use deepfake_model::saved::find_model_dir;
use deepfake_train::TrainConfig;

use super::error::{EvalError, Result};

/// A model to evaluate: the saved model folder and, when it is a run's checkpoint, the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// Folder with `config.json` and `model.bpk`.
    pub model_dir: PathBuf,
    /// The training run it belongs to (for its data, history and `model_info.json`).
    pub run_dir: Option<PathBuf>,
}

impl Checkpoint {
    /// Resolves a run folder (its `best/`), a run's `best/` or `last/`, or a saved model.
    pub fn resolve(path: &Path) -> Result<Self> {
        let model_dir =
            find_model_dir(path).ok_or_else(|| EvalError::NotACheckpoint(path.to_path_buf()))?;
        // A run holds history.json beside best/ (or last/).
        let run_dir = RunDir::of_model(&model_dir).map(|run| run.root().to_path_buf());
        Ok(Self { model_dir, run_dir })
    }

    /// The most recently written run under `runs` (by the time of its `best/` checkpoint).
    pub fn newest_run(runs: &Path) -> Result<Self> {
        let newest = std::fs::read_dir(runs)
            .map_err(|_| EvalError::NoRuns(runs.to_path_buf()))?
            .filter_map(|entry| {
                let run = entry.ok()?.path();
                let modified = std::fs::metadata(run.join("best/model.bpk"))
                    .ok()?
                    .modified()
                    .ok()?;
                Some((modified, run))
            })
            .max_by_key(|(modified, _)| *modified)
            .map(|(_, run)| run)
            .ok_or_else(|| EvalError::NoRuns(runs.to_path_buf()))?;
        Self::resolve(&newest)
    }

    /// The training configuration of the run, when there is one.
    pub fn train_config(&self) -> Option<TrainConfig> {
        let run = self.run_dir.as_ref()?;
        read_json(&RunDir::new(run).config()).ok()
    }
}
