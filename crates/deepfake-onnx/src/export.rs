//! Tracing the detector into an ONNX graph with burn-onnx's exporter.

use burn::module::{Devices, Module, ModuleMapper, ModuleVisitor};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Int, Tensor, TensorData};
use burn_onnx::export::{
    AxisSpec, ExportError, ExportInput, ExportOutput, InputSpec, OnnxExporter,
};
use deepfake_model::{Detector, DetectorConfig};

use crate::error::{OnnxError, Result};
use crate::graph::{GraphSummary, check_structure, rename_graph_io};

/// Name of the graph input: images `[batch, 3, S, S]` or frames `[batch, T, 3, S, S]`.
pub const INPUT_NAME: &str = "input";
/// Name of the logits output `[batch, 2]` (index 0 = real, 1 = fake).
pub const LOGITS_NAME: &str = "logits";
/// Name of the P(fake) output `[batch]`, calibrated by the export temperature.
pub const P_FAKE_NAME: &str = "p_fake";

/// Batch sizes the dynamic-batch export traces with (they must differ).
const SAMPLE_BATCH: usize = 2;
const VALIDATION_BATCH: usize = 3;

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExportOptions {
    /// Frames per sequence: `None` exports single images `[batch, 3, S, S]`; `Some(T)`
    /// exports sequences `[batch, T, 3, S, S]` (the time axis is unrolled, so T is fixed).
    pub seq_len: Option<usize>,
    /// Fix the batch size at 1 instead of a dynamic `batch` axis.
    pub static_batch: bool,
    /// Calibration temperature folded into `p_fake` (1 = none); `logits` stay raw.
    pub temperature: f64,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            seq_len: None,
            static_batch: false,
            temperature: 1.0,
        }
    }
}

/// An exported model: the ONNX bytes and what its graph holds.
#[derive(Debug, Clone)]
pub struct ExportedModel {
    /// The serialised `ModelProto` (weights embedded).
    pub bytes: Vec<u8>,
    /// Inputs, outputs, operator counts of the graph.
    pub summary: GraphSummary,
}

/// `(logits [B, 2], p_fake [B])` from logits: `p_fake = sigmoid((l1 - l0) / temperature)`,
/// which equals `softmax(logits / temperature)[1]` and lowers to plain ONNX operators.
fn with_probability(logits: Tensor<2>, temperature: f64) -> (Tensor<2>, Tensor<1>) {
    let column = |k: i64| {
        let index = Tensor::<1, Int>::from_data(TensorData::from([k]), &logits.device());
        logits.clone().select(1, index)
    };
    let margin = (column(1) - column(0)).div_scalar(temperature);
    (logits, sigmoid(margin).reshape([-1]))
}

/// Exports an inference copy of `model` (built from `config`) to ONNX opset 18.
///
/// The model in use is not touched: the exporter traces `model.valid()`. Fails with the
/// layer and the operation when something has no ONNX lowering, and checks the written
/// graph's structure before returning it.
pub fn export_onnx(
    model: &Detector,
    config: &DetectorConfig,
    options: ExportOptions,
    device: &Device,
) -> Result<ExportedModel> {
    if !(options.temperature.is_finite() && options.temperature > 0.0) {
        return Err(OnnxError::Options(format!(
            "temperature must be a positive number, got {}",
            options.temperature
        )));
    }
    if options.seq_len == Some(0) {
        return Err(OnnxError::Options("--seq-len must be at least 1".into()));
    }
    let model = model.valid();
    let size = config.image_size;
    let temperature = options.temperature;
    let traced = match options.seq_len {
        None => trace(
            &model,
            options.static_batch,
            |batch| Tensor::<4>::zeros([batch, 3, size, size], device),
            |m: &Detector, x: Tensor<4>| with_probability(m.forward(x), temperature),
        ),
        Some(t) => trace(
            &model,
            options.static_batch,
            |batch| Tensor::<5>::zeros([batch, t, 3, size, size], device),
            |m: &Detector, x: Tensor<5>| with_probability(m.forward_sequence(x), temperature),
        ),
    };
    let bytes = traced.map_err(|source| OnnxError::Export {
        layer: failing_layer(&model, config, options, device),
        source,
    })?;
    let bytes = rename_graph_io(&bytes, &[INPUT_NAME], &[LOGITS_NAME, P_FAKE_NAME])?;
    let summary = check_structure(&bytes)?;
    Ok(ExportedModel { bytes, summary })
}

