//! `deepfake export`: to ONNX with its `model_info.json`, and to a PyTorch state dict.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Distribution, Tensor};
use deepfake::formats::{MODEL_INFO_FILE, ModelInfo};
use deepfake::model::Detector as Model;
use deepfake_compare::{max_abs_diff_or_panic, spread};

use crate::{deep_model, deepfake, stderr_of_failure, stdout_of, tiny_model};

/// The tiny model of `dir/model`, with a calibration temperature of 2 recorded beside it.
fn calibrated_tiny_model(dir: &Path) -> PathBuf {
    let model_dir = tiny_model(dir);
    let (model, config) = Model::load_dir(&model_dir, &Device::flex()).expect("model loads");
    let mut info = model.model_info(&config);
    info.temperature = Some(2.0);
    info.write(&model_dir.join(MODEL_INFO_FILE))
        .expect("model_info.json written");
    model_dir
}

/// ONNX for images with a dynamic batch and the model's temperature; then for sequences of
/// 3 frames, batch 1, without the temperature: what is printed and what `model_info.json`
/// records follow the options, and the file is the one described.
#[test]
fn export_to_onnx_follows_its_options_and_describes_the_file() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let model = calibrated_tiny_model(dir.path());

    let out = dir.path().join("images/detector.onnx");
    let stdout = stdout_of(&deepfake(&[
        &"export",
        &"--checkpoint",
        &model,
        &"--out",
        &out,
    ]));
    let info_path = out.with_file_name(MODEL_INFO_FILE);
    assert!(
        stdout.starts_with(&format!("wrote {} (", out.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(", opset 18, ")
            && stdout.contains(&format!(" and {} in ", info_path.display())),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|line| line.trim_start().starts_with("input ")
                && line.ends_with(" [batch, 3, 64, 64] float32")),
        "{stdout}"
    );
    assert!(
        stdout.contains("p_fake = sigmoid((logit_fake - logit_real) / 2), fake when p_fake >= 0.5"),
        "{stdout}"
    );
    let bytes = std::fs::read(&out).expect("the ONNX file");
    let sha256 = deepfake::onnx::sha256_hex(&bytes);
    assert!(stdout.contains(&format!("  sha256 {sha256}\n")), "{stdout}");
    let info = ModelInfo::read(&info_path).expect("model_info.json beside the model");
    assert_eq!(info.temperature, Some(2.0));
    let onnx = info.onnx.expect("an onnx section");
    assert_eq!(onnx.file, "detector.onnx");
    assert_eq!(onnx.sha256, sha256);
    assert_eq!(onnx.bytes, bytes.len());
    assert_eq!(onnx.input.shape, ["batch", "3", "64", "64"]);
    assert_eq!(onnx.seq_len, None);
    assert_eq!(onnx.p_fake_temperature, 2.0);
    assert_eq!(onnx.source, Some(model.display().to_string()));

    let out = dir.path().join("sequences/detector.onnx");
    let stdout = stdout_of(&deepfake(&[
        &"export",
        &"--checkpoint",
        &model,
        &"--out",
        &out,
        &"--seq-len",
        &"3",
        &"--static-batch",
        &"--no-temperature",
    ]));
    assert!(
        stdout.contains("p_fake = sigmoid((logit_fake - logit_real) / 1), "),
        "{stdout}"
    );
    let onnx = ModelInfo::read(&out.with_file_name(MODEL_INFO_FILE))
        .expect("model_info.json beside the model")
        .onnx
        .expect("an onnx section");
    assert_eq!(onnx.input.shape, ["1", "3", "3", "64", "64"]);
    assert_eq!(onnx.seq_len, Some(3));
    assert_eq!(onnx.p_fake_temperature, 1.0);
}

/// The PyTorch state dict loads back into the reference layout and gives the model's
/// logits; the ONNX-only options are refused with it.
#[test]
fn export_to_pytorch_round_trips_and_refuses_onnx_options() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let model_dir = deep_model(dir.path());
    let out = dir.path().join("torch/detector.safetensors");
    let stdout = stdout_of(&deepfake(&[
        &"export",
        &"--checkpoint",
        &model_dir,
        &"--format",
        &"safetensors-pytorch",
        &"--out",
        &out,
    ]));
    let bytes = std::fs::metadata(&out).expect("the state dict").len();
    assert!(
        stdout.starts_with(&format!("wrote {} ({bytes} bytes) in ", out.display())),
        "{stdout}"
    );
    let device = Device::flex();
    let (model, config) = Model::load_dir(&model_dir, &device).expect("model loads");
    let exported = Model::from_pytorch(&out, &config, &device).expect("state dict loads");
    // Three images, darker to brighter.
    let brightness = Tensor::<1>::from_floats([-1.0, 0.0, 1.0], &device).reshape([3, 1, 1, 1]);
    let images =
        Tensor::<4>::random([3, 3, 64, 64], Distribution::Normal(0.0, 0.5), &device) + brightness;
    let want: Vec<f32> = model
        .forward(images.clone())
        .into_data()
        .try_to_vec()
        .expect("f32 logits");
    let got: Vec<f32> = exported
        .forward(images)
        .into_data()
        .try_to_vec()
        .expect("f32 logits");
    let diff = max_abs_diff_or_panic(&got, &want);
    assert!(diff <= 1e-6, "logits differ by {diff}");
    assert!(spread(&want, 2) > 1e-3, "logits {want:?} do not vary");

    for option in ["--static-batch", "--seq-len=3"] {
        let stderr = stderr_of_failure(
            &deepfake(&[
                &"export",
                &"--checkpoint",
                &model_dir,
                &"--format",
                &"safetensors-pytorch",
                &"--out",
                &out,
                &option,
            ]),
            1,
        );
        assert!(
            stderr.contains("--seq-len and --static-batch apply to --format onnx only"),
            "{option}: {stderr}"
        );
    }
}
