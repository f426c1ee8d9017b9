//! A trained detector ready for inference: model, input size, calibration temperature and
//! decision threshold.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use burn::tensor::{Device, Tensor, TensorData};
use deepfake_data::normalize::preprocess_eval;
use deepfake_data::{DecodeLimits, decode_bytes, decode_file};
use deepfake_faces::Mtcnn;
use deepfake_model::{Detector as Model, DetectorConfig, InferenceDetector};
use image::{DynamicImage, RgbImage};
use rayon::prelude::*;

use super::error::{PredictError, Result};
use super::prediction::Prediction;
use super::saved_model::SavedModel;

/// Images per forward pass unless set with [`Detector::with_batch_size`].
pub const DEFAULT_BATCH_SIZE: usize = 16;

/// Batches decoded ahead in [`Detector::score_paths`]: enough parallel decoding to keep the
/// model busy, few enough to bound memory (4 x 16 images at 224x224 = 38 MB; on a GPU one
/// group is scored while the next is decoded).
const DECODE_AHEAD_BATCHES: usize = 4;

/// One image decoded and preprocessed for a detector: `[3, S, S]` normalised values, made
/// only by [`Detector::prepare_file`] / [`Detector::prepare_bytes`] (so its size always
/// matches the detector's input) and scored by [`Detector::score_prepared`].
#[derive(Debug, Clone)]
pub struct Preprocessed(Vec<f32>);

impl Preprocessed {
    /// The `[3, S, S]` values.
    pub fn values(&self) -> &[f32] {
        &self.0
    }
}

/// A detector for inference. Cheap to share across threads by reference.
#[derive(Debug)]
pub struct Detector {
    model: InferenceDetector,
    config: DetectorConfig,
    device: Device,
    temperature: f64,
    threshold: f64,
    batch_size: usize,
    limits: DecodeLimits,
    /// The face detector, loaded on first use ([`Detector::face_detector`]).
    pub(super) faces: OnceLock<Mtcnn>,
}

impl Detector {
    /// Opens a saved model folder (`config.json`, `model.bpk`, and `model_info.json` when
    /// present, for the calibration temperature and decision threshold) or a training run
    /// folder (its `best/` checkpoint).
    pub fn load(path: impl AsRef<Path>, device: &Device) -> Result<Self> {
        Ok(Self::from_saved(SavedModel::load(path, device)?, device))
    }

    /// The detector of a saved model already read, with its temperature and threshold.
    pub fn from_saved(saved: SavedModel, device: &Device) -> Self {
        Self::new(saved.model, saved.config, device)
            .with_temperature(saved.temperature)
            .with_threshold(saved.threshold)
    }

    /// Wraps a model already in memory (temperature 1, threshold 0.5). Inference runs on its
    /// inference form (BatchNorm folded, running statistics, no dropout; the backbone on the
    /// host CPU kernels on a CPU device: [`crate::device::inference_form_for`]); `model` is
    /// consumed.
    pub fn new(model: Model, config: DetectorConfig, device: &Device) -> Self {
        Self {
            model: crate::device::inference_form_for(model, device),
            config,
            device: device.clone(),
            temperature: 1.0,
            threshold: 0.5,
            batch_size: DEFAULT_BATCH_SIZE,
            limits: DecodeLimits::default(),
            faces: OnceLock::new(),
        }
    }

