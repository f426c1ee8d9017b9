//! `model_info.json` beside an exported `.onnx`: the saved model's [`ModelInfo`] (the one
//! schema) with its [`OnnxFile`] section filled in.

use deepfake_formats::{ModelInfo, OnnxFile, TensorSpec, sha256_bytes};

use crate::error::{OnnxError, Result};
use crate::export::{ExportOptions, ExportedModel};

fn spec(summary: &crate::graph::TensorSummary) -> TensorSpec {
    TensorSpec {
        name: summary.name.clone(),
        shape: summary.shape.clone(),
        dtype: summary.dtype.clone(),
    }
}

/// The `model_info.json` of `exported` (made with `options`, to be written as `file`): the
/// exported model's own `info` (architecture, input spec, calibration, threshold) with the
/// file's section added (whose `input` is the graph's: frames, static batch).
pub fn describe_export(
    exported: &ExportedModel,
    options: ExportOptions,
    file: &str,
    info: ModelInfo,
) -> Result<ModelInfo> {
    let summary = &exported.summary;
    let input = summary
        .inputs
        .first()
        .ok_or_else(|| OnnxError::Structure("the graph has no input".into()))?;
    Ok(ModelInfo {
        onnx: Some(OnnxFile {
            file: file.into(),
            sha256: sha256_bytes(&exported.bytes),
            bytes: exported.bytes.len(),
            opset: summary.opset,
            input: spec(input),
            outputs: summary.outputs.iter().map(spec).collect(),
            seq_len: options.seq_len,
            p_fake_temperature: options.temperature,
            operators: summary.operators.clone(),
            source: None,
        }),
        // The weights file stays with the saved model, not beside the export.
        weights_sha256: None,
        ..info
    })
}
