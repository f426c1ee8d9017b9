//! Undefined cases give typed errors or `None`, never a panic or a NaN; the bootstrap is
//! seeded; the error analysis orders by confidence. Expected values computed by hand.

use deepfake_metrics::bootstrap::percentile;
use deepfake_metrics::confidence::{errors_by_confidence, most_confident_errors};
use deepfake_metrics::{
    BootstrapIntervals, MetricsError, Report, ReportOptions, RocCurve, Scored, binary_entropy,
};

#[test]
fn bad_input_is_a_typed_error() {
    assert_eq!(Scored::new(vec![], vec![]), Err(MetricsError::Empty));
    assert!(matches!(
        Scored::new(vec![true], vec![0.1, 0.2]),
        Err(MetricsError::LengthMismatch {
            labels: 1,
            scores: 2
        })
    ));
    assert!(matches!(
        Scored::new(vec![true, false], vec![0.1, f64::NAN]),
        Err(MetricsError::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        Scored::new(vec![true], vec![1.5]),
        Err(MetricsError::NotProbability { index: 0, .. })
    ));
}

#[test]
fn one_class_report_has_none_not_nan() {
    let scored = Scored::new(vec![true; 4], vec![0.9, 0.8, 0.3, 0.6]).unwrap();
    let report = Report::compute(&scored, None, &ReportOptions::default()).unwrap();
    assert_eq!(report.roc_auc, None);
    assert_eq!(report.eer, None);
    assert_eq!(report.accuracy, 0.75);
    assert_eq!(report.per_class.real.support, 0);
    assert_eq!(report.per_class.real.precision, 0.0);
    let json = serde_json::to_string(&report).unwrap();
    assert!(!json.contains("NaN"));
    assert!(json.contains("\"roc_auc\":null"));
}

#[test]
fn report_json_has_the_keys_other_tools_read() {
    let scored = Scored::new(
        vec![false, false, true, true, true],
        vec![0.1, 0.6, 0.35, 0.8, 0.9],
    )
    .unwrap();
    let report = Report::compute(&scored, None, &ReportOptions::default()).unwrap();
    let json: serde_json::Value = serde_json::to_value(&report).unwrap();
    for key in [
        "accuracy",
        "roc_auc",
        "average_precision",
        "pr_auc",
        "ece",
        "mce",
        "brier",
        "log_loss",
        "youden_threshold",
        "eer",
        "n",
    ] {
        assert!(json[key].is_number(), "{key}: {}", json[key]);
    }
    for key in ["tn", "fp", "fn", "tp"] {
        assert!(json["confusion_matrix"][key].is_u64(), "{key}");
    }
    for class in ["real", "fake"] {
        for key in ["precision", "recall", "f1", "support"] {
            assert!(json["per_class"][class][key].is_number(), "{class}.{key}");
        }
    }
    // By hand: predictions R F R F F -> tn 1, fp 1, fn 1, tp 2; AUC = 5/6 (pairs ranked right).
    assert_eq!(json["confusion_matrix"]["fp"], 1);
    assert_eq!(json["confusion_matrix"]["fn"], 1);
    assert!((report.roc_auc.unwrap() - 5.0 / 6.0).abs() < 1e-15);
    assert!((report.accuracy - 0.6).abs() < 1e-15);
}

#[test]
fn percentile_is_numpys_linear_interpolation() {
    let sorted = [1.0, 2.0, 4.0, 8.0];
    // numpy.percentile([1,2,4,8], 2.5) = 1 + 0.075 * 1; 97.5 -> 4 + 0.925 * 4.
    assert!((percentile(&sorted, 2.5) - 1.075).abs() < 1e-12);
    assert!((percentile(&sorted, 97.5) - 7.7).abs() < 1e-12);
    assert_eq!(percentile(&sorted, 50.0), 3.0);
    // The ends: numpy gives the minimum and the maximum.
    assert_eq!(percentile(&sorted, 0.0), 1.0);
    assert_eq!(percentile(&sorted, 100.0), 8.0);
    assert_eq!(percentile(&[5.0], 100.0), 5.0);
}

#[test]
fn bootstrap_is_seeded_and_brackets_the_estimate() {
    let labels: Vec<bool> = (0..400).map(|i| i % 2 == 0).collect();
    let scores: Vec<f64> = (0..400)
        .map(|i| {
            let base = if i % 2 == 0 { 0.65 } else { 0.35 };
            base + ((i * 37 % 100) as f64 / 100.0 - 0.5) * 0.6
        })
        .collect();
    let scored = Scored::new(labels, scores).unwrap();
    let a = BootstrapIntervals::compute(&scored, 0.5, 300, 7);
    let b = BootstrapIntervals::compute(&scored, 0.5, 300, 7);
    let c = BootstrapIntervals::compute(&scored, 0.5, 300, 8);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a.accuracy.lower <= a.accuracy.estimate && a.accuracy.estimate <= a.accuracy.upper);
    let auc = a.roc_auc.unwrap();
    assert!(auc.lower <= auc.estimate && auc.estimate <= auc.upper);
    assert!(auc.upper - auc.lower < 0.2);
    // The report carries the same intervals, or none when asked for 0 resamples.
    let options = ReportOptions {
        bootstrap_resamples: 300,
        seed: 7,
        ..ReportOptions::default()
    };
    let report = Report::compute(&scored, None, &options).unwrap();
    assert_eq!(report.bootstrap, Some(a));
    let options = ReportOptions {
        bootstrap_resamples: 0,
        ..options
    };
    let report = Report::compute(&scored, None, &options).unwrap();
    assert_eq!(report.bootstrap, None);
}

