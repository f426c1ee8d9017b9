//! Temperature scaling against scipy's minimiser and torch's cross-entropy
//! (`fixtures/gen_sklearn_fixtures.py`), and against a hand computation.

use deepfake_metrics::calibration::{Calibration, DEFAULT_BINS};
use deepfake_metrics::{
    MetricsError, Scored, apply_temperature, fit_temperature, nll_at_temperature,
};
use serde_json::Value;

#[test]
fn fitted_temperature_matches_scipy_and_torch() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/temperature_cases.json"
    );
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let logits: Vec<[f32; 2]> = case["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| [l[0].as_f64().unwrap() as f32, l[1].as_f64().unwrap() as f32])
            .collect();
        let labels: Vec<bool> = case["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_i64() == Some(1))
            .collect();
        let expected_t = case["temperature"].as_f64().unwrap();
        let t = fit_temperature(&logits, &labels).unwrap();
        assert!(
            (t - expected_t).abs() <= 1e-6 * expected_t,
            "{name}: T {t} vs scipy {expected_t}"
        );
        let nll = nll_at_temperature(&logits, &labels, t);
        let torch_nll = case["nll_at_temperature"].as_f64().unwrap();
        assert!(
            (nll - torch_nll).abs() <= 1e-9,
            "{name}: NLL {nll} vs torch {torch_nll}"
        );
        let nll_1 = nll_at_temperature(&logits, &labels, 1.0);
        assert!((nll_1 - case["nll_at_1"].as_f64().unwrap()).abs() <= 1e-12);
        assert!(
            nll <= nll_1 + 1e-15,
            "{name}: fitting must not raise the NLL"
        );

        let ece = |temperature: f64| {
            let scored =
                Scored::new(labels.clone(), apply_temperature(&logits, temperature)).unwrap();
            Calibration::compute(&scored, DEFAULT_BINS).ece
        };
        // ECE at the reference temperature is exact; at ours it moves with T's last digits.
        let expected_after = case["ece_after"].as_f64().unwrap();
        assert!(
            (ece(1.0) - case["ece_before"].as_f64().unwrap()).abs() <= 1e-9,
            "{name}"
        );
        assert!((ece(expected_t) - expected_after).abs() <= 1e-9, "{name}");
        assert!(
            (ece(t) - expected_after).abs() <= 1e-5,
            "{name}: {} vs {expected_after}",
            ece(t)
        );
    }
}

#[test]
fn temperature_by_hand() {
    // One Fake sample with margin 2 and one Real with margin -2 are both right: the NLL falls
    // as T shrinks, so the fit runs to the lower bound 0.01.
    let logits = [[-1.0f32, 1.0], [1.0, -1.0]];
    let labels = [true, false];
    let t = fit_temperature(&logits, &labels).unwrap();
    assert!((t - 0.01).abs() < 1e-6, "{t}");
    // Hand: NLL(T=1) = ln(1 + e^-2) for each sample.
    let expected = (1.0 + (-2.0f64).exp()).ln();
    assert!((nll_at_temperature(&logits, &labels, 1.0) - expected).abs() < 1e-15);
    // Two samples with margin 1, one right and one wrong: NLL(T) = (softplus(-1/T) +
    // softplus(1/T)) / 2, smallest as T -> infinity (p -> 1/2), so the fit hits 100.
    let logits = [[0.0f32, 1.0], [0.0, 1.0]];
    let t = fit_temperature(&logits, &[true, false]).unwrap();
    assert!((t - 100.0).abs() < 1e-4, "{t}");
    // p_fake at T = 2 for margin 1 is sigmoid(0.5).
    let p = apply_temperature(&[[0.0, 1.0]], 2.0)[0];
    assert!((p - 1.0 / (1.0 + (-0.5f64).exp())).abs() < 1e-15);
}

#[test]
fn extreme_margins_give_finite_losses() {
    // Margin 1000 / 0.01 = 1e5: exp(1e5) overflows, so the loss must be computed without it.
    // Right: -log(sigmoid(1e5)) = log(1 + e^-1e5) = 0 in f64; wrong: 1e5 + log(1 + e^-1e5).
    let logits = [[0.0f32, 1000.0]];
    assert_eq!(nll_at_temperature(&logits, &[true], 0.01), 0.0);
    let wrong = nll_at_temperature(&logits, &[false], 0.01);
    assert!((wrong - 1e5).abs() <= 1e-9, "{wrong}");
    let t = fit_temperature(&[[0.0, 1000.0], [1000.0, 0.0]], &[true, false]).unwrap();
    assert!(t.is_finite() && (0.01..=100.0).contains(&t), "{t}");
}

#[test]
fn non_finite_logits_are_named() {
    for (logits, index) in [
        (vec![[1.0f32, f32::NAN]], 0),
        (vec![[0.0, 1.0], [f32::INFINITY, 0.0]], 1),
    ] {
        let labels = vec![true; logits.len()];
        match fit_temperature(&logits, &labels) {
            Err(MetricsError::NonFinite { index: i, value }) => {
                assert_eq!(i, index);
                assert!(!value.is_finite(), "{value}");
            }
            other => panic!("{logits:?}: {other:?}"),
        }
    }
    assert!(matches!(
        fit_temperature(&[[0.0, 1.0]], &[true, false]),
        Err(MetricsError::LengthMismatch { .. })
    ));
}
