//! Checkpoints of a run directory, each written to a temporary folder and swapped in, so a
//! crash leaves the previous checkpoint intact.
//!
//! - `best/`: the model of the best validation accuracy as a saved model directory
//!   (`config.json`, `model.bpk`, `model_info.json`), loadable with `Detector::load_dir`.
//! - `last/`: everything needed to resume: `model.bpk` (a Burn record that keeps parameter
//!   ids, so the optimizer state still matches), `optimizer.bpk`, and `state.json`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::{ModuleOptimizer, OptimizerRecord};
use burn::store::ModuleRecord;
use deepfake_model::{Detector, DetectorConfig};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::plateau::ReduceLrOnPlateau;
use deepfake_formats::{
    EpochRecord, MODEL_INFO_FILE, WEIGHTS_FILE, read_json, sha256_file, write_json,
};

/// Progress of a run, saved in `last/state.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// Epochs completed.
    pub epochs_done: usize,
    /// The scheduler, with its learning rate and counters.
    pub scheduler: ReduceLrOnPlateau,
    /// Best validation accuracy so far.
    pub best_val_accuracy: f64,
    /// Its epoch (0 before the first).
    pub best_epoch: usize,
    /// Epochs since the best.
    pub epochs_without_improvement: usize,
    /// Every completed epoch.
    pub history: Vec<EpochRecord>,
    /// The distinct files skipped as unreadable so far (a file that fails in every epoch is
    /// one file). Absent in checkpoints written before it was kept (they held a count,
    /// `skipped_files`, which is ignored): empty then.
    #[serde(default)]
    pub skipped_paths: BTreeSet<PathBuf>,
}

fn file_error(action: &'static str, path: &Path, reason: impl ToString) -> TrainError {
    TrainError::File {
        action,
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Writes `contents` into a fresh `<target>.partial` folder via `fill`, then swaps it into
/// place of `target`.
fn write_dir_atomically(target: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let partial = target.with_extension("partial");
    let old = target.with_extension("old");
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).map_err(|e| file_error("create", &partial, e))?;
    fill(&partial)?;
    let _ = std::fs::remove_dir_all(&old);
    if target.exists() {
        std::fs::rename(target, &old).map_err(|e| file_error("move aside", target, e))?;
    }
    std::fs::rename(&partial, target).map_err(|e| file_error("rename into place", target, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// Saves the best model as a loadable model directory.
pub fn save_best(dir: &Path, model: &Detector, config: &DetectorConfig) -> Result<()> {
    write_dir_atomically(dir, |partial| {
        model.valid().save(config, partial)?;
        let mut info = model.model_info(config);
        info.weights_sha256 = Some(sha256_file(&partial.join(WEIGHTS_FILE))?);
        Ok(write_json(&partial.join(MODEL_INFO_FILE), &info)?)
    })
}

/// Saves what resuming needs.
pub fn save_last(
    dir: &Path,
    model: &Detector,
    optimizer: &ModuleOptimizer,
    state: &RunState,
) -> Result<()> {
    write_dir_atomically(dir, |partial| {
        let model_path = partial.join("model.bpk");
        model
            .clone()
            .into_record()
            .save(&model_path)
            .map_err(|e| file_error("save", &model_path, format!("{e:?}")))?;
        let optim_path = partial.join("optimizer.bpk");
        optimizer
            .to_record()
            .save(&optim_path)
            .map_err(|e| file_error("save", &optim_path, format!("{e:?}")))?;
        Ok(write_json(&partial.join("state.json"), state)?)
    })
}

/// The `last/` folder to resume from: `last/`, or `last.old/` if a crash hit mid-swap.
pub fn find_last(run_dir: &Path) -> Option<PathBuf> {
    [run_dir.join("last"), run_dir.join("last.old")]
        .into_iter()
        .find(|d| d.join("state.json").is_file())
}

/// Loads `last/` into a freshly built `model` and `optimizer`.
pub fn load_last(
    dir: &Path,
    model: Detector,
    optimizer: ModuleOptimizer,
) -> Result<(Detector, ModuleOptimizer, RunState)> {
    let model_path = dir.join("model.bpk");
    let record = ModuleRecord::load(&model_path)
        .map_err(|e| file_error("load", &model_path, format!("{e:?}")))?;
    let model = model
        .try_load_record(record)
        .map_err(|e| file_error("load", &model_path, format!("{e:?}")))?;
    let optim_path = dir.join("optimizer.bpk");
    let record = OptimizerRecord::load(&optim_path)
        .map_err(|e| file_error("load", &optim_path, format!("{e:?}")))?;
    let optimizer = optimizer.load_record(record);
    let state: RunState = read_json(&dir.join("state.json"))?;
    Ok((model, optimizer, state))
}

#[cfg(test)]
mod tests {
    use super::RunState;
    use crate::plateau::ReduceLrOnPlateau;

    /// A `state.json` written before the skipped files were kept by path (with a count,
    /// `skipped_files`, instead) still resumes, with no skipped files known.
    #[test]
    fn a_checkpoint_with_the_old_skipped_count_still_reads() {
        let mut scheduler = ReduceLrOnPlateau::new(1e-3, 0.5, 3);
        scheduler.step(0.5);
        let state = RunState {
            epochs_done: 2,
            scheduler,
            best_val_accuracy: 0.75,
            best_epoch: 1,
            epochs_without_improvement: 1,
            history: Vec::new(),
            skipped_paths: ["a.png".into()].into(),
        };
        let mut json = serde_json::to_value(&state).unwrap();
        let fields = json.as_object_mut().unwrap();
        assert!(fields.remove("skipped_paths").is_some());
        fields.insert("skipped_files".into(), 3.into());
        let old: RunState = serde_json::from_value(json).unwrap();
        assert!(old.skipped_paths.is_empty());
        assert_eq!(old.epochs_done, 2);
        assert_eq!(old.scheduler, state.scheduler);
    }
}
