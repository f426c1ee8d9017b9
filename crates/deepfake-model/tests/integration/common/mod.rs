//! Helpers shared by the model crate's integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use burn::tensor::{Device, Tensor, TensorData};

/// Path of a committed fixture (see `tests/fixtures/gen_model_fixtures.py`).
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Reads f32 tensor `name` from a committed fixture written by the fixture script.
pub fn read_tensor<const D: usize>(file: &str, name: &str, device: &Device) -> Tensor<D> {
    read_tensor_from(&fixture(file), name, device)
}

/// Reads f32 tensor `name` from the safetensors file at `path`.
pub fn read_tensor_from<const D: usize>(
    path: &std::path::Path,
    name: &str,
    device: &Device,
) -> Tensor<D> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let tensors = safetensors::SafeTensors::deserialize(&bytes).expect("safetensors");
    let view = tensors.tensor(name).expect("tensor in fixture");
    assert_eq!(view.dtype(), safetensors::Dtype::F32, "{name} is not f32");
    let values: Vec<f32> = view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Tensor::from_data(TensorData::new(values, view.shape().to_vec()), device)
}

/// The one comparison rule of the parity checks: largest absolute difference, infinite on
/// NaN, a panic when the lengths differ.
pub use deepfake_compare::max_abs_diff_or_panic as max_diff_values;

/// Asserts that `got` is within `tolerance` of `want` ([`max_diff_values`]: NaN and a length
/// mismatch fail), naming `what` when it is not.
pub fn assert_close(what: &str, got: &[f32], want: &[f32], tolerance: f32) {
    let diff = max_diff_values(got, want);
    assert!(
        diff <= tolerance,
        "{what}: max |diff| {diff:e} (tolerance {tolerance:e})"
    );
}

/// The values of a tensor on the host (f32).
pub fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .try_to_vec::<f32>()
        .expect("f32 tensor data")
}

/// [`max_diff_values`] of two tensors of the same shape.
pub fn max_diff<const D: usize>(got: Tensor<D>, want: Tensor<D>) -> f32 {
    assert_eq!(got.dims(), want.dims(), "compared tensors differ in shape");
    max_diff_values(&values(got), &values(want))
}

/// A scalar loss that weights every element of `out` differently (`sin(i / 97)` for the
/// i-th), so that every entry of a gradient taken from it matters.
pub fn distinct_weighted_sum<const D: usize>(out: Tensor<D>) -> Tensor<1> {
    let weights = Tensor::arange(0..out.shape().num_elements() as i64, &out.device())
        .float()
        .reshape(out.dims())
        .div_scalar(97.0)
        .sin();
    (out * weights).sum()
}
