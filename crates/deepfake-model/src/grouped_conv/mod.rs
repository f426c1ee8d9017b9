//! Grouped convolution (ResNeXt's 3x3 with 32 groups) formulated as matrix products on Burn
//! operations, for the GPU backends, and the choice of formulation by measurement.
//!
//! burn-cubecl 0.22.1 runs every convolution with `groups != 1` on its direct kernel, even with
//! autotune (its implicit-GEMM paths take `groups == 1` only), and its backward pass on a
//! fallback. The formulations here run the same arithmetic as batched matrix products, which
//! the cubecl backends tune and fuse, forward and backward (autodiff differentiates the pad,
//! slices, concatenation and matmul they are built from). On the CPU backend (flex) the
//! host kernels run it ([`GroupedConvMethod::Host`], `crate::flex_grouped_conv`): faster
//! there than flex's own grouped kernel and than either formulation.
//!
//! Which one runs is measured, not guessed: on a cubecl device the first forward pass of each
//! convolution shape times all three formulations there (forward, and backward too when
//! training; see [`tuning`]) and the fastest runs from then on, as Burn's own autotune does for
//! its kernels. `DEEPFAKE_GROUPED_CONV=direct|host|im2col|shifted` (or
//! [`set_grouped_conv_override`]) pins one for a run instead; `cargo xtask bench gpu` times each
//! one pinned and reports what the measurement picked per shape. The pin covers the blocks'
//! grouped 3x3s only: ResNeXt's stem always asks for [`GroupedConvMethod::Host`] (the host
//! kernels on flex, Burn's `conv2d` elsewhere).

mod geometry;
pub mod tuning;

use std::sync::atomic::{AtomicU8, Ordering};

use burn::nn::conv::Conv2d;
use burn::tensor::{Device, Tensor};

use crate::device_kind::{is_cubecl, is_flex};
use geometry::Geometry;
pub use tuning::{GroupedConvMeasurement, grouped_conv_measurements};

/// How a grouped convolution is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupedConvMethod {
    /// Burn's own `conv2d` (the backend's kernel: flex's grouped kernel, cubecl's direct one).
    Direct,
    /// The host CPU kernels of `deepfake_cpu::grouped_conv_training` as one flex operation
    /// with its own backward pass ([`crate::flex_grouped_conv`]); flex only, where those
    /// kernels run the shape (AVX2 + FMA, output channels per group multiples of 4), else
    /// `Direct`. ResNeXt's stem (one group) takes it too.
    Host,
    /// One batched matrix product per image: the `kh * kw` shifted, strided views of the
    /// padded input stacked as columns `[B, G, Cg * kh * kw, Ho * Wo]` (im2col), times the
    /// weights `[1, G, Co / G, Cg * kh * kw]`. Needs `kh * kw` times the input's memory.
    Im2col,
    /// The sum over the `kh * kw` taps of one batched product each, `[1, G, Co / G, Cg]` times
    /// the tap's view `[B, G, Cg, Ho * Wo]`: no column buffer, `kh * kw` smaller products.
    ShiftedSum,
}

impl GroupedConvMethod {
    /// The method every grouped convolution on `device` runs without measuring: the override
    /// when one is set ([`set_grouped_conv_override`] or `DEEPFAKE_GROUPED_CONV`), else
    /// [`Host`](Self::Host) on flex and [`Direct`](Self::Direct) on other host backends (the
    /// ONNX export's capture device). `None` on the cubecl backends (wgpu, vulkan, cuda):
    /// there each shape's method is measured ([`select`](Self::select)).
    pub fn pinned_for_device(device: &Device) -> Option<Self> {
        if let Some(method) = grouped_conv_override() {
            return Some(method);
        }
        if is_cubecl(device) {
            None
        } else if is_flex(device) {
            Some(Self::Host)
        } else {
            Some(Self::Direct)
        }
    }

