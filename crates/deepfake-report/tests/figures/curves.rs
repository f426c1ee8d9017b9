//! The ROC and precision-recall curves: every point of the curve where the axes put it, the
//! chance and no-skill lines, the Youden point.

use deepfake_metrics::Scored;
use deepfake_report::figures::{PrFigure, RocFigure};
use deepfake_report::render::render_svg;

use crate::report_of;
use crate::svg::{self, FAKE, GREY, REAL, Svg, assert_at};

/// Reals 0.1, 0.2, 0.3, 0.7; fakes 0.6, 0.8, 0.9, 0.95 (and 2 more reals: prevalence 0.4).
fn scored() -> Scored {
    Scored::new(
        vec![
            false, false, false, false, true, true, true, true, false, false,
        ],
        vec![0.1, 0.2, 0.3, 0.7, 0.6, 0.8, 0.9, 0.95, 0.05, 0.15],
    )
    .expect("scores")
}

/// The polyline of `colour` with `n` points (the curve; the legend's samples have 2).
fn curve(figure: &Svg, colour: &str, n: usize) -> Vec<(f64, f64)> {
    figure
        .polylines
        .iter()
        .find(|p| p.stroke == colour && p.points.len() == n)
        .unwrap_or_else(|| panic!("no {colour} line of {n} points"))
        .points
        .clone()
}

#[test]
fn roc_curve_chance_line_and_youden_point() {
    let scored = scored();
    let report = report_of(&scored);
    let roc = report.roc_curve.as_ref().expect("a ROC curve");
    let figure = svg::parse(&render_svg(&RocFigure::new(roc, &report)).expect("SVG"));
    let axes = figure.axes(0.0..2000.0);
    let at = |fpr: f64, tpr: f64| (axes.x_of(fpr, 0.0, 1.0), axes.y_of(tpr, 0.0, 1.0));
    let expected: Vec<(f64, f64)> = roc
        .fpr
        .iter()
        .zip(&roc.tpr)
        .map(|(&f, &t)| at(f, t))
        .collect();
    assert!(expected.len() > 3, "{expected:?}");
    assert_at("ROC", &curve(&figure, REAL, expected.len()), &expected);
    let chance: Vec<(f64, f64)> = figure
        .polylines
        .iter()
        .filter(|p| p.stroke == GREY)
        .map(|p| p.points.clone())
        .find(|points| points.len() == 2 && points[1].0 - points[0].0 > 50.0)
        .expect("the chance line");
    assert_at("chance", &chance, &[at(0.0, 0.0), at(1.0, 1.0)]);

    // Youden's J is largest at threshold 0.6: TPR 4/4, FPR 1/6 (J 0.83; at 0.8 it is 3/4).
    let threshold = report.youden_threshold.expect("a Youden threshold");
    assert_eq!(threshold, 0.6);
    let legend = figure.text("Youden: threshold 0.600, TPR 1.000, FPR 0.167");
    let point: Vec<(f64, f64)> = figure
        .points(FAKE, 0.0..2000.0)
        .into_iter()
        .filter(|p| svg::off_legend(p.1, legend))
        .collect();
    assert_at("Youden point", &point, &[at(1.0 / 6.0, 1.0)]);
}

#[test]
fn pr_curve_and_the_no_skill_line_at_the_share_of_fakes() {
    let scored = scored();
    let report = report_of(&scored);
    let pr = report.pr_curve.as_ref().expect("a PR curve");
    let figure = svg::parse(&render_svg(&PrFigure::new(pr, &report, &scored)).expect("SVG"));
    let axes = figure.axes(0.0..2000.0);
    let at = |recall: f64, precision: f64| {
        (axes.x_of(recall, 0.0, 1.0), axes.y_of(precision, 0.0, 1.02))
    };
    let expected: Vec<(f64, f64)> = pr
        .recall
        .iter()
        .zip(&pr.precision)
        .map(|(&r, &p)| at(r, p))
        .collect();
    assert!(expected.len() > 3, "{expected:?}");
    assert_at("PR", &curve(&figure, REAL, expected.len()), &expected);
    let legend = figure.text("no skill (0.40 fakes)");
    let no_skill: Vec<(f64, f64)> = figure
        .polylines
        .iter()
        .filter(|p| p.stroke == GREY && svg::off_legend(p.points[0].1, legend))
        .flat_map(|p| p.points.clone())
        .collect();
    assert_at("no skill", &no_skill, &[at(0.0, 0.4), at(1.0, 0.4)]);
}
