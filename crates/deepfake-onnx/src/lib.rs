//! ONNX export of the deepfake detector: opset 18, weights embedded, a dynamic batch axis,
//! and graph names a web page can rely on.
//!
//! ```text
//! input   [batch, 3, S, S]  (or [batch, T, 3, S, S])  float32, ImageNet-normalised
//! logits  [batch, 2]        raw logits for [real, fake]
//! p_fake  [batch]           sigmoid((logit_fake - logit_real) / temperature)
//! ```
//!
//! [`export_onnx`] traces an inference copy of the model with burn-onnx's exporter,
//! [`rename_graph_io`] gives the graph its stable names, [`check_structure`] validates the
//! result, and [`describe_export`] gives the `model_info.json` written beside the file (the one
//! [`deepfake_formats::ModelInfo`] schema with its `onnx` section).

mod error;
mod export;
mod graph;
mod info;

/// Lower-case hex SHA-256 of bytes (the digest `model_info.json` records).
pub use deepfake_formats::sha256_bytes as sha256_hex;
pub use error::{OnnxError, Result};
pub use export::{ExportOptions, ExportedModel, INPUT_NAME, LOGITS_NAME, P_FAKE_NAME, export_onnx};
pub use graph::{GraphSummary, TensorSummary, check_structure, rename_graph_io};
pub use info::describe_export;
