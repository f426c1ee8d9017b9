//! Grad-CAM against PyTorch (`tests/fixtures/gen_grad_cam_fixtures.py`): the maps of the Fake
//! and the Real logit for images, the per-frame maps of sequences, and the maps upsampled to
//! the input, on both tiny fixtures (projection-only and identity blocks), with the backbone
//! on Burn's operations and on the host CPU engine.

use crate::common;

use burn::tensor::{Device, Tensor};
use common::{fixture, max_diff_values, read_tensor, values};
use deepfake_compare::spread;
use deepfake_model::{Detector, DetectorConfig, InferenceDetector, upsample_bilinear};

/// Maps (in [0, 1]) and logits, absolute.
const TOLERANCE: f32 = 1e-4;

fn configs() -> [(&'static str, &'static str, DetectorConfig); 2] {
    let mut deep = DetectorConfig::tiny();
    deep.backbone.layers = [2, 2, 2, 2];
    [
        ("tiny", "tiny_detector.pth", DetectorConfig::tiny()),
        ("deep", "deep_detector.pth", deep),
    ]
}

fn forms(
    weights: &str,
    config: &DetectorConfig,
    device: &Device,
) -> [(&'static str, InferenceDetector); 2] {
    let load = || Detector::from_pytorch(fixture(weights), config, device).unwrap();
    [
        ("Burn, BatchNorm folded", load().into_inference()),
        ("host CPU engine", load().into_cpu_inference()),
    ]
}

fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    let diff = max_diff_values(got, want);
    assert!(diff <= TOLERANCE, "{what}: max |diff| {diff} > {TOLERANCE}");
}

#[test]
fn grad_cam_maps_equal_pytorch_for_images_sequences_and_both_classes() {
    let device = Device::flex();
    let images: Tensor<4> = read_tensor("grad_cam_inputs.safetensors", "images", &device);
    let sequences: Tensor<5> = read_tensor("grad_cam_inputs.safetensors", "sequences", &device);
    let [count, _, height, width] = images.dims();
    for (name, weights, config) in configs() {
        let file = format!("grad_cam_{name}.safetensors");
        let want = |key: &str| values(read_tensor::<3>(&file, key, &device));
        let fake_maps = want("image_maps_fake");
        // A constant map (or one that ignores the image) cannot pass.
        let [_, map_h, map_w] = read_tensor::<3>(&file, "image_maps_fake", &device).dims();
        assert!(
            spread(&fake_maps, map_h * map_w) > 100.0 * TOLERANCE,
            "{name}: the reference maps barely differ between images"
        );
        for (form, detector) in forms(weights, &config, &device) {
            let what = format!("{name}, {form}");
            let fake = detector.grad_cam(images.clone().unsqueeze_dim(1), 1);
            assert_eq!(fake.map_size, [map_h, map_w], "{what}");
            assert_close(&format!("{what}: Fake maps"), &fake.maps, &fake_maps);
            let logits = values(read_tensor::<2>(&file, "image_logits", &device));
            assert_close(&format!("{what}: logits"), &fake.logits, &logits);
            let real = detector.grad_cam(images.clone().unsqueeze_dim(1), 0);
            assert_close(
                &format!("{what}: Real maps"),
                &real.maps,
                &want("image_maps_real"),
            );
            let sequence = detector.grad_cam(sequences.clone(), 1);
            assert_close(
                &format!("{what}: sequence frame maps"),
                &sequence.maps,
                &want("sequence_maps_fake"),
            );
            let sequence_logits = values(read_tensor::<2>(&file, "sequence_logits", &device));
            assert_close(
                &format!("{what}: sequence logits"),
                &sequence.logits,
                &sequence_logits,
            );
            let upsampled: Vec<f32> = fake
                .maps
                .chunks_exact(map_h * map_w)
                .flat_map(|map| upsample_bilinear(map, [map_h, map_w], [height, width]))
                .collect();
            assert_eq!(upsampled.len(), count * height * width);
            assert_close(
                &format!("{what}: upsampled maps"),
                &upsampled,
                &want("image_heatmaps_fake"),
            );
            assert!(fake.maps.iter().all(|v| (0.0..=1.0).contains(v)), "{what}");
        }
    }
}
