//! A `.safetensors` state dict as burn-store tensors, its header parsed once.
//!
//! burn-store 0.22.1's `SafetensorsStore` parses and validates the whole header again for every
//! tensor it loads (`safetensors/store.rs`, inside each tensor's deferred closure): loading is
//! quadratic in the number of tensors (the fuzz run of `safetensors_weights` found it: 0.7-2.1
//! s per load of the 122-tensor micro detector under AddressSanitizer). Here the header is
//! parsed once; each tensor keeps the byte range of its data in the shared file buffer and
//! copies it out only when the module asks for it.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use burn::store::bridge;
use burn::store::burn_pack::{Error as PackError, Tensor as PackTensor};
use burn::tensor::{Bytes, DType, Shape, TensorData};
use safetensors::{Dtype, SafeTensors};

/// The tensors of the `.safetensors` file at `path`, in the file's order.
///
/// # Errors
/// A message naming what is wrong: the file cannot be read, its header is malformed (bad
/// JSON, offsets outside the file or overlapping), or a tensor has a dtype Burn does not have.
pub fn read_safetensors(path: &Path) -> Result<Vec<PackTensor>, String> {
    let bytes = Arc::new(std::fs::read(path).map_err(|e| format!("reading the file: {e}"))?);
    let entries: Vec<(String, DType, Shape, Range<usize>)> = {
        let header = SafeTensors::deserialize(&bytes)
            .map_err(|e| format!("not a valid safetensors file: {e}"))?;
        let start = bytes.as_ptr() as usize;
        header
            .tensors()
            .into_iter()
            .map(|(name, view)| {
                let dtype = burn_dtype(view.dtype()).ok_or_else(|| {
                    format!("tensor '{name}': unsupported dtype {:?}", view.dtype())
                })?;
                let data = view.data();
                let offset = data.as_ptr() as usize - start;
                Ok((
                    name,
                    dtype,
                    Shape::from(view.shape().to_vec()),
                    offset..offset + data.len(),
                ))
            })
            .collect::<Result<_, String>>()?
    };
    Ok(entries
        .into_iter()
        .map(|(name, dtype, shape, range)| {
            let bytes = bytes.clone();
            let data_shape = shape.clone();
            bridge::deferred(name, dtype, shape, None, move || {
                let data = Bytes::from_bytes_vec(bytes[range.clone()].to_vec());
                TensorData::try_from_bytes(data, data_shape.clone(), dtype)
                    .map_err(|e| PackError::TensorBytesSizeMismatch(e.to_string()))
            })
        })
        .collect())
}

/// The Burn dtype of a safetensors dtype (`None` for those burn-store does not read either).
fn burn_dtype(dtype: Dtype) -> Option<DType> {
    Some(match dtype {
        Dtype::F64 => DType::F64,
        Dtype::F32 => DType::F32,
        Dtype::F16 => DType::F16,
        Dtype::BF16 => DType::BF16,
        Dtype::I64 => DType::I64,
        Dtype::I32 => DType::I32,
        Dtype::I16 => DType::I16,
        Dtype::I8 => DType::I8,
        Dtype::U64 => DType::U64,
        Dtype::U32 => DType::U32,
        Dtype::U8 => DType::U8,
        Dtype::BOOL => DType::Bool(burn::tensor::BoolStore::Native),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use safetensors::tensor::TensorView;

    /// A file with one tensor of every dtype both sides have reads back with Burn's name for
    /// that dtype and the file's bytes; a dtype Burn lacks is refused by tensor name.
    #[test]
    fn every_shared_dtype_reads_back_with_its_bytes() {
        let cases = [
            (Dtype::F64, DType::F64, 8),
            (Dtype::F32, DType::F32, 4),
            (Dtype::F16, DType::F16, 2),
            (Dtype::BF16, DType::BF16, 2),
            (Dtype::I64, DType::I64, 8),
            (Dtype::I32, DType::I32, 4),
            (Dtype::I16, DType::I16, 2),
            (Dtype::I8, DType::I8, 1),
            (Dtype::U64, DType::U64, 8),
            (Dtype::U32, DType::U32, 4),
            (Dtype::U8, DType::U8, 1),
            (Dtype::BOOL, DType::Bool(burn::tensor::BoolStore::Native), 1),
        ];
        // Three elements each, bytes numbered by case so that no two tensors are alike.
        let bytes: Vec<Vec<u8>> = cases
            .iter()
            .enumerate()
            .map(|(i, &(dtype, _, size))| {
                (0..3 * size)
                    .map(|b| {
                        if dtype == Dtype::BOOL {
                            (b % 2) as u8
                        } else {
                            (i * 16 + b) as u8
                        }
                    })
                    .collect()
            })
            .collect();
        let views = cases.iter().zip(&bytes).map(|(&(dtype, _, _), data)| {
            let view = TensorView::new(dtype, vec![3], data).unwrap();
            (format!("{dtype:?}"), view)
        });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("all.safetensors");
        std::fs::write(&path, safetensors::serialize(views, None).unwrap()).unwrap();
        let tensors = read_safetensors(&path).unwrap();
        assert_eq!(tensors.len(), cases.len());
        for tensor in tensors {
            let (name, dtype, shape, _, data) = tensor.into_parts().unwrap();
            let case = cases
                .iter()
                .position(|(file_dtype, _, _)| format!("{file_dtype:?}") == name)
                .unwrap_or_else(|| panic!("unexpected tensor {name}"));
            assert_eq!(dtype, cases[case].1, "{name}");
            assert_eq!(shape, Shape::from(vec![3]), "{name}");
            assert_eq!(&data[..], &bytes[case][..], "{name}");
        }

        let fp8 = [0u8; 3];
        let view = TensorView::new(Dtype::F8_E4M3, vec![3], &fp8).unwrap();
        let path = dir.path().join("fp8.safetensors");
        std::fs::write(
            &path,
            safetensors::serialize([("scale", view)], None).unwrap(),
        )
        .unwrap();
        let error = read_safetensors(&path).unwrap_err();
        assert!(
            error.contains("tensor 'scale': unsupported dtype"),
            "{error}"
        );
    }
}
