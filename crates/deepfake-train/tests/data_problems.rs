//! What the run does with the data it is given: a data set without training or validation
//! images is refused before any work, unreadable files are skipped and counted once each, and
//! the augmentation setting reaches the training loader.

mod support;

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use deepfake_data::Skipped;
use deepfake_train::{EpochRecord, Silent, TrainConfig, TrainError, TrainObserver, train};

/// The backend's random generator is process-wide: trainings here take turns.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A synthetic data set in the Kaggle layout (`train.csv`, `valid.csv`, `test.csv`).
fn synth(data: &Path) {
    support::synth(data, 24, 11);
}

fn config(data: &Path, epochs: usize) -> TrainConfig {
    support::tiny_recipe(data, epochs)
}

/// The first image file of `data`'s `split`/`class` folder.
fn first_image(data: &Path, split: &str, class: &str) -> PathBuf {
    let dir = data
        .join("real_vs_fake/real-vs-fake")
        .join(split)
        .join(class);
    let files = deepfake_data::layout::list_images(&dir);
    files.into_iter().next().expect("the folder holds images")
}

#[test]
fn a_data_set_without_training_or_validation_images_is_refused() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    for split in ["train", "valid"] {
        let data = dir.path().join(format!("no-{split}"));
        synth(&data);
        // The split's CSV keeps its header and lists no image.
        let csv = data.join(format!("{split}.csv"));
        let header = std::fs::read_to_string(&csv)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string();
        std::fs::write(&csv, header + "\n").unwrap();
        let run = dir.path().join(format!("run-no-{split}"));
        match train(&config(&data, 1), &run, &Device::flex(), false, &mut Silent) {
            Err(TrainError::Config(message)) => assert!(
                message.contains("no training or no validation images")
                    && message.contains(&data.display().to_string()),
                "{split}: {message}"
            ),
            other => panic!("{split}: expected the data set refused, got {other:?}"),
        }
        assert!(!run.join("last").exists(), "{split}: no checkpoint");
    }
}

/// The files each epoch reported skipped.
#[derive(Default)]
struct SkippedPerEpoch(Vec<Vec<PathBuf>>);

impl TrainObserver for SkippedPerEpoch {
    fn epoch_done(&mut self, _record: &EpochRecord, _improved: bool, skipped: &[Skipped]) {
        let mut paths: Vec<PathBuf> = skipped.iter().map(|s| s.path.clone()).collect();
        paths.sort();
        self.0.push(paths);
    }
}

/// Two unreadable training images and one unreadable validation image: every epoch skips all
/// three and trains on the rest; the run's result counts three files, not three per epoch.
#[test]
fn unreadable_files_are_skipped_each_epoch_and_counted_once() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synth(&data);
    let mut broken = vec![
        first_image(&data, "train", "real"),
        first_image(&data, "train", "fake"),
        first_image(&data, "valid", "fake"),
    ];
    broken.sort();
    for path in &broken {
        std::fs::write(path, b"not an image").unwrap();
    }
    let mut observer = SkippedPerEpoch::default();
    let results = train(
        &config(&data, 2),
        &dir.path().join("run"),
        &Device::flex(),
        false,
        &mut observer,
    )
    .unwrap();
    assert_eq!(observer.0, [broken.clone(), broken]);
    assert_eq!(results.epochs_run, 2);
    assert_eq!(results.skipped_files, 3);
}

/// The train loss of one epoch with and without augmentation: the same data, seed and
/// weights, so only the training images' augmentation can tell them apart.
#[test]
fn the_augmentation_setting_reaches_the_training_loader() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synth(&data);
    let train_loss = |name: &str, config: &TrainConfig| {
        train(
            config,
            &dir.path().join(name),
            &Device::flex(),
            false,
            &mut Silent,
        )
        .unwrap();
        let history: Vec<EpochRecord> = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(name).join("history.json")).unwrap(),
        )
        .unwrap();
        history[0].train_loss
    };
    let augmented = config(&data, 1);
    assert!(augmented.augment.is_some(), "the seed recipe augments");
    let mut plain = augmented.clone();
    plain.augment = None;
    let (with, again, without) = (
        train_loss("augmented", &augmented),
        train_loss("augmented-again", &augmented),
        train_loss("plain", &plain),
    );
    assert_eq!(with, again, "a run repeats itself");
    assert!(
        (with - without).abs() > 1e-6,
        "with augmentation {with}, without {without}"
    );
}
