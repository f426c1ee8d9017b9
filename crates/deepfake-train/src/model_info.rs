//! `model_info.json`: what a consumer of a saved model needs to know about its input and output.

use deepfake_model::preprocess::{CLASS_NAMES, IMAGENET_MEAN, IMAGENET_STD};
use deepfake_model::{Detector, DetectorConfig, trainable_params};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::checkpoint::{read_json, write_json};
use crate::error::Result;

/// Architecture, size, input spec and classes of a saved detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Human-readable architecture.
    pub architecture: String,
    /// Trainable parameters (PyTorch's count).
    pub parameters: usize,
    /// Input shape, `[batch, 3, size, size]` (or with a time axis for sequences).
    pub input_shape: [String; 4],
    /// Input element type.
    pub input_dtype: String,
    /// Per-channel mean subtracted from pixels in [0, 1].
    pub mean: [f32; 3],
    /// Per-channel standard deviation pixels are divided by.
    pub std: [f32; 3],
    /// Square input side in pixels.
    pub image_size: usize,
    /// Class names by logit index.
    pub class_names: [String; 2],
    /// Calibration temperature: P(fake) = `softmax(logits / temperature)[1]`. Absent until
    /// `cargo xtask eval` fits it on the validation split.
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
    /// Describes `model` built from `config`.
    pub fn new(model: &Detector, config: &DetectorConfig) -> Self {
        let b = &config.backbone;
        let size = config.image_size.to_string();
        Self {
            architecture: format!(
                "ResNeXt (layers {:?}, {}x{}d, stem {}) -> BiLSTM ({} layers, {} hidden) -> \
                 Linear({}, {}) -> ReLU -> Dropout({}) -> Linear({}, {})",
                b.layers,
                b.groups,
                b.width_per_group,
                b.stem_channels,
                config.lstm_layers,
                config.lstm_hidden,
                2 * config.lstm_hidden,
                config.head_hidden,
                config.dropout,
                config.head_hidden,
                config.num_classes
            ),
            parameters: trainable_params(model),
            input_shape: ["batch".into(), "3".into(), size.clone(), size],
            input_dtype: "float32".into(),
            mean: IMAGENET_MEAN,
            std: IMAGENET_STD,
            image_size: config.image_size,
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
}
