//! Scoring a model over a list of samples: loss, accuracy and per-image P(Fake).

use std::path::PathBuf;
use std::sync::Arc;

use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::Device;
use burn::tensor::activation::softmax;
use deepfake_data::{EpochLoader, LoaderConfig, Sample, Skipped};
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
    let mut loss_sum = 0.0;
    let mut correct = 0usize;
    let mut loader = loader;
    for batch in loader.by_ref() {
        let (images, labels) = batch.to_tensors(device);
        let logits = model.forward(images);
        let loss = loss_fn.forward(logits.clone(), labels).into_scalar::<f32>();
        loss_sum += f64::from(loss) * batch.len() as f64;
        let read = |t: burn::tensor::Tensor<2>| {
            t.into_data()
                .try_to_vec::<f32>()
                .map_err(|e| TrainError::Device(format!("{e:?}")))
        };
        let probabilities = read(softmax(logits.clone(), 1))?;
        let raw = read(logits)?;
        for (i, label) in batch.labels.iter().enumerate() {
            let p_fake = probabilities[2 * i + 1];
            out.p_fake.push(p_fake);
            out.logits.push([raw[2 * i], raw[2 * i + 1]]);
            // Argmax: Fake only when its logit is strictly larger (ties go to Real, as torch).
            let predicted = i64::from(raw[2 * i + 1] > raw[2 * i]);
            correct += usize::from(predicted == *label);
        }
        out.labels.extend(&batch.labels);
        out.paths.extend(batch.paths.iter().cloned());
        on_batch(batch.len());
    }
    out.skipped = loader.skipped();
    let n = out.labels.len().max(1) as f64;
    out.loss = loss_sum / n;
    out.accuracy = correct as f64 / n;
    Ok(out)
}
