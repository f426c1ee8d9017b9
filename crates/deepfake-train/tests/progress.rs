//! Every training step of an epoch is counted once: the steps are read back from the device
//! one step late (so the device never waits for the host), and the last one after the loop.
//! What the observer is told per step adds up to the epoch: as many steps as announced, every
//! training image once, and the last running means equal the epoch's record in history.json.

use burn::tensor::Device;
use deepfake_data::Skipped;
use deepfake_data::synth::{SynthConfig, write_dataset};
use deepfake_model::DetectorConfig;
use deepfake_train::{EpochRecord, TrainConfig, TrainObserver, train};

/// What the observer hears of one step: its images, then the epoch's running mean loss and
/// accuracy.
type Step = (usize, f64, f64);

#[derive(Default)]
struct Recorder {
    /// Per epoch: the batches announced, then its steps.
    epochs: Vec<(usize, Vec<Step>)>,
    records: Vec<EpochRecord>,
}

impl TrainObserver for Recorder {
    fn epoch_started(&mut self, _epoch: usize, _epochs: usize, batches: usize) {
        self.epochs.push((batches, Vec::new()));
    }
    fn batch_done(&mut self, images: usize, loss: f64, accuracy: f64) {
        let steps = &mut self.epochs.last_mut().expect("a step before its epoch").1;
        steps.push((images, loss, accuracy));
    }
    fn epoch_done(&mut self, record: &EpochRecord, _improved: bool, _skipped: &[Skipped]) {
        self.records.push(record.clone());
    }
}

#[test]
fn every_step_of_an_epoch_is_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let synth = SynthConfig {
        per_class: 32,
        size: 32,
        seed: 9,
        ..SynthConfig::default()
    };
    write_dataset(&data, &synth).unwrap();
    let train_images = 2 * synth.per_class;
    let mut config =
        TrainConfig::seed_recipe(DetectorConfig::tiny().with_image_size(32), data.clone());
    config.epochs = 2;
    config.batch_size = 20; // 64 images: steps of 20, 20, 20 and 4
    let mut recorder = Recorder::default();
    train(
        &config,
        &dir.path().join("run"),
        &Device::flex(),
        false,
        &mut recorder,
    )
    .unwrap();

    assert_eq!(recorder.epochs.len(), 2);
    assert_eq!(recorder.records.len(), 2);
    for ((batches, steps), record) in recorder.epochs.iter().zip(&recorder.records) {
        assert_eq!(*batches, 4, "epoch {}", record.epoch);
        let images: Vec<usize> = steps.iter().map(|s| s.0).collect();
        assert_eq!(images, [20, 20, 20, 4], "epoch {}", record.epoch);
        assert_eq!(images.iter().sum::<usize>(), train_images);
        let &(_, loss, accuracy) = steps.last().unwrap();
        assert!(loss.is_finite() && loss > 0.0);
        assert_eq!(loss, record.train_loss, "epoch {}", record.epoch);
        assert_eq!(accuracy, record.train_accuracy, "epoch {}", record.epoch);
    }
}
