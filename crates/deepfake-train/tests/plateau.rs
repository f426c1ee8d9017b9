//! ReduceLROnPlateau gives the learning rates torch's scheduler gives for the same metrics
//! (`fixtures/plateau.json`).

use deepfake_train::ReduceLrOnPlateau;

#[test]
fn lr_sequences_match_torch() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/plateau.json");
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for case in cases {
        let mut scheduler = ReduceLrOnPlateau::new(1e-3, 0.5, 3);
        let metrics = case["metrics"].as_array().unwrap();
        let expected = case["lrs"].as_array().unwrap();
        for (epoch, (metric, lr)) in metrics.iter().zip(expected).enumerate() {
            let got = scheduler.step(metric.as_f64().unwrap());
            assert!(
                (got - lr.as_f64().unwrap()).abs() < 1e-15,
                "{} epoch {epoch}: lr {got} vs torch {lr}",
                case["name"]
            );
        }
    }
}
