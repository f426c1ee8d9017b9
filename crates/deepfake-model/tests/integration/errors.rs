//! Mismatched or missing files give errors that name the file, never a panic.

use crate::common;

use burn::tensor::Device;
use common::fixture;
use deepfake_model::{Detector, DetectorConfig, Error, ResNeXt, ResNeXtConfig};

#[test]
fn weights_for_another_architecture_are_rejected_with_the_file_name() {
    let config = DetectorConfig::tiny().with_lstm_hidden(8);
    let err =
        Detector::from_pytorch(fixture("tiny_detector.pth"), &config, &Device::flex()).unwrap_err();
    assert!(matches!(err, Error::Weights { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("tiny_detector.pth"), "{message}");
    assert!(
        message.contains("lstm"),
        "names the offending tensors: {message}"
    );
}

#[test]
fn a_backbone_file_is_not_a_detector() {
    let err = Detector::from_pytorch(
        fixture("tiny_resnext.pth"),
        &DetectorConfig::tiny(),
        &Device::flex(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
}

#[test]
fn missing_weights_file_says_what_to_pass() {
    let err = ResNeXt::from_torchvision("/nonexistent/resnext.pth", &Device::flex()).unwrap_err();
    assert!(matches!(err, Error::MissingFile { .. }), "{err}");
}

#[test]
fn saved_directory_without_config_or_with_other_weights_is_rejected() {
    let device = Device::flex();
    let empty = tempfile::tempdir().unwrap();
    let err = Detector::load_dir(empty.path(), &device).unwrap_err();
    assert!(err.to_string().contains("config.json"), "{err}");

    // Weights of the tiny preset under a config that says otherwise.
    let dir = tempfile::tempdir().unwrap();
    let tiny = DetectorConfig::tiny();
    tiny.init(&device).unwrap().save(&tiny, dir.path()).unwrap();
    let other = tiny.clone().with_head_hidden(32);
    std::fs::write(dir.path().join("config.json"), other.to_string()).unwrap();
    let err = Detector::load_dir(dir.path(), &device).unwrap_err();
    assert!(err.to_string().contains("do not match"), "{err}");
}

#[test]
fn impossible_architectures_are_errors() {
    let device = Device::flex();
    let zero_groups = ResNeXtConfig::tiny().with_groups(0);
    assert!(matches!(
        zero_groups.init(&device),
        Err(Error::Architecture(_))
    ));
    let with_fc = DetectorConfig::new(ResNeXtConfig::tiny().with_num_classes(Some(3)));
    assert!(matches!(with_fc.init(&device), Err(Error::Architecture(_))));
    // Everything downstream reads logits as [real, fake]: a third class is refused up front.
    let three_classes = DetectorConfig::tiny().with_num_classes(3);
    let error = three_classes.init(&device).unwrap_err();
    assert!(error.to_string().contains("num_classes = 2"), "{error}");
    assert!(DetectorConfig::tiny().init(&device).is_ok());
}

/// A `.pth` whose pickle calls `os.system` (`gen_hostile_fixtures.py`; `torch.load(...,
/// weights_only=False)` runs it) is refused with an error naming the file, and the payload
/// never runs: burn-store interprets the pickle opcodes itself and builds no Python objects.
#[test]
fn a_pickle_with_a_code_execution_payload_is_refused_and_not_run() {
    let marker = std::path::Path::new("/tmp/deepfake-pickle-payload-ran");
    let _ = std::fs::remove_file(marker);
    for name in ["pickle_payload_zip.pth", "pickle_payload_legacy.pth"] {
        let err = Detector::from_pytorch(fixture(name), &DetectorConfig::tiny(), &Device::flex())
            .unwrap_err();
        assert!(matches!(err, Error::Weights { .. }), "{name}: {err}");
        assert!(err.to_string().contains(name), "names the file: {err}");
        assert!(!marker.exists(), "{name}: the payload ran");
    }
}
