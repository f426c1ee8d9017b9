//! Seeded bootstrap confidence intervals.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::confusion::ConfusionMatrix;
use crate::curves::RocCurve;
use crate::input::Scored;

/// A point estimate with a two-sided percentile interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// The metric on the full sample.
    pub estimate: f64,
    /// Lower percentile of the bootstrap distribution.
    pub lower: f64,
    /// Upper percentile of the bootstrap distribution.
    pub upper: f64,
    /// Resamples that entered the interval (ROC AUC skips one-class resamples).
    pub resamples: usize,
}

/// Bootstrap 95% intervals of accuracy and ROC AUC.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapIntervals {
    /// Accuracy at the report's threshold.
    pub accuracy: Interval,
    /// ROC AUC (`None` when the sample has one class).
    pub roc_auc: Option<Interval>,
}

/// Linear-interpolation percentile of sorted `values` (numpy's default `percentile`), `q` in [0, 100].
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    let position = q / 100.0 * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let fraction = position - below as f64;
    sorted[below] + (sorted[above] - sorted[below]) * fraction
}

fn interval(estimate: f64, mut samples: Vec<f64>) -> Interval {
    samples.sort_by(f64::total_cmp);
    Interval {
        estimate,
        lower: percentile(&samples, 2.5),
        upper: percentile(&samples, 97.5),
        resamples: samples.len(),
    }
}

impl BootstrapIntervals {
    /// Draws `resamples` samples of size n with replacement from a ChaCha8 generator seeded
    /// with `seed` (same seed, same intervals, on every machine).
    pub fn compute(scored: &Scored, threshold: f64, resamples: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = scored.len();
        let mut accuracies = Vec::with_capacity(resamples);
        let mut aucs = Vec::with_capacity(resamples);
        let mut indices = vec![0usize; n];
        for _ in 0..resamples.max(1) {
            for index in indices.iter_mut() {
                *index = rng.random_range(0..n);
            }
            let sample = scored.subset(&indices);
            accuracies.push(ConfusionMatrix::at_threshold(&sample, threshold).accuracy());
            if let Ok(curve) = RocCurve::compute(&sample) {
                aucs.push(curve.auc());
            }
        }
        let accuracy = ConfusionMatrix::at_threshold(scored, threshold).accuracy();
        let roc_auc = RocCurve::compute(scored)
            .ok()
            .filter(|_| !aucs.is_empty())
            .map(|curve| interval(curve.auc(), aucs));
        BootstrapIntervals {
            accuracy: interval(accuracy, accuracies),
            roc_auc,
        }
    }
}
