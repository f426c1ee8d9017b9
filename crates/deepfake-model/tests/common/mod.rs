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

/// Largest absolute element-wise difference.
pub fn max_abs_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    assert_eq!(a.dims(), b.dims(), "shapes differ");
    (a - b).abs().max().into_scalar::<f32>()
}

/// Largest absolute difference of two equally long lists; `f32::INFINITY` when either holds a
/// NaN (so a NaN output can never pass a tolerance), a panic when the lengths differ.
pub fn max_diff_values(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len(), "compared outputs differ in length");
    got.iter().zip(want).fold(0.0f32, |worst, (g, w)| {
        let d = (g - w).abs();
        if d.is_nan() {
            f32::INFINITY
        } else {
            worst.max(d)
        }
    })
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
