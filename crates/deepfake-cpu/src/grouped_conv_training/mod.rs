//! The grouped convolution of training: forward pass, input gradient and weight gradient on
//! batches as Burn stores them (`[B, C, H, W]`, row-major), on the packed AVX2 kernels of the
//! inference engine ([`crate::packed`]) and the row dots of [`crate::row_dots`]. The model crate
//! wraps them as one flex operation with its own backward pass.
//!
//! burn-flex runs a grouped convolution as an im2col copy and one small matrix product per
//! group and 512 output positions, and differentiates it through Burn's generic backward (a
//! transposed convolution and a convolution whose kernel is the output plane): about 3 GFLOP/s
//! on ResNeXt's 3x3 layers, forward, and less backward. Here every pass reads the padded
//! planes in place, as the inference engine's grouped convolution does:
//! - forward: that convolution itself (zero bias, no activation), one task per image and group;
//! - input gradient: the transposed convolution split into its stride x stride phases (input
//!   rows and columns by their remainder modulo the stride): each phase is a convolution of
//!   the padded output gradient with the taps that reach it, a packed product as in the
//!   forward pass, so no multiply is spent on the zeros a dilated output gradient would hold;
//! - weight gradient: for each output channel and tap, a dot product of the output gradient
//!   (in rows of the padded width) with the tap's run of the padded input, summed over the
//!   batch in `f32`, as PyTorch does.
//!
//! Upstream route: a grouped path in burn-flex's `conv2d` and its backward.

mod input_gradient;
mod weight_gradient;

pub use input_gradient::input_gradient;
pub use weight_gradient::weight_gradient;

use std::ops::Range;

use crate::activation::Activation;
use crate::grouped_conv::{BatchLayout, GroupedConv, Shape};
use crate::packed::MR;
use crate::{has_avx2_fma, window_out_size};

/// A grouped 2-D convolution without bias: images `[B, C_in, H, W]`, weights
/// `[C_out, C_in / groups, k, k]`, the same stride and zero padding on both axes, output
/// `[B, C_out, H', W']` ([`out_size`](Self::out_size)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupedConvGeometry {
    /// Images in the batch.
    pub batch: usize,
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Groups: output channel `o` sees input channels of group `o / (C_out / groups)` only.
    pub groups: usize,
    /// Input height.
    pub height: usize,
    /// Input width.
    pub width: usize,
    /// Kernel height and width.
    pub kernel: usize,
    /// Step between output positions, both axes.
    pub stride: usize,
    /// Zeros added on each side of both axes.
    pub padding: usize,
}

impl GroupedConvGeometry {
    /// Whether the kernels here run this convolution's forward pass and weight gradient: a
    /// CPU with AVX2 and FMA, output channels per group a multiple of 4 (a register tile's
    /// rows), padding below the kernel size (so a kernel of at least 1), a stride of at least
    /// 1, a non-empty batch, and images at least a kernel wide and high once padded.
    /// The input gradient needs more
    /// ([`input_gradient_is_supported`](Self::input_gradient_is_supported)).
    pub fn is_supported(&self) -> bool {
        has_avx2_fma()
            && self.per_group(self.c_in).is_some()
            && self
                .per_group(self.c_out)
                .is_some_and(|channels| channels.is_multiple_of(MR))
            && self.batch > 0
            && self.stride > 0
            && self.padding < self.kernel
            && self.height + 2 * self.padding >= self.kernel
            && self.width + 2 * self.padding >= self.kernel
    }

    /// Whether the kernels here run the input gradient too: [`is_supported`](Self::is_supported)
    /// and input channels per group a multiple of 4 (the transposed convolution's output
    /// channels). A network's first convolution (3 input channels) runs its forward pass and
    /// weight gradient here, and needs no input gradient.
    pub fn input_gradient_is_supported(&self) -> bool {
        self.is_supported() && self.c_in_group().is_multiple_of(MR)
    }

    /// `channels / groups` where the groups divide `channels` (both non-zero: a multiple of 0
    /// groups is 0 channels, which `channels > 0` refuses).
    fn per_group(&self, channels: usize) -> Option<usize> {
        (channels > 0 && channels.is_multiple_of(self.groups)).then(|| channels / self.groups)
    }

