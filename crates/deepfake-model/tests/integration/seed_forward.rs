//! The full-size seed detector builds and scores one 224x224 image on CPU.

use burn::tensor::{Device, Distribution, Tensor};
use deepfake_model::DetectorConfig;

#[test]
fn seed_detector_scores_one_224_image_with_finite_logits() {
    let device = Device::flex();
    let detector = DetectorConfig::seed().init(&device).unwrap();
    let image = Tensor::<4>::random([1, 3, 224, 224], Distribution::Normal(0.0, 1.0), &device);
    let logits = detector
        .forward(image)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(logits.len(), 2);
    assert!(logits.iter().all(|v| v.is_finite()), "logits {logits:?}");
}
