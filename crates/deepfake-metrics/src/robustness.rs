//! How the verdicts hold under perturbations: one row of metrics per perturbation and level,
//! computed on the same images as the clean evaluation, with the share of verdicts that
//! flipped against the clean ones.

use serde::{Deserialize, Serialize};

use crate::calibration::Calibration;
use crate::confusion::ConfusionMatrix;
use crate::curves::RocCurve;
use crate::error::{MetricsError, Result};
use crate::input::Scored;

/// The metrics of the images under one perturbation at one level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobustnessRow {
    /// The perturbation's kind (`jpeg`, `blur`, `rescale`, `noise`, `saturation`,
    /// `contrast`), or `clean` for the reference row.
    pub perturbation: String,
    /// The level in the kind's unit (JPEG quality, blur sigma, shrink factor, noise variance,
    /// saturation or contrast factor); `None` for `clean`.
    pub level: Option<f64>,
    /// A short human name, e.g. `JPEG q50`.
    pub label: String,
    /// Images scored.
    pub n: usize,
    /// Accuracy at the report's threshold.
    pub accuracy: f64,
    /// ROC AUC (`None` with one class).
    pub roc_auc: Option<f64>,
    /// Expected calibration error.
    pub ece: f64,
    /// Mean P(Fake) of the real images (`None` without any).
    pub mean_p_fake_real: Option<f64>,
    /// Mean P(Fake) of the fake images (`None` without any).
    pub mean_p_fake_fake: Option<f64>,
    /// Share of images whose verdict at the threshold differs from the clean verdict.
    pub flipped: f64,
}

impl RobustnessRow {
    /// The row of `perturbed`, whose samples are those of `clean` in the same order (same
    /// labels), at `threshold` with `bins` calibration bins.
    pub fn compute(
        perturbation: impl Into<String>,
        level: Option<f64>,
        label: impl Into<String>,
        clean: &Scored,
        perturbed: &Scored,
        threshold: f64,
        bins: usize,
    ) -> Result<Self> {
        if clean.labels() != perturbed.labels() {
            return Err(MetricsError::LengthMismatch {
                labels: clean.len(),
                scores: perturbed.len(),
            });
        }
        let mean_of = |fake: bool| {
            let values: Vec<f64> = perturbed
                .labels()
                .iter()
                .zip(perturbed.scores())
                .filter(|(label, _)| **label == fake)
                .map(|(_, score)| *score)
                .collect();
            (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
        };
        let flips = clean
            .scores()
            .iter()
            .zip(perturbed.scores())
            .filter(|(a, b)| (**a >= threshold) != (**b >= threshold))
            .count();
        Ok(Self {
            perturbation: perturbation.into(),
            level,
            label: label.into(),
            n: perturbed.len(),
            accuracy: ConfusionMatrix::at_threshold(perturbed, threshold).accuracy(),
            roc_auc: RocCurve::compute(perturbed).ok().map(|roc| roc.auc()),
            ece: Calibration::compute(perturbed, bins).ece,
            mean_p_fake_real: mean_of(false),
            mean_p_fake_fake: mean_of(true),
            flipped: flips as f64 / perturbed.len().max(1) as f64,
        })
    }
}

/// The perturbed row with the lowest ROC AUC (by accuracy when no row has an AUC).
pub fn weakest(rows: &[RobustnessRow]) -> Option<&RobustnessRow> {
    let perturbed = rows.iter().filter(|row| row.level.is_some());
    if rows.iter().any(|row| row.roc_auc.is_some()) {
        perturbed
            .filter(|row| row.roc_auc.is_some())
            .min_by(|a, b| {
                a.roc_auc
                    .partial_cmp(&b.roc_auc)
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
    } else {
        perturbed.min_by(|a, b| a.accuracy.total_cmp(&b.accuracy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_flips_means_and_metrics_of_the_perturbed_scores() {
        let labels = vec![false, false, true, true];
        let clean = Scored::new(labels.clone(), vec![0.1, 0.2, 0.8, 0.9]).unwrap();
        // One real crosses the threshold, one fake falls to 0.3.
        let perturbed = Scored::new(labels, vec![0.6, 0.2, 0.3, 0.9]).unwrap();
        let row =
            RobustnessRow::compute("jpeg", Some(50.0), "JPEG q50", &clean, &perturbed, 0.5, 10)
                .unwrap();
        assert_eq!(row.flipped, 0.5);
        assert_eq!(row.accuracy, 0.5);
        assert!((row.mean_p_fake_real.unwrap() - 0.4).abs() < 1e-12);
        assert!((row.mean_p_fake_fake.unwrap() - 0.6).abs() < 1e-12);
        // Pairs (fake, real) ranked right: (0.3 > 0.2), (0.9 > 0.6), (0.9 > 0.2); wrong: 0.3 < 0.6.
        assert!((row.roc_auc.unwrap() - 0.75).abs() < 1e-12);
        let same = RobustnessRow::compute("clean", None, "clean", &clean, &clean, 0.5, 10).unwrap();
        assert_eq!(
            (same.flipped, same.accuracy, same.roc_auc),
            (0.0, 1.0, Some(1.0))
        );
        assert_eq!(weakest(&[same, row.clone()]), Some(&row));
    }

    #[test]
    fn other_samples_are_refused() {
        let a = Scored::new(vec![false, true], vec![0.1, 0.9]).unwrap();
        let b = Scored::new(vec![true, false], vec![0.1, 0.9]).unwrap();
        assert!(RobustnessRow::compute("blur", Some(1.0), "blur", &a, &b, 0.5, 10).is_err());
    }
}
