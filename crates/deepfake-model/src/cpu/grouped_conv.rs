//! The grouped 3x3 convolution of the host backbone, the largest single cost of a forward
//! pass in Burn 0.22 flex (see docs/benchmarks.md, "Profile").
//!
//! ResNeXt's 32 groups of 4 to 32 channels have too little work per group for an im2col
//! copy + GEMM. Each group's input is padded once, so that every tap of every output is a
//! contiguous run of the padded plane (outputs in rows of the padded width, the junk columns
//! cropped at the end); a strided convolution first splits the padded input into its
//! row/column phases (stride x stride of them) to keep that true. Then:
//! - with AVX2 + FMA and a multiple of 4 output channels per group, all the group's outputs
//!   are one product of the packed weights with the taps read in place
//!   ([`packed::product_rounded`]: 4 channels x 16 outputs per register tile; about 2x faster
//!   than the direct kernel on the seed preset's layers);
//! - otherwise a direct kernel computes two output channels at a time in blocks of 32
//!   outputs, which the compiler vectorises.
//!
//! Upstream route: both as a path in burn-flex's `conv2d` for `groups > 1` with few channels
//! per group.

use rayon::prelude::*;

use super::packed::{self, MR, PackedWeights};

/// A 3x3 convolution with padding 1, `groups` groups, the same stride on both axes and a
/// bias, followed by ReLU, on one image in host memory.
#[derive(Debug, Clone)]
pub(crate) struct GroupedConv3x3 {
    weight: GroupedWeights,
    /// `[C_out]`.
    pub bias: Vec<f32>,
    pub c_in: usize,
    pub c_out: usize,
    pub groups: usize,
    pub stride: usize,
}

/// The weights in the form the kernel that runs them reads.
#[derive(Debug, Clone)]
enum GroupedWeights {
    /// The `[C_out, C_in / groups * 9]` matrix packed for the register-tile product, used when
    /// the CPU has AVX2 + FMA and each group has a multiple of [`MR`] output channels.
    Packed(PackedWeights),
    /// `[C_out, C_in / groups, 3, 3]`, row-major, for the portable direct kernel.
    Direct(Vec<f32>),
}

impl GroupedConv3x3 {
    /// The convolution with weights `[C_out, C_in / groups, 3, 3]` (row-major) and bias
    /// `[C_out]`.
    ///
    /// # Panics
    /// If the channel counts are not multiples of `groups` or the weights do not match them.
    pub fn new(
        weight: Vec<f32>,
        bias: Vec<f32>,
        [c_in, c_out]: [usize; 2],
        groups: usize,
        stride: usize,
    ) -> Self {
        assert!(
            groups > 0 && c_in % groups == 0 && c_out % groups == 0,
            "grouped conv: channels"
        );
        let taps = c_in / groups * 9;
        assert_eq!(weight.len(), c_out * taps, "grouped conv: weight shape");
        assert_eq!(bias.len(), c_out, "grouped conv: bias shape");
        let weight = if packed::supported() && (c_out / groups).is_multiple_of(MR) {
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
            stride,
        }
    }

    /// Output height and width for an `h x w` input.
    pub fn out_size(&self, [h, w]: [usize; 2]) -> [usize; 2] {
        [(h - 1) / self.stride + 1, (w - 1) / self.stride + 1]
    }

