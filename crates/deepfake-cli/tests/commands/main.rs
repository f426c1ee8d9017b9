//! The `deepfake` binary's commands, run as a user runs them: arguments in, exit status,
//! standard output and files out. One module per command.

mod binary;
mod data_info;
mod eval;
mod export;
mod predict;
#[cfg(unix)]
mod serve;
mod train;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use burn::tensor::Device;
use deepfake::model::{Detector, DetectorConfig};

/// Runs `deepfake ARGS...` to the end (`&[&"eval", &"--out", &path]`).
fn deepfake(args: &[&dyn AsRef<OsStr>]) -> Output {
    deepfake_in(Path::new("."), args)
}

/// [`deepfake`] run in the folder `dir` (where relative paths land).
fn deepfake_in(dir: &Path, args: &[&dyn AsRef<OsStr>]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deepfake"))
        .current_dir(dir)
        .args(args.iter().map(|arg| arg.as_ref()))
        .output()
        .expect("the deepfake binary runs")
}

/// The standard output of a run that must have succeeded (else the test fails with its
/// standard error).
fn stdout_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The standard error of a run that must have failed with exit status `code`.
fn stderr_of_failure(output: &Output, code: i32) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout: {}\nstderr: {stderr}",
        String::from_utf8_lossy(&output.stdout)
    );
    stderr
}

/// A freshly initialised tiny detector (64 x 64 inputs) saved in `dir/model`.
fn tiny_model(dir: &Path) -> PathBuf {
    let config = DetectorConfig::tiny();
    let model = config.init(&Device::flex()).expect("tiny detector");
    let model_dir = dir.join("model");
    model.save(&config, &model_dir).expect("model saved");
    model_dir
}

/// The deep torch fixture (identity blocks; trained so that its logits follow the
/// brightness of its input) saved in `dir/deep`.
fn deep_model(dir: &Path) -> PathBuf {
    let mut config = DetectorConfig::tiny();
    config.backbone.layers = [2, 2, 2, 2];
    let weights = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deepfake-model/tests/fixtures/deep_detector.pth");
    let model = Detector::from_pytorch(weights, &config, &Device::flex()).expect("torch fixture");
    let model_dir = dir.join("deep");
    model.save(&config, &model_dir).expect("model saved");
    model_dir
}

/// Synthetic data written by `deepfake synth` into `dir/data`: `per_class` training images
/// per class (valid and test a fifth of that, rounded up), `size` x `size` pixels.
fn synthetic(dir: &Path, per_class: usize, size: u32) -> PathBuf {
    let data = dir.join("data");
    stdout_of(&deepfake(&[
        &"synth",
        &"--out",
        &data,
        &"--per-class",
        &per_class.to_string(),
        &"--size",
        &size.to_string(),
    ]));
    data
}

/// Overwrites the first (by name) test image of `class` ("real" or "fake") in synthetic
/// data with bytes that are no image; returns its path.
fn corrupt_a_test_image(data: &Path, class: &str) -> PathBuf {
    let folder = data.join("real_vs_fake/real-vs-fake/test").join(class);
    let mut images: Vec<PathBuf> = std::fs::read_dir(&folder)
        .expect("synthetic test folder")
        .map(|entry| entry.expect("folder entry").path())
        .collect();
    images.sort();
    let image = images.first().expect("a test image").clone();
    std::fs::write(&image, b"not an image").expect("image overwritten");
    image
}
