//! Full-size parity with PyTorch (ResNeXt-50 32x4d and the seed detector), run by
//! `cargo xtask parity`, which first writes the references with `scripts/gen_full_parity.py`
//! into the directory named by `DEEPFAKE_PARITY_DIR`. Ignored in the normal suite: the
//! references are ~250 MB and need torch to produce.

use crate::common;

use std::path::PathBuf;

use burn::tensor::{Device, Tensor};
use deepfake_cpu::CpuResNeXt;
use deepfake_model::fused::FusedResNeXt;
use deepfake_model::{Detector, DetectorConfig, ResNeXt};

const TOLERANCE: f32 = 1e-4;

fn parity_dir() -> PathBuf {
    PathBuf::from(
        std::env::var("DEEPFAKE_PARITY_DIR")
            .expect("set DEEPFAKE_PARITY_DIR (run `cargo xtask parity`)"),
    )
}

fn read<const D: usize>(file: &str, name: &str, device: &Device) -> Tensor<D> {
    common::read_tensor_from(&parity_dir().join(file), name, device)
}

#[test]
#[ignore = "needs references from `cargo xtask parity`"]
fn resnext50_32x4d_matches_torchvision() {
    let device = Device::flex();
    let model = ResNeXt::from_torchvision(parity_dir().join("resnext50_32x4d.pth"), &device)
        .expect("load torchvision weights");
    let input: Tensor<4> = read("resnext50_io.safetensors", "input", &device);
    let diff = common::max_diff(
        model.forward(input.clone()),
        read("resnext50_io.safetensors", "logits", &device),
    );
    println!("PARITY resnext50_32x4d logits max |diff| = {diff:.3e}");
    assert!(diff <= TOLERANCE);

    // The folded backbone on Burn's operations and on the host CPU kernels, through
    // torchvision's own fc.
    let fc = model.fc.clone().expect("ImageNet fc");
    let fused = FusedResNeXt::new(model);
    let logits = fc.forward(fused.forward_features(input.clone()));
    let diff_fused = common::max_diff(logits, read("resnext50_io.safetensors", "logits", &device));
    println!("PARITY resnext50_32x4d folded logits max |diff| = {diff_fused:.3e}");
    let host = CpuResNeXt::new(fused.into_host_weights()).expect("supported layers");
    let [batch, _, height, width] = input.dims();
    let pixels: Vec<f32> = input.into_data().try_to_vec().expect("f32 images");
    let features = host.forward_host(&pixels, batch, [height, width]);
    let features = Tensor::<2>::from_data(
        burn::tensor::TensorData::new(features, [batch, host.feature_dim()]),
        &device,
    );
    let logits = fc.forward(features);
    let diff_host = common::max_diff(logits, read("resnext50_io.safetensors", "logits", &device));
    println!("PARITY resnext50_32x4d host CPU backbone logits max |diff| = {diff_host:.3e}");
    assert!(diff_fused <= TOLERANCE && diff_host <= TOLERANCE);
}

#[test]
#[ignore = "needs references from `cargo xtask parity`"]
fn seed_detector_matches_reference_module() {
    let device = Device::flex();
    let detector = Detector::from_pytorch(
        parity_dir().join("seed_detector.pth"),
        &DetectorConfig::seed(),
        &device,
    )
    .expect("load reference detector");
    let file = "seed_detector_io.safetensors";
    let images = read::<4>(file, "images", &device);
    let diff_images = common::max_diff(
        detector.forward(images),
        read(file, "image_logits", &device),
    );
    let sequences = read::<5>(file, "sequences", &device);
    let diff_sequences = common::max_diff(
        detector.forward_sequence(sequences),
        read(file, "sequence_logits", &device),
    );
    println!("PARITY seed detector image logits max |diff| = {diff_images:.3e}");
    println!("PARITY seed detector sequence logits max |diff| = {diff_sequences:.3e}");
    assert!(diff_images <= TOLERANCE && diff_sequences <= TOLERANCE);

    // The inference form predict runs on a CPU: BatchNorm folded, the backbone on the host
    // CPU kernels (32-group 3x3 convolutions at full size).
    let fused = detector.into_cpu_inference();
    let diff_fused = common::max_diff(
        fused.forward(read::<4>(file, "images", &device)),
        read(file, "image_logits", &device),
    );
    let diff_fused_sequences = common::max_diff(
        fused.forward_sequence(read::<5>(file, "sequences", &device)),
        read(file, "sequence_logits", &device),
    );
    println!(
        "PARITY seed detector, CPU inference form max |diff| = {diff_fused:.3e} (images), \
         {diff_fused_sequences:.3e} (sequences)"
    );
    assert!(diff_fused <= TOLERANCE && diff_fused_sequences <= TOLERANCE);
}