    /// `relu(conv(x) + bias)` on `batch` images stored channel-major: `x` is
    /// `[C_in, B, H, W]`, the result `[C_out, B, H', W']` goes to `out` (resized). `threads >
    /// 1` spreads the groups over the rayon pool.
    pub fn forward_relu(
        &self,
        x: &[f32],
        [batch, h, w]: [usize; 3],
        out: &mut Vec<f32>,
        threads: usize,
    ) {
        assert_eq!(x.len(), self.c_in * batch * h * w, "grouped conv input");
        let [out_h, out_w] = self.out_size([h, w]);
        let shape = Shape {
            batch,
            h,
            w,
            c_in_group: self.c_in / self.groups,
            c_out_group: self.c_out / self.groups,
            stride: self.stride,
            out_h,
            out_w,
        };
        out.resize(self.c_out * batch * out_h * out_w, 0.0);
        let group_len = shape.c_out_group * batch * out_h * out_w;
        // One task per group: per image, the group's padded input is built once and reused
        // by all its output channels.
        let run = |(g, dst): (usize, &mut [f32])| {
            group_conv(&shape, x, self, g, dst);
        };
        if threads > 1 {
            out.par_chunks_mut(group_len).enumerate().for_each(run);
        } else {
            out.chunks_mut(group_len).enumerate().for_each(run);
        }
    }
}

struct Shape {
    batch: usize,
    h: usize,
    w: usize,
    c_in_group: usize,
    c_out_group: usize,
    stride: usize,
    out_h: usize,
    out_w: usize,
}

/// The output channels of group `g` of every image of `x` (`[C_in, B, H, W]`) into `out`
/// (`[C_out/groups, B, H', W']`), ReLU applied.
fn group_conv(s: &Shape, x: &[f32], conv: &GroupedConv3x3, g: usize, out: &mut [f32]) {
    // The group's zero-padded input ([H+2, W+2] per channel) split into its stride x stride
    // phases (padded row % stride, padded column % stride), each [ceil((H+2)/stride),
    // ceil((W+2)/stride)]: tap (ky, kx) of every output then reads one contiguous run of phase
    // (ky % stride, kx % stride) starting at (ky / stride, kx / stride). At stride 1 there is
    // one phase, the padded channel itself.
    let st = s.stride;
    let (ph, pw) = ((s.h + 2).div_ceil(st), (s.w + 2).div_ceil(st));
    let phase_len = ph * pw;
    let channel_len = st * st * phase_len;
    let offsets: [usize; 9] = std::array::from_fn(|t| {
        let (ky, kx) = (t / 3, t % 3);
        ((ky % st) * st + kx % st) * phase_len + (ky / st) * pw + kx / st
    });
    // Slack at the end: the last block of a plane may read past it. The padding stays zero
    // from image to image; every other value is overwritten.
    let mut data = vec![0.0f32; s.c_in_group * channel_len + 2 * pw + CHUNK];
    for image in 0..s.batch {
        pad_group(s, x, g, image, [pw, phase_len, channel_len], &mut data);
        convolve_group(s, conv, g, image, &data, [pw, channel_len], &offsets, out);
    }
}

/// Image `image` of group `g`'s input channels into `data`, padded and split into phases
/// (see [`group_conv`]).
fn pad_group(
    s: &Shape,
    x: &[f32],
    g: usize,
    image: usize,
    [pw, phase_len, channel_len]: [usize; 3],
    data: &mut [f32],
) {
    let st = s.stride;
    for ci in 0..s.c_in_group {
        let channel = g * s.c_in_group + ci;
        let plane = &x[(channel * s.batch + image) * s.h * s.w..][..s.h * s.w];
        let phases = &mut data[ci * channel_len..(ci + 1) * channel_len];
        for (y, row) in plane.chunks_exact(s.w).enumerate() {
            let py = y + 1;
            let phase_row = (py % st) * st * phase_len + (py / st) * pw;
            // Input column x sits at padded column x + 1: phase (x + 1) % st, index
            // (x + 1) / st. At stride 1 that is one copy of the row.
            if st == 1 {
                phases[phase_row + 1..][..s.w].copy_from_slice(row);
                continue;
            }
            for phase_x in 0..st {
                let first_x = (phase_x + st - 1) % st;
                let dst = &mut phases[phase_row + phase_x * phase_len + (first_x + 1) / st..];
                for (d, &value) in dst
                    .iter_mut()
                    .zip(row[first_x.min(s.w)..].iter().step_by(st))
                {
                    *d = value;
                }
            }
        }
    }
}

