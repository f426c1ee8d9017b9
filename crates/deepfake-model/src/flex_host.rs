//! Flex tensors as host slices and back: the boundary of the flex backend extensions
//! (`flex_batch_norm`, `flex_grouped_conv`), whose kernels (`deepfake-cpu`) take plain `f32`
//! slices.

use std::borrow::Cow;

use burn::backend::flex::FlexTensor;
use burn::tensor::{DType, TensorData};

/// The values of a flex tensor in row-major order (copied only when its layout is strided).
///
/// # Panics
/// If the tensor is not `f32` (the extensions are only called on `f32` tensors).
pub(crate) fn host_values(tensor: &FlexTensor) -> Cow<'_, [f32]> {
    assert_eq!(
        tensor.dtype(),
        DType::F32,
        "the flex host operations run on f32 tensors"
    );
    match tensor.as_slice::<f32>() {
        Some(values) => Cow::Borrowed(values),
        None => Cow::Owned(tensor.to_contiguous().as_slice::<f32>().map_or_else(
            || unreachable!("a contiguous copy has a contiguous layout"),
            <[f32]>::to_vec,
        )),
    }
}

/// A flex tensor of `values` with `shape` (row-major; no copy).
pub(crate) fn flex_tensor(values: Vec<f32>, shape: &[usize]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape.to_vec()))
}
