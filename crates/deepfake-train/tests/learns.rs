//! The recipe learns: on synthetic proxy data the tiny preset at 64x64 reaches >= 95%
//! validation accuracy on CPU (with the seed's augmentation).

use burn::tensor::Device;
use deepfake_data::synth::{SynthConfig, write_dataset};
use deepfake_model::DetectorConfig;
use deepfake_train::{Silent, TrainConfig, train};

#[test]
fn tiny_preset_learns_synthetic_fakes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let synth = SynthConfig {
        per_class: 400,
        size: 64,
        seed: 1,
        ..SynthConfig::default()
    };
    write_dataset(&data, &synth).unwrap();
    let mut config = TrainConfig::seed_recipe(DetectorConfig::tiny(), data);
    config.epochs = 12;
    config.batch_size = 32;
    config.target_accuracy = Some(0.97);
    let run = dir.path().join("run");
    let results = train(&config, &run, &Device::flex(), false, &mut Silent).unwrap();
    println!("{results:?}");
    assert!(
        results.best_val_accuracy >= 0.95,
        "best validation accuracy {}",
        results.best_val_accuracy
    );
    for file in [
        "config.json",
        "history.json",
        "training_results.json",
        "model_info.json",
        "best/model.bpk",
        "best/model_info.json",
        "last/state.json",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    let history: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(run.join("history.json")).unwrap()).unwrap();
    for key in [
        "epoch",
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "lr",
        "seconds",
        "images_per_second",
    ] {
        assert!(history[0][key].is_number(), "history lacks {key}");
    }
}
