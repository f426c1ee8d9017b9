//! What a report is built from.

use std::path::Path;

use deepfake_formats::EpochRecord;
use deepfake_metrics::{Report, Scored};
use serde::{Deserialize, Serialize};

use crate::error::{ReportError, Result};

/// Reads a run's `history.json` (a JSON array of epochs).
pub fn read_history(path: &Path) -> Result<Vec<EpochRecord>> {
    let bytes = deepfake_formats::read_limited(path, deepfake_formats::MAX_JSON_BYTES, "JSON file")
        .map_err(|e| ReportError::BadInput {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    serde_json::from_slice(&bytes).map_err(|e| ReportError::BadInput {
        path: path.to_path_buf(),
        reason: format!("not a training history (a JSON array of epochs): {e}"),
    })
}

/// Temperature scaling fitted on validation logits, and its effect.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TemperatureSummary {
    /// The fitted temperature (logits are divided by it).
    pub temperature: f64,
    /// ECE of the evaluated split before scaling.
    pub ece_before: f64,
    /// ECE of the evaluated split after scaling.
    pub ece_after: f64,
}

/// Everything a report shows.
#[derive(Clone)]
pub struct ReportInputs<'a> {
    /// What was evaluated, e.g. `runs/tiny (best) on data/synth, test split`.
    pub title: String,
    /// The metrics.
    pub report: &'a Report,
    /// The labels and scores behind them.
    pub scored: &'a Scored,
    /// One name (file path) per sample; enables the sample grid.
    pub names: Option<&'a [String]>,
    /// The training run's epochs, for the training curves.
    pub history: Option<Vec<EpochRecord>>,
    /// Temperature scaling, when fitted.
    pub temperature: Option<TemperatureSummary>,
    /// Lines shown at the top of the page (e.g. "these data are synthetic").
    pub notes: Vec<String>,
    /// Heatmaps for the sample grid (each sample beside its explanation), when the model is
    /// at hand.
    pub heatmaps: Option<&'a crate::figures::HeatmapSource<'a>>,
}

impl std::fmt::Debug for ReportInputs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportInputs")
            .field("title", &self.title)
            .field("report", &self.report)
            .field("scored", &self.scored)
            .field("names", &self.names)
            .field("history", &self.history)
            .field("temperature", &self.temperature)
            .field("notes", &self.notes)
            .field("heatmaps", &self.heatmaps.map(|_| "a heatmap source"))
            .finish()
    }
}

impl<'a> ReportInputs<'a> {
    /// Inputs with only the metrics and scores.
    pub fn new(title: impl Into<String>, report: &'a Report, scored: &'a Scored) -> Self {
        Self {
            title: title.into(),
            report,
            scored,
            names: None,
            history: None,
            temperature: None,
            notes: Vec::new(),
            heatmaps: None,
        }
    }
}
