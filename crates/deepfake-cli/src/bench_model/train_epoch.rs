//! `bench_model --parts train-epoch`: the `train` command's loop end to end, on synthetic
//! JPEGs: the loader's threads decode, augment and resize the files while the device runs the
//! steps (seed's recipe), so the steps' and the loader's images per second are measured side
//! by side, as a user's training run shows them.

use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use deepfake::data::synth::{SynthConfig, synthetic_config, write_dataset};
use deepfake::model::DetectorConfig;
use deepfake::train::{EpochRecord, TrainConfig, TrainObserver, train};

/// What the timed epoch measured (the `EpochRecord` fields of `history.json`).
pub struct EpochThroughput {
    /// Images trained on per second of the epoch's training part (wall time).
    pub images_per_second: f64,
    /// Images per second of the steps alone (waits for the loader not counted).
    pub step_images_per_second: f64,
    /// Images per second the loader could deliver (all its threads).
    pub loader_images_per_second: f64,
}

/// Side of the synthetic JPEGs for a model input of `image_size` pixels: the 140k faces are
/// 256x256 for the seed's 224 input, and every preset keeps that ratio (8/7).
pub fn data_image_size(image_size: usize) -> u32 {
    (image_size * 8).div_ceil(7) as u32
}

/// Writes the synthetic data set for `steps` batches of `batch` training images into `dir`,
/// unless `dir` already holds exactly that set (a rerun, or the PyTorch peer's turn).
pub fn prepare_data(dir: &Path, image_size: usize, batch: usize, steps: usize) -> Result<()> {
    let config = SynthConfig {
        per_class: (batch * steps).div_ceil(2),
        size: data_image_size(image_size),
        ..SynthConfig::default()
    };
    if synthetic_config(dir).as_ref() == Some(&config) {
        return Ok(());
    }
    write_dataset(dir, &config)
        .with_context(|| format!("writing synthetic training data to {}", dir.display()))?;
    Ok(())
}

/// Trains `model` on `device` for two epochs of `steps` batches on the data in `data` (from
/// [`prepare_data`]), into a temporary run folder; the first epoch is the warm-up (autotune,
/// the loader's first files), the second is reported.
pub fn time_train_epochs(
    model: DetectorConfig,
    batch: usize,
    steps: usize,
    data: &Path,
    device: &Device,
) -> Result<EpochThroughput> {
    let run = tempfile::tempdir().context("creating a temporary run folder")?;
    let config = TrainConfig {
        epochs: 2,
        batch_size: batch,
        max_batches_per_epoch: Some(steps),
        ..TrainConfig::seed_recipe(model, data.to_path_buf())
    };
    let mut epochs = EpochRecords::default();
    train(&config, run.path(), device, false, &mut epochs)
        .with_context(|| format!("training on {}", data.display()))?;
    let Some(last) = epochs.0.last() else {
        bail!("the training run reported no epoch");
    };
    if last.epoch != 2 {
        bail!("the training run stopped after epoch {}", last.epoch);
    }
    Ok(EpochThroughput {
        images_per_second: last.images_per_second,
        step_images_per_second: last.step_images_per_second,
        loader_images_per_second: last.loader_images_per_second,
    })
}

/// Keeps each finished epoch's record.
#[derive(Default)]
struct EpochRecords(Vec<EpochRecord>);

impl TrainObserver for EpochRecords {
    fn epoch_done(
        &mut self,
        record: &EpochRecord,
        _improved: bool,
        _skipped: &[deepfake::data::Skipped],
    ) {
        self.0.push(record.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_images_keep_the_140k_ratio() {
        assert_eq!(data_image_size(224), 256);
        assert_eq!(data_image_size(64), 74);
    }
}
