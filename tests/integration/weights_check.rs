//! A saved model's weights are checked against the SHA-256 its model_info.json records: a
//! byte flipped inside the weights is an error naming the file (not silently different
//! verdicts), and `--no-verify` / `WeightsCheck::Skip` loads it anyway.

use crate::common;

use std::process::Command;

use burn::tensor::Device;
use deepfake::formats::ModelInfo;
use deepfake::model::DetectorConfig;
use deepfake::predict::{PredictError, SavedModel, WeightsCheck};
use deepfake::train::checkpoint::save_best;
use sha2::{Digest, Sha256};

use common::example;

#[test]
fn a_flipped_byte_in_the_weights_is_an_error_unless_verification_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let config = DetectorConfig::tiny();
    let device = Device::flex();
    let model = config.init(&device).unwrap();
    let best = dir.path().join("best");
    save_best(&best, &model, &config).unwrap();
    let weights = best.join("model.bpk");

    // Training's checkpoint records the digest of exactly the file it wrote.
    let bytes = std::fs::read(&weights).unwrap();
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let info = ModelInfo::read(&best.join("model_info.json")).unwrap();
    assert_eq!(info.weights_sha256.as_deref(), Some(digest.as_str()));
    SavedModel::load(&best, &device).expect("intact weights load");

    // One bit flipped in the middle of the weights.
    let mut damaged = bytes.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x10;
    std::fs::write(&weights, &damaged).unwrap();
    let error = SavedModel::load(&best, &device).unwrap_err();
    assert!(
        matches!(&error, PredictError::WeightsChanged { path, .. } if *path == weights),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.contains("model.bpk") && message.contains("--no-verify"),
        "{message}"
    );
    SavedModel::open(&best, &device, WeightsCheck::Skip).expect("--no-verify loads it");

    // The command line: refused with the file named, accepted with --no-verify.
    let image = dir.path().join("x.png");
    image::RgbImage::from_pixel(32, 32, image::Rgb([10, 200, 30]))
        .save(&image)
        .unwrap();
    let refused = Command::new(example("predict"))
        .arg("--checkpoint")
        .arg(&best)
        .arg(&image)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("changed after it was saved"), "{stderr}");
    let accepted = Command::new(example("predict"))
        .args(["--no-verify", "--checkpoint"])
        .arg(&best)
        .arg(&image)
        .output()
        .unwrap();
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
}
