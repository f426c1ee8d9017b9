//! The grouped convolution on flex as one operation with its own backward pass, on the host
//! kernels of `deepfake_cpu::grouped_conv_training` (packed AVX2 products over the padded
//! planes read in place, all threads).
//!
//! burn-flex runs a grouped convolution as an im2col copy and one small matrix product per
//! group, and differentiates it through Burn's generic backward. Measured on the seed
//! detector's 16 grouped 3x3s at batch 8 (AMD EPYC with AVX-512, 2 threads; each layer alone,
//! best of 3, as autodiff runs it: output and gradients read back): 432-442 ms forward and
//! 627-760 ms backward that way, 114 ms and 192 ms here; the training step went from 3.46-3.60
//! to 2.55-2.63 s (interleaved runs). ResNeXt's stem (7x7, stride 2, one group) runs here too:
//! Burn's backward computes its weight gradient as a convolution of the input with the whole
//! output-gradient plane as kernel, 27-34 ms of the tiny preset's 70 ms step (batch 32) and
//! 117-132 ms of the seed's (batch 8), forward + backward; here 2 ms and 35 ms. Here it is a
//! Burn backend extension, as `flex_batch_norm` is:
//! [`FlexGroupedConv`] is implemented for `Flex` and for `Autodiff<Flex>`, whose
//! implementation registers the backward pass; [`grouped_conv2d_on_host`] is the one entry
//! point, [`host_geometry`] says where it applies.

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::ModuleOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, backend_extension};
use burn::tensor::ops::ConvTransposeOptions;
use burn::tensor::{DType, Tensor};
use deepfake_cpu::grouped_conv_training::{
    GroupedConvGeometry, forward, input_gradient, weight_gradient,
};

use crate::device_kind::is_flex;
use crate::flex_host::{flex_tensor, host_values};

/// The geometry of convolving `x` `[B, C_in, H, W]` with `weight` `[C_out, C_in / groups, kh,
/// kw]` with `stride` and zero `padding` (per axis: height, width), where the host kernels
/// run it on this device: a square kernel, the same stride and padding on both axes, `f32`
/// tensors on a flex device (autodiff or not) and a geometry the kernels support (AVX2 + FMA,
/// output channels per group a multiple of 4; see [`GroupedConvGeometry::is_supported`]).
/// `None` elsewhere. Where the input channels per group are not a multiple of 4 as well (a
/// network's stem: 3 channels), the input's gradient, if one is needed, is flex's transposed
/// convolution, as Burn's own backward computes it.
pub fn host_geometry(
    x: &Tensor<4>,
    weight: &Tensor<4>,
    groups: usize,
    stride: [usize; 2],
    padding: [usize; 2],
) -> Option<GroupedConvGeometry> {
    let [batch, c_in, height, width] = x.dims();
    let [c_out, c_in_group, kh, kw] = weight.dims();
    let geometry = GroupedConvGeometry {
        batch,
        c_in,
        c_out,
        groups,
        height,
        width,
        kernel: kh,
        stride: stride[0],
        padding: padding[0],
    };
    let fits = kh == kw
        && stride[0] == stride[1]
        && padding[0] == padding[1]
        && c_in_group * groups == c_in
        && x.dtype() == DType::F32
        && weight.dtype() == DType::F32
        && is_flex(&x.device())
        && geometry.is_supported();
    fits.then_some(geometry)
}

/// `x` `[B, C_in, H, W]` convolved with `weight` `[C_out, C_in / groups, k, k]` (no bias) as
/// `geometry` says: `[B, C_out, H', W']`, differentiated with respect to both on autodiff
/// devices. The same function as Burn's `conv2d` with those options.
///
/// # Panics
/// Unless `geometry` came from [`host_geometry`] for these tensors.
pub fn grouped_conv2d_on_host(
    x: Tensor<4>,
    weight: Tensor<4>,
    geometry: GroupedConvGeometry,
) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as FlexGroupedConv>::grouped_conv2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        geometry,
    ))
}

