//! The matrix-product form of 1x1 convolutions (what training on flex runs) against Burn's own
//! `conv2d`: values and gradients (input, weight, bias), and which convolutions take it.

use crate::common;

use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::{Device, Distribution, Tensor};
use common::values;
use deepfake_model::pointwise_conv::{per_image_products, pointwise_conv2d, runs_as_matmul};

/// One convolution compared: input `[B, C_in, H, W]`, `C_out`, stride, bias.
type Case = ([usize; 4], usize, [usize; 2], bool);

/// ResNeXt's reduce, expand and projection shapes scaled down, one image, rectangular and odd
/// planes (a strided 1x1 reads `ceil(H / stride)` rows), unequal strides, a bias; both forms
/// of the product (per image: large planes for their channels; batch-wide: the last three).
const CASES: [Case; 11] = [
    ([2, 64, 14, 14], 32, [1, 1], false),
    ([2, 32, 7, 7], 64, [1, 1], false),
    ([1, 12, 9, 7], 18, [1, 1], true),
    ([3, 5, 4, 6], 3, [1, 1], true),
    ([2, 32, 14, 14], 64, [2, 2], false),
    ([2, 16, 7, 7], 24, [2, 2], false),
    ([1, 6, 9, 8], 10, [3, 2], true),
    ([2, 5, 5, 6], 7, [2, 1], true),
    ([2, 64, 3, 3], 48, [1, 1], false),
    ([3, 40, 5, 4], 36, [1, 1], true),
    ([2, 48, 5, 5], 32, [2, 2], true),
];

fn conv(c_in: usize, c_out: usize, stride: [usize; 2], bias: bool, device: &Device) -> Conv2d {
    Conv2dConfig::new([c_in, c_out], [1, 1])
        .with_stride(stride)
        .with_bias(bias)
        .init(device)
}

/// Output, input gradient, weight gradient and bias gradient (empty without a bias) of
/// `forward` under [`common::distinct_weighted_sum`].
fn run(
    conv: &Conv2d,
    x: &Tensor<4>,
    forward: impl Fn(&Conv2d, Tensor<4>) -> Tensor<4>,
) -> [Vec<f32>; 4] {
    let x = x.clone().detach().require_grad();
    let out = forward(conv, x.clone());
    let grads = common::distinct_weighted_sum(out.clone()).backward();
    let bias = conv
        .bias
        .as_ref()
        .map(|b| values(b.grad(&grads).expect("bias gradient")))
        .unwrap_or_default();
    [
        values(out),
        values(x.grad(&grads).expect("input gradient")),
        values(conv.weight.grad(&grads).expect("weight gradient")),
        bias,
    ]
}

/// Output pixels per image of a case: `ceil(H / stride) * ceil(W / stride)`.
fn output_pixels((input, _, stride, _): Case) -> usize {
    input[2].div_ceil(stride[0]) * input[3].div_ceil(stride[1])
}

#[test]
fn matrix_form_equals_conv2d_values_and_gradients() {
    let device = Device::flex().autodiff();
    let per_image = CASES
        .iter()
        .filter(|&&case| per_image_products(output_pixels(case), case.0[1], case.1))
        .count();
    assert!(
        (1..CASES.len()).contains(&per_image),
        "the cases must cover both forms: {per_image} of {} per image",
        CASES.len()
    );
    for (input, c_out, stride, bias) in CASES {
        let conv = conv(input[1], c_out, stride, bias, &device);
        let x = Tensor::random(input, Distribution::Normal(0.0, 1.0), &device);
        assert!(runs_as_matmul(&conv, &x));
        let want = run(&conv, &x, |conv, x| conv.forward(x));
        let got = run(&conv, &x, pointwise_conv2d);
        // A strided projection's input gradient is zero on the pixels it skips: the comparison
        // covers the whole input, those pixels included.
        assert_eq!(got[1].len(), input.iter().product::<usize>());
        // The reference output must vary far more than the tolerance.
        let spread = deepfake_compare::spread(&want[0], 1);
        assert!(spread > 0.5, "reference output barely varies ({spread})");
        let names = [
            "output",
            "input gradient",
            "weight gradient",
            "bias gradient",
        ];
        for (name, (got, want)) in names.iter().zip(got.iter().zip(&want)) {
            let what = format!("{input:?} -> {c_out}, stride {stride:?}: {name}");
            common::assert_close(&what, got, want, 1e-4);
        }
    }
}

#[test]
fn only_unpadded_1x1_convolutions_in_training_take_the_matrix_form() {
    let training = Device::flex().autodiff();
    let x = Tensor::<4>::zeros([1, 8, 6, 6], &training);
    assert!(runs_as_matmul(&conv(8, 4, [1, 1], false, &training), &x));
    assert!(runs_as_matmul(&conv(8, 4, [2, 2], false, &training), &x));
    // Inference keeps conv2d.
    let inference = Device::flex();
    let x_inference = Tensor::<4>::zeros([1, 8, 6, 6], &inference);
    assert!(!runs_as_matmul(
        &conv(8, 4, [1, 1], false, &inference),
        &x_inference
    ));
    // A padded, dilated or grouped 1x1, and a 3x3 keep conv2d.
    let dilated = Conv2dConfig::new([8, 4], [1, 1])
        .with_dilation([2, 2])
        .init(&training);
    let padded = Conv2dConfig::new([8, 4], [1, 1])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(&training);
    let grouped = Conv2dConfig::new([8, 4], [1, 1])
        .with_groups(2)
        .init(&training);
    let three = Conv2dConfig::new([8, 4], [3, 3]).init(&training);
    for conv in [dilated, padded, grouped, three] {
        assert!(!runs_as_matmul(&conv, &x));
        // And give conv2d's own result through pointwise_conv2d.
        let x = Tensor::<4>::random([1, 8, 6, 6], Distribution::Default, &training);
        let diff = common::max_diff(pointwise_conv2d(&conv, x.clone()), conv.forward(x));
        assert_eq!(diff, 0.0);
    }
}
