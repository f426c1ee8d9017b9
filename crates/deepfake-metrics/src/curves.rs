//! ROC and precision-recall curves, their areas, Youden's threshold and the equal error rate,
//! computed exactly as scikit-learn does (ties share one threshold).

use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};
use crate::input::Scored;

/// Cumulative counts at each distinct score, scores descending
/// (sklearn `confusion_matrix_at_thresholds`).
struct ThresholdCounts {
    /// False positives with `score >= thresholds[i]`.
    fps: Vec<f64>,
    /// True positives with `score >= thresholds[i]`.
    tps: Vec<f64>,
    /// Distinct scores, descending.
    thresholds: Vec<f64>,
}

fn threshold_counts(scored: &Scored) -> ThresholdCounts {
    // Descending by score. The order within a run of equal scores does not matter: counts
    // are only taken at the end of each run.
    let mut pairs: Vec<(f64, bool)> = scored
        .scores()
        .iter()
        .copied()
        .zip(scored.labels().iter().copied())
        .collect();
    pairs.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    let mut counts = ThresholdCounts {
        fps: Vec::new(),
        tps: Vec::new(),
        thresholds: Vec::new(),
    };
    let mut tp = 0.0;
    for (position, &(score, fake)) in pairs.iter().enumerate() {
        if fake {
            tp += 1.0;
        }
        let last_of_run = pairs.get(position + 1).is_none_or(|next| next.0 != score);
        if last_of_run {
            counts.tps.push(tp);
            counts.fps.push((position + 1) as f64 - tp);
            counts.thresholds.push(score);
        }
    }
    counts
}

/// A ROC curve (sklearn `roc_curve`, `drop_intermediate=True`): `thresholds[0]` is `+inf`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RocCurve {
    /// False-positive rate per threshold, increasing from 0 to 1.
    pub fpr: Vec<f64>,
    /// True-positive rate per threshold.
    pub tpr: Vec<f64>,
    /// Decision thresholds, decreasing (the first is `+inf`, serialised as `null`).
    pub thresholds: Vec<f64>,
}

impl RocCurve {
    /// Computes the curve; needs both classes.
    pub fn compute(scored: &Scored) -> Result<Self> {
        scored.require_both_classes("ROC curve")?;
        let ThresholdCounts {
            mut fps,
            mut tps,
            mut thresholds,
        } = threshold_counts(scored);
        if fps.len() > 2 {
            // Keep the ends and every point where the curve bends (second difference != 0).
            let keep: Vec<usize> = (0..fps.len())
                .filter(|&i| {
                    i == 0
                        || i == fps.len() - 1
                        || fps[i - 1] - 2.0 * fps[i] + fps[i + 1] != 0.0
                        || tps[i - 1] - 2.0 * tps[i] + tps[i + 1] != 0.0
                })
                .collect();
            fps = keep.iter().map(|&i| fps[i]).collect();
            tps = keep.iter().map(|&i| tps[i]).collect();
            thresholds = keep.iter().map(|&i| thresholds[i]).collect();
        }
        let (fp_total, tp_total) = (fps[fps.len() - 1], tps[tps.len() - 1]);
        let mut curve = RocCurve {
            fpr: vec![0.0],
            tpr: vec![0.0],
            thresholds: vec![f64::INFINITY],
        };
        curve.fpr.extend(fps.iter().map(|f| f / fp_total));
        curve.tpr.extend(tps.iter().map(|t| t / tp_total));
        curve.thresholds.extend(thresholds);
        Ok(curve)
    }

    /// Area under the curve by the trapezoid rule (sklearn `roc_auc_score`).
    pub fn auc(&self) -> f64 {
        trapezoid(&self.fpr, &self.tpr)
    }

    /// Youden's J = max(tpr - fpr), and the threshold reaching it (the first, as `np.argmax`).
    pub fn youden(&self) -> (f64, f64) {
        let mut best = 0;
        for i in 1..self.fpr.len() {
            if self.tpr[i] - self.fpr[i] > self.tpr[best] - self.fpr[best] {
                best = i;
            }
        }
        (self.tpr[best] - self.fpr[best], self.thresholds[best])
    }

    /// Equal error rate: at the point where |fnr - fpr| is smallest (first such point),
    /// the mean of the two rates.
    pub fn equal_error_rate(&self) -> f64 {
        let gap = |i: usize| ((1.0 - self.tpr[i]) - self.fpr[i]).abs();
        let mut best = 0;
        for i in 1..self.fpr.len() {
            if gap(i) < gap(best) {
                best = i;
            }
        }
        ((1.0 - self.tpr[best]) + self.fpr[best]) / 2.0
    }
}

/// A precision-recall curve (sklearn `precision_recall_curve`): recall decreasing to 0, with
/// the final point (precision 1, recall 0) that has no threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrCurve {
    /// Precision per point.
    pub precision: Vec<f64>,
    /// Recall per point, decreasing.
    pub recall: Vec<f64>,
    /// Thresholds, increasing; one fewer than the points.
    pub thresholds: Vec<f64>,
}

impl PrCurve {
    /// Computes the curve; needs at least one Fake sample.
    pub fn compute(scored: &Scored) -> Result<Self> {
        if scored.positives() == 0 {
            return Err(MetricsError::OneClass {
                metric: "precision-recall curve",
            });
        }
        let counts = threshold_counts(scored);
        let tp_total = counts.tps[counts.tps.len() - 1];
        let mut precision: Vec<f64> = counts
            .tps
            .iter()
            .zip(&counts.fps)
            .map(|(&tp, &fp)| if tp + fp != 0.0 { tp / (tp + fp) } else { 0.0 })
            .collect();
        let mut recall: Vec<f64> = counts.tps.iter().map(|tp| tp / tp_total).collect();
        let mut thresholds = counts.thresholds;
        precision.reverse();
        recall.reverse();
        thresholds.reverse();
        precision.push(1.0);
        recall.push(0.0);
        Ok(PrCurve {
            precision,
            recall,
            thresholds,
        })
    }

    /// Average precision, the step-function integral `-sum(diff(recall) * precision[:-1])`
    /// (sklearn `average_precision_score`), clipped at 0.
    pub fn average_precision(&self) -> f64 {
        let sum: f64 = self
            .recall
            .windows(2)
            .zip(&self.precision)
            .map(|(r, p)| (r[1] - r[0]) * p)
            .sum();
        (-sum).max(0.0)
    }

    /// Trapezoid area `auc(recall, precision)` (sklearn `auc`).
    pub fn auc(&self) -> f64 {
        // Recall is non-increasing, so sklearn integrates with direction -1.
        -trapezoid(&self.recall, &self.precision)
    }
}

/// Trapezoid rule as numpy's `trapezoid(y, x)`: `sum(diff(x) * (y[1:] + y[:-1]) / 2)`.
fn trapezoid(x: &[f64], y: &[f64]) -> f64 {
    x.windows(2)
        .zip(y.windows(2))
        .map(|(x, y)| (x[1] - x[0]) * (y[1] + y[0]) / 2.0)
        .sum()
}
