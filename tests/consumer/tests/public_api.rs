//! The consumer crate's functions work on a saved tiny detector.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use deepfake::model::{Detector as Model, DetectorConfig};
use deepfake_consumer_example::{score_files, score_images};

fn saved_tiny(dir: &Path) -> PathBuf {
    let weights = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../crates/deepfake-model/tests/fixtures/tiny_detector.pth");
    let config = DetectorConfig::tiny();
    let model = Model::from_pytorch(weights, &config, &Device::flex()).unwrap();
    let out = dir.join("model");
    model.save(&config, &out).unwrap();
    out
}

#[test]
fn a_separate_crate_scores_files_and_images() {
    let dir = tempfile::tempdir().unwrap();
    let model = saved_tiny(dir.path());
    let image = image::RgbImage::from_fn(50, 40, |x, y| {
        image::Rgb([(x * 5) as u8, (y * 6) as u8, 90])
    });
    let good = dir.path().join("good.png");
    image.save(&good).unwrap();
    let bad = dir.path().join("bad.png");
    std::fs::write(&bad, b"not an image").unwrap();

    let results = score_files(&model, &[&good, &bad]).unwrap();
    let first = results[0].as_ref().unwrap();
    assert!((0.0..=1.0).contains(&first.p_fake));
    assert!(results[1].as_ref().unwrap_err().contains("bad.png"));

    let in_memory = score_images(&model, &[image::DynamicImage::ImageRgb8(image)]).unwrap();
    assert_eq!(in_memory[0], *first);

    let missing = score_files(&dir.path().join("nothing"), &[&good]).unwrap_err();
    assert!(missing.contains("config.json"), "{missing}");
}
