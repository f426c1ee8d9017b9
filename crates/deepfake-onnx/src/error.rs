//! Errors of the ONNX export.

/// Why an export or a check failed.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    /// The exporter could not lower part of the model: names the layer (backbone, lstm,
    /// classifier or the probability head) and the operation.
    #[error(
        "ONNX export failed in the {layer}: {source}. This operation has no ONNX lowering in \
         burn-onnx 0.22; change the layer to use supported operations (matmul/linear, conv, \
         gather, reshape, concat, element-wise) or export with --static-batch"
    )]
    Export {
        /// Which part of the detector holds the failing operation.
        layer: &'static str,
        /// The exporter's error, with the operation's index and kind.
        source: burn_onnx::export::ExportError,
    },
    /// The written model does not have the structure a runtime expects.
    #[error("the exported ONNX graph is malformed: {0}")]
    Structure(String),
    /// The ONNX bytes could not be decoded or encoded.
    #[error("ONNX protobuf: {0}")]
    Protobuf(String),
    /// Invalid export options.
    #[error("invalid export options: {0}")]
    Options(String),
    /// Reading or writing a file failed (names the file and the step).
    #[error(transparent)]
    File(#[from] deepfake_model::Error),
    /// Writing a file atomically failed (names the file and the step).
    #[error(transparent)]
    Write(#[from] deepfake_formats::FormatError),
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, OnnxError>;
