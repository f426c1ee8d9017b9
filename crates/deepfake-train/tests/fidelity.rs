//! The same training steps give the same losses as PyTorch: 20 Adam steps (lr 1e-3, weight
//! decay 1e-4) of the tiny detector with BatchNorm in training mode, from the same init on the
//! same batches (`fixtures/gen_train_fixtures.py`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::ModuleSnapshot;
use burn::tensor::{Device, Int, Tensor, TensorData};
use deepfake_model::{Detector, DetectorConfig};
use deepfake_train::{torch_adam, train_step};
use safetensors::SafeTensors;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn f32s(view: &safetensors::tensor::TensorView) -> Vec<f32> {
    view.data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn i64s(view: &safetensors::tensor::TensorView) -> Vec<i64> {
    view.data()
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

/// Flattened float tensors of a module by path, BatchNorm running statistics separate.
fn snapshot(model: &Detector) -> HashMap<String, Vec<f32>> {
    model
        .collect(None, None, false)
        .into_iter()
        .map(|t| {
            let name = t.name.clone();
            let (_, _, _, _, bytes) = t.into_parts().unwrap();
            let values = bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            (name, values)
        })
        .collect()
}

#[test]
fn twenty_adam_steps_match_pytorch() {
    let config = DetectorConfig::tiny().with_dropout(0.0);
    let device = Device::flex().autodiff();
    let mut model =
        Detector::from_pytorch(fixture("adam_init.safetensors"), &config, &device).unwrap();
    let mut optimizer = torch_adam(1e-4);

    let bytes = std::fs::read(fixture("adam_steps.safetensors")).unwrap();
    let steps = SafeTensors::deserialize(&bytes).unwrap();
    let expected_losses = f32s(&steps.tensor("losses").unwrap());
    let mut worst_loss = 0.0f32;
    for (step, expected) in expected_losses.iter().enumerate() {
        let images = steps.tensor(&format!("images_{step}")).unwrap();
        let labels = steps.tensor(&format!("labels_{step}")).unwrap();
        let images: Tensor<4> = Tensor::from_data(
            TensorData::new(f32s(&images), images.shape().to_vec()),
            &device,
        );
        let labels: Tensor<1, Int> = Tensor::from_data(
            TensorData::new(i64s(&labels), labels.shape().to_vec()),
            &device,
        );
        let (next, queued) = train_step(model, &mut optimizer, images, labels, 1e-3, None);
        model = next;
        let out = queued.read().unwrap();
        let relative = (out.loss - expected).abs() / expected.abs();
        worst_loss = worst_loss.max(relative);
        assert!(
            relative <= 1e-3,
            "step {step}: loss {} vs torch {expected}",
            out.loss
        );
    }
    println!("worst relative loss difference over 20 steps: {worst_loss:.3e}");

    // Final weights: load torch's final state dict into a second detector and compare tensors.
    let dir = tempfile::tempdir().unwrap();
    let mut final_tensors = Vec::new();
    for (name, view) in steps.tensors() {
        if let Some(key) = name.strip_prefix("final.") {
            final_tensors.push((key.to_string(), view));
        }
    }
    let final_path = dir.path().join("final.safetensors");
    safetensors::serialize_to_file(final_tensors, None, &final_path).unwrap();
    let reference = Detector::from_pytorch(&final_path, &config, &Device::flex()).unwrap();
    let ours = snapshot(&model.valid());
    let theirs = snapshot(&reference);
    // Per tensor, relative L2 difference <= 1e-3: every weight and every BatchNorm running
    // statistic (mean and *unbiased* variance, as torch keeps them; Burn's own BatchNorm keeps
    // the biased one and fails this by 7% on layer 4). BatchNorm shifts (`beta`) are the exception,
    // checked only within the whole model: their gradients are tiny sums of cancelling terms
    // (a BatchNorm follows within a block), so Adam's normalised steps turn float rounding into
    // visible differences (up to ~1e-2 here; torch's own float32 and float64 runs differ so).
    let (mut diff_sq, mut norm_sq) = (0.0f64, 0.0f64);
    let mut report = Vec::new();
    for (name, expected) in &theirs {
        let got = &ours[name];
        assert_eq!(got.len(), expected.len(), "{name}: lengths");
        let d: f64 = got
            .iter()
            .zip(expected)
            .map(|(a, b)| f64::from(a - b).powi(2))
            .sum();
        let n: f64 = expected.iter().map(|b| f64::from(*b).powi(2)).sum();
        assert!(d.is_finite(), "{name}: NaN or infinite values");
        let relative = (d / n.max(1e-24)).sqrt();
        report.push((relative, name.clone()));
        let running = name.ends_with("running_var") || name.ends_with("running_mean");
        if !running {
            diff_sq += d;
            norm_sq += n;
        }
    }
    report.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (relative, name) in report.iter().take(8) {
        println!("{relative:.3e}  {name}");
    }
    for (relative, name) in report.iter().filter(|(_, n)| !n.ends_with(".beta")) {
        assert!(
            *relative <= 1e-3,
            "{name} differs from torch's by {relative:.3e} (relative L2)"
        );
    }
    let running_checked = report
        .iter()
        .filter(|(_, n)| n.ends_with("running_var"))
        .count();
    assert!(
        running_checked >= 5,
        "only {running_checked} running variances compared"
    );
    let relative = (diff_sq / norm_sq).sqrt();
    println!("final weights: relative L2 difference {relative:.3e}");
    assert!(relative <= 1e-3, "final weights differ by {relative:.3e}");
}
