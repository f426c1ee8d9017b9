//! Confidence and uncertainty: mean confidence of right and wrong predictions, predictive
//! entropy, error rates by confidence bucket and the most confident errors.

use serde::{Deserialize, Serialize};

use crate::calibration::prediction;
use crate::error::{MetricsError, Result};
use crate::input::Scored;

/// Binary predictive entropy in nats: `-(p ln p + (1-p) ln(1-p))`, 0 at p = 0 or 1.
pub fn binary_entropy(p: f64) -> f64 {
    let term = |q: f64| if q > 0.0 { -q * q.ln() } else { 0.0 };
    term(p) + term(1.0 - p)
}

/// Summary statistics of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Arithmetic mean.
    pub mean: f64,
    /// Population standard deviation (numpy's default `ddof=0`).
    pub std: f64,
    /// Smallest value.
    pub min: f64,
    /// Median (mean of the two middle values for even n).
    pub median: f64,
    /// Largest value.
    pub max: f64,
}

impl Summary {
    /// Summarises `values`; `None` when empty.
    pub fn of(values: &[f64]) -> Option<Summary> {
        if values.is_empty() {
            return None;
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let mut sorted = values.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        let mid = sorted.len() / 2;
        let median = if sorted.len().is_multiple_of(2) {
            (sorted[mid - 1] + sorted[mid]) / 2.0
        } else {
            sorted[mid]
        };
        Some(Summary {
            mean,
            std: var.sqrt(),
            min: sorted[0],
            median,
            max: sorted[sorted.len() - 1],
        })
    }
}

/// How sure the detector is, and whether its sureness is deserved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceStats {
    /// Mean confidence (`max(p, 1-p)`) over all samples.
    pub mean_confidence: f64,
    /// Mean confidence of the correct predictions (`None` if there are none).
    pub mean_confidence_correct: Option<f64>,
    /// Mean confidence of the wrong predictions (`None` if there are none).
    pub mean_confidence_wrong: Option<f64>,
    /// Predictive entropy (nats) over all samples.
    pub entropy: Summary,
    /// Entropy of the correct predictions.
    pub entropy_correct: Option<Summary>,
    /// Entropy of the wrong predictions.
    pub entropy_wrong: Option<Summary>,
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

impl ConfidenceStats {
    /// Computes the statistics at the argmax decision (Fake when `p >= 0.5`).
    pub fn compute(scored: &Scored) -> ConfidenceStats {
        let mut confidence = (Vec::new(), Vec::new(), Vec::new());
        let mut entropy = (Vec::new(), Vec::new(), Vec::new());
        for (&fake, &p) in scored.labels().iter().zip(scored.scores()) {
            let (_, conf, correct) = prediction(fake, p);
            let h = binary_entropy(p);
            confidence.0.push(conf);
            entropy.0.push(h);
            if correct {
                confidence.1.push(conf);
                entropy.1.push(h);
            } else {
                confidence.2.push(conf);
                entropy.2.push(h);
            }
        }
        ConfidenceStats {
            mean_confidence: mean(&confidence.0).unwrap_or(0.0),
            mean_confidence_correct: mean(&confidence.1),
            mean_confidence_wrong: mean(&confidence.2),
            entropy: Summary::of(&entropy.0).unwrap_or(Summary {
                mean: 0.0,
                std: 0.0,
                min: 0.0,
                median: 0.0,
                max: 0.0,
            }),
            entropy_correct: Summary::of(&entropy.1),
            entropy_wrong: Summary::of(&entropy.2),
        }
    }
}

/// Error rate of the predictions whose confidence falls in `[lower, upper)` (the last bucket
/// includes 1.0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceBucket {
    /// Inclusive lower edge.
    pub lower: f64,
    /// Exclusive upper edge (inclusive for the last bucket).
    pub upper: f64,
    /// Predictions in the bucket.
    pub count: usize,
    /// Wrong predictions in the bucket.
    pub errors: usize,
    /// `errors / count` (0 for an empty bucket).
    pub error_rate: f64,
}

/// Error rates in the confidence buckets [0.5, 0.6), [0.6, 0.7), ..., [0.9, 1.0].
pub fn errors_by_confidence(scored: &Scored) -> Vec<ConfidenceBucket> {
    let edges = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
    let mut buckets: Vec<ConfidenceBucket> = edges
        .windows(2)
        .map(|w| ConfidenceBucket {
            lower: w[0],
            upper: w[1],
            count: 0,
            errors: 0,
            error_rate: 0.0,
        })
        .collect();
    for (&fake, &p) in scored.labels().iter().zip(scored.scores()) {
        let (_, conf, correct) = prediction(fake, p);
        let index = buckets
            .iter()
            .position(|b| conf < b.upper)
            .unwrap_or(buckets.len() - 1);
        buckets[index].count += 1;
        buckets[index].errors += usize::from(!correct);
    }
    for bucket in &mut buckets {
        if bucket.count > 0 {
            bucket.error_rate = bucket.errors as f64 / bucket.count as f64;
        }
    }
    buckets
}

/// A wrong prediction, for the error analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfidentError {
    /// The sample's name (usually its file path).
    pub name: String,
    /// True class: `"real"` or `"fake"`.
    pub label: String,
    /// P(Fake) the detector gave.
    pub p_fake: f64,
    /// Confidence in the wrong class.
    pub confidence: f64,
}

/// The `k` wrong predictions with the highest confidence, most confident first (ties keep
/// input order). `names` must have one entry per sample.
pub fn most_confident_errors(
    scored: &Scored,
    names: &[String],
    k: usize,
) -> Result<Vec<ConfidentError>> {
    if names.len() != scored.len() {
        return Err(MetricsError::LengthMismatch {
            labels: scored.len(),
            scores: names.len(),
        });
    }
    Ok(confident_errors_named(scored, k, |i| names[i].clone()))
}

/// [`most_confident_errors`] with names made on demand (only for the `k` reported).
pub(crate) fn confident_errors_named(
    scored: &Scored,
    k: usize,
    name: impl Fn(usize) -> String,
) -> Vec<ConfidentError> {
    let mut errors: Vec<(usize, f64)> = scored
        .labels()
        .iter()
        .zip(scored.scores())
        .enumerate()
        .filter_map(|(i, (&fake, &p))| {
            let (_, confidence, correct) = prediction(fake, p);
            (!correct).then_some((i, confidence))
        })
        .collect();
    // Stable: ties keep input order.
    errors.sort_by(|a, b| b.1.total_cmp(&a.1));
    errors.truncate(k);
    errors
        .into_iter()
        .map(|(i, confidence)| {
            let fake = scored.labels()[i];
            ConfidentError {
                name: name(i),
                label: if fake { "fake" } else { "real" }.to_string(),
                p_fake: scored.scores()[i],
                confidence,
            }
        })
        .collect()
}
