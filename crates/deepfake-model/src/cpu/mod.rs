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
