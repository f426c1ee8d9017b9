//! The evaluation report a person looks at: figures as PNG and SVG (plotters) and one
//! self-contained `index.html`, built from a [`deepfake_metrics::Report`] and the scores
//! behind it.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use deepfake_metrics::{Report, ReportOptions, Scored};
//! use deepfake_report::{ReportInputs, write_report};
//!
//! let scored = Scored::new(vec![false, true, true, false], vec![0.1, 0.8, 0.6, 0.4])?;
//! let report = Report::compute(&scored, None, &ReportOptions::default())?;
//! let inputs = ReportInputs::new("example", &report, &scored);
//! let files = write_report(std::path::Path::new("eval-out"), &inputs)?;
//! println!("open {}", files.index_html.display());
//! # Ok(())
//! # }
//! ```

pub mod error;
pub mod figures;
pub mod html;
pub mod inputs;
pub mod render;
pub mod targets;

use std::path::{Path, PathBuf};

pub use error::{ReportError, Result};
pub use inputs::{ReportInputs, TemperatureSummary, read_history};
pub use targets::{HEADLINE_TARGETS, Target};

use crate::figures::{
    ConfidenceDistribution, ConfusionFigure, Dashboard, ErrorsByConfidence, PrFigure,
    ReliabilityFigure, RobustnessFigure, RobustnessMetric, RocFigure, SampleGrid, TrainingCurves,
};
use crate::render::{RenderedFigure, write_figure};

/// What [`write_report`] wrote.
#[derive(Debug, Clone)]
pub struct ReportFiles {
    /// `report.json`.
    pub report_json: PathBuf,
    /// `index.html`.
    pub index_html: PathBuf,
    /// Every figure, as PNG and SVG, under `figures/`.
    pub figures: Vec<RenderedFigure>,
}

/// Writes `report.json`, `figures/*.{png,svg}` and `index.html` into `dir` (created if
/// missing; every file written atomically).
pub fn write_report(dir: &Path, inputs: &ReportInputs) -> Result<ReportFiles> {
    let figures_dir = dir.join("figures");
    std::fs::create_dir_all(&figures_dir).map_err(|source| ReportError::Io {
        path: figures_dir.clone(),
        source,
    })?;
    let report_json = dir.join("report.json");
    let json = serde_json::to_vec_pretty(inputs.report)?;
    render::write_file(&report_json, &json)?;

    let mut figures = Vec::new();
    figures.push(write_figure(&figures_dir, &Dashboard::new(inputs))?);
    if let Some(history) = inputs.history.as_deref().filter(|h| !h.is_empty()) {
        figures.push(write_figure(&figures_dir, &TrainingCurves { history })?);
    }
    figures.push(write_figure(
        &figures_dir,
        &ConfusionFigure::new(inputs.report),
    )?);
    if let Some(roc) = &inputs.report.roc_curve {
        figures.push(write_figure(
            &figures_dir,
            &RocFigure::new(roc, inputs.report),
        )?);
    }
    if let Some(pr) = &inputs.report.pr_curve {
        figures.push(write_figure(
            &figures_dir,
            &PrFigure::new(pr, inputs.report, inputs.scored),
        )?);
    }
    figures.push(write_figure(
        &figures_dir,
        &ReliabilityFigure::new(inputs.report),
    )?);
    figures.push(write_figure(
        &figures_dir,
        &ConfidenceDistribution::new(inputs.scored),
    )?);
    figures.push(write_figure(
        &figures_dir,
        &ErrorsByConfidence::new(inputs.report),
    )?);
    if let Some(rows) = inputs
        .report
        .robustness
        .as_deref()
        .filter(|r| !r.is_empty())
    {
        for metric in RobustnessMetric::ALL {
            figures.push(write_figure(
                &figures_dir,
                &RobustnessFigure { rows, metric },
            )?);
        }
    }
    if let Some(names) = inputs.names {
        let mut grid = SampleGrid::load(inputs.scored, names, inputs.report.threshold, 16);
        if let Some(source) = inputs.heatmaps {
            grid = grid.with_heatmaps(source);
        }
        if !grid.is_empty() {
            figures.push(grid.write(&figures_dir)?);
        }
    }

    let index_html = dir.join("index.html");
    let page = html::page(inputs, &figures)?;
    render::write_file(&index_html, page.as_bytes())?;
    Ok(ReportFiles {
        report_json,
        index_html,
        figures,
    })
}
