//! `deepfake train`: every option reaches the run's configuration; a finished run resumes to
//! its end; a missing data set is refused with the fix.

use std::ffi::OsStr;

use deepfake::data::AugmentConfig;
use deepfake::data::degrade::Degradations;
use deepfake::model::DetectorConfig;
use deepfake::train::TrainConfig;

use crate::{deepfake, stderr_of_failure, synthetic};

#[test]
fn train_records_every_option_in_its_run_and_resumes() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let data = synthetic(dir.path(), 8, 32);
    let run = dir.path().join("run");
    let options = [
        "--preset",
        "tiny",
        "--image-size",
        "48",
        "--epochs",
        "2",
        "--batch-size",
        "4",
        "--lr",
        "0.002",
        "--weight-decay",
        "0.0005",
        "--seed",
        "7",
        "--augment-jpeg",
        "0.5,40,90",
        "--augment-blur",
        "0.25,1.5",
        "--augment-rescale",
        "0.3,2",
        "--freeze-backbone-epochs",
        "1",
        "--target-accuracy",
        "0.99",
        "--early-stopping-patience",
        "3",
        "--clip-grad-norm",
        "5",
        "--max-batches",
        "1",
    ];
    let mut args: Vec<&dyn AsRef<OsStr>> = vec![&"train", &"--data", &data, &"--out", &run];
    args.extend(options.iter().map(|option| option as &dyn AsRef<OsStr>));
    let output = deepfake(&args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    for epoch in ["epoch   1  train loss ", "epoch   2  train loss "] {
        assert!(stderr.contains(epoch), "no `{epoch}` in {stderr}");
    }
    let done = format!("; model in {}\n", run.join("best").display());
    assert!(stderr.contains(&done), "{stderr}");

    let saved: TrainConfig = serde_json::from_str(
        &std::fs::read_to_string(run.join("config.json")).expect("the run's config.json"),
    )
    .expect("a training configuration");
    let expected = TrainConfig {
        epochs: 2,
        batch_size: 4,
        lr: 0.002,
        weight_decay: 0.0005,
        seed: 7,
        augment: Some(AugmentConfig {
            degrade: Degradations {
                jpeg: Some("0.5,40,90".parse().expect("JPEG setting")),
                blur: Some("0.25,1.5".parse().expect("blur setting")),
                rescale: Some("0.3,2".parse().expect("rescale setting")),
            },
            ..AugmentConfig::default()
        }),
        freeze_backbone_epochs: 1,
        pretrained: None,
        target_accuracy: Some(0.99),
        early_stopping_patience: Some(3),
        clip_grad_norm: Some(5.0),
        max_batches_per_epoch: Some(1),
        ..TrainConfig::seed_recipe(DetectorConfig::tiny().with_image_size(48), data.clone())
    };
    assert_eq!(saved, expected);

    // Resumed, a finished run says so and ends where it was.
    let output = deepfake(&[&"train", &"--resume", &run]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("resuming {}\n", run.display())),
        "{stderr}"
    );
    assert!(!stderr.contains("train loss"), "trained again: {stderr}");
    assert!(stderr.contains(&done), "{stderr}");

    // --no-augment: no augmentation at all.
    let plain = dir.path().join("plain");
    let output = deepfake(&[
        &"train",
        &"--data",
        &data,
        &"--out",
        &plain,
        &"--preset",
        &"tiny",
        &"--epochs",
        &"1",
        &"--max-batches",
        &"1",
        &"--no-augment",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let saved: TrainConfig = serde_json::from_str(
        &std::fs::read_to_string(plain.join("config.json")).expect("the run's config.json"),
    )
    .expect("a training configuration");
    assert_eq!(saved.augment, None);
    assert_eq!(saved.model, DetectorConfig::tiny());
}

#[test]
fn train_without_data_names_the_option_and_how_to_get_data() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let stderr = stderr_of_failure(&deepfake(&[&"train", &"--out", &dir.path().join("run")]), 1);
    assert!(
        stderr.starts_with("error: --data is required")
            && stderr.contains("cargo xtask synth --out data/synth"),
        "{stderr}"
    );
}
