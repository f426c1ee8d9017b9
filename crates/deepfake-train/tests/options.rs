//! The training options do what they say, each checked against a run that differs only in
//! that option: a frozen backbone does not move, a reached target accuracy and a plateau stop
//! the run, and gradient clipping limits the steps.

mod support;

use std::path::Path;

use burn::module::Module;
use burn::store::ModuleSnapshot;
use burn::tensor::Device;
use deepfake_model::Detector;
use deepfake_train::{Silent, StopReason, TrainConfig, train};

/// The backend's random generator is process-wide: trainings here take turns.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn synth(data: &Path) {
    support::synth(data, 32, 5);
}

fn config(data: &Path, epochs: usize) -> TrainConfig {
    let mut config = support::tiny_recipe(data, epochs);
    config.max_batches_per_epoch = Some(3);
    config
}

/// Trains `config` into `dir/name`; the weights of its best checkpoint by tensor path.
fn run(dir: &Path, name: &str, config: &TrainConfig) -> Vec<(String, Vec<f32>)> {
    let out = dir.join(name);
    train(config, &out, &Device::flex(), false, &mut Silent).unwrap();
    let (model, _) = Detector::load_dir(out.join("best"), &Device::flex()).unwrap();
    snapshot(&model)
}

/// A model's tensors by path, BatchNorm running statistics left out (they follow the
/// batches, not the optimiser).
fn snapshot(model: &Detector) -> Vec<(String, Vec<f32>)> {
    let mut tensors: Vec<(String, Vec<f32>)> = model
        .collect(None, None, false)
        .into_iter()
        .map(|t| {
            let name = t.name.clone();
            let bytes = t.to_bytes().unwrap();
            let values = bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            (name, values)
        })
        .filter(|(name, _): &(String, Vec<f32>)| !name.contains(".running_"))
        .collect();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    tensors
}

/// The weights a run of `config` starts from (the trainer seeds the device, then builds).
fn initial(config: &TrainConfig) -> Vec<(String, Vec<f32>)> {
    let device = Device::flex().autodiff();
    device.seed(config.seed);
    snapshot(&config.model.init(&device).unwrap().valid())
}

/// Largest |a - b| over the tensors whose path starts with `prefix` (and their count).
fn max_change(a: &[(String, Vec<f32>)], b: &[(String, Vec<f32>)], prefix: &str) -> (f32, usize) {
    assert_eq!(a.len(), b.len());
    let mut worst = 0.0f32;
    let mut count = 0;
    for ((name, x), (other, y)) in a.iter().zip(b) {
        assert_eq!(name, other);
        if name.starts_with(prefix) {
            worst = worst.max(deepfake_compare::max_abs_diff_or_panic(x, y));
            count += 1;
        }
    }
    (worst, count)
}

#[test]
fn a_frozen_backbone_keeps_its_weights_while_the_head_learns() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synth(&data);
    let initial = initial(&config(&data, 1));
    let mut frozen = config(&data, 1);
    frozen.freeze_backbone_epochs = 1;
    let frozen = run(dir.path(), "frozen", &frozen);
    let trained = run(dir.path(), "trained", &config(&data, 1));

    let (backbone, tensors) = max_change(&frozen, &initial, "backbone.");
    assert!(tensors > 20, "{tensors} backbone tensors");
    assert_eq!(backbone, 0.0, "the frozen backbone moved by {backbone}");
    let (head, _) = max_change(&frozen, &initial, "classifier.");
    assert!(
        head > 1e-4,
        "the head did not learn while the backbone was frozen ({head})"
    );
    let (unfrozen, _) = max_change(&trained, &initial, "backbone.");
    assert!(unfrozen > 1e-4, "an unfrozen backbone learns ({unfrozen})");
}

#[test]
fn target_accuracy_and_early_stopping_end_the_run() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synth(&data);
    let device = Device::flex();

    // Any accuracy reaches a target of 0: the run stops after its first epoch.
    let mut target = config(&data, 4);
    target.target_accuracy = Some(0.0);
    let results = train(
        &target,
        &dir.path().join("target"),
        &device,
        false,
        &mut Silent,
    )
    .unwrap();
    assert_eq!(results.stopped, StopReason::TargetAccuracyReached);
    assert_eq!(results.epochs_run, 1);

    // Patience 2: the run stops at the first epoch that is the second in a row without a
    // better validation accuracy. Where that is follows from an uninterrupted run's history
    // (a tiny learning rate keeps the accuracy on plateaus).
    let mut slow = config(&data, 8);
    slow.lr = 1e-7;
    let reference = dir.path().join("reference");
    let results = train(&slow, &reference, &device, false, &mut Silent).unwrap();
    assert_eq!(results.stopped, StopReason::Completed);
    let history: Vec<deepfake_train::EpochRecord> =
        serde_json::from_str(&std::fs::read_to_string(reference.join("history.json")).unwrap())
            .unwrap();
    let (mut best, mut without, mut expected_stop) = (f64::NEG_INFINITY, 0, None);
    for record in &history {
        if record.val_accuracy > best {
            (best, without) = (record.val_accuracy, 0);
        } else {
            without += 1;
        }
        if without >= 2 {
            expected_stop = Some(record.epoch);
            break;
        }
    }
    let expected_stop = expected_stop.expect("the reference run never stalled for two epochs");
    slow.early_stopping_patience = Some(2);
    let results = train(
        &slow,
        &dir.path().join("patient"),
        &device,
        false,
        &mut Silent,
    )
    .unwrap();
    assert_eq!(results.stopped, StopReason::NoImprovement);
    assert_eq!(results.epochs_run, expected_stop);
}

/// Adam divides each step by the gradient's running magnitude, so clipping changes the steps
/// only through Adam's epsilon (1e-8): clipped to a norm of 1e-12, the gradients fall far
/// below it and the weights barely move (<= 1e-5), where unclipped steps move them by ~1e-3.
/// Without weight decay: its term is added after clipping (as torch's Adam does) and would
/// dominate the clipped gradient.
#[test]
fn gradient_clipping_is_applied_inside_training() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synth(&data);
    let mut free = config(&data, 1);
    free.weight_decay = 0.0;
    let initial = initial(&free);
    let mut clipped = free.clone();
    clipped.clip_grad_norm = Some(1e-12);
    let clipped = run(dir.path(), "clipped", &clipped);
    let free = run(dir.path(), "free", &free);
    let (clipped_change, _) = max_change(&clipped, &initial, "classifier.");
    let (free_change, _) = max_change(&free, &initial, "classifier.");
    assert!(
        free_change > 1e-4,
        "unclipped training moved the head by {free_change}"
    );
    assert!(
        clipped_change <= 1e-5,
        "clipped training moved the head by {clipped_change}"
    );
}
