//! Helpers shared by the root package's integration tests.
#![allow(dead_code)] // Each test file uses part of this.

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::tensor::Device;
use deepfake::model::{Detector as Model, DetectorConfig};

/// The built example `name` beside this test binary (`target/<profile>/examples/<name>`):
/// `cargo test --workspace` builds the examples before the tests; a run filtered to one test
/// file does not, and must say so rather than pass without checking anything.
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let binary = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "the {name} example is not built: run `cargo test --workspace` (or `cargo build --examples` first)"
    );
    binary
}

/// A saved copy of the deep torch fixture (identity blocks; trained so P(fake) follows the
/// brightness of its input): predictions differ from image to image by far more than the
/// tolerances below.
pub fn saved_deep(dir: &Path) -> PathBuf {
    let mut config = DetectorConfig::tiny();
    config.backbone.layers = [2, 2, 2, 2];
    let weights = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("crates/deepfake-model/tests/fixtures/deep_detector.pth");
    let model = Model::from_pytorch(weights, &config, &Device::flex()).unwrap();
    let out = dir.join("deep");
    model.save(&config, &out).unwrap();
    out
}

/// Runs the `ffmpeg` binary quietly with `args`, failing the test with its error output.
pub fn ffmpeg(args: &[&str]) {
    let output = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-nostdin"])
        .args(args)
        .output()
        .expect("ffmpeg runs (apt-get install ffmpeg)");
    assert!(
        output.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A test photo of `crates/deepfake-faces/tests/fixtures` (scikit-image's sample photos,
/// composed by that folder's generator).
pub fn face_photo(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("crates/deepfake-faces/tests/fixtures")
        .join(name)
}
