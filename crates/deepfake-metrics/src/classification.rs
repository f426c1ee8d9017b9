//! Per-class precision, recall, F1 and support with macro and weighted averages
//! (sklearn `precision_recall_fscore_support`, `zero_division=0`).

use serde::{Deserialize, Serialize};

use crate::confusion::ConfusionMatrix;

/// Precision, recall, F1 and support of one class (or an average over classes).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    /// Of the samples predicted this class, the fraction that are (0 when none predicted).
    pub precision: f64,
    /// Of the samples of this class, the fraction predicted so (0 when none exist).
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
    /// Samples of this class (for averages: all samples).
    pub support: usize,
}

/// Scores of both classes and their averages.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// Class 0.
    pub real: ClassScores,
    /// Class 1.
    pub fake: ClassScores,
    /// Unweighted mean over the two classes.
    pub macro_avg: ClassScores,
    /// Mean weighted by support.
    pub weighted_avg: ClassScores,
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

fn class_scores(tp: usize, predicted: usize, actual: usize) -> ClassScores {
    let precision = ratio(tp, predicted);
    let recall = ratio(tp, actual);
    // sklearn computes F1 from counts: 2 tp / (2 tp + fp + fn), 0 when the denominator is 0.
    let f1 = ratio(2 * tp, predicted + actual);
    ClassScores {
        precision,
        recall,
        f1,
        support: actual,
    }
}

impl ClassificationReport {
    /// Builds the report from a confusion matrix.
    pub fn from_confusion(m: &ConfusionMatrix) -> Self {
        let real = class_scores(m.tn, m.tn + m.fn_, m.tn + m.fp);
        let fake = class_scores(m.tp, m.tp + m.fp, m.tp + m.fn_);
        let total = real.support + fake.support;
        let average = |weight_real: f64, weight_fake: f64| ClassScores {
            precision: weight_real * real.precision + weight_fake * fake.precision,
            recall: weight_real * real.recall + weight_fake * fake.recall,
            f1: weight_real * real.f1 + weight_fake * fake.f1,
            support: total,
        };
        let (w_real, w_fake) = (ratio(real.support, total), ratio(fake.support, total));
        ClassificationReport {
            real,
            fake,
            macro_avg: average(0.5, 0.5),
            weighted_avg: average(w_real, w_fake),
        }
    }
}