    /// Sets the decision threshold on P(fake).
    pub fn with_threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }

    /// Sets the calibration temperature (1 = none).
    pub fn with_temperature(mut self, temperature: f64) -> Self {
        self.temperature = temperature;
        self
    }

    /// Sets how many images go through the model at once (at least 1).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Sets the decode limits (largest image accepted) for [`Detector::predict_paths`].
    pub fn with_decode_limits(mut self, limits: DecodeLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The architecture and input size.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// The calibration temperature in use.
    pub fn temperature(&self) -> f64 {
        self.temperature
    }

    /// The decision threshold in use.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The inference form of the model this detector runs.
    pub fn inference_model(&self) -> &InferenceDetector {
        &self.model
    }

    /// Square input side in pixels.
    pub fn image_size(&self) -> u32 {
        self.config.image_size as u32
    }

    /// The evaluation preprocessing of one image: `[3, S, S]` values.
    fn preprocess(&self, image: &RgbImage) -> Result<Preprocessed> {
        Ok(Preprocessed(preprocess_eval(image, self.image_size())?))
    }

    /// Images per forward pass.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The device the model runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Reads and decodes one image file (format from the content, within the decode
    /// limits) to RGB8.
    pub fn decode_file(&self, path: &Path) -> Result<RgbImage> {
        Ok(decode_file(path, self.limits)?)
    }

    /// Decodes one encoded image held in memory (format from the content, within the decode
    /// limits) to RGB8; `name` only names it in errors.
    pub fn decode_bytes(&self, bytes: &[u8], name: &Path) -> Result<RgbImage> {
        Ok(decode_bytes(bytes, name, self.limits)?)
    }

    /// Preprocesses a decoded image; errors for one without pixels.
    pub fn prepare_image(&self, image: &RgbImage) -> Result<Preprocessed> {
        self.prepare_at(0, image)
    }

    /// [`Self::prepare_image`]; `index` names the image in the error for one without pixels.
    fn prepare_at(&self, index: usize, image: &RgbImage) -> Result<Preprocessed> {
        if image.width() == 0 || image.height() == 0 {
            return Err(PredictError::EmptyImage {
                index,
                width: image.width(),
                height: image.height(),
            });
        }
        self.preprocess(image)
    }

    /// Prepared frames of one sequence (at least one), in order.
    pub(crate) fn prepare_frames(&self, frames: &[DynamicImage]) -> Result<Vec<Preprocessed>> {
        if frames.is_empty() {
            return Err(PredictError::NoFrames);
        }
        frames
            .iter()
            .enumerate()
            .map(|(index, frame)| self.prepare_at(index, &frame.to_rgb8()))
            .collect()
    }

    /// Prepared images as sequences of `steps` frames each: `[len / steps, steps, 3, S, S]`
    /// on the model's device (images are `steps = 1`).
    pub(crate) fn frames_tensor(&self, images: &[Preprocessed], steps: usize) -> Tensor<5> {
        let size = self.config.image_size;
        let flat: Vec<f32> = images.iter().flat_map(|p| p.0.iter().copied()).collect();
        let data = TensorData::new(flat, [images.len() / steps, steps, 3, size, size]);
        Tensor::from_data(data, &self.device)
    }

    /// The prediction of logits `[real, fake]` with this detector's temperature and threshold.
    pub(crate) fn prediction(&self, logits: [f32; 2]) -> Prediction {
        Prediction::from_logits(logits, self.temperature, self.threshold)
    }

    /// Reads, decodes (format from the content, within the decode limits) and preprocesses
    /// one image file.
    pub fn prepare_file(&self, path: &Path) -> Result<Preprocessed> {
        self.preprocess(&self.decode_file(path)?)
    }

    /// Decodes (within the decode limits) and preprocesses one encoded image held in memory
    /// exactly as [`Self::prepare_file`] does a file with the same bytes; `name` only names
    /// it in errors.
    pub fn prepare_bytes(&self, bytes: &[u8], name: &Path) -> Result<Preprocessed> {
        self.preprocess(&self.decode_bytes(bytes, name)?)
    }

    /// Scores prepared images in batches of [`with_batch_size`](Self::with_batch_size), in
    /// order; every image of a batch the device fails to return gets the error.
    pub fn score_prepared(&self, images: &[Preprocessed]) -> Vec<Result<Prediction>> {
        self.logits(images)
            .into_iter()
            .map(|l| l.map(|l| self.prediction(l)))
            .collect()
    }

    /// Logits `[real, fake]` of already-preprocessed images `[3, S, S]` each, in batches;
    /// every image of a batch the device fails to return gets the error.
    pub(crate) fn logits(&self, images: &[Preprocessed]) -> Vec<Result<[f32; 2]>> {
        self.queue_logits(images).read()
    }

    /// Logits of the inputs that were prepared, each in its input's place; an input that was
    /// not keeps its error `E`.
    pub(crate) fn logits_in_place<E>(
        &self,
        mut inputs: Vec<std::result::Result<Preprocessed, E>>,
    ) -> Vec<std::result::Result<Result<[f32; 2]>, E>> {
        let logits = self.logits(&take_ready(&mut inputs));
        merge_logits(inputs, logits).collect()
    }

    /// Queues the forward passes of `images` (`[3, S, S]` each) in batches, reading nothing
    /// back: on a GPU the device works through them while the host goes on (on the CPU they
    /// are computed here).
    fn queue_logits(&self, images: &[Preprocessed]) -> QueuedLogits {
        QueuedLogits(
            images
                .chunks(self.batch_size)
                .map(|chunk| {
                    let logits = self.model.forward_sequence(self.frames_tensor(chunk, 1));
                    (chunk.len(), logits)
                })
                .collect(),
        )
    }

    /// Scores a batch of `[B, 3, S, S]` preprocessed images.
    pub fn predict_tensor(&self, images: Tensor<4>) -> Result<Vec<Prediction>> {
        Ok(to_pairs(self.model.forward(images))
            .map_err(PredictError::Device)?
            .into_iter()
            .map(|l| self.prediction(l))
            .collect())
    }

    /// Scores decoded images (any size or colour type; converted to RGB8 and preprocessed
    /// exactly as in evaluation). Errors only for an image without pixels.
    pub fn predict(&self, images: &[DynamicImage]) -> Result<Vec<Prediction>> {
        let prepared = images
            .par_iter()
            .enumerate()
            .map(|(index, image)| self.prepare_at(index, &image.to_rgb8()))
            .collect::<Result<Vec<_>>>()?;
        self.score_prepared(&prepared).into_iter().collect()
    }

    /// Scores image files, in order: each file that cannot be read, decoded (format found
    /// from the content) or is over the decode limit gets its own error; the others are
    /// scored in batches. [`score_paths`](Self::score_paths) with the temperature and
    /// threshold applied.
    pub fn predict_paths<P: AsRef<Path> + Sync>(&self, paths: &[P]) -> Vec<Result<Prediction>> {
        self.score_paths(paths, |_| {})
            .into_iter()
            .map(|r| r.map(|l| self.prediction(l)))
            .collect()
    }

    /// Logits `[real, fake]` of image files, in order, or the file's error: the one scoring
    /// path of the product (`predict`, `eval` and the server go through it, so they give the
    /// same numbers for the same file). Files are decoded and preprocessed in parallel a few
    /// batches at a time (memory stays bounded for any number of files), then scored in
    /// batches of [`with_batch_size`](Self::with_batch_size); `on_scored(n)` is called after
    /// each group with the number of files it held.
    pub fn score_paths<P: AsRef<Path> + Sync>(
        &self,
        paths: &[P],
        mut on_scored: impl FnMut(usize),
    ) -> Vec<Result<[f32; 2]>> {
        let group = self.batch_size * DECODE_AHEAD_BATCHES;
        let mut out = Vec::with_capacity(paths.len());
        // Each group is read back after the next one is decoded and queued: on a GPU the
        // device scores group n while the host decodes group n + 1.
        let mut in_flight: Option<(Vec<Result<Preprocessed>>, QueuedLogits)> = None;
        for chunk in paths.chunks(group.max(1)) {
            let mut results: Vec<Result<Preprocessed>> = chunk
                .par_iter()
                .map(|path| self.prepare_file(path.as_ref()))
                .collect();
            let queued = self.queue_logits(&take_ready(&mut results));
            if let Some((results, queued)) = in_flight.replace((results, queued)) {
                on_scored(results.len());
                out.extend(merge_logits(results, queued.read()).map(flatten));
            }
        }
        if let Some((results, queued)) = in_flight.take() {
            on_scored(results.len());
            out.extend(merge_logits(results, queued.read()).map(flatten));
        }
        out
    }

    /// Scores one frame sequence (frames in temporal order) with the model's sequence path.
    pub fn predict_sequence(&self, frames: &[DynamicImage]) -> Result<Prediction> {
        self.sequence_prediction(&self.prepare_frames(frames)?)
    }

    /// The prediction of already-prepared frames taken as one sequence `[1, T, 3, S, S]`.
    pub(crate) fn sequence_prediction(&self, prepared: &[Preprocessed]) -> Result<Prediction> {
        let logits = self
            .model
            .forward_sequence(self.frames_tensor(prepared, prepared.len()));
        let pair = to_pairs(logits)
            .map_err(PredictError::Device)?
            .into_iter()
            .next()
            .ok_or_else(|| PredictError::Device("the model returned no logits".into()))?;
        Ok(self.prediction(pair))
    }

    /// Scores a clip folder: its image files in name order, `frames` of them sampled evenly.
    pub fn predict_clip(&self, dir: &Path, frames: usize) -> Result<Prediction> {
        let mut files: Vec<PathBuf> = super::inputs::images_in(dir)?;
        files.sort();
        if files.is_empty() {
            return Err(PredictError::NoFrames);
        }
        let picked = deepfake_data::sequence::sample_frame_indices(files.len(), frames.max(1));
        let decoded = picked
            .into_iter()
            .map(|i| decode_file(&files[i], self.limits).map(DynamicImage::ImageRgb8))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        self.predict_sequence(&decoded)
    }
}

