//! The 1x1 convolutions: one matrix product with the bias, ReLU and residual add fused.

use crate::activation::Activation;
use crate::gemm::{Epilogue, matmul};
use crate::window_out_size;

/// A 1x1 convolution with a bias, groups 1, no padding, any stride: `[C_out, C_in]` weights
/// times the (subsampled) input planes `[C_in, H' * W']`.
#[derive(Debug, Clone)]
pub(crate) struct PointwiseConv {
    /// `[C_out, C_in]`, row-major.
    pub weight: Vec<f32>,
    /// `[C_out]`.
    pub bias: Vec<f32>,
    pub c_in: usize,
    pub c_out: usize,
    pub stride: usize,
}

impl PointwiseConv {
    /// Output height and width for an `h x w` input.
    pub fn out_size(&self, size: [usize; 2]) -> [usize; 2] {
        window_out_size(size, [1, self.stride, 0])
    }

    /// `out = W x + bias` (then ReLU when `relu`) on `batch` images stored channel-major:
    /// `x` is `[C_in, B, H, W]`, `out` becomes `[C_out, B, H', W']`. A strided convolution
    /// first gathers the sampled pixels into `scratch`.
    pub fn forward(
        &self,
        x: &[f32],
        [batch, h, w]: [usize; 3],
        out: &mut Vec<f32>,
        scratch: &mut Vec<f32>,
        relu: bool,
        threads: usize,
    ) {
        assert_eq!(x.len(), self.c_in * batch * h * w, "1x1 conv input");
        let [oh, ow] = self.out_size([h, w]);
        let input: &[f32] = if self.stride == 1 {
            x
        } else {
            scratch.clear();
            for plane in x.chunks_exact(h * w) {
                for row in plane.chunks_exact(w).step_by(self.stride) {
                    scratch.extend(row.iter().step_by(self.stride));
                }
            }
            scratch
        };
        let plane = batch * oh * ow;
        out.resize(self.c_out * plane, 0.0);
        let epilogue = Epilogue {
            bias: Some(&self.bias),
            activation: Activation::relu_if(relu),
        };
        matmul(
            out,
            plane,
            &self.weight,
            input,
            plane,
            [self.c_out, self.c_in, plane],
            false,
            epilogue,
            threads,
        );
    }

    /// `out += W x + bias` (stride 1; without a bias when `bias` is `None`, not the
    /// convolution's own), then ReLU if asked, for `x` `[C_in, plane]` and `out` `[C_out,
    /// plane]` (`plane` = B * H * W): the block's expanding convolution adds onto the skip path
    /// this way.
    pub fn accumulate(
        &self,
        x: &[f32],
        plane: usize,
        out: &mut [f32],
        bias: Option<&[f32]>,
        relu: bool,
        threads: usize,
    ) {
        assert_eq!(self.stride, 1, "accumulate is for stride-1 convolutions");
        let epilogue = Epilogue {
            bias,
            activation: Activation::relu_if(relu),
        };
        matmul(
            out,
            plane,
            &self.weight,
            x,
            plane,
            [self.c_out, self.c_in, plane],
            true,
            epilogue,
            threads,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{host, max_diff};
    use burn::nn::conv::Conv2dConfig;
    use burn::tensor::activation::relu;
    use burn::tensor::{Device, Distribution, Tensor};

    #[test]
    fn pointwise_conv_equals_burn_conv2d_at_stride_1_and_2() {
        let device = Device::flex();
        for (c_in, c_out, stride, h, w, batch) in [
            (16, 24, 1, 7, 9, 1),
            (16, 32, 2, 7, 8, 3),
            (8, 4, 2, 6, 6, 1),
            (8, 12, 1, 5, 4, 2),
        ] {
            let conv = Conv2dConfig::new([c_in, c_out], [1, 1])
                .with_stride([stride, stride])
                .with_bias(true)
                .init(&device);
            let x =
                Tensor::<4>::random([batch, c_in, h, w], Distribution::Normal(0.0, 1.0), &device);
            // The host kernels take and give [C, B, H, W].
            let channel_major = |t: Tensor<4>| host(t.swap_dims(0, 1));
            let host_conv = PointwiseConv {
                weight: host(conv.weight.val()),
                bias: host(conv.bias.as_ref().unwrap().val()),
                c_in,
                c_out,
                stride,
            };
            let (mut out, mut scratch) = (Vec::new(), Vec::new());
            for relu_after in [false, true] {
                let expected = conv.forward(x.clone());
                let expected = channel_major(if relu_after { relu(expected) } else { expected });
                host_conv.forward(
                    &channel_major(x.clone()),
                    [batch, h, w],
                    &mut out,
                    &mut scratch,
                    relu_after,
                    2,
                );
                let diff = max_diff(&out, &expected);
                assert!(diff <= 1e-5, "{c_in}->{c_out} stride {stride}: {diff}");
            }
            // Adding onto a skip path in place: relu(skip + conv(x)), the bias given
            // separately (here the convolution's own).
            if stride == 1 {
                let skip = Tensor::<4>::random(
                    [batch, c_out, h, w],
                    Distribution::Normal(0.0, 1.0),
                    &device,
                );
                let expected = channel_major(relu(skip.clone() + conv.forward(x.clone())));
                let mut sum = channel_major(skip);
                host_conv.accumulate(
                    &channel_major(x.clone()),
                    batch * h * w,
                    &mut sum,
                    Some(&host_conv.bias),
                    true,
                    2,
                );
                let diff = max_diff(&sum, &expected);
                assert!(diff <= 1e-5, "{c_in}->{c_out} accumulate: {diff}");
            }
        }
    }
}
