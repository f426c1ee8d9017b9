//! The same detector on another backend gives the same numbers. Run with
//! `cargo xtask backends` (needs a Vulkan driver; on a CPU-only machine Mesa's llvmpipe).
//! A test target of its own, so that the wgpu build compiles this file and the model crate,
//! not every integration test of the workspace.
#![cfg(feature = "wgpu")]

use std::path::PathBuf;

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2dConfig;
use burn::tensor::{Device, DeviceKind, Distribution, Tensor};
use deepfake_model::{
    Detector, DetectorConfig, GroupedConvMethod, grouped_conv_measurements, grouped_conv2d,
};

#[path = "integration/common/mod.rs"]
mod common;

use common::max_diff;

fn tiny_weights() -> PathBuf {
    let built_here = common::fixture("tiny_detector.pth");
    // A test binary copied to another machine runs from that checkout's root.
    if built_here.is_file() {
        built_here
    } else {
        PathBuf::from("crates/deepfake-model/tests/fixtures/tiny_detector.pth")
    }
}

fn wgpu() -> Device {
    Device::wgpu(DeviceKind::DefaultDevice)
}

/// The spread of a tensor's values (the compared outputs must vary more than the tolerance).
fn spread<const D: usize>(t: &Tensor<D>) -> f32 {
    (t.clone().max() - t.clone().min()).into_scalar::<f32>()
}

#[test]
#[ignore = "needs a Vulkan driver: run `cargo xtask backends`"]
fn tiny_detector_on_wgpu_matches_flex() {
    let config = DetectorConfig::tiny();
    let flex = Device::flex();
    let on_flex = Detector::from_pytorch(tiny_weights(), &config, &flex).unwrap();
    let on_wgpu = Detector::from_pytorch(tiny_weights(), &config, &wgpu()).unwrap();
    assert_eq!(
        GroupedConvMethod::pinned_for_device(&wgpu()),
        None,
        "the cubecl backends must measure which grouped-convolution formulation runs"
    );

    let images = Tensor::<4>::random([5, 3, 64, 64], Distribution::Normal(0.0, 1.0), &flex);
    let frames = Tensor::<5>::random([2, 4, 3, 64, 64], Distribution::Normal(0.0, 1.0), &flex);
    let expected_images = on_flex.forward(images.clone());
    let expected_frames = on_flex.forward_sequence(frames.clone());
    let features = on_flex.backbone.forward_features(images.clone());
    assert!(spread(&features) > 1e-2, "features barely vary");
    let got_features = on_wgpu
        .backbone
        .forward_features(images.clone().to_device(&wgpu()))
        .to_device(&flex);
    let got_images = on_wgpu
        .forward(images.clone().to_device(&wgpu()))
        .to_device(&flex);
    let got_frames = on_wgpu
        .forward_sequence(frames.clone().to_device(&wgpu()))
        .to_device(&flex);
    // The inference form (BatchNorm folded, grouped convs as matrix products) on the GPU.
    let inference = on_wgpu.clone().into_inference();
    let got_inference = inference
        .forward(images.clone().to_device(&wgpu()))
        .to_device(&flex);

    let d_features = max_diff(got_features, features);
    let d_images = max_diff(got_images, expected_images.clone());
    let d_frames = max_diff(got_frames, expected_frames);
    let d_inference = max_diff(got_inference, expected_images);
    println!(
        "BACKENDS wgpu vs flex: features {d_features:.3e}, images {d_images:.3e}, \
         sequences {d_frames:.3e}, inference form {d_inference:.3e}"
    );
    assert!(d_features <= 1e-4, "features: {d_features:e}");
    assert!(d_images <= 1e-4, "images: {d_images:e}");
    assert!(d_frames <= 1e-4, "sequences: {d_frames:e}");
    assert!(d_inference <= 1e-4, "inference form: {d_inference:e}");
}

#[test]
#[ignore = "needs a Vulkan driver: run `cargo xtask backends`"]
fn grouped_conv_formulations_on_wgpu_match_flex_conv2d() {
    let flex = Device::flex();
    let gpu = wgpu();
    // ResNeXt-50's layer-1 grouped conv (32 groups of 4), and its strided layer-2 shape scaled.
    for (channels, groups, stride, size) in [(128, 32, 1, 14), (64, 32, 2, 15)] {
        let conv = Conv2dConfig::new([channels, channels], [3, 3])
            .with_groups(groups)
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .with_bias(true)
            .init(&flex);
        let x = Tensor::<4>::random(
            [2, channels, size, size],
            Distribution::Normal(0.0, 1.0),
            &flex,
        );
        let want = conv.forward(x.clone());
        assert!(spread(&want) > 0.5);
        let conv_gpu = conv.clone().to_device(&gpu);
        for method in GroupedConvMethod::ALL {
            // Values.
            let got = grouped_conv2d(&conv_gpu, x.clone().to_device(&gpu), method).to_device(&flex);
            let diff = max_diff(got, want.clone());
            println!(
                "BACKENDS grouped conv {channels}/{groups} stride {stride} {method:?}: {diff:.3e}"
            );
            assert!(diff <= 1e-4, "{method:?}: {diff:e}");
        }
        // Gradients through the formulation the GPU runs, against flex's conv2d backward.
        let gradients = |device: &Device, method: GroupedConvMethod| {
            let autodiff = device.clone().autodiff();
            let conv = conv.clone().fork(&autodiff).train();
            // Moving a tensor onto an autodiff device does not track it: mark it explicitly.
            let x = x.clone().to_device(&autodiff).autodiff().require_grad();
            let out = grouped_conv2d(&conv, x.clone(), method);
            let grads = out.clone().mul(out).sum().backward();
            (
                x.grad(&grads).expect("input gradient").to_device(&flex),
                conv.weight
                    .grad(&grads)
                    .expect("weight gradient")
                    .to_device(&flex),
            )
        };
        let (x_want, w_want) = gradients(&flex, GroupedConvMethod::Direct);
        // The weight gradient sums over batch and positions: compare it relative to its size.
        let w_scale = 1.0f32.max(spread(&w_want));
        for method in GroupedConvMethod::ALL {
            let (x_got, w_got) = gradients(&gpu, method);
            let (dx, dw) = (
                max_diff(x_got, x_want.clone()),
                max_diff(w_got, w_want.clone()),
            );
            println!(
                "BACKENDS grouped conv gradients {method:?}: input {dx:.3e}, weight {dw:.3e} \
                 (scale {w_scale:.1})"
            );
            assert!(dx <= 1e-3, "{method:?} input gradient: {dx:e}");
            assert!(
                dw / w_scale <= 1e-5,
                "{method:?} weight gradient: {dw:e} at scale {w_scale}"
            );
        }
    }
}

