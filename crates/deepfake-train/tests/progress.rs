//! Every training step of an epoch is counted once: the steps are read back from the device
//! one step late (so the device never waits for the host), and the last one after the loop.
//! What the observer is told per step adds up to the epoch: as many steps as announced, every
//! training image once, and the last running means equal the epoch's record in history.json.
//! The epoch's throughput figures fit its own time: the steps' rate is at least the wall-clock
//! rate (their busy time is part of the epoch) and the wall-clock rate times the epoch's seconds
//! covers its images.

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
    /// The (epoch, epochs) pairs announced.
    numbers: Vec<(usize, usize)>,
    /// Per epoch, the last step rate and loader rate told.
    throughput: Vec<(f64, f64)>,
    records: Vec<EpochRecord>,
}

impl TrainObserver for Recorder {
    fn epoch_started(&mut self, epoch: usize, epochs: usize, batches: usize) {
        self.epochs.push((batches, Vec::new()));
        self.numbers.push((epoch, epochs));
        self.throughput.push((f64::NAN, f64::NAN));
    }
    fn throughput(&mut self, step_images_per_second: f64, loader_images_per_second: f64) {
        *self.throughput.last_mut().expect("a rate before its epoch") =
            (step_images_per_second, loader_images_per_second);
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

    assert_eq!(recorder.numbers, [(1, 2), (2, 2)]);
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
    for (&(step_rate, loader_rate), record) in recorder.throughput.iter().zip(&recorder.records) {
        let epoch = record.epoch;
        assert!(
            loader_rate > 0.0 && loader_rate.is_finite(),
            "epoch {epoch}"
        );
        let wall_rate = record.images_per_second;
        assert!(wall_rate > 0.0, "epoch {epoch}");
        // The steps' busy time is the epoch's wall time less its waits for the loader (never
        // zero); a factor of 100 would mean the host waited 99% of the epoch for 32-pixel PNGs.
        let epoch_step_rate = record.step_images_per_second;
        assert!(
            epoch_step_rate > wall_rate && epoch_step_rate <= 100.0 * wall_rate,
            "epoch {epoch}: steps {epoch_step_rate} images/s, wall clock {wall_rate}"
        );
        // The observer's last rate was taken at the last step, a little before the epoch's.
        assert!(
            step_rate >= epoch_step_rate && step_rate <= 100.0 * wall_rate,
            "epoch {epoch}: last step rate {step_rate}, epoch's {epoch_step_rate}"
        );
        // `seconds` spans training and validation, at least the training time.
        let covered = wall_rate * record.seconds;
        assert!(
            covered >= train_images as f64 * (1.0 - 1e-9),
            "epoch {epoch}: {wall_rate} images/s over {} s covers {covered} images",
            record.seconds
        );
    }
}