/// Traces `forward` on inputs made by `input(batch)`: at batch 1 for a static graph, or at
/// two batch sizes with the first axis declared dynamic (`batch`).
fn trace<M, I, O, F>(
    module: &M,
    static_batch: bool,
    input: impl Fn(usize) -> I,
    forward: F,
) -> std::result::Result<Vec<u8>, ExportError>
where
    M: Module,
    I: ExportInput + Rank,
    O: ExportOutput,
    F: Fn(&M, I) -> O,
{
    let exporter = OnnxExporter::new();
    let module = IndependentCopies(module.valid());
    let forward = |m: &IndependentCopies<M>, x: I| forward(&m.0, x);
    let model = if static_batch {
        exporter.export(&module, input(1), forward)?
    } else {
        let sample = input(SAMPLE_BATCH);
        let mut axes = vec![AxisSpec::Static; sample.rank()];
        axes[0] = AxisSpec::dynamic("batch");
        let specs = [InputSpec::new(axes)];
        exporter.export_dynamic(&module, sample, input(VALIDATION_BATCH), &specs, forward)?
    };
    Ok(model.into_bytes())
}

/// A module whose clones are independent inference copies.
///
/// burn-onnx 0.22 traces `module.clone().to_device(capture_device)`, and `export_dynamic`
/// traces twice. BatchNorm's running statistics sit behind an `Arc` that plain clones share,
/// so the first trace moves them onto its capture device, for good: the second trace then
/// panics ("Cannot move a tensor from a capture device"), and the caller's model would be
/// left unusable. Cloning through `valid()` gives every trace its own statistics.
#[derive(Debug)]
struct IndependentCopies<M>(M);

impl<M: Module> Clone for IndependentCopies<M> {
    fn clone(&self) -> Self {
        Self(self.0.valid())
    }
}

impl<M: Module> Module for IndependentCopies<M> {
    fn collect_devices(&self, devices: Devices) -> Devices {
        self.0.collect_devices(devices)
    }
    fn fork(self, device: &Device) -> Self {
        Self(self.0.fork(device))
    }
    fn to_device(self, device: &Device) -> Self {
        Self(self.0.to_device(device))
    }
    fn train(self) -> Self {
        Self(self.0.train())
    }
    fn valid(&self) -> Self {
        Self(self.0.valid())
    }
    fn materialize(self) -> Self {
        Self(self.0.materialize())
    }
    fn visit<Visitor: ModuleVisitor>(&self, visitor: &mut Visitor) {
        self.0.visit(visitor)
    }
    fn map<Mapper: ModuleMapper>(self, mapper: &mut Mapper) -> Self {
        Self(self.0.map(mapper))
    }
}

/// Number of axes of an export input.
trait Rank {
    fn rank(&self) -> usize;
}

impl<const D: usize> Rank for Tensor<D> {
    fn rank(&self) -> usize {
        D
    }
}

/// After a failed export, traces the detector's parts one by one (same batch mode) and names
/// the first that fails.
fn failing_layer(
    model: &Detector,
    config: &DetectorConfig,
    options: ExportOptions,
    device: &Device,
) -> &'static str {
    let size = config.image_size;
    let steps = options.seq_len.unwrap_or(1);
    let features = model
        .backbone
        .forward_features(Tensor::<4>::zeros([1, 3, size, size], device));
    let feature_width = features.dims()[1];
    let lstm_width = config.lstm_hidden * 2;
    let static_batch = options.static_batch;
    if trace(
        &model.backbone,
        static_batch,
        |batch| Tensor::<4>::zeros([batch, 3, size, size], device),
        |m, x| m.forward_features(x),
    )
    .is_err()
    {
        return "backbone (ResNeXt)";
    }
    if trace(
        &model.lstm,
        static_batch,
        |batch| Tensor::<3>::zeros([batch, steps, feature_width], device),
        |m, x| m.forward(x),
    )
    .is_err()
    {
        return "lstm (bidirectional LSTM)";
    }
    if trace(
        &model.classifier,
        static_batch,
        |batch| Tensor::<2>::zeros([batch, lstm_width], device),
        |m, x| m.forward(x),
    )
    .is_err()
    {
        return "classifier (MLP head)";
    }
    "time mean or probability head"
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::LinearConfig;

    #[test]
    fn an_operation_without_onnx_lowering_is_an_error_naming_it() {
        let device = Device::flex();
        let linear = LinearConfig::new(4, 2).init(&device);
        for static_batch in [true, false] {
            let error = trace(
                &linear,
                static_batch,
                |batch| Tensor::<2>::zeros([batch, 4], &device),
                |m, x| m.forward(x).cos(),
            )
            .unwrap_err();
            let message = error.to_string();
            assert!(message.contains("Cos"), "{message}");
        }
    }
}
