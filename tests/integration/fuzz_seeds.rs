//! The fuzz target's seed inputs (`fuzz/seeds/decode_predict`) replayed on every test run with
//! the target's own checks: decoding any of them either fails cleanly or gives an image whose
//! prediction is a probability, never a panic. (`fuzz/` needs nightly and cargo-fuzz; this
//! keeps its corpus exercised by `cargo test`.)

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use deepfake::Detector;
use deepfake::data::{DecodeLimits, decode_bytes};
use deepfake::model::DetectorConfig;

/// The fuzz target's detector: the tiny architecture at 32x32, random weights, seed 0.
fn detector() -> Detector {
    let device = Device::flex();
    device.seed(0);
    let config = DetectorConfig {
        image_size: 32,
        ..DetectorConfig::tiny()
    };
    let model = config.init(&device).expect("tiny config is valid");
    Detector::new(model, config, &device)
}

#[test]
fn every_fuzz_seed_decodes_cleanly_or_is_rejected() {
    let seeds = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/decode_predict");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&seeds)
        .unwrap_or_else(|e| panic!("{}: {e}", seeds.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "only {} seeds in {}",
        files.len(),
        seeds.display()
    );
    let detector = detector();
    let limits = DecodeLimits {
        max_pixels: 1 << 20,
    };
    let mut decoded = 0;
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let Ok(image) = decode_bytes(&bytes, Path::new("fuzz-input"), limits) else {
            continue;
        };
        decoded += 1;
        let predictions = detector
            .predict(&[image::DynamicImage::ImageRgb8(image)])
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for p in predictions {
            assert!(
                (0.0..=1.0).contains(&p.p_fake),
                "{}: p_fake {} is not a probability",
                file.display(),
                p.p_fake
            );
        }
    }
    // The seeds include valid images of each format, so the prediction path really runs.
    assert!(
        decoded >= 3,
        "only {decoded} of {} seeds decode",
        files.len()
    );
}
