//! Parity with PyTorch: the same weights give the same numbers.
//! Fixtures come from `tests/fixtures/gen_model_fixtures.py` (torch, eval mode).

use crate::common;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use common::{fixture, max_diff, read_tensor};
use deepfake_model::{
    Detector, DetectorConfig, Lstm, LstmConfig, ResNeXt, ResNeXtConfig, trainable_params,
};

const TOLERANCE: f32 = 1e-5;

#[test]
fn tiny_resnext_matches_torchvision_layout_reference() {
    let device = Device::flex();
    let config = ResNeXtConfig::tiny().with_num_classes(Some(10));
    let model =
        ResNeXt::from_torchvision_with_config(fixture("tiny_resnext.pth"), &config, &device)
            .unwrap();
    let input: Tensor<4> = read_tensor("tiny_resnext_io.safetensors", "input", &device);
    let features = read_tensor("tiny_resnext_io.safetensors", "features", &device);
    let logits = read_tensor("tiny_resnext_io.safetensors", "logits", &device);

    let diff_features = max_diff(model.forward_features(input.clone()), features);
    let diff_logits = max_diff(model.forward(input), logits);
    assert!(
        diff_features <= TOLERANCE,
        "features differ by {diff_features}"
    );
    assert!(diff_logits <= TOLERANCE, "logits differ by {diff_logits}");
}

#[test]
fn lstm_matches_torch_for_t1_t7_batch1_batch3() {
    let device = Device::flex();
    let config = LstmConfig::new(24, 16).with_num_layers(2);
    let lstm = Lstm::from_pytorch(fixture("lstm.pth"), &config, &device).unwrap();
    for (b, t) in [(1, 1), (3, 1), (1, 7), (3, 7)] {
        let input: Tensor<3> =
            read_tensor("lstm_io.safetensors", &format!("input_b{b}_t{t}"), &device);
        let expected = read_tensor("lstm_io.safetensors", &format!("output_b{b}_t{t}"), &device);
        let diff = max_diff(lstm.forward(input), expected);
        assert!(diff <= TOLERANCE, "batch {b}, T {t}: differs by {diff}");
    }
}

fn check_tiny_detector(detector: &Detector) {
    let device = Device::flex();
    let file = "tiny_detector_io.safetensors";
    let images: Tensor<4> = read_tensor(file, "images", &device);
    let sequences: Tensor<5> = read_tensor(file, "sequences", &device);
    let diff_images = max_diff(
        detector.forward(images),
        read_tensor(file, "image_logits", &device),
    );
    let diff_sequences = max_diff(
        detector.forward_sequence(sequences),
        read_tensor(file, "sequence_logits", &device),
    );
    assert!(
        diff_images <= TOLERANCE,
        "image logits differ by {diff_images}"
    );
    assert!(
        diff_sequences <= TOLERANCE,
        "sequence logits differ by {diff_sequences}"
    );
}

#[test]
fn tiny_detector_matches_reference_module_from_pth() {
    let detector = Detector::from_pytorch(
        fixture("tiny_detector.pth"),
        &DetectorConfig::tiny(),
        &Device::flex(),
    )
    .unwrap();
    check_tiny_detector(&detector);
}

#[test]
fn tiny_detector_matches_reference_module_from_safetensors() {
    let detector = Detector::from_pytorch(
        fixture("tiny_detector.safetensors"),
        &DetectorConfig::tiny(),
        &Device::flex(),
    )
    .unwrap();
    check_tiny_detector(&detector);
}

#[test]
fn saved_model_directory_round_trips_exactly() {
    let device = Device::flex();
    let config = DetectorConfig::tiny();
    let detector = Detector::from_pytorch(fixture("tiny_detector.pth"), &config, &device).unwrap();
    let dir = tempfile::tempdir().unwrap();
    detector.save(&config, dir.path()).unwrap();
    let (loaded, loaded_config) = Detector::load_dir(dir.path(), &device).unwrap();
    assert_eq!(loaded_config, config);
    check_tiny_detector(&loaded);
}

#[test]
fn parameter_counts_equal_pytorch() {
    let device = Device::flex();
    let backbone = ResNeXtConfig::resnext50_32x4d().init(&device).unwrap();
    assert_eq!(trainable_params(&backbone), 22_979_904);
    let with_fc = ResNeXtConfig::resnext50_32x4d()
        .with_num_classes(Some(1000))
        .init(&device)
        .unwrap();
    assert_eq!(trainable_params(&with_fc), 25_028_904);
    let seed = DetectorConfig::seed().init(&device).unwrap();
    assert_eq!(trainable_params(&seed), 40_036_418);

    let tiny = DetectorConfig::tiny().init(&device).unwrap();
    let torch_count: Tensor<1> = read_tensor("tiny_detector_io.safetensors", "num_params", &device);
    assert_eq!(
        trainable_params(&tiny) as f32,
        torch_count.into_scalar::<f32>()
    );
}