/// Forward passes queued on the device: per batch, its number of images and its logits
/// `[B, 2]`.
struct QueuedLogits(Vec<(usize, Tensor<2>)>);

impl QueuedLogits {
    /// Reads every batch back (waiting for the device), in order; every image of a batch the
    /// device fails to return gets the error.
    fn read(self) -> Vec<Result<[f32; 2]>> {
        let mut out = Vec::new();
        for (images, logits) in self.0 {
            match to_pairs(logits) {
                Ok(pairs) => out.extend(pairs.into_iter().map(Ok)),
                Err(reason) => {
                    out.extend((0..images).map(|_| Err(PredictError::Device(reason.clone()))))
                }
            }
        }
        out
    }
}

/// The prepared inputs of `inputs` moved out, in order, for scoring (leaving empty ones in
/// their places, rather than copying them); [`merge_logits`] puts their logits back.
fn take_ready<E>(inputs: &mut [std::result::Result<Preprocessed, E>]) -> Vec<Preprocessed> {
    inputs
        .iter_mut()
        .filter_map(|input| {
            input
                .as_mut()
                .ok()
                .map(|p| Preprocessed(std::mem::take(&mut p.0)))
        })
        .collect()
}

/// Puts `logits` (one per prepared input, in order, as [`take_ready`] took them) in the
/// places of the inputs that were prepared; the others keep their error `E`. The one way
/// scores go back to their inputs (a prepared input left without logits gets an error).
fn merge_logits<E>(
    inputs: Vec<std::result::Result<Preprocessed, E>>,
    logits: Vec<Result<[f32; 2]>>,
) -> impl Iterator<Item = std::result::Result<Result<[f32; 2]>, E>> {
    let mut logits = logits.into_iter();
    inputs.into_iter().map(move |input| {
        input.map(|_| {
            logits
                .next()
                .unwrap_or_else(|| Err(PredictError::Device("fewer outputs than inputs".into())))
        })
    })
}

/// An input's error or its logits' (both [`PredictError`]s) as one result.
fn flatten(result: Result<Result<[f32; 2]>>) -> Result<[f32; 2]> {
    result.and_then(|logits| logits)
}

/// Logits tensor `[B, 2]` as pairs, or why the device could not return them.
fn to_pairs(logits: Tensor<2>) -> std::result::Result<Vec<[f32; 2]>, String> {
    let values = logits
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|e| format!("{e:?}"))?;
    Ok(values.chunks_exact(2).map(|p| [p[0], p[1]]).collect())
}
