//! The validation pass scores like PyTorch: the tiny detector (the weights after the 20 Adam
//! steps of `fidelity.rs`, so BatchNorm runs on trained statistics) in eval mode on five PNGs,
//! at batch size 2 (batches of 2, 2 and 1), gives torch's logits, P(fake), mean cross-entropy
//! and accuracy, image for image in sample order (`fixtures/gen_evaluate_fixture.py`).

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::Device;
use deepfake_compare::{max_abs_diff_or_panic, spread};
use deepfake_data::Sample;
use deepfake_formats::Label;
use deepfake_model::{Detector, DetectorConfig};
use deepfake_train::evaluate;
use safetensors::SafeTensors;
use safetensors::tensor::TensorView;

const SIZE: u32 = 32;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn floats(view: &safetensors::tensor::TensorView) -> Vec<f64> {
    match view.dtype() {
        safetensors::Dtype::F32 => view
            .data()
            .chunks_exact(4)
            .map(|b| f64::from(f32::from_le_bytes(b.try_into().unwrap())))
            .collect(),
        safetensors::Dtype::F64 => view
            .data()
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
            .collect(),
        other => panic!("unexpected dtype {other:?}"),
    }
}

/// The detector with the final weights of the Adam fixture, on `device`.
fn trained_detector(dir: &Path, device: &Device) -> Detector {
    detector_with_zeroed(dir, device, &[])
}

/// The detector with the final weights of the Adam fixture, the tensors named in `zeroed`
/// set to zeros, on `device`.
fn detector_with_zeroed(dir: &Path, device: &Device, zeroed: &[&str]) -> Detector {
    let bytes = std::fs::read(fixture("adam_steps.safetensors")).unwrap();
    let steps = SafeTensors::deserialize(&bytes).unwrap();
    let zeros: Vec<u8> = vec![0; bytes.len()];
    let final_tensors: Vec<_> = steps
        .tensors()
        .into_iter()
        .filter_map(|(name, view)| {
            let name = name.strip_prefix("final.")?.to_string();
            if !zeroed.contains(&name.as_str()) {
                return Some((name, view));
            }
            let size = view.data().len();
            let zero = TensorView::new(view.dtype(), view.shape().to_vec(), &zeros[..size]);
            Some((name, zero.unwrap()))
        })
        .collect();
    let path = dir.join("final.safetensors");
    safetensors::serialize_to_file(final_tensors, None, &path).unwrap();
    Detector::from_pytorch(&path, &DetectorConfig::tiny().with_dropout(0.0), device).unwrap()
}

/// The fixture's five images written as PNGs into `dir`, as samples, and their labels.
fn fixture_samples(reference: &SafeTensors, dir: &Path) -> (Vec<Sample>, Vec<i64>) {
    let images = reference.tensor("images").unwrap();
    let labels: Vec<i64> = reference
        .tensor("labels")
        .unwrap()
        .data()
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let per_image = (SIZE * SIZE * 3) as usize;
    assert_eq!(images.data().len(), labels.len() * per_image);
    let samples: Vec<Sample> = images
        .data()
        .chunks_exact(per_image)
        .zip(&labels)
        .enumerate()
        .map(|(i, (pixels, &label))| {
            let path = dir.join(format!("{i}.png"));
            image::RgbImage::from_raw(SIZE, SIZE, pixels.to_vec())
                .unwrap()
                .save(&path)
                .unwrap();
            let label = if label == 1 { Label::Fake } else { Label::Real };
            Sample { path, label }
        })
        .collect();
    (samples, labels)
}

#[test]
fn validation_matches_pytorch_eval_mode() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("evaluate.safetensors")).unwrap();
    let reference = SafeTensors::deserialize(&bytes).unwrap();
    let (samples, labels) = fixture_samples(&reference, dir.path());

    let device = Device::flex();
    let model = trained_detector(dir.path(), &device).valid();
    let mut scored = Vec::new();
    let got = evaluate(&model, &samples, SIZE as usize, 2, &device, |n| {
        scored.push(n)
    })
    .unwrap();

    assert_eq!(scored, [2, 2, 1], "progress per batch");
    assert!(got.skipped.is_empty());
    assert_eq!(got.labels, labels);
    let paths: Vec<&PathBuf> = samples.iter().map(|s| &s.path).collect();
    assert_eq!(got.paths.iter().collect::<Vec<_>>(), paths);

    let want_logits: Vec<f32> = floats(&reference.tensor("logits").unwrap())
        .into_iter()
        .map(|v| v as f32)
        .collect();
    let got_logits: Vec<f32> = got.logits.iter().flatten().copied().collect();
    // The outputs differ between images by far more than the tolerance.
    assert!(
        spread(&want_logits, 2) > 1e-2,
        "the reference does not vary"
    );
    let logit_diff = max_abs_diff_or_panic(&got_logits, &want_logits);
    assert!(logit_diff <= 1e-5, "logits differ by {logit_diff}");

    let want_p: Vec<f32> = floats(&reference.tensor("p_fake").unwrap())
        .into_iter()
        .map(|v| v as f32)
        .collect();
    let p_diff = max_abs_diff_or_panic(&got.p_fake, &want_p);
    assert!(p_diff <= 1e-5, "P(fake) differs by {p_diff}");

    let want_loss = floats(&reference.tensor("loss").unwrap())[0];
    assert!(
        (got.loss - want_loss).abs() <= 1e-5,
        "loss {} vs torch {want_loss}",
        got.loss
    );
    let want_accuracy = floats(&reference.tensor("accuracy").unwrap())[0];
    assert_eq!(got.accuracy, want_accuracy);
    println!("logits within {logit_diff:.1e}, P(fake) within {p_diff:.1e} of torch");
}

/// A model whose last layer is all zeros gives every image the logits [0, 0]: a tie, which
/// argmax (torch's and ours) resolves to the first class, Real. P(fake) is 1/2 and the loss
/// ln 2 for every image; the accuracy is the share of real images.
#[test]
fn tied_logits_predict_real() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("evaluate.safetensors")).unwrap();
    let reference = SafeTensors::deserialize(&bytes).unwrap();
    let (samples, labels) = fixture_samples(&reference, dir.path());
    let real = labels.iter().filter(|&&l| l == 0).count();
    assert!(real > 0 && real < labels.len(), "both classes: {labels:?}");

    let device = Device::flex();
    let zeroed = ["classifier.3.weight", "classifier.3.bias"];
    let model = detector_with_zeroed(dir.path(), &device, &zeroed).valid();
    let got = evaluate(&model, &samples, SIZE as usize, 2, &device, |_| {}).unwrap();
    assert_eq!(got.logits, vec![[0.0, 0.0]; labels.len()]);
    assert_eq!(got.p_fake, vec![0.5; labels.len()]);
    assert!(
        (got.loss - std::f64::consts::LN_2).abs() < 1e-6,
        "{}",
        got.loss
    );
    assert_eq!(got.accuracy, real as f64 / labels.len() as f64);
}