/// The group's output channels of image `image` from its padded input `data`, into `out`
/// (`[C_out/groups, B, H', W']`).
#[allow(clippy::too_many_arguments)]
fn convolve_group(
    s: &Shape,
    conv: &GroupedConv3x3,
    g: usize,
    image: usize,
    data: &[f32],
    [pw, channel_len]: [usize; 2],
    offsets: &[usize; 9],
    out: &mut [f32],
) {
    let row_width = pw;
    let plane_len = s.out_h * row_width;
    let out_len = s.out_h * s.out_w;
    // Outputs in rows of `row_width` (junk columns past `out_w`), cropped into `out` with the
    // ReLU.
    let crop = |acc: &[f32], acc_stride: usize, first: usize, count: usize, out: &mut [f32]| {
        let planes = (first..first + count).map(|co| (co * s.batch + image) * out_len);
        for (plane, start) in acc.chunks(acc_stride).zip(planes) {
            let dst = &mut out[start..start + out_len];
            for (src_row, dst_row) in plane[..plane_len]
                .chunks_exact(row_width)
                .zip(dst.chunks_exact_mut(s.out_w))
            {
                for (d, &v) in dst_row.iter_mut().zip(src_row) {
                    *d = v.max(0.0);
                }
            }
        }
    };
    let weight = match &conv.weight {
        GroupedWeights::Direct(weight) => weight,
        GroupedWeights::Packed(packed) => {
            // Every output channel of the group at once: one product of the group's weight rows
            // with the taps of the padded planes (row `c * 9 + t` at `c * channel_len +
            // offsets[t]`).
            let rows: Vec<usize> = (0..s.c_in_group)
                .flat_map(|c| offsets.map(|o| c * channel_len + o))
                .collect();
            let stride = plane_len.next_multiple_of(8);
            let mut acc = vec![0.0f32; s.c_out_group * stride];
            let panels = s.c_out_group / MR;
            packed::product_rounded(
                &mut acc,
                stride,
                packed,
                g * panels..(g + 1) * panels,
                &conv.bias,
                false,
                data,
                &rows,
                plane_len,
            );
            crop(&acc, stride, 0, s.c_out_group, out);
            return;
        }
    };
    // Up to `PAIR` output channels at a time.
    let mut acc = vec![0.0f32; PAIR * plane_len];
    let mut co = 0;
    while co < s.c_out_group {
        let count = PAIR.min(s.c_out_group - co);
        let oc = g * s.c_out_group + co;
        let k = &weight[oc * s.c_in_group * 9..][..count * s.c_in_group * 9];
        let acc = &mut acc[..count * plane_len];
        planes_conv(
            acc,
            data,
            channel_len,
            offsets,
            k,
            &conv.bias[oc..oc + count],
        );
        crop(acc, plane_len, co, count, out);
        co += count;
    }
}

/// Output channels computed together: each input value loaded feeds this many multiply-adds
/// (2 measured 18% faster than 1 on the seed preset; 4 was no faster than 2).
const PAIR: usize = 2;

/// Outputs per output channel in a register-resident accumulator block (`PAIR` blocks of
/// this many make 8 AVX registers).
const CHUNK: usize = 32;

/// Up to [`PAIR`] output planes of a 3x3 convolution (`bias.len()` of them, each
/// `acc.len() / bias.len()` values in rows of the input layout's width): `acc[o][i] =
/// bias[o] + sum over input channels c and taps t of k[o][c][t] * data[c * channel_len +
/// offsets[t] + i]`. Works in blocks of [`CHUNK`] outputs per channel held in registers. (The
/// three functions repeat one signature on purpose: the run-time AVX2 dispatch needs a
/// `target_feature` copy, and bundling the arguments in a struct measured ~25% slower on the
/// grouped layers.)
fn planes_conv(
    acc: &mut [f32],
    data: &[f32],
    channel_len: usize,
    offsets: &[usize; 9],
    k: &[f32],
    bias: &[f32],
) {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports the features the function is compiled for.
            unsafe { planes_conv_avx2(acc, data, channel_len, offsets, k, bias) };
            return;
        }
    }
    planes_conv_portable(acc, data, channel_len, offsets, k, bias);
}

