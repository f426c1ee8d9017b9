//! Calibration: expected and maximum calibration error with a reliability diagram,
//! Brier score and log loss.

use serde::{Deserialize, Serialize};

use crate::input::Scored;

/// Bins of the reliability diagram used by the report (Guo et al., 2017).
pub const DEFAULT_BINS: usize = 15;

/// The predicted class (Fake when `score >= 0.5`), its confidence, and whether it is right.
pub fn prediction(fake: bool, score: f64) -> (bool, f64, bool) {
    let predicted_fake = score >= 0.5;
    let confidence = if predicted_fake { score } else { 1.0 - score };
    (predicted_fake, confidence, predicted_fake == fake)
}

/// One bin of the reliability diagram: confidences in `(lower, upper]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    /// Exclusive lower edge.
    pub lower: f64,
    /// Inclusive upper edge.
    pub upper: f64,
    /// Samples whose confidence falls in the bin.
    pub count: usize,
    /// Fraction of them predicted correctly (0 for an empty bin).
    pub accuracy: f64,
    /// Their mean confidence (0 for an empty bin).
    pub mean_confidence: f64,
}

/// Expected (ECE) and maximum (MCE) calibration error over equal-width confidence bins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// `sum_b (n_b / n) |accuracy_b - confidence_b|`.
    pub ece: f64,
    /// `max_b |accuracy_b - confidence_b|` over non-empty bins.
    pub mce: f64,
    /// The reliability-diagram data, `bins` equal-width bins over [0, 1].
    pub bins: Vec<ReliabilityBin>,
}

impl Calibration {
    /// Bins the predicted class's confidence (`max(p, 1 - p)`) into `bins` equal-width bins
    /// `(i/bins, (i+1)/bins]`.
    pub fn compute(scored: &Scored, bins: usize) -> Calibration {
        let bins = bins.max(1);
        // Edges as numpy's linspace(0, 1, bins + 1): i * (1 / bins), the last exactly 1.
        let step = 1.0 / bins as f64;
        let edges: Vec<f64> = (0..=bins)
            .map(|i| if i == bins { 1.0 } else { i as f64 * step })
            .collect();
        let mut count = vec![0usize; bins];
        let mut correct = vec![0usize; bins];
        let mut confidence_sum = vec![0.0f64; bins];
        for (&fake, &score) in scored.labels().iter().zip(scored.scores()) {
            let (_, confidence, is_correct) = prediction(fake, score);
            // Bin b holds (edges[b], edges[b + 1]]; a confidence of exactly 0 goes to bin 0.
            let b = edges[1..]
                .iter()
                .position(|&upper| confidence <= upper)
                .unwrap_or(bins - 1);
            count[b] += 1;
            correct[b] += usize::from(is_correct);
            confidence_sum[b] += confidence;
        }
        let n = scored.len() as f64;
        let mut ece = 0.0;
        let mut mce: f64 = 0.0;
        let bins = (0..bins)
            .map(|b| {
                let (accuracy, mean_confidence) = if count[b] > 0 {
                    let accuracy = correct[b] as f64 / count[b] as f64;
                    let mean_confidence = confidence_sum[b] / count[b] as f64;
                    let gap = (accuracy - mean_confidence).abs();
                    ece += count[b] as f64 / n * gap;
                    mce = mce.max(gap);
                    (accuracy, mean_confidence)
                } else {
                    (0.0, 0.0)
                };
                ReliabilityBin {
                    lower: edges[b],
                    upper: edges[b + 1],
                    count: count[b],
                    accuracy,
                    mean_confidence,
                }
            })
            .collect();
        Calibration { ece, mce, bins }
    }
}

/// Mean squared difference between P(Fake) and the 0/1 label (sklearn `brier_score_loss`).
pub fn brier_score(scored: &Scored) -> f64 {
    let sum: f64 = scored
        .labels()
        .iter()
        .zip(scored.scores())
        .map(|(&fake, &p)| (p - f64::from(u8::from(fake))).powi(2))
        .sum();
    sum / scored.len() as f64
}

/// Mean negative log-likelihood of the true class, probabilities clipped to
/// `[eps, 1 - eps]` with `eps = f64::EPSILON` (sklearn `log_loss`).
pub fn log_loss(scored: &Scored) -> f64 {
    let eps = f64::EPSILON;
    let sum: f64 = scored
        .labels()
        .iter()
        .zip(scored.scores())
        .map(|(&fake, &p)| {
            let p_true = if fake { p } else { 1.0 - p };
            -p_true.clamp(eps, 1.0 - eps).ln()
        })
        .sum();
    sum / scored.len() as f64
}
