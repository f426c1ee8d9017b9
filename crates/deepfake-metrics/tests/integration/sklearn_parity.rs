//! Every metric equals scikit-learn's (or the numpy/scipy/torch reference's) on the cases written
//! by `fixtures/gen_sklearn_fixtures.py`, within 1e-9; curves point by point.

use deepfake_metrics::calibration::{Calibration, DEFAULT_BINS};
use deepfake_metrics::confidence::ConfidenceStats;
use deepfake_metrics::{
    ClassificationReport, ConfusionMatrix, MetricsError, PrCurve, RocCurve, Scored, brier_score,
    log_loss,
};
use serde_json::Value;

const TOL: f64 = 1e-9;

fn cases() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sklearn_cases.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(name: &str, what: &str, got: f64, expected: f64) {
    assert!(
        (got - expected).abs() <= TOL,
        "{name}: {what} = {got}, sklearn {expected}"
    );
}

fn close_vec(name: &str, what: &str, got: &[f64], expected: &Value) {
    let expected = expected.as_array().unwrap();
    assert_eq!(got.len(), expected.len(), "{name}: {what} length");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        match e.as_f64() {
            Some(e) => close(name, &format!("{what}[{i}]"), *g, e),
            None => assert!(
                g.is_infinite(),
                "{name}: {what}[{i}] should be inf, got {g}"
            ),
        }
    }
}

fn scored(case: &Value) -> Scored {
    let labels = case["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_i64() == Some(1))
        .collect();
    let scores = case["scores"].as_array().unwrap().iter().map(num).collect();
    Scored::new(labels, scores).unwrap()
}

#[test]
fn thresholded_metrics_match_sklearn() {
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let s = scored(&case);
        let m = ConfusionMatrix::at_threshold(&s, 0.5);
        let c = &case["confusion"];
        assert_eq!(
            [m.tn, m.fp, m.fn_, m.tp],
            ["tn", "fp", "fn", "tp"].map(|k| c[k].as_u64().unwrap() as usize),
            "{name}: confusion"
        );
        close(name, "accuracy", m.accuracy(), num(&case["accuracy"]));
        let report = ClassificationReport::from_confusion(&m);
        let per_class = case["per_class"].as_array().unwrap();
        assert_eq!(per_class.len(), 2, "{name}: per_class");
        for (scores, expected) in [report.real, report.fake].iter().zip(per_class) {
            close(
                name,
                "precision",
                scores.precision,
                num(&expected["precision"]),
            );
            close(name, "recall", scores.recall, num(&expected["recall"]));
            close(name, "f1", scores.f1, num(&expected["f1"]));
            assert_eq!(scores.support as u64, expected["support"].as_u64().unwrap());
        }
        for (avg, key) in [
            (report.macro_avg, "macro"),
            (report.weighted_avg, "weighted"),
        ] {
            let e = case[key].as_array().unwrap();
            close(name, key, avg.precision, num(&e[0]));
            close(name, key, avg.recall, num(&e[1]));
            close(name, key, avg.f1, num(&e[2]));
        }
    }
}

#[test]
fn roc_and_pr_curves_and_areas_match_sklearn() {
    let mut checked = 0;
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let s = scored(&case);
        if case.get("roc").is_none() {
            assert!(matches!(
                RocCurve::compute(&s),
                Err(MetricsError::OneClass { .. })
            ));
            continue;
        }
        let roc = RocCurve::compute(&s).unwrap();
        close_vec(name, "fpr", &roc.fpr, &case["roc"]["fpr"]);
        close_vec(name, "tpr", &roc.tpr, &case["roc"]["tpr"]);
        close_vec(
            name,
            "roc thresholds",
            &roc.thresholds,
            &case["roc"]["thresholds"],
        );
        close(name, "roc_auc", roc.auc(), num(&case["roc_auc"]));
        let (j, threshold) = roc.youden();
        close(name, "youden_j", j, num(&case["youden_j"]));
        match case["youden_threshold"].as_f64() {
            Some(t) => close(name, "youden_threshold", threshold, t),
            None => assert!(threshold.is_infinite()),
        }
        close(name, "eer", roc.equal_error_rate(), num(&case["eer"]));

        let pr = PrCurve::compute(&s).unwrap();
        close_vec(name, "precision", &pr.precision, &case["pr"]["precision"]);
        close_vec(name, "recall", &pr.recall, &case["pr"]["recall"]);
        close_vec(
            name,
            "pr thresholds",
            &pr.thresholds,
            &case["pr"]["thresholds"],
        );
        close(
            name,
            "average_precision",
            pr.average_precision(),
            num(&case["average_precision"]),
        );
        close(name, "pr_auc", pr.auc(), num(&case["pr_auc"]));
        checked += 1;
    }
    assert_eq!(checked, 9);
}

#[test]
fn probabilistic_and_calibration_metrics_match_references() {
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let s = scored(&case);
        close(name, "brier", brier_score(&s), num(&case["brier"]));
        close(name, "log_loss", log_loss(&s), num(&case["log_loss"]));
        let cal = Calibration::compute(&s, DEFAULT_BINS);
        close(name, "ece", cal.ece, num(&case["ece"]));
        close(name, "mce", cal.mce, num(&case["mce"]));
        let bins = case["bins"].as_array().unwrap();
        assert_eq!(cal.bins.len(), bins.len(), "{name}: bins");
        for (bin, e) in cal.bins.iter().zip(bins) {
            close(name, "bin lower edge", bin.lower, num(&e["lower"]));
            close(name, "bin upper edge", bin.upper, num(&e["upper"]));
            assert_eq!(
                bin.count as u64,
                e["count"].as_u64().unwrap(),
                "{name}: bin count"
            );
            close(name, "bin accuracy", bin.accuracy, num(&e["accuracy"]));
            close(
                name,
                "bin confidence",
                bin.mean_confidence,
                num(&e["mean_confidence"]),
            );
        }
        let conf = ConfidenceStats::compute(&s);
        close(
            name,
            "mean_confidence",
            conf.mean_confidence,
            num(&case["mean_confidence"]),
        );
        for (got, key) in [
            (conf.mean_confidence_correct, "mean_confidence_correct"),
            (conf.mean_confidence_wrong, "mean_confidence_wrong"),
        ] {
            match case[key].as_f64() {
                Some(e) => close(name, key, got.unwrap(), e),
                None => assert!(got.is_none(), "{name}: {key} should be None"),
            }
        }
        for (got, key) in [
            (Some(conf.entropy), "entropy"),
            (conf.entropy_correct, "entropy_correct"),
            (conf.entropy_wrong, "entropy_wrong"),
        ] {
            let e = &case[key];
            if e.is_null() {
                assert!(got.is_none(), "{name}: {key} should be None");
                continue;
            }
            let got = got.unwrap();
            close(name, key, got.mean, num(&e["mean"]));
            close(name, key, got.std, num(&e["std"]));
            close(name, key, got.min, num(&e["min"]));
            close(name, key, got.median, num(&e["median"]));
            close(name, key, got.max, num(&e["max"]));
        }
    }
}
