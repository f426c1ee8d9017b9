//! The exported tiny detector runs in tract (a pure-Rust ONNX runtime) with Burn's numbers.

use burn::tensor::{Device, Distribution, Tensor};
use deepfake_model::{Detector, DetectorConfig};
use deepfake_onnx::{ExportOptions, export_onnx};
use tract_onnx::prelude::{Datum, Framework, InferenceFact, InferenceModelExt, tvec};

#[test]
fn exported_tiny_detector_matches_burn_in_tract() {
    let device = Device::flex();
    let config = DetectorConfig::tiny();
    let weights = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deepfake-model/tests/fixtures/tiny_detector.pth");
    let model = Detector::from_pytorch(weights, &config, &device).unwrap();
    let options = ExportOptions { seq_len: None, static_batch: true };
    let bytes = export_onnx(&model, &config, options, &device).unwrap();
    println!("static-batch ONNX: {} bytes", bytes.len());
    for batch in [1usize] {
        let input = Tensor::<5>::random(
            [batch, 1, 3, 64, 64],
            Distribution::Normal(0.0, 1.0),
            &device,
        );
        let expected: Vec<f32> = model
            .forward_sequence(input.clone())
            .into_data()
            .try_to_vec()
            .unwrap();
        let values: Vec<f32> = input.into_data().try_to_vec().unwrap();
        let runnable = tract_onnx::onnx()
            .model_for_read(&mut bytes.as_slice())
            .unwrap()
            .with_input_fact(
                0,
                InferenceFact::dt_shape(f32::datum_type(), tvec![batch, 1, 3, 64, 64]),
            )
            .unwrap()
            .into_optimized()
            .unwrap()
            .into_runnable()
            .unwrap();
        let tensor = tract_onnx::prelude::tract_ndarray::Array5::from_shape_vec(
            (batch, 1, 3, 64, 64),
            values,
        )
        .unwrap();
        let tensor: tract_onnx::prelude::Tensor = tensor.into();
        let outputs = runnable.run(tvec!(tensor.into())).unwrap();
        let logits: Vec<f32> = outputs[0].as_slice::<f32>().unwrap().to_vec();
        let diff = logits
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        println!("batch {batch}: max |diff| {diff:e}");
        assert!(diff <= 1e-4, "batch {batch}: {diff}");
    }
}
