//! The matrix formulations of the grouped convolution (`Im2col`, `ShiftedSum`) and flex's host
//! kernels (`Host`) against Burn's own `conv2d` (flex): values and gradients (input, weight,
//! bias), on ResNeXt's shapes and on odd ones (stride 2 and 3, odd sizes, 1 and 3 images,
//! rectangular kernels, no padding). `Host` falls back to `conv2d` where its kernels do not run
//! a shape (output channels per group not a multiple of 4, rectangular kernels); the first six
//! cases are ones they run (on a CPU with AVX2 and FMA), the last two of those with input
//! channels per group that are not a multiple of 4 (a stem), whose input gradient is flex's.

use crate::common;

use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::{Device, Distribution, Tensor};
use common::{max_diff, values};
use deepfake_model::flex_grouped_conv::host_geometry;
use deepfake_model::{
    GroupedConvMethod, grouped_conv_measurements, grouped_conv_methods_apply, grouped_conv2d,
};

/// `(batch, c_in, c_out, groups, kernel, stride, padding, height, width, bias)`.
type Case = (
    usize,
    usize,
    usize,
    usize,
    [usize; 2],
    usize,
    usize,
    usize,
    usize,
    bool,
);

const CASES: [Case; 13] = [
    // ResNeXt-50 32x4d's layer 1 and layer 2's strided block (4 channels per group), smaller
    // planes; unequal channels per group, a bias; stride 3, 5x5 kernel.
    (2, 128, 128, 32, [3, 3], 1, 1, 14, 14, false),
    (2, 128, 128, 32, [3, 3], 2, 1, 15, 15, false),
    (1, 16, 32, 2, [3, 3], 1, 1, 9, 7, true),
    (3, 16, 16, 2, [5, 5], 3, 2, 10, 11, false),
    // A stem (3 input channels, 7x7, stride 2); 2 input and 4 output channels per group.
    (2, 3, 8, 1, [7, 7], 2, 3, 20, 17, false),
    (2, 4, 8, 2, [3, 3], 1, 1, 9, 9, true),
    // ResNeXt's shapes with 2 channels per group.
    (2, 64, 64, 32, [3, 3], 1, 1, 14, 14, false),
    (2, 64, 64, 32, [3, 3], 2, 1, 15, 15, false),
    (1, 12, 18, 3, [3, 3], 1, 1, 9, 7, true),
    (3, 8, 8, 4, [3, 3], 3, 1, 10, 11, true),
    (2, 6, 4, 2, [1, 3], 1, 0, 5, 8, true),
    (1, 16, 16, 16, [5, 5], 2, 2, 9, 9, false),
    (2, 4, 6, 1, [3, 3], 1, 1, 6, 6, true),
];

fn conv(case: &Case, device: &Device) -> Conv2d {
    let (_, c_in, c_out, groups, kernel, stride, padding, _, _, bias) = *case;
    Conv2dConfig::new([c_in, c_out], kernel)
        .with_groups(groups)
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(
            padding, padding, padding, padding,
        ))
        .with_bias(bias)
        .init(device)
}

fn input(case: &Case, device: &Device) -> Tensor<4> {
    let (batch, c_in, _, _, _, _, _, height, width, _) = *case;
    Tensor::random(
        [batch, c_in, height, width],
        Distribution::Normal(0.0, 1.0),
        device,
    )
}

#[test]
fn matrix_formulations_equal_conv2d_forward() {
    let device = Device::flex();
    for case in &CASES {
        let conv = conv(case, &device);
        let x = input(case, &device);
        let want = conv.forward(x.clone());
        // The reference must vary far more than the tolerance, or equality proves nothing.
        let spread = values(want.clone().max() - want.clone().min())[0];
        assert!(
            spread > 0.5,
            "{case:?}: reference output barely varies ({spread})"
        );
        // Each method runs on these shapes (no fall-back to `conv.forward`).
        assert!(grouped_conv_methods_apply(&conv, &x), "{case:?}");
        // Direct too: it runs Burn's `conv2d` with options of its own, not `conv.forward`.
        for method in GroupedConvMethod::ALL
            .into_iter()
            .chain([GroupedConvMethod::Host])
        {
            let got = grouped_conv2d(&conv, x.clone(), method);
            let diff = max_diff(got, want.clone());
            assert!(diff <= 1e-5, "{case:?} {method:?}: max |diff| {diff:e}");
        }
    }
}

