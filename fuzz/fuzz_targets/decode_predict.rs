//! Any bytes through decode -> evaluation preprocessing -> prediction with the tiny
//! detector: must never panic, and every prediction must be a probability.
//!
//! `cargo +nightly fuzz run decode_predict -s none -- -max_len=65536 -runs=1000000`
//! (from the repository root). Seed inputs: fuzz/seeds/decode_predict (pass the folder as a second
//! corpus: `cargo +nightly fuzz run decode_predict fuzz/corpus/decode_predict fuzz/seeds/decode_predict`).
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use burn::tensor::Device;
use deepfake::Detector;
use deepfake::data::{DecodeLimits, decode_bytes};
use deepfake::model::DetectorConfig;
use libfuzzer_sys::fuzz_target;

fn detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(|| {
        let device = Device::flex();
        device.seed(0);
        // The tiny architecture at 32x32 keeps each run fast; random weights are enough to
        // exercise every code path.
        let config = DetectorConfig {
            image_size: 32,
            ..DetectorConfig::tiny()
        };
        let model = config.init(&device).expect("tiny config is valid");
        Detector::new(model, config, &device)
    })
}

fuzz_target!(|bytes: &[u8]| {
    // Small limit: the fuzzer should explore formats, not allocate gigabytes.
    let limits = DecodeLimits {
        max_pixels: 1 << 20,
    };
    let Ok(image) = decode_bytes(bytes, Path::new("fuzz-input"), limits) else {
        return;
    };
    let predictions = detector()
        .predict(&[image::DynamicImage::ImageRgb8(image)])
        .expect("a decoded image has pixels");
    for p in predictions {
        assert!((0.0..=1.0).contains(&p.p_fake), "p_fake {} is not a probability", p.p_fake);
    }
});
