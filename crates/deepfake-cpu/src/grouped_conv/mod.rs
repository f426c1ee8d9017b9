//! The grouped convolutions of the host backbone (ResNeXt's 3x3 with 32 groups of 4 to 32
//! channels, the largest single cost of a forward pass in Burn 0.22 flex, see
//! docs/benchmarks.md, "Profile"), and the stem's 7x7 convolution as the one-group case.
//!
//! A group has too little work for an im2col copy + GEMM. Each group's input is padded once,
//! so that every tap of every output is a contiguous run of the padded plane (outputs in rows
//! of the padded width, the junk columns cropped at the end); a strided convolution first
//! splits the padded input into its row/column phases (stride x stride of them) to keep that
//! true. Then:
//! - with AVX2 + FMA and a multiple of 4 output channels per group, all the group's outputs
//!   are one product of the packed weights with the taps read in place
//!   ([`packed::product_rounded`]: 4 channels x 16 outputs per register tile; about 2x faster
//!   than the direct kernel on the seed preset's 3x3 layers);
//! - otherwise, for 3x3 kernels, a direct kernel computes two output channels at a time in
//!   blocks of 32 outputs, which the compiler vectorises.
//!
//! The inference engine runs it on channel-major batches (`[C, B, H, W]`); flex training's
//! forward pass ([`crate::grouped_conv_training`]) on image-major ones (`[B, C, H, W]`).
//!
//! Upstream route: both as a path in burn-flex's `conv2d` for `groups > 1` with few channels
//! per group.

use std::ops::Range;

use rayon::prelude::*;

mod direct;
mod layout;

use super::activation::Activation;
use super::packed::{self, MR, PackedWeights};
use super::{has_avx2_fma, window_out_size};
use direct::{PAIR, planes_conv};
pub(crate) use layout::{BatchLayout, PaddedLayout, Planes, Shape, pad_group};

/// A `k x k` convolution with `groups` groups, the same stride and zero padding on both
/// axes and a bias, followed by ReLU, on images in host memory.
#[derive(Debug, Clone)]
pub(crate) struct GroupedConv {
    weight: GroupedWeights,
    /// `[C_out]`.
    pub bias: Vec<f32>,
    pub c_in: usize,
    pub c_out: usize,
    pub groups: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
}

/// The weights in the form the kernel that runs them reads.
#[derive(Debug, Clone)]
enum GroupedWeights {
    /// The `[C_out, C_in / groups * k * k]` matrix packed for the register-tile product, used
    /// when the CPU has AVX2 + FMA and each group has a multiple of [`MR`] output channels.
    Packed(PackedWeights),
    /// `[C_out, C_in / groups, 3, 3]`, row-major, for the portable direct kernel.
    Direct(Vec<f32>),
}

impl GroupedConv {
    /// Whether this CPU runs the packed product for groups of `c_out_group` output channels
    /// (AVX2 + FMA, a multiple of [`MR`]).
    pub fn packs(c_out_group: usize) -> bool {
        has_avx2_fma() && c_out_group.is_multiple_of(MR)
    }

    /// Whether a kernel here runs a `kernel x kernel` convolution with `c_out_group` output
    /// channels per group: the packed product, or the direct kernel (3x3 only).
    pub fn supports(c_out_group: usize, kernel: usize) -> bool {
        kernel == 3 || Self::packs(c_out_group)
    }

    /// The convolution with weights `[C_out, C_in / groups, k, k]` (row-major) and bias
    /// `[C_out]`.
    ///
    /// # Panics
    /// If the channel counts are not multiples of `groups`, the weights do not match them,
    /// the padding is not below the kernel size, or no kernel here runs it
    /// ([`Self::supports`]).
    pub fn new(
        weight: Vec<f32>,
        bias: Vec<f32>,
        [c_in, c_out]: [usize; 2],
        groups: usize,
        [kernel, stride, padding]: [usize; 3],
    ) -> Self {
        assert!(
            groups > 0 && c_in % groups == 0 && c_out % groups == 0,
            "grouped conv: channels"
        );
        assert!(
            kernel > 0 && stride > 0 && padding < kernel,
            "grouped conv: geometry"
        );
        let taps = c_in / groups * kernel * kernel;
        assert_eq!(weight.len(), c_out * taps, "grouped conv: weight shape");
        assert_eq!(bias.len(), c_out, "grouped conv: bias shape");
        assert!(
            Self::supports(c_out / groups, kernel),
            "grouped conv: no kernel for {kernel}x{kernel} on this CPU"
        );
        let weight = if Self::packs(c_out / groups) {
            GroupedWeights::Packed(PackedWeights::new(&weight, c_out, taps))
        } else {
            GroupedWeights::Direct(weight)
        };
        Self {
            weight,
            bias,
            c_in,
            c_out,
            groups,
            kernel,
            stride,
            padding,
        }
    }