/// What the methods do not cover runs `conv.forward`: a dilation, padding that differs between
/// the two sides of an axis or is `Same`, a kernel larger than the padded input.
#[test]
fn shapes_the_methods_do_not_cover_are_named() {
    let device = Device::flex();
    let x = Tensor::<4>::random([1, 4, 6, 6], Distribution::Default, &device);
    let base = || Conv2dConfig::new([4, 4], [3, 3]).with_groups(2);
    let padded = |top, left, bottom, right| {
        base()
            .with_padding(PaddingConfig2d::Explicit(top, left, bottom, right))
            .init(&device)
    };
    assert!(grouped_conv_methods_apply(&padded(1, 2, 1, 2), &x));
    assert!(grouped_conv_methods_apply(&base().init(&device), &x));
    for (what, conv) in [
        ("dilation 2", base().with_dilation([2, 2]).init(&device)),
        ("top 1, bottom 0", padded(1, 1, 0, 1)),
        ("left 1, right 0", padded(1, 1, 1, 0)),
        (
            "same",
            base().with_padding(PaddingConfig2d::Same).init(&device),
        ),
        (
            "7x7 on 6x6",
            Conv2dConfig::new([4, 4], [7, 7]).init(&device),
        ),
    ] {
        assert!(!grouped_conv_methods_apply(&conv, &x), "{what}");
    }
}

#[test]
fn matrix_formulations_equal_conv2d_gradients() {
    let device = Device::flex().autodiff();
    for case in &CASES {
        let conv = conv(case, &device);
        let x = input(case, &device);
        let reference = |method: GroupedConvMethod| {
            let x = x.clone().detach().require_grad();
            let out = grouped_conv2d(&conv, x.clone(), method);
            let grads = common::distinct_weighted_sum(out).backward();
            let x_grad = x.grad(&grads).expect("input gradient");
            let w_grad = conv.weight.grad(&grads).expect("weight gradient");
            let b_grad = conv
                .bias
                .as_ref()
                .map(|b| values(b.grad(&grads).expect("bias gradient")));
            (values(x_grad), values(w_grad), b_grad)
        };
        let (x_want, w_want, b_want) = reference(GroupedConvMethod::Direct);
        for method in [
            GroupedConvMethod::Im2col,
            GroupedConvMethod::ShiftedSum,
            GroupedConvMethod::Host,
        ] {
            let (x_got, w_got, b_got) = reference(method);
            let what = |name: &str| format!("{case:?} {method:?}: {name}");
            common::assert_close(&what("input gradient"), &x_got, &x_want, 1e-4);
            common::assert_close(&what("weight gradient"), &w_got, &w_want, 1e-4);
            if let (Some(got), Some(want)) = (&b_got, &b_want) {
                common::assert_close(&what("bias gradient"), got, want, 1e-4);
            }
        }
        // As a network's first layer: no gradient for the input (the host backward then
        // computes the weight gradient only).
        let out = grouped_conv2d(&conv, x.clone().detach(), GroupedConvMethod::Host);
        let grads = common::distinct_weighted_sum(out).backward();
        let w_got = values(conv.weight.grad(&grads).expect("weight gradient"));
        let what = format!("{case:?} Host, untracked input: weight gradient");
        common::assert_close(&what, &w_got, &w_want, 1e-4);
    }
}

/// Whether this CPU runs the host kernels (they need AVX2 and FMA).
fn host_kernels_run_here() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[test]
fn host_kernels_take_the_shapes_they_run() {
    let device = Device::flex().autodiff();
    for (index, case) in CASES.iter().enumerate() {
        let conv = conv(case, &device);
        let x = input(case, &device);
        let (_, _, _, groups, _, stride, padding, _, _, _) = *case;
        let geometry = host_geometry(
            &x,
            &conv.weight.val(),
            groups,
            [stride, stride],
            [padding, padding],
        );
        assert_eq!(
            geometry.is_some(),
            index < 6 && host_kernels_run_here(),
            "{case:?}"
        );
    }
}

#[test]
fn host_devices_run_the_host_kernels_without_measuring() {
    for device in [Device::flex(), Device::flex().autodiff()] {
        assert_eq!(
            GroupedConvMethod::pinned_for_device(&device),
            Some(GroupedConvMethod::Host)
        );
        let conv = Conv2dConfig::new([64, 64], [3, 3])
            .with_groups(32)
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init(&device);
        let x = Tensor::<4>::zeros([1, 64, 8, 8], &device);
        assert_eq!(
            GroupedConvMethod::select(&conv, &x),
            GroupedConvMethod::Host
        );
    }
    // Nothing in this test binary runs on a cubecl device: nothing was measured.
    assert!(grouped_conv_measurements().is_empty());
    for method in GroupedConvMethod::ALL
        .into_iter()
        .chain([GroupedConvMethod::Host])
    {
        assert_eq!(GroupedConvMethod::parse(method.name()), Some(method));
    }
    assert_eq!(GroupedConvMethod::parse("winograd"), None);
}
