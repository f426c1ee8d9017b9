//! The exported detector runs in tract (a pure-Rust ONNX runtime, independent of Burn) and
//! gives Burn's numbers: logits within 1e-5 (relative to their magnitude above 1) and `p_fake`
//! equal to the calibrated softmax, at batch 1 and 5, for single images and for 4-frame
//! sequences, with a dynamic batch axis and with a static one. The model is the deep torch
//! fixture (identity blocks, trained briefly on "fake = brighter"), fed inputs of increasing
//! brightness, so its P(fake) spreads over the batch (asserted): a wrong graph cannot hide
//! behind a model whose output ignores its input.

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Distribution, Tensor};
use deepfake_model::{Detector, DetectorConfig};
use deepfake_onnx::{ExportOptions, ExportedModel, export_onnx};
use tract_onnx::prelude::{
    Datum, Framework, InferenceFact, InferenceModelExt, Tensor as TractTensor, tvec,
};

const TOLERANCE: f32 = 1e-5;

/// The deep fixture of `deepfake-model` (layers `[2,2,2,2]`, input-sensitive).
fn deep_detector(device: &Device) -> (Detector, DetectorConfig) {
    let mut config = DetectorConfig::tiny();
    config.backbone.layers = [2, 2, 2, 2];
    let weights = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deepfake-model/tests/fixtures/deep_detector.pth");
    let model = Detector::from_pytorch(weights, &config, device).expect("deep fixture loads");
    (model, config)
}

/// `[batch, steps, 3, size, size]` noise, each sample brighter than the one before (from -1
/// to +1), as the deep fixture was trained to tell apart.
fn graded_frames(batch: usize, steps: usize, size: usize, device: &Device) -> Tensor<5> {
    let noise = Tensor::<5>::random(
        [batch, steps, 3, size, size],
        Distribution::Normal(0.0, 1.0),
        device,
    );
    let offsets: Vec<f32> = (0..batch)
        .map(|i| match batch {
            1 => 0.0,
            _ => -1.0 + 2.0 * i as f32 / (batch - 1) as f32,
        })
        .collect();
    let offsets = Tensor::<1>::from_floats(offsets.as_slice(), device).reshape([batch, 1, 1, 1, 1]);
    noise + offsets
}

/// Runs `bytes` in tract on `input` (shape `dims`); returns (logits, p_fake).
fn run_tract(bytes: &[u8], dims: &[usize], input: Vec<f32>) -> (Vec<f32>, Vec<f32>) {
    let runnable = tract_onnx::onnx()
        .model_for_read(&mut &bytes[..])
        .expect("tract reads the file")
        .with_input_fact(0, InferenceFact::dt_shape(f32::datum_type(), dims))
        .expect("input fact")
        .into_optimized()
        .expect("tract optimises the graph")
        .into_runnable()
        .expect("tract plans the graph");
    let array = tract_onnx::prelude::tract_ndarray::ArrayD::from_shape_vec(dims, input)
        .expect("input shape");
    let outputs = runnable
        .run(tvec!(TractTensor::from(array).into()))
        .expect("tract runs the graph");
    assert_eq!(outputs.len(), 2, "two outputs: logits and p_fake");
    let logits = outputs[0].as_slice::<f32>().expect("f32 logits").to_vec();
    let p_fake = outputs[1].as_slice::<f32>().expect("f32 p_fake").to_vec();
    (logits, p_fake)
}

use deepfake_compare::max_abs_diff_or_panic as max_diff;

/// Exports with `options` and checks tract against Burn at each of `batches`.
fn check(options: ExportOptions, batches: &[usize]) -> ExportedModel {
    let device = Device::flex();
    let (model, config) = deep_detector(&device);
    let exported = export_onnx(&model, &config, options, &device).expect("export");
    let size = config.image_size;
    for &batch in batches {
        let steps = options.seq_len.unwrap_or(1);
        let frames = graded_frames(batch, steps, size, &device);
        let logits = model.forward_sequence(frames.clone());
        let calibrated = softmax(logits.clone().div_scalar(options.temperature), 1);
        let expected: Vec<f32> = logits.into_data().try_to_vec().unwrap();
        let expected_p: Vec<f32> = calibrated
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
            .chunks(2)
            .map(|row| row[1])
            .collect();
        let values: Vec<f32> = frames.into_data().try_to_vec().unwrap();
        let (logits, p_fake) = match options.seq_len {
            None => run_tract(&exported.bytes, &[batch, 3, size, size], values),
            Some(t) => run_tract(&exported.bytes, &[batch, t, 3, size, size], values),
        };
        if batch > 1 {
            let spread = deepfake_compare::spread(&expected_p, 1);
            assert!(
                spread >= 0.3,
                "batch {batch}: P(fake) spreads only {spread}"
            );
        }
        let logit_diff = max_diff(&logits, &expected);
        let p_diff = max_diff(&p_fake, &expected_p);
        let (logit_tolerance, p_tolerance) = (
            deepfake_compare::scaled_tolerance(TOLERANCE, &expected),
            TOLERANCE,
        );
        println!(
            "{options:?} batch {batch}: max |logit diff| {logit_diff:.2e}, max |p_fake diff| {p_diff:.2e}"
        );
        assert!(
            logit_diff <= logit_tolerance,
            "batch {batch}: logits differ by {logit_diff} > {logit_tolerance}"
        );
        assert!(
            p_diff <= p_tolerance,
            "batch {batch}: p_fake differs by {p_diff} > {p_tolerance}"
        );
    }
    exported
}

#[test]
fn single_images_with_dynamic_batch_match_burn_at_batch_1_and_5() {
    let exported = check(ExportOptions::default(), &[1, 5]);
    let summary = &exported.summary;
    assert_eq!(summary.inputs.len(), 1);
    assert_eq!(summary.inputs[0].name, "input");
    assert_eq!(summary.inputs[0].shape, ["batch", "3", "64", "64"]);
    assert_eq!(summary.inputs[0].dtype, "float32");
    let outputs: Vec<(&str, Vec<String>)> = summary
        .outputs
        .iter()
        .map(|o| (o.name.as_str(), o.shape.clone()))
        .collect();
    assert_eq!(
        outputs,
        [
            ("logits", vec!["batch".to_string(), "2".into()]),
            ("p_fake", vec!["batch".to_string()])
        ]
    );
    assert_eq!(summary.opset, 18);
    assert!(summary.operators.contains_key("Conv"));
    assert!(
        !summary.operators.contains_key("Slice"),
        "{:?}",
        summary.operators
    );
}

#[test]
fn four_frame_sequences_with_dynamic_batch_match_burn_at_batch_1_and_5() {
    let exported = check(
        ExportOptions {
            seq_len: Some(4),
            ..ExportOptions::default()
        },
        &[1, 5],
    );
    assert_eq!(
        exported.summary.inputs[0].shape,
        ["batch", "4", "3", "64", "64"]
    );
}

#[test]
fn static_batch_export_matches_burn_and_folds_the_temperature_into_p_fake() {
    let exported = check(
        ExportOptions {
            static_batch: true,
            temperature: 0.4,
            ..ExportOptions::default()
        },
        &[1],
    );
    assert_eq!(exported.summary.inputs[0].shape, ["1", "3", "64", "64"]);
}