#[test]
#[ignore = "needs a Vulkan driver: run `cargo xtask backends`"]
fn grouped_conv_method_is_measured_once_per_shape_on_wgpu() {
    let gpu = wgpu();
    // A shape no other test here uses, so the measurements below are this test's own.
    let conv = Conv2dConfig::new([96, 96], [3, 3])
        .with_groups(32)
        .with_stride([2, 2])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(&gpu);
    let x = Tensor::<4>::random([3, 96, 11, 11], Distribution::Normal(0.0, 1.0), &gpu);
    let shape = "batch 3: 96x11x11 -> 96x6x6, 3x3, 32 groups, stride 2x2";
    let ours = || {
        grouped_conv_measurements()
            .into_iter()
            .filter(|m| m.shape == shape)
            .collect::<Vec<_>>()
    };
    assert!(ours().is_empty());

    let inference = GroupedConvMethod::select(&conv, &x);
    let autodiff = gpu.clone().autodiff();
    let training_x = x.clone().to_device(&autodiff).autodiff().require_grad();
    let training = GroupedConvMethod::select(&conv.clone().fork(&autodiff), &training_x);
    // Asked again: the cached choice, no new measurement.
    assert_eq!(GroupedConvMethod::select(&conv, &x), inference);

    let measured = ours();
    assert_eq!(measured.len(), 2, "{measured:?}");
    for (m, chosen) in measured.iter().zip([inference, training]) {
        println!("BACKENDS grouped conv measured: {m:?}");
        assert!(m.device.contains("Wgpu"), "{m:?}");
        assert!(
            m.seconds.iter().all(|s| s.is_finite() && *s > 0.0),
            "every formulation must run and be timed: {m:?}"
        );
        // The chosen method is the one with the least time (the earlier on a tie).
        let fastest = (0..3)
            .min_by(|&a, &b| m.seconds[a].total_cmp(&m.seconds[b]))
            .map(|i| GroupedConvMethod::ALL[i]);
        assert_eq!(Some(m.chosen()), fastest, "{m:?}");
        assert_eq!(m.chosen(), chosen);
    }
    assert_eq!(
        measured.iter().map(|m| m.training).collect::<Vec<_>>(),
        [false, true]
    );
}

#[test]
#[ignore = "needs a Vulkan driver: run `cargo xtask backends`"]
fn tiny_detector_gradients_on_wgpu_match_flex() {
    // Dropout off, so both devices compute the same function; BatchNorm in training mode.
    let config = DetectorConfig {
        dropout: 0.0,
        ..DetectorConfig::tiny()
    };
    let flex = Device::flex();
    let model = Detector::from_pytorch(tiny_weights(), &config, &flex).unwrap();
    let images = Tensor::<4>::random([4, 3, 64, 64], Distribution::Normal(0.0, 1.0), &flex);
    // Gradients of the stem, a grouped 3x3 conv and the last layer. On wgpu the grouped convs'
    // formulation is measured in the middle of this forward pass (a training measurement per
    // shape): the measurement must leave the graph and its gradients as they were.
    let gradients = |device: &Device| {
        let autodiff = device.clone().autodiff();
        let model = model.clone().fork(&autodiff).train();
        let logits = model.forward(images.clone().to_device(&autodiff));
        let grads = logits.clone().mul(logits).sum().backward();
        let grad = |param: &burn::module::Param<Tensor<4>>| {
            param.grad(&grads).expect("a gradient").to_device(&flex)
        };
        [
            grad(&model.backbone.conv1.weight),
            grad(&model.backbone.layer1[0].conv2.weight),
            grad(&model.backbone.layer4[0].conv2.weight),
        ]
    };
    let want = gradients(&flex);
    let got = gradients(&wgpu());
    for (name, (got, want)) in ["stem", "layer1 grouped", "layer4 grouped"]
        .iter()
        .zip(got.into_iter().zip(want))
    {
        let varies = spread(&want);
        let scale = 1.0f32.max(varies);
        assert!(varies > 1e-3, "{name}: the gradient barely varies");
        let diff = max_diff(got, want);
        println!("BACKENDS tiny detector gradient {name}: {diff:.3e} (values spread {varies:.3e})");
        assert!(diff / scale <= 1e-4, "{name}: {diff:e} at scale {scale}");
    }
    assert!(
        grouped_conv_measurements()
            .iter()
            .any(|m| m.training && m.batch == 4),
        "the training pass measured its grouped convolutions"
    );
}
