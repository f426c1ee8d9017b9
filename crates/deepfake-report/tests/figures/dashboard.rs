//! The dashboard: a bar per headline metric to its value, green when its target is met and
//! red when not, the target marked; the counts and calibration below.

use deepfake_report::figures::Dashboard;
use deepfake_report::render::{Figure, render_svg};
use deepfake_report::{HEADLINE_TARGETS, ReportInputs, TemperatureSummary};

use crate::svg::{self, FAKE, GOOD, GREY, assert_spans};
use crate::{eight_scores, report_of};

#[test]
fn each_metric_has_its_bar_target_and_verdict() {
    // Reals 0.1, 0.2, 0.3, 0.7; fakes 0.6, 0.8, 0.9, 0.95: accuracy 7/8, ROC AUC 15/16,
    // mean confidence 6.35/8 (all below their targets); PR AUC above its 0.90.
    let scored = eight_scores();
    let report = report_of(&scored);
    let title = format!("{}{}", "a".repeat(65), "b".repeat(65));
    let mut inputs = ReportInputs::new(title, &report, &scored);
    inputs.temperature = Some(TemperatureSummary {
        temperature: 1.5,
        ece_before: 0.25,
        ece_after: 0.125,
    });
    let dashboard = Dashboard::new(&inputs);
    assert_eq!(dashboard.title(), "Headline metrics against the targets");
    let figure = svg::parse(&render_svg(&dashboard).expect("SVG"));

    let values = [
        7.0 / 8.0,
        15.0 / 16.0,
        report.pr_auc.expect("PR AUC"),
        6.35 / 8.0,
    ];
    let verdicts = [
        (FAKE, "below target"),
        (FAKE, "below target"),
        (GOOD, "met"),
        (FAKE, "below target"),
    ];
    for (i, ((target, value), (colour, status))) in HEADLINE_TARGETS
        .iter()
        .zip(values)
        .zip(verdicts)
        .enumerate()
    {
        let top = 96.0 + 78.0 * i as f64;
        let name = figure.text(target.name);
        assert_eq!((name.x, name.y), (30.0, top + 18.0), "{name:?}");
        let full = figure
            .rects
            .iter()
            .find(|r| r.fill == GREY && r.y == top)
            .unwrap_or_else(|| panic!("{}: no background bar", target.name));
        assert_spans(target.name, full, [250.0, top, 770.0, top + 36.0]);
        let bar = figure
            .rects
            .iter()
            .find(|r| r.fill != GREY && r.y == top)
            .unwrap_or_else(|| panic!("{}: no value bar", target.name));
        assert_eq!(bar.fill, colour, "{}", target.name);
        assert_spans(
            target.name,
            bar,
            [250.0, top, 250.0 + 520.0 * value, top + 36.0],
        );
        let mark_x = 250.0 + (520.0 * target.at_least).floor();
        let mark = figure
            .polylines
            .iter()
            .find(|p| p.points.first() == Some(&(mark_x, top - 6.0)))
            .unwrap_or_else(|| panic!("{}: no target mark at x {mark_x}", target.name));
        assert_eq!(mark.points[1], (mark_x, top + 42.0));
        let label = figure.text(&format!("target {:.2}", target.at_least));
        assert_eq!((label.x, label.y), (mark_x - 40.0, top - 12.0));
        // The text is the report's value (6.35 / 8 in binary rounds either way at 4 places).
        let reported = (target.value)(&report).expect("a value");
        assert!(
            (reported - value).abs() < 1e-12,
            "{}: {reported}",
            target.name
        );
        let verdict = figure.text(&format!("{reported:.4}  ({status})"));
        assert_eq!((verdict.x, verdict.y), (786.0, top + 18.0));
    }

    let footer = [
        "n = 8 (4 real, 4 fake); threshold 0.5; TN 3  FP 1  FN 0  TP 4".to_string(),
        format!(
            "ECE {:.4}   Brier {:.4}   log loss {:.4}   EER {:.4}   Youden threshold {:.4}",
            report.ece,
            report.brier,
            report.log_loss,
            report.eer.expect("EER"),
            report.youden_threshold.expect("Youden threshold")
        ),
        "Temperature scaling: T = 1.5000, ECE 0.2500 -> 0.1250".to_string(),
    ];
    for (i, line) in footer.iter().enumerate() {
        let text = figure.text(line);
        assert_eq!((text.x, text.y), (30.0, 420.0 + 26.0 * i as f64), "{line}");
    }
    // A title past 120 characters keeps its two ends around an ellipsis.
    let shortened = format!("{}…{}", "a".repeat(59), "b".repeat(59));
    let title = figure.text(&shortened);
    assert_eq!((title.x, title.y), (30.0, 52.0));
}