    /// The method for `conv` applied to `x` `[B, C_in, H, W]` on `x`'s device:
    /// [`pinned_for_device`](Self::pinned_for_device) where it names one, else the fastest of
    /// [`ALL`](Self::ALL) for this shape as measured on this device at its first use
    /// ([`tuning`]; forward and backward when `x` is on an autodiff device).
    pub fn select(conv: &Conv2d, x: &Tensor<4>) -> Self {
        let device = x.device();
        if let Some(method) = Self::pinned_for_device(&device) {
            return method;
        }
        match Geometry::of(conv, x) {
            Some(geometry) => tuning::fastest(&geometry, conv, x),
            None => Self::Direct,
        }
    }

    /// Parses `direct`, `host`, `im2col` or `shifted`.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "direct" => Some(Self::Direct),
            "host" => Some(Self::Host),
            "im2col" => Some(Self::Im2col),
            "shifted" | "shifted-sum" => Some(Self::ShiftedSum),
            _ => None,
        }
    }

    /// The name [`parse`](Self::parse) reads.
    pub fn name(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Host => "host",
            Self::Im2col => "im2col",
            Self::ShiftedSum => "shifted",
        }
    }

    /// The methods of the cubecl backends, measured there per shape, in a fixed order (for
    /// the measurement, benchmarks and tests). [`Host`](Self::Host) is flex's only.
    pub const ALL: [Self; 3] = [Self::Direct, Self::Im2col, Self::ShiftedSum];
}

/// The override's encoding: 0 = not read yet, 1 = none, 2.. = a method.
static OVERRIDE: AtomicU8 = AtomicU8::new(0);

fn encode(method: Option<GroupedConvMethod>) -> u8 {
    match method {
        None => 1,
        Some(GroupedConvMethod::Direct) => 2,
        Some(GroupedConvMethod::Im2col) => 3,
        Some(GroupedConvMethod::ShiftedSum) => 4,
        Some(GroupedConvMethod::Host) => 5,
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
        5 => Some(GroupedConvMethod::Host),
        _ => None,
    }
}

/// Pins the grouped-convolution method for every later forward pass in this process (`None`:
/// back to the per-device default: measured on cubecl devices, the host kernels on flex).
pub fn set_grouped_conv_override(method: Option<GroupedConvMethod>) {
    OVERRIDE.store(encode(method), Ordering::Relaxed);
}

/// Whether [`grouped_conv2d`] computes `conv` on `x` `[B, C_in, H, W]` by the method it is
/// given: dilation 1, padding explicit (or none) and symmetric per axis, as in ResNeXt, and
/// the kernel within the padded input. Otherwise it runs `conv.forward`, whatever the method.
pub fn grouped_conv_methods_apply(conv: &Conv2d, x: &Tensor<4>) -> bool {
    Geometry::of(conv, x).is_some()
}

/// `conv.forward(x)` computed with `method`: `[B, C_in, H, W]` -> `[B, C_out, H_out, W_out]`.
/// Every method gives the same numbers within float rounding (tested against `conv2d`,
/// values and gradients) where [`grouped_conv_methods_apply`]; anything else runs
/// `conv.forward`.
pub fn grouped_conv2d(conv: &Conv2d, x: Tensor<4>, method: GroupedConvMethod) -> Tensor<4> {
    match Geometry::of(conv, &x) {
        Some(geometry) => geometry.compute(
            x,
            conv.weight.val(),
            conv.bias.as_ref().map(|bias| bias.val()),
            method,
        ),
        None => conv.forward(x),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each method pinned, then none again, reads back as set and decides the flex device's
    /// method (the only test in this binary that sets the override; it ends with none).
    #[test]
    fn the_override_pins_each_method_and_none_restores_the_device_default() {
        let flex = Device::flex();
        let methods = [
            GroupedConvMethod::Direct,
            GroupedConvMethod::Host,
            GroupedConvMethod::Im2col,
            GroupedConvMethod::ShiftedSum,
        ];
        for method in methods {
            set_grouped_conv_override(Some(method));
            assert_eq!(grouped_conv_override(), Some(method));
            assert_eq!(GroupedConvMethod::pinned_for_device(&flex), Some(method));
            assert_eq!(GroupedConvMethod::parse(method.name()), Some(method));
        }
        set_grouped_conv_override(None);
        assert_eq!(grouped_conv_override(), None);
        assert_eq!(
            GroupedConvMethod::pinned_for_device(&flex),
            Some(GroupedConvMethod::Host)
        );
    }
}
