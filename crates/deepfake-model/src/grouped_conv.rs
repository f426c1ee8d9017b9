//! Grouped convolution (ResNeXt's 3x3 with 32 groups) formulated as matrix products on Burn
//! operations, for the GPU backends.
//!
//! burn-cubecl 0.22.1 runs every convolution with `groups != 1` on its direct kernel, even with
//! autotune (its implicit-GEMM paths take `groups == 1` only), and its backward pass on a
//! fallback. The formulations here run the same arithmetic as batched matrix products, which
//! the cubecl backends tune and fuse, forward and backward (autodiff differentiates the pad,
//! slices, concatenation and matmul they are built from). On the CPU backend (flex) the
//! direct path stays: flex's own grouped kernel and the host engine are faster there.
//!
//! Which one runs is chosen per device ([`GroupedConvMethod::for_device`]); `cargo xtask bench
//! gpu` times all three on a GPU and `DEEPFAKE_GROUPED_CONV=direct|im2col|shifted` (or
//! [`set_grouped_conv_override`]) pins one for a run.

use std::sync::atomic::{AtomicU8, Ordering};

use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::ops::PadMode;
use burn::tensor::{Device, Tensor, s};

/// How a grouped convolution is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupedConvMethod {
    /// Burn's own `conv2d` (the backend's kernel: flex's grouped kernel, cubecl's direct one).
    Direct,
    /// One batched matrix product per image: the `kh * kw` shifted, strided views of the
    /// padded input stacked as columns `[B, G, Cg * kh * kw, Ho * Wo]` (im2col), times the
    /// weights `[1, G, Co / G, Cg * kh * kw]`. Needs `kh * kw` times the input's memory.
    Im2col,
    /// The sum over the `kh * kw` taps of one batched product each, `[1, G, Co / G, Cg]` times
    /// the tap's view `[B, G, Cg, Ho * Wo]`: no column buffer, `kh * kw` smaller products.
    ShiftedSum,
}

impl GroupedConvMethod {
    /// The method used on `device`: the override when one is set
    /// ([`set_grouped_conv_override`] or `DEEPFAKE_GROUPED_CONV`), else [`Direct`](Self::Direct)
    /// on host backends (flex) and [`Im2col`](Self::Im2col) on the cubecl backends (wgpu,
    /// vulkan, cuda), where `conv2d` with groups runs a direct kernel.
    pub fn for_device(device: &Device) -> Self {
        if let Some(method) = grouped_conv_override() {
            return method;
        }
        if is_cubecl(device) {
            Self::Im2col
        } else {
            Self::Direct
        }
    }

    /// Parses `direct`, `im2col` or `shifted`.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "direct" => Some(Self::Direct),
            "im2col" => Some(Self::Im2col),
            "shifted" | "shifted-sum" => Some(Self::ShiftedSum),
            _ => None,
        }
    }

    /// The name [`parse`](Self::parse) reads.
    pub fn name(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Im2col => "im2col",
            Self::ShiftedSum => "shifted",
        }
    }

    /// Every method, in a fixed order (for benchmarks and tests).
    pub const ALL: [Self; 3] = [Self::Direct, Self::Im2col, Self::ShiftedSum];
}

/// Whether `device` (autodiff or not) belongs to a cubecl backend. Burn 0.22.1 names no
/// backend in its public device API without the backend's feature, and asking the allocator
/// (`memory_pool_usage`) drains fusion's queue; burn-dispatch's hand-written `Debug` of a
/// device names the variant (`Cube(..)`, `Flex`, `Autodiff { device: Cube(..) .. }`), which
/// is what this reads (Burn is pinned to one version; a unit test covers flex).
fn is_cubecl(device: &Device) -> bool {
    format!("{:?}", device.as_dispatch()).contains("Cube(")
}

/// The override's encoding: 0 = not read yet, 1 = none, 2.. = a method.
static OVERRIDE: AtomicU8 = AtomicU8::new(0);

fn encode(method: Option<GroupedConvMethod>) -> u8 {
    match method {
        None => 1,
        Some(GroupedConvMethod::Direct) => 2,
        Some(GroupedConvMethod::Im2col) => 3,
        Some(GroupedConvMethod::ShiftedSum) => 4,
    }
}

/// The method pinned for this process, if any: [`set_grouped_conv_override`], else the
/// environment variable `DEEPFAKE_GROUPED_CONV` (read once; an unknown value is ignored).
pub fn grouped_conv_override() -> Option<GroupedConvMethod> {
    let mut code = OVERRIDE.load(Ordering::Relaxed);
    if code == 0 {
        let from_env = std::env::var("DEEPFAKE_GROUPED_CONV")
            .ok()
            .and_then(|name| GroupedConvMethod::parse(&name));
        code = encode(from_env);
        OVERRIDE.store(code, Ordering::Relaxed);
    }
    match code {
        2 => Some(GroupedConvMethod::Direct),
        3 => Some(GroupedConvMethod::Im2col),
        4 => Some(GroupedConvMethod::ShiftedSum),
        _ => None,
    }
}

/// Pins the grouped-convolution method for every later forward pass in this process (`None`:
/// back to the per-device default).
pub fn set_grouped_conv_override(method: Option<GroupedConvMethod>) {
    OVERRIDE.store(encode(method), Ordering::Relaxed);
}

/// `conv.forward(x)` computed with `method`: `[B, C_in, H, W]` -> `[B, C_out, H_out, W_out]`.
/// Every method gives the same numbers within float rounding (tested against `conv2d`,
/// values and gradients). Dilation must be 1 and padding explicit and symmetric per axis, as
/// in ResNeXt; anything else runs [`Direct`](GroupedConvMethod::Direct).
pub fn grouped_conv2d(conv: &Conv2d, x: Tensor<4>, method: GroupedConvMethod) -> Tensor<4> {
    let geometry = match Geometry::of(conv, &x) {
        Some(geometry) if method != GroupedConvMethod::Direct => geometry,
        _ => return conv.forward(x),
    };
    let weight = conv.weight.val();
    let out = match method {
        GroupedConvMethod::Im2col => geometry.im2col(x, weight),
        _ => geometry.shifted_sum(x, weight),
    };
    match &conv.bias {
        Some(bias) => out + bias.val().reshape([1, geometry.c_out as i32, 1, 1]),
        None => out,
    }
}

/// The shapes of one grouped convolution.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    batch: usize,
    groups: usize,
    /// Input channels per group.
    c_in_group: usize,
    c_out: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    out: [usize; 2],
}

impl Geometry {
    /// `None` for what the matrix formulations do not cover (dilation, asymmetric padding).
    fn of(conv: &Conv2d, x: &Tensor<4>) -> Option<Self> {
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
            kernel: [kh, kw],
            stride: conv.stride,
            padding: [top, left],
            out: [
                out(height, top, kh, conv.stride[0])?,
                out(width, left, kw, conv.stride[1])?,
            ],
        })
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
