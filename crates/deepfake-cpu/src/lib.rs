//! The host inference engine for CPUs: the ResNeXt backbone (BatchNorm folded) and small PReLU
//! networks (MTCNN's, the face detector) on plain `f32` slices, faster than Burn 0.22 flex's
//! own operations for these networks (docs/benchmarks.md) and equal to them within float
//! rounding.
//!
//! [`CpuResNeXt`] is built from [`BackboneWeights`] (the model crate fills them from its folded
//! Burn modules) and maps images `[B, 3, H, W]` to pooled features `[B, C]`, both row-major
//! host buffers; this crate knows nothing of Burn (it is a dev-dependency, the reference the
//! kernels' tests compare with). [`CpuPreluNet`] is built from [`PreluNetWeights`] the same
//! way (deepfake-faces fills them). Packed AVX2/FMA register tiles for the grouped and stem
//! convolutions, the `gemm` crate for the 1x1 products with bias, ReLU and residual fused
//! around them. Upstream route: the fused epilogues, and the grouped (and stem) convolution
//! as a packed-weight product over the padded input read in place, in burn-flex.
//!
//! Two training kernels live here too, which the model crate wraps as Burn operations for flex
//! training: [`batch_norm_training`], the BatchNorm (statistics, normalisation with an
//! optional residual add and ReLU, backward pass), and [`grouped_conv_training`], the grouped
//! convolution (forward pass, input and weight gradients) on the packed kernels.

mod activation;
mod backbone;
pub mod batch_norm_training;
mod error;
mod gemm;
mod grouped_conv;
pub mod grouped_conv_training;
mod layer_times;
mod layers;
mod packed;
mod prelu_net;
mod row_dots;
mod weights;

pub use backbone::CpuResNeXt;
pub use error::{Error, Result};
pub use layer_times::LayerTimes;
pub use prelu_net::CpuPreluNet;
pub use weights::{
    BackboneWeights, BlockWeights, ConvWeights, DenseWeights, HeadWeights, PoolSpec,
    PreluConvWeights, PreluNetWeights,
};

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

/// Output height and width of a square window (`[kernel, stride, padding]`) slid over an
/// `h x w` plane: [`window_count`] along both axes. Every convolution and pooling layer of the
/// engine sizes its output with this.
pub(crate) fn window_out_size([h, w]: [usize; 2], window: [usize; 3]) -> [usize; 2] {
    [window_count(h, window), window_count(w, window)]
}

/// Helpers of the kernels' tests, which compare each kernel with Burn's own operation.
#[cfg(test)]
mod test_support {
    use burn::tensor::Tensor;

    /// A tensor's values in host memory.
    pub fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().unwrap()
    }

    /// The one comparison rule of the parity checks (NaN fails, lengths must match).
    pub use deepfake_compare::max_abs_diff_or_panic as max_diff;

    /// The message `f` panics with (a kernel's refusal of its operands).
    ///
    /// # Panics
    /// If `f` returns instead (`what` names the refusal expected).
    pub fn panic_message<R>(what: &str, f: impl FnOnce() -> R) -> String {
        let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .err()
            .unwrap_or_else(|| panic!("{what} was not refused"));
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default()
    }
}