    /// Output height and width for an `h x w` input.
    pub fn out_size(&self, size: [usize; 2]) -> [usize; 2] {
        window_out_size(size, [self.kernel, self.stride, self.padding])
    }

    /// `activation(conv(x) + bias)` on `batch` images stored as `layout` says: `x` holds
    /// `C_in` channels of `h x w` per image, the result (`C_out` channels of `H' x W'` per
    /// image, the same layout) goes to `out` (resized). `threads > 1` spreads the work over
    /// the rayon pool: the groups (one group: its output channels) for channel-major batches,
    /// the (image, group) pairs for image-major ones.
    ///
    /// # Panics
    /// If `x` does not hold `batch` images of `C_in` channels of `h x w`, or an image is
    /// smaller than the kernel (bugs in the caller).
    pub fn forward(
        &self,
        x: &[f32],
        [batch, h, w]: [usize; 3],
        layout: BatchLayout,
        out: &mut Vec<f32>,
        activation: Activation<'_>,
        threads: usize,
    ) {
        assert_eq!(x.len(), self.c_in * batch * h * w, "grouped conv input");
        assert!(
            h + 2 * self.padding >= self.kernel && w + 2 * self.padding >= self.kernel,
            "grouped conv: image smaller than the kernel"
        );
        let [out_h, out_w] = self.out_size([h, w]);
        let shape = Shape {
            h,
            w,
            c_in_group: self.c_in / self.groups,
            c_out_group: self.c_out / self.groups,
            kernel: self.kernel,
            stride: self.stride,
            padding: self.padding,
            out_h,
            out_w,
        };
        let padded = PaddedLayout::new(&shape);
        let out_len = out_h * out_w;
        out.resize(self.c_out * batch * out_len, 0.0);
        let cog = shape.c_out_group;
        let input = Planes {
            layout,
            channels: self.c_in,
            batch,
            len: h * w,
        };
        let task_channels = self.task_channels(layout, threads);
        let chunk = match layout {
            BatchLayout::ChannelMajor => task_channels * batch * out_len,
            BatchLayout::ImageMajor => cog * out_len,
        };
        let run = |(task, dst): (usize, &mut [f32])| {
            let task = match layout {
                BatchLayout::ChannelMajor => {
                    let first = task * task_channels;
                    let (g, first) = (first / cog, first % cog);
                    GroupTask {
                        group: g,
                        channels: first..(first + task_channels).min(cog),
                        images: 0..batch,
                        out_channel_stride: batch * out_len,
                        out_image_stride: out_len,
                    }
                }
                BatchLayout::ImageMajor => GroupTask {
                    group: task % self.groups,
                    channels: 0..cog,
                    images: task / self.groups..task / self.groups + 1,
                    out_channel_stride: out_len,
                    out_image_stride: 0,
                },
            };
            group_conv(&shape, &padded, x, &input, self, activation, &task, dst);
        };
        if threads > 1 {
            out.par_chunks_mut(chunk).enumerate().for_each(run);
        } else {
            out.chunks_mut(chunk).enumerate().for_each(run);
        }
    }

    /// Output channels of a group that one parallel task computes. Channel-major: a whole
    /// group per task, padding the group's input once per image for all its output channels;
    /// a single group on several threads is split by output channels instead, in whole
    /// register-tile panels ([`MR`]) where the weights are packed. Image-major: a whole group
    /// (one task per image and group, whose outputs are contiguous there).
    fn task_channels(&self, layout: BatchLayout, threads: usize) -> usize {
        let cog = self.c_out / self.groups;
        match (layout, &self.weight) {
            (BatchLayout::ChannelMajor, GroupedWeights::Packed(_))
                if self.groups == 1 && threads > 1 =>
            {
                (cog / MR).div_ceil(threads) * MR
            }
            _ => cog,
        }
    }
}

