//! ONNX export of the detector (burn-onnx's `export` feature): opset 18, weights embedded,
//! outputs `logits` `[batch, 2]` and `p_fake` `[batch]`.
//!
//! STATUS: work in progress, outside the workspace (issue #7). Measured on burn-onnx 0.22.0
//! with the tiny detector (`cargo test --test tract` in this folder):
//! - dynamic batch: `DynamicShapeLost { axis: 0, reason: "operation 66 has varying slice
//!   bounds" }` -- every `narrow` on a non-batch axis of a `[B, ...]` tensor (LSTM gates and
//!   time steps, the time mean in `detector.rs`, the logit difference here) is rejected; use
//!   `select` with index tensors (ONNX Gather) instead.
//! - static batch: `UnsupportedOperation: SwapDims` on the LSTM's `weight_ih.transpose()`;
//!   keep the LSTM weights in `[in, 4H]` internally (transpose once at PyTorch import/export)
//!   so the forward is a plain matmul.

use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};
use burn_onnx::export::{AxisSpec, InputSpec, OnnxExporter};
use deepfake_model::{Detector, DetectorConfig};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    /// The exporter could not lower the graph (names the operation).
    #[error("ONNX export failed: {0}")]
    Export(#[from] burn_onnx::export::ExportError),
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, OnnxError>;

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportOptions {
    /// Frames per sequence: `None` exports single images `[batch, 3, S, S]`; `Some(T)`
    /// exports sequences `[batch, T, 3, S, S]` (the time axis is unrolled).
    pub seq_len: Option<usize>,
    /// Fix the batch size at 1 instead of a dynamic `batch` axis.
    pub static_batch: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            seq_len: None,
            static_batch: false,
        }
    }
}

/// Logits and P(fake) of sequences: `[B, T, 3, S, S]` -> (`[B, 2]`, `[B]`).
fn forward_with_probability(model: &Detector, frames: Tensor<5>) -> (Tensor<2>, Tensor<1>) {
    let logits = model.forward_sequence(frames);
    let [batch, _] = logits.dims();
    let margin = logits
        .clone()
        .narrow(1, 1, 1)
        .sub(logits.clone().narrow(1, 0, 1));
    (logits, sigmoid(margin).reshape([batch]))
}

/// Exports an inference copy of `model` to ONNX bytes.
pub fn export_onnx(
    model: &Detector,
    config: &DetectorConfig,
    options: ExportOptions,
    device: &Device,
) -> Result<Vec<u8>> {
    let model = model.clone().valid();
    let size = config.image_size;
    let t = options.seq_len.unwrap_or(1).max(1);
    let exporter = OnnxExporter::new();
    let onnx = if options.static_batch {
        let sample = Tensor::<5>::zeros([1, t, 3, size, size], device);
        exporter.export(&model, sample, forward_with_probability)?
    } else {
        let sample = Tensor::<5>::zeros([2, t, 3, size, size], device);
        let validation = Tensor::<5>::zeros([3, t, 3, size, size], device);
        let specs = [InputSpec::new([
            AxisSpec::dynamic("batch"),
            AxisSpec::Static,
            AxisSpec::Static,
            AxisSpec::Static,
            AxisSpec::Static,
        ])];
        exporter.export_dynamic(&model, sample, validation, &specs, forward_with_probability)?
    };
    Ok(onnx.into_bytes())
}
