//! The same detector on another backend gives the same numbers. Run with
//! `cargo xtask backends` (needs a Vulkan driver; on a CPU-only machine Mesa's llvmpipe).
#![cfg(feature = "wgpu")]

use std::path::PathBuf;

use burn::tensor::{Device, DeviceKind, Distribution, Tensor};
use deepfake::model::{Detector, DetectorConfig};

fn tiny_weights() -> PathBuf {
    let relative = "crates/deepfake-model/tests/fixtures/tiny_detector.pth";
    let built_here = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    // A test binary copied to another machine runs from that checkout's root.
    if built_here.is_file() {
        built_here
    } else {
        PathBuf::from(relative)
    }
}

#[test]
#[ignore = "needs a Vulkan driver: run `cargo xtask backends`"]
fn tiny_detector_on_wgpu_matches_flex() {
    let config = DetectorConfig::tiny();
    let flex = Device::flex();
    let wgpu = Device::wgpu(DeviceKind::DefaultDevice);
    let on_flex = Detector::from_pytorch(tiny_weights(), &config, &flex).unwrap();
    let on_wgpu = Detector::from_pytorch(tiny_weights(), &config, &wgpu).unwrap();

    let images = Tensor::<4>::random([5, 3, 64, 64], Distribution::Normal(0.0, 1.0), &flex);
    let frames = Tensor::<5>::random([2, 4, 3, 64, 64], Distribution::Normal(0.0, 1.0), &flex);
    let expected_images = on_flex.forward(images.clone()).into_data();
    let expected_frames = on_flex.forward_sequence(frames.clone()).into_data();
    let got_images = on_wgpu.forward(images.to_device(&wgpu)).into_data();
    let got_frames = on_wgpu
        .forward_sequence(frames.to_device(&wgpu))
        .into_data();

    let max_diff = |a: &burn::tensor::TensorData, b: &burn::tensor::TensorData| {
        let (a, b) = (
            a.try_to_vec::<f32>().unwrap(),
            b.try_to_vec::<f32>().unwrap(),
        );
        a.iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max)
    };
    let d_images = max_diff(&expected_images, &got_images);
    let d_frames = max_diff(&expected_frames, &got_frames);
    println!("BACKENDS wgpu vs flex: images max |diff| = {d_images:.3e}, sequences {d_frames:.3e}");
    assert!(d_images <= 1e-4 && d_frames <= 1e-4);
}
