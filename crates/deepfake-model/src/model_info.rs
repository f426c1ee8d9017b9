//! The [`ModelInfo`] (`model_info.json`) describing a detector.

use deepfake_formats::ModelInfo;

use crate::detector::{Detector, DetectorConfig};
use crate::params::trainable_params;

impl Detector {
    /// The `model_info.json` contents for this detector built from `config`: architecture,
    /// trainable parameters (PyTorch's count), input spec and classes; no temperature yet.
    pub fn model_info(&self, config: &DetectorConfig) -> ModelInfo {
        let b = &config.backbone;
        let architecture = format!(
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
        );
        ModelInfo::new(architecture, trainable_params(self), config.image_size)
    }
}
