//! `model_info.json` beside an exported `.onnx`: everything a consumer (a web page, another
//! runtime) needs to feed the model and read its outputs.

use std::path::Path;

use deepfake_formats::{CLASS_NAMES, IMAGENET_MEAN, IMAGENET_STD};
use deepfake_model::{Detector, DetectorConfig, trainable_params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{OnnxError, Result};
use crate::export::{ExportOptions, ExportedModel};

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

/// Contents of `model_info.json` written beside an exported `.onnx` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnnxModelInfo {
    /// Always `"onnx"`.
    pub format: String,
    /// File name of the model, relative to this JSON file.
    pub file: String,
    /// Lower-case hex SHA-256 of the `.onnx` bytes.
    pub sha256: String,
    /// Size of the `.onnx` file in bytes.
    pub bytes: usize,
    /// ONNX operator set.
    pub opset: i64,
    /// The one graph input.
    pub input: TensorSpec,
    /// `logits` `[batch, 2]` and `p_fake` `[batch]`.
    pub outputs: Vec<TensorSpec>,
    /// Frames per input sequence (`null` for single images).
    pub seq_len: Option<usize>,
    /// Square input side in pixels: resize to `image_size` x `image_size` (bilinear,
    /// antialiased, as PIL / torchvision), RGB, scale to [0, 1], then normalise.
    pub image_size: usize,
    /// Per-channel mean subtracted from pixels in [0, 1] (R, G, B).
    pub mean: [f32; 3],
    /// Per-channel standard deviation the pixels are divided by (R, G, B).
    pub std: [f32; 3],
    /// Class names by logit index.
    pub class_names: [String; 2],
    /// Calibration temperature already folded into `p_fake` (1 = none).
    pub temperature: f64,
    /// Decision threshold on `p_fake`: fake when `p_fake >= threshold`.
    pub threshold: f64,
    /// Trainable parameters of the model.
    pub parameters: usize,
    /// Nodes per ONNX operator type.
    pub operators: std::collections::BTreeMap<String, usize>,
    /// Where the weights came from (a checkpoint path), if known.
    pub source: Option<String>,
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn spec(summary: &crate::graph::TensorSummary) -> TensorSpec {
    TensorSpec {
        name: summary.name.clone(),
        shape: summary.shape.clone(),
        dtype: summary.dtype.clone(),
    }
}

impl OnnxModelInfo {
    /// Describes `exported`, the export of `model` (built from `config`) with `options`, to be
    /// written as `file`; `threshold` is the decision threshold on P(fake).
    pub fn new(
        exported: &ExportedModel,
        model: &Detector,
        config: &DetectorConfig,
        options: ExportOptions,
        file: &str,
        threshold: f64,
    ) -> Result<Self> {
        let summary = &exported.summary;
        let input = summary
            .inputs
            .first()
            .ok_or_else(|| OnnxError::Structure("the graph has no input".into()))?;
        Ok(Self {
            format: "onnx".into(),
            file: file.into(),
            sha256: sha256_hex(&exported.bytes),
            bytes: exported.bytes.len(),
            opset: summary.opset,
            input: spec(input),
            outputs: summary.outputs.iter().map(spec).collect(),
            seq_len: options.seq_len,
            image_size: config.image_size,
            mean: IMAGENET_MEAN,
            std: IMAGENET_STD,
            class_names: CLASS_NAMES.map(String::from),
            temperature: options.temperature,
            threshold,
            parameters: trainable_params(model),
            operators: summary.operators.clone(),
            source: None,
        })
    }

    /// Writes the JSON to `path` atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(|source| OnnxError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        deepfake_formats::write_atomic(path, &json)?;
        Ok(())
    }

    /// Reads a `model_info.json` written by [`OnnxModelInfo::write`].
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| {
            OnnxError::File(deepfake_model::Error::Io {
                action: "read",
                path: path.to_path_buf(),
                source: e,
            })
        })?;
        serde_json::from_slice(&bytes).map_err(|source| OnnxError::Json {
            path: path.to_path_buf(),
            source,
        })
    }
}
