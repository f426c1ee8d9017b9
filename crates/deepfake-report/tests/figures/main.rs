//! What each figure draws, read from its SVG: the values at the pixels the chart's axes give
//! them, the texts in their places, the cells in their shades. (The report's own tests check
//! that every figure is written and decodes; these check what it shows.)

mod calibration;
mod confusion;
mod curves;
mod dashboard;
mod robustness;
mod samples;
mod svg;
mod training;

use deepfake_metrics::{Report, ReportOptions, Scored};

/// 4 reals scored 0.1, 0.2, 0.3, 0.7 and 4 fakes 0.6, 0.8, 0.9, 0.95: at 0.5, TN 3, FP 1,
/// FN 0, TP 4.
fn eight_scores() -> Scored {
    Scored::new(
        vec![false, false, false, false, true, true, true, true],
        vec![0.1, 0.2, 0.3, 0.7, 0.6, 0.8, 0.9, 0.95],
    )
    .expect("scores")
}

/// The report of `scored` at threshold 0.5, without bootstrap intervals.
fn report_of(scored: &Scored) -> Report {
    let options = ReportOptions {
        bootstrap_resamples: 0,
        ..ReportOptions::default()
    };
    Report::compute(scored, None, &options).expect("report")
}
