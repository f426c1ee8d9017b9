//! `model_info.json` of a saved model (a run's `best/`, `last/`, or any saved folder): what a
//! consumer needs to feed it and read its output, and the calibration `eval` fits.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic::{read_json, write_json};
use crate::error::Result;
use crate::label::CLASS_NAMES;
use crate::normalisation::{IMAGENET_MEAN, IMAGENET_STD};

/// Architecture, size, input spec, classes and calibration of a saved detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Human-readable architecture.
    pub architecture: String,
    /// Trainable parameters (PyTorch's count).
    pub parameters: usize,
    /// Input shape, `[batch, 3, size, size]`.
    pub input_shape: [String; 4],
    /// Input element type (`float32`).
    pub input_dtype: String,
    /// Per-channel mean subtracted from pixels in [0, 1] (R, G, B).
    pub mean: [f32; 3],
    /// Per-channel standard deviation pixels are divided by (R, G, B).
    pub std: [f32; 3],
    /// Square input side in pixels.
    pub image_size: usize,
    /// Class names by logit index.
    pub class_names: [String; 2],
    /// Calibration temperature: P(fake) = `softmax(logits / temperature)[1]`. Absent until
    /// `eval` fits it on the validation split.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// Decision threshold on P(fake) (0.5 unless chosen otherwise).
    #[serde(default = "default_threshold")]
    pub threshold: f64,
}

fn default_threshold() -> f64 {
    0.5
}

impl ModelInfo {
    /// A detector of `parameters` trainable parameters described as `architecture`, taking
    /// `image_size` x `image_size` ImageNet-normalised RGB images; no temperature yet,
    /// threshold 0.5.
    pub fn new(architecture: String, parameters: usize, image_size: usize) -> Self {
        let size = image_size.to_string();
        Self {
            architecture,
            parameters,
            input_shape: ["batch".into(), "3".into(), size.clone(), size],
            input_dtype: "float32".into(),
            mean: IMAGENET_MEAN,
            std: IMAGENET_STD,
            image_size,
            class_names: CLASS_NAMES.map(String::from),
            temperature: None,
            threshold: default_threshold(),
        }
    }

    /// Reads `model_info.json` from `path`.
    pub fn read(path: &Path) -> Result<Self> {
        read_json(path)
    }

    /// Writes it to `path` atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        write_json(path, self)
    }

    /// The calibration temperature to apply: the recorded one when it is a positive finite
    /// number, else 1 (none).
    pub fn temperature_or_one(&self) -> f64 {
        self.temperature
            .filter(|t| t.is_finite() && *t > 0.0)
            .unwrap_or(1.0)
    }
}
