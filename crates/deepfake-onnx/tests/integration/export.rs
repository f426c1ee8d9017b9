//! Export behaviour that needs no ONNX runtime: the model in use is untouched, bad options
//! are errors, `model_info.json` describes the file.

use burn::tensor::{Device, Distribution, Tensor};
use deepfake_formats::ModelInfo;
use deepfake_model::{Detector, DetectorConfig};
use deepfake_onnx::{ExportOptions, OnnxError, describe_export, export_onnx, sha256_hex};

/// The tiny detector with the PyTorch fixture's weights.
pub(crate) fn tiny(device: &Device) -> (Detector, DetectorConfig) {
    let config = DetectorConfig::tiny();
    let weights = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deepfake-model/tests/fixtures/tiny_detector.pth");
    (
        Detector::from_pytorch(weights, &config, device).expect("tiny fixture loads"),
        config,
    )
}

#[test]
fn exporting_leaves_the_model_in_use_unchanged() {
    let device = Device::flex();
    let (model, config) = tiny(&device);
    let images = Tensor::<4>::random([3, 3, 64, 64], Distribution::Default, &device);
    let before: Vec<f32> = model
        .forward(images.clone())
        .into_data()
        .try_to_vec()
        .unwrap();
    for static_batch in [false, true] {
        let options = ExportOptions {
            static_batch,
            ..ExportOptions::default()
        };
        export_onnx(&model, &config, options, &device).expect("export");
    }
    // BatchNorm running statistics are shared between clones; a trace that moved them onto
    // its capture device would make this forward panic or change.
    let after: Vec<f32> = model.forward(images).into_data().try_to_vec().unwrap();
    assert_eq!(before, after);
}

#[test]
fn bad_options_are_errors() {
    let device = Device::flex();
    let (model, config) = tiny(&device);
    for options in [
        ExportOptions {
            temperature: 0.0,
            ..ExportOptions::default()
        },
        ExportOptions {
            temperature: f64::NAN,
            ..ExportOptions::default()
        },
        ExportOptions {
            seq_len: Some(0),
            ..ExportOptions::default()
        },
    ] {
        let error = export_onnx(&model, &config, options, &device).unwrap_err();
        assert!(matches!(error, OnnxError::Options(_)), "{error}");
    }
}

#[test]
fn model_info_describes_the_file_and_round_trips() {
    let device = Device::flex();
    let (model, config) = tiny(&device);
    let options = ExportOptions {
        seq_len: Some(3),
        temperature: 0.5,
        ..ExportOptions::default()
    };
    let exported = export_onnx(&model, &config, options, &device).unwrap();
    let mut saved_info = model.model_info(&config);
    saved_info.threshold = 0.42;
    saved_info.temperature = Some(0.5);
    saved_info.weights_sha256 = Some(sha256_hex(b"the checkpoint's weights"));
    let info = describe_export(&exported, options, "m.onnx", saved_info.clone()).unwrap();
    let onnx = info.onnx.clone().expect("an onnx section");
    assert_eq!(onnx.sha256, sha256_hex(&exported.bytes));
    // FIPS 180-2 test vector: the digest itself is independent of this crate.
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(onnx.sha256.len(), 64);
    assert_eq!(onnx.bytes, exported.bytes.len());
    assert_eq!(onnx.input.name, "input");
    assert_eq!(onnx.input.shape, ["batch", "3", "3", "64", "64"]);
    assert_eq!(onnx.outputs[1].name, "p_fake");
    assert_eq!(onnx.seq_len, Some(3));
    assert_eq!(onnx.p_fake_temperature, 0.5);
    // Everything else is the saved model's own record, in the one schema.
    assert_eq!(
        ModelInfo {
            onnx: None,
            weights_sha256: saved_info.weights_sha256.clone(),
            ..info.clone()
        },
        saved_info
    );
    assert_eq!((info.temperature, info.threshold), (Some(0.5), 0.42));
    // The checkpoint's digest describes its weights file, which does not travel with the export.
    assert_eq!(info.weights_sha256, None);
    assert_eq!(info.parameters, deepfake_model::trainable_params(&model));
    assert_eq!(info.class_names, ["real", "fake"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model_info.json");
    info.write(&path).unwrap();
    assert_eq!(ModelInfo::read(&path).unwrap(), info);
    // A saved model's file (no onnx section) reads back without one.
    saved_info.write(&path).unwrap();
    assert_eq!(ModelInfo::read(&path).unwrap().onnx, None);
}
