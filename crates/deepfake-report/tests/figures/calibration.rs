//! The calibration figures: the reliability diagram's bars, counts and points, the
//! confidence histograms of right and wrong predictions, the error rate per confidence
//! bucket.

use deepfake_metrics::{Report, Scored};
use deepfake_report::figures::{ConfidenceDistribution, ErrorsByConfidence, ReliabilityFigure};
use deepfake_report::render::render_svg;

use crate::report_of;
use crate::svg::{self, FAKE, GREY, REAL, Rect, Svg, assert_at, assert_spans};

/// Six images, each confidence in the middle of a 0.025-wide bin: correct at 0.9625 (fake),
/// 0.8125 (fake), 0.9125 (real, P(fake) 0.0875), 0.5625 (real, 0.4375); wrong at 0.6125
/// (a real scored 0.6125) and 0.7125 (a fake scored 0.2875).
fn scored() -> Scored {
    Scored::new(
        vec![true, true, false, false, false, true],
        vec![0.9625, 0.8125, 0.0875, 0.4375, 0.6125, 0.2875],
    )
    .expect("scores")
}

fn report() -> Report {
    report_of(&scored())
}

/// The filled bars of `colour` at `opacity` that have a height.
fn bars<'a>(figure: &'a Svg, colour: &str, opacity: f64) -> Vec<&'a Rect> {
    let mut bars: Vec<&Rect> = figure
        .rects
        .iter()
        .filter(|r| r.fill == colour && (r.opacity - opacity).abs() < 1e-9 && r.height >= 1.0)
        .collect();
    bars.sort_by(|a, b| a.x.total_cmp(&b.x));
    bars
}

#[test]
fn confidence_histograms_give_each_group_its_own_shares() {
    let figure = svg::parse(&render_svg(&ConfidenceDistribution::new(&scored())).expect("SVG"));
    let axes = figure.axes(0.0..2000.0);
    // Correct: 4, one in each of bins 2, 12, 16 and 18 (a quarter each), left halves;
    // wrong: 2, in bins 4 and 8 (a half each), right halves. The axis tops at 1.1 x 0.5.
    let top = 0.55;
    let width = 0.025;
    for (colour, bins, share, offset) in [
        (REAL, vec![2, 12, 16, 18], 0.25, 0.0),
        (FAKE, vec![4, 8], 0.5, width / 2.0),
    ] {
        let drawn = bars(&figure, colour, 0.8);
        assert_eq!(drawn.len(), bins.len(), "{colour}: {drawn:?}");
        for (bar, bin) in drawn.into_iter().zip(bins) {
            let left = 0.5 + bin as f64 * width + offset;
            assert_spans(
                &format!("{colour} bin {bin}"),
                bar,
                [
                    axes.x_of(left, 0.5, 1.0),
                    axes.y_of(share, 0.0, top),
                    axes.x_of(left + width / 2.0, 0.5, 1.0),
                    axes.y_of(0.0, 0.0, top),
                ],
            );
        }
    }
    figure.text("correct (n = 4)");
    figure.text("wrong (n = 2)");
}

