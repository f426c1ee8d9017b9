//! Confusion matrix at a threshold (positive = Fake) and what follows from it.

use serde::{Deserialize, Serialize};

use crate::input::Scored;

/// Counts of a thresholded binary decision; a sample is predicted Fake when `score >= threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    /// Real predicted Real.
    pub tn: usize,
    /// Real predicted Fake.
    pub fp: usize,
    /// Fake predicted Real.
    #[serde(rename = "fn")]
    pub fn_: usize,
    /// Fake predicted Fake.
    pub tp: usize,
}

impl ConfusionMatrix {
    /// Thresholds `scored` at `threshold` (Fake when `score >= threshold`).
    pub fn at_threshold(scored: &Scored, threshold: f64) -> Self {
        let mut m = ConfusionMatrix {
            tn: 0,
            fp: 0,
            fn_: 0,
            tp: 0,
        };
        for (&fake, &score) in scored.labels().iter().zip(scored.scores()) {
            match (fake, score >= threshold) {
                (false, false) => m.tn += 1,
                (false, true) => m.fp += 1,
                (true, false) => m.fn_ += 1,
                (true, true) => m.tp += 1,
            }
        }
        m
    }

    /// All samples.
    pub fn total(&self) -> usize {
        self.tn + self.fp + self.fn_ + self.tp
    }

    /// Fraction predicted correctly (sklearn `accuracy_score`).
    pub fn accuracy(&self) -> f64 {
        (self.tn + self.tp) as f64 / self.total().max(1) as f64
    }
}
