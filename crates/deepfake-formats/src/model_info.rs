//! `model_info.json`, one schema wherever a model is stored: beside a saved model (a run's
//! `best/`, `last/`, or any saved folder) and beside an exported `.onnx` file (which adds the
//! [`OnnxFile`] section). It says what a consumer needs to feed the model and read its output,
//! and the calibration `eval` fits.

use std::collections::BTreeMap;
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
    /// Decision threshold on P(fake): fake when `p_fake >= threshold` (0.5 unless chosen
    /// otherwise).
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// Lower-case hex SHA-256 of the saved model's weights file (`model.bpk`) when it was
    /// written; loading checks it, so weights changed afterwards (a bit flip, a swapped file)
    /// are an error instead of silently different verdicts. Absent beside an export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_sha256: Option<String>,
    /// The exported file this JSON sits beside; absent for a saved Burn model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onnx: Option<OnnxFile>,
}

/// A graph input or output as a consumer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorSpec {
    /// Graph name.
    pub name: String,
    /// Axis sizes; the dynamic batch axis is `"batch"`.
    pub shape: Vec<String>,
    /// Element type (`float32`).
    pub dtype: String,
}

/// The `onnx` section of `model_info.json` beside an exported `.onnx` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnnxFile {
    /// File name of the model, relative to this JSON file.
    pub file: String,
    /// Lower-case hex SHA-256 of the `.onnx` bytes.
    pub sha256: String,
    /// Size of the `.onnx` file in bytes.
    pub bytes: usize,
    /// ONNX operator set.
    pub opset: i64,
    /// The one graph input (`[batch, 3, S, S]`, or `[batch, T, 3, S, S]` for sequences).
    pub input: TensorSpec,
    /// `logits` `[batch, 2]` and `p_fake` `[batch]`.
    pub outputs: Vec<TensorSpec>,
    /// Frames per input sequence (`null` for single images).
    pub seq_len: Option<usize>,
    /// The temperature folded into the `p_fake` output: `sigmoid((l_fake - l_real) / T)`
    /// (1 when exported without it).
    pub p_fake_temperature: f64,
    /// Nodes per ONNX operator type.
    pub operators: BTreeMap<String, usize>,
    /// Where the weights came from (a checkpoint path), if known.
    pub source: Option<String>,
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
            weights_sha256: None,
            onnx: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_and_read_back_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model_info.json");
        let mut info = ModelInfo::new("ResNeXt-50".into(), 25_000_000, 224);
        info.temperature = Some(1.7);
        info.write(&path).unwrap();
        let read = ModelInfo::read(&path).unwrap();
        assert_eq!(read, info);
        assert_eq!(read.threshold, 0.5);
        assert_eq!(read.input_shape, ["batch", "3", "224", "224"]);
    }

    #[test]
    fn threshold_defaults_to_one_half_when_absent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model_info.json");
        let mut json = serde_json::to_value(ModelInfo::new("x".into(), 1, 64)).unwrap();
        json.as_object_mut().unwrap().remove("threshold");
        std::fs::write(&path, json.to_string()).unwrap();
        assert_eq!(ModelInfo::read(&path).unwrap().threshold, 0.5);
    }

    #[test]
    fn only_a_positive_finite_temperature_is_applied() {
        let mut info = ModelInfo::new("x".into(), 1, 64);
        for (temperature, applied) in [
            (None, 1.0),
            (Some(2.5), 2.5),
            (Some(0.25), 0.25),
            (Some(0.0), 1.0),
            (Some(-2.0), 1.0),
            (Some(f64::NAN), 1.0),
            (Some(f64::INFINITY), 1.0),
        ] {
            info.temperature = temperature;
            assert_eq!(info.temperature_or_one(), applied, "{temperature:?}");
        }
    }
}