#[test]
fn reliability_bars_reach_each_bins_accuracy_with_its_count_and_point() {
    let report = report();
    let figure = svg::parse(&render_svg(&ReliabilityFigure::new(&report)).expect("SVG"));
    let axes = figure.axes(0.0..2000.0);
    let filled: Vec<_> = report.reliability.iter().filter(|b| b.count > 0).collect();
    assert!(filled.len() >= 4, "{filled:?}");
    // The x axis starts at the lowest filled bin's edge (at most 0.5); y runs to 1.05.
    let low = filled[0].lower.min(0.5);
    let x = |v: f64| axes.x_of(v, low, 1.0);
    let y = |v: f64| axes.y_of(v, 0.0, 1.05);
    // A bar (of zero height at accuracy 0) and a count for each filled bin, none for the
    // empty ones.
    let all_bars = figure
        .rects
        .iter()
        .filter(|r| r.fill == REAL && (r.opacity - 0.75).abs() < 1e-9)
        .count();
    assert_eq!(all_bars, filled.len());
    let counts = figure
        .texts
        .iter()
        .filter(|t| t.text.parse::<usize>().is_ok() && t.y < axes.bottom)
        .count();
    assert_eq!(counts, filled.len(), "{:?}", figure.texts);
    let drawn = bars(&figure, REAL, 0.75);
    let with_height: Vec<_> = filled.iter().filter(|b| b.accuracy > 0.0).collect();
    assert_eq!(drawn.len(), with_height.len(), "{drawn:?}");
    for (bar, bin) in drawn.into_iter().zip(&with_height) {
        let what = format!("bin {:.1}-{:.1}", bin.lower, bin.upper);
        assert_spans(
            &what,
            bar,
            [x(bin.lower), y(bin.accuracy), x(bin.upper), y(0.0)],
        );
    }
    let points: Vec<(f64, f64)> = filled
        .iter()
        .map(|b| (x(b.mean_confidence), y(b.accuracy)))
        .collect();
    // The legend's sample point, on the line of its entry, aside.
    let legend = figure.text("accuracy at mean confidence of bin");
    let drawn: Vec<(f64, f64)> = figure
        .points(FAKE, 0.0..2000.0)
        .into_iter()
        .filter(|p| svg::off_legend(p.1, legend))
        .collect();
    assert_at("accuracy at mean confidence", &drawn, &points);
    for bin in &filled {
        let count = bin.count.to_string();
        let label = figure
            .texts_saying(&count)
            .into_iter()
            .find(|t| (t.x - x(bin.lower)).abs() <= 1.5)
            .unwrap_or_else(|| panic!("no count {count} at the bin's left edge"));
        let expected = y((bin.accuracy + 0.04).min(1.03));
        assert!((label.y - expected).abs() <= 1.5, "{label:?}: {expected}");
    }
    let diagonal = figure
        .polylines
        .iter()
        .find(|p| p.stroke == GREY && p.points.len() == 2 && p.points[1].0 - p.points[0].0 > 50.0)
        .expect("the diagonal");
    assert_at(
        "perfect calibration",
        &diagonal.points,
        &[(x(low), y(low)), (x(1.0), y(1.0))],
    );
}

#[test]
fn error_rate_bars_and_counts_per_bucket() {
    let report = report();
    let figure = svg::parse(&render_svg(&ErrorsByConfidence::new(&report)).expect("SVG"));
    let axes = figure.axes(0.0..2000.0);
    let buckets = &report.errors_by_confidence;
    let top = buckets.iter().map(|b| b.error_rate).fold(0.05, f64::max) * 1.2;
    let x = |v: f64| axes.x_of(v, 0.5, 1.0);
    let y = |v: f64| axes.y_of(v, 0.0, top.min(1.05));
    let with_errors: Vec<_> = buckets.iter().filter(|b| b.errors > 0).collect();
    assert_eq!(with_errors.len(), 2, "{buckets:?}");
    let drawn = bars(&figure, FAKE, 0.8);
    assert_eq!(drawn.len(), with_errors.len(), "{drawn:?}");
    for (bar, bucket) in drawn.into_iter().zip(&with_errors) {
        let what = format!("bucket {}", bucket.lower);
        let span = [
            x(bucket.lower + 0.005),
            y(bucket.error_rate),
            x(bucket.upper - 0.005),
            y(0.0),
        ];
        assert_spans(&what, bar, span);
    }
    for bucket in buckets {
        let text = format!("{} / {}", bucket.errors, bucket.count);
        let at = (x(bucket.lower + 0.02), y(bucket.error_rate + top * 0.03));
        assert!(
            figure
                .texts_saying(&text)
                .iter()
                .any(|t| (t.x - at.0).abs() <= 1.5 && (t.y - at.1).abs() <= 1.5),
            "no {text:?} at {at:?} for bucket {}",
            bucket.lower
        );
    }
}
