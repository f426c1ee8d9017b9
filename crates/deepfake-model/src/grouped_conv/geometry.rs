//! The shapes of one grouped convolution and the matrix-product formulations computed from
//! them.

use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::module::conv2d;
use burn::tensor::ops::{ConvOptions, PadMode};
use burn::tensor::{Tensor, s};

use super::GroupedConvMethod;
use crate::flex_grouped_conv::{grouped_conv2d_on_host, host_geometry};

/// The shapes of one grouped convolution (also the key its measured method is cached under).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Geometry {
    pub(crate) batch: usize,
    groups: usize,
    /// Input channels per group.
    c_in_group: usize,
    c_out: usize,
    /// Input height and width.
    input: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    out: [usize; 2],
}

impl Geometry {
    /// `None` for what the matrix formulations do not cover (dilation, asymmetric padding).
    pub(crate) fn of(conv: &Conv2d, x: &Tensor<4>) -> Option<Self> {
        let [batch, c_in, height, width] = x.dims();
        let [c_out, c_in_group, kh, kw] = conv.weight.dims();
        if conv.dilation != [1, 1] || c_in != c_in_group * conv.groups {
            return None;
        }
        let [top, left, bottom, right] = match conv.padding {
            PaddingConfig2d::Valid => [0, 0, 0, 0],
            PaddingConfig2d::Explicit(top, left, bottom, right) => [top, left, bottom, right],
            PaddingConfig2d::Same => return None,
        };
        if top != bottom || left != right {
            return None;
        }
        let out = |size: usize, pad: usize, k: usize, stride: usize| {
            (size + 2 * pad)
                .checked_sub(k)
                .map(|span| span / stride + 1)
        };
        Some(Self {
            batch,
            groups: conv.groups,
            c_in_group,
            c_out,
            input: [height, width],
            kernel: [kh, kw],
            stride: conv.stride,
            padding: [top, left],
            out: [
                out(height, top, kh, conv.stride[0])?,
                out(width, left, kw, conv.stride[1])?,
            ],
        })
    }

    /// `x` `[B, C_in, H, W]` convolved with `weight` `[C_out, C_in / G, kh, kw]` plus `bias`
    /// `[C_out]` by `method`: `[B, C_out, H_out, W_out]`. `Direct` is Burn's `conv2d` with the
    /// options `Conv2d::forward` builds for these shapes.
    pub(crate) fn compute(
        &self,
        x: Tensor<4>,
        weight: Tensor<4>,
        bias: Option<Tensor<1>>,
        method: GroupedConvMethod,
    ) -> Tensor<4> {
        match method {
            GroupedConvMethod::Direct => {
                let options = ConvOptions::new(self.stride, self.padding, [1, 1], self.groups);
                conv2d(x, weight, bias, options)
            }
            GroupedConvMethod::Host => {
                match host_geometry(&x, &weight, self.groups, self.stride, self.padding) {
                    Some(geometry) => {
                        self.add_bias(grouped_conv2d_on_host(x, weight, geometry), bias)
                    }
                    None => self.compute(x, weight, bias, GroupedConvMethod::Direct),
                }
            }
            GroupedConvMethod::Im2col => self.add_bias(self.im2col(x, weight), bias),
            GroupedConvMethod::ShiftedSum => self.add_bias(self.shifted_sum(x, weight), bias),
        }
    }

    /// `out` `[B, C_out, H_out, W_out]` plus `bias` `[C_out]` per channel.
    fn add_bias(&self, out: Tensor<4>, bias: Option<Tensor<1>>) -> Tensor<4> {
        match bias {
            Some(bias) => out + bias.reshape([1, self.c_out as i32, 1, 1]),
            None => out,
        }
    }

    /// `batch B: C_inxHxW -> C_outxH_outxW_out, khxkw, G groups, stride SxS`: how the
    /// measurements name a shape.
    pub(crate) fn describe(&self) -> String {
        let [ho, wo] = self.out;
        let [sh, sw] = self.stride;
        let [kh, kw] = self.kernel;
        let [hi, wi] = self.input;
        let c_in = self.c_in_group * self.groups;
        format!(
            "batch {}: {c_in}x{hi}x{wi} -> {}x{ho}x{wo}, {kh}x{kw}, {} groups, stride {sh}x{sw}",
            self.batch, self.c_out, self.groups
        )
    }

    /// The input zero-padded, then the view each tap `(i, j)` reads:
    /// `[B, C_in, H_out, W_out]` with stride steps.
    fn taps(&self, x: Tensor<4>) -> Vec<Tensor<4>> {
        let [ph, pw] = self.padding;
        let padded = if ph == 0 && pw == 0 {
            x
        } else {
            x.pad((pw, pw, ph, ph), PadMode::Constant(0.0))
        };
        let [kh, kw] = self.kernel;
        let [sh, sw] = self.stride;
        let [ho, wo] = self.out;
        let mut taps = Vec::with_capacity(kh * kw);
        for i in 0..kh {
            for j in 0..kw {
                let rows = i..i + sh * (ho - 1) + 1;
                let cols = j..j + sw * (wo - 1) + 1;
                taps.push(
                    padded
                        .clone()
                        .slice(s![.., .., rows;sh as isize, cols;sw as isize]),
                );
            }
        }
        taps
    }

    /// Columns `[B, G, Cg * K, P]` (channel-major, then tap, as the weight's memory order),
    /// one product with the weights `[1, G, Co / G, Cg * K]`.
    fn im2col(&self, x: Tensor<4>, weight: Tensor<4>) -> Tensor<4> {
        let (b, g, cg) = (self.batch, self.groups, self.c_in_group);
        let taps_count = self.kernel[0] * self.kernel[1];
        let positions = self.out[0] * self.out[1];
        let taps: Vec<Tensor<5>> = self
            .taps(x)
            .into_iter()
            .map(|tap| tap.reshape([b, g, cg, 1, positions]))
            .collect();
        let columns = Tensor::cat(taps, 3).reshape([b, g, cg * taps_count, positions]);
        let weight = weight.reshape([1, g, self.c_out / g, cg * taps_count]);
        self.as_image(weight.matmul(columns))
    }

    /// The sum over taps of `[1, G, Co / G, Cg] x [B, G, Cg, P]`.
    fn shifted_sum(&self, x: Tensor<4>, weight: Tensor<4>) -> Tensor<4> {
        let (b, g, cg) = (self.batch, self.groups, self.c_in_group);
        let positions = self.out[0] * self.out[1];
        let [_, kw] = self.kernel;
        let c_out_group = self.c_out / g;
        let mut sum: Option<Tensor<4>> = None;
        for (index, tap) in self.taps(x).into_iter().enumerate() {
            let (i, j) = (index / kw, index % kw);
            let tap_weight = weight
                .clone()
                .slice(s![.., .., i..i + 1, j..j + 1])
                .reshape([1, g, c_out_group, cg]);
            let product = tap_weight.matmul(tap.reshape([b, g, cg, positions]));
            sum = Some(match sum {
                Some(sum) => sum + product,
                None => product,
            });
        }
        let sum = sum.expect("a convolution kernel has at least one tap");
        self.as_image(sum)
    }

    /// `[B, G, Co / G, P]` -> `[B, Co, H_out, W_out]`.
    fn as_image(&self, products: Tensor<4>) -> Tensor<4> {
        let [ho, wo] = self.out;
        products.reshape([self.batch, self.c_out, ho, wo])
    }
}
