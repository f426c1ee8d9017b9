//! One scored input.

use deepfake_model::preprocess::Label;
use serde::{Deserialize, Serialize};

/// The detector's verdict on one image or one frame sequence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// `Fake` when `p_fake >= threshold`, else `Real`.
    pub label: Label,
    /// Calibrated probability of Fake: `sigmoid((logit_fake - logit_real) / temperature)`.
    pub p_fake: f32,
    /// Probability of the predicted label.
    pub confidence: f32,
    /// Binary predictive entropy of `p_fake`, in nats (0 = certain, ln 2 = undecided).
    pub entropy: f32,
}

impl Prediction {
    /// From two-class logits `[real, fake]`, a temperature and a decision threshold.
    pub fn from_logits(logits: [f32; 2], temperature: f64, threshold: f64) -> Self {
        let p_fake = deepfake_metrics::p_fake(logits, temperature);
        let fake = p_fake >= threshold;
        Self {
            label: if fake { Label::Fake } else { Label::Real },
            p_fake: p_fake as f32,
            confidence: (if fake { p_fake } else { 1.0 - p_fake }) as f32,
            entropy: deepfake_metrics::binary_entropy(p_fake) as f32,
        }
    }
}