/// One task's share of a convolution: output channels `channels` (relative to the group) of
/// group `group` for images `images`, written to a slice where output channel `c` (relative
/// to `channels.start`) of image `b` starts at `c * out_channel_stride + b *
/// out_image_stride` (strides in values; a task of one image, whose slice holds that image
/// alone, has an image stride of 0).
struct GroupTask {
    group: usize,
    channels: Range<usize>,
    images: Range<usize>,
    out_channel_stride: usize,
    out_image_stride: usize,
}

/// `task`'s outputs of `x` (planes `input`) into `out`, `activation` applied.
#[allow(clippy::too_many_arguments)]
fn group_conv(
    s: &Shape,
    layout: &PaddedLayout,
    x: &[f32],
    input: &Planes,
    conv: &GroupedConv,
    activation: Activation<'_>,
    task: &GroupTask,
    out: &mut [f32],
) {
    SCRATCH.with_borrow_mut(|(data, acc)| {
        // The padding stays zero from image to image; every other value is overwritten.
        data.clear();
        data.resize(layout.len, 0.0);
        for image in task.images.clone() {
            pad_group(s, layout, x, input, task.group, image, data);
            convolve_group(s, layout, conv, activation, task, image, data, acc, out);
        }
    });
}

thread_local! {
    /// Each thread's padded input and uncropped outputs, kept from call to call: the buffers
    /// of a large plane (MTCNN's first pyramid level: 3.5 MB) would otherwise be fresh pages,
    /// faulted in and cleared by the kernel, on every call.
    static SCRATCH: std::cell::RefCell<(Vec<f32>, Vec<f32>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// `task`'s output channels for image `image`, from its padded input `data`, into `out`
/// (where `task` says); `acc` holds the uncropped outputs (reused from image to image).
#[allow(clippy::too_many_arguments)]
fn convolve_group(
    s: &Shape,
    layout: &PaddedLayout,
    conv: &GroupedConv,
    activation: Activation<'_>,
    task: &GroupTask,
    image: usize,
    data: &[f32],
    acc: &mut Vec<f32>,
    out: &mut [f32],
) {
    let channels = task.channels.clone();
    let row_width = layout.row_width;
    let plane_len = s.out_h * row_width;
    let out_len = s.out_h * s.out_w;
    let first_channel = task.group * s.c_out_group + channels.start;
    let image_start = image * task.out_image_stride;
    // Outputs (bias included) in rows of `row_width` (junk columns past `out_w`), cropped
    // into `out` with the activation; `first` counts from `channels.start`.
    let crop = |acc: &[f32], acc_stride: usize, first: usize, count: usize, out: &mut [f32]| {
        let planes =
            (first..first + count).map(|co| (co, co * task.out_channel_stride + image_start));
        for (plane, (co, start)) in acc.chunks(acc_stride).zip(planes) {
            let dst = &mut out[start..start + out_len];
            for (src_row, dst_row) in plane[..plane_len]
                .chunks_exact(row_width)
                .zip(dst.chunks_exact_mut(s.out_w))
            {
                activation.write(first_channel + co, &src_row[..s.out_w], dst_row);
            }
        }
    };
    let weight = match &conv.weight {
        GroupedWeights::Direct(weight) => weight,
        GroupedWeights::Packed(packed) => {
            // All the channels at once: one product of their weight rows with the taps of
            // the padded planes.
            let stride = plane_len.next_multiple_of(8);
            acc.resize(channels.len() * stride, 0.0);
            packed::product_rounded(
                acc,
                stride,
                packed,
                first_channel / MR..(first_channel + channels.len()) / MR,
                &conv.bias,
                false,
                data,
                &layout.rows,
                plane_len,
            );
            crop(acc, stride, 0, channels.len(), out);
            return;
        }
    };
    let offsets: &[usize; 9] = layout
        .taps
        .as_slice()
        .try_into()
        .expect("the direct kernel is built for 3x3 only");
    // Up to `PAIR` output channels at a time.
    acc.resize(PAIR * plane_len, 0.0);
    let mut co = 0;
    while co < channels.len() {
        let count = PAIR.min(channels.len() - co);
        let oc = first_channel + co;
        let k = &weight[oc * s.c_in_group * 9..][..count * s.c_in_group * 9];
        let acc = &mut acc[..count * plane_len];
        planes_conv(
            acc,
            data,
            layout.channel_len,
            offsets,
            k,
            &conv.bias[oc..oc + count],
        );
        crop(acc, plane_len, co, count, out);
        co += count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{host, max_diff};
    use burn::nn::PaddingConfig2d;
    use burn::nn::conv::Conv2dConfig;
    use burn::tensor::activation::relu;
    use burn::tensor::{Device, Distribution, Tensor};

    #[test]
    fn grouped_conv_equals_burn_conv2d_for_resnext_shapes() {
        let device = Device::flex();
        // (C_in, C_out, groups, [kernel, stride, padding], height, width, batch): ResNeXt's
        // grouped 3x3 and its 7x7 stem, with odd sizes.
        for (c_in, c_out, groups, [kernel, stride, padding], h, w, batch) in [
            (128, 128, 32, [3, 1, 1], 14, 14, 1),
            (64, 64, 32, [3, 2, 1], 15, 13, 2),
            (64, 64, 4, [3, 1, 1], 7, 9, 3),
            (96, 96, 32, [3, 2, 1], 8, 8, 1),
            (32, 32, 8, [3, 3, 1], 10, 11, 2),
            (8, 8, 1, [3, 1, 1], 5, 6, 1),
            (3, 16, 1, [7, 2, 3], 21, 18, 2),
            (3, 8, 1, [5, 1, 2], 9, 7, 1),
        ] {
            let conv = Conv2dConfig::new([c_in, c_out], [kernel, kernel])
                .with_groups(groups)
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(
                    padding, padding, padding, padding,
                ))
                .with_bias(true)
                .init(&device);
            let x =
                Tensor::<4>::random([batch, c_in, h, w], Distribution::Normal(0.0, 1.0), &device);
            // The host kernels take and give [C, B, H, W].
            let expected = host(relu(conv.forward(x.clone())).swap_dims(0, 1));
            let x = host(x.swap_dims(0, 1));
            if !GroupedConv::supports(c_out / groups, kernel) {
                // Only the packed product runs kernels other than 3x3.
                assert!(kernel != 3 && !has_avx2_fma());
                continue;
            }
            let host_conv = GroupedConv::new(
                host(conv.weight.val()),
                host(conv.bias.as_ref().unwrap().val()),
                [c_in, c_out],
                groups,
                [kernel, stride, padding],
            );
            for threads in [1, 2, 3] {
                let mut got = vec![7.0; 3];
                host_conv.forward(
                    &x,
                    [batch, h, w],
                    BatchLayout::ChannelMajor,
                    &mut got,
                    Activation::Relu,
                    threads,
                );
                let diff = max_diff(&got, &expected);
                assert!(
                    diff <= 1e-5,
                    "{c_in}->{c_out}, {groups} groups, {kernel}x{kernel} stride {stride}, \
                     batch {batch}, {threads} threads: {diff}"
                );
            }
        }
    }

    #[test]
    fn a_single_packed_group_is_split_by_output_channels_over_the_threads() {
        // 16 output channels a group: 4 register-tile panels of MR = 4.
        let conv = |groups: usize| {
            let channels = 16 * groups;
            let weight = vec![0.1; channels * 16 * 9];
            GroupedConv::new(
                weight,
                vec![0.0; channels],
                [channels; 2],
                groups,
                [3, 1, 1],
            )
        };
        let (one_group, two_groups) = (conv(1), conv(2));
        let split = |channels: usize| if GroupedConv::packs(16) { channels } else { 16 };
        let channel_major =
            |conv: &GroupedConv, threads| conv.task_channels(BatchLayout::ChannelMajor, threads);
        assert_eq!(channel_major(&one_group, 1), 16);
        // ceil(4 panels / threads) panels a task.
        assert_eq!(channel_major(&one_group, 2), split(8));
        assert_eq!(channel_major(&one_group, 3), split(8));
        assert_eq!(channel_major(&one_group, 5), split(4));
        // Image-major batches and several groups: a whole group a task.
        assert_eq!(one_group.task_channels(BatchLayout::ImageMajor, 3), 16);
        assert_eq!(channel_major(&two_groups, 3), 16);
    }
}
