//! What the training tests share: a small synthetic data set and the seed recipe scaled down
//! to the tiny detector at 32 pixels.

use std::path::Path;

use deepfake_data::synth::{SynthConfig, write_dataset};
use deepfake_model::DetectorConfig;
use deepfake_train::TrainConfig;

/// Writes a synthetic data set of 32-pixel images (`per_class` training images per class,
/// a fifth of that per class for validation and for test) into `data`.
pub fn synth(data: &Path, per_class: usize, seed: u64) {
    let synth = SynthConfig {
        per_class,
        size: 32,
        seed,
        ..SynthConfig::default()
    };
    write_dataset(data, &synth).unwrap();
}

/// The seed recipe on `data` with the tiny detector at 32 pixels, `epochs` epochs of
/// batches of 16.
pub fn tiny_recipe(data: &Path, epochs: usize) -> TrainConfig {
    let mut config =
        TrainConfig::seed_recipe(DetectorConfig::tiny().with_image_size(32), data.into());
    config.epochs = epochs;
    config.batch_size = 16;
    config
}
