//! Mismatched or missing files give errors that name the file, never a panic.

use crate::common;

use burn::tensor::Device;
use common::fixture;
use deepfake_model::{Detector, DetectorConfig, Error, LstmConfig, ResNeXt, ResNeXtConfig};

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

/// The deep fixture (two blocks per stage) under the tiny config (one): its second blocks have
/// no place in the model, and the error names them.
#[test]
fn tensors_without_a_place_in_the_model_are_named() {
    let err = Detector::from_pytorch(
        fixture("deep_detector.pth"),
        &DetectorConfig::tiny(),
        &Device::flex(),
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("deep_detector.pth"), "{message}");
    assert!(message.contains("have no place in the model"), "{message}");
    assert!(
        message.contains(".1."),
        "names a second block's tensor: {message}"
    );
    assert!(!message.contains("missing"), "{message}");
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

    // Weights with more blocks than the config has: nothing missing, nothing misshapen, but
    // tensors left over.
    let deep_dir = tempfile::tempdir().unwrap();
    let mut deep = DetectorConfig::tiny();
    deep.backbone.layers = [2, 2, 2, 2];
    deep.init(&device)
        .unwrap()
        .save(&deep, deep_dir.path())
        .unwrap();
    std::fs::write(deep_dir.path().join("config.json"), tiny.to_string()).unwrap();
    let err = Detector::load_dir(deep_dir.path(), &device).unwrap_err();
    assert!(err.to_string().contains("0 missing"), "{err}");
    assert!(err.to_string().contains("do not match"), "{err}");
}

/// A saved model is a directory with `config.json` and `model.bpk`; a training run's folder
/// holds its best one in `best/`.
#[test]
fn saved_models_are_found_in_the_directory_or_its_best_checkpoint() {
    use deepfake_model::saved::{find_model_dir, is_saved_model};
    let device = Device::flex();
    let run = tempfile::tempdir().unwrap();
    assert!(!is_saved_model(run.path()));
    assert_eq!(find_model_dir(run.path()), None);
    let tiny = DetectorConfig::tiny();
    let best = run.path().join("best");
    tiny.init(&device).unwrap().save(&tiny, &best).unwrap();
    assert!(is_saved_model(&best));
    assert_eq!(find_model_dir(run.path()), Some(best.clone()));
    assert_eq!(find_model_dir(&best), Some(best.clone()));
    // Each file alone is not a saved model.
    for file in ["config.json", "model.bpk"] {
        let one = tempfile::tempdir().unwrap();
        std::fs::copy(best.join(file), one.path().join(file)).unwrap();
        assert!(!is_saved_model(one.path()), "only {file}");
    }
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

/// Each limit of the architecture at its edge: the smallest accepted value passes, one less
/// (or each zero alone) is an `Architecture` error.
#[test]
fn architecture_limits_are_exact() {
    let device = Device::flex();
    let refused = |result: deepfake_model::Result<()>, what: &str| {
        assert!(
            matches!(result, Err(Error::Architecture(_))),
            "{what}: {result:?}"
        );
    };
    // The input side: 32 pixels (one pixel of layer 4's map) is the least.
    assert!(
        DetectorConfig::tiny()
            .with_image_size(32)
            .validate()
            .is_ok()
    );
    refused(
        DetectorConfig::tiny().with_image_size(31).validate(),
        "image_size 31",
    );
    // A group's width at the first stage is base_planes * width_per_group / 64 channels.
    let tiny = ResNeXtConfig::tiny;
    assert!(
        tiny()
            .with_base_planes(1)
            .with_width_per_group(64)
            .validate()
            .is_ok()
    );
    refused(
        tiny()
            .with_base_planes(1)
            .with_width_per_group(63)
            .validate(),
        "1 * 63 / 64 channels per group",
    );
    // Each LSTM size alone.
    for (input, hidden, layers) in [(0, 4, 1), (4, 0, 1), (4, 4, 0)] {
        let config = LstmConfig::new(input, hidden).with_num_layers(layers);
        refused(
            config.init(&device).map(|_| ()),
            &format!("LSTM input {input}, hidden {hidden}, layers {layers}"),
        );
    }
    assert!(LstmConfig::new(1, 1).init(&device).is_ok());
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
