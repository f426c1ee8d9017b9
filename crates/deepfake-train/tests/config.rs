//! `TrainConfig::validate` refuses each setting that cannot work, on its own, with a message
//! that names it, and accepts the edges of every range.

use std::path::PathBuf;

use deepfake_model::DetectorConfig;
use deepfake_train::{TrainConfig, TrainError};

/// A change to one setting.
type Change = fn(&mut TrainConfig);

fn seed_recipe() -> TrainConfig {
    TrainConfig::seed_recipe(DetectorConfig::tiny(), PathBuf::from("data"))
}

/// The message of the error `validate` gives for `config`.
fn refusal(config: &TrainConfig) -> String {
    match config.validate() {
        Err(TrainError::Config(message)) => message,
        other => panic!("expected a refused setting, got {other:?}"),
    }
}

#[test]
fn each_impossible_setting_is_refused_by_name() {
    seed_recipe().validate().unwrap();
    let cases: [(&str, Change, &str); 15] = [
        ("epochs 0", |c| c.epochs = 0, "epochs"),
        ("batch 0", |c| c.batch_size = 0, "batch size"),
        ("lr 0", |c| c.lr = 0.0, "learning rate"),
        ("lr < 0", |c| c.lr = -1e-3, "learning rate"),
        ("lr NaN", |c| c.lr = f64::NAN, "learning rate"),
        ("lr inf", |c| c.lr = f64::INFINITY, "learning rate"),
        ("decay < 0", |c| c.weight_decay = -1e-4, "weight decay"),
        ("decay NaN", |c| c.weight_decay = f64::NAN, "weight decay"),
        (
            "decay inf",
            |c| c.weight_decay = f64::INFINITY,
            "weight decay",
        ),
        ("factor 0", |c| c.plateau_factor = 0.0, "plateau factor"),
        ("factor 1", |c| c.plateau_factor = 1.0, "plateau factor"),
        (
            "factor NaN",
            |c| c.plateau_factor = f64::NAN,
            "plateau factor",
        ),
        ("clip 0", |c| c.clip_grad_norm = Some(0.0), "clipping"),
        ("clip < 0", |c| c.clip_grad_norm = Some(-1.0), "clipping"),
        (
            "clip NaN",
            |c| c.clip_grad_norm = Some(f64::NAN),
            "clipping",
        ),
    ];
    for (name, break_it, named) in cases {
        let mut config = seed_recipe();
        break_it(&mut config);
        let message = refusal(&config);
        assert!(message.contains(named), "{name}: {message}");
    }
    // The model's own settings are checked too.
    let mut config = seed_recipe();
    config.model.num_classes = 0;
    assert!(matches!(config.validate(), Err(TrainError::Model(_))));
}

#[test]
fn the_edges_of_each_range_are_accepted() {
    let cases: [(&str, Change); 6] = [
        ("one epoch of one image", |c| {
            c.epochs = 1;
            c.batch_size = 1;
        }),
        ("tiny lr", |c| c.lr = f64::MIN_POSITIVE),
        ("no decay", |c| c.weight_decay = 0.0),
        ("factor near 0", |c| c.plateau_factor = 1e-12),
        ("factor near 1", |c| c.plateau_factor = 1.0 - 1e-12),
        ("tiny clip", |c| c.clip_grad_norm = Some(1e-300)),
    ];
    for (name, set) in cases {
        let mut config = seed_recipe();
        set(&mut config);
        if let Err(e) = config.validate() {
            panic!("{name} refused: {e}");
        }
    }
}
