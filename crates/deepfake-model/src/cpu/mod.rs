//! The inference backbone on host memory for CPU devices: faster than Burn 0.22 flex's own
//! operations for this network (docs/benchmarks.md), equal to them within float rounding.
//!
//! [`CpuResNeXt`] is built from the folded backbone ([`crate::fused::FusedResNeXt`]) and
//! takes and returns Burn tensors, copying the images to the host and the pooled features
//! back; use it only where the tensors live on the CPU. Upstream route: the fused
//! bias/ReLU/residual epilogues, and the grouped (and stem) convolution as a packed-weight
//! product over the padded input read in place, in burn-flex.

mod backbone;
mod gemm;
mod grouped_conv;
mod layers;
mod packed;

pub use backbone::{CpuResNeXt, LayerTimes};

/// Whether this CPU has AVX2 and FMA (checked at run time, cached by the standard library):
/// the packed product needs them, the direct grouped kernel is compiled for them too.
pub(crate) fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Positions of a window of `kernel` moved by `stride` along an axis of `len` values with
/// `padding` zeros on each side: the output length of a convolution or pooling.
pub(crate) fn window_count(len: usize, [kernel, stride, padding]: [usize; 3]) -> usize {
    (len + 2 * padding - kernel) / stride + 1
}

/// Helpers of the kernels' tests, which compare each kernel with Burn's own operation.
#[cfg(test)]
mod test_support {
    use burn::tensor::Tensor;

    /// A tensor's values in host memory.
    pub fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().unwrap()
    }

    /// Largest absolute difference of two equally long slices.
    pub fn max_diff(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }
}
