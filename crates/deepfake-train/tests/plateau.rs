//! ReduceLROnPlateau gives the learning rates torch's scheduler gives for the same metrics and
//! options, cooldown, min_lr, eps and threshold included (`fixtures/plateau.json`, written by
//! `fixtures/gen_plateau_fixture.py`).

use deepfake_train::ReduceLrOnPlateau;

#[test]
fn lr_sequences_match_torch() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/plateau.json");
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(cases.len() >= 8, "{} cases", cases.len());
    for case in cases {
        let name = &case["name"];
        let option = |key: &str| {
            case["options"][key]
                .as_f64()
                .unwrap_or_else(|| panic!("{name}: option {key}"))
        };
        let mut scheduler =
            ReduceLrOnPlateau::new(option("lr"), option("factor"), option("patience") as usize);
        scheduler.threshold = option("threshold");
        scheduler.cooldown = option("cooldown") as usize;
        scheduler.min_lr = option("min_lr");
        scheduler.eps = option("eps");
        let metrics = case["metrics"].as_array().unwrap();
        let expected = case["lrs"].as_array().unwrap();
        assert_eq!(metrics.len(), expected.len(), "{name}");
        for (epoch, (metric, lr)) in metrics.iter().zip(expected).enumerate() {
            let got = scheduler.step(metric.as_f64().unwrap());
            let want = lr.as_f64().unwrap();
            assert!(
                (got - want).abs() <= 1e-15 * want.abs().max(1.0),
                "{name} epoch {epoch}: lr {got} vs torch {want}"
            );
        }
    }
}
