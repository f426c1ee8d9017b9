//! Explanations of verdicts: Grad-CAM maps of the detector's last backbone stage.

use std::path::Path;

use burn::tensor::Tensor;
use deepfake_model::preprocess::Label;
use deepfake_model::upsample_bilinear;
use image::{DynamicImage, RgbImage};

use super::detector::{Detector, Preprocessed};
use super::error::{PredictError, Result};
use super::prediction::Prediction;

/// Why the detector gave its verdict on one image (or one frame): the prediction and the
/// Grad-CAM map of the explained class.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The verdict on the image (for a frame: on its whole sequence).
    pub prediction: Prediction,
    /// The class whose logit is explained (Fake unless asked otherwise).
    pub class: Label,
    /// Grad-CAM at the last backbone stage, `[h, w]` row-major, in `[0, 1]` (1 = the
    /// strongest evidence for `class`; all 0 when nothing supports it).
    pub map: Vec<f32>,
    /// `[h, w]`: `[7, 7]` for 224x224 inputs.
    pub map_size: [usize; 2],
}

impl Explanation {
    /// The map upsampled bilinearly (PyTorch's `align_corners=False`) to `[height, width]`,
    /// row-major, in `[0, 1]`: over the original image, since the model sees it resized
    /// whole.
    pub fn heatmap(&self, width: u32, height: u32) -> Vec<f32> {
        upsample_bilinear(&self.map, self.map_size, [height as usize, width as usize])
    }

    /// The heatmap's mean inside and outside a region of a `width` x `height` image
    /// (`inside(x, y)`): how much of the explanation falls where the evidence is. NaN for a
    /// side with no pixel.
    pub fn mean_inside_and_outside(
        &self,
        width: u32,
        height: u32,
        inside: impl Fn(u32, u32) -> bool,
    ) -> (f64, f64) {
        let heatmap = self.heatmap(width, height);
        let (mut sums, mut counts) = ([0.0f64; 2], [0usize; 2]);
        for (i, v) in heatmap.iter().enumerate() {
            let (x, y) = (i as u32 % width, i as u32 / width);
            let side = usize::from(!inside(x, y));
            sums[side] += f64::from(*v);
            counts[side] += 1;
        }
        (sums[0] / counts[0] as f64, sums[1] / counts[1] as f64)
    }

    /// `image` with the heatmap over it, a colour bar and its P(fake) in the corner.
    pub fn overlay(&self, image: &RgbImage) -> Result<RgbImage> {
        let heatmap = self.heatmap(image.width(), image.height());
        let caption = format!(
            "{} P(fake) {:.3}",
            self.prediction.label.name(),
            self.prediction.p_fake
        );
        deepfake_report::figures::heatmap_overlay(image, &heatmap, &caption)
            .map_err(|e| PredictError::Heatmap(e.to_string()))
    }

    /// [`Self::overlay`] encoded as PNG.
    pub fn overlay_png(&self, image: &RgbImage) -> Result<Vec<u8>> {
        let overlay = self.overlay(image)?;
        deepfake_report::render::encode_png(overlay.as_raw(), overlay.width(), overlay.height())
            .map_err(|e| PredictError::Heatmap(format!("encoding: {e}")))
    }

    /// Writes [`Self::overlay`] as a PNG at `path` (atomically).
    pub fn write_overlay(&self, image: &RgbImage, path: &Path) -> Result<()> {
        let png = self.overlay_png(image)?;
        deepfake_formats::write_atomic(path, &png).map_err(|e| PredictError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })
    }
}

impl Detector {
    /// Grad-CAM explanations of the Fake logit for decoded images (any size or colour type,
    /// preprocessed as in evaluation), with their predictions.
    pub fn explain(&self, images: &[DynamicImage]) -> Result<Vec<Explanation>> {
        self.explain_class(images, Label::Fake)
    }

    /// [`Self::explain`] of the logit of `class`.
    pub fn explain_class(&self, images: &[DynamicImage], class: Label) -> Result<Vec<Explanation>> {
        let prepared = images
            .iter()
            .map(|image| self.prepare_image(&image.to_rgb8()))
            .collect::<Result<Vec<_>>>()?;
        Ok(self.explain_prepared(&prepared, class))
    }

    /// Explanations of prepared images (one each, in order), in batches of the detector's
    /// batch size.
    pub fn explain_prepared(&self, images: &[Preprocessed], class: Label) -> Vec<Explanation> {
        let mut out = Vec::with_capacity(images.len());
        for chunk in images.chunks(self.batch_size()) {
            out.extend(self.explanations(self.frames_tensor(chunk, 1), class));
        }
        out
    }

    /// Grad-CAM of the Fake logit for one frame sequence: one explanation per frame, each
    /// carrying the sequence's prediction.
    pub fn explain_sequence(&self, frames: &[DynamicImage]) -> Result<Vec<Explanation>> {
        let prepared = self.prepare_frames(frames)?;
        let frames = self.frames_tensor(&prepared, prepared.len());
        Ok(self.explanations(frames, Label::Fake))
    }

    /// One explanation per frame of `frames` (`[B, T, 3, S, S]`), each with the prediction
    /// of its sequence.
    fn explanations(&self, frames: Tensor<5>, class: Label) -> Vec<Explanation> {
        let steps = frames.dims()[1];
        let cam = self.inference_model().grad_cam(frames, class.index());
        let plane = cam.map_size[0] * cam.map_size[1];
        cam.maps
            .chunks_exact(plane)
            .enumerate()
            .map(|(frame, map)| {
                let logits = &cam.logits[2 * (frame / steps)..][..2];
                Explanation {
                    prediction: self.prediction([logits[0], logits[1]]),
                    class,
                    map: map.to_vec(),
                    map_size: cam.map_size,
                }
            })
            .collect()
    }
}
