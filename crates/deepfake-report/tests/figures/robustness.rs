//! The robustness study: per kind of perturbation, a line from the clean value through each
//! level's; the clean value as a dashed reference; the levels named in the legend.

use deepfake_metrics::RobustnessRow;
use deepfake_report::figures::{RobustnessFigure, RobustnessMetric};
use deepfake_report::render::render_svg;

use crate::svg::{self, GREY, assert_at};

/// The first two kinds' colours (the figure's own list starts with the palette's Real and
/// Fake).
const KINDS: [&str; 2] = [svg::REAL, svg::FAKE];

fn row(perturbation: &str, level: Option<f64>, accuracy: f64, auc: Option<f64>) -> RobustnessRow {
    RobustnessRow {
        perturbation: perturbation.into(),
        level,
        label: format!("{perturbation} {level:?}"),
        n: 8,
        accuracy,
        roc_auc: auc,
        ece: 0.1,
        mean_p_fake_real: Some(0.3),
        mean_p_fake_fake: Some(0.7),
        flipped: 0.0,
    }
}

/// Clean, then JPEG at quality 95, 75, 50 and blur at sigma 1 and 2 (whose AUC at sigma 2
/// is undefined: one class left).
fn rows() -> Vec<RobustnessRow> {
    vec![
        row("clean", None, 0.95, Some(0.97)),
        row("jpeg", Some(95.0), 0.9, Some(0.96)),
        row("jpeg", Some(75.0), 0.8, Some(0.9)),
        row("jpeg", Some(50.0), 0.6, Some(0.7)),
        row("blur", Some(1.0), 0.85, Some(0.92)),
        row("blur", Some(2.0), 0.7, None),
    ]
}

#[test]
fn each_kind_runs_from_the_clean_value_through_its_levels() {
    let rows = rows();
    for (metric, values) in [
        (RobustnessMetric::Accuracy, [0.95, 0.9, 0.8, 0.6, 0.85, 0.7]),
        (
            RobustnessMetric::RocAuc,
            [0.97, 0.96, 0.9, 0.7, 0.92, f64::NAN],
        ),
    ] {
        let figure = svg::parse(
            &render_svg(&RobustnessFigure {
                rows: &rows,
                metric,
            })
            .expect("SVG"),
        );
        let axes = figure.axes(0.0..860.0);
        // x: severity steps 0 (clean) to 3 (the most levels) plus 0.2; y: 0 to 1.02.
        let at = |step: f64, value: f64| (axes.x_of(step, 0.0, 3.2), axes.y_of(value, 0.0, 1.02));
        let jpeg: Vec<(f64, f64)> = [0, 1, 2, 3]
            .iter()
            .map(|&i| at(i as f64, values[i]))
            .collect();
        let blur: Vec<(f64, f64)> = [(0.0, values[0]), (1.0, values[4]), (2.0, values[5])]
            .into_iter()
            .filter(|(_, v)| v.is_finite())
            .map(|(step, v)| at(step, v))
            .collect();
        assert_at(
            &format!("{metric:?} jpeg"),
            &figure.points(KINDS[0], 0.0..860.0),
            &jpeg,
        );
        assert_at(
            &format!("{metric:?} blur"),
            &figure.points(KINDS[1], 0.0..860.0),
            &blur,
        );

        // The clean value, dashed, across every step (the legend's grey sample, on the line
        // of the legend's "clean" entry, aside).
        let legend = figure.text(&format!("clean ({:.3})", values[0]));
        let dashes: Vec<&(f64, f64)> = figure
            .polylines
            .iter()
            .filter(|p| p.stroke == GREY)
            .flat_map(|p| &p.points)
            .filter(|point| svg::off_legend(point.1, legend))
            .collect();
        assert!(dashes.len() > 4, "{metric:?}: not dashed: {dashes:?}");
        let (left, right) = (at(0.0, values[0]), at(3.0, values[0]));
        for point in &dashes {
            assert!(
                (point.1 - left.1).abs() <= 1.5
                    && point.0 >= left.0 - 1.5
                    && point.0 <= right.0 + 1.5,
                "{metric:?}: dash at {point:?}, not on the clean value from {left:?} to {right:?}"
            );
        }
        // A tick label per severity step, under the axis.
        for step in 0..=3 {
            let x = axes.x_of(step as f64, 0.0, 3.2);
            assert!(
                figure
                    .texts_saying(&step.to_string())
                    .iter()
                    .any(|t| (t.x - x).abs() <= 1.5 && t.y > axes.bottom),
                "{metric:?}: no tick label {step} at x {x}"
            );
        }
        figure.text("jpeg (95, 75, 50)");
        figure.text("blur (1, 2)");
    }
}

#[test]
fn the_value_axis_grows_past_1_for_larger_values() {
    let mut rows = rows();
    rows[3].flipped = 1.5; // not a share, but the axis must still hold it
    let figure = svg::parse(
        &render_svg(&RobustnessFigure {
            rows: &rows,
            metric: RobustnessMetric::Flipped,
        })
        .expect("SVG"),
    );
    let axes = figure.axes(0.0..860.0);
    let drawn = figure.points(KINDS[0], 0.0..860.0);
    let top = 1.5 * 1.02;
    let expected: Vec<(f64, f64)> = [0.0, 0.0, 0.0, 1.5]
        .iter()
        .enumerate()
        .map(|(step, &v)| (axes.x_of(step as f64, 0.0, 3.2), axes.y_of(v, 0.0, top)))
        .collect();
    assert_at("flipped jpeg", &drawn, &expected);
    assert!(!figure.texts_saying("flipped verdicts").is_empty());
}
