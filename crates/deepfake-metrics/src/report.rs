//! The full evaluation report, serialised as `report.json`.

use serde::{Deserialize, Serialize};

use crate::bootstrap::BootstrapIntervals;
use crate::calibration::{Calibration, DEFAULT_BINS, ReliabilityBin, brier_score, log_loss};
use crate::classification::{ClassScores, ClassificationReport};
use crate::confidence::{
    ConfidenceBucket, ConfidenceStats, ConfidentError, confident_errors_named,
    errors_by_confidence, most_confident_errors,
};
use crate::confusion::ConfusionMatrix;
use crate::curves::{PrCurve, RocCurve};
use crate::error::Result;
use crate::input::Scored;
use crate::robustness::RobustnessRow;

/// Knobs of [`Report::compute`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportOptions {
    /// Decision threshold on P(Fake) for accuracy, the confusion matrix and P/R/F1.
    pub threshold: f64,
    /// Equal-width bins of the reliability diagram.
    pub calibration_bins: usize,
    /// Bootstrap resamples for the 95% intervals (0 skips them).
    pub bootstrap_resamples: usize,
    /// Seed of the bootstrap.
    pub seed: u64,
    /// How many of the most confident errors to list.
    pub top_errors: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            calibration_bins: DEFAULT_BINS,
            bootstrap_resamples: 1000,
            seed: 0,
            top_errors: 16,
        }
    }
}

/// Precision, recall, F1 and support per class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PerClass {
    /// Class 0.
    pub real: ClassScores,
    /// Class 1.
    pub fake: ClassScores,
}

/// Everything the evaluation reports. Metrics undefined for the data (e.g. ROC AUC with one
/// class) are `None` (`null` in JSON), never NaN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Samples scored.
    pub n: usize,
    /// The decision threshold used.
    pub threshold: f64,
    /// Accuracy at `threshold`.
    pub accuracy: f64,
    /// Area under the ROC curve.
    pub roc_auc: Option<f64>,
    /// Average precision (step integral of the PR curve).
    pub average_precision: Option<f64>,
    /// Trapezoid area under the PR curve.
    pub pr_auc: Option<f64>,
    /// Expected calibration error.
    pub ece: f64,
    /// Maximum calibration error.
    pub mce: f64,
    /// Brier score.
    pub brier: f64,
    /// Log loss.
    pub log_loss: f64,
    /// Threshold maximising Youden's J (`null` if it is the `+inf` start of the curve).
    pub youden_threshold: Option<f64>,
    /// Youden's J at that threshold.
    pub youden_j: Option<f64>,
    /// Equal error rate.
    pub eer: Option<f64>,
    /// Confusion matrix at `threshold`, positive = Fake.
    pub confusion_matrix: ConfusionMatrix,
    /// Per-class scores.
    pub per_class: PerClass,
    /// Unweighted average of the per-class scores.
    pub macro_avg: ClassScores,
    /// Support-weighted average of the per-class scores.
    pub weighted_avg: ClassScores,
    /// Reliability-diagram bins.
    pub reliability: Vec<ReliabilityBin>,
    /// Confidence and entropy statistics.
    pub confidence: ConfidenceStats,
    /// Error rate by confidence bucket.
    pub errors_by_confidence: Vec<ConfidenceBucket>,
    /// The most confident wrong predictions.
    pub most_confident_errors: Vec<ConfidentError>,
    /// Bootstrap 95% intervals (absent when skipped).
    pub bootstrap: Option<BootstrapIntervals>,
    /// The ROC curve.
    pub roc_curve: Option<RocCurve>,
    /// The precision-recall curve.
    pub pr_curve: Option<PrCurve>,
    /// The robustness study (`eval --robustness`): the clean row, then one row per
    /// perturbation and level. Absent when not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub robustness: Option<Vec<RobustnessRow>>,
}

impl Report {
    /// Computes every metric. `names` (one per sample, e.g. file paths) label the error
    /// analysis; without them samples are named by index.
    pub fn compute(
        scored: &Scored,
        names: Option<&[String]>,
        options: &ReportOptions,
    ) -> Result<Report> {
        let confusion = ConfusionMatrix::at_threshold(scored, options.threshold);
        let classes = ClassificationReport::from_confusion(&confusion);
        let calibration = Calibration::compute(scored, options.calibration_bins);
        let roc = RocCurve::compute(scored).ok();
        let pr = PrCurve::compute(scored).ok();
        let youden = roc.as_ref().map(RocCurve::youden);
        let most_confident_errors = match names {
            Some(names) => most_confident_errors(scored, names, options.top_errors)?,
            None => confident_errors_named(scored, options.top_errors, |i| i.to_string()),
        };
        Ok(Report {
            n: scored.len(),
            threshold: options.threshold,
            accuracy: confusion.accuracy(),
            roc_auc: roc.as_ref().map(RocCurve::auc),
            average_precision: pr.as_ref().map(PrCurve::average_precision),
            pr_auc: pr.as_ref().map(PrCurve::auc),
            ece: calibration.ece,
            mce: calibration.mce,
            brier: brier_score(scored),
            log_loss: log_loss(scored),
            youden_threshold: youden.map(|(_, t)| t).filter(|t| t.is_finite()),
            youden_j: youden.map(|(j, _)| j),
            eer: roc.as_ref().map(RocCurve::equal_error_rate),
            confusion_matrix: confusion,
            per_class: PerClass {
                real: classes.real,
                fake: classes.fake,
            },
            macro_avg: classes.macro_avg,
            weighted_avg: classes.weighted_avg,
            reliability: calibration.bins,
            confidence: ConfidenceStats::compute(scored),
            errors_by_confidence: errors_by_confidence(scored),
            most_confident_errors,
            bootstrap: (options.bootstrap_resamples > 0).then(|| {
                BootstrapIntervals::compute(
                    scored,
                    options.threshold,
                    options.bootstrap_resamples,
                    options.seed,
                )
            }),
            roc_curve: roc,
            pr_curve: pr,
            robustness: None,
        })
    }
}
