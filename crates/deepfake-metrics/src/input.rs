//! Validated (label, score) pairs that every metric works on.

use crate::error::{MetricsError, Result};

/// Binary ground truth and scores: `labels[i]` is true for the positive class (Fake) and
/// `scores[i]` is the predicted probability of Fake. Built through [`Scored::new`], which
/// rejects empty, mismatched, non-finite or out-of-[0,1] input, so the metrics never see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    labels: Vec<bool>,
    scores: Vec<f64>,
}

impl Scored {
    /// Validates and takes `labels` (true = Fake) and `scores` (P(Fake) in [0, 1]).
    pub fn new(labels: Vec<bool>, scores: Vec<f64>) -> Result<Self> {
        if labels.len() != scores.len() {
            return Err(MetricsError::LengthMismatch {
                labels: labels.len(),
                scores: scores.len(),
            });
        }
        if labels.is_empty() {
            return Err(MetricsError::Empty);
        }
        for (index, &value) in scores.iter().enumerate() {
            if !value.is_finite() {
                return Err(MetricsError::NonFinite { index, value });
            }
            if !(0.0..=1.0).contains(&value) {
                return Err(MetricsError::NotProbability { index, value });
            }
        }
        Ok(Self { labels, scores })
    }

    /// Same as [`new`](Self::new) from `f32` scores (converted exactly to `f64`).
    pub fn from_f32(labels: Vec<bool>, scores: &[f32]) -> Result<Self> {
        Self::new(labels, scores.iter().map(|&s| f64::from(s)).collect())
    }

    /// Ground truth, true = Fake.
    pub fn labels(&self) -> &[bool] {
        &self.labels
    }

    /// P(Fake) per sample.
    pub fn scores(&self) -> &[f64] {
        &self.scores
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Always false: a `Scored` holds at least one sample.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of Fake samples.
    pub fn positives(&self) -> usize {
        self.labels.iter().filter(|&&l| l).count()
    }

    /// Number of Real samples.
    pub fn negatives(&self) -> usize {
        self.len() - self.positives()
    }

    /// Errors with [`MetricsError::OneClass`] unless both classes are present.
    pub(crate) fn require_both_classes(&self, metric: &'static str) -> Result<()> {
        if self.positives() == 0 || self.negatives() == 0 {
            Err(MetricsError::OneClass { metric })
        } else {
            Ok(())
        }
    }

    /// The samples at `indices` (with repeats), for resampling.
    pub(crate) fn subset(&self, indices: &[usize]) -> Scored {
        Scored {
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            scores: indices.iter().map(|&i| self.scores[i]).collect(),
        }
    }
}