/// The grouped convolution as a Burn backend extension, for flex and autodiff over flex.
#[backend_extension(Flex, Autodiff)]
pub trait FlexGroupedConv: Backend {
    /// `x` `[B, C_in, H, W]`, `weight` `[C_out, C_in / groups, k, k]` -> `[B, C_out, H', W']`.
    /// Differentiated with respect to `x` and `weight`.
    fn grouped_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        geometry: GroupedConvGeometry,
    ) -> FloatTensor<Self>;
}

/// `[B, C_out, H', W']` of `geometry`'s output.
fn output_dims(geometry: &GroupedConvGeometry) -> [usize; 4] {
    let [out_h, out_w] = geometry.out_size();
    [geometry.batch, geometry.c_out, out_h, out_w]
}

impl FlexGroupedConv for Flex {
    fn grouped_conv2d(
        x: FlexTensor,
        weight: FlexTensor,
        geometry: GroupedConvGeometry,
    ) -> FlexTensor {
        let output = forward(&host_values(&x), &host_values(&weight), &geometry);
        flex_tensor(output, &output_dims(&geometry))
    }
}

/// What the backward step keeps of a grouped convolution: its operands and geometry.
#[derive(Debug, Clone)]
struct ConvState {
    x: FlexTensor,
    weight: FlexTensor,
    geometry: GroupedConvGeometry,
}

/// The backward step of [`FlexGroupedConv::grouped_conv2d`] (parents: `x`, `weight`).
#[derive(Debug)]
struct GroupedConvBackward;

impl Backward<Flex, 2> for GroupedConvBackward {
    type State = ConvState;

    fn backward(self, ops: Ops<ConvState, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy_tensor = grads.consume::<Flex>(&ops.node);
        let dy = host_values(&dy_tensor);
        let [node_x, node_weight] = ops.parents;
        let state = ops.state;
        let geometry = &state.geometry;
        if let Some(node) = node_x {
            let dims = state.x.layout().shape().dims::<4>();
            let dx = if geometry.input_gradient_is_supported() {
                flex_tensor(
                    input_gradient(&dy, &host_values(&state.weight), geometry),
                    &dims,
                )
            } else {
                transposed_conv_input_gradient(dy_tensor.clone(), state.weight.clone(), geometry)
            };
            grads.register::<Flex>(node.id, dx);
        }
        if let Some(node) = node_weight {
            let dw = weight_gradient(&host_values(&state.x), &dy, geometry);
            let dims = state.weight.layout().shape().dims::<4>();
            grads.register::<Flex>(node.id, flex_tensor(dw, &dims));
        }
    }
}

/// The input's gradient where the host kernels have none
/// ([`GroupedConvGeometry::input_gradient_is_supported`]): the output gradient `dy`
/// `[B, C_out, H', W']` through flex's transposed convolution with `weight`
/// `[C_out, C_in / groups, k, k]` -> `[B, C_in, H, W]`, as Burn's generic `conv2d` backward
/// computes it (the output padding restores the rows and columns the stride dropped).
fn transposed_conv_input_gradient(
    dy: FlexTensor,
    weight: FlexTensor,
    geometry: &GroupedConvGeometry,
) -> FlexTensor {
    let g = geometry;
    let [out_h, out_w] = g.out_size();
    let dropped = |size: usize, out: usize| size + 2 * g.padding - g.kernel - (out - 1) * g.stride;
    let options = ConvTransposeOptions::new(
        [g.stride; 2],
        [g.padding; 2],
        [dropped(g.height, out_h), dropped(g.width, out_w)],
        [1, 1],
        g.groups,
    );
    <Flex as ModuleOps<Flex>>::conv_transpose2d(dy, weight, None, options)
}

impl<C: CheckpointStrategy> FlexGroupedConv for Autodiff<Flex, C> {
    fn grouped_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        geometry: GroupedConvGeometry,
    ) -> FloatTensor<Self> {
        let state = ConvState {
            x: x.primitive().clone(),
            weight: weight.primitive().clone(),
            geometry,
        };
        let output = <Flex as FlexGroupedConv>::grouped_conv2d(
            state.x.clone(),
            state.weight.clone(),
            geometry,
        );
        match GroupedConvBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(state, output),
            OpsKind::UnTracked(prep) => prep.finish(output),
        }
    }
}
