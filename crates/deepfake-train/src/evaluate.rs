//! Scoring a model over a list of samples: loss, accuracy and per-image P(Fake).

use std::path::PathBuf;
use std::sync::Arc;

use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};
use deepfake_data::{Batch, EpochLoader, LoaderConfig, Sample, Skipped};
use deepfake_model::Detector;

use crate::error::{Result, TrainError};

/// What [`evaluate`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Mean cross-entropy over the scored images.
    pub loss: f64,
    /// Argmax accuracy.
    pub accuracy: f64,
    /// P(Fake) per scored image, in sample order.
    pub p_fake: Vec<f32>,
    /// Logits `[real, fake]` per scored image.
    pub logits: Vec<[f32; 2]>,
    /// Class index per scored image.
    pub labels: Vec<i64>,
    /// File per scored image.
    pub paths: Vec<PathBuf>,
    /// Files that could not be read.
    pub skipped: Vec<Skipped>,
}

/// Running sums over the scored batches.
#[derive(Default)]
struct Sums {
    /// Sum over images of the cross-entropy.
    loss: f64,
    /// Argmax-correct images.
    correct: usize,
}

impl Sums {
    /// Reads `values` (`[logits (B x 2), softmax (B x 2), mean loss]` of `batch`) back from
    /// the device and appends the batch's images to `out`.
    fn add(&mut self, batch: &Batch, values: Tensor<1>, out: &mut Evaluation) -> Result<()> {
        let values = values
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| TrainError::Device(format!("{e:?}")))?;
        let n = batch.len();
        if values.len() != 4 * n + 1 {
            return Err(TrainError::Device(format!(
                "a batch of {n} images returned {} values, expected {}",
                values.len(),
                4 * n + 1
            )));
        }
        let (raw, rest) = values.split_at(2 * n);
        let (probabilities, loss) = rest.split_at(2 * n);
        self.loss += f64::from(loss[0]) * n as f64;
        for (i, label) in batch.labels.iter().enumerate() {
            out.p_fake.push(probabilities[2 * i + 1]);
            out.logits.push([raw[2 * i], raw[2 * i + 1]]);
            // Argmax: Fake only when its logit is strictly larger (ties go to Real, as torch).
            let predicted = i64::from(raw[2 * i + 1] > raw[2 * i]);
            self.correct += usize::from(predicted == *label);
        }
        out.labels.extend(&batch.labels);
        out.paths.extend(batch.paths.iter().cloned());
        Ok(())
    }
}

/// Runs `model` (an inference copy: `model.valid()`) over `samples` with the evaluation
/// preprocessing, on `device` (a plain, non-autodiff device). The training loop's validation;
/// `eval` scores through the inference path instead (`deepfake::Detector::score_paths`).
///
/// # Errors
/// [`TrainError::Device`] when the device fails to return the model's output.
pub fn evaluate(
    model: &Detector,
    samples: &[Sample],
    image_size: usize,
    batch_size: usize,
    device: &Device,
    mut on_batch: impl FnMut(usize),
) -> Result<Evaluation> {
    let loader = EpochLoader::start(
        Arc::new(samples.to_vec()),
        LoaderConfig::eval(batch_size, image_size as u32),
        0,
    );
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut out = Evaluation {
        loss: 0.0,
        accuracy: 0.0,
        p_fake: Vec::new(),
        logits: Vec::new(),
        labels: Vec::new(),
        paths: Vec::new(),
        skipped: Vec::new(),
    };
    let mut sums = Sums::default();
    // Each batch is read back (one transfer) after the next one is queued, so the device
    // works on batch n while the host loads and uploads batch n + 1.
    let mut in_flight: Option<(Batch, Tensor<1>)> = None;
    let mut loader = loader;
    for batch in loader.by_ref() {
        let (images, labels) = batch.to_tensors(device);
        let logits = model.forward(images);
        let loss = loss_fn.forward(logits.clone(), labels);
        // [logits (B x 2), softmax (B x 2), mean loss]
        let values = Tensor::cat(
            vec![
                logits.clone().flatten::<1>(0, 1),
                softmax(logits, 1).flatten::<1>(0, 1),
                loss,
            ],
            0,
        );
        if let Some((previous, values)) = in_flight.replace((batch, values)) {
            sums.add(&previous, values, &mut out)?;
            on_batch(previous.len());
        }
    }
    if let Some((last, values)) = in_flight.take() {
        sums.add(&last, values, &mut out)?;
        on_batch(last.len());
    }
    out.skipped = loader.skipped();
    let n = out.labels.len().max(1) as f64;
    out.loss = sums.loss / n;
    out.accuracy = sums.correct as f64 / n;
    Ok(out)
}