#[test]
fn error_analysis_by_hand() {
    let scored = Scored::new(
        vec![false, true, false, true, false],
        vec![0.95, 0.2, 0.55, 0.9, 0.05],
    )
    .unwrap();
    let names: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
    let errors = most_confident_errors(&scored, &names, 2).unwrap();
    // Wrong: a (Real, p 0.95, conf 0.95), b (Fake, p 0.2, conf 0.8), c (Real, p 0.55, conf 0.55).
    assert_eq!(errors.len(), 2);
    assert_eq!(
        (errors[0].name.as_str(), errors[0].label.as_str()),
        ("a", "real")
    );
    assert_eq!(errors[1].name, "b");
    assert!((errors[1].confidence - 0.8).abs() < 1e-15);
    let buckets = errors_by_confidence(&scored);
    // conf: a 0.95 (wrong), b 0.8 (wrong), c 0.55 (wrong), d 0.9 (right), e 0.95 (right).
    assert_eq!(buckets[0].count, 1);
    assert_eq!(buckets[0].errors, 1);
    assert_eq!((buckets[3].count, buckets[3].errors), (1, 1));
    assert_eq!((buckets[4].count, buckets[4].errors), (3, 1));
    // error_rate = errors / count; an empty bucket's is 0, not NaN.
    assert_eq!(buckets[0].error_rate, 1.0);
    assert_eq!(buckets[1].error_rate, 0.0);
    assert_eq!(buckets[1].count, 0);
    assert!((buckets[4].error_rate - 1.0 / 3.0).abs() < 1e-15);
    assert_eq!(
        buckets
            .iter()
            .map(|b| (b.lower, b.upper))
            .collect::<Vec<_>>(),
        [(0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.0)]
    );
    assert!(matches!(
        most_confident_errors(&scored, &names[..2], 1),
        Err(MetricsError::LengthMismatch { .. })
    ));
}

#[test]
fn confidence_buckets_at_their_edges() {
    // Confidence 1.0 (p exactly 0 or 1) falls in the last bucket, which includes its upper
    // edge; 0.6 opens the second bucket; 0.5 (p = 0.5, predicted Fake) opens the first.
    let scored = Scored::new(
        vec![true, false, true, false, true],
        vec![1.0, 0.0, 0.6, 0.4, 0.5],
    )
    .unwrap();
    assert!(!scored.is_empty());
    let buckets = errors_by_confidence(&scored);
    let counts: Vec<usize> = buckets.iter().map(|b| b.count).collect();
    assert_eq!(counts, [1, 2, 0, 0, 2]);
    assert!(buckets.iter().all(|b| b.errors == 0 && b.error_rate == 0.0));
}

#[test]
fn equal_error_rate_takes_the_first_of_tied_points() {
    // 4 Fake, 4 Real. Threshold 0.8: fpr 0, fnr 0.5 (gap 0.5, mean 0.25); threshold 0.5 (a tie
    // of 3 Real and 1 Fake): fpr 0.75, fnr 0.25 (gap 0.5, mean 0.5); every other point's gap is
    // larger. The first of the two decides: 0.25.
    let scored = Scored::new(
        vec![true, true, false, false, false, true, true, false],
        vec![0.9, 0.8, 0.5, 0.5, 0.5, 0.5, 0.3, 0.1],
    )
    .unwrap();
    let roc = RocCurve::compute(&scored).unwrap();
    assert_eq!(roc.equal_error_rate(), 0.25);
}

#[test]
fn entropy_by_hand() {
    assert_eq!(binary_entropy(0.0), 0.0);
    assert_eq!(binary_entropy(1.0), 0.0);
    assert!((binary_entropy(0.5) - std::f64::consts::LN_2).abs() < 1e-15);
}
