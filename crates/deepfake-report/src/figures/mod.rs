//! One file per kind of figure.

mod calibration;
mod confusion;
mod curves;
mod dashboard;
mod heatmap;
mod robustness;
mod samples;
mod training;

pub use calibration::{ConfidenceDistribution, ErrorsByConfidence, ReliabilityFigure};
pub use confusion::ConfusionFigure;
pub use curves::{PrFigure, RocFigure};
pub use dashboard::Dashboard;
pub use heatmap::{heatmap_overlay, jet};
pub use robustness::{RobustnessFigure, RobustnessMetric};
pub(crate) use samples::escape_xml;
pub use samples::{HeatmapSource, SampleGrid, SampleTile};
pub use training::TrainingCurves;

/// `0.1234` as `12.3%`.
pub(crate) fn percent(v: f64) -> String {
    format!("{:.1}%", 100.0 * v)
}