    /// Output height and width.
    pub fn out_size(&self) -> [usize; 2] {
        window_out_size(
            [self.height, self.width],
            [self.kernel, self.stride, self.padding],
        )
    }

    /// Values of the input (and of its gradient).
    pub fn input_len(&self) -> usize {
        self.batch * self.c_in * self.height * self.width
    }

    /// Values of the output (and of its gradient).
    pub fn output_len(&self) -> usize {
        let [out_h, out_w] = self.out_size();
        self.batch * self.c_out * out_h * out_w
    }

    /// Values of the weights (and of their gradient).
    pub fn weight_len(&self) -> usize {
        self.c_out * self.c_in / self.groups * self.kernel * self.kernel
    }

    fn c_in_group(&self) -> usize {
        self.c_in / self.groups
    }

    fn c_out_group(&self) -> usize {
        self.c_out / self.groups
    }

    /// One image's convolution within a group, as the inference kernels take it.
    fn shape(&self) -> Shape {
        let [out_h, out_w] = self.out_size();
        Shape {
            h: self.height,
            w: self.width,
            c_in_group: self.c_in_group(),
            c_out_group: self.c_out_group(),
            kernel: self.kernel,
            stride: self.stride,
            padding: self.padding,
            out_h,
            out_w,
        }
    }

    /// Output-gradient channels `channels` of group `group` (channel `group * C_out / G + c`
    /// for `c` in `channels`) of image `image` (`dy` `[B, C_out, H', W']`) into `dst`, one
    /// plane every `plane_stride` values, in rows of `row_width` values, the first row's first
    /// value at `start` in each plane. What `dst` holds besides (padding, junk columns) stays
    /// as it is.
    fn lay_output_gradient(
        &self,
        dy: &[f32],
        [image, group]: [usize; 2],
        channels: Range<usize>,
        dst: &mut [f32],
        [plane_stride, row_width, start]: [usize; 3],
    ) {
        let [out_h, out_w] = self.out_size();
        let plane = out_h * out_w;
        let first = image * self.c_out + group * self.c_out_group() + channels.start;
        let planes = dy[first * plane..][..channels.len() * plane].chunks_exact(plane);
        for (plane, dst) in planes.zip(dst.chunks_mut(plane_stride)) {
            for (r, row) in plane.chunks_exact(out_w).enumerate() {
                dst[start + r * row_width..][..out_w].copy_from_slice(row);
            }
        }
    }

    /// Panics unless `supported` (the pass's support test) holds and the slices have the
    /// lengths `lens` (name, length, expected length).
    fn check(&self, supported: bool, lens: [(&str, usize, usize); 2]) {
        assert!(
            supported,
            "grouped conv training: no kernel here for {self:?}"
        );
        for (name, len, expected) in lens {
            assert_eq!(len, expected, "grouped conv training: {name} length");
        }
    }
}

/// The convolution: `x` `[B, C_in, H, W]`, `weight` `[C_out, C_in / groups, k, k]` ->
/// `[B, C_out, H', W']`, all threads of the rayon pool.
///
/// # Panics
/// If the geometry is not [supported](GroupedConvGeometry::is_supported) or a slice's length
/// does not match it.
pub fn forward(x: &[f32], weight: &[f32], geometry: &GroupedConvGeometry) -> Vec<f32> {
    let g = geometry;
    g.check(
        g.is_supported(),
        [
            ("input", x.len(), g.input_len()),
            ("weight", weight.len(), g.weight_len()),
        ],
    );
    let conv = GroupedConv::new(
        weight.to_vec(),
        vec![0.0; g.c_out],
        [g.c_in, g.c_out],
        g.groups,
        [g.kernel, g.stride, g.padding],
    );
    let mut out = Vec::new();
    conv.forward(
        x,
        [g.batch, g.height, g.width],
        BatchLayout::ImageMajor,
        &mut out,
        Activation::Identity,
        rayon::current_num_threads(),
    );
    out
}

#[cfg(test)]
mod tests;
