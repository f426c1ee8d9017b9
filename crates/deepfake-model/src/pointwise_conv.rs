//! 1x1 convolutions (no padding, one group) as matrix products, for training on the CPU
//! backend.
//!
//! burn-flex differentiates `conv2d` through Burn's generic backward: the input's gradient is
//! a transposed convolution and the weight's a convolution whose kernel is the whole output
//! plane. For a 1x1 convolution both are plain matrix products, and written as one
//! (`[C_out, C_in]` times the input as `[C_in, B * H * W]`), autodiff's backward is two
//! matrix products. A strided 1x1 convolution reads every `stride`-th pixel only, so it is the
//! same product on the strided slice of its input (whose backward scatters the gradient back
//! into those pixels). Measured on the seed detector's training step (batch 8, AMD EPYC, 2
//! threads): 2.27-2.37 -> 3.24-3.28 images/s with the bottlenecks' reduce and expand
//! convolutions in this form; the three strided projections (layers 2-4), forward and
//! backward, 510 -> 110 ms. Where an image holds many pixels for its channels (the seed's 56x56
//! and 28x28 planes), one product per image, with nothing transposed, is faster still
//! ([`per_image_products`]).
//!
//! Only the autodiff version of flex takes it. Inference keeps `conv2d` (flex's 1x1 fast path
//! is already one product per image, and `predict` runs the host engine anyway), and the
//! cubecl backends keep theirs (autotuned there; not measured in this form).

use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::{Tensor, s};

use crate::device_kind::is_cubecl;

/// Whether `conv` applied to `x` runs as a matrix product ([`pointwise_conv2d`]): a 1x1,
/// unpadded, undilated, ungrouped convolution (any stride) on an autodiff device that is not a
/// cubecl one.
pub fn runs_as_matmul(conv: &Conv2d, x: &Tensor<4>) -> bool {
    let unpadded = matches!(
        conv.padding,
        PaddingConfig2d::Valid | PaddingConfig2d::Same | PaddingConfig2d::Explicit(0, 0, 0, 0)
    );
    let device = x.device();
    conv.kernel_size == [1, 1]
        && conv.dilation == [1, 1]
        && conv.groups == 1
        && unpadded
        && device.is_autodiff()
        && !is_cubecl(&device)
}

/// `conv.forward(x)`, `[B, C_in, H, W]` -> `[B, C_out, ceil(H / stride), ceil(W / stride)]`,
/// as matrix products where [`runs_as_matmul`] says so (per image or over the whole batch, as
/// [`per_image_products`] says), else through `conv2d`.
pub fn pointwise_conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    if !runs_as_matmul(conv, &x) {
        return conv.forward(x);
    }
    // The pixels a strided 1x1 convolution reads: rows and columns 0, stride, 2 * stride, ...
    let x = match conv.stride {
        [1, 1] => x,
        [sh, sw] => x.slice(s![.., .., ..;sh as isize, ..;sw as isize]),
    };
    let [batch, channels_in, height, width] = x.dims();
    let weight = conv.weight.val();
    let channels_out = weight.dims()[0];
    let pixels = height * width;
    let out = if per_image_products(pixels, channels_in, channels_out) {
        // One product per image: [1, C_out, C_in] x [B, C_in, H * W], nothing transposed.
        let weight: Tensor<3> = weight.reshape([1, channels_out, channels_in]);
        weight
            .matmul(x.reshape([batch, channels_in, pixels]))
            .reshape([batch, channels_out, height, width])
    } else {
        // Channel-major, so that the whole batch is one product: [C_in, B * H * W].
        let weight: Tensor<2> = weight.reshape([channels_out, channels_in]);
        let columns: Tensor<2> = x.swap_dims(0, 1).reshape([channels_in, batch * pixels]);
        weight
            .matmul(columns)
            .reshape([channels_out, batch, height, width])
            .swap_dims(0, 1)
    };
    match &conv.bias {
        Some(bias) => out + bias.val().reshape([1, channels_out, 1, 1]),
        None => out,
    }
}

/// Whether a 1x1 convolution with `pixels` output pixels per image runs as one product per
/// image rather than one product over the whole batch.
///
/// The batch-wide product needs the input and the output transposed to channel-major and
/// back, and so does its backward pass: copies of the activations, `pixels * (C_in + C_out)`
/// values per image. The per-image products copy nothing, but their weight gradient is a sum
/// of one `[C_out, C_in]` product per image, which is poor use of the matrix kernel when an
/// image holds few pixels. So the per-image form is taken where an image's input and output
/// planes hold at least twice as many values as the weight. Measured on the seed detector's
/// 1x1 shapes at batch 8, each alone (forward + backward, best of 5, AMD EPYC, 2 threads):
/// 256 -> 256 channels at 56x56, batch-wide 116.4 ms, per image 73.4 ms; 256 -> 512 at 28x28,
/// 25.0 / 20.8 ms; 1024 -> 512 at 14x14, 15.1 / 20.8 ms; 1024 -> 2048 at 7x7, 16.5 / 67.1 ms.
/// The rule picks the faster form for 12 of the 13 shapes (the 13th, 512 -> 1024 at 14x14,
/// is within 7%), and all 36 of the seed's 1x1s (the strided projections' products
/// included) take 953 ms this way against 1,163 ms all batch-wide and 1,299 ms all per image.
pub fn per_image_products(pixels: usize, channels_in: usize, channels_out: usize) -> bool {
    pixels * (channels_in + channels_out) >= 2 * channels_in * channels_out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_image_products_where_the_planes_hold_twice_the_weight() {
        // 4 -> 4 channels: the weight holds 16 values; 4 pixels' planes hold 4 * 8 = 32.
        assert!(per_image_products(4, 4, 4));
        assert!(!per_image_products(3, 4, 4));
        // The seed detector's shapes of the measurements above.
        assert!(per_image_products(56 * 56, 256, 256));
        assert!(per_image_products(28 * 28, 256, 512));
        assert!(!per_image_products(14 * 14, 1024, 512));
        assert!(!per_image_products(7 * 7, 1024, 2048));
    }
}
