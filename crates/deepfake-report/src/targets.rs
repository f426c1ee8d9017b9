//! The seed's headline targets, shown on the dashboard.

use deepfake_metrics::Report;

/// One headline metric and the value it should reach.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Display name.
    pub name: &'static str,
    /// The value to reach (higher is better for every target).
    pub at_least: f64,
    /// Reads the metric from a report (`None` when undefined for the data).
    pub value: fn(&Report) -> Option<f64>,
}

impl Target {
    /// Whether `report` meets the target (`None` when the metric is undefined).
    pub fn met(&self, report: &Report) -> Option<bool> {
        (self.value)(report).map(|v| v >= self.at_least)
    }

    /// `"met"`, `"below target"` or `"undefined"`.
    pub fn status(&self, report: &Report) -> &'static str {
        match self.met(report) {
            Some(true) => "met",
            Some(false) => "below target",
            None => "undefined",
        }
    }
}

/// The seed's table: accuracy >= 93%, ROC AUC >= 0.95, PR AUC >= 0.90, mean confidence
/// >= 0.85.
pub const HEADLINE_TARGETS: [Target; 4] = [
    Target {
        name: "Accuracy",
        at_least: 0.93,
        value: |r| Some(r.accuracy),
    },
    Target {
        name: "ROC AUC",
        at_least: 0.95,
        value: |r| r.roc_auc,
    },
    Target {
        name: "PR AUC",
        at_least: 0.90,
        value: |r| r.pr_auc,
    },
    Target {
        name: "Mean confidence",
        at_least: 0.85,
        value: |r| Some(r.confidence.mean_confidence),
    },
];
