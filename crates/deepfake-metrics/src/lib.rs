//! Metrics for binary deepfake detection, each equal to scikit-learn's definition, computed
//! on plain labels (true = Fake) and scores (P(Fake)), so they can score any detector.
//!
//! ```
//! use deepfake_metrics::{Report, ReportOptions, Scored};
//!
//! let scored = Scored::new(vec![false, false, true, true], vec![0.1, 0.4, 0.35, 0.8]).unwrap();
//! let report = Report::compute(&scored, None, &ReportOptions::default()).unwrap();
//! assert_eq!(report.roc_auc, Some(0.75));
//! assert_eq!(report.accuracy, 0.75);
//! ```

pub mod bootstrap;
pub mod calibration;
pub mod classification;
pub mod confidence;
pub mod confusion;
pub mod curves;
pub mod error;
pub mod input;
pub mod report;
pub mod robustness;
pub mod scores_csv;
pub mod temperature;

pub use bootstrap::{BootstrapIntervals, Interval};
pub use calibration::{Calibration, ReliabilityBin, brier_score, log_loss, prediction};
pub use classification::{ClassScores, ClassificationReport};
pub use confidence::{ConfidenceStats, ConfidentError, binary_entropy};
pub use confusion::ConfusionMatrix;
pub use curves::{PrCurve, RocCurve};
pub use error::{MetricsError, Result};
pub use input::Scored;
pub use report::{Report, ReportOptions};
pub use robustness::{RobustnessRow, weakest};
pub use scores_csv::{read_scores_csv, scores_csv};
pub use temperature::{apply_temperature, fit_temperature, nll_at_temperature, p_fake};
