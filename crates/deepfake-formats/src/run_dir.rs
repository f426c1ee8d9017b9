//! The layout of a training run's directory and of a saved model inside it, as a type, so no
//! crate spells the file names itself:
//!
//! ```text
//! runs/NAME/
//!   config.json             the run's TrainConfig
//!   model_info.json         the model's input spec, classes, temperature, threshold
//!   history.json            [EpochRecord]
//!   training_results.json   TrainingResults
//!   best/                   saved model: config.json, model.bpk, model_info.json
//!   last/                   the same plus the optimizer and the run state (resume)
//!   eval-<split>/           report.json, index.html, figures/, scores.csv
//! ```

use std::path::{Path, PathBuf};

/// A run's (and a saved model's) settings file.
pub const CONFIG_FILE: &str = "config.json";
/// The model description a consumer reads.
pub const MODEL_INFO_FILE: &str = "model_info.json";
/// The per-epoch records.
pub const HISTORY_FILE: &str = "history.json";
/// The run's outcome.
pub const RESULTS_FILE: &str = "training_results.json";
/// A saved model's weights (burnpack).
pub const WEIGHTS_FILE: &str = "model.bpk";

/// A training run's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// The run at `root` (nothing is checked or created).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The run directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `config.json`: the run's training configuration.
    pub fn config(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }

    /// `model_info.json` of the run.
    pub fn model_info(&self) -> PathBuf {
        self.root.join(MODEL_INFO_FILE)
    }

    /// `history.json`.
    pub fn history(&self) -> PathBuf {
        self.root.join(HISTORY_FILE)
    }

    /// `training_results.json`.
    pub fn results(&self) -> PathBuf {
        self.root.join(RESULTS_FILE)
    }

    /// `best/`: the saved model of the best validation accuracy.
    pub fn best(&self) -> PathBuf {
        self.root.join("best")
    }

    /// `last/`: the latest epoch's model, optimizer and state, for `--resume`.
    pub fn last(&self) -> PathBuf {
        self.root.join("last")
    }

    /// `eval-<split>/`: where `eval` writes its report by default.
    pub fn eval(&self, split: &str) -> PathBuf {
        self.root.join(format!("eval-{split}"))
    }

    /// The run a saved model folder belongs to: its parent, when that holds a
    /// `history.json` (a run's `best/` or `last/`).
    pub fn of_model(model_dir: &Path) -> Option<Self> {
        model_dir
            .parent()
            .filter(|run| run.join(HISTORY_FILE).is_file())
            .map(Self::new)
    }
}

/// Files of a saved model folder (`best/`, `last/`, or any `--save` target).
pub fn model_files(dir: &Path) -> [PathBuf; 3] {
    [
        dir.join(CONFIG_FILE),
        dir.join(WEIGHTS_FILE),
        dir.join(MODEL_INFO_FILE),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_belongs_to_the_run_that_holds_its_history() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path().join("run"));
        std::fs::create_dir_all(run.best()).unwrap();
        assert_eq!(RunDir::of_model(&run.best()), None);
        std::fs::write(run.history(), b"[]").unwrap();
        assert_eq!(RunDir::of_model(&run.best()), Some(run.clone()));
        assert_eq!(run.eval("test"), run.root().join("eval-test"));
    }

    #[test]
    fn file_names_are_the_run_format() {
        // What other tools and older runs read: changing a name breaks --resume and eval.
        let run = RunDir::new("runs/seed");
        let names = [
            run.config(),
            run.model_info(),
            run.history(),
            run.results(),
            run.best(),
            run.last(),
        ];
        let expected = [
            "config.json",
            "model_info.json",
            "history.json",
            "training_results.json",
            "best",
            "last",
        ];
        for (path, name) in names.iter().zip(expected) {
            assert_eq!(path, &Path::new("runs/seed").join(name));
        }
    }
}