/// A detector written in the reference module's layout reads back to the same logits.
#[test]
fn pytorch_safetensors_round_trip_gives_identical_logits() {
    use deepfake_model::{Detector, DetectorConfig};
    let device = burn::tensor::Device::flex();
    let config = DetectorConfig::tiny();
    let weights =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny_detector.pth");
    let original = Detector::from_pytorch(&weights, &config, &device).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("detector.safetensors");
    original.save_pytorch_safetensors(&path).unwrap();
    let reread = Detector::from_pytorch(&path, &config, &device).unwrap();
    let input = burn::tensor::Tensor::<5>::random(
        [3, 2, 3, 64, 64],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    let a: Vec<f32> = original
        .forward_sequence(input.clone())
        .into_data()
        .try_to_vec()
        .unwrap();
    let b: Vec<f32> = reread
        .forward_sequence(input)
        .into_data()
        .try_to_vec()
        .unwrap();
    assert_eq!(a, b);
    // The file has exactly the reference module's keys (from the torch fixture's state dict).
    let bytes = std::fs::read(&path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut ours: Vec<String> = file.names().into_iter().map(String::from).collect();
    ours.sort();
    let keys_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tiny_detector_keys.json");
    let mut expected: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(keys_path).unwrap()).unwrap();
    expected.sort();
    assert_eq!(ours, expected);
}

// The inference forms (BatchNorm folded; the host CPU engine in every schedule) are compared
// with torch, features and logits, in `inference_forms.rs`.

/// `load_pretrained_backbone` takes a torchvision checkpoint (ImageNet-sized `fc`, ignored):
/// the backbone then gives torch's features for it; the LSTM and classifier keep their
/// initial weights.
#[test]
fn pretrained_backbone_gives_torchvision_features_and_leaves_the_head() {
    let device = Device::flex();
    let config = DetectorConfig::tiny();
    device.seed(3);
    let fresh = config.init(&device).unwrap();
    let head = common::values(fresh.classifier.fc2.weight.val());
    let lstm = common::values(fresh.lstm.layers[0].forward.input_to_gates.weight.val());
    let loaded = fresh
        .load_pretrained_backbone(fixture("tiny_resnext_imagenet.pth"), &config, &device)
        .unwrap();
    let file = "tiny_resnext_imagenet_io.safetensors";
    let input: Tensor<4> = read_tensor(file, "input", &device);
    let features: Tensor<2> = read_tensor(file, "features", &device);
    let spread = deepfake_compare::spread(&common::values(features.clone()), 256);
    assert!(
        spread > 1e-2,
        "the reference features barely vary ({spread})"
    );
    let diff = max_diff(loaded.backbone.forward_features(input), features);
    assert!(diff <= TOLERANCE, "features differ by {diff}");
    assert_eq!(common::values(loaded.classifier.fc2.weight.val()), head);
    assert_eq!(
        common::values(loaded.lstm.layers[0].forward.input_to_gates.weight.val()),
        lstm
    );
    // The checkpoint's ImageNet `fc` is not kept: the detector has the parameters it had.
    assert!(loaded.backbone.fc.is_none());
    assert_eq!(
        loaded.num_params(),
        config.init(&device).unwrap().num_params()
    );
}

/// The deep fixture (identity blocks, `layerN.1.*` keys) written in the reference layout and
/// read back gives bit-identical logits, and those are torch's (1e-5 relative to their size).
#[test]
fn deep_detector_round_trips_through_the_pytorch_layout() {
    let device = Device::flex();
    let mut config = DetectorConfig::tiny();
    config.backbone.layers = [2, 2, 2, 2];
    let original = Detector::from_pytorch(fixture("deep_detector.pth"), &config, &device).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.safetensors");
    original.save_pytorch_safetensors(&path).unwrap();
    let reread = Detector::from_pytorch(&path, &config, &device).unwrap();
    let file = "deep_detector_io.safetensors";
    let images: Tensor<4> = read_tensor(file, "images", &device);
    let logits = common::values(reread.forward(images.clone()));
    assert_eq!(logits, common::values(original.forward(images)));
    let want = common::values(read_tensor::<2>(file, "image_logits", &device));
    let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let diff = common::max_diff_values(&logits, &want);
    assert!(
        diff <= TOLERANCE * scale,
        "logits differ from torch's by {diff}"
    );
}