#[inline(always)]
fn planes_conv_portable(
    acc: &mut [f32],
    data: &[f32],
    channel_len: usize,
    offsets: &[usize; 9],
    k: &[f32],
    bias: &[f32],
) {
    match bias.len() {
        2 => planes_conv_block::<2>(acc, data, channel_len, offsets, k, bias),
        _ => planes_conv_block::<1>(acc, data, channel_len, offsets, k, bias),
    }
}

/// [`planes_conv`] for exactly `OC` output channels.
#[inline(always)]
fn planes_conv_block<const OC: usize>(
    acc: &mut [f32],
    data: &[f32],
    channel_len: usize,
    offsets: &[usize; 9],
    k: &[f32],
    bias: &[f32],
) {
    let plane_len = acc.len() / OC;
    let channels = k.len() / (9 * OC);
    let mut start = 0;
    while start < plane_len {
        let mut block: [[f32; CHUNK]; OC] = std::array::from_fn(|o| [bias[o]; CHUNK]);
        for c in 0..channels {
            let channel = &data[c * channel_len + start..];
            for (t, &offset) in offsets.iter().enumerate() {
                let src = &channel[offset..][..CHUNK];
                for (o, block) in block.iter_mut().enumerate() {
                    let w = k[(o * channels + c) * 9 + t];
                    for (b, x) in block.iter_mut().zip(src) {
                        *b += w * x;
                    }
                }
            }
        }
        let len = CHUNK.min(plane_len - start);
        for (o, block) in block.iter().enumerate() {
            acc[o * plane_len + start..][..len].copy_from_slice(&block[..len]);
        }
        start += CHUNK;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn planes_conv_avx2(
    acc: &mut [f32],
    data: &[f32],
    channel_len: usize,
    offsets: &[usize; 9],
    k: &[f32],
    bias: &[f32],
) {
    planes_conv_portable(acc, data, channel_len, offsets, k, bias)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::test_support::{host, max_diff};
    use burn::nn::PaddingConfig2d;
    use burn::nn::conv::Conv2dConfig;
    use burn::tensor::activation::relu;
    use burn::tensor::{Device, Distribution, Tensor};

    #[test]
    fn grouped_3x3_equals_burn_conv2d_for_resnext_shapes() {
        let device = Device::flex();
        // (channels, groups, stride, height, width, batch), ResNeXt-like and odd sizes.
        for (channels, groups, stride, h, w, batch) in [
            (128, 32, 1, 14, 14, 1),
            (64, 32, 2, 15, 13, 2),
            (64, 4, 1, 7, 9, 3),
            (96, 32, 2, 8, 8, 1),
            (32, 8, 3, 10, 11, 2),
            (8, 1, 1, 5, 6, 1),
        ] {
            let conv = Conv2dConfig::new([channels, channels], [3, 3])
                .with_groups(groups)
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_bias(true)
                .init(&device);
            let x = Tensor::<4>::random(
                [batch, channels, h, w],
                Distribution::Normal(0.0, 1.0),
                &device,
            );
            // The host kernels take and give [C, B, H, W].
            let expected = host(relu(conv.forward(x.clone())).swap_dims(0, 1));
            let x = host(x.swap_dims(0, 1));
            let host_conv = GroupedConv3x3::new(
                host(conv.weight.val()),
                host(conv.bias.as_ref().unwrap().val()),
                [channels, channels],
                groups,
                stride,
            );
            for threads in [1, 2] {
                let mut got = vec![7.0; 3];
                host_conv.forward_relu(&x, [batch, h, w], &mut got, threads);
                let diff = max_diff(&got, &expected);
                assert!(
                    diff <= 1e-5,
                    "{channels} ch, {groups} groups, stride {stride}, batch {batch}, {threads} \
                     threads: {diff}"
                );
            }
        }
    }
}
